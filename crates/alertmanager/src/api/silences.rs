//! `/api/v2/silences` and `/api/v2/silence/{id}`.

use super::{AppState, error_string, json_response, parse_filters, query_pairs, swagger_error};
use crate::clock::{format_millis, parse_time};
use crate::error::Error;
use crate::silence::{Silence, SilenceMatcher, match_filter_labels, sort_silences};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A `GettableSilence`.
pub(crate) fn silence_json(s: &Silence, now: i64) -> Value {
    json!({
        "id": s.id,
        "status": {"state": s.state(now).as_str()},
        "updatedAt": format_millis(s.updated_at),
        "comment": s.comment,
        "createdBy": s.created_by,
        "endsAt": format_millis(s.ends_at),
        "matchers": s.matchers,
        "startsAt": format_millis(s.starts_at),
    })
}

pub(crate) async fn get_silences(State(am): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    let matchers = match parse_filters(&pairs) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let now = am.clock().now();
    let mut list: Vec<Silence> = am
        .silences()
        .into_iter()
        .filter(|s| {
            match_filter_labels(&matchers, &|n| {
                s.matchers
                    .iter()
                    .find(|m| m.name == n)
                    .map(|m| m.value.clone())
            })
        })
        .collect();
    sort_silences(&mut list, now);
    json_response(
        StatusCode::OK,
        Value::Array(list.iter().map(|s| silence_json(s, now)).collect()),
    )
}

fn decode_silence(body: &[u8]) -> Result<Silence, Response> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        swagger_error(
            400,
            format!("parsing silence body from \"\" failed, because {e}"),
        )
    })?;
    let str_field = |name: &str, required: bool| -> Result<String, Response> {
        match v.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            None | Some(Value::Null) if !required => Ok(String::new()),
            None | Some(Value::Null) => {
                Err(swagger_error(602, format!("{name} in body is required")))
            }
            Some(_) => Err(swagger_error(
                400,
                format!("{name} in body must be of type string"),
            )),
        }
    };
    let Some(Value::Array(ms)) = v.get("matchers") else {
        return Err(swagger_error(602, "matchers in body is required"));
    };
    if ms.is_empty() {
        return Err(swagger_error(
            612,
            "matchers in body should have at least 1 items",
        ));
    }
    let mut matchers = Vec::new();
    for (i, m) in ms.iter().enumerate() {
        for req in ["name", "value", "isRegex"] {
            if m.get(req).is_none_or(Value::is_null) {
                return Err(swagger_error(
                    602,
                    format!("matchers.{i}.{req} in body is required"),
                ));
            }
        }
        let sm: SilenceMatcher = serde_json::from_value(m.clone())
            .map_err(|e| swagger_error(400, format!("matchers.{i} in body: {e}")))?;
        matchers.push(sm);
    }
    let time = |name: &str| -> Result<i64, Response> {
        let s = str_field(name, true)?;
        parse_time(&s).ok_or_else(|| {
            swagger_error(
                601,
                format!("{name} in body must be of type date-time: {s:?}"),
            )
        })
    };
    let starts_at = time("startsAt")?;
    let ends_at = time("endsAt")?;
    Ok(Silence {
        id: str_field("id", false)?,
        matchers,
        starts_at,
        ends_at,
        updated_at: 0,
        created_by: str_field("createdBy", true)?,
        comment: str_field("comment", true)?,
    })
}

pub(crate) async fn post_silences(State(am): State<AppState>, body: axum::body::Bytes) -> Response {
    let sil = match decode_silence(&body) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if sil.starts_at >= sil.ends_at {
        return error_string(
            StatusCode::BAD_REQUEST,
            "Failed to create silence: start time must be before end time",
        );
    }
    if sil.ends_at < am.clock().now() {
        return error_string(
            StatusCode::BAD_REQUEST,
            "Failed to create silence: end time can't be in the past",
        );
    }
    match am.set_silence(sil) {
        Ok(id) => json_response(StatusCode::OK, json!({"silenceID": id})),
        Err(Error::SilenceNotFound) => error_string(StatusCode::NOT_FOUND, "silence not found"),
        Err(e) => error_string(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

fn check_uuid(id: &str) -> Result<(), Response> {
    let ok = id.len() == 36
        && id.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if ok {
        Ok(())
    } else {
        Err(swagger_error(
            601,
            format!("silenceID in path must be of type uuid: {id:?}"),
        ))
    }
}

pub(crate) async fn get_silence(State(am): State<AppState>, Path(id): Path<String>) -> Response {
    if let Err(r) = check_uuid(&id) {
        return r;
    }
    match am.silence(&id) {
        Some(s) => json_response(StatusCode::OK, silence_json(&s, am.clock().now())),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub(crate) async fn delete_silence(State(am): State<AppState>, Path(id): Path<String>) -> Response {
    if let Err(r) = check_uuid(&id) {
        return r;
    }
    match am.expire_silence(&id) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(Error::SilenceNotFound) => error_string(StatusCode::NOT_FOUND, "silence not found"),
        Err(e) => error_string(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
