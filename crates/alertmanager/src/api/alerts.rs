//! `/api/v2/alerts`, `/alerts/groups`, `/status`, `/receivers`.

use super::{
    AppState, convert_bool, error_string, json_response, parse_filters, query_pairs, swagger_error,
};
use crate::alertmanager::PostableAlert;
use crate::clock::{format_millis, parse_time};
use crate::error::Error;
use crate::silence::match_filter_labels;
use crate::types::{Alert, AlertState, AlertStatus, Fingerprint};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The `active`/`silenced`/`inhibited`/`unprocessed`/`filter`/`receiver` parameters.
struct AlertFilter {
    active: bool,
    silenced: bool,
    inhibited: bool,
    unprocessed: bool,
    /// Alert groups only: whether groups muted by a time interval are listed.
    muted: bool,
    matchers: Vec<watchfire_model::Matcher>,
    receiver: Option<regex::Regex>,
}

fn alert_filter(q: Option<&str>) -> Result<AlertFilter, Response> {
    let pairs = query_pairs(q);
    let flag = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| convert_bool(v))
            .unwrap_or(true)
    };
    let matchers = parse_filters(&pairs)?;
    let receiver = match pairs.iter().rev().find(|(k, _)| k == "receiver") {
        Some((_, r)) => Some(regex::Regex::new(&format!("^(?:{r})$")).map_err(|e| {
            error_string(
                StatusCode::BAD_REQUEST,
                format!("failed to parse receiver param: {e}"),
            )
        })?),
        None => None,
    };
    Ok(AlertFilter {
        active: flag("active"),
        silenced: flag("silenced"),
        inhibited: flag("inhibited"),
        unprocessed: flag("unprocessed"),
        muted: flag("muted"),
        matchers,
        receiver,
    })
}

impl AlertFilter {
    fn keep(&self, a: &Alert, st: &AlertStatus, receivers: Option<&[String]>, now: i64) -> bool {
        if let (Some(re), Some(receivers)) = (&self.receiver, receivers)
            && !receivers.iter().any(|r| re.is_match(r))
        {
            return false;
        }
        if a.ends_at != 0 && a.ends_at < now {
            return false;
        }
        if !self.active && st.state == AlertState::Active {
            return false;
        }
        if !self.unprocessed && st.state == AlertState::Unprocessed {
            return false;
        }
        if !self.silenced && !st.silenced_by.is_empty() {
            return false;
        }
        if !self.inhibited && !st.inhibited_by.is_empty() {
            return false;
        }
        match_filter_labels(&self.matchers, &|n| a.labels.get(n).cloned())
    }
}

/// A `GettableAlert`.
pub(crate) fn alert_json(
    a: &Alert,
    st: &AlertStatus,
    receivers: &[String],
    ack: Option<&crate::history::Ack>,
) -> Value {
    let mut v = json!({
        "annotations": a.annotations,
        "endsAt": format_millis(a.ends_at),
        "fingerprint": Fingerprint::of(&a.labels).to_string(),
        "receivers": receivers.iter().map(|r| json!({"name": r})).collect::<Vec<_>>(),
        "startsAt": format_millis(a.starts_at),
        "status": st,
        "updatedAt": format_millis(a.updated_at),
        "labels": a.labels,
    });
    if !a.generator_url.is_empty() {
        v["generatorURL"] = Value::String(a.generator_url.clone());
    }
    if let Some(ack) = ack {
        v["watchfireAck"] = super::ext::ack_json(ack);
    }
    v
}

pub(crate) async fn get_alerts(State(am): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let f = match alert_filter(q.as_deref()) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let now = am.clock().now();
    let rt = am.core.runtime();
    let inhibitor = am.core.inhibitor(&rt);
    let mut out = Vec::new();
    for (fp, a) in am.alerts() {
        let receivers = rt.tree.receivers_for(&a.labels);
        if a.ends_at != 0 && a.ends_at < now {
            continue;
        }
        let st = am.status_with(&inhibitor, &a.labels, now);
        if !f.keep(&a, &st, Some(&receivers), now) {
            continue;
        }
        out.push(alert_json(&a, &st, &receivers, am.ack_of(fp).as_ref()));
    }
    json_response(StatusCode::OK, Value::Array(out))
}

