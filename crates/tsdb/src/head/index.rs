//! The head's label index: interned symbols, label-pair postings, hash lookup.

use super::Head;
use rustc_hash::{FxHashMap, FxHashSet};
use watchfire_block::{BlockError, PostingsIndex};
use watchfire_model::{Label, Labels, SymbolId, SymbolTable};

/// Label index of the head. Postings lists are sorted because references are
/// handed out in increasing order under the index write lock.
#[derive(Default)]
pub(crate) struct HeadIndex {
    symbols: SymbolTable,
    /// Stable label hash → series; hash collisions spill into `collisions`.
    by_hash: FxHashMap<u64, u32>,
    collisions: FxHashMap<u64, Vec<u32>>,
    postings: FxHashMap<(SymbolId, SymbolId), Vec<u32>>,
    values: FxHashMap<SymbolId, Vec<SymbolId>>,
    all: Vec<u32>,
}

impl HeadIndex {
    pub(crate) fn num_series(&self) -> usize {
        self.all.len()
    }

    /// The series with exactly `labels`, if any.
    pub(crate) fn lookup(&self, hash: u64, labels: &Labels, head: &Head) -> Option<u32> {
        let same = |r: u32| {
            let stripe = head.stripe(r).lock();
            stripe.get(r).is_some_and(|s| self.equal(&s.labels, labels))
        };
        let first = *self.by_hash.get(&hash)?;
        if same(first) {
            return Some(first);
        }
        self.collisions
            .get(&hash)?
            .iter()
            .copied()
            .find(|&r| same(r))
    }

    fn equal(&self, symbols: &[SymbolId], labels: &Labels) -> bool {
        symbols.len() == labels.len() * 2
            && symbols.chunks_exact(2).zip(labels.iter()).all(|(p, l)| {
                self.symbols.resolve(p[0]) == l.name && self.symbols.resolve(p[1]) == l.value
            })
    }

    /// Indexes a new series and returns its interned labels.
    pub(crate) fn add(&mut self, r: u32, hash: u64, labels: &Labels) -> Box<[SymbolId]> {
        let mut symbols = Vec::with_capacity(labels.len() * 2);
        for l in labels.iter() {
            let n = self.symbols.intern(&l.name);
            let v = self.symbols.intern(&l.value);
            symbols.push(n);
            symbols.push(v);
            let list = self.postings.entry((n, v)).or_default();
            if list.is_empty() {
                self.values.entry(n).or_default().push(v);
            }
            insert_sorted(list, r);
        }
        insert_sorted(&mut self.all, r);
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(r);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collisions.entry(hash).or_default().push(r);
            }
        }
        symbols.into_boxed_slice()
    }

    /// Forgets removed series. Symbols are kept; they are few and cheap.
    pub(crate) fn remove(&mut self, removed: &[u32]) {
        if removed.is_empty() {
            return;
        }
        let gone: FxHashSet<u32> = removed.iter().copied().collect();
        self.all.retain(|r| !gone.contains(r));
        self.postings.retain(|_, list| {
            list.retain(|r| !gone.contains(r));
            !list.is_empty()
        });
        let postings = &self.postings;
        self.values.retain(|&n, vals| {
            vals.retain(|&v| postings.contains_key(&(n, v)));
            !vals.is_empty()
        });
        self.by_hash.retain(|_, r| !gone.contains(r));
        self.collisions.retain(|_, rs| {
            rs.retain(|r| !gone.contains(r));
            !rs.is_empty()
        });
        // A collision entry whose primary was removed: promote one of the spilled.
        let orphaned: Vec<u64> = self
            .collisions
            .keys()
            .filter(|h| !self.by_hash.contains_key(h))
            .copied()
            .collect();
        for h in orphaned {
            if let Some(rs) = self.collisions.get_mut(&h)
                && let Some(r) = rs.pop()
            {
                self.by_hash.insert(h, r);
                if rs.is_empty() {
                    self.collisions.remove(&h);
                }
            }
        }
    }

    pub(crate) fn resolve(&self, symbols: &[SymbolId]) -> Labels {
        Labels::from_sorted_unchecked(
            symbols
                .chunks_exact(2)
                .map(|p| Label::new(self.symbols.resolve(p[0]), self.symbols.resolve(p[1])))
                .collect(),
        )
    }

    pub(crate) fn symbol(&self, id: SymbolId) -> &str {
        self.symbols.resolve(id)
    }

    /// `(name, value, series count)` for every label pair.
    pub(crate) fn pair_counts(&self) -> impl Iterator<Item = (&str, &str, usize)> {
        self.postings
            .iter()
            .map(|(&(n, v), list)| (self.symbols.resolve(n), self.symbols.resolve(v), list.len()))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let postings: usize = self.postings.values().map(|l| l.capacity() * 4 + 40).sum();
        let values: usize = self.values.values().map(|l| l.capacity() * 4 + 32).sum();
        self.symbols.heap_bytes()
            + postings
            + values
            + self.by_hash.capacity() * 13
            + self.all.capacity() * 4
    }
}

fn insert_sorted(list: &mut Vec<u32>, r: u32) {
    match list.last() {
        Some(&last) if last >= r => {
            if let Err(i) = list.binary_search(&r) {
                list.insert(i, r);
            }
        }
        _ => list.push(r),
    }
}

impl PostingsIndex for HeadIndex {
    fn label_names(&self) -> Result<Vec<String>, BlockError> {
        let mut names: Vec<String> = self
            .values
            .keys()
            .map(|&n| self.symbol(n).to_string())
            .collect();
        names.sort();
        Ok(names)
    }

    fn label_values(&self, name: &str) -> Result<Vec<String>, BlockError> {
        let Some(n) = self.symbols.lookup(name) else {
            return Ok(Vec::new());
        };
        let mut vals: Vec<String> = self
            .values
            .get(&n)
            .map(|vs| vs.iter().map(|&v| self.symbol(v).to_string()).collect())
            .unwrap_or_default();
        vals.sort();
        Ok(vals)
    }

    fn postings(&self, name: &str, value: &str) -> Result<Vec<u32>, BlockError> {
        let (Some(n), Some(v)) = (self.symbols.lookup(name), self.symbols.lookup(value)) else {
            return Ok(Vec::new());
        };
        Ok(self.postings.get(&(n, v)).cloned().unwrap_or_default())
    }

    fn all_postings(&self) -> Result<Vec<u32>, BlockError> {
        Ok(self.all.clone())
    }
}
