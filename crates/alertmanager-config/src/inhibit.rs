//! Inhibition rules as data, with the pure decision the runtime inhibitor needs.

use crate::config::{InhibitRuleConfig, combined_matchers};
use crate::matchers::{LabelSource, Matchers};

/// A compiled inhibition rule.
#[derive(Debug, Clone, Default)]
pub struct InhibitRule {
    /// Matchers an inhibiting (source) alert must satisfy.
    pub source_matchers: Matchers,
    /// Matchers an inhibited (target) alert must satisfy.
    pub target_matchers: Matchers,
    /// Labels whose values must be equal in source and target (absent = "").
    pub equal: Vec<String>,
}

impl InhibitRule {
    /// Compiles the config form (legacy `*_match`/`*_match_re` merged in).
    pub fn new(c: &InhibitRuleConfig) -> Self {
        InhibitRule {
            source_matchers: combined_matchers(
                &c.source_match,
                &c.source_match_re,
                &c.source_matchers,
            ),
            target_matchers: combined_matchers(
                &c.target_match,
                &c.target_match_re,
                &c.target_matchers,
            ),
            equal: c.equal.clone(),
        }
    }
    /// Whether `labels` can inhibit.
    pub fn source_matches(&self, labels: &dyn LabelSource) -> bool {
        self.source_matchers.matches(labels)
    }
    /// Whether `labels` can be inhibited.
    pub fn target_matches(&self, labels: &dyn LabelSource) -> bool {
        self.target_matchers.matches(labels)
    }
    /// Whether the `equal` labels agree between the two sets.
    pub fn equal(&self, source: &dyn LabelSource, target: &dyn LabelSource) -> bool {
        self.equal
            .iter()
            .all(|n| source.label(n).unwrap_or("") == target.label(n).unwrap_or(""))
    }

    /// Whether any of the active `sources` inhibits `target` under this rule. When the target
    /// also satisfies the source matchers, sources that satisfy the target matchers are
    /// skipped — as Alertmanager does, so an alert matching both sides cannot inhibit itself
    /// (or its peers) in a loop.
    pub fn inhibits(&self, sources: &[&dyn LabelSource], target: &dyn LabelSource) -> bool {
        if !self.target_matches(target) {
            return false;
        }
        let two_sided = self.source_matches(target);
        sources.iter().any(|s| {
            self.source_matches(*s)
                && !(two_sided && self.target_matches(*s))
                && self.equal(*s, target)
        })
    }
}

/// Whether `target` is inhibited by any rule given the active (firing) source alerts.
pub fn is_inhibited(
    rules: &[InhibitRule],
    sources: &[&dyn LabelSource],
    target: &dyn LabelSource,
) -> bool {
    rules.iter().any(|r| r.inhibits(sources, target))
}
