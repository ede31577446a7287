//! Inputs of the scraper: per-job options and discovered target groups.
//!
//! These are Watchfire's own types, independent of the configuration crate, so the
//! binary maps `prometheus.yml` onto them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use watchfire_relabel::RelabelConfig;

/// A scrape protocol, as named in `scrape_protocols`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScrapeProtocol {
    /// `PrometheusProto` (not parsed by Watchfire; never advertised).
    PrometheusProto,
    /// `PrometheusText0.0.4`.
    PrometheusText0_0_4,
    /// `PrometheusText1.0.0`.
    PrometheusText1_0_0,
    /// `OpenMetricsText0.0.1`.
    OpenMetricsText0_0_1,
    /// `OpenMetricsText1.0.0`.
    OpenMetricsText1_0_0,
}

impl ScrapeProtocol {
    /// Prometheus 3's default order: OpenMetrics first, then the text format.
    pub const DEFAULT: [ScrapeProtocol; 4] = [
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::PrometheusText1_0_0,
        ScrapeProtocol::PrometheusText0_0_4,
    ];

    /// Parses the configuration name (`OpenMetricsText1.0.0`, ...).
    pub fn parse(s: &str) -> Option<ScrapeProtocol> {
        Some(match s {
            "PrometheusProto" => ScrapeProtocol::PrometheusProto,
            "PrometheusText0.0.4" => ScrapeProtocol::PrometheusText0_0_4,
            "PrometheusText1.0.0" => ScrapeProtocol::PrometheusText1_0_0,
            "OpenMetricsText0.0.1" => ScrapeProtocol::OpenMetricsText0_0_1,
            "OpenMetricsText1.0.0" => ScrapeProtocol::OpenMetricsText1_0_0,
            _ => return None,
        })
    }

    /// The media type with parameters that goes into the `Accept` header.
    pub fn header_value(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            }
            ScrapeProtocol::PrometheusText0_0_4 => "text/plain;version=0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "text/plain;version=1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "application/openmetrics-text;version=0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "application/openmetrics-text;version=1.0.0",
        }
    }

    /// The bare media type, used as the fallback content type.
    pub fn media_type(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => "application/vnd.google.protobuf",
            ScrapeProtocol::PrometheusText0_0_4 | ScrapeProtocol::PrometheusText1_0_0 => {
                "text/plain"
            }
            ScrapeProtocol::OpenMetricsText0_0_1 | ScrapeProtocol::OpenMetricsText1_0_0 => {
                "application/openmetrics-text"
            }
        }
    }
}

/// HTTP basic authentication.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password (already read from `password_file` by the caller).
    pub password: String,
}

/// An `Authorization` header: `<type> <credentials>` (`bearer_token` maps to type
/// `Bearer`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authorization {
    /// The scheme, `Bearer` when empty.
    pub kind: String,
    /// The credentials (already read from `credentials_file` by the caller).
    pub credentials: String,
}

/// TLS settings of a scrape client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file with the CAs to trust instead of the system roots.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (with `key_file`).
    pub cert_file: Option<PathBuf>,
    /// PEM private key of the client certificate.
    pub key_file: Option<PathBuf>,
    /// Name to verify (and send as SNI) instead of the URL's host.
    pub server_name: Option<String>,
    /// Skip certificate verification entirely.
    pub insecure_skip_verify: bool,
}

/// `oauth2` of a scrape job: client-credentials tokens sent as the
/// `Authorization` header of every scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2Options {
    /// Token URL, client id and secret (value or file, re-read on use), scopes
    /// and endpoint parameters.
    pub config: watchfire_httpclient::OAuth2Config,
    /// `oauth2.tls_config`, for the token endpoint only.
    pub tls: TlsOptions,
    /// `oauth2.proxy_url`, for the token endpoint only.
    pub proxy_url: Option<String>,
}

/// HTTP client settings of a scrape job (Prometheus' `http_client_config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpClientOptions {
    /// Basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization` header (also used for `bearer_token`).
    pub authorization: Option<Authorization>,
    /// TLS settings.
    pub tls: TlsOptions,
    /// Proxy for all requests.
    pub proxy_url: Option<String>,
    /// Whether to follow HTTP 3xx redirects (Prometheus' default: true).
    pub follow_redirects: bool,
    /// Whether HTTP/2 may be negotiated (Prometheus' default: true).
    pub enable_http2: bool,
    /// Whether to ask for gzip (Prometheus' `enable_compression`, default true).
    pub enable_compression: bool,
}

impl Default for HttpClientOptions {
    fn default() -> Self {
        HttpClientOptions {
            basic_auth: None,
            authorization: None,
            tls: TlsOptions::default(),
            proxy_url: None,
            follow_redirects: true,
            enable_http2: true,
            enable_compression: true,
        }
    }
}

