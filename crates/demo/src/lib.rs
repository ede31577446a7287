//! The stack behind `watchfire demo`: a real WebSocket service to monitor and a load
//! generator to drive it, so the quickstart needs nothing else installed.
//!
//! The service mirrors the app the seed documents describe (a chat/echo WebSocket
//! backend deployed blue/green behind Prometheus and Alertmanager):
//!
//! - one TCP port per instance serves everything over HTTP/1.1 (axum): the WebSocket
//!   endpoint `/ws`, Prometheus metrics at `/metrics`, and `/health` (JSON; 200 when
//!   `healthy`/`degraded`, 503 when `unhealthy`). One port per instance keeps the
//!   scrape target and the thing the alerts are about the same address, so stopping
//!   an instance makes `up` drop exactly like a crashed container;
//! - each message gets a simulated processing time (a few ms, plus any `work_ms` the
//!   client asks for), recorded in a classic histogram, so latency alerts and
//!   `histogram_quantile` panels have real data;
//! - the server pings every client on a heartbeat interval and counts pongs, which is
//!   what the `HeartbeatPingsFailing` alert watches;
//! - metrics are written by a small fixed registry of our own ([`metrics`]); the
//!   `process_*` family is read from `/proc/self` like the official client libraries.
//!   When several instances run inside one process (as `watchfire demo` does) they
//!   share those process figures.
//!
//! [`DemoService::start`] returns a [`DemoServiceHandle`] whose [`stop`] closes the
//! listener and every connection (the port then refuses connections) and whose
//! [`start`] binds the same address again with fresh metrics, like a restarted
//! process. [`run_load`] is the stress test: N connections spread round-robin over the
//! targets, each sending at a fixed rate, with latency percentiles in the report.
//!
//! [`stop`]: DemoServiceHandle::stop
//! [`start`]: DemoServiceHandle::start
#![deny(missing_docs)]

mod health;
mod load;
pub mod metrics;
mod process;
pub mod protocol;
mod service;

use std::net::SocketAddr;

pub use health::{CapacityCheck, CpuCheck, HealthChecks, HealthReport, MemoryCheck};
pub use load::{LatencySummary, LoadOptions, LoadReport, run_load, run_load_with};
pub use service::{DemoConfig, DemoService, DemoServiceHandle};

/// Errors from starting or stopping the demo service or from a load run's setup.
///
/// Failures *during* a load run (refused connections, broken sockets) are counted in
/// the [`LoadReport`] instead, because a stress test must report them, not stop.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A deployment name that cannot be used as a label value in the demo.
    #[error("invalid deployment name {name:?}: {reason}")]
    InvalidDeployment {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A service configuration value is out of range.
    #[error("invalid service setting {field}: {reason}")]
    InvalidConfig {
        /// The `DemoConfig` field.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// Connections or sessions were still open long after the stop signal.
    #[error("service on {addr} did not stop within {waited_ms} ms")]
    StopTimeout {
        /// The instance's address.
        addr: SocketAddr,
        /// How long stop waited.
        waited_ms: u128,
    },
    /// A load-run parameter is out of range.
    #[error("invalid load parameter {parameter}: {reason}")]
    InvalidLoad {
        /// The parameter name (as in [`LoadOptions`]).
        parameter: &'static str,
        /// Why it was rejected.
        reason: String,
    },
}
