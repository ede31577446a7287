//! One in-memory series: its open chunk and where its full chunks went.

use super::disk_chunks::{DiskChunkRef, DiskChunks};
use watchfire_chunkenc::{Encoding, XorChunk};
use watchfire_model::SymbolId;
use watchfire_storage::AppendError;

/// A full (immutable) chunk of a head series, kept to 24 bytes because a series
/// holds several of them for as long as they are in the head.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FullChunk {
    pub min_time: i64,
    pub max_time: i64,
    pub disk_ref: DiskChunkRef,
}

/// A series held in the head.
pub(crate) struct MemSeries {
    /// Label pairs as interned (name, value) symbols, sorted by name.
    pub labels: Box<[SymbolId]>,
    /// Full chunks, oldest first.
    pub full: Vec<FullChunk>,
    /// The chunk being appended to.
    pub open: XorChunk,
    /// Time of the open chunk's first sample, `i64::MIN` when it is empty. Kept here
    /// because decoding it from the chunk bytes on every append costs a cache miss.
    open_min_t: i64,
    /// First timestamp that no longer fits the open chunk (the next block boundary).
    open_end: i64,
    /// Timestamp of the newest sample, `i64::MIN` when none.
    pub last_t: i64,
    /// Bits of the newest value, for duplicate detection.
    pub last_v: u64,
}

/// Outcome of appending to a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Appended {
    /// Stored.
    Stored,
    /// Same timestamp and bit-identical value as the newest sample: nothing to do.
    Duplicate,
}

impl MemSeries {
    pub(crate) fn new(labels: Box<[SymbolId]>) -> Self {
        MemSeries {
            labels,
            full: Vec::new(),
            open: XorChunk::new(),
            open_min_t: i64::MIN,
            open_end: i64::MAX,
            last_t: i64::MIN,
            last_v: 0,
        }
    }

    /// Checks `t, v` against the newest sample without storing it.
    pub(crate) fn check(&self, t: i64, v: f64) -> Result<Appended, AppendError> {
        if self.last_t == i64::MIN || t > self.last_t {
            return Ok(Appended::Stored);
        }
        if t < self.last_t {
            return Err(AppendError::OutOfOrder {
                t,
                latest: self.last_t,
            });
        }
        if v.to_bits() == self.last_v {
            Ok(Appended::Duplicate)
        } else {
            Err(AppendError::DuplicateTimestamp { t })
        }
    }

    /// Appends a sample, cutting the open chunk when it is full or when the sample
    /// crosses a block boundary (so no chunk ever spans two blocks).
    pub(crate) fn append(
        &mut self,
        series_ref: u64,
        t: i64,
        v: f64,
        samples_per_chunk: u16,
        block_range: i64,
        disk: &DiskChunks,
    ) -> Result<Appended, AppendError> {
        if self.check(t, v)? == Appended::Duplicate {
            return Ok(Appended::Duplicate);
        }
        let n = self.open.num_samples();
        if n > 0 && (n >= samples_per_chunk || t >= self.open_end) {
            self.cut(series_ref, disk);
        }
        if self.open.num_samples() == 0 {
            self.open_min_t = t;
            self.open_end = (t.div_euclid(block_range) + 1).saturating_mul(block_range);
        }
        self.open.append(t, v);
        self.last_t = t;
        self.last_v = v.to_bits();
        Ok(Appended::Stored)
    }

    /// Moves the open chunk to disk (or, if that fails, keeps it on the heap).
    pub(crate) fn cut(&mut self, series_ref: u64, disk: &DiskChunks) {
        if self.open.num_samples() == 0 {
            return;
        }
        let min_time = self.open_min_t;
        let max_time = self.last_t;
        let chunk = self.take_open();
        let disk_ref = disk.write(
            series_ref,
            min_time,
            max_time,
            Encoding::Xor as u8,
            chunk.bytes(),
        );
        self.full.push(FullChunk {
            min_time,
            max_time,
            disk_ref,
        });
    }

    /// Drops chunks that end before `mint`. Returns whether the series is now empty.
    pub(crate) fn truncate_before(&mut self, mint: i64) -> bool {
        self.full.retain(|c| c.max_time >= mint);
        if self.open.num_samples() > 0 && self.last_t < mint {
            self.take_open();
        }
        self.full.is_empty() && self.open.num_samples() == 0
    }

    /// Earliest sample time held, if any.
    pub(crate) fn min_time(&self) -> Option<i64> {
        self.full
            .first()
            .map(|c| c.min_time)
            .or_else(|| self.open_min())
    }

    /// Time of the open chunk's first sample, if it holds any.
    pub(crate) fn open_min(&self) -> Option<i64> {
        (self.open.num_samples() > 0).then_some(self.open_min_t)
    }

    /// Replaces the open chunk with an empty one and returns it.
    fn take_open(&mut self) -> XorChunk {
        self.open_min_t = i64::MIN;
        self.open_end = i64::MAX;
        std::mem::replace(&mut self.open, XorChunk::new())
    }

    /// Approximate heap bytes of this series (excluding interned strings).
    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.labels.len() * 4
            + self.full.capacity() * std::mem::size_of::<FullChunk>()
            + self.open.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn chunks_cut_when_full_and_at_block_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskChunks::open(&dir.path().join("chunks_head"), 1 << 16).unwrap();
        let mut s = MemSeries::new(Box::new([]));
        assert_eq!(s.min_time(), None);
        // 4 samples per chunk, blocks of 100 ms, one sample every 10 ms from 50.
        for t in (50..=250).step_by(10) {
            assert_eq!(
                s.append(7, t, t as f64, 4, 100, &disk).unwrap(),
                Appended::Stored
            );
        }
        let spans: Vec<(i64, i64)> = s.full.iter().map(|c| (c.min_time, c.max_time)).collect();
        // Full at 4 samples; a new chunk at 100 and 200 (block boundaries) however full.
        assert_eq!(
            spans,
            [
                (50, 80),
                (90, 90),
                (100, 130),
                (140, 170),
                (180, 190),
                (200, 230)
            ]
        );
        assert_eq!((s.open_min(), s.last_t), (Some(240), 250));
        assert_eq!(s.min_time(), Some(50));
        let (_, bytes) = disk.read(s.full[1].disk_ref).unwrap();
        assert_eq!(
            watchfire_chunkenc::decode_all(&bytes).unwrap(),
            [(90, 90.0)]
        );
        // Dropping everything before 245 empties the open chunk's history but keeps it.
        assert!(!s.truncate_before(245));
        assert!(s.full.is_empty());
        assert_eq!(s.min_time(), Some(240));
        assert!(s.truncate_before(300));
        assert_eq!(s.min_time(), None);
        // A fresh open chunk takes its own first time and boundary.
        s.append(7, 310, 1.0, 4, 100, &disk).unwrap();
        assert_eq!(s.open_min(), Some(310));
    }
}
