//! Watchfire extensions under `/api/v2/watchfire/`.

use super::{AppState, error_string, json_response, query_pairs};
use crate::clock::format_millis;
use crate::error::Error;
use crate::history::{Ack, HistoryEntry, HistoryQuery, ReceiverStatus};
use crate::types::Fingerprint;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

fn time_or_null(t: i64) -> Value {
    if t == 0 {
        Value::Null
    } else {
        Value::String(format_millis(t))
    }
}

/// An acknowledgement as JSON.
pub(crate) fn ack_json(a: &Ack) -> Value {
    json!({"fingerprint": a.fingerprint, "by": a.by, "at": format_millis(a.at), "comment": a.comment})
}

fn history_json(e: &HistoryEntry) -> Value {
    json!({
        "time": format_millis(e.time),
        "groupKey": e.group_key,
        "receiver": e.receiver,
        "integration": e.integration,
        "index": e.index,
        "attempt": e.attempt,
        "outcome": e.outcome,
        "error": e.error,
        "retryable": e.retryable,
        "durationMs": e.duration_ms,
        "firing": e.firing,
        "resolved": e.resolved,
    })
}

fn status_json(s: &ReceiverStatus) -> Value {
    json!({
        "receiver": s.receiver,
        "integration": s.integration,
        "index": s.index,
        "lastAttempt": time_or_null(s.last_attempt),
        "lastSuccess": time_or_null(s.last_success),
        "lastErrorAt": time_or_null(s.last_error_at),
        "lastError": s.last_error,
    })
}

fn parse_fp(s: &str) -> Result<Fingerprint, Response> {
    Fingerprint::parse(s).ok_or_else(|| {
        error_string(
            StatusCode::BAD_REQUEST,
            format!("invalid fingerprint {s:?}"),
        )
    })
}

pub(crate) async fn get_acks(State(am): State<AppState>) -> Response {
    json_response(
        StatusCode::OK,
        Value::Array(am.acks().iter().map(ack_json).collect()),
    )
}

pub(crate) async fn post_ack(
    State(am): State<AppState>,
    Path(fp): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let fp = match parse_fp(&fp) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error_string(StatusCode::BAD_REQUEST, format!("invalid body: {e}")),
    };
    let by = v.get("by").and_then(Value::as_str).unwrap_or_default();
    if by.is_empty() {
        return error_string(StatusCode::BAD_REQUEST, "by is required");
    }
    let comment = v.get("comment").and_then(Value::as_str).unwrap_or_default();
    match am.ack(fp, by, comment) {
        Ok(a) => json_response(StatusCode::OK, ack_json(&a)),
        Err(e @ Error::AlertNotFound(_)) => error_string(StatusCode::NOT_FOUND, e.to_string()),
        Err(e) => error_string(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

pub(crate) async fn delete_ack(State(am): State<AppState>, Path(fp): Path<String>) -> Response {
    let fp = match parse_fp(&fp) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if am.unack(fp) {
        json_response(StatusCode::OK, Value::Null)
    } else {
        error_string(
            StatusCode::NOT_FOUND,
            format!("no acknowledgement for {fp}"),
        )
    }
}

pub(crate) async fn get_history(State(am): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let mut hq = HistoryQuery::default();
    for (k, v) in query_pairs(q.as_deref()) {
        match k.as_str() {
            "receiver" => hq.receiver = Some(v),
            "groupKey" => hq.group_key = Some(v),
            "fingerprint" => hq.fingerprint = Some(v),
            "outcome" => hq.outcome = Some(v),
            "limit" => match v.parse() {
                Ok(n) => hq.limit = Some(n),
                Err(_) => {
                    return error_string(StatusCode::BAD_REQUEST, format!("invalid limit {v:?}"));
                }
            },
            _ => {}
        }
    }
    json_response(
        StatusCode::OK,
        Value::Array(am.history(&hq).iter().map(history_json).collect()),
    )
}

pub(crate) async fn get_receiver_status(State(am): State<AppState>) -> Response {
    let st = am.receiver_status();
    // Every configured receiver appears, tried or not.
    let mut out: Vec<Value> = Vec::new();
    for name in am.receiver_names() {
        let mine: Vec<Value> = st
            .iter()
            .filter(|s| s.receiver == name)
            .map(status_json)
            .collect();
        out.push(json!({"name": name, "integrations": mine}));
    }
    json_response(StatusCode::OK, Value::Array(out))
}

pub(crate) async fn get_metrics(State(am): State<AppState>) -> Response {
    match serde_json::to_value(am.metrics()) {
        Ok(v) => json_response(StatusCode::OK, v),
        Err(e) => error_string(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
