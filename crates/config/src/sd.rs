//! Target groups: `static_configs`, `file_sd_configs` and the discovery kinds
//! Watchfire accepts but does not run.

use crate::error::{ConfigError, Problem};
use crate::types::{Duration, null_default};
use crate::{locate, parse};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::path::Path;

/// A group of targets sharing labels, as service discovery produces them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetGroup {
    /// Target addresses (`host:port`), each becoming `__address__`.
    pub targets: Vec<String>,
    /// Labels shared by all targets of the group.
    pub labels: BTreeMap<String, String>,
    /// Identifies the group within its provider: the index for static configs,
    /// `file:index` for file SD.
    pub source: String,
}

/// One entry of `static_configs` (also the shape of a file SD group).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    /// Target addresses.
    #[serde(default, deserialize_with = "null_default")]
    pub targets: Vec<String>,
    /// Labels for every target of the group.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
}

/// `file_sd_configs` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileSdConfig {
    /// Glob patterns of target files (`.json`, `.yml`, `.yaml`).
    #[serde(default, deserialize_with = "null_default")]
    pub files: Vec<String>,
    /// How often to re-read the files (default 5m).
    #[serde(default = "default_file_sd_refresh")]
    pub refresh_interval: Duration,
}

fn default_file_sd_refresh() -> Duration {
    Duration::from_secs(300)
}

impl FileSdConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.files.is_empty() {
            return Err("file service discovery config must contain at least one path name".into());
        }
        for f in &self.files {
            if !is_valid_sd_file_pattern(f) {
                return Err(format!("path name {f:?} is not valid for file discovery"));
            }
        }
        Ok(())
    }
}

/// `^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`
fn is_valid_sd_file_pattern(f: &str) -> bool {
    let ext_ok = ["json", "yml", "yaml", "JSON", "YML", "YAML"]
        .iter()
        .any(|e| f.strip_suffix(e).is_some_and(|s| s.ends_with('.')));
    ext_ok && crate::paths::is_valid_file_pattern(f)
}

/// Converts static configs into target groups, sourced `"0"`, `"1"`, ... by index
/// like Prometheus.
pub fn static_target_groups(configs: &[StaticConfig]) -> Vec<TargetGroup> {
    configs
        .iter()
        .enumerate()
        .map(|(i, c)| TargetGroup {
            targets: c.targets.clone(),
            labels: c.labels.clone(),
            source: i.to_string(),
        })
        .collect()
}

/// Checks label names of a group (Prometheus 3 UTF-8 rules: names must be
/// non-empty; values are valid UTF-8 by construction). The error carries the
/// offending name.
pub(crate) fn validate_group_labels(
    labels: &BTreeMap<String, String>,
) -> Result<(), (String, String)> {
    for name in labels.keys() {
        if name.is_empty() {
            return Err((name.clone(), format!("{name:?} is not a valid label name")));
        }
    }
    Ok(())
}

/// Reads a file SD target file (JSON for `.json`, YAML otherwise), validated like
/// Prometheus: only `targets` and `labels` keys, valid label names, no null groups.
/// Each group gets `__meta_filepath` and the source `path:index`.
pub fn load_file_sd(path: &Path) -> Result<Vec<TargetGroup>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        file: path.to_owned(),
        source,
    })?;
    let name = path.to_string_lossy().into_owned();
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let groups: Vec<Option<StaticConfig>> = if is_json {
        serde_json::from_str(&text).map_err(|e| {
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
            ConfigError::invalid(
                &name,
                Some(e.line() as u64),
                Some(e.column() as u64),
                "",
                msg,
            )
        })?
    } else {
        parse::from_yaml(&text, &name)?
    };
    let mut out = Vec::with_capacity(groups.len());
    for (i, g) in groups.into_iter().enumerate() {
        let path_str = format!("[{i}]");
        let Some(g) = g else {
            return Err(problem_at(
                &text,
                &name,
                Problem::new(path_str, "nil target group item found"),
            ));
        };
        if let Err((label, m)) = validate_group_labels(&g.labels) {
            return Err(problem_at(
                &text,
                &name,
                Problem::new(format!("{path_str}.labels.{label}"), m),
            ));
        }
        let mut labels = g.labels;
        labels.insert("__meta_filepath".into(), name.clone());
        out.push(TargetGroup {
            targets: g.targets,
            labels,
            source: format!("{name}:{i}"),
        });
    }
    Ok(out)
}

