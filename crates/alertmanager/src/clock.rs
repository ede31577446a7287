//! Time source. Every timer in the runtime goes through [`Clock`], so tests can drive
//! group_wait/group_interval/repeat_interval with a [`ManualClock`] instead of sleeping.

use parking_lot::Mutex;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::watch;

/// Milliseconds since the Unix epoch (UTC). `0` stands for Go's zero time.
pub type Millis = i64;

/// A boxed future that completes at (or after) a given instant.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// An injectable clock.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Millis;
    /// A future that completes once [`Clock::now`] reaches `deadline`.
    fn sleep_until(&self, deadline: Millis) -> Sleep;
}

/// Wall-clock time with tokio timers.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        jiff::Timestamp::now().as_millisecond()
    }
    fn sleep_until(&self, deadline: Millis) -> Sleep {
        let wait = deadline.saturating_sub(self.now()).max(0) as u64;
        Box::pin(tokio::time::sleep(std::time::Duration::from_millis(wait)))
    }
}

/// A clock that only moves when told to; sleepers wake when [`ManualClock::advance`]
/// passes their deadline.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Millis>>,
    tx: Arc<watch::Sender<Millis>>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Millis) -> Self {
        let (tx, _) = watch::channel(start);
        ManualClock {
            now: Arc::new(Mutex::new(start)),
            tx: Arc::new(tx),
        }
    }
    /// Moves time forward by `ms`.
    pub fn advance(&self, ms: i64) {
        let mut n = self.now.lock();
        *n += ms;
        self.tx.send_replace(*n);
    }
    /// Sets the time (may go backwards; sleepers only wake on reaching their deadline).
    pub fn set(&self, t: Millis) {
        let mut n = self.now.lock();
        *n = t;
        self.tx.send_replace(t);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        *self.now.lock()
    }
    fn sleep_until(&self, deadline: Millis) -> Sleep {
        let mut rx = self.tx.subscribe();
        Box::pin(async move {
            // wait_for checks the current value first, so a passed deadline returns at once.
            let _ = rx.wait_for(|t| *t >= deadline).await;
        })
    }
}

/// Formats like Go's strfmt.DateTime (RFC 3339 with milliseconds, UTC): what the v2 API
/// prints. `0` prints Go's zero time.
pub fn format_millis(t: Millis) -> String {
    let ts = if t == 0 {
        jiff::Timestamp::from_second(-62_135_596_800).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    } else {
        jiff::Timestamp::from_millisecond(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    };
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Formats RFC 3339 with the sub-second digits needed (what notification templates see).
pub fn format_rfc3339(t: Millis) -> String {
    if t == 0 {
        return "0001-01-01T00:00:00Z".to_string();
    }
    jiff::Timestamp::from_millisecond(t)
        .map(|ts| ts.to_string())
        .unwrap_or_else(|_| "0001-01-01T00:00:00Z".to_string())
}

/// Parses an RFC 3339 timestamp (any offset). Go's zero time parses to `0`.
pub fn parse_time(s: &str) -> Option<Millis> {
    let ts: jiff::Timestamp = s.parse().ok()?;
    let ms = ts.as_millisecond();
    if ms <= -62_135_596_800_000 {
        return Some(0);
    }
    Some(ms)
}
