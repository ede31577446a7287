//! The demo WebSocket service: HTTP routes, WebSocket sessions and the start/stop
//! lifecycle.

use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::DemoError;
use crate::health::{self, CpuTracker};
use crate::metrics::{Metrics, TEXT_CONTENT_TYPE};
use crate::protocol::{self, ClientMessage, MAX_WORK_MS, ServerMessage};

/// How long [`DemoServiceHandle::stop`] waits for connections to wind down.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Settings of one demo instance. [`DemoConfig::new`] gives the demo defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    /// Deployment color, exposed as `application_info{color=...}` and in `/health`.
    /// The demo uses `blue` and `green`; any other name makes the
    /// `UnknownDeploymentColor` alert fire.
    pub deployment: String,
    /// Connections accepted before new ones get HTTP 503 (default 5000, the seeds'
    /// limit).
    pub max_connections: usize,
    /// Memory budget `/health` and `HighMemoryUsage` compare the resident set with
    /// (default 512 MiB, the seeds' container limit).
    pub memory_limit_bytes: u64,
    /// How often the server pings each client (default 5 s).
    pub heartbeat_interval: Duration,
    /// A client that has not answered any ping for this long is disconnected
    /// (default 3 min: longer than the `HeartbeatPingsFailing` alert needs to fire).
    pub heartbeat_timeout: Duration,
    /// Simulated processing time per message is drawn uniformly from this range
    /// (default 1–20 ms).
    pub processing_time: (Duration, Duration),
}

impl DemoConfig {
    /// The demo defaults for `deployment`.
    pub fn new(deployment: &str) -> Self {
        Self {
            deployment: deployment.to_owned(),
            max_connections: 5000,
            memory_limit_bytes: 512 * 1024 * 1024,
            heartbeat_interval: Duration::from_secs(5),
            heartbeat_timeout: Duration::from_secs(180),
            processing_time: (Duration::from_millis(1), Duration::from_millis(20)),
        }
    }

    fn validate(&self) -> Result<(), DemoError> {
        let name = &self.deployment;
        let invalid = |reason| DemoError::InvalidDeployment {
            name: name.clone(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if name.len() > 63 {
            return Err(invalid("must be at most 63 characters"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(invalid(
                "may only contain ASCII letters, digits, '-', '_' and '.'",
            ));
        }
        if self.max_connections == 0 {
            return Err(DemoError::InvalidConfig {
                field: "max_connections",
                reason: "must be at least 1".into(),
            });
        }
        for (field, value) in [
            ("heartbeat_interval", self.heartbeat_interval),
            ("heartbeat_timeout", self.heartbeat_timeout),
        ] {
            if value.is_zero() {
                return Err(DemoError::InvalidConfig {
                    field,
                    reason: "must be positive".into(),
                });
            }
        }
        if self.processing_time.0 > self.processing_time.1 {
            return Err(DemoError::InvalidConfig {
                field: "processing_time",
                reason: format!(
                    "minimum {:?} exceeds maximum {:?}",
                    self.processing_time.0, self.processing_time.1
                ),
            });
        }
        Ok(())
    }
}

/// Starts demo instances.
#[derive(Debug)]
pub struct DemoService;

impl DemoService {
    /// Starts an instance with [`DemoConfig::new`]`(deployment)` on `addr` (port 0
    /// picks a free port; see [`DemoServiceHandle::local_addr`]).
    pub async fn start(deployment: &str, addr: SocketAddr) -> Result<DemoServiceHandle, DemoError> {
        Self::start_with(DemoConfig::new(deployment), addr).await
    }

    /// Starts an instance with explicit settings.
    pub async fn start_with(
        config: DemoConfig,
        addr: SocketAddr,
    ) -> Result<DemoServiceHandle, DemoError> {
        config.validate()?;
        let config = Arc::new(config);
        let (local, running) = launch(&config, addr)?;
        Ok(DemoServiceHandle {
            config,
            addr: local,
            running: Some(running),
        })
    }
}

/// A running (or stopped) demo instance. Dropping it signals the instance to shut
/// down without waiting.
#[derive(Debug)]
pub struct DemoServiceHandle {
    config: Arc<DemoConfig>,
    addr: SocketAddr,
    running: Option<Running>,
}

#[derive(Debug)]
struct Running {
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    /// Closed once every clone of the sender (one per `State`) is gone, i.e. when the
    /// server and all sessions have ended.
    alive: mpsc::Receiver<()>,
}

impl DemoServiceHandle {
    /// The bound address (the real port when started on port 0). Stays the same
    /// across [`stop`](Self::stop) and [`start`](Self::start).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The instance's deployment color.
    pub fn deployment(&self) -> &str {
        &self.config.deployment
    }

    /// Whether the instance is currently serving.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// `ws://ADDR/ws`, the URL clients and [`crate::run_load`] connect to.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// `http://ADDR/metrics`, the scrape URL.
    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }

    /// Stops serving: closes the listener (new connections are refused), sends every
    /// WebSocket client a close frame and drops all connections, and waits until all
    /// of that has finished. Stopping a stopped instance does nothing.
    pub async fn stop(&mut self) -> Result<(), DemoError> {
        let Some(mut running) = self.running.take() else {
            return Ok(());
        };
        let _ = running.shutdown.send(true);
        let started = Instant::now();
        let deadline = tokio::time::sleep(STOP_GRACE);
        tokio::pin!(deadline);
        tokio::select! {
            _ = &mut running.server => {}
            _ = &mut deadline => {
                // A client stuck mid-request keeps graceful shutdown waiting; dropping
                // the server task closes its sockets.
                running.server.abort();
            }
        }
        tokio::select! {
            // Checked first: the deadline may already have passed above.
            biased;
            _ = running.alive.recv() => Ok(()),
            _ = &mut deadline => Err(DemoError::StopTimeout {
                addr: self.addr,
                waited_ms: started.elapsed().as_millis(),
            }),
        }
    }

    /// Starts serving again on the same address with fresh metrics, as a restarted
    /// process would. Starting a running instance does nothing.
    pub async fn start(&mut self) -> Result<(), DemoError> {
        if self.running.is_some() {
            return Ok(());
        }
        let (_, running) = launch(&self.config, self.addr)?;
        self.running = Some(running);
        Ok(())
    }
}

impl Drop for DemoServiceHandle {
    fn drop(&mut self) {
        if let Some(running) = &self.running {
            let _ = running.shutdown.send(true);
        }
    }
}

/// Shared by the routes and sessions of one run of an instance.
struct AppState {
    config: Arc<DemoConfig>,
    metrics: Metrics,
    cpu: CpuTracker,
    shutdown: watch::Receiver<bool>,
    next_connection: AtomicU64,
    _alive: mpsc::Sender<()>,
}

type Shared = Arc<AppState>;

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // Lets a restart bind the port again while old connections sit in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

fn launch(config: &Arc<DemoConfig>, addr: SocketAddr) -> Result<(SocketAddr, Running), DemoError> {
    let listener = bind(addr).map_err(|source| DemoError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| DemoError::Bind { addr, source })?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (alive_tx, alive_rx) = mpsc::channel(1);
    let state: Shared = Arc::new(AppState {
        config: config.clone(),
        metrics: Metrics::new(
            &config.deployment,
            config.max_connections,
            config.memory_limit_bytes,
        ),
        cpu: CpuTracker::new(),
        shutdown: shutdown_rx.clone(),
        next_connection: AtomicU64::new(1),
        _alive: alive_tx,
    });
    let app = Router::new()
        .route("/", get(index))
        .route("/ws", get(ws_upgrade))
        .route("/metrics", get(metrics))
        .route("/metrics/", get(metrics))
        .route("/health", get(health_check))
        .route("/health/", get(health_check))
        .with_state(state);
    let mut signal = shutdown_rx;
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = signal.wait_for(|stop| *stop).await;
            })
            .await
    });
    tracing::info!(deployment = %config.deployment, addr = %local, "demo service listening");
    Ok((
        local,
        Running {
            shutdown: shutdown_tx,
            server,
            alive: alive_rx,
        },
    ))
}

