//! A tiny metrics registry and a Prometheus text-format (0.0.4) writer.
//!
//! The demo service needs a dozen fixed metrics, so instead of a general registry
//! each metric is a field of [`Metrics`] and [`Metrics::render`] writes them in a
//! fixed order. Counters and gauges are atomics; the histogram takes a short lock so
//! its buckets, count and sum are always read as one consistent snapshot.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use crate::process;

/// The `Content-Type` of [`Metrics::render`]'s output.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the processing-time histogram, in seconds (the client libraries'
/// default buckets, which cover 1 ms to 10 s).
pub const PROCESSING_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Values of `websocket_messages_total{type}`.
pub const MESSAGE_TYPES: [&str; 3] = ["chat", "ping", "invalid"];

/// Values of `app_errors_total{type}`.
pub const ERROR_TYPES: [&str; 5] = [
    "invalid_message",
    "unsupported_frame",
    "capacity",
    "heartbeat_timeout",
    "transport",
];

/// A monotonically increasing integer count.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn inc(&self) {
        self.add(1);
    }
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// An integer value that goes up and down.
#[derive(Debug, Default)]
pub(crate) struct Gauge(AtomicI64);

impl Gauge {
    /// Adds one unless the value is already `max` or more; says whether it did.
    pub(crate) fn try_inc_below(&self, max: i64) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                (v < max).then_some(v + 1)
            })
            .is_ok()
    }
    pub(crate) fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
    pub(crate) fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counters keyed by the value of one label. The known values are created at zero up
/// front so `rate()` over them works from the first scrape.
#[derive(Debug)]
pub(crate) struct LabeledCounter {
    label: &'static str,
    values: Mutex<BTreeMap<&'static str, u64>>,
}

impl LabeledCounter {
    fn new(label: &'static str, known: &[&'static str]) -> Self {
        Self {
            label,
            values: Mutex::new(known.iter().map(|v| (*v, 0)).collect()),
        }
    }
    pub(crate) fn inc(&self, value: &'static str) {
        *self.values.lock().entry(value).or_insert(0) += 1;
    }
    fn snapshot(&self) -> Vec<(&'static str, u64)> {
        self.values.lock().iter().map(|(k, v)| (*k, *v)).collect()
    }
}

#[derive(Debug, Default)]
struct HistogramState {
    /// Non-cumulative counts per bucket; the last slot is the `+Inf` overflow.
    counts: [u64; PROCESSING_BUCKETS.len() + 1],
    sum: f64,
}

/// A classic histogram over [`PROCESSING_BUCKETS`].
#[derive(Debug, Default)]
pub(crate) struct Histogram(Mutex<HistogramState>);

impl Histogram {
    pub(crate) fn observe(&self, seconds: f64) {
        let slot = PROCESSING_BUCKETS
            .iter()
            .position(|le| seconds <= *le)
            .unwrap_or(PROCESSING_BUCKETS.len());
        let mut state = self.0.lock();
        state.counts[slot] += 1;
        state.sum += seconds;
    }
}

/// Every metric one demo instance exposes.
#[derive(Debug)]
pub(crate) struct Metrics {
    deployment: String,
    started: Instant,
    start_unix: f64,
    pub(crate) max_connections: usize,
    pub(crate) memory_limit_bytes: u64,
    pub(crate) connections_active: Gauge,
    pub(crate) connections_total: Counter,
    pub(crate) messages: LabeledCounter,
    pub(crate) messages_sent: Counter,
    pub(crate) bytes_received: Counter,
    pub(crate) bytes_sent: Counter,
    pub(crate) processing: Histogram,
    pub(crate) errors: LabeledCounter,
    pub(crate) heartbeat_pings: Counter,
    pub(crate) heartbeat_pongs: Counter,
}

impl Metrics {
    pub(crate) fn new(deployment: &str, max_connections: usize, memory_limit_bytes: u64) -> Self {
        let start_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Self {
            deployment: deployment.to_owned(),
            started: Instant::now(),
            start_unix,
            max_connections,
            memory_limit_bytes,
            connections_active: Gauge::default(),
            connections_total: Counter::default(),
            messages: LabeledCounter::new("type", &MESSAGE_TYPES),
            messages_sent: Counter::default(),
            bytes_received: Counter::default(),
            bytes_sent: Counter::default(),
            processing: Histogram::default(),
            errors: LabeledCounter::new("type", &ERROR_TYPES),
            heartbeat_pings: Counter::default(),
            heartbeat_pongs: Counter::default(),
        }
    }

