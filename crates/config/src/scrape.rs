//! `scrape_configs` entries and the per-job defaults they inherit from `global`.

use crate::error::Problem;
use crate::global::GlobalConfig;
use crate::http::{HttpClientConfig, http_struct};
use crate::paths::join_dir;
use crate::sd::{FileSdConfig, StaticConfig, TargetGroup, sd_kinds, static_target_groups};
use crate::types::{
    ByteSize, Duration, ValidationScheme, default_true, is_zero_bytes, is_zero_u64, null_default,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use watchfire_model::{Labels, LabelsBuilder};
use watchfire_relabel::RelabelConfig;

/// Content types a scrape may negotiate, by Prometheus' protocol name.
pub const SCRAPE_PROTOCOLS: [(&str, &str); 5] = [
    (
        "OpenMetricsText0.0.1",
        "application/openmetrics-text;version=0.0.1",
    ),
    (
        "OpenMetricsText1.0.0",
        "application/openmetrics-text;version=1.0.0",
    ),
    (
        "PrometheusProto",
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
    ),
    ("PrometheusText0.0.4", "text/plain;version=0.0.4"),
    ("PrometheusText1.0.0", "text/plain;version=1.0.0"),
];

const DEFAULT_PROTOCOLS: [&str; 4] = [
    "OpenMetricsText1.0.0",
    "OpenMetricsText0.0.1",
    "PrometheusText1.0.0",
    "PrometheusText0.0.4",
];

fn validate_protocol(p: &str) -> Result<(), String> {
    if SCRAPE_PROTOCOLS.iter().any(|(n, _)| *n == p) {
        return Ok(());
    }
    let names: Vec<&str> = SCRAPE_PROTOCOLS.iter().map(|(n, _)| *n).collect();
    Err(format!(
        "unknown scrape protocol {p}, supported: [{}]",
        names.join(" ")
    ))
}

/// Prometheus' checks on a `scrape_protocols` list.
pub(crate) fn validate_protocols(list: &[String]) -> Result<(), String> {
    if list.is_empty() {
        return Err("scrape_protocols cannot be empty".into());
    }
    let mut seen: Vec<String> = Vec::new();
    for p in list {
        let lower = p.to_lowercase();
        if seen.contains(&lower) {
            return Err(format!(
                "duplicated protocol in scrape_protocols, got [{}]",
                list.join(" ")
            ));
        }
        validate_protocol(p).map_err(|e| format!("scrape_protocols: {e}"))?;
        seen.push(lower);
    }
    Ok(())
}

sd_kinds! { http_struct! {
    http2_default = "crate::http::http2_on";
    /// One scrape job. After loading, the inherited fields (interval, timeout, limits,
    /// protocols) hold their effective values.
    #[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    pub struct ScrapeConfig {
        /// Job name, the default `job` label; unique across the configuration.
        #[serde(default, deserialize_with = "null_default")]
        pub job_name: String,
        /// Keep scraped labels that clash with target labels.
        #[serde(default, deserialize_with = "null_default")]
        pub honor_labels: bool,
        /// Use timestamps the target exposes (default true).
        #[serde(default = "default_true")]
        pub honor_timestamps: bool,
        /// Mark series stale when exposed timestamps stop.
        #[serde(default, deserialize_with = "null_default")]
        pub track_timestamps_staleness: bool,
        /// URL query parameters.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
        pub params: BTreeMap<String, Vec<String>>,
        /// Scrape interval (inherits `global.scrape_interval`).
        #[serde(default)]
        pub scrape_interval: Duration,
        /// Scrape timeout (inherits, capped at the interval).
        #[serde(default)]
        pub scrape_timeout: Duration,
        /// Content types to negotiate, most preferred first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub scrape_protocols: Option<Vec<String>>,
        /// Parser to use when the response's content type is missing or unknown.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
        pub fallback_scrape_protocol: String,
        /// Scrape native histograms (inherits).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub scrape_native_histograms: Option<bool>,
        /// Also keep classic histograms (inherits).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub always_scrape_classic_histograms: Option<bool>,
        /// Convert classic histograms to NHCB (inherits).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub convert_classic_histograms_to_nhcb: Option<bool>,
        /// Scrape failure log (accepted, not written).
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
        pub scrape_failure_log_file: String,
        /// HTTP path (default `/metrics`).
        #[serde(default = "default_metrics_path", deserialize_with = "null_default")]
        pub metrics_path: String,
        /// `http` (default) or `https`.
        #[serde(default = "default_scheme", deserialize_with = "null_default")]
        pub scheme: String,
        /// Ask for compressed responses (default true).
        #[serde(default = "default_true")]
        pub enable_compression: bool,
        /// Uncompressed body size limit (inherits; 0: none).
        #[serde(default, skip_serializing_if = "is_zero_bytes")]
        pub body_size_limit: ByteSize,
        /// Samples per scrape limit (inherits; 0: none).
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero_u64")]
        pub sample_limit: u64,
        /// Targets per job limit (inherits; 0: none).
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero_u64")]
        pub target_limit: u64,
        /// Labels per series limit (inherits; 0: none).
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero_u64")]
        pub label_limit: u64,
        /// Label name length limit (inherits; 0: none).
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero_u64")]
        pub label_name_length_limit: u64,
        /// Label value length limit (inherits; 0: none).
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero_u64")]
        pub label_value_length_limit: u64,
        /// Native histogram bucket limit (0: none).
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero_u64")]
        pub native_histogram_bucket_limit: u64,
        /// Native histogram minimum bucket growth factor.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero_f64")]
        pub native_histogram_min_bucket_factor: f64,
        /// Dropped targets kept for the UI (inherits; 0: all).
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero_u64")]
        pub keep_dropped_targets: u64,
        /// `utf8` or `legacy` (inherits).
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
        pub metric_name_validation_scheme: String,
        /// Escaping requested from targets (inherits).
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
        pub metric_name_escaping_scheme: String,
        /// Extra scrape metrics (inherits).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub extra_scrape_metrics: Option<bool>,
        /// Target relabeling.
        #[serde(default, deserialize_with = "crate::types::non_null_seq::<_, _, crate::types::NullTargetRelabel>", skip_serializing_if = "Vec::is_empty")]
        pub relabel_configs: Vec<RelabelConfig>,
        /// Relabeling of scraped series.
        #[serde(default, deserialize_with = "crate::types::non_null_seq::<_, _, crate::types::NullMetricRelabel>", skip_serializing_if = "Vec::is_empty")]
        pub metric_relabel_configs: Vec<RelabelConfig>,
        /// Static target groups.
        #[serde(default, deserialize_with = "crate::types::non_null_seq::<_, _, crate::types::NullStatic>", skip_serializing_if = "Vec::is_empty")]
        pub static_configs: Vec<StaticConfig>,
        /// File-based discovery.
        #[serde(default, deserialize_with = "crate::types::non_null_seq::<_, _, crate::types::NullFileSd>", skip_serializing_if = "Vec::is_empty")]
        pub file_sd_configs: Vec<FileSdConfig>,
    }
} }

