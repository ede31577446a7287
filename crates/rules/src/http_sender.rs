//! Sending alerts to external Alertmanagers over their v2 HTTP API:
//! `POST <scheme>://<addr><path_prefix>/api/v2/alerts`, from a bounded queue
//! (oldest alerts dropped and counted when full, like Prometheus' notifier),
//! in batches, by one background thread.

use crate::notify::{AlertSender, OutgoingAlert, rfc3339_ms};
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct HttpSenderConfig {
    /// Base URLs (`http://host:9093` plus any path prefix), one per Alertmanager.
    pub alertmanagers: Vec<String>,
    /// Request timeout.
    pub timeout: Duration,
    /// Queue capacity (Prometheus' `--alertmanager.notification-queue-capacity`).
    pub queue_capacity: usize,
    /// Most alerts per request.
    pub max_batch: usize,
}

impl Default for HttpSenderConfig {
    fn default() -> Self {
        HttpSenderConfig {
            alertmanagers: Vec::new(),
            timeout: Duration::from_secs(10),
            queue_capacity: 10_000,
            max_batch: 256,
        }
    }
}

/// Counters of a sender.
#[derive(Debug, Default)]
pub struct SenderStats {
    /// Alerts posted successfully (per Alertmanager).
    pub sent: AtomicU64,
    /// Alerts whose post failed (per Alertmanager).
    pub errors: AtomicU64,
    /// Alerts dropped because the queue was full.
    pub dropped: AtomicU64,
}

struct Shared {
    queue: Mutex<VecDeque<OutgoingAlert>>,
    wake: Condvar,
    stop: AtomicBool,
    stats: SenderStats,
    cfg: HttpSenderConfig,
}

/// Posts alerts to Alertmanagers in the background.
pub struct HttpAlertSender {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for HttpAlertSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAlertSender")
            .field("alertmanagers", &self.shared.cfg.alertmanagers)
            .finish_non_exhaustive()
    }
}

/// The Alertmanager v2 JSON body for `alerts`.
pub fn v2_payload(alerts: &[OutgoingAlert]) -> serde_json::Value {
    serde_json::Value::Array(
        alerts
            .iter()
            .map(|a| {
                let mut m = serde_json::Map::new();
                m.insert("labels".into(), serde_json::json!(a.labels));
                m.insert("annotations".into(), serde_json::json!(a.annotations));
                m.insert("startsAt".into(), rfc3339_ms(a.starts_at).into());
                if let Some(e) = a.ends_at {
                    m.insert("endsAt".into(), rfc3339_ms(e).into());
                }
                m.insert("generatorURL".into(), a.generator_url.clone().into());
                serde_json::Value::Object(m)
            })
            .collect(),
    )
}

impl HttpAlertSender {
    /// Starts the sending thread.
    pub fn new(cfg: HttpSenderConfig) -> Result<Self, crate::RuleError> {
        // Harmless when a provider is already installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .timeout(cfg.timeout)
            .build()
            .map_err(|e| crate::RuleError::Send {
                url: cfg.alertmanagers.join(","),
                message: e.to_string(),
            })?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            stats: SenderStats::default(),
            cfg,
        });
        let s2 = shared.clone();
        let thread = std::thread::Builder::new()
            .name("alert-sender".into())
            .spawn(move || worker(s2, client))
            .map_err(|e| crate::RuleError::Send {
                url: String::new(),
                message: e.to_string(),
            })?;
        Ok(HttpAlertSender {
            shared,
            thread: Some(thread),
        })
    }

    /// Counters.
    pub fn stats(&self) -> &SenderStats {
        &self.shared.stats
    }

    /// Alerts waiting in the queue.
    pub fn queue_len(&self) -> usize {
        self.shared.queue.lock().len()
    }
}

impl AlertSender for HttpAlertSender {
    fn send(&self, alerts: Vec<OutgoingAlert>) {
        let mut q = self.shared.queue.lock();
        q.extend(alerts);
        let cap = self.shared.cfg.queue_capacity.max(1);
        if q.len() > cap {
            let excess = q.len() - cap;
            q.drain(..excess);
            self.shared
                .stats
                .dropped
                .fetch_add(excess as u64, Ordering::Relaxed);
            tracing::warn!(
                dropped = excess,
                "alert notification queue full, dropping alerts"
            );
        }
        self.shared.wake.notify_one();
    }
}

impl Drop for HttpAlertSender {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn worker(shared: Arc<Shared>, client: reqwest::blocking::Client) {
    loop {
        let batch: Vec<OutgoingAlert> = {
            let mut q = shared.queue.lock();
            while q.is_empty() && !shared.stop.load(Ordering::SeqCst) {
                shared.wake.wait(&mut q);
            }
            if q.is_empty() {
                return;
            }
            let n = q.len().min(shared.cfg.max_batch.max(1));
            q.drain(..n).collect()
        };
        let body = v2_payload(&batch);
        for base in &shared.cfg.alertmanagers {
            let url = format!("{}/api/v2/alerts", base.trim_end_matches('/'));
            let res = client.post(&url).json(&body).send();
            match res {
                Ok(r) if r.status().is_success() => {
                    shared
                        .stats
                        .sent
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
                Ok(r) => {
                    shared
                        .stats
                        .errors
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    tracing::warn!(%url, status = %r.status(), "error sending alerts");
                }
                Err(e) => {
                    shared
                        .stats
                        .errors
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    tracing::warn!(%url, err = %e, "error sending alerts");
                }
            }
        }
    }
}
