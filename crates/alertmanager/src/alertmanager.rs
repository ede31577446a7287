//! The runtime object tying everything together.

use crate::clock::{Clock, Millis};
use crate::dispatch::{DispatchState, GroupSnapshot};
use crate::error::{Error, Result};
use crate::history::{
    Ack, Acks, History, HistoryEntry, HistoryQuery, ReceiverStatus, content_hash,
};
use crate::integration::{Integration, IntegrationFactory};
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::mute::{Inhibitor, Muter, Silencer};
use crate::nflog::Nflog;
use crate::silence::{Silence, Silences};
use crate::store::AlertStore;
use crate::types::{Alert, AlertStatus, Fingerprint, LabelSet};
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{Notify, watch};
use watchfire_alertmanager_config::{Config, InhibitRule, NamedTimeInterval, RouteTree};
use watchfire_template::NotificationTemplates;

/// An alert as clients post it (`PostableAlert`); times in ms, `0` = unset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostableAlert {
    /// Labels.
    pub labels: LabelSet,
    /// Annotations.
    pub annotations: LabelSet,
    /// Start (0 = now, or endsAt when only that is set).
    pub starts_at: Millis,
    /// End (0 = now + resolve_timeout).
    pub ends_at: Millis,
    /// Source link.
    pub generator_url: String,
}

/// Build information shown by `/api/v2/status`.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionInfo {
    /// Version.
    pub version: String,
    /// Revision.
    pub revision: String,
    /// Branch.
    pub branch: String,
    /// Build user.
    pub build_user: String,
    /// Build date.
    pub build_date: String,
    /// Toolchain (shown as goVersion).
    pub go_version: String,
}

impl Default for VersionInfo {
    fn default() -> Self {
        VersionInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            revision: "unknown".into(),
            branch: "unknown".into(),
            build_user: "watchfire".into(),
            build_date: "unknown".into(),
            go_version: "rust".into(),
        }
    }
}

/// Runtime options.
#[derive(Clone)]
pub struct Options {
    /// State directory (silences, nflog, history, acks); None keeps state in memory.
    pub data_dir: Option<PathBuf>,
    /// Externally reachable URL (templates' `.ExternalURL`).
    pub external_url: String,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Builds integrations for receivers.
    pub integration_factory: IntegrationFactory,
    /// Directory relative template globs resolve against (the config file's directory).
    pub template_base_dir: PathBuf,
    /// How long expired silences and notification log entries are kept (120h).
    pub retention_ms: i64,
    /// Snapshot/GC period for silences, nflog, history and acks (15m).
    pub maintenance_interval_ms: i64,
    /// Period of resolved-alert GC (30m).
    pub alert_gc_interval_ms: i64,
    /// Notification history size (10 000).
    pub history_capacity: usize,
    /// Time limit of one integration call.
    pub integration_timeout: std::time::Duration,
    /// Most calls in flight at once per receiver integration (64). When thousands of
    /// groups flush together, a bounded number of calls reuses a few keep-alive
    /// connections instead of opening one connection per group at the same instant;
    /// other receivers are not affected.
    pub max_concurrent_sends: usize,
    /// Receivers that get a resolved notification when a notified alert is silenced (see
    /// [`watchfire_alertmanager_config::Receiver::send_resolved_when_silenced`], the
    /// `alertmanager.yml` form of this Watchfire extension). The receivers that set the
    /// flag in the loaded config are added to these (at start and on every reload).
    pub send_resolved_when_silenced: HashSet<String>,
    /// Version shown by the status endpoint.
    pub version: VersionInfo,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("data_dir", &self.data_dir)
            .field("external_url", &self.external_url)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// Defaults with the given clock and integration factory.
    pub fn new(clock: Arc<dyn Clock>, integration_factory: IntegrationFactory) -> Self {
        Options {
            data_dir: None,
            external_url: String::new(),
            clock,
            integration_factory,
            template_base_dir: PathBuf::from("."),
            retention_ms: 120 * 3_600_000,
            maintenance_interval_ms: 15 * 60_000,
            alert_gc_interval_ms: 30 * 60_000,
            history_capacity: 10_000,
            integration_timeout: std::time::Duration::from_secs(30),
            max_concurrent_sends: 64,
            send_resolved_when_silenced: HashSet::new(),
            version: VersionInfo::default(),
        }
    }
}

