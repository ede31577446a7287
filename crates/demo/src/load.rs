//! The load generator (the seeds' stress test): N WebSocket connections spread
//! round-robin over the targets, each sending chat messages at a fixed rate for a
//! fixed time, then waiting briefly for outstanding replies.
//!
//! Sending is open-loop (a message every `1/rate` seconds whether or not the previous
//! reply arrived), so a slow server shows up as latency and lost replies rather than
//! as a silently lower request rate.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

use crate::DemoError;
use crate::protocol::{ClientMessage, ServerMessage};

/// How many WebSocket handshakes may be in flight at once; keeps a large run from
/// hitting the listen backlog in one burst.
const HANDSHAKE_CONCURRENCY: usize = 64;

/// A load run's parameters. [`LoadOptions::new`] fills in the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// WebSocket URLs (`ws://host:port/ws`); connection `i` goes to `targets[i % len]`.
    pub targets: Vec<String>,
    /// Connections to open.
    pub connections: usize,
    /// How long each connection sends.
    pub duration: Duration,
    /// Messages per second per connection; 0 only holds the connections open.
    pub rate_per_conn: f64,
    /// Fraction (0–1) of messages sent with an unknown type, which the service rejects
    /// and counts in `app_errors_total` (drives the `HighErrorRate` alert).
    pub invalid_ratio: f64,
    /// Extra simulated work per chat message in ms (drives `SlowMessageProcessing`).
    pub work_ms: u64,
    /// Hold the connections without reading or sending anything, so heartbeat pings
    /// go unanswered (drives `HeartbeatPingsFailing`). Implies no messages.
    pub silent: bool,
    /// Time allowed for each WebSocket handshake (default 5 s).
    pub connect_timeout: Duration,
    /// Time allowed after `duration` for outstanding replies (default 2 s).
    pub drain_timeout: Duration,
}

impl LoadOptions {
    /// Options with no invalid messages, no extra work and the default timeouts.
    pub fn new(
        targets: Vec<String>,
        connections: usize,
        duration: Duration,
        rate_per_conn: f64,
    ) -> Self {
        Self {
            targets,
            connections,
            duration,
            rate_per_conn,
            invalid_ratio: 0.0,
            work_ms: 0,
            silent: false,
            connect_timeout: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(2),
        }
    }

    fn validate(&self) -> Result<(), DemoError> {
        let bad = |parameter, reason: String| Err(DemoError::InvalidLoad { parameter, reason });
        if self.targets.is_empty() {
            return bad("targets", "at least one WebSocket URL is required".into());
        }
        if let Some(t) = self
            .targets
            .iter()
            .find(|t| !(t.starts_with("ws://") || t.starts_with("wss://")))
        {
            return bad("targets", format!("{t:?} is not a ws:// or wss:// URL"));
        }
        if self.connections == 0 {
            return bad("connections", "must be at least 1".into());
        }
        if !(self.rate_per_conn.is_finite() && self.rate_per_conn >= 0.0) {
            return bad(
                "rate_per_conn",
                format!("{} is not a finite rate >= 0", self.rate_per_conn),
            );
        }
        if self.rate_per_conn > 0.0 && 1.0 / self.rate_per_conn > 1e9 {
            return bad("rate_per_conn", "is too small to schedule".into());
        }
        if !(0.0..=1.0).contains(&self.invalid_ratio) {
            return bad(
                "invalid_ratio",
                format!("{} is not between 0 and 1", self.invalid_ratio),
            );
        }
        Ok(())
    }
}

/// Latency of replies, from sending a message to reading its reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Replies measured.
    pub samples: u64,
    /// Mean in milliseconds.
    pub mean_ms: f64,
    /// Median in milliseconds.
    pub p50_ms: f64,
    /// 90th percentile in milliseconds.
    pub p90_ms: f64,
    /// 95th percentile in milliseconds.
    pub p95_ms: f64,
    /// 99th percentile in milliseconds.
    pub p99_ms: f64,
    /// Slowest reply in milliseconds.
    pub max_ms: f64,
}

