//! `remote_write` and `remote_read`: parsed and validated only.

use crate::error::Problem;
use crate::http::{HttpClientConfig, http_struct};
use crate::sd::Opaque;
use crate::types::{Duration, ValidationScheme, is_false, null_default};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use watchfire_relabel::RelabelConfig;

/// Headers remote storage configs may not set (Prometheus' reserved list).
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

fn validate_headers(headers: &BTreeMap<String, String>) -> Result<(), String> {
    for h in headers.keys() {
        let lower = h.to_ascii_lowercase();
        if lower == "authorization" {
            return Err("authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter".into());
        }
        if RESERVED_HEADERS.contains(&lower.as_str()) {
            return Err(format!("{h} is a reserved header. It must not be changed"));
        }
    }
    Ok(())
}

/// `queue_config` of a remote write endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Samples buffered per shard.
    pub capacity: i64,
    /// Maximum shards.
    pub max_shards: i64,
    /// Minimum shards.
    pub min_shards: i64,
    /// Samples per request.
    pub max_samples_per_send: i64,
    /// Longest a sample waits in the buffer.
    pub batch_send_deadline: Duration,
    /// Initial retry backoff.
    pub min_backoff: Duration,
    /// Maximum retry backoff.
    pub max_backoff: Duration,
    /// Retry on HTTP 429.
    #[serde(rename = "retry_on_http_429", skip_serializing_if = "is_false")]
    pub retry_on_rate_limit: bool,
    /// Samples older than this are dropped (0: never).
    pub sample_age_limit: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 10_000,
            max_shards: 50,
            min_shards: 1,
            max_samples_per_send: 2_000,
            batch_send_deadline: Duration::from_secs(5),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            retry_on_rate_limit: false,
            sample_age_limit: Duration(0),
        }
    }
}

impl QueueConfig {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.capacity <= 0 {
            return Err((
                "capacity",
                format!(
                    "queue_config capacity must be greater than 0, got {}",
                    self.capacity
                ),
            ));
        }
        if self.max_shards <= 0 {
            return Err((
                "max_shards",
                format!(
                    "queue_config max_shards must be greater than 0, got {}",
                    self.max_shards
                ),
            ));
        }
        if self.min_shards <= 0 {
            return Err((
                "min_shards",
                format!(
                    "queue_config min_shards must be greater than 0, got {}",
                    self.min_shards
                ),
            ));
        }
        if self.min_shards > self.max_shards {
            return Err((
                "min_shards",
                format!(
                    "queue_config min_shards ({}) must not be greater than max_shards ({})",
                    self.min_shards, self.max_shards
                ),
            ));
        }
        if self.max_samples_per_send <= 0 {
            return Err((
                "max_samples_per_send",
                format!(
                    "queue_config max_samples_per_send must be greater than 0, got {}",
                    self.max_samples_per_send
                ),
            ));
        }
        if self.max_backoff < self.min_backoff {
            return Err((
                "max_backoff",
                format!(
                    "queue_config max_backoff ({}) must not be less than min_backoff ({})",
                    self.max_backoff, self.min_backoff
                ),
            ));
        }
        Ok(())
    }
}

/// `metadata_config` of a remote write endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataConfig {
    /// Send metric metadata.
    pub send: bool,
    /// How often.
    pub send_interval: Duration,
    /// Metadata entries per request.
    pub max_samples_per_send: i64,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            send: true,
            send_interval: Duration::from_secs(60),
            max_samples_per_send: 2_000,
        }
    }
}

http_struct! {
    http2_default = "crate::http::http2_off";
    /// One `remote_write` endpoint.
    #[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    pub struct RemoteWriteConfig {
        /// Endpoint URL (required).
        #[serde(default, deserialize_with = "null_default")]
        pub url: String,
        /// Request timeout (default 30s).
        #[serde(default = "default_rw_timeout")]
        pub remote_timeout: Duration,
        /// Extra request headers.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
        pub headers: BTreeMap<String, String>,
        /// Relabeling before sending.
        #[serde(default, deserialize_with = "crate::types::non_null_seq::<_, _, crate::types::NullWriteRelabel>", skip_serializing_if = "Vec::is_empty")]
        pub write_relabel_configs: Vec<RelabelConfig>,
        /// Name, unique among remote writes.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
        pub name: String,
        /// Send exemplars.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_false")]
        pub send_exemplars: bool,
        /// Send native histograms.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_false")]
        pub send_native_histograms: bool,
        /// Resolve DNS to all addresses in turn.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_false")]
        pub round_robin_dns: bool,
        /// `prometheus.WriteRequest` (v1, default) or `io.prometheus.write.v2.Request`.
        #[serde(default = "default_protobuf_message", deserialize_with = "null_default")]
        pub protobuf_message: String,
        /// Queue tuning.
        #[serde(default, deserialize_with = "null_default")]
        pub queue_config: QueueConfig,
        /// Metadata sending.
        #[serde(default, deserialize_with = "null_default")]
        pub metadata_config: MetadataConfig,
        /// AWS SigV4 (accepted, not implemented).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sigv4: Option<Opaque>,
        /// Azure AD (accepted, not implemented).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub azuread: Option<Opaque>,
        /// Google IAM (accepted, not implemented).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub google_iam: Option<Opaque>,
    }
}

