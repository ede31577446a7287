//! Watchfire's web UI, embedded in the binary.
//!
//! The front-end lives in `ui/` at the repository root: plain ES modules
//! bundled by esbuild into `ui/dist/` (`index.html`, `app.js`, `app.css`,
//! uPlot's CSS). `ui/dist/` is committed, so building this crate never needs
//! node; [`rust_embed`] compiles those files into the binary, and the UI works
//! without any network access.
//!
//! # Design
//!
//! * [`router`] registers one exact route per embedded file plus the UI's
//!   client-side routes (`/`, `/query`, `/targets`, `/rules`, `/alerts`,
//!   `/silences`, `/history`, `/status`, `/dashboards`, `/d/{uid}`,
//!   `/d/{uid}/{slug}`), all answering `index.html`. No catch-all route, so it
//!   merges with the API routers without swallowing their 404s.
//! * **Caching.** Every answer carries an `ETag` (from the embedded file's
//!   SHA-256) and honours `If-None-Match`. The build stamps asset URLs in
//!   `index.html` with `?v=<content hash>`; such requests are cached for a
//!   year (`immutable`), the rest, and `index.html`, revalidate (`no-cache`).
//! * **Route prefix.** The UI reads its base path from `<base href>`, which is
//!   rewritten to the configured prefix when `index.html` is served, so one
//!   build works under any `--web.external-url` path.
//! * **Dashboards** ([`Dashboards`]) are Grafana JSON files from a folder,
//!   listed at `GET /api/v1/dashboards` and served at
//!   `GET /api/v1/dashboards/{uid}` in Prometheus' response envelope. The
//!   folder is re-read when a file changes (checked per request), so editing a
//!   file needs no restart.
#![deny(missing_docs)]

mod dashboards;
mod error;

pub use dashboards::{Dashboard, Dashboards, slugify};
pub use error::UiError;

use axum::Router;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

/// The built front-end (`ui/dist`), compiled into the binary.
#[derive(RustEmbed)]
#[folder = "../../ui/dist"]
struct Dist;

/// The client-side routes that answer `index.html`, below the prefix.
pub const SPA_ROUTES: &[&str] = &[
    "/",
    "/query",
    "/graph",
    "/targets",
    "/rules",
    "/alerts",
    "/silences",
    "/history",
    "/status",
    "/dashboards",
    "/d/{uid}",
    "/d/{uid}/{slug}",
];

/// How the UI is served.
#[derive(Debug, Clone, Default)]
pub struct UiOptions {
    /// Folder of Grafana dashboard JSON files (`--dashboards.dir`).
    pub dashboards_dir: Option<PathBuf>,
    /// Path prefix every route is served under, e.g. `/watchfire`; empty for
    /// the root. See [`UiOptions::prefix_from_external_url`].
    pub route_prefix: String,
}

impl UiOptions {
    /// The route prefix of an external URL as Prometheus derives it
    /// (`--web.external-url=http://host/prom/` serves under `/prom`).
    pub fn prefix_from_external_url(url: &str) -> String {
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        let path = if url.contains("://") {
            after_scheme.find('/').map_or("", |i| &after_scheme[i..])
        } else {
            after_scheme
        };
        let path = path.split(['?', '#']).next().unwrap_or("");
        normalize_prefix(path)
    }
}

