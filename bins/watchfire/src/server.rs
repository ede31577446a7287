//! The long-running server: storage, background maintenance and the HTTP endpoints.

use crate::cli::ServerArgs;
use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use watchfire_storage::{AppendError, Appendable};
use watchfire_textparse::{Entry, Format, Parser};
use watchfire_tsdb::{Db, Options};

use crate::services::{ServiceDeps, Services};

/// Largest request body accepted by the import endpoint.
const MAX_IMPORT_BYTES: usize = 256 << 20;

struct AppState {
    db: Arc<Db>,
    lifecycle: bool,
    shutdown: Arc<Notify>,
    services: Arc<Services>,
    alertmanager: Option<Arc<watchfire_alertmanager::Alertmanager>>,
    query_stats: Arc<watchfire_web_api::QueryStats>,
    wal_dir: std::path::PathBuf,
}

/// Runs the server until SIGTERM/SIGINT (or `/-/quit` with lifecycle enabled).
pub fn run(args: ServerArgs) -> anyhow::Result<ExitCode> {
    run_with(args, None)
}

/// [`run`], also serving `extra` routes (the demo's controls).
pub fn run_with(args: ServerArgs, extra: Option<Router>) -> anyhow::Result<ExitCode> {
    if args.enable_admin_api {
        tracing::info!("admin API flag accepted; admin endpoints arrive with the HTTP API");
    }
    let opts = Options {
        retention_ms: args.retention_time.as_millis() as i64,
        retention_bytes: args.retention_size,
        block_range_ms: (args.min_block_duration.as_millis() as i64).max(1),
        wal_sync_interval: args.wal_sync_interval,
        ..Options::default()
    };
    let (db, report) = Db::open(&args.tsdb_path, opts)
        .with_context(|| format!("opening storage at {}", args.tsdb_path.display()))?;
    tracing::info!(
        blocks = report.blocks,
        wal_records = report.wal_records,
        wal_samples = report.wal_samples,
        head_series = db.head().num_series(),
        "storage ready"
    );
    for repair in &report.wal_repairs {
        tracing::warn!(repair = %repair, "WAL repaired");
    }
    for (path, why) in &report.quarantined {
        tracing::error!(block = %path.display(), reason = %why, "block moved aside");
    }
    let db = Arc::new(db);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(serve(db.clone(), &args, extra));
    runtime.shutdown_timeout(Duration::from_secs(5));
    match Arc::try_unwrap(db) {
        Ok(db) => db.close().context("closing storage")?,
        Err(db) => db.sync_wal().context("syncing the WAL")?,
    }
    tracing::info!("stopped");
    result.map(|_| ExitCode::SUCCESS)
}