impl LatencySummary {
    fn from_samples(mut ms: Vec<f64>) -> Self {
        if ms.is_empty() {
            return Self::default();
        }
        ms.sort_by(f64::total_cmp);
        // Nearest-rank percentile.
        let rank = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
        Self {
            samples: ms.len() as u64,
            mean_ms: ms.iter().sum::<f64>() / ms.len() as f64,
            p50_ms: rank(0.50),
            p90_ms: rank(0.90),
            p95_ms: rank(0.95),
            p99_ms: rank(0.99),
            max_ms: ms[ms.len() - 1],
        }
    }
}

/// What a load run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadReport {
    /// The targets, as given.
    pub targets: Vec<String>,
    /// Connections asked for.
    pub connections_requested: usize,
    /// Connections whose handshake succeeded.
    pub connections_opened: usize,
    /// Connections that failed to open (refused, timed out, rejected with 503, ...).
    pub connection_errors: usize,
    /// Messages sent.
    pub messages_sent: u64,
    /// Replies received that matched a sent message (including error replies).
    pub messages_received: u64,
    /// Replies of type `error` (the invalid messages, when `invalid_ratio` > 0).
    pub error_replies: u64,
    /// Failures on open connections: send or receive errors, or the server closing.
    pub errors: u64,
    /// Messages still unanswered when the run ended.
    pub lost: u64,
    /// Wall time of the whole run in seconds.
    pub elapsed_seconds: f64,
    /// Reply latency.
    pub latency: LatencySummary,
    /// The first failure seen, to tell what went wrong.
    pub first_error: Option<String>,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.latency;
        writeln!(f, "targets:      {}", self.targets.join(", "))?;
        writeln!(
            f,
            "connections:  {} opened, {} failed (of {})",
            self.connections_opened, self.connection_errors, self.connections_requested
        )?;
        let rate = if self.elapsed_seconds > 0.0 {
            self.messages_received as f64 / self.elapsed_seconds
        } else {
            0.0
        };
        writeln!(
            f,
            "messages:     {} sent, {} received ({rate:.1}/s), {} error replies, {} lost",
            self.messages_sent, self.messages_received, self.error_replies, self.lost
        )?;
        writeln!(f, "errors:       {}", self.errors)?;
        writeln!(
            f,
            "latency (ms): mean {:.2}  p50 {:.2}  p90 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}  ({} samples)",
            l.mean_ms, l.p50_ms, l.p90_ms, l.p95_ms, l.p99_ms, l.max_ms, l.samples
        )?;
        if let Some(e) = &self.first_error {
            writeln!(f, "first error:  {e}")?;
        }
        write!(f, "elapsed:      {:.2} s", self.elapsed_seconds)
    }
}

/// Runs the stress test with [`LoadOptions::new`] defaults.
pub async fn run_load(
    target_ws_urls: Vec<String>,
    connections: usize,
    duration: Duration,
    rate_per_conn: f64,
) -> Result<LoadReport, DemoError> {
    run_load_with(LoadOptions::new(
        target_ws_urls,
        connections,
        duration,
        rate_per_conn,
    ))
    .await
}

