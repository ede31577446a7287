//! Backtesting (beyond Prometheus): replay rule groups over stored history with
//! the real evaluation and state machine, and report alert transitions.
//!
//! Recording rules run too, writing into an in-memory overlay that later rules
//! read together with the stored data, so alerts built on recorded series work.
//! Nothing is written to the real store and nothing is sent.

use crate::alerting::AlertState;
use crate::file::RuleGroup;
use crate::group::{Group, RuleOptions};
use crate::memstore::MemStorage;
use crate::rule::Rule;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use watchfire_model::{Labels, Matcher, Timestamp};
use watchfire_promql::Engine;
use watchfire_storage::{
    Querier, Queryable, SelectHints, SeriesSet, StorageError, merge_series_sets,
};

/// One change of an alert's state during a backtest.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertTransition {
    /// Evaluation time of the change (ms).
    pub t: i64,
    /// Group file.
    pub file: String,
    /// Group name.
    pub group: String,
    /// Alerting rule name.
    pub alertname: String,
    /// `pending`, `firing` or `resolved`.
    pub state: String,
    /// Rendered alert labels.
    pub labels: BTreeMap<String, String>,
    /// Rendered annotations.
    pub annotations: BTreeMap<String, String>,
    /// When the alert became active (ms).
    pub active_at: i64,
    /// The sample value at the transition.
    pub value: f64,
}

/// Reads the stored data with the overlay's series merged in.
struct Layered {
    base: Arc<dyn Queryable>,
    overlay: Arc<MemStorage>,
}

struct LayeredQuerier {
    base: Box<dyn Querier>,
    overlay: Box<dyn Querier>,
}

impl Querier for LayeredQuerier {
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<SeriesSet, StorageError> {
        Ok(merge_series_sets(vec![
            self.base.select(hints, matchers)?,
            self.overlay.select(hints, matchers)?,
        ]))
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut v = self.base.label_names(matchers)?;
        v.extend(self.overlay.label_names(matchers)?);
        v.sort();
        v.dedup();
        Ok(v)
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut v = self.base.label_values(name, matchers)?;
        v.extend(self.overlay.label_values(name, matchers)?);
        v.sort();
        v.dedup();
        Ok(v)
    }
}

impl Queryable for Layered {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(LayeredQuerier {
            base: self.base.querier(mint, maxt)?,
            overlay: self.overlay.querier(mint, maxt)?,
        }))
    }
}

fn to_map(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|x| (x.name.clone(), x.value.clone()))
        .collect()
}

/// Replays `groups` from `from_ms` to `to_ms` every `step_ms` (the group's own
/// interval is not used, so one step applies to all) and returns every
/// pending/firing/resolved transition in time order.
pub fn backtest(
    groups: &[RuleGroup],
    queryable: Arc<dyn Queryable>,
    from_ms: i64,
    to_ms: i64,
    step_ms: i64,
) -> Vec<AlertTransition> {
    let step = step_ms.max(1);
    let overlay = Arc::new(MemStorage::new());
    let layered: Arc<dyn Queryable> = Arc::new(Layered {
        base: queryable,
        overlay: overlay.clone(),
    });
    let mut opts = RuleOptions::new(Engine::default(), layered, overlay);
    opts.default_interval_ms = step;
    let mut rt: Vec<Group> = groups.iter().map(|g| Group::new(g, &opts, false)).collect();
    // Last reported state per (group index, rule index, labels).
    let mut last: HashMap<(usize, usize, Labels), AlertState> = HashMap::new();
    let mut out = Vec::new();
    let mut ts = from_ms;
    while ts <= to_ms {
        for (gi, g) in rt.iter_mut().enumerate() {
            g.eval(ts, &opts);
            for (ri, r) in g.rules.iter().enumerate() {
                let Rule::Alerting(a) = r else { continue };
                let mut keys: Vec<&Labels> = a.active.keys().collect();
                keys.sort();
                for k in keys {
                    let al = &a.active[k];
                    let key = (gi, ri, k.clone());
                    let prev = last.get(&key).copied();
                    let now_state = al.state;
                    if prev == Some(now_state) {
                        continue;
                    }
                    let state = match now_state {
                        AlertState::Inactive if prev.is_some() => "resolved",
                        AlertState::Inactive => continue,
                        AlertState::Pending => "pending",
                        AlertState::Firing => "firing",
                    };
                    last.insert(key, now_state);
                    out.push(AlertTransition {
                        t: ts,
                        file: g.file.clone(),
                        group: g.name.clone(),
                        alertname: a.name.clone(),
                        state: state.into(),
                        labels: to_map(&al.labels),
                        annotations: al.annotations.clone(),
                        active_at: al.active_at,
                        value: al.value,
                    });
                }
                // Pending alerts that vanished are dropped by the state machine:
                // report them as resolved too.
                let gone: Vec<(usize, usize, Labels)> = last
                    .iter()
                    .filter(|((g2, r2, l), st)| {
                        *g2 == gi
                            && *r2 == ri
                            && **st != AlertState::Inactive
                            && !a.active.contains_key(l)
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in gone {
                    out.push(AlertTransition {
                        t: ts,
                        file: g.file.clone(),
                        group: g.name.clone(),
                        alertname: a.name.clone(),
                        state: "resolved".into(),
                        labels: to_map(&k.2),
                        annotations: BTreeMap::new(),
                        active_at: 0,
                        value: 0.0,
                    });
                    last.remove(&k);
                }
            }
        }
        ts += step;
    }
    out
}
