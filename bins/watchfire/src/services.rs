//! The configured services around the store: `prometheus.yml` loading and
//! reloading, the rule manager, and where alerts go. The HTTP API sees them
//! through the provider traits of `watchfire-web-api`.

use crate::server::now_ms;
use parking_lot::{Mutex, RwLock};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use watchfire_config::Config;
use watchfire_model::Labels;
use watchfire_promql::Engine;
use watchfire_rules::{AlertSender, OutgoingAlert, RuleManager, RuleOptions};
use watchfire_web_api::providers::{ConfigProvider, RulesFilter, RulesProvider};

/// Sends alerts to every configured destination after `alert_relabel_configs`;
/// the destinations change on reload without touching the rule manager.
#[derive(Default)]
pub struct AlertRouter {
    relabel: RwLock<Vec<watchfire_relabel::RelabelConfig>>,
    senders: RwLock<Vec<Arc<dyn AlertSender>>>,
    /// The sender to external alertmanagers, kept for its counters.
    http: RwLock<Option<Arc<watchfire_rules::HttpAlertSender>>>,
}

impl AlertSender for AlertRouter {
    fn send(&self, alerts: Vec<OutgoingAlert>) {
        let relabel = self.relabel.read();
        let alerts: Vec<OutgoingAlert> = if relabel.is_empty() {
            alerts
        } else {
            alerts
                .into_iter()
                .filter_map(|mut a| {
                    let labels = Labels::from_pairs(a.labels.iter());
                    let out = watchfire_relabel::process(&relabel, &labels)?;
                    a.labels = out
                        .iter()
                        .map(|l| (l.name.clone(), l.value.clone()))
                        .collect();
                    Some(a)
                })
                .collect()
        };
        if alerts.is_empty() {
            return;
        }
        for s in self.senders.read().iter() {
            s.send(alerts.clone());
        }
    }
}

impl AlertRouter {
    /// Replaces the destinations that come from the configuration (`extra` are
    /// in-process ones, such as the embedded alertmanager).
    fn configure(&self, cfg: &Config, extra: &[Arc<dyn AlertSender>]) -> Result<(), String> {
        let mut urls = Vec::new();
        for (i, am) in cfg.alerting.alertmanagers.iter().enumerate() {
            if !am.file_sd_configs.is_empty() {
                tracing::warn!(
                    index = i,
                    "file_sd_configs of alertmanagers are not read yet; only static_configs are used"
                );
            }
            for group in am.static_target_groups() {
                for target in &group.targets {
                    let labels = am
                        .populate_target_labels(target, &group.labels)
                        .map_err(|e| format!("alerting.alertmanagers[{i}]: {e}"))?;
                    let Some(labels) = labels else { continue };
                    let scheme = labels.get("__scheme__").unwrap_or("http");
                    let addr = labels.get("__address__").unwrap_or(target);
                    let path = labels
                        .get("__alerts_path__")
                        .map_or_else(|| am.alerts_path(), str::to_string);
                    // The sender appends the API path itself; pass the prefix only.
                    let prefix = path.strip_suffix("/api/v2/alerts").unwrap_or(&path);
                    urls.push(format!("{scheme}://{addr}{prefix}"));
                }
            }
        }
        let mut senders: Vec<Arc<dyn AlertSender>> = extra.to_vec();
        if !urls.is_empty() {
            let timeout = cfg
                .alerting
                .alertmanagers
                .first()
                .map_or(10_000, |a| a.timeout.0);
            let sender = watchfire_rules::HttpAlertSender::new(watchfire_rules::HttpSenderConfig {
                alertmanagers: urls,
                timeout: std::time::Duration::from_millis(u64::try_from(timeout).unwrap_or(10_000)),
                ..Default::default()
            })
            .map_err(|e| e.to_string())?;
            let sender = Arc::new(sender);
            *self.http.write() = Some(sender.clone());
            senders.push(sender);
        } else {
            *self.http.write() = None;
        }
        *self.relabel.write() = cfg.alerting.alert_relabel_configs.clone();
        *self.senders.write() = senders;
        Ok(())
    }
}

/// Hands alerts to the embedded alertmanager in-process.
pub struct EmbeddedSender(pub Arc<watchfire_alertmanager::Alertmanager>);

impl AlertSender for EmbeddedSender {
    fn send(&self, alerts: Vec<OutgoingAlert>) {
        let alerts = alerts
            .into_iter()
            .map(|a| watchfire_alertmanager::PostableAlert {
                labels: a.labels,
                annotations: a.annotations,
                starts_at: a.starts_at,
                ends_at: a.ends_at.unwrap_or(0),
                generator_url: a.generator_url,
            })
            .collect();
        if let Err(e) = self.0.put_alerts(alerts) {
            tracing::warn!(err = %e, "the embedded alertmanager refused alerts");
        }
    }
}

