//! The scrape manager: one pool per job, one loop per target, reloads that keep
//! unchanged loops running.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use parking_lot::Mutex;
use watchfire_storage::Appendable;

use crate::cache::{MetricMetadata, ScrapeCache};
use crate::error::ScrapeError;
use crate::http::ScrapeClient;
use crate::metrics::{Counters, ScrapeMetrics};
use crate::options::{ScrapeManagerOptions, ScrapePoolOptions, TargetGroup};
use crate::scrape_loop::{LoopConfig, LoopHandle, StopMode};
use crate::target::{
    BuiltTarget, DroppedTarget, Target, TargetSnapshot, global_url, targets_from_group,
};

/// Metadata of one family as scraped from one target (`/api/v1/targets/metadata`).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetMetadata {
    /// The target's public labels.
    pub target: watchfire_model::Labels,
    /// The metadata.
    pub metadata: MetricMetadata,
}

struct Pool {
    opts: Arc<ScrapePoolOptions>,
    client: Arc<Result<ScrapeClient, ScrapeError>>,
    /// Target groups by source.
    groups: BTreeMap<String, TargetGroup>,
    loops: HashMap<u64, LoopHandle>,
    dropped: Vec<DroppedTarget>,
    dropped_count: usize,
    errors: Vec<String>,
}

struct Inner {
    appendable: Arc<dyn Appendable>,
    options: ScrapeManagerOptions,
    counters: Arc<Counters>,
    pools: Mutex<BTreeMap<String, Pool>>,
    /// Loops told to stop that may still be writing staleness markers.
    retiring: Mutex<Vec<LoopHandle>>,
    /// Serialises reloads and target updates.
    reload: tokio::sync::Mutex<()>,
    stopped: Mutex<bool>,
}

/// Runs every scrape pool. Cheap to clone; clones share the pools.
#[derive(Clone)]
pub struct ScrapeManager {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ScrapeManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeManager")
            .field("pools", &self.scrape_pools())
            .finish()
    }
}

/// Whether a loop's cache stays valid under new options: everything that decides a
/// series' final labels or its validity must be unchanged.
fn cache_reusable(old: &ScrapePoolOptions, new: &ScrapePoolOptions) -> bool {
    old.honor_labels == new.honor_labels
        && old.metric_relabel_configs == new.metric_relabel_configs
        && old.label_limit == new.label_limit
        && old.label_name_length_limit == new.label_name_length_limit
        && old.label_value_length_limit == new.label_value_length_limit
}

impl ScrapeManager {
    /// A manager appending to `appendable`. Must be used inside a Tokio runtime.
    pub fn new(appendable: Arc<dyn Appendable>, options: ScrapeManagerOptions) -> ScrapeManager {
        crate::http::install_crypto_provider();
        ScrapeManager {
            inner: Arc::new(Inner {
                appendable,
                options,
                counters: Arc::new(Counters::default()),
                pools: Mutex::new(BTreeMap::new()),
                retiring: Mutex::new(Vec::new()),
                reload: tokio::sync::Mutex::new(()),
                stopped: Mutex::new(false),
            }),
        }
    }

    /// Applies a whole configuration: jobs with their target groups. Pools whose
    /// options are unchanged only sync their targets, so loops of unchanged targets
    /// keep running with their caches; pools with changed options restart their
    /// loops, handing each cache to the new loop of the same target; removed jobs
    /// and targets stop with staleness markers.
    pub async fn apply_config(&self, jobs: Vec<(ScrapePoolOptions, Vec<TargetGroup>)>) {
        let _guard = self.inner.reload.lock().await;
        if *self.inner.stopped.lock() {
            return;
        }
        // Loops handing their cache to a successor, and whether the cache stays
        // valid as is (else only its staleness duties carry over).
        let mut handovers: Vec<(bool, LoopHandle)> = Vec::new();
        {
            let mut pools = self.inner.pools.lock();
            let new_jobs: HashSet<&str> = jobs.iter().map(|(o, _)| o.job_name.as_str()).collect();
            let removed: Vec<String> = pools
                .keys()
                .filter(|k| !new_jobs.contains(k.as_str()))
                .cloned()
                .collect();
            for job in removed {
                if let Some(pool) = pools.remove(&job) {
                    self.retire(pool.loops.into_values(), StopMode::Removed);
                }
            }
            for (opts, groups) in &jobs {
                let groups: BTreeMap<String, TargetGroup> = groups
                    .iter()
                    .map(|g| (g.source.clone(), g.clone()))
                    .collect();
                match pools.get_mut(&opts.job_name) {
                    // Synced below, with the other pools.
                    Some(pool) if pool.opts.same_as(opts) => pool.groups = groups,
                    Some(pool) => {
                        // Options changed: every loop restarts. Loops of targets that
                        // survive hand their cache over; the rest go stale.
                        let new_opts = Arc::new(opts.clone());
                        let survivors = self.active_hashes(&new_opts, &groups);
                        let reusable = cache_reusable(&pool.opts, &new_opts);
                        let old: Vec<(u64, LoopHandle)> = pool.loops.drain().collect();
                        for (hash, h) in old {
                            if survivors.contains(&hash) {
                                let _ = h.stop.send(StopMode::Handover);
                                handovers.push((reusable, h));
                            } else {
                                self.retire(std::iter::once(h), StopMode::Removed);
                            }
                        }
                        pool.opts = new_opts;
                        pool.client = Arc::new(ScrapeClient::new(&pool.opts));
                        pool.groups = groups;
                    }
                    None => {
                        let opts = Arc::new(opts.clone());
                        pools.insert(
                            opts.job_name.clone(),
                            Pool {
                                client: Arc::new(ScrapeClient::new(&opts)),
                                opts,
                                groups,
                                loops: HashMap::new(),
                                dropped: Vec::new(),
                                dropped_count: 0,
                                errors: Vec::new(),
                            },
                        );
                    }
                }
            }
        }
        // Collect the caches of handed-over loops (outside the lock), then start the
        // new loops.
        let mut caches: HashMap<u64, ScrapeCache> = HashMap::new();
        for (reusable, h) in handovers {
            let hash = h.target.hash;
            if let Ok(cache) = h.join.await {
                let cache = if reusable {
                    cache
                } else {
                    cache.into_inherited()
                };
                caches.insert(hash, cache);
            }
        }
        let mut pools = self.inner.pools.lock();
        for pool in pools.values_mut() {
            self.sync_with(pool, &mut caches);
        }
    }

