//! `watchfire demo`: the seeds' monitored WebSocket stack in one process. Two
//! demo service instances (blue and green) under gentle load, Watchfire
//! scraping them with the example `prometheus.yml`, rules and embedded
//! alertmanager, the example dashboard, and the webhook sink receiving the
//! notifications. `POST /demo/<deployment>/stop|start` on the server's port
//! stops and starts an instance, to watch ServiceDown fire and resolve.

use crate::cli::{DemoArgs, ServerArgs};
use anyhow::Context;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use watchfire_demo::{DemoService, DemoServiceHandle, LoadOptions};

/// The example configuration, built into the binary so the demo runs anywhere.
const PROMETHEUS_YML: &str = include_str!("../../../examples/demo/prometheus.yml");
const ALERTS_YML: &str = include_str!("../../../examples/demo/alerts.yml");
const ALERTMANAGER_YML: &str = include_str!("../../../examples/demo/alertmanager.yml");
const DASHBOARD_JSON: &str = include_str!("../../../examples/demo/dashboards/websocket.json");

/// What can be asked of one demo instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Start,
    Stop,
    Status,
}

/// A request for one instance, answered with its state.
type Control = (String, Action, oneshot::Sender<Result<String, String>>);

/// Runs the demo until Ctrl-C.
pub fn run(args: DemoArgs, mut server: ServerArgs) -> anyhow::Result<ExitCode> {
    let blue: SocketAddr = format!("127.0.0.1:{}", args.blue_port).parse()?;
    let green: SocketAddr = format!("127.0.0.1:{}", args.green_port).parse()?;
    let sink: SocketAddr = format!("127.0.0.1:{}", args.sink_port).parse()?;
    let config_dir = server.tsdb_path.join("demo-config");
    write_config(&config_dir, blue, green, sink)?;
    server.config_file = Some(config_dir.join("prometheus.yml"));
    server.alertmanager_config_file = Some(config_dir.join("alertmanager.yml"));
    if server.dashboards_dir.is_none() {
        server.dashboards_dir = Some(config_dir.join("dashboards"));
    }
    server.enable_lifecycle = true;

    // The demo services live on their own runtime so the server's shutdown
    // does not race them; the control channel crosses between the two.
    let (control_tx, control_rx) = mpsc::unbounded_channel::<Control>();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("demo")
        .enable_all()
        .build()
        .context("starting the demo runtime")?;
    let handles = runtime.block_on(async {
        let b = DemoService::start("blue", blue).await?;
        let g = DemoService::start("green", green).await?;
        anyhow::Ok(vec![b, g])
    })?;
    let ws_urls: Vec<String> = handles.iter().map(DemoServiceHandle::ws_url).collect();
    let sink_listener = runtime
        .block_on(tokio::net::TcpListener::bind(sink))
        .with_context(|| format!("listening for webhooks on {sink}"))?;
    runtime.spawn(async move {
        let never = std::future::pending::<()>();
        if let Err(e) = crate::webhook_sink::serve(sink_listener, 100, false, never).await {
            tracing::error!(err = %e, "webhook sink stopped");
        }
    });
    runtime.spawn(control_loop(handles, control_rx));
    if args.load_connections > 0 {
        runtime.spawn(gentle_load(ws_urls, args.load_connections));
    }

    let ui = format!("http://{}", server.listen_address);
    println!(
        "\nWatchfire demo\n\
         \x20 UI:               {ui}/\n\
         \x20 Dashboard:        {ui}/d/websocket-demo\n\
         \x20 Alerts:           {ui}/alerts  (API: {ui}/api/v1/alerts, {ui}/api/v2/alerts)\n\
         \x20 Webhook sink:     http://{sink}/alerts  (notifications are also printed here)\n\
         \x20 Demo services:    blue {blue}, green {green} (/metrics, /health, /ws)\n\
         \x20 Trigger an alert: curl -X POST {ui}/demo/blue/stop   (ServiceDown fires after 30s)\n\
         \x20 Resolve it:       curl -X POST {ui}/demo/blue/start\n\
         \x20 Configuration:    {}\n",
        config_dir.display()
    );
    let controls = Router::new()
        .route("/demo/{deployment}/{action}", post(control))
        .route("/demo/status", get(status))
        .with_state(control_tx);
    let result = crate::server::run_with(server, Some(controls));
    runtime.shutdown_timeout(Duration::from_secs(3));
    result
}