/// Everything `prometheus.yml` configures.
pub struct Services {
    config_path: Option<PathBuf>,
    config: RwLock<Option<Arc<Config>>>,
    last_reload_ok: AtomicBool,
    last_reload_ms: AtomicI64,
    reload_lock: Mutex<()>,
    /// The rule manager (no groups without a config file).
    pub rules: Arc<RuleManager>,
    alerts: Arc<AlertRouter>,
    in_process_senders: Vec<Arc<dyn AlertSender>>,
    alertmanager: Option<(PathBuf, Arc<watchfire_alertmanager::Alertmanager>)>,
    /// The scraper.
    pub scrape: watchfire_scrape::ScrapeManager,
    runtime: tokio::runtime::Handle,
    sd_watchers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// The PromQL features rule expressions are checked with: the engine's.
    promql: watchfire_promql::ParseOptions,
}

/// What the services need from the server.
pub struct ServiceDeps {
    /// The store, as queried by rules.
    pub queryable: Arc<dyn watchfire_storage::Queryable>,
    /// The store, as written by rules (and scrapes).
    pub appendable: Arc<dyn watchfire_storage::Appendable>,
    /// The engine with the server's limits.
    pub engine: Engine,
    /// `--web.external-url`.
    pub external_url: String,
    /// Where alert state is persisted across restarts.
    pub state_dir: PathBuf,
    /// The embedded alertmanager and its configuration file, when enabled.
    pub alertmanager: Option<(PathBuf, Arc<watchfire_alertmanager::Alertmanager>)>,
    /// The async runtime scrapes and discovery run on.
    pub runtime: tokio::runtime::Handle,
}

impl Services {
    /// Loads the configuration (when given) and starts the rule manager. A bad
    /// configuration at start-up is an error, as in Prometheus.
    pub fn start(config_path: Option<PathBuf>, deps: ServiceDeps) -> anyhow::Result<Arc<Self>> {
        let config = match &config_path {
            Some(p) => Some(Arc::new(load_config(p)?)),
            None => None,
        };
        let alerts = Arc::new(AlertRouter::default());
        watchfire_scrape::install_crypto_provider();
        let scrape = watchfire_scrape::ScrapeManager::new(
            deps.appendable.clone(),
            watchfire_scrape::ScrapeManagerOptions {
                // Spread targets differently per server, like Prometheus' seed
                // from its external labels and host name.
                offset_seed: xxhash_rust::xxh64::xxh64(deps.external_url.as_bytes(), 0),
                ..Default::default()
            },
        );
        let promql = *deps.engine.parse_options();
        let mut opts = RuleOptions::new(deps.engine, deps.queryable, deps.appendable);
        opts.external_url = deps.external_url;
        opts.sender = Some(alerts.clone());
        if let Some(cfg) = &config {
            opts.external_labels = cfg.global.external_labels.clone();
            opts.default_interval_ms = cfg.global.evaluation_interval.0;
            opts.default_query_offset_ms = cfg.global.rule_query_offset.0;
        }
        let rules = RuleManager::new(opts);
        rules.set_state_dir(Some(deps.state_dir.clone()));
        let services = Arc::new(Services {
            config_path,
            config: RwLock::new(None),
            last_reload_ok: AtomicBool::new(true),
            last_reload_ms: AtomicI64::new(now_ms()),
            reload_lock: Mutex::new(()),
            rules,
            alerts,
            in_process_senders: deps
                .alertmanager
                .iter()
                .map(|(_, am)| Arc::new(EmbeddedSender(am.clone())) as Arc<dyn AlertSender>)
                .collect(),
            alertmanager: deps.alertmanager,
            scrape,
            runtime: deps.runtime,
            sd_watchers: Mutex::new(Vec::new()),
            promql,
        });
        if let Some(cfg) = config {
            services.apply(cfg).map_err(|e| anyhow::anyhow!(e))?;
            match watchfire_rules::load_state(&services.rules, &deps.state_dir) {
                Ok(0) => {}
                Ok(n) => tracing::info!(alerts = n, "alert state restored"),
                Err(e) => tracing::warn!(err = %e, "alert state not restored"),
            }
        }
        services.rules.start();
        Ok(services)
    }

