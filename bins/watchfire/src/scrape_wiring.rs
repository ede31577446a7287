//! `prometheus.yml` scrape configs mapped onto the scraper's own inputs, file
//! service discovery watchers, and the scraper seen as the API's
//! `TargetsProvider`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};
use watchfire_config::{Config, ScrapeConfig};
use watchfire_httpclient::{ClientSecret, OAuth2Config};
use watchfire_scrape::{
    Authorization, BasicAuth, HttpClientOptions, OAuth2Options, ScrapeManager, ScrapePoolOptions,
    ScrapeProtocol, TargetGroup, TlsOptions,
};
use watchfire_web_api::providers::{
    DroppedTargetInfo, MetricMetadata, TargetInfo, TargetMetadata, TargetsProvider,
};

fn ms(d: watchfire_config::Duration) -> Duration {
    Duration::from_millis(u64::try_from(d.0).unwrap_or(0))
}

fn opt_path(p: &str) -> Option<std::path::PathBuf> {
    (!p.is_empty()).then(|| p.into())
}

/// Reads a credentials file the way Prometheus does (trailing newline trimmed).
fn read_secret(file: &str) -> Result<String, String> {
    std::fs::read_to_string(file)
        .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
        .map_err(|e| format!("reading {file}: {e}"))
}

fn http_options(sc: &ScrapeConfig) -> Result<HttpClientOptions, String> {
    let http = sc.http_client();
    let basic_auth = match &http.basic_auth {
        None => None,
        Some(b) => Some(BasicAuth {
            username: if b.username_file.is_empty() {
                b.username.clone()
            } else {
                read_secret(&b.username_file)?
            },
            password: if b.password_file.is_empty() {
                b.password.expose().to_string()
            } else {
                read_secret(&b.password_file)?
            },
        }),
    };
    let authorization = match &http.authorization {
        None => None,
        Some(a) => Some(Authorization {
            kind: if a.kind.is_empty() {
                "Bearer".into()
            } else {
                a.kind.clone()
            },
            credentials: if a.credentials_file.is_empty() {
                a.credentials.expose().to_string()
            } else {
                read_secret(&a.credentials_file)?
            },
        }),
    };
    Ok(HttpClientOptions {
        basic_auth,
        authorization,
        tls: tls_options(&http.tls_config),
        proxy_url: (!http.proxy_url.is_empty()).then(|| http.proxy_url.clone()),
        follow_redirects: http.follow_redirects,
        enable_http2: http.enable_http2,
        enable_compression: sc.enable_compression,
    })
}

fn tls_options(tls: &watchfire_config::TlsConfig) -> TlsOptions {
    TlsOptions {
        ca_file: opt_path(&tls.ca_file),
        cert_file: opt_path(&tls.cert_file),
        key_file: opt_path(&tls.key_file),
        server_name: (!tls.server_name.is_empty()).then(|| tls.server_name.clone()),
        insecure_skip_verify: tls.insecure_skip_verify,
    }
}

/// `oauth2`: client-credentials tokens for every scrape of the job (the secret file
/// is re-read when a token is fetched, as Prometheus does).
fn oauth2_options(sc: &ScrapeConfig) -> Option<OAuth2Options> {
    let http = sc.http_client();
    let a = http.oauth2.as_ref()?;
    let client_secret = if !a.client_secret_file.is_empty() {
        ClientSecret::File(a.client_secret_file.clone().into())
    } else if !a.client_secret.is_empty() {
        ClientSecret::Value(a.client_secret.expose().to_string())
    } else {
        ClientSecret::None
    };
    Some(OAuth2Options {
        config: OAuth2Config {
            token_url: a.token_url.clone(),
            client_id: a.client_id.clone(),
            client_secret,
            scopes: a.scopes.clone(),
            endpoint_params: a.endpoint_params.clone(),
        },
        tls: tls_options(&a.tls_config),
        proxy_url: (!a.proxy_url.is_empty()).then(|| a.proxy_url.clone()),
    })
}

fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The scraper's options for one job, with defaults already filled in by the
/// config crate.
pub fn pool_options(sc: &ScrapeConfig, global: &Config) -> Result<ScrapePoolOptions, String> {
    let mut o = ScrapePoolOptions::new(sc.job_name.clone());
    o.scrape_interval = ms(sc.scrape_interval);
    o.scrape_timeout = ms(sc.scrape_timeout);
    o.metrics_path = sc.metrics_path.clone();
    o.scheme = sc.scheme.clone();
    o.params = sc.params.clone();
    o.honor_labels = sc.honor_labels;
    o.honor_timestamps = sc.honor_timestamps;
    o.track_timestamps_staleness = sc.track_timestamps_staleness;
    o.relabel_configs = sc.relabel_configs.clone();
    o.metric_relabel_configs = sc.metric_relabel_configs.clone();
    o.sample_limit = usize_of(sc.sample_limit);
    o.label_limit = usize_of(sc.label_limit);
    o.label_name_length_limit = usize_of(sc.label_name_length_limit);
    o.label_value_length_limit = usize_of(sc.label_value_length_limit);
    o.body_size_limit = sc.body_size_limit.0;
    o.target_limit = usize_of(sc.target_limit);
    o.keep_dropped_targets = usize_of(sc.keep_dropped_targets);
    o.http = http_options(sc)?;
    o.oauth2 = oauth2_options(sc);
    let protocols = sc
        .scrape_protocols
        .as_ref()
        .or(global.global.scrape_protocols.as_ref());
    if let Some(list) = protocols {
        o.scrape_protocols = list
            .iter()
            .filter_map(|p| ScrapeProtocol::parse(p))
            .collect();
    }
    o.fallback_scrape_protocol = ScrapeProtocol::parse(&sc.fallback_scrape_protocol);
    Ok(o)
}

