//! The `alerting` section.

use crate::error::Problem;
use crate::http::{HttpClientConfig, http_struct};
use crate::paths::join_dir;
use crate::sd::{FileSdConfig, Opaque, StaticConfig, TargetGroup, sd_kinds, static_target_groups};
use crate::types::{Duration, ValidationScheme, null_default};
use serde::{Deserialize, Serialize};
use std::path::Path;
use watchfire_relabel::RelabelConfig;

/// Where alerts go and how they are relabeled on the way.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingConfig {
    /// Relabeling applied to every alert before sending.
    #[serde(
        default,
        deserialize_with = "crate::types::non_null_seq::<_, _, crate::types::NullAlertRelabel>",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    /// Alertmanager sets.
    #[serde(
        default,
        deserialize_with = "crate::types::non_null_seq::<_, _, crate::types::NullAlertmanager>",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

sd_kinds! { http_struct! {
    http2_default = "crate::http::http2_on";
    /// One set of Alertmanagers.
    #[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    pub struct AlertmanagerConfig {
        /// `http` (default) or `https`.
        #[serde(default = "default_scheme", deserialize_with = "null_default")]
        pub scheme: String,
        /// Prefix of the API path.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
        pub path_prefix: String,
        /// Send timeout (default 10s).
        #[serde(default = "default_timeout")]
        pub timeout: Duration,
        /// Only `v2` is supported, as in Prometheus 3.
        #[serde(default = "default_api_version", deserialize_with = "null_default")]
        pub api_version: String,
        /// Relabeling of discovered Alertmanager targets.
        #[serde(default, deserialize_with = "crate::types::non_null_seq::<_, _, crate::types::NullAmTargetRelabel>", skip_serializing_if = "Vec::is_empty")]
        pub relabel_configs: Vec<RelabelConfig>,
        /// Relabeling of alerts sent to this set.
        #[serde(default, deserialize_with = "crate::types::non_null_seq::<_, _, crate::types::NullAmAlertRelabel>", skip_serializing_if = "Vec::is_empty")]
        pub alert_relabel_configs: Vec<RelabelConfig>,
        /// AWS SigV4 signing (accepted, not implemented).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sigv4: Option<Opaque>,
        /// Static Alertmanager addresses.
        #[serde(default, deserialize_with = "crate::types::non_null_seq::<_, _, crate::types::NullStatic>", skip_serializing_if = "Vec::is_empty")]
        pub static_configs: Vec<StaticConfig>,
        /// File-based discovery of Alertmanagers.
        #[serde(default, deserialize_with = "crate::types::non_null_seq::<_, _, crate::types::NullFileSd>", skip_serializing_if = "Vec::is_empty")]
        pub file_sd_configs: Vec<FileSdConfig>,
    }
} }

fn default_scheme() -> String {
    "http".into()
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_api_version() -> String {
    "v2".into()
}

impl AlertingConfig {
    pub(crate) fn validate(&mut self, scheme: ValidationScheme) -> Result<(), Problem> {
        for (i, r) in self.alert_relabel_configs.iter().enumerate() {
            let path = format!("alerting.alert_relabel_configs[{i}]");
            r.validate_with(scheme.relabel())
                .map_err(|e| Problem::new(path, e.to_string()))?;
        }
        for (i, am) in self.alertmanagers.iter_mut().enumerate() {
            am.validate(scheme, &format!("alerting.alertmanagers[{i}]"))?;
        }
        Ok(())
    }

    pub(crate) fn set_directory(&mut self, dir: &Path) {
        for am in &mut self.alertmanagers {
            am.with_http_client(|h| h.resolve_paths(|f| join_dir(dir, f)));
            for f in &mut am.file_sd_configs {
                for file in &mut f.files {
                    *file = join_dir(dir, file);
                }
            }
        }
    }
}

impl AlertmanagerConfig {
    /// Static target groups, sourced `"0"`, `"1"`, ... by index.
    pub fn static_target_groups(&self) -> Vec<TargetGroup> {
        static_target_groups(&self.static_configs)
    }

    /// The API path alerts are POSTed to: `<path_prefix>/api/v2/alerts`.
    pub fn alerts_path(&self) -> String {
        format!(
            "{}/api/{}/alerts",
            self.path_prefix.trim_end_matches('/'),
            self.api_version
        )
    }

    fn validate(&mut self, scheme: ValidationScheme, path: &str) -> Result<(), Problem> {
        let at = |field: &str, m: String| {
            let p = if field.is_empty() {
                path.to_owned()
            } else {
                format!("{path}.{field}")
            };
            Problem::new(p, m)
        };
        if self.api_version != "v2" {
            return Err(at(
                "api_version",
                format!(
                    "expected Alertmanager api version to be one of [v2] but got {}",
                    self.api_version
                ),
            ));
        }
        if !matches!(self.scheme.as_str(), "http" | "https") {
            return Err(at(
                "scheme",
                format!(
                    "invalid scheme {:?}, must be \"http\" or \"https\"",
                    self.scheme
                ),
            ));
        }
        self.with_http_client(HttpClientConfig::validate)
            .map_err(|m| at("", m))?;
        let has_auth =
            self.basic_auth.is_some() || self.authorization.is_some() || self.oauth2.is_some();
        if has_auth && self.sigv4.is_some() {
            return Err(at(
                "",
                "at most one of basic_auth, authorization, oauth2, & sigv4 must be configured"
                    .into(),
            ));
        }
        crate::scrape::validate_target_sections(
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
        for (field, list) in [
            ("relabel_configs", &self.relabel_configs),
            ("alert_relabel_configs", &self.alert_relabel_configs),
        ] {
            for (i, r) in list.iter().enumerate() {
                r.validate_with(scheme.relabel())
                    .map_err(|e| at(&format!("{field}[{i}]"), e.to_string()))?;
            }
        }
        Ok(())
    }

    /// The label set of one Alertmanager target after relabeling, as Prometheus'
    /// notifier builds it (`__scheme__`, `__alerts_path__` set first). `Ok(None)` when
    /// relabeling dropped it.
    pub fn populate_target_labels(
        &self,
        target: &str,
        group_labels: &std::collections::BTreeMap<String, String>,
    ) -> Result<Option<watchfire_model::Labels>, String> {
        let mut b = watchfire_model::LabelsBuilder::new();
        for (k, v) in group_labels {
            b.set(k.as_str(), v.as_str());
        }
        b.set("__address__", target);
        b.set("__scheme__", self.scheme.as_str());
        b.set("__alerts_path__", self.alerts_path());
        if !watchfire_relabel::process_builder(&self.relabel_configs, &mut b) {
            return Ok(None);
        }
        let labels = b.build();
        let addr = labels.get("__address__").unwrap_or_default();
        crate::scrape::check_target_address(addr)?;
        Ok(Some(labels))
    }
}
