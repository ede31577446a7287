//! Label sets.

use std::fmt;

/// The label under which the metric name is stored.
pub const METRIC_NAME: &str = "__name__";

/// One name/value pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// Label name.
    pub name: String,
    /// Label value; never empty in a stored series (an empty value means "absent").
    pub value: String,
}

impl Label {
    /// Creates a label.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A set of labels sorted by name, with unique names and no empty values.
///
/// Ordering is lexicographic over the sorted pairs, which is the order in which
/// queriers return series.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// An empty label set.
    pub fn empty() -> Self {
        Labels(Vec::new())
    }

    /// Builds a label set from pairs in any order. Pairs with an empty value are
    /// dropped; when a name repeats, the last value wins.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut b = LabelsBuilder::new();
        for (n, v) in pairs {
            b.set(n, v);
        }
        b.build()
    }

    /// Wraps labels that the caller guarantees are sorted by name, unique and
    /// non-empty (for example, decoded from storage that wrote them that way).
    pub fn from_sorted_unchecked(labels: Vec<Label>) -> Self {
        debug_assert!(labels.windows(2).all(|w| w[0].name < w[1].name));
        Labels(labels)
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].value.as_str())
    }

    /// The metric name, if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// Iterates the pairs in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pairs as a slice.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// A builder starting from this set.
    pub fn to_builder(&self) -> LabelsBuilder {
        LabelsBuilder {
            labels: self.0.clone(),
        }
    }

    /// A 64-bit hash of the pairs that is stable across processes and versions
    /// (FNV-1a with separators), usable for sharding and on-disk lookups.
    pub fn stable_hash(&self) -> u64 {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut h = OFFSET;
        for l in &self.0 {
            for b in l
                .name
                .bytes()
                .chain([0xff])
                .chain(l.value.bytes())
                .chain([0xff])
            {
                h ^= u64::from(b);
                h = h.wrapping_mul(PRIME);
            }
        }
        h
    }
}

impl fmt::Display for Labels {
    /// Prints in PromQL selector style, values quoted as Go does: `{a="1", b="2"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={}", l.name, crate::go_quote(&l.value))?;
        }
        f.write_str("}")
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Builds a [`Labels`] by setting and deleting names.
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    labels: Vec<Label>,
}

impl LabelsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        LabelsBuilder::default()
    }

    /// Sets `name` to `value`; an empty value deletes the label.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let name = name.into();
        let value = value.into();
        match self.labels.binary_search_by(|l| l.name.cmp(&name)) {
            Ok(i) if value.is_empty() => {
                self.labels.remove(i);
            }
            Ok(i) => self.labels[i].value = value,
            Err(_) if value.is_empty() => {}
            Err(i) => self.labels.insert(i, Label { name, value }),
        }
        self
    }

    /// Removes `name` if present.
    pub fn delete(&mut self, name: &str) -> &mut Self {
        self.labels.retain(|l| l.name != name);
        self
    }

    /// Finishes the set.
    pub fn build(&self) -> Labels {
        Labels(self.labels.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_sorted_and_empty_values_dropped() {
        let l = Labels::from_pairs([("b", "2"), ("a", "1"), ("c", ""), ("a", "3")]);
        assert_eq!(l.to_string(), r#"{a="3", b="2"}"#);
        assert_eq!(l.get("b"), Some("2"));
        assert_eq!(l.get("c"), None);
    }

    #[test]
    fn stable_hash_separates_name_and_value() {
        let a = Labels::from_pairs([("ab", "c")]);
        let b = Labels::from_pairs([("a", "bc")]);
        assert_ne!(a.stable_hash(), b.stable_hash());
        assert_eq!(
            a.stable_hash(),
            Labels::from_pairs([("ab", "c")]).stable_hash()
        );
    }
}