fn groups_of(list: Vec<watchfire_config::TargetGroup>) -> Vec<TargetGroup> {
    list.into_iter()
        .map(|g| TargetGroup {
            targets: g.targets,
            labels: g.labels,
            source: g.source,
        })
        .collect()
}

/// Every job with its static target groups; file SD groups arrive from the
/// watchers started by [`watch_file_sd`].
pub fn jobs(cfg: &Config) -> Result<Vec<(ScrapePoolOptions, Vec<TargetGroup>)>, String> {
    cfg.all_scrape_configs()
        .map(|sc| Ok((pool_options(sc, cfg)?, groups_of(sc.static_target_groups()))))
        .collect()
}

/// Starts one file SD watcher per job that has `file_sd_configs`.
pub fn watch_file_sd(cfg: &Config, manager: &ScrapeManager) -> Vec<tokio::task::JoinHandle<()>> {
    let mut watchers = Vec::new();
    for sc in cfg.all_scrape_configs() {
        if sc.file_sd_configs.is_empty() {
            continue;
        }
        let patterns: Vec<String> = sc
            .file_sd_configs
            .iter()
            .flat_map(|f| f.files.iter().map(|p| absolute(&cfg.directory, p)))
            .collect();
        let refresh = sc
            .file_sd_configs
            .iter()
            .map(|f| ms(f.refresh_interval))
            .min()
            .unwrap_or(Duration::from_secs(300));
        watchers.push(watchfire_scrape::watch_file_sd(
            manager.clone(),
            sc.job_name.clone(),
            patterns,
            refresh,
        ));
    }
    watchers
}

fn absolute(dir: &Path, p: &str) -> String {
    let path = Path::new(p);
    if path.is_absolute() {
        p.to_string()
    } else {
        dir.join(path).display().to_string()
    }
}

fn map_of(labels: &watchfire_model::Labels) -> BTreeMap<String, String> {
    labels
        .iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

/// Prometheus' short duration form (`15s`, `1m`, `1m30s`).
fn short(d: Duration) -> String {
    watchfire_scrape::format_duration(d)
}

/// The scraper as the API sees it.
pub struct Targets(pub ScrapeManager);

impl TargetsProvider for Targets {
    fn active_targets(&self) -> Vec<TargetInfo> {
        self.0
            .active_targets()
            .into_iter()
            .map(|t| TargetInfo {
                discovered_labels: map_of(&t.discovered_labels),
                labels: map_of(&t.labels),
                scrape_pool: t.scrape_pool,
                scrape_url: t.scrape_url,
                global_url: t.global_url,
                last_error: t.last_error,
                last_scrape_ms: t.last_scrape.and_then(|s| {
                    s.duration_since(UNIX_EPOCH)
                        .ok()
                        .and_then(|d| i64::try_from(d.as_millis()).ok())
                }),
                last_scrape_duration_seconds: t.last_scrape_duration.as_secs_f64(),
                health: t.health.as_str().to_string(),
                scrape_interval: short(t.scrape_interval),
                scrape_timeout: short(t.scrape_timeout),
            })
            .collect()
    }

    fn dropped_targets(&self) -> Vec<DroppedTargetInfo> {
        self.0
            .dropped_targets()
            .into_iter()
            .map(|t| DroppedTargetInfo {
                discovered_labels: map_of(&t.discovered_labels),
                scrape_pool: t.scrape_pool,
            })
            .collect()
    }

    fn dropped_target_counts(&self) -> BTreeMap<String, u64> {
        self.0
            .dropped_target_counts()
            .into_iter()
            .map(|(k, v)| (k, v as u64))
            .collect()
    }

    fn scrape_pools(&self) -> Vec<String> {
        self.0.scrape_pools()
    }

    fn metadata(&self) -> Vec<TargetMetadata> {
        self.0
            .target_metadata(&|_| true, None, None)
            .into_iter()
            .map(|m| TargetMetadata {
                target: map_of(&m.target),
                metadata: MetricMetadata {
                    metric: m.metadata.metric,
                    metric_type: m.metadata.kind,
                    help: m.metadata.help,
                    unit: m.metadata.unit,
                },
            })
            .collect()
    }
}
