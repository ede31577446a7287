//! The `watchfire` binary: flags and subcommands, wiring the crates together.
//!
//! Flags follow Prometheus' names where they overlap so existing service files
//! keep working; tool subcommands mirror promtool's (`watchfire tsdb ...`).

mod backtest_api;
mod cli;
mod cmd;
mod demo;
mod duration;
mod scrape_wiring;
mod server;
mod services;
mod webhook_sink;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(&cli.log_level);
    let result = match cli.command {
        None => server::run(cli.server),
        Some(cli::Command::Tsdb { command }) => cmd::tsdb::run(command),
        Some(cli::Command::Test { command }) => cmd::test::run(command),
        Some(cli::Command::Check { command }) => cmd::check::check(command),
        Some(cli::Command::Routes { command }) => cmd::check::routes(command),
        Some(cli::Command::Rules { command }) => cmd::backtest::run(command),
        Some(cli::Command::Demo { demo }) => {
            let mut server = cli.server;
            server.listen_address = demo.listen_address.clone();
            server.tsdb_path = demo.tsdb_path.clone();
            server.dashboards_dir = demo.dashboards_dir.clone();
            demo::run(demo, server)
        }
        Some(cli::Command::WebhookSink { listen, keep }) => webhook_sink::run(&listen, keep),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
