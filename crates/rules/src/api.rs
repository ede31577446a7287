//! Snapshots that serialise exactly like Prometheus' `/api/v1/rules` and
//! `/api/v1/alerts` `data` objects.

use crate::alerting::{Alert, AlertState};
use crate::group::Group;
use crate::notify::rfc3339_ms;
use crate::rule::Rule;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use watchfire_model::Matcher;

/// Go's zero `time.Time` in JSON, which Prometheus prints for "never".
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn time_or_zero(ms: Option<i64>) -> String {
    ms.map(rfc3339_ms).unwrap_or_else(|| ZERO_TIME.into())
}

/// One alert as `/api/v1/alerts` and `/api/v1/rules` show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiAlert {
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// `pending` or `firing`.
    pub state: String,
    /// When it became active.
    #[serde(rename = "activeAt", skip_serializing_if = "Option::is_none")]
    pub active_at: Option<String>,
    /// Since when `keep_firing_for` holds it.
    #[serde(rename = "keepFiringSince", skip_serializing_if = "Option::is_none")]
    pub keep_firing_since: Option<String>,
    /// The value, Go `%e` style.
    pub value: String,
}

impl ApiAlert {
    fn from_alert(a: &Alert) -> Self {
        ApiAlert {
            labels: a
                .labels
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect(),
            annotations: a.annotations.clone(),
            state: a.state.as_str().into(),
            active_at: Some(rfc3339_ms(a.active_at)),
            keep_firing_since: a.keep_firing_since.map(rfc3339_ms),
            value: watchfire_model::format_go_float_e(a.value),
        }
    }
}

/// A rule in `/api/v1/rules`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ApiRule {
    /// An alerting rule.
    Alerting(ApiAlertingRule),
    /// A recording rule.
    Recording(ApiRecordingRule),
}

/// An alerting rule in `/api/v1/rules`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiAlertingRule {
    /// `inactive`, `pending`, `firing` or `unknown` (never evaluated).
    pub state: String,
    /// Name.
    pub name: String,
    /// Expression.
    pub query: String,
    /// `for`, seconds.
    pub duration: f64,
    /// `keep_firing_for`, seconds.
    pub keep_firing_for: f64,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Active alerts (`null` with `exclude_alerts`).
    pub alerts: Option<Vec<ApiAlert>>,
    /// `ok`, `err`, `unknown`.
    pub health: String,
    /// Last error.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_error: String,
    /// Seconds.
    pub evaluation_time: f64,
    /// RFC 3339.
    pub last_evaluation: String,
    /// Always `alerting`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A recording rule in `/api/v1/rules`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiRecordingRule {
    /// Name.
    pub name: String,
    /// Expression.
    pub query: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `ok`, `err`, `unknown`.
    pub health: String,
    /// Last error.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_error: String,
    /// Seconds.
    pub evaluation_time: f64,
    /// RFC 3339.
    pub last_evaluation: String,
    /// Always `recording`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A group in `/api/v1/rules`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiRuleGroup {
    /// Name.
    pub name: String,
    /// File.
    pub file: String,
    /// Rules.
    pub rules: Vec<ApiRule>,
    /// Seconds.
    pub interval: f64,
    /// `limit`.
    pub limit: usize,
    /// Seconds.
    pub evaluation_time: f64,
    /// RFC 3339.
    pub last_evaluation: String,
}

/// The `data` of `/api/v1/rules`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleDiscovery {
    /// Groups.
    pub groups: Vec<ApiRuleGroup>,
}

/// The `data` of `/api/v1/alerts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertDiscovery {
    /// Active alerts.
    pub alerts: Vec<ApiAlert>,
}

/// The query parameters of `/api/v1/rules`.
#[derive(Debug, Clone, Default)]
pub struct RulesFilter {
    /// `type`: `alert`, `record` or empty.
    pub kind: Option<String>,
    /// `rule_name[]`.
    pub rule_names: Vec<String>,
    /// `rule_group[]`.
    pub rule_groups: Vec<String>,
    /// `file[]`.
    pub files: Vec<String>,
    /// `exclude_alerts`.
    pub exclude_alerts: bool,
    /// `match[]`, already parsed: a rule is kept when its labels match any set.
    pub matchers: Vec<Vec<Matcher>>,
}

/// A bad `/api/v1/rules` parameter, worded like Prometheus.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid parameter {param:?}: {message}")]
pub struct ParamError {
    /// The parameter.
    pub param: String,
    /// What is wrong.
    pub message: String,
}