/// The body as well-formed clients send it, decoded straight into typed fields. Anything
/// this cannot take (wrong types, duplicate fields, bad times) goes to the slower
/// [`decode_alerts_checked`], which builds go-swagger's exact error for it.
#[derive(serde::Deserialize)]
struct FastAlert {
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
    #[serde(rename = "startsAt")]
    starts_at: Option<String>,
    #[serde(rename = "endsAt")]
    ends_at: Option<String>,
    #[serde(rename = "generatorURL")]
    generator_url: Option<String>,
}

fn decode_alerts_fast(body: &[u8]) -> Option<Vec<PostableAlert>> {
    let items: Vec<FastAlert> = serde_json::from_slice(body).ok()?;
    let time = |t: Option<String>| match t.as_deref() {
        None | Some("") => Some(0),
        Some(s) => parse_time(s),
    };
    items
        .into_iter()
        .map(|it| {
            Some(PostableAlert {
                labels: it.labels?,
                annotations: it.annotations.unwrap_or_default(),
                starts_at: time(it.starts_at)?,
                ends_at: time(it.ends_at)?,
                generator_url: it.generator_url.unwrap_or_default(),
            })
        })
        .collect()
}

/// Decodes the POST body into alerts; go-swagger's error shapes on bad input.
fn decode_alerts(body: &[u8]) -> Result<Vec<PostableAlert>, Response> {
    match decode_alerts_fast(body) {
        Some(v) => Ok(v),
        None => decode_alerts_checked(body),
    }
}

