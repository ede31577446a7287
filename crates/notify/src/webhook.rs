//! Generic webhook: POSTs Alertmanager's version-4 JSON message.
//!
//! The message borrows from the notification data (common labels, receiver name
//! and URL are only copied when `max_alerts` or escaping changes them), because a
//! burst of group flushes sends one of these per group.

use crate::http::{
    HttpSender, JSON, Target, check_status, encode_json_with_capacity, read_secret_file,
};
use crate::util::group_key;
use crate::view::{AlertView, NotificationView, common_refs, status_of};
use crate::{Notifier, NotifyError};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use watchfire_alertmanager_config::WebhookConfig;
use watchfire_template::{AlertData, NotificationData, NotificationTemplates};

/// Go's zero `time.Time` as JSON, what Alertmanager sends for an unset end.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Alerts left out of webhook messages by `max_alerts`, over all webhook
/// notifiers of the process (see [`crate::alerts_truncated_total`]).
pub(crate) static TRUNCATED_TOTAL: AtomicU64 = AtomicU64::new(0);

pub(crate) struct Webhook {
    url: Option<String>,
    /// `url` parsed once; `None` when it does not parse, so sending reports the
    /// error as before.
    parsed_url: Option<reqwest::Url>,
    url_file: Option<String>,
    max_alerts: u64,
    timeout: Option<Duration>,
    http: HttpSender,
    /// Alerts this notifier left out because of `max_alerts`.
    truncated: AtomicU64,
}

const META: &str = "\\.+*?()|[]{}^$";

/// Alertmanager's `webhook.Message`: the template data (embedded first) plus
/// version, group key and the number of alerts cut by `max_alerts`. incident.io
/// gets the same shape with version 1.
#[derive(Serialize)]
pub(crate) struct Message<'a> {
    receiver: Cow<'a, str>,
    status: &'a str,
    pub(crate) alerts: Vec<Alert<'a>>,
    #[serde(rename = "groupLabels")]
    group_labels: &'a BTreeMap<String, String>,
    #[serde(rename = "commonLabels")]
    common_labels: Common<'a>,
    #[serde(rename = "commonAnnotations")]
    common_annotations: Common<'a>,
    #[serde(rename = "externalURL")]
    external_url: &'a str,
    version: &'static str,
    #[serde(rename = "groupKey")]
    group_key: &'a str,
    #[serde(rename = "truncatedAlerts")]
    pub(crate) truncated_alerts: u64,
}

/// Common labels or annotations: a map at hand, or computed while encoding from
/// the alerts of a [`NotificationView`] (no copy).
enum Common<'a> {
    Map(Cow<'a, BTreeMap<String, String>>),
    Of(
        &'a [AlertView<'a>],
        fn(&AlertView<'a>) -> &'a BTreeMap<String, String>,
    ),
}

impl Serialize for Common<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Common::Map(m) => m.serialize(s),
            Common::Of(alerts, get) => s.collect_map(common_refs(alerts, *get)),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct Alert<'a> {
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
/// Borrows when nothing needs escaping (the usual case).
pub(crate) fn quote_meta(s: &str) -> Cow<'_, str> {
    if !s.contains(|c| META.contains(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if META.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
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
        let url = c.url.as_ref().map(|u| u.expose().to_string());
        Ok(Webhook {
            parsed_url: url.as_deref().and_then(|u| reqwest::Url::parse(u).ok()),
            url,
            url_file: c.url_file.clone(),
            max_alerts: c.max_alerts,
            timeout: c.timeout.map(|d| d.to_std()),
            http: HttpSender::new(c.http_config.as_ref(), client)?,
            truncated: AtomicU64::new(0),
        })
    }

    fn message<'a>(&self, data: &'a NotificationData) -> Result<Message<'a>, NotifyError> {
        message(data, self.max_alerts, "4")
    }
}

