//! Watchfire's Prometheus-compatible HTTP API v1.
//!
//! [`router`] serves, under `/api/v1`, the endpoints Grafana, `promtool` and other
//! Prometheus clients call: `query`, `query_range`, `series`, `labels`,
//! `label/<name>/values`, `status/{buildinfo,runtimeinfo,flags,tsdb,config}`,
//! `targets`, `targets/metadata`, `metadata`, `scrape_pools`, `rules`, `alerts`,
//! `format_query`, `parse_query`,
//! and the still empty `query_exemplars`. Paths, parameters, JSON shapes,
//! error types, error messages and status codes follow Prometheus' documented
//! behaviour and its `web/api/v1` implementation.
//!
//! # Design
//!
//! * **Contracts only.** [`ApiState`] holds the store as
//!   `Arc<dyn Queryable>` and `Arc<dyn CardinalitySource>` (the
//!   `watchfire-storage` traits) plus a PromQL [`Engine`]; this crate never sees
//!   the TSDB, so it can be tested against any store. Targets, rules and the
//!   configuration come through the small traits of [`providers`], which the
//!   binary implements over its scrape manager, rule manager and config.
//! * **Parameters** are gathered like Go's `Request.Form` ([`params::Params`]):
//!   a form-encoded POST body first, then the query string, so every endpoint
//!   Prometheus accepts by POST takes the same parameters either way. Times are
//!   RFC 3339 or float Unix seconds (rounded to the millisecond); durations are
//!   float seconds or `1m30s`; Prometheus' `MinTime`/`MaxTime` are the defaults
//!   of open ranges and are accepted in their formatted form.
//! * **Evaluation** runs on tokio's blocking pool (`spawn_blocking`): it is
//!   CPU-bound and may read disk. The `timeout` parameter lowers the engine's
//!   own limit for that query; a timed-out query answers `timeout` (503). A
//!   client that disconnects does not stop a running evaluation early; it ends
//!   at its timeout at the latest.
//! * **Output** is written by hand ([`json`]) to match Prometheus byte for byte
//!   where clients can tell: sample values as strings in Go `'f'` notation
//!   (`'e'` below 1e-6 and from 1e21 on), point timestamps as seconds with three
//!   decimals, empty `warnings`/`infos` left out, at most ten of each kept.
//! * **One error type**, [`ApiError`], whose variants are Prometheus' error
//!   types (`bad_data` 400, `execution` 422, `timeout` 503, `canceled` 499,
//!   `internal` 500, `unavailable` 500, `not_found` 404).
//!
//! # Not yet
//!
//! * `query_exemplars` answers `[]`: exemplars are not stored yet.
//! * `stats`: `totalQueryableSamples` and `samplesRead` are counted as Prometheus
//!   does, but `peakSamples` is everything the selectors loaded (they load all steps
//!   up front), `resultSortTime` is 0 (sorting is inside `innerEvalTime`), and
//!   `stats=all` has no per-step figures.
//! * There is no CORS handling, and `headStats` of `status/tsdb` has no `chunkCount`
//!   or `numLabelPairs` (the storage contract does not report them).
#![deny(missing_docs)]

mod error;
pub mod json;
mod meta;
pub mod params;
pub mod providers;
mod query;
mod status;
mod targets;

pub use error::ApiError;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use json::{Obj, write_str_array};
use params::Params;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use watchfire_promql::Engine;
use watchfire_storage::{CardinalitySource, Queryable};

/// What `/api/v1/status/buildinfo` reports (Prometheus' field names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// Release version.
    pub version: String,
    /// Source revision.
    pub revision: String,
    /// Source branch.
    pub branch: String,
    /// Who built it.
    pub build_user: String,
    /// When it was built.
    pub build_date: String,
    /// The toolchain (served as `goVersion`, the field clients know).
    pub go_version: String,
}

/// What `/api/v1/status/runtimeinfo` reports besides the server time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// When the server started (ms since the epoch).
    pub start_time_ms: i64,
    /// The working directory.
    pub cwd: String,
    /// The host name.
    pub hostname: String,
    /// Retention as Prometheus prints it, e.g. `15d` or `15d or 10GiB`.
    pub storage_retention: String,
}