    /// Replaces the target groups of `job` that share a `source` with the given
    /// ones (a group without targets removes its source) and syncs the pool.
    /// Returns false when the job is unknown.
    pub async fn update_targets(&self, job: &str, groups: Vec<TargetGroup>) -> bool {
        let _guard = self.inner.reload.lock().await;
        if *self.inner.stopped.lock() {
            return false;
        }
        let mut pools = self.inner.pools.lock();
        let Some(pool) = pools.get_mut(job) else {
            return false;
        };
        for g in groups {
            if g.targets.is_empty() {
                pool.groups.remove(&g.source);
            } else {
                pool.groups.insert(g.source.clone(), g);
            }
        }
        self.sync(pool);
        true
    }

    /// Stops every loop, writing staleness markers for all their series now, and
    /// waits for them (including loops still waiting to mark a removed target).
    pub async fn stop(&self) {
        let _guard = self.inner.reload.lock().await;
        *self.inner.stopped.lock() = true;
        let mut handles: Vec<LoopHandle> = Vec::new();
        {
            let mut pools = self.inner.pools.lock();
            for (_, pool) in std::mem::take(&mut *pools) {
                handles.extend(pool.loops.into_values());
            }
            handles.extend(self.inner.retiring.lock().drain(..));
        }
        for h in &handles {
            let _ = h.stop.send(StopMode::Shutdown);
        }
        for h in handles {
            let _ = h.join.await;
        }
    }

    /// Waits until loops of removed targets have written their staleness markers.
    pub async fn wait_retired(&self) {
        let handles: Vec<LoopHandle> = self.inner.retiring.lock().drain(..).collect();
        for h in handles {
            let _ = h.join.await;
        }
    }

    fn retire(&self, loops: impl IntoIterator<Item = LoopHandle>, mode: StopMode) {
        let mut retiring = self.inner.retiring.lock();
        retiring.retain(|h| !h.join.is_finished());
        for h in loops {
            let _ = h.stop.send(mode);
            retiring.push(h);
        }
    }

    fn active_hashes(
        &self,
        opts: &ScrapePoolOptions,
        groups: &BTreeMap<String, TargetGroup>,
    ) -> HashSet<u64> {
        groups
            .values()
            .flat_map(|g| targets_from_group(opts, g))
            .filter_map(|t| match t {
                BuiltTarget::Active(t) => Some(t.hash),
                _ => None,
            })
            .collect()
    }

    fn sync(&self, pool: &mut Pool) {
        self.sync_with(pool, &mut HashMap::new());
    }

