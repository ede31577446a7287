//! Command-line definition.

use crate::duration::{parse_duration, parse_size};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// Watchfire: monitoring and alerting in one binary.
#[derive(Debug, Parser)]
#[command(
    name = "watchfire",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Log level filter (error, warn, info, debug, trace); RUST_LOG overrides.
    #[arg(long = "log.level", default_value = "info", global = true)]
    pub log_level: String,
    /// Server flags, used when no subcommand is given.
    #[command(flatten)]
    pub server: ServerArgs,
    /// A tool to run instead of the server.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags of the server, named as Prometheus names them.
#[derive(Debug, Args, Clone)]
pub struct ServerArgs {
    /// Prometheus configuration file (scrape and rule configuration arrive in later releases; see README).
    #[arg(long = "config.file")]
    pub config_file: Option<PathBuf>,
    /// alertmanager.yml: turns on the embedded alertmanager (API v2 under /api/v2,
    /// state under <storage.tsdb.path>/alertmanager); rules send their alerts to it.
    #[arg(long = "alertmanager.config.file")]
    pub alertmanager_config_file: Option<PathBuf>,
    /// Base path for metrics storage.
    #[arg(long = "storage.tsdb.path", default_value = "data/")]
    pub tsdb_path: PathBuf,
    /// How long to retain samples (e.g. 15d, 12h). 0 disables time retention.
    #[arg(long = "storage.tsdb.retention.time", value_parser = parse_duration, default_value = "15d")]
    pub retention_time: Duration,
    /// Maximum bytes of storage (e.g. 512MB, 10GB). 0 disables size retention.
    #[arg(long = "storage.tsdb.retention.size", value_parser = parse_size, default_value = "0")]
    pub retention_size: u64,
    /// Minimum block span (testing knob, as in Prometheus).
    #[arg(long = "storage.tsdb.min-block-duration", value_parser = parse_duration, default_value = "2h", hide = true)]
    pub min_block_duration: Duration,
    /// How often the WAL is fsynced; every commit reaches the OS immediately.
    #[arg(long = "storage.tsdb.wal-sync-interval", value_parser = parse_duration, default_value = "1s")]
    pub wal_sync_interval: Duration,
    /// Address to listen on for the UI, API and telemetry.
    #[arg(long = "web.listen-address", default_value = "0.0.0.0:9090")]
    pub listen_address: String,
    /// Enable shutdown and reload via HTTP requests (POST /-/quit, /-/reload).
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,
    /// Enable API endpoints for admin control actions.
    #[arg(long = "web.enable-admin-api")]
    pub enable_admin_api: bool,
    /// The URL under which Watchfire is externally reachable.
    #[arg(long = "web.external-url")]
    pub external_url: Option<String>,
    /// Experimental features, comma-separated: promql-experimental-functions,
    /// promql-duration-expr, promql-extended-range-selectors, promql-binop-fill-modifiers.
    #[arg(long = "enable-feature", value_delimiter = ',')]
    pub enable_feature: Vec<String>,
    /// Folder of Grafana dashboard JSON files shown in the UI.
    #[arg(long = "dashboards.dir")]
    pub dashboards_dir: Option<PathBuf>,
    /// Maximum time a query may take before being aborted.
    #[arg(long = "query.timeout", value_parser = parse_duration, default_value = "2m")]
    pub query_timeout: Duration,
    /// Maximum number of queries evaluated at once; others wait for a slot until their timeout.
    #[arg(long = "query.max-concurrency", default_value_t = 20)]
    pub query_max_concurrency: usize,
    /// Maximum number of samples a single query can load into memory.
    #[arg(long = "query.max-samples", default_value_t = 50_000_000)]
    pub query_max_samples: usize,
    /// How far back to look for a sample of an instant vector selector.
    #[arg(long = "query.lookback-delta", value_parser = parse_duration, default_value = "5m")]
    pub query_lookback_delta: Duration,
}

/// Options of `watchfire demo`.
#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Address of the UI and APIs.
    #[arg(long = "web.listen-address", default_value = "127.0.0.1:9090")]
    pub listen_address: String,
    /// Data directory of the demo.
    #[arg(long = "storage.tsdb.path", default_value = "data/demo")]
    pub tsdb_path: PathBuf,
    /// Port of the blue demo instance.
    #[arg(long = "demo.blue-port", default_value_t = 8001)]
    pub blue_port: u16,
    /// Port of the green demo instance.
    #[arg(long = "demo.green-port", default_value_t = 8002)]
    pub green_port: u16,
    /// Port of the webhook sink the alertmanager notifies.
    #[arg(long = "demo.sink-port", default_value_t = 5001)]
    pub sink_port: u16,
    /// Dashboards folder instead of the demo's own.
    #[arg(long = "dashboards.dir")]
    pub dashboards_dir: Option<PathBuf>,
    /// WebSocket connections of the background load (0 turns it off).
    #[arg(long = "demo.load-connections", default_value_t = 20)]
    pub load_connections: usize,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tools for the time-series database (like `promtool tsdb`).
    Tsdb {
        /// What to do.
        #[command(subcommand)]
        command: TsdbCommand,
    },
    /// Run test scripts (like `promtool test`).
    Test {
        /// What to test.
        #[command(subcommand)]
        command: TestCommand,
    },
    /// Check configuration files (like `promtool check` and `amtool check-config`).
    Check {
        /// What to check.
        #[command(subcommand)]
        command: CheckCommand,
    },
    /// Show or test the alert routing tree of an alertmanager.yml (like `amtool config routes`).
    Routes {
        /// What to do.
        #[command(subcommand)]
        command: RoutesCommand,
    },
    /// Rule tools: backtesting over stored history.
    Rules {
        /// What to do.
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// The seeds' monitored WebSocket stack in one process: two demo instances
    /// under load, scraped, with rules, alerting, a dashboard and a webhook sink.
    Demo {
        /// Demo options.
        #[command(flatten)]
        demo: DemoArgs,
    },
    /// A webhook receiver for development: prints each Alertmanager notification
    /// and keeps the latest at `GET /alerts` as JSON.
    WebhookSink {
        /// Address to listen on.
        #[arg(long = "listen", default_value = "127.0.0.1:5001")]
        listen: String,
        /// How many notifications `GET /alerts` keeps.
        #[arg(long = "keep", default_value_t = 100)]
        keep: usize,
    },
}

