//! Watchfire's scraper, with Prometheus 3 semantics.
//!
//! # Pieces
//!
//! * [`ScrapeManager`] owns one pool per job. [`ScrapeManager::apply_config`] takes
//!   the jobs ([`ScrapePoolOptions`]) with their [`TargetGroup`]s; unchanged pools
//!   only resync targets, so loops of unchanged targets keep running with their
//!   caches; changed pools restart their loops and hand each cache to the new loop
//!   of the same target. [`ScrapeManager::update_targets`] feeds discovery updates
//!   ([`watch_file_sd`] does so for file SD).
//! * Targets are built like Prometheus' `PopulateLabels` ([`build_target`]):
//!   discovered labels, `relabel_configs`, `__meta_` labels removed, `instance`
//!   defaulting to `__address__`, no default port (Prometheus 3).
//! * Each target runs a loop (a Tokio task) at a stable offset within its interval
//!   derived from the target's hash; scrape timestamps within 2ms of the expected
//!   tick are aligned onto it so chunks compress.
//! * The append path ([`ScrapeCache::append`]) is synchronous and allocation-free
//!   per sample for series seen before: the cache is keyed by the raw
//!   `name{labels}` bytes of the line and holds the series reference and final
//!   labels. The parser is asked to skip the label set of known lines
//!   ([`watchfire_textparse::Parser::next_entry_skipping`]); the line that followed
//!   each series last time is checked before the hash index, and keys live in one
//!   arena in exposition order, so the steady state reads memory sequentially.
//!   Staleness is tracked with pass numbers rather than per-scrape sets.
//! * A scrape that fails (HTTP, timeout, body size, content type, parse error,
//!   sample or label limits, target limit) appends nothing from the body, marks
//!   every series of the previous scrape stale and reports `up` 0 with Prometheus'
//!   error text in [`TargetSnapshot::last_error`].
//!
//! Not supported: the protobuf exposition format (never advertised in `Accept`),
//! native histograms, exemplar storage, `scrape_classic_histograms` and other
//! histogram options, `extra_scrape_metrics`, and HTTP/3.
#![deny(missing_docs)]

mod cache;
mod error;
mod file_sd;
mod http;
mod keys;
mod manager;
mod metrics;
mod options;
mod scrape_loop;
mod target;

pub use cache::{
    AppendStats, Limits, MetricMetadata, SampleContext, ScrapeCache, mutate_sample_labels,
};
pub use error::ScrapeError;
pub use file_sd::{FileSdState, POLL_INTERVAL, expand_patterns, parse_file_sd, watch_file_sd};
pub use http::{ScrapeClient, accept_header, format_for_content_type, install_crypto_provider};
pub use manager::{ScrapeManager, TargetMetadata};
pub use metrics::ScrapeMetrics;
pub use options::{
    Authorization, BasicAuth, HttpClientOptions, OAuth2Options, ScrapeManagerOptions,
    ScrapePoolOptions, ScrapeProtocol, TargetGroup, TlsOptions,
};
pub use target::{
    ADDRESS_LABEL, BuiltTarget, DroppedTarget, INSTANCE_LABEL, JOB_LABEL, METRICS_PATH_LABEL,
    PARAM_LABEL_PREFIX, SCHEME_LABEL, SCRAPE_INTERVAL_LABEL, SCRAPE_TIMEOUT_LABEL, Target,
    TargetHealth, TargetSnapshot, build_target, discovered_labels, format_duration, target_url,
    targets_from_group,
};
