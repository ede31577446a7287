//! Aggregation groups and their timers (Alertmanager's `dispatch` package). Each group is
//! keyed by (route, group labels); its first flush is group_wait after creation (at once
//! when an alert is older than group_wait), then one every group_interval on a fixed grid.
//! One scheduler task sleeps on the injected clock until the earliest due group.

use crate::alertmanager::{Core, Runtime};
use crate::clock::Millis;
use crate::pipeline;
use crate::types::{Alert, Fingerprint, LabelSet};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use watchfire_alertmanager_config::{Route, RouteId, RouteOpts};

/// Groups that became empty are dropped by this periodic sweep, as Alertmanager's
/// dispatcher maintenance does every 30s.
const GROUP_GC_MS: i64 = 30_000;

/// What does not change between flushes of one group: shared by every flush of it, so a
/// flush does not copy the key, the labels or the route options.
#[derive(Debug)]
pub struct GroupInfo {
    /// Group key (`{}/{...}:{...}`).
    pub group_key: String,
    /// Receiver name.
    pub receiver: String,
    /// Group labels.
    pub group_labels: LabelSet,
    /// Route options.
    pub opts: RouteOpts,
}

/// What a flush hands to the pipeline.
#[derive(Debug, Clone)]
pub struct FlushInfo {
    /// The group.
    pub group: Arc<GroupInfo>,
    /// Time of the timer tick.
    pub tick: Millis,
    /// The group's identity, for recording what the time stages find.
    pub(crate) id: GroupId,
    /// The dispatcher generation the flush started in (a reload starts a new one).
    pub(crate) generation: u64,
}

/// One alert of a flush: the stored alert (shared, not copied) and its end time as the
/// notification sees it. Firing alerts get `0` so they cannot resolve while the
/// notification is in flight; the mute stage may resolve a silenced one (see
/// [`crate::mute::mute_outcome`]).
#[derive(Debug, Clone)]
pub struct FlushedAlert {
    /// Fingerprint of the labels.
    pub fp: Fingerprint,
    /// The alert as stored when the group flushed.
    pub alert: Arc<Alert>,
    /// Effective end time (`0` = firing).
    pub ends_at: Millis,
}

impl FlushedAlert {
    /// Resolved at `now` (see [`Alert::resolved_at`]).
    pub fn resolved_at(&self, now: Millis) -> bool {
        self.ends_at != 0 && self.ends_at <= now
    }
    /// `firing` or `resolved` at `now`.
    pub fn status_at(&self, now: Millis) -> &'static str {
        if self.resolved_at(now) {
            "resolved"
        } else {
            "firing"
        }
    }
}

#[derive(Debug)]
pub(crate) struct Group {
    pub info: Arc<GroupInfo>,
    pub alerts: BTreeMap<Fingerprint, Arc<Alert>>,
    pub next_flush: Millis,
    pub has_flushed: bool,
    pub in_flight: bool,
    /// The time intervals muting the group at its last flush (Alertmanager's group marker).
    pub muted_by: Vec<String>,
}

/// A group's identity: (route, fingerprint of the group labels).
pub(crate) type GroupId = (RouteId, Fingerprint);

#[derive(Debug, Default)]
pub(crate) struct DispatchState {
    pub groups: FxHashMap<GroupId, Group>,
    /// Timer queue: `(next_flush, id)` of every group not in flight, so finding the due
    /// groups and the next deadline does not scan all groups (with thousands of groups
    /// each flush completion would otherwise cost two full scans).
    pub timers: BTreeSet<(Millis, GroupId)>,
    /// Bumped on config reload so flushes of old groups don't touch new ones.
    pub generation: u64,
    pub last_group_gc: Millis,
}