async fn serve(db: Arc<Db>, args: &ServerArgs, extra: Option<Router>) -> anyhow::Result<()> {
    let shutdown = Arc::new(Notify::new());
    let mut api = api_state(db.clone(), args);
    let alertmanager = match &args.alertmanager_config_file {
        Some(path) => Some((path.clone(), start_alertmanager(path, args)?)),
        None => None,
    };
    let services = {
        let deps = ServiceDeps {
            queryable: db.clone(),
            appendable: db.clone(),
            engine: api.engine.as_ref().clone(),
            external_url: external_url(args),
            state_dir: args.tsdb_path.clone(),
            alertmanager: alertmanager.clone(),
            runtime: tokio::runtime::Handle::current(),
        };
        let path = args.config_file.clone();
        tokio::task::spawn_blocking(move || Services::start(path, deps))
            .await
            .context("starting services")??
    };
    api.rules = Some(services.clone());
    api.targets = Some(Arc::new(crate::scrape_wiring::Targets(
        services.scrape.clone(),
    )));
    api.config = Some(services.clone());
    let state = Arc::new(AppState {
        db: db.clone(),
        lifecycle: args.enable_lifecycle,
        shutdown: shutdown.clone(),
        services: services.clone(),
        alertmanager: alertmanager.as_ref().map(|(_, am)| am.clone()),
        query_stats: api.query_stats.clone(),
        wal_dir: args.tsdb_path.join("wal"),
    });
    let app = Router::new()
        .route("/-/healthy", get(|| async { "Watchfire is Healthy.\n" }))
        .route("/-/ready", get(|| async { "Watchfire is Ready.\n" }))
        .route("/-/quit", post(quit).put(quit))
        .route("/-/reload", post(reload).put(reload))
        .route("/metrics", get(metrics))
        .route(
            "/api/v1/import/prometheus",
            // A push carries a whole exposition, often far above axum's 2 MiB default.
            post(import_text).layer(axum::extract::DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .with_state(state)
        .merge(watchfire_web_api::router(api));
    let app = match &alertmanager {
        Some((_, am)) => app.merge(watchfire_alertmanager::api_router(am.clone())),
        None => app,
    };
    let store: Arc<dyn watchfire_storage::Queryable> = db.clone();
    let app = app.merge(
        Router::new()
            .route(
                "/api/v1/watchfire/rules/backtest",
                post(crate::backtest_api::backtest).get(crate::backtest_api::backtest),
            )
            .with_state(store),
    );
    let dashboards = match &args.dashboards_dir {
        Some(dir) => watchfire_web_ui::Dashboards::load_dir(dir)
            .map_err(|e| anyhow::anyhow!("dashboards: {e}"))?,
        None => watchfire_web_ui::Dashboards::none(),
    };
    let ui = watchfire_web_ui::UiOptions {
        dashboards_dir: args.dashboards_dir.clone(),
        route_prefix: String::new(),
    };
    let app = app.merge(watchfire_web_ui::router_with(ui, dashboards));
    let app = match extra {
        Some(routes) => app.merge(routes),
        None => app,
    };
    let listener = tokio::net::TcpListener::bind(&args.listen_address)
        .await
        .with_context(|| format!("listening on {}", args.listen_address))?;
    tracing::info!(address = %listener.local_addr()?, "listening");

    let maintenance = tokio::spawn(maintain(db.clone(), args.wal_sync_interval));
    let hangups = tokio::spawn(reload_on_sighup(services.clone()));
    let stop = shutdown.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = stop.notified() => {}
                _ = terminate_signal() => {}
            }
            tracing::info!("shutting down");
        })
        .await
        .context("serving HTTP")?;
    maintenance.abort();
    hangups.abort();
    tokio::task::spawn_blocking(move || services.stop())
        .await
        .context("stopping services")?;
    if let Some((_, am)) = alertmanager {
        am.stop().await.context("stopping the alertmanager")?;
    }
    Ok(())
}

/// Starts the embedded alertmanager with its state next to the TSDB.
fn start_alertmanager(
    path: &std::path::Path,
    args: &ServerArgs,
) -> anyhow::Result<Arc<watchfire_alertmanager::Alertmanager>> {
    let config = watchfire_alertmanager_config::Config::load_file(path)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for w in &config.warnings {
        tracing::warn!(config = %path.display(), "{w}");
    }
    let mut opts = watchfire_alertmanager::Options::new(
        Arc::new(watchfire_alertmanager::SystemClock),
        watchfire_alertmanager::notify_factory(),
    );
    opts.data_dir = Some(args.tsdb_path.join("alertmanager"));
    opts.external_url = external_url(args);
    opts.template_base_dir = path.parent().map_or_else(
        || std::path::PathBuf::from("."),
        std::path::Path::to_path_buf,
    );
    let am = watchfire_alertmanager::Alertmanager::start_with(config, opts)
        .map_err(|e| anyhow::anyhow!("starting the alertmanager: {e}"))?;
    tracing::info!(config = %path.display(), "embedded alertmanager started");
    Ok(am)
}