    pub(crate) fn deployment(&self) -> &str {
        &self.deployment
    }

    pub(crate) fn uptime_seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Writes all metrics in the Prometheus text format.
    pub(crate) fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let w = &mut out;

        header(
            w,
            "application_info",
            "gauge",
            "Static facts about this instance; the color label is its deployment.",
        );
        sample(
            w,
            "application_info",
            &[
                ("color", &self.deployment),
                ("version", env!("CARGO_PKG_VERSION")),
            ],
            1.0,
        );
        header(
            w,
            "application_uptime_seconds",
            "gauge",
            "Seconds since this instance started serving.",
        );
        sample(w, "application_uptime_seconds", &[], self.uptime_seconds());
        header(
            w,
            "application_start_time_seconds",
            "gauge",
            "Unix time at which this instance started serving.",
        );
        sample(w, "application_start_time_seconds", &[], self.start_unix);
        header(
            w,
            "application_memory_limit_bytes",
            "gauge",
            "Memory budget the health check and alerts compare the resident set against.",
        );
        sample(
            w,
            "application_memory_limit_bytes",
            &[],
            self.memory_limit_bytes as f64,
        );

        header(
            w,
            "websocket_connections_active",
            "gauge",
            "WebSocket connections currently open.",
        );
        sample(
            w,
            "websocket_connections_active",
            &[],
            self.connections_active.get() as f64,
        );
        header(
            w,
            "websocket_connections_max",
            "gauge",
            "WebSocket connections this instance accepts before refusing new ones.",
        );
        sample(
            w,
            "websocket_connections_max",
            &[],
            self.max_connections as f64,
        );
        header(
            w,
            "websocket_connections_total",
            "counter",
            "WebSocket connections accepted since start.",
        );
        sample(
            w,
            "websocket_connections_total",
            &[],
            self.connections_total.get() as f64,
        );

        header(
            w,
            "websocket_messages_total",
            "counter",
            "Messages received from clients and processed, by message type.",
        );
        for (ty, n) in self.messages.snapshot() {
            sample(
                w,
                "websocket_messages_total",
                &[(self.messages.label, ty)],
                n as f64,
            );
        }
        header(
            w,
            "websocket_messages_sent_total",
            "counter",
            "Messages sent to clients.",
        );
        sample(
            w,
            "websocket_messages_sent_total",
            &[],
            self.messages_sent.get() as f64,
        );
        header(
            w,
            "websocket_received_bytes_total",
            "counter",
            "Payload bytes received from clients.",
        );
        sample(
            w,
            "websocket_received_bytes_total",
            &[],
            self.bytes_received.get() as f64,
        );
        header(
            w,
            "websocket_sent_bytes_total",
            "counter",
            "Payload bytes sent to clients.",
        );
        sample(
            w,
            "websocket_sent_bytes_total",
            &[],
            self.bytes_sent.get() as f64,
        );

        self.render_histogram(w);

        header(
            w,
            "websocket_heartbeat_pings_total",
            "counter",
            "Heartbeat pings sent to clients.",
        );
        sample(
            w,
            "websocket_heartbeat_pings_total",
            &[],
            self.heartbeat_pings.get() as f64,
        );
        header(
            w,
            "websocket_heartbeat_pongs_total",
            "counter",
            "Heartbeat pongs received from clients.",
        );
        sample(
            w,
            "websocket_heartbeat_pongs_total",
            &[],
            self.heartbeat_pongs.get() as f64,
        );

        header(
            w,
            "app_errors_total",
            "counter",
            "Errors seen while serving clients, by type.",
        );
        for (ty, n) in self.errors.snapshot() {
            sample(w, "app_errors_total", &[(self.errors.label, ty)], n as f64);
        }