/// Positions a problem; JSON is YAML, so the YAML locator finds JSON positions too.
fn problem_at(text: &str, name: &str, p: Problem) -> ConfigError {
    let pos = locate::locate(text, &p.path);
    ConfigError::invalid(name, pos.map(|p| p.0), pos.map(|p| p.1), p.path, p.message)
}

/// A service discovery section Watchfire does not implement, kept as written so that
/// it round-trips into `/api/v1/status/config` (secret-looking fields redacted).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Opaque(pub serde_json::Value);

impl Serialize for Opaque {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        redacted(&self.0).serialize(s)
    }
}

/// Field names whose values Prometheus marks as secrets in the discovery configs.
const SECRET_KEYS: &[&str] = &[
    "password",
    "credentials",
    "token",
    "auth_token",
    "bearer_token",
    "secret_key",
    "client_secret",
    "key_passphrase",
    "application_secret",
    "consumer_key",
    "private_key",
    "service_account_key",
    "key",
];

fn redacted(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = if SECRET_KEYS.contains(&k.as_str()) && v.is_string() {
                        Value::String("<secret>".into())
                    } else {
                        redacted(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redacted).collect()),
        other => other.clone(),
    }
}

/// The few checks Prometheus makes on discovery kinds Watchfire does not run that are
/// cheap to repeat.
pub(crate) fn validate_opaque(kind: &str, v: &serde_json::Value) -> Result<(), String> {
    if v.is_null() {
        return Err(format!("empty or null section in {kind}"));
    }
    match kind {
        "ec2_sd_configs" => {
            for f in v
                .get("filters")
                .and_then(|f| f.as_array())
                .into_iter()
                .flatten()
            {
                let empty = match f.get("values") {
                    None | Some(serde_json::Value::Null) => true,
                    Some(serde_json::Value::Array(a)) => a.is_empty(),
                    Some(_) => false,
                };
                if empty {
                    return Err("EC2 SD configuration filter values cannot be empty".into());
                }
            }
        }
        "kubernetes_sd_configs" => {
            let mut seen = Vec::new();
            for s in v
                .get("selectors")
                .and_then(|s| s.as_array())
                .into_iter()
                .flatten()
            {
                let role = s.get("role").and_then(|r| r.as_str()).unwrap_or_default();
                if seen.contains(&role) {
                    return Err(format!("duplicated selector role: {role}"));
                }
                seen.push(role);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Appends the fields for discovery kinds Watchfire accepts without running them.
macro_rules! sd_kinds {
    ($callback:ident! { $($args:tt)* }) => {
        $callback! { $($args)* [
            azure_sd_configs, consul_sd_configs, digitalocean_sd_configs, docker_sd_configs,
            dockerswarm_sd_configs, dns_sd_configs, ec2_sd_configs, eureka_sd_configs,
            gce_sd_configs, hetzner_sd_configs, http_sd_configs, ionos_sd_configs,
            kubernetes_sd_configs, kuma_sd_configs, lightsail_sd_configs, linode_sd_configs,
            marathon_sd_configs, nerve_sd_configs, nomad_sd_configs, openstack_sd_configs,
            oci_sd_configs, outscale_sd_configs, ovhcloud_sd_configs, puppetdb_sd_configs,
            scaleway_sd_configs, serverset_sd_configs, stackit_sd_configs, triton_sd_configs,
            uyuni_sd_configs, vultr_sd_configs
        ] }
    };
}
pub(crate) use sd_kinds;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sd_file_patterns() {
        assert!(is_valid_sd_file_pattern("foo/*.slow.json"));
        assert!(is_valid_sd_file_pattern("single/file.yml"));
        assert!(is_valid_sd_file_pattern("x.YAML"));
        assert!(!is_valid_sd_file_pattern("x.txt"));
        assert!(!is_valid_sd_file_pattern("a/*/b.yml"));
    }

    #[test]
    fn opaque_redaction() {
        let v: serde_json::Value = serde_json::json!({"server": "x", "token": "s", "tls_config": {"key": "k"}, "n": [{"password": "p"}]});
        let out = serde_json::to_value(Opaque(v)).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"server": "x", "token": "<secret>", "tls_config": {"key": "<secret>"}, "n": [{"password": "<secret>"}]})
        );
    }
}