/// Everything derived from one config.
pub(crate) struct Runtime {
    /// Unique per build, so caches can tell runtimes apart.
    pub id: u64,
    pub config: Config,
    pub tree: RouteTree,
    pub inhibit_rules: Vec<InhibitRule>,
    pub integrations: HashMap<String, Arc<Vec<Box<dyn Integration>>>>,
    /// Per receiver, one send limiter per integration (same order as `integrations`).
    pub send_limits: HashMap<String, Arc<Vec<tokio::sync::Semaphore>>>,
    pub time_intervals: HashMap<String, NamedTimeInterval>,
    /// [`Options::send_resolved_when_silenced`] plus the receivers whose config sets
    /// `send_resolved_when_silenced: true`.
    pub send_resolved_when_silenced: HashSet<String>,
}

impl Runtime {
    fn build(config: Config, opts: &Options) -> Result<Self> {
        let tree = RouteTree::from_config(&config).ok_or_else(|| Error::Receiver {
            receiver: String::new(),
            message: "configuration has no route".into(),
        })?;
        let templates = Arc::new(NotificationTemplates::new(
            &config.templates,
            &opts.template_base_dir,
        )?);
        let mut integrations = HashMap::new();
        let mut send_limits = HashMap::new();
        for r in &config.receivers {
            let list = (opts.integration_factory)(r, Arc::clone(&templates)).map_err(|m| {
                Error::Receiver {
                    receiver: r.name.clone(),
                    message: m,
                }
            })?;
            let limits = list
                .iter()
                .map(|_| tokio::sync::Semaphore::new(opts.max_concurrent_sends.max(1)))
                .collect();
            send_limits.insert(r.name.clone(), Arc::new(limits));
            integrations.insert(r.name.clone(), Arc::new(list));
        }
        let time_intervals = config
            .named_time_intervals()
            .map(|t| (t.name.clone(), t.clone()))
            .collect();
        let inhibit_rules = config.inhibit_rules.iter().map(InhibitRule::new).collect();
        let send_resolved_when_silenced = resolved_when_silenced(&config, opts);
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Ok(Runtime {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            config,
            tree,
            inhibit_rules,
            integrations,
            send_limits,
            time_intervals,
            send_resolved_when_silenced,
        })
    }
}

/// The receivers that get resolved notifications for silenced alerts: the runtime option
/// plus the config's `send_resolved_when_silenced: true` receivers.
fn resolved_when_silenced(config: &Config, opts: &Options) -> HashSet<String> {
    let mut set = opts.send_resolved_when_silenced.clone();
    set.extend(
        config
            .receivers
            .iter()
            .filter(|r| r.send_resolved_when_silenced)
            .map(|r| r.name.clone()),
    );
    set
}

/// Shared state behind [`Alertmanager`].
pub(crate) struct Core {
    pub clock: Arc<dyn Clock>,
    pub opts: Options,
    pub store: AlertStore,
    pub silences: Silences,
    pub nflog: Nflog,
    pub history: History,
    pub acks: Acks,
    pub metrics: Metrics,
    pub runtime: RwLock<Arc<Runtime>>,
    pub dispatch: Mutex<DispatchState>,
    pub inhibit_cache: crate::mute::InhibitCache,
    pub wake: Notify,
    pub in_flight: watch::Sender<usize>,
    pub next_maintenance: Mutex<Millis>,
    pub next_alert_gc: Mutex<Millis>,
    pub started_at: Millis,
    pub shutdown: watch::Sender<bool>,
    /// `alerts.json`: the store, written with the other state files.
    pub alerts_path: Option<PathBuf>,
}

impl Core {
    pub(crate) fn runtime(&self) -> Arc<Runtime> {
        Arc::clone(&self.runtime.read())
    }

