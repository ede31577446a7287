//! Watchfire extensions: notification history (every delivery attempt, bounded and
//! persisted), per-receiver delivery status, and alert acknowledgements.

use crate::clock::Millis;
use crate::error::Result;
use crate::persist;
use crate::types::{Alert, Fingerprint, alert_hash};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When the attempt started.
    pub time: Millis,
    /// Aggregation group key.
    #[serde(rename = "groupKey")]
    pub group_key: String,
    /// Receiver name.
    pub receiver: String,
    /// Integration name.
    pub integration: String,
    /// Integration index.
    pub index: usize,
    /// Attempt number within this notification (1-based).
    pub attempt: u32,
    /// `success` or `failure`.
    pub outcome: String,
    /// The error text on failure.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// Whether the error was retryable.
    #[serde(default)]
    pub retryable: bool,
    /// Duration of the attempt in milliseconds (real time).
    #[serde(rename = "durationMs")]
    pub duration_ms: u64,
    /// Fingerprints of the firing alerts sent.
    pub firing: Vec<String>,
    /// Fingerprints of the resolved alerts sent.
    pub resolved: Vec<String>,
}

/// Delivery status of one receiver integration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReceiverStatus {
    /// Receiver name.
    pub receiver: String,
    /// Integration name.
    pub integration: String,
    /// Integration index.
    pub index: usize,
    /// Last attempt time (0 = never).
    #[serde(rename = "lastAttempt")]
    pub last_attempt: Millis,
    /// Last success time (0 = never).
    #[serde(rename = "lastSuccess")]
    pub last_success: Millis,
    /// Last error time (0 = never).
    #[serde(rename = "lastErrorAt")]
    pub last_error_at: Millis,
    /// Last error text.
    #[serde(rename = "lastError")]
    pub last_error: String,
}

/// Query for [`History::query`].
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// Only this receiver.
    pub receiver: Option<String>,
    /// Only this group key.
    pub group_key: Option<String>,
    /// Only attempts that notified this alert fingerprint.
    pub fingerprint: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// At most this many, newest first (default 100).
    pub limit: Option<usize>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct HistoryFile {
    entries: Vec<HistoryEntry>,
    receivers: Vec<ReceiverStatus>,
}

/// Bounded history plus receiver status.
#[derive(Debug)]
pub struct History {
    entries: RwLock<VecDeque<HistoryEntry>>,
    status: RwLock<BTreeMap<(String, String, usize), ReceiverStatus>>,
    cap: usize,
    path: Option<PathBuf>,
}

impl History {
    /// Opens (loading a snapshot) with room for `cap` entries.
    pub fn open(path: Option<PathBuf>, cap: usize) -> Result<Self> {
        let mut entries = VecDeque::new();
        let mut status = BTreeMap::new();
        if let Some(p) = &path
            && let Some(f) = persist::read::<HistoryFile>(p)?
        {
            entries.extend(f.entries);
            while entries.len() > cap {
                entries.pop_front();
            }
            for r in f.receivers {
                status.insert((r.receiver.clone(), r.integration.clone(), r.index), r);
            }
        }
        Ok(History {
            entries: RwLock::new(entries),
            status: RwLock::new(status),
            cap,
            path,
        })
    }

    /// Records an attempt and updates the receiver status.
    pub fn record(&self, e: HistoryEntry) {
        {
            let mut st = self.status.write();
            let s = st
                .entry((e.receiver.clone(), e.integration.clone(), e.index))
                .or_insert_with(|| ReceiverStatus {
                    receiver: e.receiver.clone(),
                    integration: e.integration.clone(),
                    index: e.index,
                    ..Default::default()
                });
            s.last_attempt = e.time;
            if e.outcome == "success" {
                s.last_success = e.time;
            } else {
                s.last_error_at = e.time;
                s.last_error = e.error.clone();
            }
        }
        let mut h = self.entries.write();
        h.push_back(e);
        while h.len() > self.cap {
            h.pop_front();
        }
    }