/// `watchfire check ...`
#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Check prometheus.yml files and the rule files they reference (like `promtool check config`).
    Config {
        /// Configuration files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Check rule files (like `promtool check rules`).
    Rules {
        /// Rule files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Check alertmanager.yml files (like `amtool check-config`).
    Alertmanager {
        /// Configuration files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `watchfire routes ...`
#[derive(Debug, Subcommand)]
pub enum RoutesCommand {
    /// Print the receivers an alert with the given labels is routed to, and with
    /// `--explain` which routes matched and why.
    Test {
        /// The alertmanager.yml to read.
        #[arg(
            long = "config",
            alias = "config.file",
            default_value = "alertmanager.yml"
        )]
        config: PathBuf,
        /// Fail unless the receivers are exactly these (comma-separated).
        #[arg(long = "verify.receivers")]
        verify_receivers: Option<String>,
        /// Print the matching part of the routing tree.
        #[arg(long = "tree")]
        tree: bool,
        /// Explain each matching route: its matchers, `continue`, and timing options.
        #[arg(long = "explain")]
        explain: bool,
        /// Labels of the alert, as `name=value` (or matchers like amtool accepts).
        labels: Vec<String>,
    },
    /// Print the routing tree.
    Show {
        /// The alertmanager.yml to read.
        #[arg(
            long = "config",
            alias = "config.file",
            default_value = "alertmanager.yml"
        )]
        config: PathBuf,
    },
}

/// `watchfire rules ...`
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Replay alerting rules over stored history and print when each alert would
    /// have gone pending, firing and resolved (reads the data directory; stop the
    /// server that owns it first).
    Backtest {
        /// Rule files.
        #[arg(long = "rules", required = true)]
        rules: Vec<PathBuf>,
        /// Start: RFC 3339 or Unix seconds.
        #[arg(long = "from")]
        from: String,
        /// End: RFC 3339 or Unix seconds (default: now).
        #[arg(long = "to")]
        to: Option<String>,
        /// Evaluation step (default: 1m).
        #[arg(long = "step", value_parser = parse_duration, default_value = "1m")]
        step: Duration,
        /// Data directory.
        #[arg(long = "storage.tsdb.path", default_value = "data/")]
        data_dir: PathBuf,
        /// Print JSON lines instead of text.
        #[arg(long = "json")]
        json: bool,
    },
}

/// `watchfire test ...`
#[derive(Debug, Subcommand)]
pub enum TestCommand {
    /// Run rule unit tests (the `promtool test rules` file format).
    Rules {
        /// Test files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only run the test groups whose name matches one of these regexes.
        #[arg(long = "run")]
        run: Vec<String>,
    },
    /// Run PromQL test scripts in Prometheus' promqltest format against the
    /// built-in engine, each `load` session in a fresh temporary store.
    Promql {
        /// Script files (`*.test`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also list skipped evals with the reason.
        #[arg(long = "show-skipped")]
        show_skipped: bool,
    },
}

/// `watchfire tsdb ...`
#[derive(Debug, Subcommand)]
pub enum TsdbCommand {
    /// Import samples from a file into new blocks (backfill).
    Import {
        /// Input format.
        #[command(subcommand)]
        format: ImportFormat,
    },
    /// Report series, samples, chunks, bytes per sample and top cardinality.
    Analyze {
        /// Data directory.
        #[arg(default_value = "data/")]
        data_dir: PathBuf,
        /// How many entries each top list shows.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Run due compaction and retention now (merging backfilled blocks, for example),
    /// as a running server does every minute.
    Compact {
        /// Data directory.
        #[arg(default_value = "data/")]
        data_dir: PathBuf,
    },
    /// Print every sample, one series per line group (like `promtool tsdb dump`).
    Dump {
        /// Data directory.
        #[arg(default_value = "data/")]
        data_dir: PathBuf,
        /// Series selector matchers, e.g. `{job="api"}`; all series when absent.
        #[arg(long = "match")]
        selector: Option<String>,
        /// Earliest timestamp (ms).
        #[arg(long = "min-time", default_value_t = i64::MIN, allow_negative_numbers = true)]
        min_time: i64,
        /// Latest timestamp (ms).
        #[arg(long = "max-time", default_value_t = i64::MAX, allow_negative_numbers = true)]
        max_time: i64,
    },
}

/// Input formats of `tsdb import`.
#[derive(Debug, Subcommand)]
pub enum ImportFormat {
    /// OpenMetrics text with timestamps, as `promtool tsdb create-blocks-from openmetrics` reads.
    Openmetrics {
        /// Input file.
        file: PathBuf,
        /// Data directory to write blocks into.
        #[arg(default_value = "data/")]
        data_dir: PathBuf,
        /// Span of each written block.
        #[arg(long = "block-duration", value_parser = parse_duration, default_value = "2h")]
        block_duration: Duration,
    },
}