/// Everything the handlers need; cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    /// The store queries and series lookups read.
    pub storage: Arc<dyn Queryable>,
    /// The store's cardinality statistics (`status/tsdb`).
    pub cardinality: Arc<dyn CardinalitySource>,
    /// The PromQL engine; its options are the per-query defaults and limits.
    pub engine: Arc<Engine>,
    /// Command-line flags and their values (`status/flags`).
    pub flags: Arc<BTreeMap<String, String>>,
    /// Build information (`status/buildinfo`).
    pub build_info: Arc<BuildInfo>,
    /// Runtime information (`status/runtimeinfo`).
    pub runtime_info: Arc<RuntimeInfo>,
    /// Scrape targets and their metadata; `None` answers empty lists.
    pub targets: Option<Arc<dyn providers::TargetsProvider>>,
    /// Rules and alerts; `None` answers empty lists.
    pub rules: Option<Arc<dyn providers::RulesProvider>>,
    /// The loaded configuration; `None` answers an empty YAML.
    pub config: Option<Arc<dyn providers::ConfigProvider>>,
    /// Slots for concurrently evaluated queries (`--query.max-concurrency`);
    /// a query waits for one until its timeout.
    pub query_slots: Arc<tokio::sync::Semaphore>,
    /// Counts of evaluated queries.
    pub query_stats: Arc<QueryStats>,
}

/// Counts of evaluated queries, for the server's `/metrics`.
#[derive(Debug, Default)]
pub struct QueryStats {
    /// Queries evaluated (instant and range), successful or not.
    pub queries_total: std::sync::atomic::AtomicU64,
    /// Queries that ended in an error (timeouts and limits included).
    pub queries_failed_total: std::sync::atomic::AtomicU64,
    /// Queries being evaluated now.
    pub queries_running: std::sync::atomic::AtomicU64,
    /// Total evaluation time in microseconds.
    pub evaluation_micros_total: std::sync::atomic::AtomicU64,
}

/// Prometheus' default `--query.max-concurrency`.
pub const DEFAULT_MAX_CONCURRENT_QUERIES: usize = 20;

impl ApiState {
    /// State over one store, with default engine options, no flags, and this
    /// crate's version as build information.
    pub fn new<S>(store: Arc<S>) -> Self
    where
        S: Queryable + CardinalitySource + 'static,
    {
        ApiState {
            storage: store.clone(),
            cardinality: store,
            engine: Arc::new(Engine::default()),
            flags: Arc::new(BTreeMap::new()),
            build_info: Arc::new(BuildInfo {
                version: env!("CARGO_PKG_VERSION").into(),
                ..BuildInfo::default()
            }),
            runtime_info: Arc::new(RuntimeInfo {
                start_time_ms: now_ms(),
                ..RuntimeInfo::default()
            }),
            targets: None,
            rules: None,
            config: None,
            query_slots: Arc::new(tokio::sync::Semaphore::new(DEFAULT_MAX_CONCURRENT_QUERIES)),
            query_stats: Arc::new(QueryStats::default()),
        }
    }
}

/// A successful answer: the `data` JSON and the annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct Success {
    /// The `data` field, as JSON text.
    pub data: String,
    /// Warnings (`warnings` field).
    pub warnings: Vec<String>,
    /// Informational annotations (`infos` field).
    pub infos: Vec<String>,
}

/// Most warnings and infos an answer carries, as in Prometheus.
const MAX_ANNOTATIONS: usize = 10;

fn capped(items: &[String], kind: &str) -> Vec<String> {
    let mut out: Vec<String> = items.iter().take(MAX_ANNOTATIONS).cloned().collect();
    if items.len() > MAX_ANNOTATIONS {
        out.push(format!(
            "{} more {kind} annotations omitted",
            items.len() - MAX_ANNOTATIONS
        ));
    }
    out
}

impl Success {
    /// The whole response body.
    pub fn body(&self) -> String {
        let mut out = String::with_capacity(self.data.len() + 64);
        let mut o = Obj::new(&mut out);
        o.str("status", "success").raw("data", &self.data);
        if !self.warnings.is_empty() {
            write_str_array(o.key("warnings"), &capped(&self.warnings, "warning"));
        }
        if !self.infos.is_empty() {
            write_str_array(o.key("infos"), &capped(&self.infos, "info"));
        }
        o.end();
        out
    }
}

impl IntoResponse for Success {
    fn into_response(self) -> Response {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response()
    }
}

/// Milliseconds since the epoch now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn respond(r: Result<Success, ApiError>) -> Response {
    match r {
        Ok(s) => s.into_response(),
        Err(e) => {
            if matches!(e, ApiError::Internal(_)) {
                tracing::error!(error = %e, "API request failed");
            }
            e.into_response()
        }
    }
}

async fn query(State(st): State<ApiState>, p: Params) -> Response {
    respond(query::instant(&st, &p).await)
}

async fn query_range(State(st): State<ApiState>, p: Params) -> Response {
    respond(query::range(&st, &p).await)
}