/// Writes the example files with the chosen ports.
fn write_config(
    dir: &std::path::Path,
    blue: SocketAddr,
    green: SocketAddr,
    sink: SocketAddr,
) -> anyhow::Result<()> {
    let ports = |text: &str| {
        text.replace("127.0.0.1:8001", &blue.to_string())
            .replace("127.0.0.1:8002", &green.to_string())
            .replace("127.0.0.1:5001", &sink.to_string())
    };
    std::fs::create_dir_all(dir.join("dashboards"))
        .with_context(|| format!("creating {}", dir.display()))?;
    for (name, text) in [
        ("prometheus.yml", ports(PROMETHEUS_YML)),
        ("alerts.yml", ALERTS_YML.to_string()),
        ("alertmanager.yml", ports(ALERTMANAGER_YML)),
        ("dashboards/websocket.json", DASHBOARD_JSON.to_string()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

async fn control_loop(
    mut handles: Vec<DemoServiceHandle>,
    mut rx: mpsc::UnboundedReceiver<Control>,
) {
    while let Some((deployment, action, reply)) = rx.recv().await {
        let result = match handles.iter_mut().find(|h| h.deployment() == deployment) {
            None => Err(format!(
                "no demo instance named {deployment:?} (blue, green)"
            )),
            Some(h) => match action {
                Action::Status => Ok(if h.is_running() { "running" } else { "stopped" }.into()),
                Action::Start => h.start().await.map(|()| "started".into()),
                Action::Stop => h.stop().await.map(|()| "stopped".into()),
            }
            .map_err(|e: watchfire_demo::DemoError| e.to_string()),
        };
        let _ = reply.send(result);
    }
}

async fn control(
    State(tx): State<mpsc::UnboundedSender<Control>>,
    Path((deployment, action)): Path<(String, String)>,
) -> Response {
    let action = match action.as_str() {
        "start" => Action::Start,
        "stop" => Action::Stop,
        _ => {
            return (
                StatusCode::NOT_FOUND,
                "use /demo/<deployment>/stop or /start\n",
            )
                .into_response();
        }
    };
    let (reply_tx, reply_rx) = oneshot::channel();
    if tx.send((deployment.clone(), action, reply_tx)).is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "demo is shutting down\n").into_response();
    }
    match reply_rx.await {
        Ok(Ok(state)) => (StatusCode::OK, format!("{deployment} {state}\n")).into_response(),
        Ok(Err(e)) => (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "demo is shutting down\n").into_response(),
    }
}

async fn status(State(tx): State<mpsc::UnboundedSender<Control>>) -> Response {
    let mut out = BTreeMap::new();
    for name in ["blue", "green"] {
        let (reply_tx, reply_rx) = oneshot::channel();
        let _ = tx.send((name.to_string(), Action::Status, reply_tx));
        let state = match reply_rx.await {
            Ok(Ok(s)) => s,
            _ => "unknown".to_string(),
        };
        out.insert(name, state);
    }
    axum::Json(out).into_response()
}

/// A few connections chatting slowly on both instances, forever, so the
/// dashboard has something to show; instances that are stopped just fail to
/// connect until they are back.
async fn gentle_load(targets: Vec<String>, connections: usize) {
    loop {
        let mut opts = LoadOptions::new(targets.clone(), connections, Duration::from_secs(30), 2.0);
        opts.invalid_ratio = 0.01;
        if let Err(e) = watchfire_demo::run_load_with(opts).await {
            tracing::warn!(err = %e, "demo load stopped");
            return;
        }
    }
}