    /// The inhibitor over the store as it is now (cached while nothing changed).
    pub(crate) fn inhibitor<'a>(&self, rt: &'a Runtime) -> Inhibitor<'a> {
        self.inhibit_cache
            .inhibitor(&rt.inhibit_rules, rt.id, &self.store)
    }

    fn snapshot_all(&self) -> Result<()> {
        if let Some(p) = &self.alerts_path {
            let alerts: Vec<Alert> = self.store.list().into_iter().map(|(_, a)| a).collect();
            crate::persist::write_atomic(p, &alerts)?;
        }
        self.silences.snapshot()?;
        self.nflog.snapshot()?;
        self.history.snapshot()?;
        self.acks.snapshot()
    }

    fn maintenance_if_due(&self) {
        let now = self.clock.now();
        {
            let mut gc = self.next_alert_gc.lock();
            if now >= *gc {
                *gc = now + self.opts.alert_gc_interval_ms;
                for fp in self.store.gc(now) {
                    self.acks.remove(fp);
                }
            }
        }
        let mut next = self.next_maintenance.lock();
        if now >= *next {
            *next = now + self.opts.maintenance_interval_ms;
            self.silences.gc(now);
            self.nflog.gc(now);
            if let Err(e) = self.snapshot_all() {
                tracing::error!(error = %e, "alertmanager state snapshot failed");
            }
        }
    }
}

/// The embedded Alertmanager.
pub struct Alertmanager {
    pub(crate) core: Arc<Core>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for Alertmanager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alertmanager").finish_non_exhaustive()
    }
}