/// Runs the stress test. Only invalid options are an `Err`; everything that goes
/// wrong against the servers is counted in the report.
pub async fn run_load_with(options: LoadOptions) -> Result<LoadReport, DemoError> {
    options.validate()?;
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + options.duration;
    let options = Arc::new(options);
    let gate = Arc::new(Semaphore::new(HANDSHAKE_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..options.connections {
        tasks.spawn(drive(index, options.clone(), gate.clone(), deadline));
    }

    let mut report = LoadReport {
        targets: options.targets.clone(),
        connections_requested: options.connections,
        ..LoadReport::default()
    };
    let mut latencies = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let stats = match joined {
            Ok(stats) => stats,
            Err(e) => ConnStats {
                errors: 1,
                first_error: Some(format!("load task failed: {e}")),
                ..ConnStats::default()
            },
        };
        if stats.opened {
            report.connections_opened += 1;
        } else {
            report.connection_errors += 1;
        }
        report.messages_sent += stats.sent;
        report.messages_received += stats.received;
        report.error_replies += stats.error_replies;
        report.errors += stats.errors;
        report.lost += stats.lost;
        if report.first_error.is_none() {
            report.first_error = stats.first_error;
        }
        latencies.extend(stats.latencies_ms);
    }
    report.latency = LatencySummary::from_samples(latencies);
    report.elapsed_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

#[derive(Debug, Default)]
struct ConnStats {
    opened: bool,
    sent: u64,
    received: u64,
    error_replies: u64,
    errors: u64,
    lost: u64,
    latencies_ms: Vec<f64>,
    first_error: Option<String>,
}

impl ConnStats {
    fn fail(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }
}

/// Reply bookkeeping for one connection.
struct Pending {
    sent_at: HashMap<u64, Instant>,
}

impl Pending {
    /// Matches one frame against the outstanding messages. Returns `false` when the
    /// connection is finished (closed or broken).
    fn on_frame(
        &mut self,
        frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
        stats: &mut ConnStats,
        url: &str,
    ) -> bool {
        match frame {
            Some(Ok(Message::Text(text))) => {
                let id = match serde_json::from_str::<ServerMessage>(text.as_str()) {
                    Ok(ServerMessage::Welcome { .. }) => return true,
                    Ok(ServerMessage::Chat { id, .. }) | Ok(ServerMessage::Pong { id, .. }) => id,
                    Ok(ServerMessage::Error { id, .. }) => {
                        stats.error_replies += 1;
                        id
                    }
                    Err(e) => {
                        stats.fail(format!("{url}: unreadable reply: {e}"));
                        return true;
                    }
                };
                if let Some(at) = id.and_then(|id| self.sent_at.remove(&id)) {
                    stats.received += 1;
                    stats.latencies_ms.push(at.elapsed().as_secs_f64() * 1e3);
                }
                true
            }
            // tungstenite answers pings by itself.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => true,
            Some(Ok(Message::Binary(_))) => true,
            Some(Ok(Message::Close(frame))) => {
                match frame
                    .map(|f| f.reason.to_string())
                    .filter(|r| !r.is_empty())
                {
                    Some(why) => stats.fail(format!("{url}: closed by server: {why}")),
                    None => stats.fail(format!("{url}: closed by server")),
                }
                false
            }
            None => {
                stats.fail(format!("{url}: connection ended"));
                false
            }
            Some(Err(e)) => {
                stats.fail(format!("{url}: {e}"));
                false
            }
        }
    }
}

/// The fractional part of `i` times the golden ratio: spreads the connections' send
/// phases evenly so they do not all fire on the same tick.
fn phase(index: usize) -> f64 {
    (index as f64 * 0.618_033_988_749_895).fract()
}

async fn drive(
    index: usize,
    options: Arc<LoadOptions>,
    gate: Arc<Semaphore>,
    deadline: tokio::time::Instant,
) -> ConnStats {
    let mut stats = ConnStats::default();
    let url = &options.targets[index % options.targets.len()];
    let connected = {
        let _permit = gate.acquire().await;
        tokio::time::timeout(
            options.connect_timeout,
            tokio_tungstenite::connect_async(url.as_str()),
        )
        .await
    };
    let ws = match connected {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => {
            stats.first_error = Some(format!("{url}: connect: {e}"));
            return stats;
        }
        Err(_) => {
            stats.first_error = Some(format!("{url}: connect timed out"));
            return stats;
        }
    };
    stats.opened = true;
    let (mut sink, mut stream) = ws.split();
    if options.silent {
        // Not polling the stream means tungstenite never reads the server's pings,
        // so it never answers them.
        tokio::time::sleep_until(deadline).await;
        if let Ok(Err(e)) =
            tokio::time::timeout(Duration::from_millis(500), sink.send(Message::Close(None))).await
        {
            stats.fail(format!("{url}: close: {e}"));
        }
        return stats;
    }
    let mut pending = Pending {
        sent_at: HashMap::new(),
    };

    let rate = options.rate_per_conn;
    let period = if rate > 0.0 {
        Duration::from_secs_f64(1.0 / rate)
    } else {
        // Never ticks within any sane run; keeps the select below uniform.
        Duration::from_secs(86_400 * 365)
    };
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::now() + period.mul_f64(phase(index)),
        period,
    );
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_id = 0u64;
    let invalid_every = if options.invalid_ratio > 0.0 {
        (1.0 / options.invalid_ratio).round().max(1.0) as u64
    } else {
        0
    };

    let mut open = true;
    while open {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = ticker.tick(), if rate > 0.0 => {
                next_id += 1;
                let text = if invalid_every > 0 && next_id.is_multiple_of(invalid_every) {
                    // An unknown type: valid JSON with an id, so the error reply can
                    // be matched, but rejected by the service.
                    format!(r#"{{"type":"shout","id":{next_id}}}"#)
                } else {
                    let msg = ClientMessage::Chat {
                        id: Some(next_id),
                        text: format!("load message {next_id} from connection {index}"),
                        work_ms: options.work_ms,
                    };
                    serde_json::to_string(&msg).unwrap_or_default()
                };
                pending.sent_at.insert(next_id, Instant::now());
                if let Err(e) = sink.send(Message::Text(text.into())).await {
                    pending.sent_at.remove(&next_id);
                    stats.fail(format!("{url}: send: {e}"));
                    open = false;
                } else {
                    stats.sent += 1;
                }
            }
            frame = stream.next() => open = pending.on_frame(frame, &mut stats, url),
        }
    }

    if open && !pending.sent_at.is_empty() {
        let drain_end = tokio::time::Instant::now() + options.drain_timeout;
        while open && !pending.sent_at.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep_until(drain_end) => break,
                frame = stream.next() => open = pending.on_frame(frame, &mut stats, url),
            }
        }
    }
    stats.lost = pending.sent_at.len() as u64;

    if open {
        // Close politely and give the server a moment to acknowledge, so it sees a
        // clean close rather than a reset.
        let _ =
            tokio::time::timeout(Duration::from_millis(500), sink.send(Message::Close(None))).await;
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while let Some(Ok(frame)) = stream.next().await {
                if matches!(frame, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let s = LatencySummary::from_samples((1..=100).map(f64::from).collect());
        assert_eq!(
            (s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms),
            (50.0, 95.0, 99.0, 100.0)
        );
        assert_eq!(s.samples, 100);
        assert_eq!(s.mean_ms, 50.5);
        let one = LatencySummary::from_samples(vec![7.0]);
        assert_eq!((one.p50_ms, one.p99_ms), (7.0, 7.0));
        assert_eq!(LatencySummary::from_samples(vec![]).samples, 0);
    }

    #[test]
    fn options_are_validated() {
        let ok = LoadOptions::new(vec!["ws://127.0.0.1:1/ws".into()], 1, Duration::ZERO, 1.0);
        assert!(ok.validate().is_ok());
        let mut o = ok.clone();
        o.targets = vec!["http://x".into()];
        assert!(matches!(
            o.validate(),
            Err(DemoError::InvalidLoad {
                parameter: "targets",
                ..
            })
        ));
        let mut o = ok.clone();
        o.rate_per_conn = f64::NAN;
        assert!(o.validate().is_err());
        let mut o = ok.clone();
        o.connections = 0;
        assert!(o.validate().is_err());
        let mut o = ok;
        o.invalid_ratio = 1.5;
        assert!(o.validate().is_err());
    }

    #[test]
    fn phases_spread() {
        let mut p: Vec<f64> = (0..10).map(phase).collect();
        p.sort_by(f64::total_cmp);
        assert!(p.windows(2).all(|w| w[1] - w[0] < 0.2));
    }
}