    /// Applies a loaded configuration to the running services.
    fn apply(&self, cfg: Arc<Config>) -> Result<(), String> {
        let paths = cfg.rule_file_paths().map_err(|e| e.to_string())?;
        let groups =
            watchfire_rules::load_rule_files_with(&paths, &self.promql).map_err(|errors| {
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
        let jobs = crate::scrape_wiring::jobs(&cfg)?;
        self.alerts.configure(&cfg, &self.in_process_senders)?;
        let job_count = jobs.len();
        self.runtime.block_on(self.scrape.apply_config(jobs));
        {
            let _in_runtime = self.runtime.enter();
            let mut watchers = self.sd_watchers.lock();
            for w in watchers.drain(..) {
                w.abort();
            }
            *watchers = crate::scrape_wiring::watch_file_sd(&cfg, &self.scrape);
        }
        for w in &cfg.warnings {
            tracing::warn!(config = %cfg_name(&self.config_path), "{w}");
        }
        let rule_count: usize = groups.iter().map(|g| g.rules.len()).sum();
        self.rules.update(&groups);
        tracing::info!(
            rule_files = paths.len(),
            groups = groups.len(),
            rules = rule_count,
            scrape_jobs = job_count,
            "configuration applied"
        );
        *self.config.write() = Some(cfg);
        Ok(())
    }

    /// Re-reads the configuration file; on error the running configuration stays.
    pub fn reload(&self) -> Result<(), String> {
        let _one_at_a_time = self.reload_lock.lock();
        let mut result = Ok(());
        if let Some(path) = &self.config_path {
            result = load_config(path)
                .map_err(|e| format!("{e:#}"))
                .and_then(|cfg| self.apply(Arc::new(cfg)));
        }
        if let (Ok(()), Some((path, am))) = (&result, &self.alertmanager) {
            result = watchfire_alertmanager_config::Config::load_file(path)
                .map_err(|e| e.to_string())
                .and_then(|cfg| am.apply_config(cfg).map_err(|e| e.to_string()));
        }
        let path = self
            .config_path
            .as_ref()
            .or(self.alertmanager.as_ref().map(|(p, _)| p));
        let Some(path) = path else {
            return result;
        };
        self.last_reload_ok.store(result.is_ok(), Ordering::SeqCst);
        if result.is_ok() {
            self.last_reload_ms.store(now_ms(), Ordering::SeqCst);
            tracing::info!(file = %path.display(), "configuration reloaded");
        } else if let Err(e) = &result {
            tracing::error!(file = %path.display(), err = %e, "reloading the configuration failed; keeping the previous one");
        }
        result
    }

    /// Whether the last reload succeeded (`1`) and when the config was loaded.
    pub fn reload_metrics(&self) -> (bool, i64) {
        (
            self.last_reload_ok.load(Ordering::SeqCst),
            self.last_reload_ms.load(Ordering::SeqCst),
        )
    }

    /// Alerts sent to, failed for, and dropped before external alertmanagers,
    /// and the queue length now.
    pub fn notifier_stats(&self) -> (u64, u64, u64, usize) {
        use std::sync::atomic::Ordering::Relaxed;
        match self.alerts.http.read().as_ref() {
            None => (0, 0, 0, 0),
            Some(h) => {
                let st = h.stats();
                (
                    st.sent.load(Relaxed),
                    st.errors.load(Relaxed),
                    st.dropped.load(Relaxed),
                    h.queue_len(),
                )
            }
        }
    }

    /// Stops scraping (writing staleness markers) and rule evaluation (saving
    /// alert state). Call from outside the async runtime's threads.
    pub fn stop(&self) {
        for w in self.sd_watchers.lock().drain(..) {
            w.abort();
        }
        self.runtime.block_on(self.scrape.stop());
        self.rules.stop();
    }
}

fn cfg_name(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map_or_else(String::new, |p| p.display().to_string())
}

fn load_config(path: &std::path::Path) -> anyhow::Result<Config> {
    Config::load_file(path).map_err(|e| anyhow::anyhow!("{e}"))
}

impl RulesProvider for Services {
    fn rules(&self, filter: &RulesFilter) -> serde_json::Value {
        let f = watchfire_rules::RulesFilter {
            kind: (!filter.rule_type.is_empty()).then(|| filter.rule_type.clone()),
            rule_names: filter.rule_names.clone(),
            rule_groups: filter.rule_groups.clone(),
            files: filter.files.clone(),
            exclude_alerts: filter.exclude_alerts,
            matchers: Vec::new(),
        };
        let groups = self.rules.groups_snapshot();
        match watchfire_rules::rules_snapshot(&groups, &f) {
            Ok(d) => serde_json::to_value(d).unwrap_or_else(|_| serde_json::json!({"groups": []})),
            Err(_) => serde_json::json!({"groups": []}),
        }
    }

    fn alerts(&self) -> serde_json::Value {
        let groups = self.rules.groups_snapshot();
        serde_json::to_value(watchfire_rules::alerts_snapshot(&groups))
            .unwrap_or_else(|_| serde_json::json!({"alerts": []}))
    }
}

impl ConfigProvider for Services {
    fn config_yaml(&self) -> String {
        self.config
            .read()
            .as_ref()
            .map(|c| c.to_yaml_redacted())
            .unwrap_or_default()
    }

    fn last_reload(&self) -> (bool, i64) {
        self.reload_metrics()
    }
}
