//! The `global` section.

use crate::types::{
    ByteSize, Duration, ValidationScheme, is_false, is_zero_bytes, is_zero_duration, is_zero_u64,
    null_default,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Defaults for every other section.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalConfig {
    /// Default scrape interval (1m).
    #[serde(default)]
    pub scrape_interval: Duration,
    /// Default scrape timeout (10s, at most the interval).
    #[serde(default)]
    pub scrape_timeout: Duration,
    /// Default content types to negotiate, most preferred first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_protocols: Option<Vec<String>>,
    /// Default rule evaluation interval (1m).
    #[serde(default)]
    pub evaluation_interval: Duration,
    /// Default offset of rule query timestamps into the past.
    #[serde(default, skip_serializing_if = "is_zero_duration")]
    pub rule_query_offset: Duration,
    /// PromQL query log file; accepted but not written by Watchfire.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub query_log_file: String,
    /// Scrape failure log file; accepted but not written by Watchfire.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub scrape_failure_log_file: String,
    /// Labels added to series and alerts leaving this server (values have `$VAR`
    /// environment references expanded).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub external_labels: BTreeMap<String, String>,
    /// Default limit on uncompressed scrape body size (0: none).
    #[serde(default, skip_serializing_if = "is_zero_bytes")]
    pub body_size_limit: ByteSize,
    /// Default per-scrape sample limit (0: none).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero_u64"
    )]
    pub sample_limit: u64,
    /// Default per-job target limit (0: none).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero_u64"
    )]
    pub target_limit: u64,
    /// Default per-series label count limit (0: none).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero_u64"
    )]
    pub label_limit: u64,
    /// Default label name length limit (0: none).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero_u64"
    )]
    pub label_name_length_limit: u64,
    /// Default label value length limit (0: none).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero_u64"
    )]
    pub label_value_length_limit: u64,
    /// Default number of dropped targets kept for the UI (0: all).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero_u64"
    )]
    pub keep_dropped_targets: u64,
    /// `utf8` (default) or `legacy`.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub metric_name_validation_scheme: String,
    /// Escaping requested from targets: `allow-utf-8`, `underscores`, `dots`, `values`.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub metric_name_escaping_scheme: String,
    /// Default for scraping native histograms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_native_histograms: Option<bool>,
    /// Default for converting classic histograms to NHCB.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub convert_classic_histograms_to_nhcb: bool,
    /// Default for scraping classic histograms alongside native ones.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub always_scrape_classic_histograms: bool,
    /// Default for the extra scrape metrics.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub extra_scrape_metrics: bool,
}

impl GlobalConfig {
    /// The defaults Prometheus uses when `global` is absent.
    pub fn prometheus_defaults() -> Self {
        let mut g = GlobalConfig::default();
        // Defaults cannot fail validation.
        let _ = g.normalize();
        g
    }

    /// The name validation scheme in force.
    pub fn validation_scheme(&self) -> ValidationScheme {
        if self.metric_name_validation_scheme == "legacy" {
            ValidationScheme::Legacy
        } else {
            ValidationScheme::Utf8
        }
    }

    /// Fills defaults and validates; errors name the offending field.
    pub(crate) fn normalize(&mut self) -> Result<(), (String, String)> {
        let err = |f: &str, m: String| Err((f.to_owned(), m));
        match self.metric_name_validation_scheme.as_str() {
            "" => self.metric_name_validation_scheme = "utf8".into(),
            "utf8" | "legacy" => {}
            other => {
                return err(
                    "metric_name_validation_scheme",
                    format!(
                        "unrecognized name validation scheme {other:?}, must be 'utf8' or 'legacy'"
                    ),
                );
            }
        }
        let scheme = self.validation_scheme();
        let mut expanded = BTreeMap::new();
        for (name, value) in &self.external_labels {
            if !scheme.is_valid_label_name(name) {
                return err(
                    "external_labels",
                    format!("{name:?} is not a valid label name"),
                );
            }
            expanded.insert(name.clone(), crate::types::expand_env(value));
        }
        self.external_labels = expanded;
        if self.scrape_interval.0 == 0 {
            self.scrape_interval = Duration::from_secs(60);
        }
        if self.scrape_timeout > self.scrape_interval {
            return err(
                "scrape_timeout",
                "global scrape timeout greater than scrape interval".into(),
            );
        }
        if self.scrape_timeout.0 == 0 {
            self.scrape_timeout = Duration::from_secs(10).min(self.scrape_interval);
        }
        if self.evaluation_interval.0 == 0 {
            self.evaluation_interval = Duration::from_secs(60);
        }
        if let Some(p) = &self.scrape_protocols {
            crate::scrape::validate_protocols(p).map_err(|m| {
                (
                    "scrape_protocols".to_owned(),
                    format!("{m} for global config"),
                )
            })?;
        }
        match self.metric_name_escaping_scheme.as_str() {
            "" | "allow-utf-8" | "underscores" | "dots" | "values" => {}
            other => {
                return err(
                    "metric_name_escaping_scheme",
                    format!(
                        "unknown global name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {other:?}"
                    ),
                );
            }
        }
        Ok(())
    }
}