fn is_zero_f64(f: &f64) -> bool {
    *f == 0.0
}

fn default_metrics_path() -> String {
    "/metrics".into()
}

fn default_scheme() -> String {
    "http".into()
}

impl ScrapeConfig {
    /// Static target groups, sourced `"0"`, `"1"`, ... by index.
    pub fn static_target_groups(&self) -> Vec<TargetGroup> {
        static_target_groups(&self.static_configs)
    }

    /// The effective name validation scheme.
    pub fn validation_scheme(&self) -> ValidationScheme {
        if self.metric_name_validation_scheme == "legacy" {
            ValidationScheme::Legacy
        } else {
            ValidationScheme::Utf8
        }
    }

    /// Whether native histograms are scraped.
    pub fn scrape_native_histograms_enabled(&self) -> bool {
        self.scrape_native_histograms == Some(true)
    }

    /// Prometheus' per-job checks, filling inherited values from `global`. `path` is
    /// this job's field path, e.g. `scrape_configs[2]`.
    pub(crate) fn validate(&mut self, global: &GlobalConfig, path: &str) -> Result<(), Problem> {
        let job = self.job_name.clone();
        let at = |field: &str, m: String| {
            let p = if field.is_empty() {
                path.to_owned()
            } else {
                format!("{path}.{field}")
            };
            Problem::new(p, m)
        };
        if job.is_empty() {
            return Err(at("job_name", "job_name is empty".into()));
        }
        self.with_http_client(HttpClientConfig::validate)
            .map_err(|m| at("", m))?;
        if !matches!(self.scheme.as_str(), "http" | "https") {
            return Err(at(
                "scheme",
                format!(
                    "invalid scheme {:?} for scrape config with job name {job:?}, must be \"http\" or \"https\"",
                    self.scheme
                ),
            ));
        }
        validate_target_sections(
            &self.static_configs,
            &self.file_sd_configs,
            self.relabel_configs.is_empty(),
        )
        .map_err(|(f, m)| at(&f, m))?;
        for (kind, list) in self.unimplemented_sd_configs() {
            for (i, v) in list.iter().enumerate() {
                crate::sd::validate_opaque(kind, &v.0)
                    .map_err(|m| at(&format!("{kind}[{i}]"), m))?;
            }
        }

        // Inheritance from `global`, in Prometheus' order.
        if self.scrape_interval.0 == 0 {
            self.scrape_interval = global.scrape_interval;
        }
        if self.scrape_timeout > self.scrape_interval {
            return Err(at(
                "scrape_timeout",
                format!(
                    "scrape timeout greater than scrape interval for scrape config with job name {job:?}"
                ),
            ));
        }
        if self.scrape_timeout.0 == 0 {
            self.scrape_timeout = global.scrape_timeout.min(self.scrape_interval);
        }
        if self.body_size_limit.0 == 0 {
            self.body_size_limit = global.body_size_limit;
        }
        for (mine, theirs) in [
            (&mut self.sample_limit, global.sample_limit),
            (&mut self.target_limit, global.target_limit),
            (&mut self.label_limit, global.label_limit),
            (
                &mut self.label_name_length_limit,
                global.label_name_length_limit,
            ),
            (
                &mut self.label_value_length_limit,
                global.label_value_length_limit,
            ),
            (&mut self.keep_dropped_targets, global.keep_dropped_targets),
        ] {
            if *mine == 0 {
                *mine = theirs;
            }
        }
        if self.scrape_failure_log_file.is_empty() {
            self.scrape_failure_log_file = global.scrape_failure_log_file.clone();
        }
        if self.scrape_native_histograms.is_none() {
            self.scrape_native_histograms = Some(global.scrape_native_histograms.unwrap_or(false));
        }
        if self.extra_scrape_metrics.is_none() {
            self.extra_scrape_metrics = Some(global.extra_scrape_metrics);
        }
        if self.scrape_protocols.is_none() {
            self.scrape_protocols = Some(match &global.scrape_protocols {
                Some(p) => p.clone(),
                None if self.scrape_native_histograms_enabled() => {
                    let mut v = vec!["PrometheusProto".to_owned()];
                    v.extend(DEFAULT_PROTOCOLS.iter().map(|s| (*s).to_owned()));
                    v
                }
                None => DEFAULT_PROTOCOLS.iter().map(|s| (*s).to_owned()).collect(),
            });
        }
        if let Some(p) = &self.scrape_protocols {
            validate_protocols(p).map_err(|m| {
                at(
                    "scrape_protocols",
                    format!("{m} for scrape config with job name {job:?}"),
                )
            })?;
        }
        if !self.fallback_scrape_protocol.is_empty() {
            validate_protocol(&self.fallback_scrape_protocol).map_err(|m| {
                at(
                    "fallback_scrape_protocol",
                    format!("invalid fallback_scrape_protocol for scrape config with job name {job:?}: {m}"),
                )
            })?;
        }
        self.validate_name_schemes(global)
            .map_err(|(f, m)| at(&f, m))?;
        if self.convert_classic_histograms_to_nhcb.is_none() {
            self.convert_classic_histograms_to_nhcb =
                Some(global.convert_classic_histograms_to_nhcb);
        }
        if self.always_scrape_classic_histograms.is_none() {
            self.always_scrape_classic_histograms = Some(global.always_scrape_classic_histograms);
        }
        let scheme = self.validation_scheme().relabel();
        for (field, list) in [
            ("relabel_configs", &self.relabel_configs),
            ("metric_relabel_configs", &self.metric_relabel_configs),
        ] {
            for (i, r) in list.iter().enumerate() {
                r.validate_with(scheme)
                    .map_err(|e| at(&format!("{field}[{i}]"), e.to_string()))?;
            }
        }
        Ok(())
    }

