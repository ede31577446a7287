//! `watchfire-demo`: run a demo WebSocket instance or the load generator by hand.
//!
//! ```text
//! watchfire-demo serve --deployment blue --listen 127.0.0.1:8001
//! watchfire-demo load --connections 100 --duration 60 --rate 2 \
//!     --target ws://127.0.0.1:8001/ws --target ws://127.0.0.1:8002/ws
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use watchfire_demo::{DemoConfig, DemoService, LoadOptions, run_load_with};

#[derive(Debug, Parser)]
#[command(
    name = "watchfire-demo",
    version,
    about = "Demo WebSocket service and load generator for Watchfire"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve one instance (WebSocket at /ws, metrics at /metrics, health at /health)
    /// until interrupted.
    Serve {
        /// Deployment color: blue or green.
        #[arg(long, default_value = "blue")]
        deployment: String,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8001")]
        listen: SocketAddr,
        /// Connections accepted before new ones are refused with 503.
        #[arg(long, default_value_t = 5000)]
        max_connections: usize,
        /// Memory budget, in MiB, for /health and the HighMemoryUsage alert.
        #[arg(long, default_value_t = 512)]
        memory_limit_mb: u64,
        /// Seconds between heartbeat pings to each client.
        #[arg(long, default_value = "5", value_parser = parse_seconds)]
        heartbeat_interval: Duration,
        /// Seconds without any pong after which a client is disconnected.
        #[arg(long, default_value = "180", value_parser = parse_seconds)]
        heartbeat_timeout: Duration,
    },
    /// Open connections to the targets and send messages at a fixed rate.
    Load {
        /// WebSocket URL; repeat to spread connections round-robin.
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// Connections to open.
        #[arg(long, default_value_t = 10)]
        connections: usize,
        /// How long to send, in seconds (or with a unit: 500ms, 30s, 2m).
        #[arg(long, default_value = "10", value_parser = parse_seconds)]
        duration: Duration,
        /// Messages per second per connection (0: only hold connections open).
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
        /// Fraction (0-1) of messages sent invalid, to raise app_errors_total.
        #[arg(long, default_value_t = 0.0)]
        invalid_ratio: f64,
        /// Extra simulated processing time per message, in ms (max 5000).
        #[arg(long, default_value_t = 0)]
        work_ms: u64,
        /// Hold connections without reading or sending, so heartbeat pings go
        /// unanswered.
        #[arg(long)]
        silent: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Seconds as a plain number, or a number with an `ms`, `s` or `m` suffix.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 10, 500ms, 30s, 2m)"))?;
    Duration::try_from_secs_f64(v * scale).map_err(|e| format!("{s:?}: {e}"))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("watchfire-demo: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("watchfire-demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match command {
        Command::Serve {
            deployment,
            listen,
            max_connections,
            memory_limit_mb,
            heartbeat_interval,
            heartbeat_timeout,
        } => {
            if !matches!(deployment.as_str(), "blue" | "green") {
                tracing::warn!(%deployment, "not blue or green: UnknownDeploymentColor will fire");
            }
            let config = DemoConfig {
                max_connections,
                memory_limit_bytes: memory_limit_mb.saturating_mul(1024 * 1024),
                heartbeat_interval,
                heartbeat_timeout,
                ..DemoConfig::new(&deployment)
            };
            let mut handle = DemoService::start_with(config, listen).await?;
            eprintln!(
                "serving {} on {}  (WebSocket {}, metrics {}, health http://{}/health); Ctrl-C or SIGTERM stops",
                handle.deployment(),
                handle.local_addr(),
                handle.ws_url(),
                handle.metrics_url(),
                handle.local_addr()
            );
            shutdown_signal().await?;
            handle.stop().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Load {
            targets,
            connections,
            duration,
            rate,
            invalid_ratio,
            work_ms,
            silent,
            json,
        } => {
            let options = LoadOptions {
                invalid_ratio,
                work_ms,
                silent,
                ..LoadOptions::new(targets, connections, duration, rate)
            };
            let report = run_load_with(options).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
            }
            Ok(if report.connections_opened == 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

/// Ctrl-C, or SIGTERM on Unix, so `kill` stops the instance cleanly too (clients
/// get a close frame instead of a reset).
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_seconds("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_seconds("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("x").is_err());
    }

    #[test]
    fn cli_shape() {
        let cli = Cli::try_parse_from([
            "watchfire-demo",
            "load",
            "--connections",
            "3",
            "--duration",
            "2",
            "--rate",
            "4",
            "--target",
            "ws://127.0.0.1:8001/ws",
            "--target",
            "ws://127.0.0.1:8002/ws",
        ])
        .unwrap();
        assert!(
            matches!(cli.command, Command::Load { connections: 3, ref targets, .. } if targets.len() == 2)
        );
        assert!(Cli::try_parse_from(["watchfire-demo", "load"]).is_err());
    }
}
