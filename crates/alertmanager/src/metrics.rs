//! Counters of the notify pipeline and the alert intake, readable as a snapshot.

use parking_lot::Mutex;
use serde::Serialize;
use std::collections::BTreeMap;

/// Per-integration counters (Alertmanager's `alertmanager_notifications_*`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IntegrationMetrics {
    /// Notification requests attempted.
    pub notifications_total: u64,
    /// Requests that failed.
    pub notifications_failed_total: u64,
    /// Sum of request latencies in seconds.
    pub latency_seconds_sum: f64,
    /// Number of latency observations.
    pub latency_seconds_count: u64,
    /// Latency histogram: cumulative counts per upper bound (Alertmanager's buckets
    /// 1, 5, 10, 15, 20 seconds, then +Inf).
    pub latency_buckets: Vec<(f64, u64)>,
}

/// A snapshot of all metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetricsSnapshot {
    /// By integration name.
    pub integrations: BTreeMap<String, IntegrationMetrics>,
    /// Alerts received as firing.
    pub alerts_received_firing: u64,
    /// Alerts received as resolved.
    pub alerts_received_resolved: u64,
    /// Alerts rejected by validation.
    pub alerts_invalid: u64,
    /// Notifications that failed for good (all retries).
    pub notifications_failed_final: u64,
}

const BOUNDS: [f64; 5] = [1.0, 5.0, 10.0, 15.0, 20.0];

/// The live metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<MetricsSnapshot>,
}

impl Metrics {
    /// Records one request.
    pub fn observe(&self, integration: &str, seconds: f64, failed: bool) {
        let mut m = self.inner.lock();
        let e = m.integrations.entry(integration.to_string()).or_default();
        if e.latency_buckets.is_empty() {
            e.latency_buckets = BOUNDS.iter().map(|b| (*b, 0)).collect();
            e.latency_buckets.push((f64::INFINITY, 0));
        }
        e.notifications_total += 1;
        if failed {
            e.notifications_failed_total += 1;
        }
        e.latency_seconds_sum += seconds;
        e.latency_seconds_count += 1;
        for (b, c) in &mut e.latency_buckets {
            if seconds <= *b {
                *c += 1;
            }
        }
    }
    /// Counts received alerts.
    pub fn received(&self, firing: u64, resolved: u64, invalid: u64) {
        let mut m = self.inner.lock();
        m.alerts_received_firing += firing;
        m.alerts_received_resolved += resolved;
        m.alerts_invalid += invalid;
    }
    /// Counts a notification given up.
    pub fn failed_final(&self) {
        self.inner.lock().notifications_failed_final += 1;
    }
    /// A copy of the current values.
    pub fn snapshot(&self) -> MetricsSnapshot {
        self.inner.lock().clone()
    }
}
