//! Applying rules to label sets.

use crate::config::{Action, NameValidation, RelabelConfig};
use md5::{Digest, Md5};
use watchfire_model::{Label, Labels, LabelsBuilder};

/// Applies `configs` in order to a copy of `labels`. `None` means a rule dropped the
/// set.
pub fn process(configs: &[RelabelConfig], labels: &Labels) -> Option<Labels> {
    let mut work = Work::new(labels.clone());
    for c in configs {
        if !relabel(c, &mut work) {
            return None;
        }
    }
    Some(work.finish())
}

/// Applies `configs` in order to `builder`, leaving it holding the result. Returns
/// `false` when a rule dropped the set (the builder is then left unchanged).
pub fn process_builder(configs: &[RelabelConfig], builder: &mut LabelsBuilder) -> bool {
    if configs.is_empty() {
        return true;
    }
    let mut work = Work::new(builder.build());
    for c in configs {
        if !relabel(c, &mut work) {
            return false;
        }
    }
    for name in &work.del {
        builder.delete(name);
    }
    for l in &work.add {
        builder.set(l.name.as_str(), l.value.as_str());
    }
    true
}

/// Working label set shaped like Go's `labels.Builder`: the starting labels plus
/// deletions and ordered additions. The addition order is observable through
/// `labelmap`, which visits base labels first and then additions in the order they
/// were made.
struct Work {
    base: Labels,
    del: Vec<String>,
    add: Vec<Label>,
}

impl Work {
    fn new(base: Labels) -> Self {
        Work {
            base,
            del: Vec::new(),
            add: Vec::new(),
        }
    }

    fn get(&self, name: &str) -> &str {
        if let Some(l) = self.add.iter().find(|l| l.name == name) {
            return &l.value;
        }
        if self.del.iter().any(|d| d == name) {
            return "";
        }
        self.base.get(name).unwrap_or("")
    }

    fn set(&mut self, name: &str, value: String) {
        if value.is_empty() {
            self.del(name);
            return;
        }
        match self.add.iter_mut().find(|l| l.name == name) {
            Some(l) => l.value = value,
            None => self.add.push(Label::new(name, value)),
        }
    }

    fn del(&mut self, name: &str) {
        self.add.retain(|l| l.name != name);
        if !self.del.iter().any(|d| d == name) {
            self.del.push(name.to_owned());
        }
    }

    /// The current labels in visiting order (base, then additions), as a snapshot so
    /// that rules may modify the set while walking it.
    fn snapshot(&self) -> Vec<Label> {
        let mut out: Vec<Label> = self
            .base
            .iter()
            .filter(|l| !self.del.contains(&l.name) && !self.add.iter().any(|a| a.name == l.name))
            .cloned()
            .collect();
        out.extend(self.add.iter().cloned());
        out
    }

    fn finish(self) -> Labels {
        if self.del.is_empty() && self.add.is_empty() {
            return self.base;
        }
        let mut b = self.base.to_builder();
        for d in &self.del {
            b.delete(d);
        }
        for l in self.add {
            b.set(l.name, l.value);
        }
        b.build()
    }
}

/// Applies one rule; `false` drops the set.
fn relabel(cfg: &RelabelConfig, lb: &mut Work) -> bool {
    let mut val = String::new();
    for (i, name) in cfg.source_labels.iter().enumerate() {
        if i > 0 {
            val.push_str(&cfg.separator);
        }
        val.push_str(lb.get(name));
    }
    match cfg.action {
        Action::Drop => {
            if cfg.regex.is_match(&val) {
                return false;
            }
        }
        Action::Keep => {
            if !cfg.regex.is_match(&val) {
                return false;
            }
        }
        Action::DropEqual => {
            if lb.get(&cfg.target_label) == val {
                return false;
            }
        }
        Action::KeepEqual => {
            if lb.get(&cfg.target_label) != val {
                return false;
            }
        }
        Action::Replace => {
            let Some(caps) = cfg.regex.compiled().captures(&val) else {
                return true;
            };
            let target = cfg.regex.expand(&cfg.target_label, &caps);
            if !NameValidation::Utf8.is_valid_label_name(&target) {
                return true;
            }
            let res = cfg.regex.expand(&cfg.replacement, &caps);
            if res.is_empty() {
                lb.del(&target);
            } else {
                lb.set(&target, res);
            }
        }
        Action::Lowercase => lb.set(&cfg.target_label, map_chars(&val, true)),
        Action::Uppercase => lb.set(&cfg.target_label, map_chars(&val, false)),
        Action::HashMod => {
            let sum = Md5::digest(val.as_bytes());
            let mut tail = [0u8; 8];
            tail.copy_from_slice(&sum[8..16]);
            // `validate` rejects a zero modulus; an unvalidated one leaves the set alone.
            if let Some(m) = u64::from_be_bytes(tail).checked_rem(cfg.modulus) {
                lb.set(&cfg.target_label, m.to_string());
            }
        }
        Action::LabelMap => {
            for l in lb.snapshot() {
                if let Some(caps) = cfg.regex.compiled().captures(&l.name) {
                    let name = cfg.regex.expand(&cfg.replacement, &caps);
                    lb.set(&name, l.value);
                }
            }
        }
        Action::LabelDrop => {
            for l in lb.snapshot() {
                if cfg.regex.is_match(&l.name) {
                    lb.del(&l.name);
                }
            }
        }
        Action::LabelKeep => {
            for l in lb.snapshot() {
                if !cfg.regex.is_match(&l.name) {
                    lb.del(&l.name);
                }
            }
        }
    }
    true
}

/// Go's `strings.ToLower`/`ToUpper`: per-character simple case mapping, so `Σ` always
/// lowers to `σ` and characters whose full mapping has several characters (`ß`) keep
/// their single-character form.
fn map_chars(s: &str, lower: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if lower {
            let mut it = c.to_lowercase();
            match (it.next(), it.next()) {
                (Some(m), None) => out.push(m),
                // Only U+0130 lowers to several characters; its simple mapping is `i`.
                (Some(m), Some(_)) => out.push(m),
                _ => out.push(c),
            }
        } else {
            let mut it = c.to_uppercase();
            match (it.next(), it.next()) {
                (Some(m), None) => out.push(m),
                _ => out.push(c),
            }
        }
    }
    out
}