/// Builds the `/api/v1/rules` data from groups (see
/// [`RuleManager::groups_snapshot`](crate::RuleManager::groups_snapshot)).
pub fn rules_snapshot(groups: &[Group], f: &RulesFilter) -> Result<RuleDiscovery, ParamError> {
    let kind = f.kind.as_deref().unwrap_or("").to_ascii_lowercase();
    if !kind.is_empty() && kind != "alert" && kind != "record" {
        return Err(ParamError {
            param: "type".into(),
            message: format!("not supported value {kind:?}"),
        });
    }
    let want_alerts = kind.is_empty() || kind == "alert";
    let want_records = kind.is_empty() || kind == "record";
    let names: HashSet<&str> = f.rule_names.iter().map(String::as_str).collect();
    let gnames: HashSet<&str> = f.rule_groups.iter().map(String::as_str).collect();
    let files: HashSet<&str> = f.files.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    for g in groups {
        if !gnames.is_empty() && !gnames.contains(g.name.as_str()) {
            continue;
        }
        if !files.is_empty() && !files.contains(g.file.as_str()) {
            continue;
        }
        let mut rules = Vec::new();
        for r in &g.rules {
            if !names.is_empty() && !names.contains(r.name()) {
                continue;
            }
            if !f.matchers.is_empty() {
                let l = crate::group::labels_from_map(r.labels());
                if !f
                    .matchers
                    .iter()
                    .any(|set| set.iter().all(|m| m.matches(l.get(&m.name).unwrap_or(""))))
                {
                    continue;
                }
            }
            let st = r.status();
            let last_error = st.last_error.clone().unwrap_or_default();
            match r {
                Rule::Alerting(a) if want_alerts => {
                    let alerts = (!f.exclude_alerts).then(|| {
                        a.active_alerts()
                            .into_iter()
                            .map(ApiAlert::from_alert)
                            .collect()
                    });
                    rules.push(ApiRule::Alerting(ApiAlertingRule {
                        state: a.state().map_or("unknown", AlertState::as_str).into(),
                        name: a.name.clone(),
                        query: a.expr.clone(),
                        duration: a.hold_ms as f64 / 1000.0,
                        keep_firing_for: a.keep_firing_for_ms as f64 / 1000.0,
                        labels: a.labels.clone(),
                        annotations: a.annotations.clone(),
                        alerts,
                        health: st.health.as_str().into(),
                        last_error,
                        evaluation_time: st.evaluation_time_s,
                        last_evaluation: time_or_zero(st.last_evaluation),
                        kind: "alerting".into(),
                    }));
                }
                Rule::Recording(rr) if want_records => {
                    rules.push(ApiRule::Recording(ApiRecordingRule {
                        name: rr.name.clone(),
                        query: rr.expr.clone(),
                        labels: rr.labels.clone(),
                        health: st.health.as_str().into(),
                        last_error,
                        evaluation_time: st.evaluation_time_s,
                        last_evaluation: time_or_zero(st.last_evaluation),
                        kind: "recording".into(),
                    }));
                }
                _ => {}
            }
        }
        if rules.is_empty() {
            continue;
        }
        out.push(ApiRuleGroup {
            name: g.name.clone(),
            file: g.file.clone(),
            rules,
            interval: g.interval_ms as f64 / 1000.0,
            limit: g.limit,
            evaluation_time: g.evaluation_time_s,
            last_evaluation: time_or_zero(g.last_evaluation),
        });
    }
    Ok(RuleDiscovery { groups: out })
}

/// Builds the `/api/v1/alerts` data: active alerts of every alerting rule, rules
/// ordered like Prometheus (highest state first, then name).
pub fn alerts_snapshot(groups: &[Group]) -> AlertDiscovery {
    let mut rules: Vec<&crate::alerting::AlertingRule> = groups
        .iter()
        .flat_map(|g| g.rules.iter())
        .filter_map(|r| match r {
            Rule::Alerting(a) => Some(a),
            Rule::Recording(_) => None,
        })
        .collect();
    rules.sort_by(|a, b| b.state().cmp(&a.state()).then_with(|| a.name.cmp(&b.name)));
    AlertDiscovery {
        alerts: rules
            .into_iter()
            .flat_map(|r| r.active_alerts().into_iter().map(ApiAlert::from_alert))
            .collect(),
    }
}