    /// Rebuilds the pool's targets from its groups; starts and stops loops.
    fn sync_with(&self, pool: &mut Pool, caches: &mut HashMap<u64, ScrapeCache>) {
        let opts = pool.opts.clone();
        let mut active: Vec<Target> = Vec::new();
        let mut seen = HashSet::new();
        pool.dropped.clear();
        pool.dropped_count = 0;
        pool.errors.clear();
        for g in pool.groups.values() {
            for (i, built) in targets_from_group(&opts, g).into_iter().enumerate() {
                match built {
                    BuiltTarget::Active(t) => {
                        if seen.insert(t.hash) {
                            active.push(*t);
                        }
                    }
                    BuiltTarget::Dropped(discovered) => {
                        pool.dropped_count += 1;
                        if opts.keep_dropped_targets == 0
                            || pool.dropped.len() < opts.keep_dropped_targets
                        {
                            pool.dropped.push(DroppedTarget {
                                discovered_labels: discovered,
                                scrape_pool: opts.job_name.clone(),
                            });
                        }
                    }
                    BuiltTarget::Failed { error, .. } => {
                        let msg = format!("instance {i} in group {}: {error}", g.source);
                        tracing::error!(job = %opts.job_name, "{msg}");
                        pool.errors.push(msg);
                    }
                }
            }
        }
        let stale: Vec<u64> = pool
            .loops
            .keys()
            .filter(|h| !seen.contains(h))
            .copied()
            .collect();
        let removed: Vec<LoopHandle> = stale.iter().filter_map(|h| pool.loops.remove(h)).collect();
        self.retire(removed, StopMode::Removed);
        for t in active {
            if pool.loops.contains_key(&t.hash) {
                continue;
            }
            let cache = caches.remove(&t.hash).unwrap_or_default();
            let cfg = LoopConfig {
                target: Arc::new(t),
                opts: opts.clone(),
                client: pool.client.clone(),
                appendable: self.inner.appendable.clone(),
                counters: self.inner.counters.clone(),
                offset_seed: self.inner.options.offset_seed,
                immediate_staleness: self.inner.options.immediate_end_of_run_staleness,
            };
            let h = LoopHandle::start(cfg, cache);
            pool.loops.insert(h.target.hash, h);
        }
        let forced = if opts.target_limit > 0 && pool.loops.len() > opts.target_limit {
            Some(ScrapeError::TargetLimit {
                count: pool.loops.len(),
                limit: opts.target_limit,
            })
        } else {
            None
        };
        for h in pool.loops.values() {
            *h.shared.forced_error.lock() = forced.clone();
        }
    }

    /// Job names, sorted.
    pub fn scrape_pools(&self) -> Vec<String> {
        self.inner.pools.lock().keys().cloned().collect()
    }

    /// Active targets of every pool, by pool then scrape URL.
    pub fn active_targets(&self) -> Vec<TargetSnapshot> {
        let pools = self.inner.pools.lock();
        let global_host = self.inner.options.global_url_host.as_deref();
        let mut out = Vec::new();
        for (name, pool) in pools.iter() {
            let mut targets: Vec<TargetSnapshot> = pool
                .loops
                .values()
                .map(|h| {
                    let st = h.shared.status.lock().clone();
                    TargetSnapshot {
                        discovered_labels: h.target.discovered_labels.clone(),
                        labels: h.target.labels.clone(),
                        scrape_pool: name.clone(),
                        scrape_url: h.target.url.clone(),
                        global_url: global_url(&h.target.url, global_host),
                        last_error: st.last_error,
                        last_scrape: st.last_scrape,
                        last_scrape_duration: st.last_scrape_duration,
                        health: st.health,
                        scrape_interval: h.target.interval,
                        scrape_timeout: h.target.timeout,
                    }
                })
                .collect();
            targets.sort_by(|a, b| {
                a.scrape_url
                    .cmp(&b.scrape_url)
                    .then(a.labels.cmp(&b.labels))
            });
            out.extend(targets);
        }
        out
    }

    /// Targets dropped by relabeling (at most `keep_dropped_targets` per pool).
    pub fn dropped_targets(&self) -> Vec<DroppedTarget> {
        let pools = self.inner.pools.lock();
        pools
            .values()
            .flat_map(|p| p.dropped.iter().cloned())
            .collect()
    }

    /// Number of dropped targets per pool, including those not kept.
    pub fn dropped_target_counts(&self) -> BTreeMap<String, usize> {
        let pools = self.inner.pools.lock();
        pools
            .iter()
            .map(|(k, p)| (k.clone(), p.dropped_count))
            .collect()
    }

    /// Errors from building targets (no address, bad interval, ...), per pool.
    pub fn target_errors(&self) -> BTreeMap<String, Vec<String>> {
        let pools = self.inner.pools.lock();
        pools
            .iter()
            .filter(|(_, p)| !p.errors.is_empty())
            .map(|(k, p)| (k.clone(), p.errors.clone()))
            .collect()
    }

    /// Metadata for `/api/v1/targets/metadata`: targets whose public labels match
    /// `target_filter`, families equal to `metric` when given, at most `limit`
    /// entries when given.
    pub fn target_metadata(
        &self,
        target_filter: &dyn Fn(&watchfire_model::Labels) -> bool,
        metric: Option<&str>,
        limit: Option<usize>,
    ) -> Vec<TargetMetadata> {
        let pools = self.inner.pools.lock();
        let mut out = Vec::new();
        for pool in pools.values() {
            let mut loops: Vec<&LoopHandle> = pool.loops.values().collect();
            loops.sort_by(|a, b| a.target.url.cmp(&b.target.url));
            for h in loops {
                if !target_filter(&h.target.labels) {
                    continue;
                }
                for md in h.shared.metadata.lock().iter() {
                    if metric.is_some_and(|m| m != md.metric) {
                        continue;
                    }
                    if limit.is_some_and(|l| out.len() >= l) {
                        return out;
                    }
                    out.push(TargetMetadata {
                        target: h.target.labels.clone(),
                        metadata: md.clone(),
                    });
                }
            }
        }
        out
    }

    /// The scraper's own counters.
    pub fn metrics(&self) -> ScrapeMetrics {
        self.inner.counters.snapshot()
    }
}
