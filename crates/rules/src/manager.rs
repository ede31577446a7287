//! The rule manager: one thread per group, each evaluating on its interval at the
//! group's stable offset; reloads carry state over; removed groups' series are
//! marked stale.

use crate::RuleError;
use crate::file::RuleGroup;
use crate::group::{Group, RuleOptions};
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;
use watchfire_model::STALE_NAN;

struct Handle {
    group: Arc<Mutex<Group>>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Handle {
    fn stop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs rule groups.
pub struct RuleManager {
    opts: RuleOptions,
    groups: Mutex<Vec<Handle>>,
    /// Set after the first load: later loads do not restore `for` state.
    loaded_once: AtomicBool,
    running: AtomicBool,
    state_dir: Mutex<Option<PathBuf>>,
}

impl std::fmt::Debug for RuleManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleManager")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl RuleManager {
    /// A manager with no groups; call [`update`](Self::update) and
    /// [`start`](Self::start).
    pub fn new(opts: RuleOptions) -> Arc<Self> {
        Arc::new(RuleManager {
            opts,
            groups: Mutex::new(Vec::new()),
            loaded_once: AtomicBool::new(false),
            running: AtomicBool::new(false),
            state_dir: Mutex::new(None),
        })
    }

    /// The options in force.
    pub fn options(&self) -> &RuleOptions {
        &self.opts
    }

    /// Keeps alert state in `dir` (see [`crate::save_state`]): it is written after
    /// every iteration that changed an alert's state and on [`stop`](Self::stop).
    pub fn set_state_dir(&self, dir: Option<PathBuf>) {
        *self.state_dir.lock() = dir;
    }

    /// Replaces the groups with `defs` (a reload). Groups with the same file and
    /// name keep their alerts and series; rules are matched by name and labels.
    pub fn update(self: &Arc<Self>, defs: &[RuleGroup]) {
        let first = !self.loaded_once.swap(true, Ordering::SeqCst);
        let mut handles = self.groups.lock();
        let mut old: Vec<Handle> = std::mem::take(&mut *handles);
        let mut new_handles = Vec::with_capacity(defs.len());
        for def in defs {
            let mut g = Group::new(def, &self.opts, first);
            if let Some(pos) = old.iter().position(|h| h.group.lock().key() == g.key()) {
                let mut h = old.swap_remove(pos);
                h.stop();
                g.copy_state(&h.group.lock());
            }
            new_handles.push(Handle {
                group: Arc::new(Mutex::new(g)),
                stop: None,
                thread: None,
            });
        }
        // Groups that are gone: their series become stale now.
        let now = self.opts.clock.now_ms();
        for mut h in old {
            h.stop();
            let series = h.group.lock().take_written_series();
            if !series.is_empty() {
                let mut app = self.opts.appendable.appender();
                for l in &series {
                    let _ = app.append(None, l, now, STALE_NAN);
                }
                if let Err(e) = app.commit() {
                    tracing::warn!(err = %e, "stale markers for removed rule group failed");
                }
            }
        }
        new_handles.sort_by(|a, b| {
            let (a, b) = (a.group.lock(), b.group.lock());
            (a.file.as_str(), a.name.as_str()).cmp(&(b.file.as_str(), b.name.as_str()))
        });
        if self.running.load(Ordering::SeqCst) {
            for h in &mut new_handles {
                self.spawn(h);
            }
        }
        *handles = new_handles;
    }

    /// Starts evaluating every group in the background.
    pub fn start(self: &Arc<Self>) {
        if self.running.swap(true, Ordering::SeqCst) {
            return;
        }
        let mut handles = self.groups.lock();
        for h in handles.iter_mut() {
            self.spawn(h);
        }
    }

    /// Stops every group's thread (and saves alert state when a directory is set).
    pub fn stop(&self) {
        self.running.store(false, Ordering::SeqCst);
        let mut handles = self.groups.lock();
        for h in handles.iter_mut() {
            h.stop();
        }
        drop(handles);
        self.save_if_configured();
    }

    fn save_if_configured(&self) {
        let dir = self.state_dir.lock().clone();
        if let Some(dir) = dir
            && let Err(e) = crate::state::save_state(self, &dir)
        {
            tracing::warn!(err = %e, "saving alert state failed");
        }
    }

    fn spawn(self: &Arc<Self>, h: &mut Handle) {
        let (tx, rx) = mpsc::channel::<()>();
        let group = Arc::clone(&h.group);
        let mgr = Arc::downgrade(self);
        let opts = self.opts.clone();
        let name = group.lock().name.clone();
        let thread = std::thread::Builder::new()
            .name(format!("rules-{name}"))
            .spawn(move || run_group(group, opts, rx, mgr));
        match thread {
            Ok(t) => {
                h.stop = Some(tx);
                h.thread = Some(t);
            }
            Err(e) => tracing::error!(group = %name, err = %e, "cannot start rule group"),
        }
    }

    /// Evaluates every group once at `ts` (ms), in file/name order, on the
    /// calling thread (tests, backfills, `test rules`).
    pub fn eval_all_at(&self, ts: i64) {
        let groups: Vec<Arc<Mutex<Group>>> =
            self.groups.lock().iter().map(|h| h.group.clone()).collect();
        for g in groups {
            g.lock().run_iteration(ts, &self.opts);
        }
    }

    /// Restores `for` state of every group now (normally done by each group after
    /// its second iteration following the first load).
    pub fn restore_for_state_all(&self, now: i64) {
        let groups: Vec<Arc<Mutex<Group>>> =
            self.groups.lock().iter().map(|h| h.group.clone()).collect();
        for g in groups {
            g.lock().restore_for_state(now, &self.opts);
        }
    }

    /// Runs `f` over a snapshot-consistent view of every group, in file/name order.
    pub fn with_groups<R>(&self, f: impl FnOnce(&[&Group]) -> R) -> R {
        let groups: Vec<Arc<Mutex<Group>>> =
            self.groups.lock().iter().map(|h| h.group.clone()).collect();
        let guards: Vec<_> = groups.iter().map(|g| g.lock()).collect();
        let refs: Vec<&Group> = guards.iter().map(|g| &**g).collect();
        f(&refs)
    }

    /// Runs `f` on every group mutably (state loading).
    pub(crate) fn for_each_group_mut(&self, mut f: impl FnMut(&mut Group)) {
        let groups: Vec<Arc<Mutex<Group>>> =
            self.groups.lock().iter().map(|h| h.group.clone()).collect();
        for g in groups {
            f(&mut g.lock());
        }
    }

    /// Copies of all groups (for API snapshots without holding locks).
    pub fn groups_snapshot(&self) -> Vec<Group> {
        self.with_groups(|gs| gs.iter().map(|g| (*g).clone()).collect())
    }
}

impl Drop for RuleManager {
    fn drop(&mut self) {
        for h in self.groups.get_mut().iter_mut() {
            h.stop();
        }
    }
}

/// Sleeps until `target` (ms on the options' clock); false when asked to stop.
fn sleep_until(opts: &RuleOptions, rx: &mpsc::Receiver<()>, target: i64) -> bool {
    let wait = (target - opts.clock.now_ms()).max(0) as u64;
    matches!(
        rx.recv_timeout(Duration::from_millis(wait)),
        Err(RecvTimeoutError::Timeout)
    )
}

fn alert_fingerprint(g: &Group) -> Vec<(String, i64, u8)> {
    let mut v = Vec::new();
    for r in &g.rules {
        if let crate::rule::Rule::Alerting(a) = r {
            for al in a.active.values() {
                v.push((al.labels.to_string(), al.active_at, al.state as u8));
            }
        }
    }
    v.sort();
    v
}

fn iterate(group: &Mutex<Group>, opts: &RuleOptions, ts: i64, mgr: &std::sync::Weak<RuleManager>) {
    let changed = {
        let mut g = group.lock();
        let before = alert_fingerprint(&g);
        g.run_iteration(ts, opts);
        before != alert_fingerprint(&g)
    };
    if changed && let Some(m) = mgr.upgrade() {
        m.save_if_configured();
    }
}

fn run_group(
    group: Arc<Mutex<Group>>,
    opts: RuleOptions,
    rx: mpsc::Receiver<()>,
    mgr: std::sync::Weak<RuleManager>,
) {
    let interval = group.lock().interval_ms;
    let mut eval_ts = group.lock().eval_timestamp(opts.clock.now_ms()) + interval;
    if !sleep_until(&opts, &rx, eval_ts) {
        return;
    }
    iterate(&group, &opts, eval_ts, &mgr);
    let mut restore = group.lock().should_restore;
    loop {
        if !sleep_until(&opts, &rx, eval_ts + interval) {
            return;
        }
        let now = opts.clock.now_ms();
        let missed = ((now - eval_ts) / interval - 1).max(0);
        if missed > 0 {
            let mut g = group.lock();
            g.iterations_missed += missed as u64;
            g.iterations_total += missed as u64;
        }
        eval_ts += (missed + 1) * interval;
        iterate(&group, &opts, eval_ts, &mgr);
        if restore {
            // Like Prometheus: restore after the second iteration, once the
            // first iteration's output is in the store.
            group.lock().restore_for_state(opts.clock.now_ms(), &opts);
            restore = false;
        }
    }
}

/// Loads rule files and builds groups: a convenience over
/// [`crate::load_rule_files`] + [`RuleManager::update`].
pub fn load_and_update(mgr: &Arc<RuleManager>, paths: &[PathBuf]) -> Result<(), Vec<RuleError>> {
    let groups = crate::load_rule_files(paths)?;
    mgr.update(&groups);
    Ok(())
}