async fn index(State(state): State<Shared>) -> String {
    format!(
        "watchfire demo WebSocket service ({})\n\n  /ws       WebSocket chat/echo endpoint\n  /metrics  Prometheus metrics\n  /health   health checks (JSON)\n",
        state.config.deployment
    )
}

async fn metrics(State(state): State<Shared>) -> Response {
    (
        [(header::CONTENT_TYPE, TEXT_CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

async fn health_check(State(state): State<Shared>) -> Response {
    let report = health::check(&state.metrics, &state.cpu);
    let code = if report.healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(report)).into_response()
}

/// Holds one of the instance's connection slots; releasing it on drop keeps
/// `websocket_connections_active` right even when an upgrade fails half-way.
struct Slot(Shared);

impl Slot {
    fn acquire(state: &Shared) -> Option<Self> {
        let max = i64::try_from(state.config.max_connections).unwrap_or(i64::MAX);
        state
            .metrics
            .connections_active
            .try_inc_below(max)
            .then(|| Self(state.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.metrics.connections_active.dec();
    }
}

async fn ws_upgrade(State(state): State<Shared>, upgrade: WebSocketUpgrade) -> Response {
    let Some(slot) = Slot::acquire(&state) else {
        state.metrics.errors.inc("capacity");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "connection limit reached\n",
        )
            .into_response();
    };
    let failed = state.clone();
    upgrade
        .on_failed_upgrade(move |_| failed.metrics.errors.inc("transport"))
        .on_upgrade(move |socket| session(socket, slot))
}

/// A small xorshift generator: enough to spread simulated work, no extra crate.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0);
        Self((seed ^ nanos).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

async fn session(mut socket: WebSocket, slot: Slot) {
    let state = slot.0.clone();
    let m = &state.metrics;
    m.connections_total.inc();
    let connection = state.next_connection.fetch_add(1, Ordering::Relaxed);
    let mut rng = Rng::new(connection);
    let mut shutdown = state.shutdown.clone();
    let welcome = ServerMessage::Welcome {
        deployment: state.config.deployment.clone(),
        connection,
    };
    if send(&mut socket, &state, &welcome).await.is_break() {
        return;
    }

    let period = state.config.heartbeat_interval;
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut last_pong = Instant::now();
    loop {
        let step = tokio::select! {
            _ = stopped(&mut shutdown) => {
                go_away(&mut socket).await;
                ControlFlow::Break(())
            }
            _ = heartbeat.tick() => {
                if last_pong.elapsed() >= state.config.heartbeat_timeout {
                    m.errors.inc("heartbeat_timeout");
                    go_away(&mut socket).await;
                    ControlFlow::Break(())
                } else {
                    m.heartbeat_pings.inc();
                    let sent = socket.send(Message::Ping(Bytes::from_static(b"heartbeat"))).await;
                    transport(&state, sent)
                }
            }
            msg = socket.recv() => match msg {
                None | Some(Ok(Message::Close(_))) => ControlFlow::Break(()),
                Some(Err(_)) => {
                    m.errors.inc("transport");
                    ControlFlow::Break(())
                }
                Some(Ok(Message::Pong(_))) => {
                    m.heartbeat_pongs.inc();
                    last_pong = Instant::now();
                    ControlFlow::Continue(())
                }
                // axum answers pings itself.
                Some(Ok(Message::Ping(_))) => ControlFlow::Continue(()),
                Some(Ok(Message::Binary(b))) => {
                    m.bytes_received.add(b.len() as u64);
                    m.messages.inc("invalid");
                    m.errors.inc("unsupported_frame");
                    let reply = ServerMessage::Error {
                        id: None,
                        error: "binary frames are not supported; send JSON text".into(),
                    };
                    send(&mut socket, &state, &reply).await
                }
                Some(Ok(Message::Text(text))) => {
                    m.bytes_received.add(text.len() as u64);
                    handle_text(&mut socket, &state, &mut rng, text.as_str()).await
                }
            },
        };
        if step.is_break() {
            break;
        }
    }
    drop(slot);
}

/// Processes one text message: waits out the simulated work (unless the instance
/// stops meanwhile), records the processing time and replies.
async fn handle_text(
    socket: &mut WebSocket,
    state: &Shared,
    rng: &mut Rng,
    text: &str,
) -> ControlFlow<()> {
    let m = &state.metrics;
    let started = Instant::now();
    let (reply, work) = match protocol::parse_client_text(text) {
        Ok(ClientMessage::Ping { id }) => {
            m.messages.inc("ping");
            let reply = ServerMessage::Pong {
                id,
                deployment: state.config.deployment.clone(),
            };
            (reply, None)
        }
        Ok(ClientMessage::Chat { id, text, work_ms }) => {
            m.messages.inc("chat");
            let (lo, hi) = state.config.processing_time;
            let work = lo
                + (hi - lo).mul_f64(rng.next_f64())
                + Duration::from_millis(work_ms.min(MAX_WORK_MS));
            (
                ServerMessage::Chat {
                    id,
                    text,
                    deployment: state.config.deployment.clone(),
                    processing_ms: 0.0,
                },
                Some(work),
            )
        }
        Err(error) => {
            m.messages.inc("invalid");
            m.errors.inc("invalid_message");
            let id = protocol::salvage_id(text);
            (ServerMessage::Error { id, error }, None)
        }
    };
    let mut reply = reply;
    if let Some(work) = work {
        // A clone: the session loop's receiver is borrowed by its own select.
        let mut shutdown = state.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(work) => {}
            _ = stopped(&mut shutdown) => {
                go_away(socket).await;
                return ControlFlow::Break(());
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let ServerMessage::Chat { processing_ms, .. } = &mut reply {
        *processing_ms = (elapsed * 1e6).round() / 1e3;
    }
    m.processing.observe(elapsed);
    send(socket, state, &reply).await
}

async fn send(socket: &mut WebSocket, state: &Shared, msg: &ServerMessage) -> ControlFlow<()> {
    let text = match serde_json::to_string(msg) {
        Ok(text) => text,
        // Serialising these plain structs cannot fail; drop the reply if it ever does.
        Err(_) => return ControlFlow::Continue(()),
    };
    let len = text.len() as u64;
    let result = socket.send(Message::Text(text.into())).await;
    if result.is_ok() {
        state.metrics.messages_sent.inc();
        state.metrics.bytes_sent.add(len);
    }
    transport(state, result)
}

fn transport(state: &Shared, result: Result<(), axum::Error>) -> ControlFlow<()> {
    match result {
        Ok(()) => ControlFlow::Continue(()),
        Err(_) => {
            state.metrics.errors.inc("transport");
            ControlFlow::Break(())
        }
    }
}

/// Resolves once the instance is told to stop (or its handle is gone). Drops the
/// watch guard right away so the future stays `Send`.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Best-effort close frame ("going away"); the socket is dropped right after either
/// way, so a client that does not answer cannot hold up a stop.
async fn go_away(socket: &mut WebSocket) {
    let frame = Message::Close(Some(CloseFrame {
        code: 1001,
        reason: "server going away".into(),
    }));
    let _ = tokio::time::timeout(Duration::from_millis(200), socket.send(frame)).await;
}