/// Snapshot of one aggregation group for the API.
#[derive(Debug, Clone)]
pub struct GroupSnapshot {
    /// Group labels.
    pub labels: LabelSet,
    /// Receiver name.
    pub receiver: String,
    /// Group key.
    pub group_key: String,
    /// Alerts in the group.
    pub alerts: Vec<Alert>,
    /// The time intervals that muted the group at its last flush.
    pub muted_by: Vec<String>,
}

/// The fingerprint of a route's group labels for `labels`, without building the label
/// set (equal to `Fingerprint::of(&route.group_labels(labels))`).
fn group_fingerprint(route: &Route, labels: &LabelSet) -> Fingerprint {
    let all = route.opts.group_by_all;
    Fingerprint::of_pairs(
        labels
            .iter()
            .filter(|(k, _)| all || route.opts.group_by.iter().any(|g| g == *k)),
    )
}

/// Alertmanager's alert order in notifications: by `job`, then `instance`, then start
/// time, then labels.
pub fn sort_alerts(v: &mut [Alert]) {
    v.sort_by(alert_order);
}

fn alert_order(a: &Alert, b: &Alert) -> std::cmp::Ordering {
    for k in ["job", "instance"] {
        match (a.labels.get(k), b.labels.get(k)) {
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            (Some(_), None) => return std::cmp::Ordering::Less,
            (None, Some(_)) => return std::cmp::Ordering::Greater,
            _ => {}
        }
    }
    a.starts_at
        .cmp(&b.starts_at)
        .then_with(|| a.labels.cmp(&b.labels))
}

impl Core {
    /// Routes (stored, merged) alerts into their aggregation groups, under one lock.
    pub(crate) fn dispatch_alerts(&self, rt: &Runtime, alerts: Vec<(Fingerprint, Arc<Alert>)>) {
        if alerts.is_empty() {
            return;
        }
        let now = self.clock.now();
        let mut guard = self.dispatch.lock();
        let st = &mut *guard;
        for (fp, alert) in alerts {
            for route in rt.tree.match_route(&alert.labels) {
                let a = Arc::clone(&alert);
                let gid = (route.id, group_fingerprint(route, &a.labels));
                let gw = route.opts.group_wait.as_millis();
                let g = st.groups.entry(gid).or_insert_with(|| {
                    let labels = route.group_labels(&a.labels);
                    st.timers.insert((now + gw, gid));
                    Group {
                        info: Arc::new(GroupInfo {
                            group_key: format!(
                                "{}:{}",
                                route.key,
                                watchfire_alertmanager_config::label_set_string(&labels)
                            ),
                            receiver: route.opts.receiver.clone(),
                            group_labels: labels,
                            opts: route.opts.clone(),
                        }),
                        alerts: BTreeMap::new(),
                        next_flush: now + gw,
                        has_flushed: false,
                        in_flight: false,
                        muted_by: Vec::new(),
                    }
                });
                // An alert older than group_wait needs no further waiting.
                if !g.has_flushed && a.starts_at + gw < now && g.next_flush > now {
                    if !g.in_flight {
                        st.timers.remove(&(g.next_flush, gid));
                        st.timers.insert((now, gid));
                    }
                    g.next_flush = now;
                }
                g.alerts.insert(fp, a);
            }
        }
        drop(guard);
        self.wake.notify_one();
    }

    /// Earliest instant something is due.
    pub(crate) fn next_deadline(&self) -> Millis {
        let st = self.dispatch.lock();
        let mut next = st.last_group_gc + GROUP_GC_MS;
        if let Some((t, _)) = st.timers.first() {
            next = next.min(*t);
        }
        next.min(*self.next_maintenance.lock())
    }

