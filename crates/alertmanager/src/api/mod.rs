//! The Alertmanager v2 HTTP API (plus Watchfire extensions) as an axum router.

// Helpers return the ready error response; it is only built on the cold error path.
#![allow(clippy::result_large_err)]

mod alerts;
mod ext;
mod silences;

use crate::alertmanager::Alertmanager;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::Arc;
use watchfire_model::Matcher;

/// Shared handler state.
pub(crate) type AppState = Arc<Alertmanager>;

/// The API routes: `/api/v2/...` and `/api/v2/watchfire/...`.
pub fn api_router(am: Arc<Alertmanager>) -> Router {
    Router::new()
        .route(
            "/api/v2/alerts",
            get(alerts::get_alerts).post(alerts::post_alerts),
        )
        .route("/api/v2/alerts/groups", get(alerts::get_groups))
        .route("/api/v2/status", get(alerts::get_status))
        .route("/api/v2/receivers", get(alerts::get_receivers))
        .route(
            "/api/v2/silences",
            get(silences::get_silences).post(silences::post_silences),
        )
        .route(
            "/api/v2/silence/{id}",
            get(silences::get_silence).delete(silences::delete_silence),
        )
        .route("/api/v2/watchfire/acks", get(ext::get_acks))
        .route(
            "/api/v2/watchfire/acks/{fingerprint}",
            post(ext::post_ack).delete(ext::delete_ack),
        )
        .route("/api/v2/watchfire/history", get(ext::get_history))
        .route("/api/v2/watchfire/receivers", get(ext::get_receiver_status))
        .route("/api/v2/watchfire/metrics", get(ext::get_metrics))
        .with_state(am)
}

/// A JSON response.
pub(crate) fn json_response(code: StatusCode, v: Value) -> Response {
    (code, axum::Json(v)).into_response()
}

/// Alertmanager's error body: a JSON string.
pub(crate) fn error_string(code: StatusCode, msg: impl Into<String>) -> Response {
    json_response(code, Value::String(msg.into()))
}

/// go-swagger's validation error body.
pub(crate) fn swagger_error(code: u16, msg: impl Into<String>) -> Response {
    let status = if code == 400 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    json_response(status, json!({"code": code, "message": msg.into()}))
}

/// Decodes `application/x-www-form-urlencoded` pairs, keeping repeated keys.
pub(crate) fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    let Some(q) = q else { return Vec::new() };
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// go-swagger's `swag.ConvertBool`: a fixed set of truthy words, everything else false.
pub(crate) fn convert_bool(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "ok" | "y" | "on" | "selected" | "checked" | "t" | "enabled"
    )
}

/// Parses `filter=` values as Alertmanager does (either matcher syntax, one matcher each).
pub(crate) fn parse_filters(pairs: &[(String, String)]) -> Result<Vec<Matcher>, Response> {
    let mut out = Vec::new();
    for (k, v) in pairs {
        if k != "filter" {
            continue;
        }
        match watchfire_alertmanager_config::parse_matchers(v) {
            Ok(ms) if !ms.is_empty() => out.extend(ms),
            _ => {
                return Err(error_string(
                    StatusCode::BAD_REQUEST,
                    format!("bad matcher format: {v}"),
                ));
            }
        }
    }
    Ok(out)
}
