//! The scrape cache's index from series bytes to slots.
//!
//! Keys live back to back in one arena, in the order series were first seen, which
//! is the order targets print them: the predicted-next check and the hash-chain
//! check then read memory sequentially instead of chasing one heap allocation per
//! series, which matters once many targets' caches no longer fit in the CPU cache.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// "No slot".
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// Passes already well-mixed 64-bit hashes through.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b) ^ (self.0 >> 56);
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Debug, Clone, Copy)]
struct KeyRef {
    off: usize,
    len: usize,
    hash: u64,
    /// Next slot with the same hash.
    chain: u32,
    live: bool,
}

const DEAD: KeyRef = KeyRef {
    off: 0,
    len: 0,
    hash: 0,
    chain: NO_SLOT,
    live: false,
};

/// Series bytes to slot.
#[derive(Debug, Default)]
pub(crate) struct KeyIndex {
    arena: Vec<u8>,
    /// Bytes of the arena that belong to removed keys.
    garbage: usize,
    /// Hash to the first slot of its chain.
    heads: HashMap<u64, u32, BuildHasherDefault<IdentityHasher>>,
    /// Per slot.
    keys: Vec<KeyRef>,
    len: usize,
}

#[inline]
fn hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh64::xxh64(bytes, 0)
}

impl KeyIndex {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn key(&self, k: &KeyRef) -> &[u8] {
        self.arena.get(k.off..k.off + k.len).unwrap_or_default()
    }

    /// Whether `slot` holds exactly `bytes`.
    #[inline]
    pub(crate) fn matches(&self, slot: u32, bytes: &[u8]) -> bool {
        self.keys
            .get(slot as usize)
            .is_some_and(|k| k.live && k.len == bytes.len() && self.key(k) == bytes)
    }

    /// The slot holding `bytes`.
    #[inline]
    pub(crate) fn get(&self, bytes: &[u8]) -> Option<u32> {
        let mut slot = *self.heads.get(&hash(bytes))?;
        while let Some(k) = self.keys.get(slot as usize) {
            if k.len == bytes.len() && self.key(k) == bytes {
                return Some(slot);
            }
            slot = k.chain;
        }
        None
    }

    /// Records `bytes` for a slot that holds no key.
    pub(crate) fn insert(&mut self, slot: u32, bytes: &[u8]) {
        let h = hash(bytes);
        let chain = self.heads.insert(h, slot).unwrap_or(NO_SLOT);
        let k = KeyRef {
            off: self.arena.len(),
            len: bytes.len(),
            hash: h,
            chain,
            live: true,
        };
        self.arena.extend_from_slice(bytes);
        let i = slot as usize;
        if self.keys.len() <= i {
            self.keys.resize(i + 1, DEAD);
        }
        self.keys[i] = k;
        self.len += 1;
    }

    /// Forgets the key of `slot`.
    pub(crate) fn remove(&mut self, slot: u32) {
        let Some(k) = self.keys.get(slot as usize).copied().filter(|k| k.live) else {
            return;
        };
        // Unlink from the hash chain.
        match self.heads.get(&k.hash).copied() {
            Some(head) if head == slot => {
                if k.chain == NO_SLOT {
                    self.heads.remove(&k.hash);
                } else {
                    self.heads.insert(k.hash, k.chain);
                }
            }
            Some(mut cur) => {
                while let Some(c) = self.keys.get(cur as usize).copied() {
                    if c.chain == slot {
                        self.keys[cur as usize].chain = k.chain;
                        break;
                    }
                    cur = c.chain;
                }
            }
            None => {}
        }
        self.keys[slot as usize] = DEAD;
        self.garbage += k.len;
        self.len -= 1;
    }

    /// Rewrites the arena without removed keys once they take most of it.
    pub(crate) fn compact_if_wasteful(&mut self) {
        if self.garbage < 64 * 1024 || self.garbage * 2 < self.arena.len() {
            return;
        }
        let mut arena = Vec::with_capacity(self.arena.len() - self.garbage);
        for k in self.keys.iter_mut().filter(|k| k.live) {
            let off = arena.len();
            arena.extend_from_slice(self.arena.get(k.off..k.off + k.len).unwrap_or_default());
            k.off = off;
        }
        self.arena = arena;
        self.garbage = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_remove_and_compact() {
        let mut ix = KeyIndex::default();
        let keys: Vec<Vec<u8>> = (0..20000)
            .map(|i| format!("m{{i=\"{i}\"}}").into_bytes())
            .collect();
        for (i, k) in keys.iter().enumerate() {
            ix.insert(i as u32, k);
        }
        assert_eq!(ix.len(), 20000);
        assert_eq!(ix.get(&keys[1234]), Some(1234));
        assert!(ix.matches(7, &keys[7]));
        assert!(!ix.matches(7, &keys[8]));
        for i in (0..20000).filter(|i| i % 3 != 0) {
            ix.remove(i as u32);
        }
        ix.compact_if_wasteful();
        assert_eq!(ix.garbage, 0);
        for (i, k) in keys.iter().enumerate() {
            let want = (i % 3 == 0).then_some(i as u32);
            assert_eq!(ix.get(k), want, "key {i}");
        }
        ix.insert(1, b"new");
        assert_eq!(ix.get(b"new"), Some(1));
        assert_eq!(ix.get(b"absent"), None);
    }

    #[test]
    fn colliding_hashes_chain() {
        // Force collisions by inserting under the same hash head manually.
        let mut ix = KeyIndex::default();
        ix.insert(0, b"a");
        ix.insert(1, b"b");
        let h = hash(b"a");
        // Re-point b's hash chain onto a's to simulate a collision.
        let hb = ix.keys[1].hash;
        ix.heads.remove(&hb);
        ix.keys[1].hash = h;
        ix.keys[1].chain = 0;
        ix.heads.insert(h, 1);
        assert_eq!(ix.get(b"a"), Some(0));
        ix.remove(1);
        assert_eq!(ix.get(b"a"), Some(0));
        ix.remove(0);
        assert_eq!(ix.get(b"a"), None);
        assert!(ix.heads.is_empty());
    }
}
