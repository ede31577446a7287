//! Notifications: what rules hand to Alertmanagers, following Prometheus'
//! notifier rules (resend delay, `endsAt` for resolved and firing alerts,
//! external labels added where the alert lacks them).

use crate::alerting::Alert;
use std::collections::BTreeMap;

/// Default minimum time between two sends of the same firing alert.
pub const DEFAULT_RESEND_DELAY_MS: i64 = 60_000;

/// An alert as sent to an Alertmanager. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutgoingAlert {
    /// Labels (with external labels the alert does not set itself).
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// When it started firing.
    pub starts_at: i64,
    /// When it resolved, or until when it is valid if nothing new is heard.
    pub ends_at: Option<i64>,
    /// Link back to the expression.
    pub generator_url: String,
}

impl OutgoingAlert {
    pub(crate) fn from_alert(a: &Alert, generator_url: &str) -> Self {
        OutgoingAlert {
            labels: a
                .labels
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect(),
            annotations: a.annotations.clone(),
            starts_at: a.fired_at.unwrap_or(a.active_at),
            ends_at: a.resolved_at.or(a.valid_until),
            generator_url: generator_url.to_string(),
        }
    }

    /// Adds external labels the alert does not have (Prometheus never overrides).
    pub fn add_external_labels(&mut self, external: &BTreeMap<String, String>) {
        for (k, v) in external {
            if self.labels.get(k).is_none_or(|x| x.is_empty()) {
                self.labels.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Receives alerts to deliver. Implementations must not block for long.
pub trait AlertSender: Send + Sync {
    /// Queues `alerts` for delivery.
    fn send(&self, alerts: Vec<OutgoingAlert>);
}

/// The `generatorURL` Prometheus sends: the expression's table view.
pub fn generator_url(external_url: &str, expr: &str) -> String {
    format!(
        "{}/graph?g0.expr={}&g0.tab=1",
        external_url.trim_end_matches('/'),
        watchfire_model::go_query_escape(expr)
    )
}

/// Formats Unix ms like Go's `time.Time` JSON in UTC (RFC 3339, fractional
/// seconds with trailing zeros trimmed), as the HTTP APIs print times.
pub fn rfc3339_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let base = match jiff::Timestamp::from_second(secs) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        Err(_) => return "0001-01-01T00:00:00Z".into(),
    };
    if frac == 0 {
        format!("{base}Z")
    } else {
        let f = format!("{frac:03}");
        format!("{base}.{}Z", f.trim_end_matches('0'))
    }
}
