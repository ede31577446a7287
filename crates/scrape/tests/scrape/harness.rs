//! Test doubles: a Vec-backed store and a configurable loopback exporter.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use watchfire_model::{Labels, SeriesRef, Timestamp, is_stale_nan};
use watchfire_relabel::RelabelConfig;
use watchfire_storage::{AppendError, Appendable, Appender, CommitSummary, StorageError};

/// One committed sample.
#[derive(Debug, Clone)]
pub struct Stored {
    pub labels: Labels,
    pub t: Timestamp,
    pub v: f64,
}

#[derive(Default)]
struct StoreInner {
    samples: Vec<Stored>,
    refs: HashMap<Labels, u64>,
    by_ref: HashMap<u64, Labels>,
    latest: HashMap<u64, (Timestamp, f64)>,
    commits: usize,
}

/// A Vec-backed store with Prometheus-like order checks.
#[derive(Default, Clone)]
pub struct MemStore {
    inner: Arc<Mutex<StoreInner>>,
}

impl MemStore {
    pub fn new() -> Arc<MemStore> {
        Arc::new(MemStore::default())
    }

    pub fn samples(&self) -> Vec<Stored> {
        self.inner.lock().samples.clone()
    }

    /// Samples of the series with this metric name (and the label filter).
    pub fn series(&self, name: &str, filter: &[(&str, &str)]) -> Vec<Stored> {
        self.samples()
            .into_iter()
            .filter(|s| s.labels.metric_name() == Some(name))
            .filter(|s| filter.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .collect()
    }

    /// Latest value per distinct label set of `name`.
    pub fn last(&self, name: &str, filter: &[(&str, &str)]) -> Option<f64> {
        self.series(name, filter).last().map(|s| s.v)
    }

    pub fn stale_count(&self, name: &str) -> usize {
        self.series(name, &[])
            .iter()
            .filter(|s| is_stale_nan(s.v))
            .count()
    }

    pub fn commits(&self) -> usize {
        self.inner.lock().commits
    }
}

struct MemAppender {
    store: Arc<Mutex<StoreInner>>,
    pending: Vec<(u64, Labels, Timestamp, f64)>,
    pending_latest: HashMap<u64, (Timestamp, f64)>,
}

impl Appender for MemAppender {
    fn append(
        &mut self,
        series: Option<SeriesRef>,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        let mut inner = self.store.lock();
        let known =
            series.and_then(|r| inner.by_ref.get(&r.0).filter(|l| *l == labels).map(|_| r.0));
        let r = match known {
            Some(r) => r,
            None => match inner.refs.get(labels) {
                Some(&r) => r,
                None => {
                    let r = inner.refs.len() as u64 + 1;
                    inner.refs.insert(labels.clone(), r);
                    inner.by_ref.insert(r, labels.clone());
                    r
                }
            },
        };
        let latest = self
            .pending_latest
            .get(&r)
            .or_else(|| inner.latest.get(&r))
            .copied();
        if let Some((lt, lv)) = latest {
            if t < lt {
                return Err(AppendError::OutOfOrder { t, latest: lt });
            }
            if t == lt && lv.to_bits() != v.to_bits() {
                return Err(AppendError::DuplicateTimestamp { t });
            }
        }
        self.pending_latest.insert(r, (t, v));
        self.pending.push((r, labels.clone(), t, v));
        Ok(SeriesRef(r))
    }

    fn commit(&mut self) -> Result<CommitSummary, StorageError> {
        let mut inner = self.store.lock();
        let n = self.pending.len();
        for (r, labels, t, v) in self.pending.drain(..) {
            inner.latest.insert(r, (t, v));
            inner.samples.push(Stored { labels, t, v });
        }
        inner.commits += 1;
        self.pending_latest.clear();
        Ok(CommitSummary {
            samples: n,
            new_series: 0,
        })
    }

    fn rollback(&mut self) {
        self.pending.clear();
        self.pending_latest.clear();
    }
}

impl Appendable for MemStore {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(MemAppender {
            store: self.inner.clone(),
            pending: Vec::new(),
            pending_latest: HashMap::new(),
        })
    }
}

/// What the exporter answers.
#[derive(Clone)]
pub struct Reply {
    pub body: Vec<u8>,
    pub content_type: String,
    pub status: StatusCode,
    pub gzip: bool,
    pub delay: Duration,
}

impl Reply {
    pub fn text(body: &str) -> Reply {
        Reply {
            body: body.as_bytes().to_vec(),
            content_type: "text/plain; version=0.0.4; charset=utf-8".to_owned(),
            status: StatusCode::OK,
            gzip: false,
            delay: Duration::ZERO,
        }
    }
}

#[derive(Clone)]
pub struct Exporter {
    pub addr: SocketAddr,
    reply: Arc<Mutex<Reply>>,
    requests: Arc<Mutex<Vec<HeaderMap>>>,
}

impl Exporter {
    pub async fn start(reply: Reply) -> Exporter {
        let reply = Arc::new(Mutex::new(reply));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = (reply.clone(), requests.clone());
        let app = Router::new()
            .route("/metrics", axum::routing::get(handler))
            .route("/other", axum::routing::get(handler))
            .with_state(state);
        let addr = watchfire_testkit::serve(app).await;
        Exporter {
            addr,
            reply,
            requests,
        }
    }

    pub fn set(&self, reply: Reply) {
        *self.reply.lock() = reply;
    }

    pub fn set_body(&self, body: &str) {
        self.reply.lock().body = body.as_bytes().to_vec();
    }

    pub fn requests(&self) -> Vec<HeaderMap> {
        self.requests.lock().clone()
    }

    pub fn target(&self) -> String {
        self.addr.to_string()
    }
}

type ExporterState = (Arc<Mutex<Reply>>, Arc<Mutex<Vec<HeaderMap>>>);

async fn handler(State((reply, requests)): State<ExporterState>, headers: HeaderMap) -> Response {
    requests.lock().push(headers);
    let r = reply.lock().clone();
    if !r.delay.is_zero() {
        tokio::time::sleep(r.delay).await;
    }
    let mut body = r.body.clone();
    let mut resp_headers = vec![(header::CONTENT_TYPE, r.content_type.clone())];
    if r.gzip {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&body).unwrap();
        body = enc.finish().unwrap();
        resp_headers.push((header::CONTENT_ENCODING, "gzip".to_owned()));
    }
    let mut resp = (r.status, body).into_response();
    for (k, v) in resp_headers {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

/// Relabel rules from YAML, as they appear in prometheus.yml.
pub fn relabel(yaml: &str) -> Vec<RelabelConfig> {
    serde_saphyr::from_str(yaml).unwrap()
}

/// Polls `cond` every 20ms for up to `secs` seconds.
pub async fn eventually(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}
