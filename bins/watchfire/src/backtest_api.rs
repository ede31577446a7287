//! `POST /api/v1/watchfire/rules/backtest`: replays alerting rules given in the
//! request over stored history (the UI's and scripts' view of `watchfire rules
//! backtest`). Form parameters: `rules` (a rule file's YAML), `start`, `end`
//! (RFC 3339 or Unix seconds) and `step` (duration, default 1m).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;
use watchfire_web_api::params::{Params, parse_duration, parse_time};

/// Most evaluation steps one request may ask for.
const MAX_STEPS: i64 = 100_000;

fn bad(msg: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"status": "error", "errorType": "bad_data", "error": msg}).to_string(),
    )
        .into_response()
}

/// The handler; the state is the store to replay over.
pub async fn backtest(
    State(store): State<Arc<dyn watchfire_storage::Queryable>>,
    p: Params,
) -> Response {
    let start = match parse_time(p.get("start")) {
        Ok(t) => t,
        Err(e) => return bad(format!("invalid parameter \"start\": {e}")),
    };
    let end = match parse_time(p.get("end")) {
        Ok(t) => t,
        Err(e) => return bad(format!("invalid parameter \"end\": {e}")),
    };
    if end < start {
        return bad(
            "invalid parameter \"end\": end timestamp must not be before start time".into(),
        );
    }
    let step_ms = match p.get("step") {
        "" => 60_000,
        s => match parse_duration(s) {
            Ok(ns) if ns >= 1_000_000 => ns / 1_000_000,
            Ok(_) => return bad("invalid parameter \"step\": must be at least 1ms".into()),
            Err(e) => return bad(format!("invalid parameter \"step\": {e}")),
        },
    };
    if (end - start) / step_ms > MAX_STEPS {
        return bad(format!(
            "exceeded maximum of {MAX_STEPS} evaluation steps; increase step"
        ));
    }
    let groups = match watchfire_rules::parse_rules("request", p.get("rules")) {
        Ok(g) => g,
        Err(errors) => {
            return bad(format!(
                "invalid parameter \"rules\": {}",
                errors.join("; ")
            ));
        }
    };
    let result = tokio::task::spawn_blocking(move || {
        watchfire_rules::backtest(&groups, store, start, end, step_ms)
    })
    .await;
    let transitions = match result {
        Ok(t) => t,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("backtest failed: {e}\n"),
            )
                .into_response();
        }
    };
    let data: Vec<_> = transitions
        .iter()
        .map(|t| {
            json!({
                "time": t.t as f64 / 1000.0, "group": t.group, "alertname": t.alertname,
                "state": t.state, "labels": t.labels, "annotations": t.annotations,
                "activeAt": t.active_at as f64 / 1000.0, "value": watchfire_model::format_go_float(t.value),
            })
        })
        .collect();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"status": "success", "data": {"transitions": data}}).to_string(),
    )
        .into_response()
}
