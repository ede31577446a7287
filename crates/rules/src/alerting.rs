//! Alerting rules: Prometheus' alert state machine (inactive → pending → firing,
//! `keep_firing_for`, resolved alerts kept 15 minutes for notification), the
//! `ALERTS` / `ALERTS_FOR_STATE` series and the decision of what to send.

use crate::notify::OutgoingAlert;
use crate::rule::RuleStatus;
use std::collections::{BTreeMap, HashMap};
use watchfire_model::{Labels, LabelsBuilder, METRIC_NAME};
use watchfire_template::{QueryFn, RuleTemplateData};

/// How long a resolved alert is kept (and re-sent) after resolving.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// Error text for two alerts ending up with the same labels.
pub const ERR_DUPLICATE_ALERT_LABELSET: &str =
    "vector contains metrics with the same labelset after applying alert labels";

/// An alert's state, ordered like Prometheus' (a rule's state is its maximum).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Not active (or resolved).
    Inactive,
    /// Active, waiting for `for` to elapse.
    Pending,
    /// Active for at least `for`.
    Firing,
}

impl AlertState {
    /// The name used in `alertstate` and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert of a rule. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// State.
    pub state: AlertState,
    /// Labels: the sample's labels minus `__name__`, plus rule labels and `alertname`.
    pub labels: Labels,
    /// Expanded annotations.
    pub annotations: BTreeMap<String, String>,
    /// The sample value of the last evaluation that returned this alert.
    pub value: f64,
    /// When the alert became active.
    pub active_at: i64,
    /// When it started firing.
    pub fired_at: Option<i64>,
    /// When it resolved.
    pub resolved_at: Option<i64>,
    /// When it was last sent.
    pub last_sent_at: Option<i64>,
    /// `endsAt` given to the last send of a firing alert.
    pub valid_until: Option<i64>,
    /// Since when it has been kept firing by `keep_firing_for`.
    pub keep_firing_since: Option<i64>,
    /// Loaded from a state file; the `ALERTS_FOR_STATE` restore leaves it alone.
    pub(crate) from_state_file: bool,
}

impl Alert {
    fn needs_sending(&self, ts: i64, resend_delay_ms: i64) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        let last_sent = self.last_sent_at.unwrap_or(i64::MIN);
        if self.resolved_at.is_some_and(|r| r > last_sent) {
            return true;
        }
        self.last_sent_at.is_none_or(|l| l + resend_delay_ms < ts)
    }
}

/// What templates may use while a rule is evaluated.
pub struct TemplateContext<'a> {
    /// External labels (`$externalLabels`).
    pub external_labels: &'a BTreeMap<String, String>,
    /// External URL (`$externalURL`).
    pub external_url: &'a str,
    /// The `query` template function.
    pub query: Option<&'a dyn QueryFn>,
}

/// An alerting rule and its active alerts.
#[derive(Debug, Clone)]
pub struct AlertingRule {
    /// `alert:` name.
    pub name: String,
    /// The expression.
    pub expr: String,
    /// `for` in ms.
    pub hold_ms: i64,
    /// `keep_firing_for` in ms.
    pub keep_firing_for_ms: i64,
    /// Rule labels with the group's merged in (values may be templates).
    pub labels: BTreeMap<String, String>,
    /// Annotation templates.
    pub annotations: BTreeMap<String, String>,
    /// Alerts by label set.
    pub active: HashMap<Labels, Alert>,
    /// Whether `for` state has been restored (only then are `ALERTS` series written).
    pub restored: bool,
    /// Health and timing.
    pub status: RuleStatus,
}

impl AlertingRule {
    /// A rule with no alerts yet.
    pub fn new(
        name: String,
        expr: String,
        hold_ms: i64,
        keep_firing_for_ms: i64,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
        restored: bool,
    ) -> Self {
        AlertingRule {
            name,
            expr,
            hold_ms,
            keep_firing_for_ms,
            labels,
            annotations,
            active: HashMap::new(),
            restored,
            status: RuleStatus::default(),
        }
    }

    /// The highest state among the alerts; `None` before the first evaluation.
    pub fn state(&self) -> Option<AlertState> {
        self.status.last_evaluation?;
        Some(
            self.active
                .values()
                .map(|a| a.state)
                .max()
                .unwrap_or(AlertState::Inactive),
        )
    }

