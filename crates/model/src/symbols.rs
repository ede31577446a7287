//! String interning for label names and values.

use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Index of an interned string in a [`SymbolTable`].
pub type SymbolId = u32;

/// Interns strings so each distinct label name or value is stored once.
///
/// Ids are dense and assigned in insertion order; they are never reused, so a
/// series can keep its labels as a handful of `u32`s.
#[derive(Debug, Default)]
pub struct SymbolTable {
    ids: FxHashMap<Arc<str>, SymbolId>,
    strings: Vec<Arc<str>>,
}

impl SymbolTable {
    /// An empty table.
    pub fn new() -> Self {
        SymbolTable::default()
    }

    /// The id of `s`, interning it if new.
    pub fn intern(&mut self, s: &str) -> SymbolId {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = SymbolId::try_from(self.strings.len()).unwrap_or(SymbolId::MAX);
        let arc: Arc<str> = Arc::from(s);
        self.strings.push(arc.clone());
        self.ids.insert(arc, id);
        id
    }

    /// The id of `s` if it was interned.
    pub fn lookup(&self, s: &str) -> Option<SymbolId> {
        self.ids.get(s).copied()
    }

    /// The string behind `id`; empty for an unknown id.
    pub fn resolve(&self, id: SymbolId) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// Approximate heap bytes held by the table.
    pub fn heap_bytes(&self) -> usize {
        let strings: usize = self.strings.iter().map(|s| s.len() + 16).sum();
        strings + self.strings.capacity() * 16 + self.ids.capacity() * 24
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_idempotent() {
        let mut t = SymbolTable::new();
        let a = t.intern("job");
        let b = t.intern("instance");
        assert_eq!(t.intern("job"), a);
        assert_ne!(a, b);
        assert_eq!(t.resolve(b), "instance");
        assert_eq!(t.lookup("nope"), None);
    }
}
