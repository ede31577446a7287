//! The notification log: per (group key, receiver integration) the alert hashes last
//! notified as firing and resolved, and when. The dedup stage reads it and the record
//! stage writes it, so restarts never re-send what was already delivered.

use crate::clock::Millis;
use crate::error::{Error, Result};
use crate::persist;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Identifies one integration of a receiver (Alertmanager's `nflogpb.Receiver`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct ReceiverKey {
    /// Receiver name.
    pub receiver: String,
    /// Integration name (`webhook`, `email`, ...).
    pub integration: String,
    /// Index among the receiver's integrations of that kind.
    pub index: usize,
}

impl std::fmt::Display for ReceiverKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}[{}]", self.receiver, self.integration, self.index)
    }
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NflogEntry {
    /// Aggregation group key.
    pub group_key: String,
    /// The integration.
    pub receiver: ReceiverKey,
    /// Hashes of the alerts notified as firing.
    pub firing: Vec<u64>,
    /// Hashes of the alerts notified as resolved.
    pub resolved: Vec<u64>,
    /// When the notification was sent.
    pub timestamp: Millis,
    /// When the entry may be dropped.
    pub expires_at: Millis,
}

impl NflogEntry {
    /// Whether every hash in `firing` was in the last firing set.
    pub fn is_firing_subset(&self, firing: &HashSet<u64>) -> bool {
        let set: HashSet<u64> = self.firing.iter().copied().collect();
        firing.iter().all(|h| set.contains(h))
    }
    /// Whether every hash in `resolved` was in the last resolved set.
    pub fn is_resolved_subset(&self, resolved: &HashSet<u64>) -> bool {
        let set: HashSet<u64> = self.resolved.iter().copied().collect();
        resolved.iter().all(|h| set.contains(h))
    }
}

/// Entries by group key, then integration: a lookup borrows the caller's key instead of
/// building an owned one (this runs for every notification).
type Entries = HashMap<String, HashMap<ReceiverKey, NflogEntry>>;

/// The log.
#[derive(Debug)]
pub struct Nflog {
    entries: RwLock<Entries>,
    retention_ms: i64,
    path: Option<PathBuf>,
    /// Set by every change, cleared by [`Nflog::snapshot_if_dirty`].
    dirty: AtomicBool,
    /// Serializes snapshot writers (they share the temp file).
    writing: Mutex<()>,
}

impl Nflog {
    /// A log persisted at `path` (None = memory only), loading an existing snapshot.
    pub fn open(path: Option<PathBuf>, retention_ms: i64) -> Result<Self> {
        let mut map = Entries::new();
        if let Some(p) = &path
            && let Some(list) = persist::read::<Vec<NflogEntry>>(p)?
        {
            for e in list {
                map.entry(e.group_key.clone())
                    .or_default()
                    .insert(e.receiver.clone(), e);
            }
        }
        Ok(Nflog {
            entries: RwLock::new(map),
            retention_ms,
            path,
            dirty: AtomicBool::new(false),
            writing: Mutex::new(()),
        })
    }

    /// The last entry for a group and integration.
    pub fn query(&self, group_key: &str, receiver: &ReceiverKey) -> Option<NflogEntry> {
        self.with_entry(group_key, receiver, |e| e.cloned())
    }

    /// Calls `f` with the last entry for a group and integration, under the read lock
    /// (no copy).
    pub fn with_entry<R>(
        &self,
        group_key: &str,
        receiver: &ReceiverKey,
        f: impl FnOnce(Option<&NflogEntry>) -> R,
    ) -> R {
        let entries = self.entries.read();
        f(entries.get(group_key).and_then(|m| m.get(receiver)))
    }

    /// Records a notification. The entry lives for `expiry` (2x repeat_interval, as
    /// Alertmanager passes) when that is shorter than the retention.
    pub fn log(
        &self,
        group_key: &str,
        receiver: &ReceiverKey,
        firing: Vec<u64>,
        resolved: Vec<u64>,
        expiry_ms: i64,
        now: Millis,
    ) {
        let mut expires_at = now + self.retention_ms;
        if expiry_ms > 0 && self.retention_ms > expiry_ms {
            expires_at = now + expiry_ms;
        }
        let e = NflogEntry {
            group_key: group_key.to_string(),
            receiver: receiver.clone(),
            firing,
            resolved,
            timestamp: now,
            expires_at,
        };
        let mut entries = self.entries.write();
        match entries.get_mut(group_key) {
            Some(m) => {
                m.insert(receiver.clone(), e);
            }
            None => {
                entries.insert(
                    group_key.to_string(),
                    HashMap::from([(receiver.clone(), e)]),
                );
            }
        }
        self.dirty.store(true, Ordering::Release);
    }

    /// Pushes an entry's expiry to at least `expires_at` (acknowledged groups).
    pub fn extend(&self, group_key: &str, receiver: &ReceiverKey, expires_at: Millis) {
        if let Some(e) = self
            .entries
            .write()
            .get_mut(group_key)
            .and_then(|m| m.get_mut(receiver))
        {
            e.expires_at = e.expires_at.max(expires_at);
            self.dirty.store(true, Ordering::Release);
        }
    }

    /// Drops expired entries; returns how many.
    pub fn gc(&self, now: Millis) -> usize {
        let mut e = self.entries.write();
        let mut dropped = 0;
        e.retain(|_, m| {
            let before = m.len();
            m.retain(|_, v| v.expires_at > now);
            dropped += before - m.len();
            !m.is_empty()
        });
        dropped
    }

    /// All entries.
    pub fn list(&self) -> Vec<NflogEntry> {
        self.entries
            .read()
            .values()
            .flat_map(|m| m.values().cloned())
            .collect()
    }

    /// Writes the snapshot when something changed since the last one; whether it wrote.
    /// The runtime calls this every second, so one file write covers all notifications
    /// of that second and a crash forgets at most a second of deliveries.
    pub fn snapshot_if_dirty(&self) -> Result<bool> {
        if self.path.is_none() || !self.dirty.swap(false, Ordering::AcqRel) {
            return Ok(false);
        }
        let r = self.snapshot();
        if r.is_err() {
            // Try again next time.
            self.dirty.store(true, Ordering::Release);
        }
        r.map(|()| true)
    }

    /// Writes the snapshot (no-op without a path). The entries are encoded from the
    /// map under the read lock, without copying them (this runs every second while
    /// notifications go out); the file is written after the lock is released.
    pub fn snapshot(&self) -> Result<()> {
        let Some(p) = &self.path else { return Ok(()) };
        let _w = self.writing.lock();
        let io = |source| Error::Io {
            path: p.to_path_buf(),
            source,
        };
        let data = {
            let entries = self.entries.read();
            let mut list: Vec<&NflogEntry> = entries.values().flat_map(|m| m.values()).collect();
            list.sort_by(|a, b| (&a.group_key, &a.receiver).cmp(&(&b.group_key, &b.receiver)));
            serde_json::to_vec(&list).map_err(|e| io(std::io::Error::other(e)))?
        };
        write_file_atomic(p, &data).map_err(io)
    }
}

/// `persist::write_atomic` for bytes already encoded: temp file, fsync, rename, so a
/// crash never leaves a torn file.
fn write_file_atomic(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