fn normalize_prefix(p: &str) -> String {
    let trimmed = p.trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

#[derive(Clone)]
struct UiState {
    prefix: Arc<str>,
    dashboards: Dashboards,
}

/// The UI's routes (assets, client-side pages, `/api/v1/dashboards`), ready
/// to merge into the server's router. The dashboards folder is read lazily
/// and re-read on change; call [`Dashboards::load_dir`] first to fail fast on
/// a bad file at start-up, and [`router_with`] to reuse that handle.
pub fn router(opts: UiOptions) -> Router {
    let dashboards = match &opts.dashboards_dir {
        Some(d) => Dashboards::watch(d),
        None => Dashboards::none(),
    };
    router_with(opts, dashboards)
}

/// Like [`router`], with an already loaded [`Dashboards`] handle
/// (`opts.dashboards_dir` is then ignored).
pub fn router_with(opts: UiOptions, dashboards: Dashboards) -> Router {
    let prefix = normalize_prefix(&opts.route_prefix);
    let state = UiState {
        prefix: prefix.clone().into(),
        dashboards,
    };
    let mut r = Router::new();
    for route in SPA_ROUTES {
        let path = if *route == "/" && !prefix.is_empty() {
            prefix.clone()
        } else {
            format!("{prefix}{route}")
        };
        r = r.route(&path, get(index));
    }
    if !prefix.is_empty() {
        r = r.route(&format!("{prefix}/"), get(index));
    }
    for file in Dist::iter() {
        if file == "index.html" {
            continue;
        }
        r = r.route(&format!("{prefix}/{file}"), get(asset));
    }
    r.route(&format!("{prefix}/api/v1/dashboards"), get(list_dashboards))
        .route(
            &format!("{prefix}/api/v1/dashboards/{{uid}}"),
            get(get_dashboard),
        )
        .with_state(state)
}

fn etag_of(file: &rust_embed::EmbeddedFile) -> String {
    let hash = file.metadata.sha256_hash();
    let hex: String = hash[..10].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

fn with_headers(mut resp: Response, etag: &str, cache: &'static str) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

async fn index(State(st): State<UiState>, headers: HeaderMap) -> Response {
    let Some(file) = Dist::get("index.html") else {
        return (StatusCode::NOT_FOUND, "UI not built").into_response();
    };
    // The prefix is part of the body, so it is part of the validator too.
    let etag = format!(
        "{}-{}\"",
        etag_of(&file).trim_end_matches('"'),
        st.prefix.len()
    );
    if not_modified(&headers, &etag) {
        return with_headers(StatusCode::NOT_MODIFIED.into_response(), &etag, "no-cache");
    }
    let html = String::from_utf8_lossy(&file.data);
    let body = html.replacen(
        "<base href=\"/\">",
        &format!("<base href=\"{}/\">", html_attr(&st.prefix)),
        1,
    );
    let resp = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    with_headers(resp, &etag, "no-cache")
}

fn html_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

async fn asset(
    State(st): State<UiState>,
    uri: axum::http::Uri,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let name = path
        .strip_prefix(&*st.prefix)
        .unwrap_or(path)
        .trim_start_matches('/');
    let Some(file) = Dist::get(name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = etag_of(&file);
    // Only URLs stamped with a content version may be cached for good.
    let versioned = q
        .as_deref()
        .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("v=")));
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    if not_modified(&headers, &etag) {
        return with_headers(StatusCode::NOT_MODIFIED.into_response(), &etag, cache);
    }
    let mime = file.metadata.mimetype().to_string();
    let resp = ([(header::CONTENT_TYPE, mime)], file.data.into_owned()).into_response();
    with_headers(resp, &etag, cache)
}

/// JSON text as a response; envelopes are written by hand so `status` comes
/// first, as Prometheus orders it.
fn json_text(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn list_dashboards(State(st): State<UiState>) -> Response {
    let (list, warnings) = st.dashboards.current();
    let data: Vec<Value> = list
        .iter()
        .map(|d| {
            json!({
                "title": d.title,
                "uid": d.uid,
                "url": format!("{}{}", st.prefix, d.url()),
                "tags": d.tags,
            })
        })
        .collect();
    let mut body = format!("{{\"status\":\"success\",\"data\":{}", Value::Array(data));
    if !warnings.is_empty() {
        body.push_str(&format!(",\"warnings\":{}", json!(warnings)));
    }
    body.push('}');
    json_text(StatusCode::OK, body)
}

async fn get_dashboard(State(st): State<UiState>, UrlPath(uid): UrlPath<String>) -> Response {
    match st.dashboards.get(&uid) {
        Some(d) => json_text(
            StatusCode::OK,
            format!("{{\"status\":\"success\",\"data\":{}}}", d.json),
        ),
        None => json_text(
            StatusCode::NOT_FOUND,
            format!(
                "{{\"status\":\"error\",\"errorType\":\"not_found\",\"error\":{}}}",
                Value::String(format!("dashboard {uid:?} not found"))
            ),
        ),
    }
}