    fn validate_name_schemes(&mut self, global: &GlobalConfig) -> Result<(), (String, String)> {
        let local_unset = self.metric_name_validation_scheme.is_empty();
        match self.metric_name_validation_scheme.as_str() {
            "" => self.metric_name_validation_scheme = global.validation_scheme_name().into(),
            "utf8" | "legacy" => {}
            other => {
                return Err((
                    "metric_name_validation_scheme".into(),
                    format!(
                        "unknown scrape config name validation method specified, must be either '', 'legacy' or 'utf8', got {other}"
                    ),
                ));
            }
        }
        let global_escaping = match global.metric_name_escaping_scheme.as_str() {
            "" if global.validation_scheme() == ValidationScheme::Legacy => "underscores",
            "" => "allow-utf-8",
            other => other,
        };
        if self.metric_name_escaping_scheme.is_empty() {
            self.metric_name_escaping_scheme = if local_unset {
                global_escaping.to_owned()
            } else if self.validation_scheme() == ValidationScheme::Legacy {
                "underscores".to_owned()
            } else {
                "allow-utf-8".to_owned()
            };
        }
        match self.metric_name_escaping_scheme.as_str() {
            "allow-utf-8" => {
                if self.validation_scheme() != ValidationScheme::Utf8 {
                    return Err((
                        "metric_name_escaping_scheme".into(),
                        "utf8 metric names requested but validation scheme is not set to UTF8"
                            .into(),
                    ));
                }
            }
            "underscores" | "dots" | "values" => {}
            other => {
                return Err((
                    "metric_name_escaping_scheme".into(),
                    format!(
                        "unknown scrape config name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {other:?}"
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn set_directory(&mut self, dir: &Path) {
        self.with_http_client(|h| h.resolve_paths(|f| join_dir(dir, f)));
        self.scrape_failure_log_file = join_dir(dir, &self.scrape_failure_log_file);
        for f in &mut self.file_sd_configs {
            for file in &mut f.files {
                *file = join_dir(dir, file);
            }
        }
    }

    /// Builds a target's labels the way Prometheus does before scraping: target
    /// labels over group labels, then `job`, `__scrape_interval__`,
    /// `__scrape_timeout__`, `__metrics_path__`, `__scheme__` and `__param_*` defaults,
    /// then target relabeling, then the address and interval checks, dropping `__meta_*`
    /// and defaulting `instance` to the address. `Ok(None)`: relabeling dropped it.
    pub fn populate_target_labels(
        &self,
        target: &BTreeMap<String, String>,
        group_labels: &BTreeMap<String, String>,
    ) -> Result<Option<Labels>, String> {
        let mut b = LabelsBuilder::new();
        for (k, v) in group_labels {
            b.set(k.as_str(), v.as_str());
        }
        for (k, v) in target {
            b.set(k.as_str(), v.as_str());
        }
        let base = b.build();
        let mut defaults: Vec<(String, String)> = vec![
            ("job".into(), self.job_name.clone()),
            (
                "__scrape_interval__".into(),
                self.scrape_interval.to_string(),
            ),
            ("__scrape_timeout__".into(), self.scrape_timeout.to_string()),
            ("__metrics_path__".into(), self.metrics_path.clone()),
            ("__scheme__".into(), self.scheme.clone()),
        ];
        for (k, v) in &self.params {
            if let Some(first) = v.first() {
                defaults.push((format!("__param_{k}"), first.clone()));
            }
        }
        for (k, v) in defaults {
            if base.get(&k).is_none_or(str::is_empty) {
                b.set(k, v);
            }
        }
        if !watchfire_relabel::process_builder(&self.relabel_configs, &mut b) {
            return Ok(None);
        }
        let labels = b.build();
        let addr = labels.get("__address__").unwrap_or_default().to_owned();
        if addr.is_empty() {
            return Err("no address".into());
        }
        check_target_address(&addr)?;
        let interval = labels.get("__scrape_interval__").unwrap_or_default();
        let interval_ms = watchfire_model::parse_duration_ms(interval).ok_or_else(|| {
            format!("error parsing scrape interval: not a valid duration string: {interval:?}")
        })?;
        if interval_ms == 0 {
            return Err("scrape interval cannot be 0".into());
        }
        let timeout = labels.get("__scrape_timeout__").unwrap_or_default();
        let timeout_ms = watchfire_model::parse_duration_ms(timeout).ok_or_else(|| {
            format!("error parsing scrape timeout: not a valid duration string: {timeout:?}")
        })?;
        if timeout_ms == 0 {
            return Err("scrape timeout cannot be 0".into());
        }
        if timeout_ms > interval_ms {
            return Err(format!(
                "scrape timeout cannot be greater than scrape interval ({timeout:?} > {interval:?})"
            ));
        }
        let mut out = labels.to_builder();
        for l in labels.iter() {
            if l.name.starts_with("__meta_") {
                out.delete(&l.name);
            }
        }
        if labels.get("instance").is_none() {
            out.set("instance", addr);
        }
        Ok(Some(out.build()))
    }
}

impl GlobalConfig {
    fn validation_scheme_name(&self) -> &'static str {
        match self.validation_scheme() {
            ValidationScheme::Legacy => "legacy",
            ValidationScheme::Utf8 => "utf8",
        }
    }
}

/// Prometheus' `CheckTargetAddress`: an address with a `/` is a URL, not a host.
pub fn check_target_address(addr: &str) -> Result<(), String> {
    if addr.contains('/') {
        return Err(format!("{addr:?} is not a valid hostname"));
    }
    Ok(())
}

/// Shared checks on `static_configs`/`file_sd_configs` of scrape jobs and
/// Alertmanager sections. Returns (field, message).
pub(crate) fn validate_target_sections(
    statics: &[StaticConfig],
    files: &[FileSdConfig],
    no_relabeling: bool,
) -> Result<(), (String, String)> {
    for (i, s) in statics.iter().enumerate() {
        crate::sd::validate_group_labels(&s.labels)
            .map_err(|(l, m)| (format!("static_configs[{i}].labels.{l}"), m))?;
        if no_relabeling {
            for (j, t) in s.targets.iter().enumerate() {
                check_target_address(t)
                    .map_err(|m| (format!("static_configs[{i}].targets[{j}]"), m))?;
            }
        }
    }
    for (i, f) in files.iter().enumerate() {
        f.validate()
            .map_err(|m| (format!("file_sd_configs[{i}]"), m))?;
    }
    Ok(())
}
