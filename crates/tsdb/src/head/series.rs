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
        if let Some(first) = self.open.first_time() {
            let boundary = (first.div_euclid(block_range) + 1).saturating_mul(block_range);
            if self.open.num_samples() >= samples_per_chunk || t >= boundary {
                self.cut(series_ref, disk);
            }
        }
        self.open.append(t, v);
        self.last_t = t;
        self.last_v = v.to_bits();
        Ok(Appended::Stored)
    }

    /// Moves the open chunk to disk (or, if that fails, keeps it on the heap).
    pub(crate) fn cut(&mut self, series_ref: u64, disk: &DiskChunks) {
        let Some(min_time) = self.open.first_time() else {
            return;
        };
        let max_time = self.last_t;
        let chunk = std::mem::replace(&mut self.open, XorChunk::new());
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
            self.open = XorChunk::new();
        }
        self.full.is_empty() && self.open.num_samples() == 0
    }

    /// Earliest sample time held, if any.
    pub(crate) fn min_time(&self) -> Option<i64> {
        self.full
            .first()
            .map(|c| c.min_time)
            .or_else(|| self.open.first_time())
    }

    /// Approximate heap bytes of this series (excluding interned strings).
    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.labels.len() * 4
            + self.full.capacity() * std::mem::size_of::<FullChunk>()
            + self.open.heap_bytes()
    }
}
