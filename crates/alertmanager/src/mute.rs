//! Muting: silences and inhibition behind one [`Muter`] trait, used by the mute stage of
//! the pipeline and by the API to compute an alert's status.

use crate::clock::Millis;
use crate::silence::Silences;
use crate::store::AlertStore;
use crate::types::{Alert, Fingerprint, LabelSet};
use parking_lot::Mutex;
use std::sync::Arc;
use watchfire_alertmanager_config::InhibitRule;

/// Something that can mute alerts.
pub trait Muter {
    /// The IDs of whatever mutes `labels` at `now` (silence IDs or inhibiting alert
    /// fingerprints); empty when not muted.
    fn mutes(&self, labels: &LabelSet, now: Millis) -> Vec<String>;
}

/// What the mute stage passes on for one alert of a flush to one receiver: nothing when
/// inhibited; the alert itself when not silenced; when silenced, nothing, or (for a
/// receiver with `send_resolved_when_silenced`) the alert as resolved at `now`, so that
/// the notification log's dedup sends that receiver one resolved notification for an
/// alert it was told is firing, and nothing more while the silence lasts.
pub fn mute_outcome(
    mut alert: Alert,
    silenced: bool,
    inhibited: bool,
    send_resolved_when_silenced: bool,
    now: Millis,
) -> Option<Alert> {
    if inhibited || (silenced && !send_resolved_when_silenced) {
        return None;
    }
    if silenced && !alert.resolved_at(now) {
        alert.ends_at = now;
    }
    Some(alert)
}

/// Active silences as a muter.
#[derive(Debug)]
pub struct Silencer<'a>(pub &'a Silences);

impl Muter for Silencer<'_> {
    fn mutes(&self, labels: &LabelSet, now: Millis) -> Vec<String> {
        self.0.mutes(labels, now)
    }
}

/// Per rule: the alerts matching its source side, with their end time (`0` = unset), so
/// whether each still fires is decided at [`Muter::mutes`] time.
type Sources = Vec<Vec<(Fingerprint, LabelSet, Millis)>>;

/// The inhibitor: rules evaluated against the currently firing alerts of the store.
#[derive(Debug)]
pub struct Inhibitor<'a> {
    rules: &'a [InhibitRule],
    sources: Arc<Sources>,
}

fn collect_sources(rules: &[InhibitRule], store: &AlertStore) -> Sources {
    let mut sources = vec![Vec::new(); rules.len()];
    if !rules.is_empty() {
        store.for_each(|fp, a| {
            for (i, r) in rules.iter().enumerate() {
                if r.source_matches(&a.labels) {
                    sources[i].push((fp, a.labels.clone(), a.ends_at));
                }
            }
        });
    }
    sources
}

impl<'a> Inhibitor<'a> {
    /// Collects the source alerts of every rule (one pass over the store; the runtime
    /// reuses that result while the store and the rules are unchanged).
    pub fn new(rules: &'a [InhibitRule], store: &AlertStore, _now: Millis) -> Self {
        Inhibitor {
            rules,
            sources: Arc::new(collect_sources(rules, store)),
        }
    }
}

impl Muter for Inhibitor<'_> {
    fn mutes(&self, labels: &LabelSet, now: Millis) -> Vec<String> {
        for (r, sources) in self.rules.iter().zip(self.sources.iter()) {
            if !r.target_matches(labels) {
                continue;
            }
            // An alert matching both sides must not be inhibited by alerts that do too.
            let two_sided = r.source_matches(labels);
            for (fp, s, ends_at) in sources {
                if *ends_at != 0 && *ends_at <= now {
                    continue;
                }
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

/// The last collected inhibition sources, keyed by (runtime id, store version): every
/// flush and every API query needs them, and rebuilding them scans the whole store.
#[derive(Debug, Default)]
pub(crate) struct InhibitCache(Mutex<Option<(u64, u64, Arc<Sources>)>>);

impl InhibitCache {
    /// An inhibitor for `rules` (of the runtime `runtime_id`) over the store as it is now.
    pub(crate) fn inhibitor<'a>(
        &self,
        rules: &'a [InhibitRule],
        runtime_id: u64,
        store: &AlertStore,
    ) -> Inhibitor<'a> {
        if rules.is_empty() {
            return Inhibitor {
                rules,
                sources: Arc::default(),
            };
        }
        // Read before collecting: a concurrent put makes the entry look older than its
        // contents, which only costs a needless rebuild.
        let version = store.version();
        let mut cache = self.0.lock();
        if let Some((id, v, sources)) = &*cache
            && *id == runtime_id
            && *v == version
        {
            return Inhibitor {
                rules,
                sources: Arc::clone(sources),
            };
        }
        let sources = Arc::new(collect_sources(rules, store));
        *cache = Some((runtime_id, version, Arc::clone(&sources)));
        Inhibitor { rules, sources }
    }
}