/// The general decoder: every field checked in order, with go-swagger's messages.
fn decode_alerts_checked(body: &[u8]) -> Result<Vec<PostableAlert>, Response> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        swagger_error(
            400,
            format!("parsing alerts body from \"\" failed, because {e}"),
        )
    })?;
    let Value::Array(items) = v else {
        return Err(swagger_error(
            400,
            "parsing alerts body from \"\" failed, because json: cannot unmarshal object into Go value of type models.PostableAlerts",
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        let map = |field: &str| -> Result<BTreeMap<String, String>, Response> {
            match it.get(field) {
                None | Some(Value::Null) => Ok(BTreeMap::new()),
                Some(v) => serde_json::from_value(v.clone())
                    .map_err(|e| swagger_error(400, format!("{i}.{field} in body: {e}"))),
            }
        };
        if it.get("labels").is_none_or(Value::is_null) {
            return Err(swagger_error(
                602,
                format!("{i}.labels in body is required"),
            ));
        }
        let time = |field: &str| -> Result<i64, Response> {
            match it.get(field) {
                None | Some(Value::Null) => Ok(0),
                Some(Value::String(s)) if s.is_empty() => Ok(0),
                Some(Value::String(s)) => parse_time(s).ok_or_else(|| {
                    swagger_error(
                        601,
                        format!("{i}.{field} in body must be of type date-time: {s:?}"),
                    )
                }),
                Some(_) => Err(swagger_error(
                    601,
                    format!("{i}.{field} in body must be of type date-time"),
                )),
            }
        };
        out.push(PostableAlert {
            labels: map("labels")?,
            annotations: map("annotations")?,
            starts_at: time("startsAt")?,
            ends_at: time("endsAt")?,
            generator_url: it
                .get("generatorURL")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        });
    }
    Ok(out)
}

pub(crate) async fn post_alerts(State(am): State<AppState>, body: axum::body::Bytes) -> Response {
    let alerts = match decode_alerts(&body) {
        Ok(a) => a,
        Err(r) => return r,
    };
    match am.put_alerts(alerts) {
        Ok(()) => json_response(StatusCode::OK, Value::Null).into_empty(),
        Err(Error::InvalidAlert(m)) => error_string(StatusCode::BAD_REQUEST, m),
        Err(e) => error_string(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

trait IntoEmpty {
    fn into_empty(self) -> Response;
}
impl IntoEmpty for Response {
    fn into_empty(self) -> Response {
        let (parts, _) = self.into_parts();
        Response::from_parts(parts, axum::body::Body::empty())
    }
}

pub(crate) async fn get_groups(State(am): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let f = match alert_filter(q.as_deref()) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let now = am.clock().now();
    let rt = am.core.runtime();
    let inhibitor = am.core.inhibitor(&rt);
    let mut groups = am.groups();
    groups.sort_by(|a, b| {
        a.labels
            .cmp(&b.labels)
            .then_with(|| a.receiver.cmp(&b.receiver))
    });
    let mut out = Vec::new();
    for g in groups {
        if let Some(re) = &f.receiver
            && !re.is_match(&g.receiver)
        {
            continue;
        }
        if !f.muted && !g.muted_by.is_empty() {
            continue;
        }
        let mut alerts = Vec::new();
        let mut list = g.alerts;
        list.sort_by_key(|a| Fingerprint::of(&a.labels));
        for a in list {
            let receivers = rt.tree.receivers_for(&a.labels);
            if a.ends_at != 0 && a.ends_at < now {
                continue;
            }
            let mut st = am.status_with(&inhibitor, &a.labels, now);
            // The receiver filter applies to the group, not to the alert's other routes.
            if f.keep(&a, &st, None, now) {
                // As Alertmanager 0.28+: a group muted by a time interval shows its
                // alerts as suppressed by it (the filters above see the alert's own state).
                if !g.muted_by.is_empty() {
                    st.state = AlertState::Suppressed;
                    st.muted_by.clone_from(&g.muted_by);
                }
                let fp = Fingerprint::of(&a.labels);
                alerts.push(alert_json(&a, &st, &receivers, am.ack_of(fp).as_ref()));
            }
        }
        if alerts.is_empty() {
            continue;
        }
        out.push(json!({
            "alerts": alerts,
            "labels": g.labels,
            "receiver": {"name": g.receiver},
        }));
    }
    json_response(StatusCode::OK, Value::Array(out))
}

pub(crate) async fn get_status(State(am): State<AppState>) -> Response {
    let cfg = am.config();
    let v = &am.options().version;
    json_response(
        StatusCode::OK,
        json!({
            "cluster": {"peers": [], "status": "disabled"},
            "config": {"original": cfg.original},
            "uptime": format_millis(am.started_at()),
            "versionInfo": {
                "branch": v.branch,
                "buildDate": v.build_date,
                "buildUser": v.build_user,
                "goVersion": v.go_version,
                "revision": v.revision,
                "version": v.version,
            },
        }),
    )
}

pub(crate) async fn get_receivers(State(am): State<AppState>) -> Response {
    let v: Vec<Value> = am
        .receiver_names()
        .into_iter()
        .map(|n| json!({"name": n}))
        .collect();
    json_response(StatusCode::OK, Value::Array(v))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The fast decoder agrees with the checked one on what it accepts and leaves
    /// everything else to it (so the error shapes stay go-swagger's).
    #[test]
    fn fast_decoder_matches_checked_or_defers() {
        let accepted = [
            r#"[]"#,
            r#"[{"labels":{"a":"1","b":"2"}}]"#,
            r#"[{"labels":{"a":"1"},"annotations":null,"startsAt":null,"endsAt":"","generatorURL":null}]"#,
            r#"[{"labels":{"a":"1"},"annotations":{"s":"x"},"startsAt":"2024-01-02T03:04:05.678Z","endsAt":"2024-01-02T04:04:05+01:00","generatorURL":"http://x","other":1}]"#,
            r#"[{"labels":{"a":"1","a":"2"}}]"#,
        ];
        for body in accepted {
            let fast = decode_alerts_fast(body.as_bytes()).unwrap();
            let checked = decode_alerts_checked(body.as_bytes()).unwrap();
            assert_eq!(fast, checked, "{body}");
        }
        let deferred = [
            r#"{}"#,
            r#"[{}]"#,
            r#"[{"labels":null}]"#,
            r#"[{"labels":{"a":1}}]"#,
            r#"[{"labels":{"a":"1"},"startsAt":"yesterday"}]"#,
            r#"[{"labels":{"a":"1"},"startsAt":5}]"#,
            r#"[{"labels":{"a":"1"},"generatorURL":5}]"#,
            r#"[{"labels":{"a":"1"},"labels":{"b":"2"}}]"#,
            r#"not json"#,
        ];
        for body in deferred {
            assert!(decode_alerts_fast(body.as_bytes()).is_none(), "{body}");
        }
        // A non-string generatorURL is ignored by the checked decoder, as before.
        let v = decode_alerts(br#"[{"labels":{"a":"1"},"generatorURL":5}]"#).unwrap();
        assert_eq!(v[0].generator_url, "");
    }
}