    /// Matching entries, newest first.
    pub fn query(&self, q: &HistoryQuery) -> Vec<HistoryEntry> {
        let limit = q.limit.unwrap_or(100);
        self.entries
            .read()
            .iter()
            .rev()
            .filter(|e| q.receiver.as_ref().is_none_or(|r| &e.receiver == r))
            .filter(|e| q.group_key.as_ref().is_none_or(|g| &e.group_key == g))
            .filter(|e| q.outcome.as_ref().is_none_or(|o| &e.outcome == o))
            .filter(|e| {
                q.fingerprint
                    .as_ref()
                    .is_none_or(|f| e.firing.contains(f) || e.resolved.contains(f))
            })
            .take(limit)
            .cloned()
            .collect()
    }

    /// Status of every integration that has been tried.
    pub fn receiver_status(&self) -> Vec<ReceiverStatus> {
        self.status.read().values().cloned().collect()
    }

    /// Writes the snapshot.
    pub fn snapshot(&self) -> Result<()> {
        let Some(p) = &self.path else { return Ok(()) };
        let f = HistoryFile {
            entries: self.entries.read().iter().cloned().collect(),
            receivers: self.receiver_status(),
        };
        persist::write_atomic(p, &f)
    }
}

/// An acknowledgement of one alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Alert fingerprint.
    pub fingerprint: String,
    /// Who acknowledged.
    pub by: String,
    /// When.
    pub at: Millis,
    /// Why.
    pub comment: String,
    /// Hash of labels and annotations when acknowledged; a change clears the ack.
    pub content_hash: u64,
}

/// Hash of an alert's labels and annotations (what an ack is bound to).
pub fn content_hash(a: &Alert) -> u64 {
    let mut h = alert_hash(&a.labels);
    h ^= alert_hash(&a.annotations).rotate_left(1);
    h
}

/// Acknowledgements by fingerprint, persisted.
#[derive(Debug)]
pub struct Acks {
    acks: RwLock<HashMap<Fingerprint, Ack>>,
    path: Option<PathBuf>,
}

impl Acks {
    /// Opens, loading a snapshot.
    pub fn open(path: Option<PathBuf>) -> Result<Self> {
        let mut map = HashMap::new();
        if let Some(p) = &path
            && let Some(list) = persist::read::<Vec<Ack>>(p)?
        {
            for a in list {
                if let Some(fp) = Fingerprint::parse(&a.fingerprint) {
                    map.insert(fp, a);
                }
            }
        }
        Ok(Acks {
            acks: RwLock::new(map),
            path,
        })
    }
    /// Sets an ack.
    pub fn set(&self, fp: Fingerprint, ack: Ack) {
        self.acks.write().insert(fp, ack);
    }
    /// Removes an ack; whether one existed.
    pub fn remove(&self, fp: Fingerprint) -> bool {
        self.acks.write().remove(&fp).is_some()
    }
    /// The ack of an alert.
    pub fn get(&self, fp: Fingerprint) -> Option<Ack> {
        self.acks.read().get(&fp).cloned()
    }
    /// All acks.
    pub fn list(&self) -> Vec<Ack> {
        let mut v: Vec<Ack> = self.acks.read().values().cloned().collect();
        v.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
        v
    }
    /// Clears the ack of `a` if it resolved or its content changed.
    pub fn check(&self, fp: Fingerprint, a: &Alert, now: Millis) {
        // Most alerts have no ack: only a read lock for them.
        if !self.acks.read().contains_key(&fp) {
            return;
        }
        let mut acks = self.acks.write();
        if let Some(ack) = acks.get(&fp)
            && (a.resolved_at(now) || ack.content_hash != content_hash(a))
        {
            acks.remove(&fp);
        }
    }
    /// Whether `fp` is currently acknowledged.
    pub fn is_acked(&self, fp: Fingerprint) -> bool {
        self.acks.read().contains_key(&fp)
    }
    /// Drops acks whose alerts are gone.
    pub fn retain(&self, keep: impl Fn(Fingerprint) -> bool) {
        self.acks.write().retain(|fp, _| keep(*fp));
    }
    /// Writes the snapshot.
    pub fn snapshot(&self) -> Result<()> {
        let Some(p) = &self.path else { return Ok(()) };
        persist::write_atomic(p, &self.list())
    }
}
