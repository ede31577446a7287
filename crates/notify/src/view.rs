//! A notification borrowed from its caller: the alerts' labels and annotations and
//! the group's fields by reference. Notifiers that run no templates (the webhook)
//! encode it directly; the others get [`NotificationView::to_data`], the template
//! data, which copies everything. When thousands of groups flush at once, those
//! copies were a large share of a webhook notification's cost.

use std::collections::BTreeMap;
use watchfire_template::{AlertData, NotificationData};

/// One alert of a [`NotificationView`].
#[derive(Debug, Clone, PartialEq)]
pub struct AlertView<'a> {
    /// Whether the alert is resolved (as of the notification).
    pub resolved: bool,
    /// Labels.
    pub labels: &'a BTreeMap<String, String>,
    /// Annotations.
    pub annotations: &'a BTreeMap<String, String>,
    /// RFC 3339 start time.
    pub starts_at: String,
    /// RFC 3339 end time; empty means Go's zero time.
    pub ends_at: String,
    /// Link back to the source.
    pub generator_url: &'a str,
    /// Fingerprint, 16 hex digits.
    pub fingerprint: String,
}

impl AlertView<'_> {
    /// `firing` or `resolved`.
    pub fn status(&self) -> &'static str {
        if self.resolved { "resolved" } else { "firing" }
    }
}

/// What one notification is about, borrowed (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationView<'a> {
    /// Receiver name (unescaped).
    pub receiver: &'a str,
    /// Group key.
    pub group_key: &'a str,
    /// Group labels.
    pub group_labels: &'a BTreeMap<String, String>,
    /// Alertmanager's external URL.
    pub external_url: &'a str,
    /// The alerts, in notification order.
    pub alerts: Vec<AlertView<'a>>,
}

impl NotificationView<'_> {
    /// `firing` if any alert fires, else `resolved` (Alertmanager's `Alerts.Status`).
    pub fn status(&self) -> &'static str {
        status_of(&self.alerts)
    }

    /// The template data (Alertmanager's `template.Data`): the alerts with their
    /// status, the common labels and annotations, all copied.
    pub fn to_data(&self) -> NotificationData {
        NotificationData {
            receiver: self.receiver.to_string(),
            status: self.status().to_string(),
            alerts: self
                .alerts
                .iter()
                .map(|a| AlertData {
                    status: a.status().to_string(),
                    labels: a.labels.clone(),
                    annotations: a.annotations.clone(),
                    starts_at: a.starts_at.clone(),
                    ends_at: a.ends_at.clone(),
                    generator_url: a.generator_url.to_string(),
                    fingerprint: a.fingerprint.clone(),
                })
                .collect(),
            group_labels: self.group_labels.clone(),
            common_labels: common(&self.alerts, |a| a.labels).collect(),
            common_annotations: common(&self.alerts, |a| a.annotations).collect(),
            external_url: self.external_url.to_string(),
            group_key: self.group_key.to_string(),
            truncated_alerts: 0,
        }
    }
}

/// `firing` if any of `alerts` fires, else `resolved`.
pub(crate) fn status_of(alerts: &[AlertView<'_>]) -> &'static str {
    if alerts.iter().any(|a| !a.resolved) {
        "firing"
    } else {
        "resolved"
    }
}

/// The pairs of the first alert's map that every alert has with the same value,
/// in name order, without copying them.
pub(crate) fn common<'a, 'b>(
    alerts: &'b [AlertView<'a>],
    get: impl Fn(&AlertView<'a>) -> &'a BTreeMap<String, String> + Copy + 'b,
) -> impl Iterator<Item = (String, String)> + 'b {
    common_refs(alerts, get).map(|(k, v)| (k.clone(), v.clone()))
}

/// [`common`] by reference.
pub(crate) fn common_refs<'a, 'b>(
    alerts: &'b [AlertView<'a>],
    get: impl Fn(&AlertView<'a>) -> &'a BTreeMap<String, String> + Copy + 'b,
) -> impl Iterator<Item = (&'a String, &'a String)> + 'b {
    let (first, rest) = match alerts.split_first() {
        Some((f, r)) => (Some(get(f)), r),
        None => (None, &alerts[..0]),
    };
    first
        .into_iter()
        .flat_map(|m| m.iter())
        .filter(move |(k, v)| rest.iter().all(|a| get(a).get(*k) == Some(*v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn template_data_from_a_view() {
        let (l1, l2) = (
            map(&[("a", "1"), ("b", "2"), ("c", "3")]),
            map(&[("a", "1"), ("b", "x")]),
        );
        let (n1, n2) = (map(&[("s", "x")]), map(&[("s", "x"), ("t", "y")]));
        let group = map(&[("a", "1")]);
        let alert = |labels, annotations, resolved| AlertView {
            resolved,
            labels,
            annotations,
            starts_at: "2024-05-01T10:00:00Z".into(),
            ends_at: String::new(),
            generator_url: "http://g",
            fingerprint: "00000000000000ff".into(),
        };
        let mut view = NotificationView {
            receiver: "r.x",
            group_key: "{}:{a=\"1\"}",
            group_labels: &group,
            external_url: "http://am",
            alerts: vec![alert(&l1, &n1, true), alert(&l2, &n2, false)],
        };
        let d = view.to_data();
        assert_eq!(d.receiver, "r.x");
        assert_eq!(d.status, "firing");
        assert_eq!(d.alerts[0].status, "resolved");
        assert_eq!(d.alerts[1].status, "firing");
        assert_eq!(d.common_labels, map(&[("a", "1")]));
        assert_eq!(d.common_annotations, map(&[("s", "x")]));
        assert_eq!(d.group_labels, group);
        assert_eq!(d.group_key, "{}:{a=\"1\"}");
        view.alerts[1].resolved = true;
        assert_eq!(view.to_data().status, "resolved");
        view.alerts.truncate(1);
        assert_eq!(view.to_data().common_labels, l1, "one alert: all labels");
        view.alerts.clear();
        let d = view.to_data();
        assert_eq!((d.status.as_str(), d.common_labels.len()), ("resolved", 0));
    }
}