        render_process(w);
        out
    }

    fn render_histogram(&self, w: &mut String) {
        const NAME: &str = "websocket_message_processing_duration_seconds";
        let (counts, sum) = {
            let state = self.processing.0.lock();
            (state.counts, state.sum)
        };
        header(
            w,
            NAME,
            "histogram",
            "Time spent processing one client message, including the simulated work.",
        );
        let bucket = format!("{NAME}_bucket");
        let mut cumulative = 0u64;
        for (le, n) in PROCESSING_BUCKETS.iter().zip(counts.iter()) {
            cumulative += n;
            sample(w, &bucket, &[("le", &fmt_float(*le))], cumulative as f64);
        }
        cumulative += counts[PROCESSING_BUCKETS.len()];
        sample(w, &bucket, &[("le", "+Inf")], cumulative as f64);
        sample(w, &format!("{NAME}_sum"), &[], sum);
        sample(w, &format!("{NAME}_count"), &[], cumulative as f64);
    }
}

/// The standard `process_*` metrics, read from `/proc/self`; absent where that fails.
fn render_process(w: &mut String) {
    let Some(p) = process::sample() else {
        return;
    };
    header(
        w,
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
    );
    sample(w, "process_cpu_seconds_total", &[], p.cpu_seconds);
    header(
        w,
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
    );
    sample(
        w,
        "process_resident_memory_bytes",
        &[],
        p.resident_bytes as f64,
    );
    header(
        w,
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
    );
    sample(
        w,
        "process_virtual_memory_bytes",
        &[],
        p.virtual_bytes as f64,
    );
    header(
        w,
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
    );
    sample(w, "process_start_time_seconds", &[], p.start_time_seconds);
    if let Some(open) = p.open_fds {
        header(
            w,
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
        );
        sample(w, "process_open_fds", &[], open as f64);
    }
    if let Some(max) = p.max_fds {
        header(
            w,
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
        );
        sample(w, "process_max_fds", &[], max as f64);
    }
}

fn header(w: &mut String, name: &str, kind: &str, help: &str) {
    // HELP text escapes only backslash and newline in format 0.0.4.
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(w, "# HELP {name} {help}");
    let _ = writeln!(w, "# TYPE {name} {kind}");
}

fn sample(w: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    w.push_str(name);
    if !labels.is_empty() {
        w.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                w.push(',');
            }
            let _ = write!(w, "{k}=\"{}\"", escape_label_value(v));
        }
        w.push('}');
    }
    w.push(' ');
    w.push_str(&fmt_float(value));
    w.push('\n');
}

fn escape_label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Formats a value the way the exposition format spells special floats.
pub(crate) fn fmt_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        // Rust's shortest round-trip form ("0.005", "1", "12.5") is valid Go float syntax.
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_consistent() {
        let m = Metrics::new("blue", 10, 1 << 20);
        m.processing.observe(0.0005);
        m.processing.observe(0.02);
        m.processing.observe(60.0);
        let text = m.render();
        assert!(
            text.contains("websocket_message_processing_duration_seconds_bucket{le=\"0.001\"} 1\n")
        );
        assert!(
            text.contains("websocket_message_processing_duration_seconds_bucket{le=\"0.025\"} 2\n")
        );
        assert!(
            text.contains("websocket_message_processing_duration_seconds_bucket{le=\"10\"} 2\n")
        );
        assert!(
            text.contains("websocket_message_processing_duration_seconds_bucket{le=\"+Inf\"} 3\n")
        );
        assert!(text.contains("websocket_message_processing_duration_seconds_count 3\n"));
        assert!(text.contains("websocket_message_processing_duration_seconds_sum 60.0205\n"));
    }

    #[test]
    fn labels_are_escaped_and_known_values_start_at_zero() {
        let m = Metrics::new("we\"ird\\", 10, 1);
        let text = m.render();
        assert!(text.contains(r#"application_info{color="we\"ird\\","#));
        assert!(text.contains("app_errors_total{type=\"capacity\"} 0\n"));
        assert!(text.contains("websocket_messages_total{type=\"chat\"} 0\n"));
        m.errors.inc("capacity");
        assert!(
            m.render()
                .contains("app_errors_total{type=\"capacity\"} 1\n")
        );
    }

    #[test]
    fn special_floats() {
        assert_eq!(fmt_float(f64::INFINITY), "+Inf");
        assert_eq!(fmt_float(f64::NAN), "NaN");
        assert_eq!(fmt_float(2.5), "2.5");
        assert_eq!(fmt_float(1e21), "1000000000000000000000");
    }
}
