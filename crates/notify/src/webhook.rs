//! Generic webhook: POSTs Alertmanager's version-4 JSON message.

use crate::http::{HttpSender, read_secret_file};
use crate::util::group_key;
use crate::{Notifier, NotifyError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use watchfire_alertmanager_config::WebhookConfig;
use watchfire_template::{AlertData, NotificationData, NotificationTemplates};

/// Go's zero `time.Time` as JSON, what Alertmanager sends for an unset end.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

pub(crate) struct Webhook {
    url: Option<String>,
    url_file: Option<String>,
    max_alerts: u64,
    timeout: Option<Duration>,
    http: HttpSender,
}

/// Alertmanager's `webhook.Message`: the template data (embedded first) plus
/// version, group key and the number of alerts cut by `max_alerts`.
#[derive(Serialize)]
struct Message<'a> {
    receiver: String,
    status: &'a str,
    alerts: Vec<Alert<'a>>,
    #[serde(rename = "groupLabels")]
    group_labels: &'a BTreeMap<String, String>,
    #[serde(rename = "commonLabels")]
    common_labels: BTreeMap<String, String>,
    #[serde(rename = "commonAnnotations")]
    common_annotations: BTreeMap<String, String>,
    #[serde(rename = "externalURL")]
    external_url: &'a str,
    version: &'static str,
    #[serde(rename = "groupKey")]
    group_key: &'a str,
    #[serde(rename = "truncatedAlerts")]
    truncated_alerts: u64,
}

#[derive(Serialize)]
struct Alert<'a> {
    status: &'a str,
    labels: &'a BTreeMap<String, String>,
    annotations: &'a BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    starts_at: &'a str,
    #[serde(rename = "endsAt")]
    ends_at: &'a str,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    fingerprint: &'a str,
}

/// Go's `regexp.QuoteMeta`, which Alertmanager applies to the receiver name of
/// the template data (and so of the webhook message).
pub(crate) fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Labels (or annotations) shared with the same value by every alert.
fn common<'a>(
    alerts: &'a [AlertData],
    get: impl Fn(&'a AlertData) -> &'a BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let Some(first) = alerts.first() else {
        return BTreeMap::new();
    };
    let mut out = get(first).clone();
    for a in &alerts[1..] {
        let m = get(a);
        out.retain(|k, v| m.get(k) == Some(v));
    }
    out
}

impl Webhook {
    pub fn new(
        c: &WebhookConfig,
        _templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        if c.url.is_none() && c.url_file.is_none() {
            return Err(NotifyError::permanent(
                "one of url or url_file must be configured",
            ));
        }
        Ok(Webhook {
            url: c.url.as_ref().map(|u| u.expose().to_string()),
            url_file: c.url_file.clone(),
            max_alerts: c.max_alerts,
            timeout: c.timeout.map(|d| d.to_std()),
            http: HttpSender::new(c.http_config.as_ref(), client)?,
        })
    }

    fn message<'a>(&self, data: &'a NotificationData) -> Result<Message<'a>, NotifyError> {
        let key = group_key(data)?;
        let (alerts, cut) = if self.max_alerts != 0 && data.alerts.len() as u64 > self.max_alerts {
            let keep = usize::try_from(self.max_alerts).unwrap_or(usize::MAX);
            (&data.alerts[..keep], (data.alerts.len() - keep) as u64)
        } else {
            (&data.alerts[..], 0)
        };
        // Alertmanager truncates before building the template data, so the
        // common labels and the status describe only the alerts that are sent.
        let (status, common_labels, common_annotations) = if cut > 0 {
            let firing = alerts.iter().any(|a| a.status == "firing");
            (
                if firing { "firing" } else { "resolved" },
                common(alerts, |a| &a.labels),
                common(alerts, |a| &a.annotations),
            )
        } else {
            (
                data.status.as_str(),
                data.common_labels.clone(),
                data.common_annotations.clone(),
            )
        };
        Ok(Message {
            receiver: quote_meta(&data.receiver),
            status,
            alerts: alerts
                .iter()
                .map(|a| Alert {
                    status: &a.status,
                    labels: &a.labels,
                    annotations: &a.annotations,
                    starts_at: or_zero(&a.starts_at),
                    ends_at: or_zero(&a.ends_at),
                    generator_url: &a.generator_url,
                    fingerprint: &a.fingerprint,
                })
                .collect(),
            group_labels: &data.group_labels,
            common_labels,
            common_annotations,
            external_url: &data.external_url,
            version: "4",
            group_key: key,
            truncated_alerts: data.truncated_alerts + cut,
        })
    }
}

fn or_zero(t: &str) -> &str {
    if t.is_empty() { GO_ZERO_TIME } else { t }
}

impl Notifier for Webhook {
    const KIND: &'static str = "webhook";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        let msg = self.message(data)?;
        let url = match (&self.url, &self.url_file) {
            (Some(u), _) => u.clone(),
            (None, Some(f)) => read_secret_file(f, "url_file")?,
            (None, None) => String::new(),
        };
        if url.is_empty() {
            return Err(NotifyError::permanent("webhook URL is empty"));
        }
        self.http.post_json(&url, &msg, self.timeout, &[]).await?;
        Ok(())
    }
}