/// The HTTP API's view of the server: the store, the engine, flags and build info.
fn api_state(db: Arc<Db>, args: &ServerArgs) -> watchfire_web_api::ApiState {
    let mut state = watchfire_web_api::ApiState::new(db);
    let mut parse = watchfire_promql::ParseOptions::default();
    for feature in &args.enable_feature {
        match feature.trim() {
            "promql-experimental-functions" => parse.experimental_functions = true,
            "promql-duration-expr" => parse.experimental_duration_expr = true,
            "promql-extended-range-selectors" => parse.extended_range_selectors = true,
            "promql-binop-fill-modifiers" => parse.binop_fill_modifiers = true,
            other => tracing::warn!(feature = other, "unknown feature flag ignored"),
        }
    }
    state.engine = Arc::new(
        watchfire_promql::Engine::new(watchfire_promql::EngineOptions {
            lookback_delta_ms: args.query_lookback_delta.as_millis() as i64,
            timeout: args.query_timeout,
            max_samples: args.query_max_samples,
            count_queryable_samples: false,
        })
        .with_parse_options(parse),
    );
    state.query_slots = Arc::new(tokio::sync::Semaphore::new(
        args.query_max_concurrency.max(1),
    ));
    let path = |p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map_or(String::new(), |p| p.display().to_string())
    };
    let flags: BTreeMap<String, String> = [
        ("config.file", path(&args.config_file)),
        ("storage.tsdb.path", args.tsdb_path.display().to_string()),
        (
            "storage.tsdb.retention.time",
            prom_duration(args.retention_time),
        ),
        (
            "storage.tsdb.retention.size",
            base2_bytes(args.retention_size),
        ),
        (
            "storage.tsdb.min-block-duration",
            prom_duration(args.min_block_duration),
        ),
        (
            "storage.tsdb.wal-sync-interval",
            prom_duration(args.wal_sync_interval),
        ),
        ("web.listen-address", args.listen_address.clone()),
        ("web.enable-lifecycle", args.enable_lifecycle.to_string()),
        ("web.enable-admin-api", args.enable_admin_api.to_string()),
        (
            "web.external-url",
            args.external_url.clone().unwrap_or_default(),
        ),
        ("enable-feature", args.enable_feature.join(",")),
        ("query.timeout", prom_duration(args.query_timeout)),
        (
            "query.max-concurrency",
            args.query_max_concurrency.to_string(),
        ),
        ("query.max-samples", args.query_max_samples.to_string()),
        (
            "query.lookback-delta",
            prom_duration(args.query_lookback_delta),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    state.flags = Arc::new(flags);
    state.build_info = Arc::new(watchfire_web_api::BuildInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        revision: "unknown".into(),
        branch: "unknown".into(),
        build_user: "unknown".into(),
        build_date: "unknown".into(),
        go_version: "unknown".into(),
    });
    // Prometheus prints "15d", "10GiB" or "15d or 10GiB" (0 disables either).
    let retention = [
        (!args.retention_time.is_zero()).then(|| prom_duration(args.retention_time)),
        (args.retention_size != 0).then(|| base2_bytes(args.retention_size)),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" or ");
    state.runtime_info = Arc::new(watchfire_web_api::RuntimeInfo {
        start_time_ms: now_ms(),
        cwd: std::env::current_dir().map_or(String::new(), |d| d.display().to_string()),
        hostname: hostname().unwrap_or_default(),
        storage_retention: retention,
    });
    state
}

/// A duration as Prometheus prints one: `15d`, `1h30m`, `0s`; years and weeks
/// only when they divide the rest exactly (`90d`, not `12w6d`).
fn prom_duration(d: Duration) -> String {
    watchfire_model::format_duration_ms(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A byte count in the largest base-2 unit that divides it: `512MiB`, `0B`.
fn base2_bytes(n: u64) -> String {
    for (unit, size) in [
        ("TiB", 1u64 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ] {
        if n != 0 && n.is_multiple_of(size) {
            return format!("{}{unit}", n / size);
        }
    }
    format!("{n}B")
}

async fn terminate_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Periodic WAL sync and compaction, off the async threads.
async fn maintain(db: Arc<Db>, sync_every: Duration) {
    let mut sync_tick = tokio::time::interval(sync_every.max(Duration::from_millis(10)));
    let mut compact_tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = sync_tick.tick() => {
                let db = db.clone();
                let r = tokio::task::spawn_blocking(move || db.sync_wal()).await;
                if let Ok(Err(e)) = r {
                    tracing::error!(error = %e, "WAL sync failed");
                }
            }
            _ = compact_tick.tick() => {
                let db = db.clone();
                let r = tokio::task::spawn_blocking(move || db.compact()).await;
                if let Ok(Err(e)) = r {
                    tracing::error!(error = %e, "compaction failed");
                }
            }
        }
    }
}

/// The external URL as Prometheus derives it: the flag, or `http://<hostname>:<port>`.
fn external_url(args: &ServerArgs) -> String {
    if let Some(u) = &args.external_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = hostname().unwrap_or_else(|| "localhost".to_string());
    let port = args
        .listen_address
        .rsplit_once(':')
        .map_or("9090", |(_, p)| p);
    format!("http://{host}:{port}")
}

/// The machine's host name (Linux), as runtime info and the external URL use it.
fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
}

async fn reload_on_sighup(services: Arc<Services>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            let s = services.clone();
            let _ = tokio::task::spawn_blocking(move || s.reload()).await;
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await;
}