impl Alertmanager {
    /// Starts with notify's integrations (see [`crate::notify_factory`]).
    pub fn start(
        config: Config,
        data_dir: Option<PathBuf>,
        external_url: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>> {
        let mut opts = Options::new(clock, crate::integration::notify_factory());
        opts.data_dir = data_dir;
        opts.external_url = external_url.to_string();
        Self::start_with(config, opts)
    }

    /// Starts with explicit options; must run inside a tokio runtime (it spawns the
    /// scheduler task). Loads silences, nflog, history and acks from the data dir.
    pub fn start_with(config: Config, opts: Options) -> Result<Arc<Self>> {
        let file = |name: &str| opts.data_dir.as_ref().map(|d| d.join(name));
        if let Some(d) = &opts.data_dir {
            std::fs::create_dir_all(d).map_err(|source| Error::Io {
                path: d.clone(),
                source,
            })?;
        }
        let runtime = Runtime::build(config, &opts)?;
        let now = opts.clock.now();
        let core = Arc::new(Core {
            clock: Arc::clone(&opts.clock),
            store: AlertStore::new(),
            silences: Silences::open(file("silences.json"), opts.retention_ms)?,
            nflog: Nflog::open(file("nflog.json"), opts.retention_ms)?,
            history: History::open(file("history.json"), opts.history_capacity)?,
            acks: Acks::open(file("acks.json"))?,
            metrics: Metrics::default(),
            runtime: RwLock::new(Arc::new(runtime)),
            dispatch: Mutex::new(DispatchState {
                last_group_gc: now,
                ..Default::default()
            }),
            wake: Notify::new(),
            inhibit_cache: Default::default(),
            in_flight: watch::channel(0).0,
            next_maintenance: Mutex::new(now + opts.maintenance_interval_ms),
            next_alert_gc: Mutex::new(now + opts.alert_gc_interval_ms),
            started_at: now,
            shutdown: watch::channel(false).0,
            alerts_path: file("alerts.json"),
            opts,
        });
        // Alerts of the previous run come back into their groups at once: a group whose
        // alerts are older than group_wait flushes immediately and the notification log
        // drops what was already delivered, so a restart neither loses a pending
        // notification until clients re-send nor repeats a delivered one.
        if let Some(p) = &core.alerts_path
            && let Some(alerts) = crate::persist::read::<Vec<Alert>>(p)?
        {
            let rt = core.runtime();
            for a in alerts {
                if a.resolved_at(now) {
                    continue;
                }
                let fp = a.fingerprint();
                let stored = core.store.put_fp(fp, a, now);
                core.dispatch_alerts(&rt, vec![(fp, stored)]);
            }
        }
        let c = Arc::clone(&core);
        let scheduler = tokio::spawn(async move { scheduler(c).await });
        let c = Arc::clone(&core);
        let writer = tokio::spawn(async move { nflog_writer(c).await });
        Ok(Arc::new(Alertmanager {
            core,
            tasks: Mutex::new(vec![scheduler, writer]),
        }))
    }

    /// Applies a new config: routes, receivers, inhibit rules and time intervals are
    /// rebuilt and all groups re-created from the stored alerts; silences, the
    /// notification log, alerts and acks are kept. On error the old config stays.
    pub fn apply_config(&self, config: Config) -> Result<()> {
        let rt = Arc::new(Runtime::build(config, &self.core.opts)?);
        *self.core.runtime.write() = Arc::clone(&rt);
        self.core.rebuild_groups(&rt);
        Ok(())
    }

    /// Receives alerts (what `POST /api/v2/alerts` and the rules engine call). Valid
    /// alerts are stored even when others fail; the error lists the failures joined by
    /// `; ` like Alertmanager.
    pub fn put_alerts(&self, alerts: Vec<PostableAlert>) -> Result<()> {
        let core = &self.core;
        let now = core.clock.now();
        let rt = core.runtime();
        let resolve_timeout = rt.config.global.resolve_timeout.as_millis();
        let mut errors = Vec::new();
        let mut accepted = Vec::with_capacity(alerts.len());
        let (mut firing, mut resolved) = (0, 0);
        for p in alerts {
            let mut a = Alert {
                labels: p.labels,
                annotations: p.annotations,
                starts_at: p.starts_at,
                ends_at: p.ends_at,
                generator_url: p.generator_url,
                updated_at: now,
                timeout: false,
            };
            if a.starts_at == 0 {
                a.starts_at = if a.ends_at == 0 { now } else { a.ends_at };
            }
            if a.ends_at == 0 {
                a.timeout = true;
                a.ends_at = now + resolve_timeout;
            }
            if a.ends_at > now {
                firing += 1;
            } else {
                resolved += 1;
            }
            if let Err(e) = validate_alert(&a) {
                errors.push(e);
                continue;
            }
            accepted.push((a.fingerprint(), a));
        }
        let accepted = core.store.put_many(accepted, now);
        for (fp, stored) in &accepted {
            core.acks.check(*fp, stored, now);
        }
        // One dispatcher lock for the whole batch.
        core.dispatch_alerts(&rt, accepted);
        core.metrics.received(firing, resolved, errors.len() as u64);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidAlert(errors.join("; ")))
        }
    }

    /// Stops the scheduler and writes all state files.
    pub async fn stop(&self) -> Result<()> {
        self.core.shutdown.send_replace(true);
        let tasks = std::mem::take(&mut *self.tasks.lock());
        for t in tasks {
            let _ = t.await;
        }
        self.core.snapshot_all()
    }

    /// Flushes every due group now and waits until no flush is in flight (tests with a
    /// manual clock call this after advancing it).
    pub async fn flush_pending(&self) {
        loop {
            self.core.flush_due();
            let mut rx = self.core.in_flight.subscribe();
            let _ = rx.wait_for(|n| *n == 0).await;
            let now = self.core.clock.now();
            let due = {
                let st = self.core.dispatch.lock();
                st.groups
                    .values()
                    .any(|g| !g.alerts.is_empty() && g.next_flush <= now)
            };
            if !due {
                return;
            }
        }
    }

    /// Runs GC and writes snapshots now (what the 15-minute maintenance does).
    pub fn maintenance(&self) -> Result<()> {
        let now = self.core.clock.now();
        self.core.silences.gc(now);
        self.core.nflog.gc(now);
        for fp in self.core.store.gc(now) {
            self.core.acks.remove(fp);
        }
        self.core.snapshot_all()
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.core.clock
    }

    /// The current config.
    pub fn config(&self) -> Config {
        self.core.runtime().config.clone()
    }

    /// Start time.
    pub fn started_at(&self) -> Millis {
        self.core.started_at
    }

    /// Options in use.
    pub fn options(&self) -> &Options {
        &self.core.opts
    }

    /// All stored alerts with their fingerprints, sorted.
    pub fn alerts(&self) -> Vec<(Fingerprint, Alert)> {
        self.core.store.list()
    }

    /// Computes (and records) an alert's silenced/inhibited status now.
    pub fn alert_status(&self, labels: &LabelSet) -> AlertStatus {
        let now = self.core.clock.now();
        let rt = self.core.runtime();
        let inhibitor = self.core.inhibitor(&rt);
        self.status_with(&inhibitor, labels, now)
    }

    pub(crate) fn status_with(
        &self,
        inhibitor: &Inhibitor<'_>,
        labels: &LabelSet,
        now: Millis,
    ) -> AlertStatus {
        let st = AlertStatus::from_mutes(
            Silencer(&self.core.silences).mutes(labels, now),
            inhibitor.mutes(labels, now),
        );
        self.core
            .store
            .set_status(Fingerprint::of(labels), st.clone());
        st
    }

    /// Receiver names `labels` routes to.
    pub fn receivers_for(&self, labels: &LabelSet) -> Vec<String> {
        self.core.runtime().tree.receivers_for(labels)
    }

    /// Receiver names in config order.
    pub fn receiver_names(&self) -> Vec<String> {
        self.core
            .runtime()
            .config
            .receivers
            .iter()
            .map(|r| r.name.clone())
            .collect()
    }

    /// The aggregation groups.
    pub fn groups(&self) -> Vec<GroupSnapshot> {
        self.core.group_snapshots()
    }

    /// Creates or updates a silence (see [`Silences::set`]).
    pub fn set_silence(&self, s: Silence) -> Result<String> {
        self.core.silences.set(s, self.core.clock.now())
    }

    /// Expires a silence.
    pub fn expire_silence(&self, id: &str) -> Result<()> {
        self.core.silences.expire(id, self.core.clock.now())
    }

    /// One silence.
    pub fn silence(&self, id: &str) -> Option<Silence> {
        self.core.silences.get(id)
    }

    /// All silences.
    pub fn silences(&self) -> Vec<Silence> {
        self.core.silences.list()
    }

    /// Acknowledges a stored alert.
    pub fn ack(&self, fp: Fingerprint, by: &str, comment: &str) -> Result<Ack> {
        let a = self
            .core
            .store
            .get(fp)
            .ok_or_else(|| Error::AlertNotFound(fp.to_string()))?;
        let ack = Ack {
            fingerprint: fp.to_string(),
            by: by.to_string(),
            at: self.core.clock.now(),
            comment: comment.to_string(),
            content_hash: content_hash(&a),
        };
        self.core.acks.set(fp, ack.clone());
        Ok(ack)
    }

    /// Removes an acknowledgement; whether there was one.
    pub fn unack(&self, fp: Fingerprint) -> bool {
        self.core.acks.remove(fp)
    }

    /// The acknowledgement of an alert.
    pub fn ack_of(&self, fp: Fingerprint) -> Option<Ack> {
        self.core.acks.get(fp)
    }

    /// All acknowledgements.
    pub fn acks(&self) -> Vec<Ack> {
        self.core.acks.list()
    }

    /// Notification history, newest first.
    pub fn history(&self, q: &HistoryQuery) -> Vec<HistoryEntry> {
        self.core.history.query(q)
    }

    /// Per-integration delivery status.
    pub fn receiver_status(&self) -> Vec<ReceiverStatus> {
        self.core.history.receiver_status()
    }

    /// Metrics snapshot.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.core.metrics.snapshot()
    }
}