fn default_rw_timeout() -> Duration {
    Duration::from_secs(30)
}

fn default_protobuf_message() -> String {
    "prometheus.WriteRequest".into()
}

impl RemoteWriteConfig {
    pub(crate) fn validate(&mut self, scheme: ValidationScheme, path: &str) -> Result<(), Problem> {
        let at = |field: &str, m: String| {
            let p = if field.is_empty() {
                path.to_owned()
            } else {
                format!("{path}.{field}")
            };
            Problem::new(p, m)
        };
        if self.url.is_empty() {
            return Err(at("url", "url for remote_write is empty".into()));
        }
        for (i, r) in self.write_relabel_configs.iter().enumerate() {
            r.validate_with(scheme.relabel())
                .map_err(|e| at(&format!("write_relabel_configs[{i}]"), e.to_string()))?;
        }
        validate_headers(&self.headers).map_err(|m| at("headers", m))?;
        if !matches!(
            self.protobuf_message.as_str(),
            "prometheus.WriteRequest" | "io.prometheus.write.v2.Request"
        ) {
            return Err(at(
                "protobuf_message",
                format!(
                    "invalid protobuf_message value: unknown remote write protobuf message {}, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request",
                    self.protobuf_message
                ),
            ));
        }
        self.with_http_client(HttpClientConfig::validate)
            .map_err(|m| at("", m))?;
        let mut auth = Vec::new();
        for (set, name) in [
            (self.basic_auth.is_some(), "basic_auth"),
            (self.authorization.is_some(), "authorization"),
            (self.oauth2.is_some(), "oauth2"),
            (self.sigv4.is_some(), "sigv4"),
            (self.azuread.is_some(), "azuread"),
            (self.google_iam.is_some(), "google_iam"),
        ] {
            if set {
                auth.push(name);
            }
        }
        if auth.len() > 1 {
            return Err(at(
                "",
                format!(
                    "at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured. Currently configured: [{}]",
                    auth.join(" ")
                ),
            ));
        }
        self.queue_config
            .validate()
            .map_err(|(f, m)| at(&format!("queue_config.{f}"), m))?;
        Ok(())
    }
}

http_struct! {
    http2_default = "crate::http::http2_on";
    /// One `remote_read` endpoint.
    #[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    pub struct RemoteReadConfig {
        /// Endpoint URL (required).
        #[serde(default, deserialize_with = "null_default")]
        pub url: String,
        /// Request timeout (default 1m).
        #[serde(default = "default_rr_timeout")]
        pub remote_timeout: Duration,
        /// Maximum size of one streamed response frame.
        #[serde(default = "default_chunked_read_limit")]
        pub chunked_read_limit: u64,
        /// Extra request headers.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
        pub headers: BTreeMap<String, String>,
        /// Also read for time ranges local storage covers.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_false")]
        pub read_recent: bool,
        /// Name, unique among remote reads.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
        pub name: String,
        /// Equality matchers a query must contain to be sent.
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
        pub required_matchers: BTreeMap<String, String>,
        /// Add external labels as matchers (default true).
        #[serde(default = "crate::types::default_true")]
        pub filter_external_labels: bool,
    }
}

fn default_rr_timeout() -> Duration {
    Duration::from_secs(60)
}

fn default_chunked_read_limit() -> u64 {
    50_000_000
}

impl RemoteReadConfig {
    pub(crate) fn validate(&mut self, path: &str) -> Result<(), Problem> {
        let at = |field: &str, m: String| {
            let p = if field.is_empty() {
                path.to_owned()
            } else {
                format!("{path}.{field}")
            };
            Problem::new(p, m)
        };
        if self.url.is_empty() {
            return Err(at("url", "url for remote_read is empty".into()));
        }
        validate_headers(&self.headers).map_err(|m| at("headers", m))?;
        self.with_http_client(HttpClientConfig::validate)
            .map_err(|m| at("", m))?;
        Ok(())
    }
}