async fn reload(State(state): State<Arc<AppState>>) -> Response {
    if !state.lifecycle {
        return (StatusCode::FORBIDDEN, "Lifecycle API is not enabled.\n").into_response();
    }
    let s = state.services.clone();
    match tokio::task::spawn_blocking(move || s.reload()).await {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("reload task failed: {e}\n"),
        )
            .into_response(),
    }
}

async fn quit(State(state): State<Arc<AppState>>) -> Response {
    if !state.lifecycle {
        return (StatusCode::FORBIDDEN, "Lifecycle API is not enabled.\n").into_response();
    }
    state.shutdown.notify_one();
    (StatusCode::OK, "Requesting termination... Goodbye!\n").into_response()
}

/// Milliseconds since the epoch now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Accepts a Prometheus text exposition (VictoriaMetrics' import endpoint shape):
/// samples without a timestamp get the time of the request. The whole body is one
/// transaction: the response comes after the commit reached the WAL.
async fn import_text(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let format = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map_or(Format::PrometheusText, Format::from_content_type);
    let db = state.db.clone();
    let res = tokio::task::spawn_blocking(move || ingest(&db, &body, format)).await;
    match res {
        Ok(Ok(summary)) => (
            StatusCode::NO_CONTENT,
            [("X-Watchfire-Samples", summary.to_string())],
        )
            .into_response(),
        Ok(Err((status, msg))) => (status, msg).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("ingest task failed: {e}\n"),
        )
            .into_response(),
    }
}

