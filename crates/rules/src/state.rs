//! Alert state kept across restarts (beyond Prometheus).
//!
//! [`save_state`] writes every alert of every alerting rule (pending, firing and
//! recently resolved) to `<dir>/alerts-state.json`, atomically. [`load_state`]
//! puts them back into the rules with the same file, group, name and labels.
//!
//! Precedence: alerts loaded from the state file keep their exact state and
//! `activeAt`; the Prometheus-style `ALERTS_FOR_STATE` restore (which only
//! adjusts `activeAt` of pending alerts, within the outage tolerance) skips them
//! and only applies to alerts the file did not know. So a firing alert stays
//! firing with its original `activeAt`, whatever the outage length.

use crate::RuleError;
use crate::alerting::{Alert, AlertState};
use crate::manager::RuleManager;
use crate::rule::Rule;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use watchfire_model::Labels;

/// The state file's name inside the state directory.
pub const STATE_FILE: &str = "alerts-state.json";

#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    saved_at: i64,
    rules: Vec<RuleState>,
}

#[derive(Debug, Serialize, Deserialize)]
struct RuleState {
    file: String,
    group: String,
    name: String,
    labels: BTreeMap<String, String>,
    alerts: Vec<AlertRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct AlertRecord {
    state: AlertState,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    value: f64,
    active_at: i64,
    fired_at: Option<i64>,
    resolved_at: Option<i64>,
    last_sent_at: Option<i64>,
    valid_until: Option<i64>,
    keep_firing_since: Option<i64>,
}

/// File, group, rule name and rule labels.
type RuleKey = (String, String, String, BTreeMap<String, String>);

/// Writes the alert state of every group to `dir/alerts-state.json`.
pub fn save_state(mgr: &RuleManager, dir: &Path) -> Result<(), RuleError> {
    let now = mgr.options().clock.now_ms();
    let rules = mgr.with_groups(|groups| {
        let mut out = Vec::new();
        for g in groups {
            for r in &g.rules {
                let Rule::Alerting(a) = r else { continue };
                let mut alerts: Vec<AlertRecord> = a
                    .active
                    .values()
                    .map(|al| AlertRecord {
                        state: al.state,
                        labels: al
                            .labels
                            .iter()
                            .map(|l| (l.name.clone(), l.value.clone()))
                            .collect(),
                        annotations: al.annotations.clone(),
                        value: al.value,
                        active_at: al.active_at,
                        fired_at: al.fired_at,
                        resolved_at: al.resolved_at,
                        last_sent_at: al.last_sent_at,
                        valid_until: al.valid_until,
                        keep_firing_since: al.keep_firing_since,
                    })
                    .collect();
                alerts.sort_by(|x, y| x.labels.cmp(&y.labels));
                out.push(RuleState {
                    file: g.file.clone(),
                    group: g.name.clone(),
                    name: a.name.clone(),
                    labels: a.labels.clone(),
                    alerts,
                });
            }
        }
        out
    });
    let file = StateFile {
        version: 1,
        saved_at: now,
        rules,
    };
    let io = |e: std::io::Error, what: &str| RuleError::State {
        path: dir.join(STATE_FILE).display().to_string(),
        message: format!("{what}: {e}"),
    };
    std::fs::create_dir_all(dir).map_err(|e| io(e, "create directory"))?;
    let body = serde_json::to_vec_pretty(&file).map_err(|e| RuleError::State {
        path: dir.join(STATE_FILE).display().to_string(),
        message: format!("encode: {e}"),
    })?;
    let tmp = dir.join(format!("{STATE_FILE}.tmp"));
    std::fs::write(&tmp, body).map_err(|e| io(e, "write"))?;
    std::fs::rename(&tmp, dir.join(STATE_FILE)).map_err(|e| io(e, "rename"))?;
    Ok(())
}

/// Loads `dir/alerts-state.json` (if present) into the manager's current groups.
/// Returns how many alerts were restored. Call after [`RuleManager::update`]
/// and before [`RuleManager::start`].
pub fn load_state(mgr: &RuleManager, dir: &Path) -> Result<usize, RuleError> {
    let path = dir.join(STATE_FILE);
    let body = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            return Err(RuleError::State {
                path: path.display().to_string(),
                message: e.to_string(),
            });
        }
    };
    let file: StateFile = serde_json::from_slice(&body).map_err(|e| RuleError::State {
        path: path.display().to_string(),
        message: format!("decode: {e}"),
    })?;
    let mut by_rule: BTreeMap<RuleKey, Vec<AlertRecord>> = BTreeMap::new();
    for r in file.rules {
        by_rule.insert((r.file, r.group, r.name, r.labels), r.alerts);
    }
    let mut n = 0;
    mgr.for_each_group_mut(|g| {
        let (file, group) = (g.file.clone(), g.name.clone());
        for r in &mut g.rules {
            let Rule::Alerting(a) = r else { continue };
            let key = (
                file.clone(),
                group.clone(),
                a.name.clone(),
                a.labels.clone(),
            );
            let Some(alerts) = by_rule.remove(&key) else {
                continue;
            };
            for rec in alerts {
                let labels = Labels::from_pairs(rec.labels.iter());
                n += 1;
                a.active.insert(
                    labels.clone(),
                    Alert {
                        state: rec.state,
                        labels,
                        annotations: rec.annotations,
                        value: rec.value,
                        active_at: rec.active_at,
                        fired_at: rec.fired_at,
                        resolved_at: rec.resolved_at,
                        // Send again at the first evaluation: an alertmanager that
                        // restarted with us may have lost the alert, and one that
                        // kept it just refreshes it.
                        last_sent_at: None,
                        valid_until: rec.valid_until,
                        keep_firing_since: rec.keep_firing_since,
                        from_state_file: true,
                    },
                );
            }
        }
    });
    Ok(n)
}