    /// Alerts that are pending or firing, sorted by labels.
    pub fn active_alerts(&self) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = self
            .active
            .values()
            .filter(|a| a.resolved_at.is_none())
            .collect();
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
        v
    }

    fn base_labels(&self) -> LabelsBuilder {
        let mut b = LabelsBuilder::new();
        for (k, v) in &self.labels {
            b.set(k.clone(), v.clone());
        }
        b
    }

    /// The `ALERTS` sample of an alert.
    fn alerts_sample(&self, a: &Alert) -> Labels {
        let mut b = self.base_labels();
        for l in &a.labels {
            b.set(l.name.clone(), l.value.clone());
        }
        b.set(METRIC_NAME, "ALERTS");
        b.set("alertname", self.name.clone());
        b.set("alertstate", a.state.as_str());
        b.build()
    }

    /// The `ALERTS_FOR_STATE` labels of an alert (or of the rule, for restore).
    pub(crate) fn for_state_labels(&self, a: Option<&Alert>) -> Labels {
        let mut b = self.base_labels();
        if let Some(a) = a {
            for l in &a.labels {
                b.set(l.name.clone(), l.value.clone());
            }
        }
        b.set(METRIC_NAME, "ALERTS_FOR_STATE");
        b.set("alertname", self.name.clone());
        b.build()
    }

    /// Runs the state machine over the query result `res` evaluated for time `ts`
    /// (ms). Returns the `ALERTS`/`ALERTS_FOR_STATE` samples to write (at
    /// `ts - query_offset`), or an error (duplicate label sets, `limit`).
    pub fn eval(
        &mut self,
        res: Vec<(Labels, f64)>,
        ts: i64,
        query_offset_ms: i64,
        limit: usize,
        tctx: &TemplateContext<'_>,
    ) -> Result<Vec<(Labels, i64, f64)>, String> {
        let tmpl_name = format!("__alert_{}", self.name);
        let mut current: HashMap<Labels, Alert> = HashMap::with_capacity(res.len());
        for (metric, value) in res {
            let data = RuleTemplateData {
                labels: metric
                    .iter()
                    .filter(|l| l.name != METRIC_NAME)
                    .map(|l| (l.name.clone(), l.value.clone()))
                    .collect(),
                external_labels: tctx.external_labels.clone(),
                external_url: tctx.external_url.to_string(),
                value,
            };
            let expand = |text: &str| {
                watchfire_template::expand_rule_template(&tmpl_name, text, &data, tctx.query, ts)
                    .unwrap_or_else(|e| format!("<error expanding template: {e}>"))
            };
            let mut b = metric.to_builder();
            b.delete(METRIC_NAME);
            for (k, v) in &self.labels {
                b.set(k.clone(), expand(v));
            }
            b.set("alertname", self.name.clone());
            let annotations = self
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), expand(v)))
                .collect();
            let lbs = b.build();
            if current.contains_key(&lbs) {
                return Err(ERR_DUPLICATE_ALERT_LABELSET.into());
            }
            current.insert(
                lbs.clone(),
                Alert {
                    state: AlertState::Pending,
                    labels: lbs,
                    annotations,
                    value,
                    active_at: ts,
                    fired_at: None,
                    resolved_at: None,
                    last_sent_at: None,
                    valid_until: None,
                    keep_firing_since: None,
                    from_state_file: false,
                },
            );
        }

        for (h, a) in &current {
            if let Some(existing) = self.active.get_mut(h)
                && existing.state != AlertState::Inactive
            {
                existing.value = a.value;
                existing.annotations = a.annotations.clone();
                continue;
            }
            self.active.insert(h.clone(), a.clone());
        }

        let mut out = Vec::new();
        let mut num_active = 0usize;
        let sample_ts = ts - query_offset_ms;
        let mut keys: Vec<Labels> = self.active.keys().cloned().collect();
        keys.sort();
        for key in keys {
            let Some(a) = self.active.get_mut(&key) else {
                continue;
            };
            if !current.contains_key(&key) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && self.keep_firing_for_ms > 0 {
                    let since = *a.keep_firing_since.get_or_insert(ts);
                    if ts - since < self.keep_firing_for_ms {
                        keep_firing = true;
                    }
                }
                let expired = a
                    .resolved_at
                    .is_some_and(|r| ts - r > RESOLVED_RETENTION_MS);
                let remove = a.state == AlertState::Pending || expired;
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at = Some(ts);
                }
                if remove {
                    self.active.remove(&key);
                    continue;
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since = None;
            }
            num_active += 1;
            if a.state == AlertState::Pending && ts - a.active_at >= self.hold_ms {
                a.state = AlertState::Firing;
                a.fired_at = Some(ts);
            }
            if a.state == AlertState::Firing && ts - a.active_at < self.hold_ms {
                // `for` grew on reload: back to pending.
                a.state = AlertState::Pending;
                a.fired_at = None;
                a.last_sent_at = None;
                a.keep_firing_since = None;
            }
            if self.restored {
                let a = a.clone();
                out.push((self.alerts_sample(&a), sample_ts, 1.0));
                out.push((
                    self.for_state_labels(Some(&a)),
                    sample_ts,
                    (a.active_at.div_euclid(1000)) as f64,
                ));
            }
        }
        if limit > 0 && num_active > limit {
            self.active.clear();
            return Err(format!(
                "exceeded limit of {limit} with {num_active} alerts"
            ));
        }
        Ok(out)
    }

    /// Marks alerts due for (re)sending as sent and returns them as notifications.
    pub fn alerts_to_send(
        &mut self,
        ts: i64,
        resend_delay_ms: i64,
        interval_ms: i64,
        generator_url: &str,
    ) -> Vec<OutgoingAlert> {
        let mut out = Vec::new();
        let mut keys: Vec<&Labels> = self.active.keys().collect();
        keys.sort();
        let keys: Vec<Labels> = keys.into_iter().cloned().collect();
        for k in keys {
            let Some(a) = self.active.get_mut(&k) else {
                continue;
            };
            if !a.needs_sending(ts, resend_delay_ms) {
                continue;
            }
            a.last_sent_at = Some(ts);
            a.valid_until = Some(ts + 4 * interval_ms.max(resend_delay_ms));
            out.push(OutgoingAlert::from_alert(a, generator_url));
        }
        out
    }
}