/// The message of `data` with at most `max_alerts` alerts (0 = all).
pub(crate) fn message<'a>(
    data: &'a NotificationData,
    max_alerts: u64,
    version: &'static str,
) -> Result<Message<'a>, NotifyError> {
    let key = group_key(data)?;
    let (alerts, cut) = truncate(max_alerts, &data.alerts);
    // Alertmanager truncates before building the template data, so the
    // common labels and the status describe only the alerts that are sent.
    let (status, common_labels, common_annotations) = if cut > 0 {
        let firing = alerts.iter().any(|a| a.status == "firing");
        (
            if firing { "firing" } else { "resolved" },
            Common::Map(Cow::Owned(common(alerts, |a| &a.labels))),
            Common::Map(Cow::Owned(common(alerts, |a| &a.annotations))),
        )
    } else {
        (
            data.status.as_str(),
            Common::Map(Cow::Borrowed(&data.common_labels)),
            Common::Map(Cow::Borrowed(&data.common_annotations)),
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
        version,
        group_key: key,
        truncated_alerts: data.truncated_alerts + cut,
    })
}

/// Alertmanager's `truncateAlerts`: the first `max_alerts` (0 = all) and how
/// many were left out.
fn truncate<T>(max_alerts: u64, alerts: &[T]) -> (&[T], u64) {
    let keep = usize::try_from(max_alerts).unwrap_or(usize::MAX);
    if max_alerts != 0 && alerts.len() > keep {
        (&alerts[..keep], (alerts.len() - keep) as u64)
    } else {
        (alerts, 0)
    }
}

/// [`message`] from a borrowed notification: the same JSON.
pub(crate) fn message_view<'a>(
    view: &'a NotificationView<'a>,
    max_alerts: u64,
    version: &'static str,
) -> Result<Message<'a>, NotifyError> {
    if view.group_key.is_empty() {
        return Err(NotifyError::permanent("group key missing"));
    }
    let (alerts, cut) = truncate(max_alerts, &view.alerts);
    Ok(Message {
        receiver: quote_meta(view.receiver),
        status: status_of(alerts),
        alerts: alerts
            .iter()
            .map(|a| Alert {
                status: a.status(),
                labels: a.labels,
                annotations: a.annotations,
                starts_at: or_zero(&a.starts_at),
                ends_at: or_zero(&a.ends_at),
                generator_url: a.generator_url,
                fingerprint: &a.fingerprint,
            })
            .collect(),
        group_labels: view.group_labels,
        common_labels: Common::Of(alerts, |a| a.labels),
        common_annotations: Common::Of(alerts, |a| a.annotations),
        external_url: view.external_url,
        version,
        group_key: view.group_key,
        truncated_alerts: cut,
    })
}

impl Webhook {
    /// Counts the cut, encodes and posts `msg`.
    async fn post(&self, msg: Message<'_>, cut: u64) -> Result<(), NotifyError> {
        if cut > 0 {
            // Counted per attempt, like Alertmanager counts notification requests.
            self.truncated.fetch_add(cut, Ordering::Relaxed);
            TRUNCATED_TOTAL.fetch_add(cut, Ordering::Relaxed);
        }
        // Roughly the encoded size, so the body is rarely regrown while encoding
        // (a one-alert message of a few labels stays below 1 KiB).
        let capacity = 256 + 640 * msg.alerts.len();
        let body = encode_json_with_capacity(&msg, capacity)?;
        drop(msg);
        let url = match (&self.parsed_url, &self.url, &self.url_file) {
            (Some(u), _, _) => Target::Parsed(u.clone()),
            (None, Some(u), _) => Target::Text(u.clone()),
            (None, None, Some(f)) => Target::Text(read_secret_file(f, "url_file")?),
            (None, None, None) => Target::Text(String::new()),
        };
        if matches!(&url, Target::Text(u) if u.is_empty()) {
            return Err(NotifyError::permanent("webhook URL is empty"));
        }
        let reply = self
            .http
            .send_to(reqwest::Method::POST, url, JSON, body, self.timeout)
            .await?;
        check_status(&reply, &[])
    }
}

fn or_zero(t: &str) -> &str {
    if t.is_empty() { GO_ZERO_TIME } else { t }
}

impl Notifier for Webhook {
    const KIND: &'static str = "webhook";

    fn alerts_truncated(&self) -> u64 {
        self.truncated.load(Ordering::Relaxed)
    }

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        let msg = self.message(data)?;
        let cut = msg.truncated_alerts - data.truncated_alerts;
        self.post(msg, cut).await
    }

    async fn send_view(&self, view: &NotificationView<'_>) -> Result<(), NotifyError> {
        let msg = message_view(view, self.max_alerts, "4")?;
        let cut = msg.truncated_alerts;
        self.post(msg, cut).await
    }
}