    /// Starts the flush of every due group; returns how many were started.
    pub(crate) fn flush_due(self: &Arc<Self>) -> usize {
        let now = self.clock.now();
        let rt = self.runtime();
        let mut started = Vec::new();
        let generation;
        {
            let mut guard = self.dispatch.lock();
            let st = &mut *guard;
            generation = st.generation;
            if now >= st.last_group_gc + GROUP_GC_MS {
                st.last_group_gc = now;
                let timers = &mut st.timers;
                st.groups.retain(|gid, g| {
                    let keep = g.in_flight || !g.alerts.is_empty();
                    if !keep {
                        timers.remove(&(g.next_flush, *gid));
                    }
                    keep
                });
            }
            while let Some(&(due, gid)) = st.timers.first() {
                if due > now {
                    break;
                }
                st.timers.pop_first();
                let Some(g) = st.groups.get_mut(&gid) else {
                    continue;
                };
                let tick = g.next_flush;
                g.has_flushed = true;
                g.next_flush = tick + g.info.opts.group_interval.as_millis();
                if g.alerts.is_empty() {
                    st.timers.insert((g.next_flush, gid));
                    continue;
                }
                g.in_flight = true;
                let mut alerts = Vec::with_capacity(g.alerts.len());
                let mut resolved = Vec::new();
                for (fp, a) in &g.alerts {
                    let ends_at = if a.resolved_at(now) {
                        resolved.push((*fp, a.updated_at));
                        a.ends_at
                    } else {
                        0
                    };
                    alerts.push(FlushedAlert {
                        fp: *fp,
                        alert: Arc::clone(a),
                        ends_at,
                    });
                }
                alerts.sort_by(|a, b| alert_order(&a.alert, &b.alert));
                let info = FlushInfo {
                    group: Arc::clone(&g.info),
                    tick,
                    id: gid,
                    generation,
                };
                started.push((gid, info, alerts, resolved));
            }
        }
        let n = started.len();
        if n > 0 {
            self.in_flight.send_modify(|c| *c += n);
        }
        for (gid, info, alerts, resolved) in started {
            let core = Arc::clone(self);
            let rt = Arc::clone(&rt);
            tokio::spawn(async move {
                let ok = pipeline::run(&core, &rt, info, alerts).await;
                {
                    let mut guard = core.dispatch.lock();
                    let st = &mut *guard;
                    if st.generation == generation
                        && let Some(g) = st.groups.get_mut(&gid)
                    {
                        g.in_flight = false;
                        st.timers.insert((g.next_flush, gid));
                        if ok {
                            // Drop the resolved alerts just notified, unless they changed
                            // (fired again) meanwhile.
                            for (fp, updated) in resolved {
                                if g.alerts.get(&fp).is_some_and(|a| a.updated_at == updated) {
                                    g.alerts.remove(&fp);
                                }
                            }
                        }
                    }
                }
                core.in_flight.send_modify(|c| *c -= 1);
                core.wake.notify_one();
            });
        }
        n
    }

    /// Drops all groups and re-dispatches the stored alerts (config reload).
    pub(crate) fn rebuild_groups(&self, rt: &Runtime) {
        {
            let mut st = self.dispatch.lock();
            st.groups.clear();
            st.timers.clear();
            st.generation += 1;
        }
        self.dispatch_alerts(rt, self.store.list_shared());
    }

    /// The groups with their alerts.
    pub(crate) fn group_snapshots(&self) -> Vec<GroupSnapshot> {
        let st = self.dispatch.lock();
        st.groups
            .values()
            .map(|g| GroupSnapshot {
                labels: g.info.group_labels.clone(),
                receiver: g.info.receiver.clone(),
                group_key: g.info.group_key.clone(),
                alerts: g.alerts.values().map(|a| Alert::clone(a)).collect(),
                muted_by: g.muted_by.clone(),
            })
            .collect()
    }

    /// Records which time intervals mute a group (see [`GroupSnapshot::muted_by`]).
    pub(crate) fn set_group_muted_by(&self, info: &FlushInfo, muted_by: Vec<String>) {
        let mut st = self.dispatch.lock();
        if st.generation != info.generation {
            return;
        }
        if let Some(g) = st.groups.get_mut(&info.id) {
            g.muted_by = muted_by;
        }
    }
}
