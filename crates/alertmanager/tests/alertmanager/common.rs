use parking_lot::Mutex;
use std::sync::Arc;
use watchfire_alertmanager::{
    Alertmanager, Clock, Integration, IntegrationFactory, ManualClock, NotifyError, Options,
    PostableAlert,
};
use watchfire_alertmanager_config::Config;
use watchfire_template::NotificationData;

pub const T0: i64 = 1_700_000_000_000;

/// One recorded notification.
#[derive(Debug, Clone)]
pub struct Sent {
    pub at: i64,
    pub receiver: String,
    pub data: NotificationData,
}

/// Records every notify call; can be told to fail.
#[derive(Clone, Default)]
pub struct Recorder {
    pub sent: Arc<Mutex<Vec<Sent>>>,
    /// Remaining failures to return (retryable flag).
    pub fail: Arc<Mutex<Vec<bool>>>,
}

impl Recorder {
    pub fn take(&self) -> Vec<Sent> {
        std::mem::take(&mut *self.sent.lock())
    }
}

struct RecInt {
    rec: Recorder,
    clock: Arc<dyn Clock>,
    receiver: String,
    send_resolved: bool,
}

impl Integration for RecInt {
    fn name(&self) -> &str {
        "webhook"
    }
    fn index(&self) -> usize {
        0
    }
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }
    fn notify<'a>(
        &'a self,
        data: &'a NotificationData,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), NotifyError>> + Send + 'a>>
    {
        Box::pin(async move {
            let f = {
                let mut f = self.rec.fail.lock();
                if f.is_empty() {
                    None
                } else {
                    Some(f.remove(0))
                }
            };
            if let Some(retry) = f {
                return Err(NotifyError {
                    retry,
                    message: "boom".into(),
                });
            }
            self.rec.sent.lock().push(Sent {
                at: self.clock.now(),
                receiver: self.receiver.clone(),
                data: data.clone(),
            });
            Ok(())
        })
    }
}

/// A factory giving every receiver one recording "webhook"; receivers whose name contains
/// "resolved" send resolved notifications.
pub fn factory(rec: &Recorder, clock: Arc<dyn Clock>) -> IntegrationFactory {
    let rec = rec.clone();
    Arc::new(move |r, _t| {
        let i: Box<dyn Integration> = Box::new(RecInt {
            rec: rec.clone(),
            clock: Arc::clone(&clock),
            receiver: r.name.clone(),
            send_resolved: r.name.contains("resolved"),
        });
        Ok(vec![i])
    })
}

pub fn config(text: &str) -> Config {
    Config::load_str(text, "alertmanager.yml").unwrap()
}

pub struct Harness {
    pub am: Arc<Alertmanager>,
    pub clock: ManualClock,
    pub rec: Recorder,
}

pub fn start(cfg: &str, dir: Option<&std::path::Path>) -> Harness {
    let clock = ManualClock::new(T0);
    start_at(cfg, dir, clock)
}

pub fn start_at(cfg: &str, dir: Option<&std::path::Path>, clock: ManualClock) -> Harness {
    let rec = Recorder::default();
    let c: Arc<dyn Clock> = Arc::new(clock.clone());
    let mut opts = Options::new(Arc::clone(&c), factory(&rec, c));
    opts.data_dir = dir.map(|d| d.to_path_buf());
    opts.external_url = "http://am.example".into();
    let am = Alertmanager::start_with(config(cfg), opts).unwrap();
    Harness { am, clock, rec }
}

impl Harness {
    /// Advances in steps of at most 1s, flushing after each, so flushes happen at their
    /// exact tick times.
    pub async fn advance(&self, ms: i64) {
        let mut left = ms;
        while left > 0 {
            let step = left.min(1000);
            self.clock.advance(step);
            left -= step;
            self.am.flush_pending().await;
        }
    }
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

pub fn alert(pairs: &[(&str, &str)]) -> PostableAlert {
    PostableAlert {
        labels: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

pub fn names(s: &Sent) -> Vec<(String, String)> {
    s.data
        .alerts
        .iter()
        .map(|a| (a.labels["alertname"].clone(), a.status.clone()))
        .collect()
}

/// Minimal HTTP/1.1 client over loopback (Connection: close).
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let code: u16 = text[9..12].parse().unwrap();
    let (_, rest) = text.split_once("\r\n\r\n").unwrap();
    (code, rest.to_string())
}

pub async fn serve(am: Arc<Alertmanager>) -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(l, watchfire_alertmanager::api_router(am))
            .await
            .unwrap();
    });
    addr
}
