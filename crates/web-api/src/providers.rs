//! Contracts the server implements for the parts of the API that are not the
//! store: scrape targets and metadata, rules and alerts, the loaded
//! configuration.
//!
//! They keep this crate free of the scrape, rules and config crates: the binary
//! adapts its components to these traits, and tests can pass plain values.

use std::collections::BTreeMap;

/// One active scrape target, as `/api/v1/targets` shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetInfo {
    /// Labels before relabeling (`discoveredLabels`).
    pub discovered_labels: BTreeMap<String, String>,
    /// Labels after relabeling, attached to the target's series (`labels`).
    pub labels: BTreeMap<String, String>,
    /// The job (`scrapePool`).
    pub scrape_pool: String,
    /// URL scraped (`scrapeUrl`).
    pub scrape_url: String,
    /// URL with the host's name instead of a loopback address (`globalUrl`).
    pub global_url: String,
    /// Error of the last scrape, empty when it succeeded.
    pub last_error: String,
    /// Start of the last scrape (ms since the epoch), `None` before the first.
    pub last_scrape_ms: Option<i64>,
    /// How long the last scrape took, in seconds.
    pub last_scrape_duration_seconds: f64,
    /// `up`, `down` or `unknown`.
    pub health: String,
    /// Scrape interval as Prometheus prints durations (`15s`).
    pub scrape_interval: String,
    /// Scrape timeout as Prometheus prints durations (`10s`).
    pub scrape_timeout: String,
}

/// A target that relabeling dropped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DroppedTargetInfo {
    /// Its labels before relabeling.
    pub discovered_labels: BTreeMap<String, String>,
    /// The job it was discovered for.
    pub scrape_pool: String,
}

/// TYPE, HELP and UNIT of one metric family as a target exposed them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricMetadata {
    /// The metric family name.
    pub metric: String,
    /// `counter`, `gauge`, `histogram`, `summary`, `unknown`, ...
    pub metric_type: String,
    /// HELP text.
    pub help: String,
    /// UNIT, empty when not given.
    pub unit: String,
}

/// Metadata with the labels of the target that exposed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetMetadata {
    /// The target's labels.
    pub target: BTreeMap<String, String>,
    /// What it exposed.
    pub metadata: MetricMetadata,
}

/// Scrape targets and what they exposed.
pub trait TargetsProvider: Send + Sync {
    /// Every active target.
    fn active_targets(&self) -> Vec<TargetInfo>;
    /// The dropped targets that are kept for display (bounded by
    /// `keep_dropped_targets`).
    fn dropped_targets(&self) -> Vec<DroppedTargetInfo>;
    /// How many targets each pool dropped in total.
    fn dropped_target_counts(&self) -> BTreeMap<String, u64>;
    /// Names of the scrape pools (jobs).
    fn scrape_pools(&self) -> Vec<String>;
    /// Metadata of every active target.
    fn metadata(&self) -> Vec<TargetMetadata>;
}

/// Filters of `/api/v1/rules`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RulesFilter {
    /// `type`: `alert`, `record` or empty for both.
    pub rule_type: String,
    /// `rule_name[]`.
    pub rule_names: Vec<String>,
    /// `rule_group[]`.
    pub rule_groups: Vec<String>,
    /// `file[]`.
    pub files: Vec<String>,
    /// `exclude_alerts`.
    pub exclude_alerts: bool,
}

/// Rule groups and the alerts they hold.
pub trait RulesProvider: Send + Sync {
    /// The `data` of `/api/v1/rules` (an object with `groups`).
    fn rules(&self, filter: &RulesFilter) -> serde_json::Value;
    /// The `data` of `/api/v1/alerts` (an object with `alerts`).
    fn alerts(&self) -> serde_json::Value;
}

/// The configuration the server runs with.
pub trait ConfigProvider: Send + Sync {
    /// The effective configuration as YAML, secrets shown as `<secret>`.
    fn config_yaml(&self) -> String;
    /// Whether the last reload succeeded, and when the config was loaded (ms).
    fn last_reload(&self) -> (bool, i64);
}