async fn series(State(st): State<ApiState>, p: Params) -> Response {
    respond(meta::series(&st, &p).await)
}

async fn labels(State(st): State<ApiState>, p: Params) -> Response {
    respond(meta::label_names(&st, &p).await)
}

async fn label_values(State(st): State<ApiState>, Path(name): Path<String>, p: Params) -> Response {
    respond(meta::label_values(&st, &name, &p).await)
}

async fn exemplars(State(st): State<ApiState>, p: Params) -> Response {
    match status::exemplars(&st, &p) {
        Ok(Some(s)) => s.into_response(),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn metadata(State(st): State<ApiState>, p: Params) -> Response {
    respond(targets::metadata(&st, &p))
}

async fn targets_list(State(st): State<ApiState>, p: Params) -> Response {
    targets::targets(&st, &p).into_response()
}

async fn targets_metadata(State(st): State<ApiState>, p: Params) -> Response {
    respond(targets::targets_metadata(&st, &p))
}

async fn scrape_pools(State(st): State<ApiState>) -> Response {
    targets::scrape_pools(&st).into_response()
}

async fn rules(State(st): State<ApiState>, p: Params) -> Response {
    respond(targets::rules(&st, &p))
}

async fn alerts(State(st): State<ApiState>) -> Response {
    targets::alerts(&st).into_response()
}

async fn config(State(st): State<ApiState>) -> Response {
    targets::config(&st).into_response()
}

async fn format_query(State(st): State<ApiState>, p: Params) -> Response {
    respond(status::format_query(&st, &p))
}

async fn parse_query(State(st): State<ApiState>, p: Params) -> Response {
    respond(status::parse_query(&st, &p))
}

async fn build_info(State(st): State<ApiState>) -> Response {
    status::build_info(&st).into_response()
}

async fn runtime_info(State(st): State<ApiState>) -> Response {
    status::runtime_info(&st).into_response()
}

async fn flags(State(st): State<ApiState>) -> Response {
    status::flags(&st).into_response()
}

async fn tsdb(State(st): State<ApiState>, p: Params) -> Response {
    respond(status::tsdb(&st, &p).await)
}

/// The `/api/v1/...` routes, ready to merge into the server's router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/query", get(query).post(query))
        .route("/api/v1/query_range", get(query_range).post(query_range))
        .route("/api/v1/query_exemplars", get(exemplars).post(exemplars))
        .route("/api/v1/format_query", get(format_query).post(format_query))
        .route("/api/v1/parse_query", get(parse_query).post(parse_query))
        .route("/api/v1/series", get(series).post(series))
        .route("/api/v1/labels", get(labels).post(labels))
        .route("/api/v1/label/{name}/values", get(label_values))
        .route("/api/v1/metadata", get(metadata))
        .route("/api/v1/status/buildinfo", get(build_info))
        .route("/api/v1/status/runtimeinfo", get(runtime_info))
        .route("/api/v1/status/flags", get(flags))
        .route("/api/v1/status/tsdb", get(tsdb))
        .route("/api/v1/status/config", get(config))
        .route("/api/v1/targets", get(targets_list))
        .route("/api/v1/targets/metadata", get(targets_metadata))
        .route("/api/v1/scrape_pools", get(scrape_pools))
        .route("/api/v1/rules", get(rules))
        .route("/api/v1/alerts", get(alerts))
        .with_state(state)
}

/// A store with nothing in it, for unit tests that need an [`ApiState`].
#[cfg(test)]
pub(crate) struct NoStore;

#[cfg(test)]
impl watchfire_storage::Queryable for NoStore {
    fn querier(
        &self,
        _: i64,
        _: i64,
    ) -> Result<Box<dyn watchfire_storage::Querier>, watchfire_storage::StorageError> {
        Err(watchfire_storage::StorageError::Invalid("none".into()))
    }
}

#[cfg(test)]
impl watchfire_storage::CardinalitySource for NoStore {
    fn cardinality(&self, _: usize) -> watchfire_storage::CardinalityStats {
        watchfire_storage::CardinalityStats::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_body_omits_empty_annotations() {
        let s = Success {
            data: "[]".into(),
            warnings: vec![],
            infos: vec![],
        };
        assert_eq!(s.body(), r#"{"status":"success","data":[]}"#);
        let many: Vec<String> = (0..12).map(|i| format!("w{i}")).collect();
        let s = Success {
            data: "1".into(),
            warnings: many,
            infos: vec!["i".into()],
        };
        let body = s.body();
        assert!(body.contains(r#""w9","2 more warning annotations omitted"],"infos":["i"]}"#));
        assert!(!body.contains("w10"));
    }
}