/// Everything a scrape pool needs from one `scrape_configs` entry.
///
/// Limits of `0` mean "no limit", as in Prometheus.
#[derive(Debug, Clone)]
pub struct ScrapePoolOptions {
    /// `job_name`; also the pool's name.
    pub job_name: String,
    /// `scrape_interval`.
    pub scrape_interval: Duration,
    /// `scrape_timeout` (at most the interval).
    pub scrape_timeout: Duration,
    /// `metrics_path`.
    pub metrics_path: String,
    /// `scheme` (`http` or `https`).
    pub scheme: String,
    /// `params`: URL query parameters.
    pub params: BTreeMap<String, Vec<String>>,
    /// `honor_labels`.
    pub honor_labels: bool,
    /// `honor_timestamps`.
    pub honor_timestamps: bool,
    /// `track_timestamps_staleness`.
    pub track_timestamps_staleness: bool,
    /// `relabel_configs`, applied to targets.
    pub relabel_configs: Vec<RelabelConfig>,
    /// `metric_relabel_configs`, applied to scraped series.
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// `sample_limit`.
    pub sample_limit: usize,
    /// `label_limit`.
    pub label_limit: usize,
    /// `label_name_length_limit`.
    pub label_name_length_limit: usize,
    /// `label_value_length_limit`.
    pub label_value_length_limit: usize,
    /// `body_size_limit` in bytes.
    pub body_size_limit: u64,
    /// `target_limit`.
    pub target_limit: usize,
    /// `keep_dropped_targets`.
    pub keep_dropped_targets: usize,
    /// `http_client_config` and friends.
    pub http: HttpClientOptions,
    /// `http_client_config.oauth2`. Kept beside `http` rather than in it so that
    /// existing `HttpClientOptions { .. }` literals stay valid; when set, its
    /// token replaces `http.authorization`/`http.basic_auth`.
    pub oauth2: Option<OAuth2Options>,
    /// `scrape_protocols`, in order of preference.
    pub scrape_protocols: Vec<ScrapeProtocol>,
    /// `fallback_scrape_protocol`: used when the target sends no or an unknown
    /// `Content-Type`.
    pub fallback_scrape_protocol: Option<ScrapeProtocol>,
}

impl ScrapePoolOptions {
    /// Options with Prometheus' defaults (1m interval, 10s timeout, `/metrics`,
    /// `http`, honor_timestamps on, default protocols) for `job_name`.
    pub fn new(job_name: impl Into<String>) -> Self {
        ScrapePoolOptions {
            job_name: job_name.into(),
            scrape_interval: Duration::from_secs(60),
            scrape_timeout: Duration::from_secs(10),
            metrics_path: "/metrics".to_owned(),
            scheme: "http".to_owned(),
            params: BTreeMap::new(),
            honor_labels: false,
            honor_timestamps: true,
            track_timestamps_staleness: false,
            relabel_configs: Vec::new(),
            metric_relabel_configs: Vec::new(),
            sample_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            body_size_limit: 0,
            target_limit: 0,
            keep_dropped_targets: 0,
            http: HttpClientOptions::default(),
            oauth2: None,
            scrape_protocols: ScrapeProtocol::DEFAULT.to_vec(),
            fallback_scrape_protocol: None,
        }
    }

    /// Whether two option sets describe the same scraping, so loops can keep
    /// running across a reload. Relabel rules are compared by value.
    pub(crate) fn same_as(&self, other: &ScrapePoolOptions) -> bool {
        self.job_name == other.job_name
            && self.scrape_interval == other.scrape_interval
            && self.scrape_timeout == other.scrape_timeout
            && self.metrics_path == other.metrics_path
            && self.scheme == other.scheme
            && self.params == other.params
            && self.honor_labels == other.honor_labels
            && self.honor_timestamps == other.honor_timestamps
            && self.track_timestamps_staleness == other.track_timestamps_staleness
            && self.relabel_configs == other.relabel_configs
            && self.metric_relabel_configs == other.metric_relabel_configs
            && self.sample_limit == other.sample_limit
            && self.label_limit == other.label_limit
            && self.label_name_length_limit == other.label_name_length_limit
            && self.label_value_length_limit == other.label_value_length_limit
            && self.body_size_limit == other.body_size_limit
            && self.target_limit == other.target_limit
            && self.keep_dropped_targets == other.keep_dropped_targets
            && self.http == other.http
            && self.oauth2 == other.oauth2
            && self.scrape_protocols == other.scrape_protocols
            && self.fallback_scrape_protocol == other.fallback_scrape_protocol
    }
}

/// A group of targets from one discovery source, with labels common to all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetGroup {
    /// `host:port` addresses (becoming `__address__`).
    pub targets: Vec<String>,
    /// Labels for every target of the group.
    pub labels: BTreeMap<String, String>,
    /// Identifies the group within its provider (file name and index for file SD).
    pub source: String,
}

/// Manager-wide settings.
#[derive(Debug, Clone, Default)]
pub struct ScrapeManagerOptions {
    /// Mixed into every target's scrape offset so that several servers scraping the
    /// same targets spread out (Prometheus derives it from external labels and the
    /// host name).
    pub offset_seed: u64,
    /// Disables the wait before end-of-run staleness markers when a target goes
    /// away (Prometheus waits for when the next scrape would have happened plus 10%
    /// so that a target re-created elsewhere wins). Mainly for tests.
    pub immediate_end_of_run_staleness: bool,
    /// Host (and optional port-less name) that replaces a loopback host in
    /// `global_url` (from `--web.external-url`).
    pub global_url_host: Option<String>,
}
