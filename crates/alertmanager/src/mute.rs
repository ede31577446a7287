//! Muting: silences and inhibition behind one [`Muter`] trait, used by the mute stage of
//! the pipeline and by the API to compute an alert's status.

use crate::clock::Millis;
use crate::silence::Silences;
use crate::store::AlertStore;
use crate::types::{Fingerprint, LabelSet};
use watchfire_alertmanager_config::InhibitRule;

/// Something that can mute alerts.
pub trait Muter {
    /// The IDs of whatever mutes `labels` at `now` (silence IDs or inhibiting alert
    /// fingerprints); empty when not muted.
    fn mutes(&self, labels: &LabelSet, now: Millis) -> Vec<String>;
}

/// Active silences as a muter.
#[derive(Debug)]
pub struct Silencer<'a>(pub &'a Silences);

impl Muter for Silencer<'_> {
    fn mutes(&self, labels: &LabelSet, now: Millis) -> Vec<String> {
        self.0.mutes(labels, now)
    }
}

/// The inhibitor: rules evaluated against the currently firing alerts of the store. The
/// source alerts are collected once per instance, so build one per flush or API call.
#[derive(Debug)]
pub struct Inhibitor<'a> {
    rules: &'a [InhibitRule],
    /// Per rule: firing alerts matching its source side.
    sources: Vec<Vec<(Fingerprint, LabelSet)>>,
}

impl<'a> Inhibitor<'a> {
    /// Collects the source alerts of every rule at `now`.
    pub fn new(rules: &'a [InhibitRule], store: &AlertStore, now: Millis) -> Self {
        let mut sources = vec![Vec::new(); rules.len()];
        if !rules.is_empty() {
            for (fp, a) in store.list() {
                if a.resolved_at(now) {
                    continue;
                }
                for (i, r) in rules.iter().enumerate() {
                    if r.source_matches(&a.labels) {
                        sources[i].push((fp, a.labels.clone()));
                    }
                }
            }
        }
        Inhibitor { rules, sources }
    }
}

impl Muter for Inhibitor<'_> {
    fn mutes(&self, labels: &LabelSet, _now: Millis) -> Vec<String> {
        for (r, sources) in self.rules.iter().zip(&self.sources) {
            if !r.target_matches(labels) {
                continue;
            }
            // An alert matching both sides must not be inhibited by alerts that do too.
            let two_sided = r.source_matches(labels);
            for (fp, s) in sources {
                if two_sided && r.target_matches(s) {
                    continue;
                }
                if r.equal(s, labels) {
                    return vec![fp.to_string()];
                }
            }
        }
        Vec::new()
    }
}
