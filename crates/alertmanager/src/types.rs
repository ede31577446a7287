//! Alerts as the runtime keeps them, their fingerprints and their marker status.

use crate::clock::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A label set, sorted by name.
pub type LabelSet = BTreeMap<String, String>;

/// Alertmanager's alert identity: FNV-1a 64 over the sorted label names and values, each
/// followed by the 0xff separator byte (Prometheus `model.LabelSet.Fingerprint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// Computes the fingerprint of a label set.
    pub fn of(labels: &LabelSet) -> Self {
        Self::of_pairs(labels.iter())
    }

    /// The fingerprint of label pairs given sorted by name.
    pub fn of_pairs<'a>(pairs: impl Iterator<Item = (&'a String, &'a String)>) -> Self {
        const OFFSET: u64 = 14_695_981_039_346_656_037;
        const PRIME: u64 = 1_099_511_628_211;
        let mut h = OFFSET;
        let mut add = |b: &[u8]| {
            for &c in b {
                h ^= u64::from(c);
                h = h.wrapping_mul(PRIME);
            }
        };
        // Callers pass pairs sorted by name, as Prometheus sorts before hashing.
        for (k, v) in pairs {
            add(k.as_bytes());
            add(&[0xff]);
            add(v.as_bytes());
            add(&[0xff]);
        }
        Fingerprint(h)
    }
    /// Parses 16 hex digits.
    pub fn parse(s: &str) -> Option<Self> {
        u64::from_str_radix(s, 16).ok().map(Fingerprint)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The label hash the notification log stores per alert (Alertmanager uses xxhash over
/// the sorted pairs for this, separate from the fingerprint).
pub fn alert_hash(labels: &LabelSet) -> u64 {
    let mut h = xxhash_rust::xxh64::Xxh64::new(0);
    for (k, v) in labels {
        h.update(k.as_bytes());
        h.update(&[0xff]);
        h.update(v.as_bytes());
        h.update(&[0xff]);
    }
    h.digest()
}

/// One alert in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Identifying labels.
    pub labels: LabelSet,
    /// Annotations.
    pub annotations: LabelSet,
    /// Start of the firing period.
    pub starts_at: Millis,
    /// End of the firing period (`0` = unset; the API always sets it).
    pub ends_at: Millis,
    /// Link to the alert's source.
    pub generator_url: String,
    /// Last time the alert was received.
    pub updated_at: Millis,
    /// Whether `ends_at` came from resolve_timeout rather than the client.
    pub timeout: bool,
}

impl Alert {
    /// The fingerprint of the labels.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.labels)
    }
    /// Resolved at `now`: an end time that is not in the future.
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

    /// Alertmanager's `Alert.Merge`: `self` is the stored alert, `o` the newly received one.
    /// The younger (by updated_at) wins, keeping the earliest start; end times follow the
    /// resolved/timeout rules.
    pub fn merge(&self, o: &Alert, now: Millis) -> Alert {
        if o.updated_at < self.updated_at {
            return o.merge(self, now);
        }
        let mut res = o.clone();
        if self.starts_at < o.starts_at {
            res.starts_at = self.starts_at;
        }
        if o.resolved_at(now) {
            // The latest explicit resolve time wins when both are resolved.
            if self.resolved_at(now) && self.ends_at > o.ends_at {
                res.ends_at = self.ends_at;
            }
        } else if self.ends_at > o.ends_at && !self.timeout {
            // A client-set end time that is later always rules.
            res.ends_at = self.ends_at;
            res.timeout = false;
        }
        res
    }
}

/// Marker state of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Not yet looked at by the mute stages.
    #[default]
    Unprocessed,
    /// Neither silenced nor inhibited.
    Active,
    /// Silenced or inhibited.
    Suppressed,
}

/// Marker status as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AlertStatus {
    /// State.
    pub state: AlertState,
    /// IDs of the active silences that mute the alert.
    #[serde(rename = "silencedBy")]
    pub silenced_by: Vec<String>,
    /// Fingerprints of the alerts inhibiting it.
    #[serde(rename = "inhibitedBy")]
    pub inhibited_by: Vec<String>,
    /// Names of the time intervals muting the alert's group (alert groups API only, as
    /// in Alertmanager 0.28+; always empty elsewhere).
    #[serde(rename = "mutedBy", default)]
    pub muted_by: Vec<String>,
}

impl AlertStatus {
    /// Builds the status from the mute results.
    pub fn from_mutes(silenced_by: Vec<String>, inhibited_by: Vec<String>) -> Self {
        let state = if silenced_by.is_empty() && inhibited_by.is_empty() {
            AlertState::Active
        } else {
            AlertState::Suppressed
        };
        AlertStatus {
            state,
            silenced_by,
            inhibited_by,
            muted_by: Vec::new(),
        }
    }
}