fn ingest(db: &Db, body: &[u8], format: Format) -> Result<usize, (StatusCode, String)> {
    let now = now_ms();
    // Parse everything first, so a malformed body leaves no trace in the store.
    let mut samples = Vec::new();
    for entry in Parser::new(body, format) {
        let entry = entry.map_err(|e| (StatusCode::BAD_REQUEST, format!("request body: {e}\n")))?;
        if let Entry::Sample(s) = entry {
            samples.push((
                s.line,
                s.to_labels(),
                s.timestamp_ms.unwrap_or(now),
                s.value,
            ));
        }
    }
    let mut app = db.appender();
    let mut rejected = 0usize;
    for (line, labels, t, v) in &samples {
        match app.append(None, labels, *t, *v) {
            Ok(_) => {}
            Err(
                AppendError::OutOfOrder { .. }
                | AppendError::DuplicateTimestamp { .. }
                | AppendError::OutOfBounds { .. },
            ) => rejected += 1,
            Err(e) => return Err((StatusCode::BAD_REQUEST, format!("line {line}: {e}\n"))),
        }
    }
    let summary = app.commit().map_err(|e| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("commit failed: {e}\n"),
        )
    })?;
    if rejected > 0 {
        tracing::debug!(
            rejected,
            "some pushed samples were rejected (counted in /metrics)"
        );
    }
    Ok(summary.samples)
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let db = &state.db;
    let head = db.head();
    let c = &head.counters;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: String| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{value}\n"
        ));
    };
    metric(
        "prometheus_tsdb_head_series",
        "gauge",
        "Total number of series in the head block.",
        format!("prometheus_tsdb_head_series {}", head.num_series()),
    );
    metric(
        "prometheus_tsdb_head_samples_appended_total",
        "counter",
        "Total number of appended samples.",
        format!(
            "prometheus_tsdb_head_samples_appended_total{{type=\"float\"}} {}",
            c.samples_appended.load(Ordering::Relaxed)
        ),
    );
    metric(
        "prometheus_tsdb_head_series_created_total",
        "counter",
        "Total number of series created in the head.",
        format!(
            "prometheus_tsdb_head_series_created_total {}",
            c.series_created.load(Ordering::Relaxed)
        ),
    );
    metric(
        "prometheus_tsdb_out_of_order_samples_total",
        "counter",
        "Total number of out of order samples rejected.",
        format!(
            "prometheus_tsdb_out_of_order_samples_total{{type=\"float\"}} {}",
            c.out_of_order.load(Ordering::Relaxed)
        ),
    );
    metric(
        "watchfire_tsdb_duplicate_samples_total",
        "counter",
        "Samples rejected for a different value at an existing timestamp.",
        format!(
            "watchfire_tsdb_duplicate_samples_total {}",
            c.duplicate_timestamp.load(Ordering::Relaxed)
        ),
    );
    metric(
        "prometheus_tsdb_out_of_bounds_samples_total",
        "counter",
        "Samples rejected because their time is already persisted.",
        format!(
            "prometheus_tsdb_out_of_bounds_samples_total{{type=\"float\"}} {}",
            c.out_of_bounds.load(Ordering::Relaxed)
        ),
    );
    metric(
        "prometheus_tsdb_blocks_loaded",
        "gauge",
        "Number of currently loaded data blocks.",
        format!("prometheus_tsdb_blocks_loaded {}", db.blocks().len()),
    );
    metric(
        "prometheus_tsdb_storage_blocks_bytes",
        "gauge",
        "Bytes used by blocks, WAL and head chunk files.",
        format!("prometheus_tsdb_storage_blocks_bytes {}", db.size_bytes()),
    );
    let dc = &db.counters;
    for (name, help, value) in [
        (
            "prometheus_tsdb_compactions_total",
            "Block compactions run.",
            dc.compactions.load(Ordering::Relaxed),
        ),
        (
            "prometheus_tsdb_compactions_failed_total",
            "Block compactions that failed.",
            dc.compactions_failed.load(Ordering::Relaxed),
        ),
        (
            "prometheus_tsdb_head_truncations_total",
            "Head blocks written out and truncated.",
            dc.head_compactions.load(Ordering::Relaxed),
        ),
        (
            "prometheus_tsdb_time_retentions_total",
            "Blocks deleted for time retention.",
            dc.retention_time_deletions.load(Ordering::Relaxed),
        ),
        (
            "prometheus_tsdb_size_retentions_total",
            "Blocks deleted for size retention.",
            dc.retention_size_deletions.load(Ordering::Relaxed),
        ),
    ] {
        metric(name, "counter", help, format!("{name} {value}"));
    }
    metric(
        "prometheus_tsdb_wal_storage_size_bytes",
        "gauge",
        "Size of the write-ahead log directory.",
        format!(
            "prometheus_tsdb_wal_storage_size_bytes {}",
            dir_bytes(&state.wal_dir)
        ),
    );
    let qs = &state.query_stats;
    for (name, kind, help, value) in [
        (
            "watchfire_queries_total",
            "counter",
            "Queries evaluated through the HTTP API.",
            qs.queries_total.load(Ordering::Relaxed) as f64,
        ),
        (
            "watchfire_queries_failed_total",
            "counter",
            "Queries that ended in an error.",
            qs.queries_failed_total.load(Ordering::Relaxed) as f64,
        ),
        (
            "prometheus_engine_queries",
            "gauge",
            "Queries being evaluated now.",
            qs.queries_running.load(Ordering::Relaxed) as f64,
        ),
        (
            "watchfire_query_duration_seconds_total",
            "counter",
            "Time spent evaluating queries.",
            qs.evaluation_micros_total.load(Ordering::Relaxed) as f64 / 1e6,
        ),
    ] {
        metric(
            name,
            kind,
            help,
            format!("{name} {}", watchfire_model::format_go_float(value)),
        );
    }
    let (reload_ok, reload_ms) = state.services.reload_metrics();
    for prefix in ["prometheus", "watchfire"] {
        metric(
            &format!("{prefix}_config_last_reload_successful"),
            "gauge",
            "Whether the last configuration reload attempt was successful.",
            format!(
                "{prefix}_config_last_reload_successful {}",
                u8::from(reload_ok)
            ),
        );
        metric(
            &format!("{prefix}_config_last_reload_success_timestamp_seconds"),
            "gauge",
            "Timestamp of the last successful configuration reload.",
            format!(
                "{prefix}_config_last_reload_success_timestamp_seconds {}",
                reload_ms / 1000
            ),
        );
    }
    let groups = state.services.rules.groups_snapshot();
    metric(
        "watchfire_rule_group_rules",
        "gauge",
        "Rules loaded, over all groups.",
        format!(
            "watchfire_rule_group_rules {}",
            groups.iter().map(|g| g.rules.len()).sum::<usize>()
        ),
    );
    metric(
        "watchfire_rule_group_iterations_missed_total",
        "counter",
        "Rule group evaluations missed because the previous one was slow.",
        format!(
            "watchfire_rule_group_iterations_missed_total {}",
            groups.iter().map(|g| g.iterations_missed).sum::<u64>()
        ),
    );
    metric(
        "prometheus_rule_evaluations_total",
        "counter",
        "The total number of rule evaluations.",
        format!(
            "prometheus_rule_evaluations_total {}",
            groups.iter().map(|g| g.evaluations_total).sum::<u64>()
        ),
    );
    metric(
        "prometheus_rule_evaluation_failures_total",
        "counter",
        "The total number of rule evaluation failures.",
        format!(
            "prometheus_rule_evaluation_failures_total {}",
            groups.iter().map(|g| g.evaluation_failures).sum::<u64>()
        ),
    );
    let (sent, errors, dropped, queued) = state.services.notifier_stats();
    for (name, kind, help, value) in [
        (
            "prometheus_notifications_sent_total",
            "counter",
            "Alerts sent to external alertmanagers.",
            sent,
        ),
        (
            "prometheus_notifications_errors_total",
            "counter",
            "Alerts whose sending to an external alertmanager failed.",
            errors,
        ),
        (
            "prometheus_notifications_dropped_total",
            "counter",
            "Alerts dropped because the send queue was full.",
            dropped,
        ),
        (
            "prometheus_notifications_queue_length",
            "gauge",
            "Alerts waiting to be sent.",
            queued as u64,
        ),
    ] {
        metric(name, kind, help, format!("{name} {value}"));
    }
    let sm = state.services.scrape.metrics();
    for (name, help, value) in [
        (
            "watchfire_scrapes_total",
            "Scrapes attempted.",
            sm.scrapes_total as f64,
        ),
        (
            "watchfire_scrapes_failed_total",
            "Scrapes that failed (target down, timeout, limits).",
            sm.scrapes_failed_total as f64,
        ),
        (
            "watchfire_scrape_samples_appended_total",
            "Samples appended by scrapes.",
            sm.samples_appended_total as f64,
        ),
        (
            "watchfire_scrape_samples_rejected_total",
            "Scraped samples the store rejected (out of order, duplicates).",
            sm.samples_rejected_total as f64,
        ),
        (
            "prometheus_target_scrapes_exceeded_sample_limit_total",
            "Scrapes that hit a sample or label limit.",
            sm.limit_exceeded_total as f64,
        ),
        (
            "prometheus_target_scrapes_exceeded_body_size_limit_total",
            "Scrapes that hit the body size limit.",
            sm.body_size_limit_exceeded_total as f64,
        ),
        (
            "watchfire_scrape_duration_seconds_total",
            "Time spent scraping.",
            sm.scrape_duration_seconds_total,
        ),
    ] {
        metric(
            name,
            "counter",
            help,
            format!("{name} {}", watchfire_model::format_go_float(value)),
        );
    }
    if let Some(am) = &state.alertmanager {
        let m = am.metrics();
        let mut sent = String::new();
        let mut failed = String::new();
        for (integration, im) in &m.integrations {
            sent.push_str(&format!(
                "alertmanager_notifications_total{{integration=\"{integration}\"}} {}\n",
                im.notifications_total
            ));
            failed.push_str(&format!(
                "alertmanager_notifications_failed_total{{integration=\"{integration}\"}} {}\n",
                im.notifications_failed_total
            ));
        }
        metric(
            "alertmanager_notifications_total",
            "counter",
            "The total number of attempted notifications.",
            sent.trim_end().to_string(),
        );
        metric(
            "alertmanager_notifications_failed_total",
            "counter",
            "The total number of failed notifications.",
            failed.trim_end().to_string(),
        );
        let truncated = watchfire_notify::alerts_truncated_total()
            .iter()
            .map(|(integration, n)| {
                format!(
                    "{}{{integration=\"{integration}\"}} {n}",
                    watchfire_notify::ALERTS_TRUNCATED_METRIC
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        metric(
            watchfire_notify::ALERTS_TRUNCATED_METRIC,
            "counter",
            "Alerts left out of notifications by max_alerts (every attempt counts).",
            truncated,
        );
        metric(
            "alertmanager_alerts_received_total",
            "counter",
            "The total number of received alerts.",
            format!(
                "alertmanager_alerts_received_total{{status=\"firing\"}} {}\nalertmanager_alerts_received_total{{status=\"resolved\"}} {}",
                m.alerts_received_firing, m.alerts_received_resolved
            ),
        );
    }
    metric(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        format!("process_resident_memory_bytes {}", resident_bytes()),
    );
    metric(
        "watchfire_build_info",
        "gauge",
        "Build information.",
        format!(
            "watchfire_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        ),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// Bytes of the files in `dir` and its subdirectories (0 when unreadable).
fn dir_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}
