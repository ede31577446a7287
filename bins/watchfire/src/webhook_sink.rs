//! `watchfire webhook-sink`: the development webhook receiver of the seeds'
//! stack. It accepts Alertmanager webhook notifications (JSON, version "4") on
//! any path, prints each one readably, and keeps the latest ones at
//! `GET /alerts` as JSON so scripts and tests can look at what arrived.

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::Arc;

/// What the sink keeps between requests.
struct Sink {
    keep: usize,
    received: Mutex<VecDeque<Value>>,
    quiet: bool,
}

/// Serves the sink on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    keep: usize,
    quiet: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let sink = Arc::new(Sink {
        keep: keep.max(1),
        received: Mutex::new(VecDeque::new()),
        quiet,
    });
    let app = Router::new()
        .route("/alerts", get(list).post(receive).delete(clear))
        .route("/-/healthy", get(|| async { "OK\n" }))
        .fallback(receive_any)
        .with_state(sink);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving the webhook sink")
}

/// The CLI entry: listens on `addr` until SIGINT/SIGTERM.
pub fn run(addr: &str, keep: usize) -> anyhow::Result<std::process::ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        println!(
            "webhook sink listening on http://{}/alerts (GET lists the last {keep})",
            listener.local_addr().context("local address")?
        );
        serve(listener, keep, false, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    })?;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn list(State(sink): State<Arc<Sink>>) -> Response {
    let items: Vec<Value> = sink.received.lock().iter().cloned().collect();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Value::Array(items).to_string(),
    )
        .into_response()
}

async fn clear(State(sink): State<Arc<Sink>>) -> StatusCode {
    sink.received.lock().clear();
    StatusCode::NO_CONTENT
}

async fn receive_any(
    State(sink): State<Arc<Sink>>,
    method: axum::http::Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    if method != axum::http::Method::POST {
        return (
            StatusCode::NOT_FOUND,
            "POST notifications to any path; GET /alerts lists them\n",
        )
            .into_response();
    }
    accept(&sink, uri.path(), &body)
}

async fn receive(State(sink): State<Arc<Sink>>, uri: Uri, body: Bytes) -> Response {
    accept(&sink, uri.path(), &body)
}

fn accept(sink: &Sink, path: &str, body: &[u8]) -> Response {
    let payload: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("request body is not JSON: {e}\n"),
            )
                .into_response();
        }
    };
    if !sink.quiet {
        println!("{}", describe(&payload));
    }
    let entry = json!({
        "receivedAt": now_rfc3339(),
        "path": path,
        "payload": payload,
    });
    let mut received = sink.received.lock();
    received.push_back(entry);
    while received.len() > sink.keep {
        received.pop_front();
    }
    StatusCode::OK.into_response()
}

fn labels_text(v: &Value) -> String {
    let Some(map) = v.as_object() else {
        return "{}".into();
    };
    let inner: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{k}={:?}", v.as_str().unwrap_or_default()))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// A readable multi-line description of one notification.
fn describe(p: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let alerts = p["alerts"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut out = format!(
        "[{}] {} receiver={} group={} alerts={}",
        now_rfc3339(),
        s(&p["status"]).to_uppercase(),
        s(&p["receiver"]),
        labels_text(&p["groupLabels"]),
        alerts.len()
    );
    for a in alerts {
        let name = a["labels"]["alertname"].as_str().unwrap_or("?");
        let _ = write!(
            out,
            "\n  - {} {} {} since {}",
            s(&a["status"]),
            name,
            labels_text(&a["labels"]),
            s(&a["startsAt"])
        );
        if let Some(ann) = a["annotations"].as_object() {
            for (k, v) in ann {
                let _ = write!(out, "\n      {k}: {}", v.as_str().unwrap_or_default());
            }
        }
    }
    out
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Millisecond)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_a_notification() {
        let p = json!({
            "version": "4", "status": "firing", "receiver": "oncall",
            "groupLabels": {"alertname": "ServiceDown"},
            "alerts": [{"status": "firing", "labels": {"alertname": "ServiceDown", "instance": "blue"},
                        "annotations": {"summary": "blue is down"}, "startsAt": "2026-01-01T00:00:00Z"}]
        });
        let text = describe(&p);
        assert!(text.contains("FIRING receiver=oncall group={alertname=\"ServiceDown\"} alerts=1"));
        assert!(
            text.contains("- firing ServiceDown {alertname=\"ServiceDown\", instance=\"blue\"}")
        );
        assert!(text.contains("summary: blue is down"));
    }
}