fn valid_label_name(n: &str) -> bool {
    let mut c = n.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// Alertmanager's `Alert.Validate`.
fn validate_alert(a: &Alert) -> Result<(), String> {
    if a.starts_at == 0 {
        return Err("start time missing".into());
    }
    if a.ends_at != 0 && a.ends_at < a.starts_at {
        return Err("start time must be before end time".into());
    }
    if let Some(n) = a.labels.keys().find(|n| !valid_label_name(n)) {
        return Err(format!("invalid label set: invalid name {n:?}"));
    }
    if a.labels.is_empty() {
        return Err("at least one label pair required".into());
    }
    if let Some(n) = a.annotations.keys().find(|n| !valid_label_name(n)) {
        return Err(format!("invalid annotations: invalid name {n:?}"));
    }
    Ok(())
}

/// Writes the notification log once a second when it changed: a delivery is then on disk
/// within a second, so even a crash (not only a clean stop) does not make the next
/// process repeat it, and a burst of notifications costs one write, not one per send.
async fn nflog_writer(core: Arc<Core>) {
    if core.opts.data_dir.is_none() {
        return;
    }
    let mut shutdown = core.shutdown.subscribe();
    loop {
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
        let c = Arc::clone(&core);
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || c.nflog.snapshot_if_dirty()).await {
            tracing::error!(error = %e, "notification log snapshot failed");
        }
    }
}

async fn scheduler(core: Arc<Core>) {
    let mut shutdown = core.shutdown.subscribe();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let next = core.next_deadline();
        tokio::select! {
            _ = core.clock.sleep_until(next) => {}
            _ = core.wake.notified() => {}
            _ = shutdown.changed() => return,
        }
        core.flush_due();
        core.maintenance_if_due();
    }
}
