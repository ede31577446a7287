//! The alert store (Alertmanager's `provider/mem` plus its marker): alerts by fingerprint,
//! merged on re-post, garbage-collected once resolved.

use crate::clock::Millis;
use crate::types::{Alert, AlertStatus, Fingerprint};
use parking_lot::RwLock;
use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Thread-safe alert store.
#[derive(Debug, Default)]
pub struct AlertStore {
    /// Shared with the aggregation groups, so an alert is stored once. Keys are already
    /// hashes (fingerprints), so the cheap Fx hasher is enough.
    alerts: RwLock<FxHashMap<Fingerprint, Arc<Alert>>>,
    marker: RwLock<FxHashMap<Fingerprint, AlertStatus>>,
    /// Bumped on every change, for caches derived from the alerts.
    version: AtomicU64,
}

impl AlertStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `alert`, merging with the stored one when their activity ranges overlap (as
    /// `mem.Alerts.Put`); returns the alert as stored, which is what the dispatcher sees.
    pub fn put(&self, alert: Alert, now: Millis) -> Alert {
        let a = self.put_fp(alert.fingerprint(), alert, now);
        Arc::unwrap_or_clone(a)
    }

    /// [`AlertStore::put`] with the fingerprint already computed.
    pub(crate) fn put_fp(&self, fp: Fingerprint, alert: Alert, now: Millis) -> Arc<Alert> {
        let mut alerts = self.alerts.write();
        let (stored, is_new) = Self::merge_in(&mut alerts, fp, alert, now);
        if is_new {
            self.marker.write().entry(fp).or_default();
        }
        drop(alerts);
        self.version.fetch_add(1, Ordering::Release);
        stored
    }

    /// Stores a batch (one `POST /api/v2/alerts`) under one acquisition of each lock:
    /// taking them per alert made concurrent posters hand the locks back and forth.
    pub(crate) fn put_many(
        &self,
        batch: Vec<(Fingerprint, Alert)>,
        now: Millis,
    ) -> Vec<(Fingerprint, Arc<Alert>)> {
        let mut out = Vec::with_capacity(batch.len());
        let mut new = Vec::new();
        let mut alerts = self.alerts.write();
        for (fp, alert) in batch {
            let (stored, is_new) = Self::merge_in(&mut alerts, fp, alert, now);
            if is_new {
                new.push(fp);
            }
            out.push((fp, stored));
        }
        if !new.is_empty() {
            let mut marker = self.marker.write();
            for fp in new {
                marker.entry(fp).or_default();
            }
        }
        drop(alerts);
        self.version.fetch_add(1, Ordering::Release);
        out
    }

    /// Puts one alert, merged with the stored one when their activity ranges overlap;
    /// returns it as stored and whether the fingerprint is new.
    fn merge_in(
        alerts: &mut FxHashMap<Fingerprint, Arc<Alert>>,
        fp: Fingerprint,
        mut alert: Alert,
        now: Millis,
    ) -> (Arc<Alert>, bool) {
        let is_new = match alerts.get(&fp) {
            Some(old) => {
                let overlap = (alert.ends_at > old.starts_at && alert.ends_at < old.ends_at)
                    || (alert.starts_at > old.starts_at && alert.starts_at < old.ends_at);
                if overlap {
                    alert = old.merge(&alert, now);
                }
                false
            }
            None => true,
        };
        let alert = Arc::new(alert);
        alerts.insert(fp, Arc::clone(&alert));
        (alert, is_new)
    }

    /// One alert.
    pub fn get(&self, fp: Fingerprint) -> Option<Alert> {
        self.alerts.read().get(&fp).map(|a| Alert::clone(a))
    }

    /// All alerts, sorted by fingerprint.
    pub fn list(&self) -> Vec<(Fingerprint, Alert)> {
        let mut v: Vec<_> = self
            .alerts
            .read()
            .iter()
            .map(|(k, a)| (*k, Alert::clone(a)))
            .collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    /// Changes whenever an alert is added, updated or removed.
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Calls `f` for every alert under the read lock (no copies).
    pub(crate) fn for_each(&self, mut f: impl FnMut(Fingerprint, &Alert)) {
        for (fp, a) in self.alerts.read().iter() {
            f(*fp, a);
        }
    }

    /// All alerts, shared, unsorted.
    pub(crate) fn list_shared(&self) -> Vec<(Fingerprint, Arc<Alert>)> {
        self.alerts
            .read()
            .iter()
            .map(|(k, a)| (*k, Arc::clone(a)))
            .collect()
    }

    /// Number of stored alerts.
    pub fn len(&self) -> usize {
        self.alerts.read().len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.alerts.read().is_empty()
    }

    /// Removes resolved alerts (and their marker); returns their fingerprints.
    pub fn gc(&self, now: Millis) -> Vec<Fingerprint> {
        let mut alerts = self.alerts.write();
        let dead: Vec<Fingerprint> = alerts
            .iter()
            .filter(|(_, a)| a.resolved_at(now))
            .map(|(k, _)| *k)
            .collect();
        let mut marker = self.marker.write();
        for fp in &dead {
            alerts.remove(fp);
            marker.remove(fp);
        }
        if !dead.is_empty() {
            self.version.fetch_add(1, Ordering::Release);
        }
        dead
    }

    /// The marker status.
    pub fn status(&self, fp: Fingerprint) -> AlertStatus {
        self.marker.read().get(&fp).cloned().unwrap_or_default()
    }

    /// Records the mute result for an alert still in the store.
    pub fn set_status(&self, fp: Fingerprint, status: AlertStatus) {
        if self.alerts.read().contains_key(&fp) {
            self.marker.write().insert(fp, status);
        }
    }
}
