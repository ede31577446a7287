//! Streaming samples out of a series' chunks, wherever they live.
//!
//! Each chunk is decoded in one go into a buffer the iterator keeps (straight from
//! the block's memory map or the head's bytes, without copying the chunk first),
//! clipped to the query range. `next` is then an index increment and `seek` a binary
//! search, which is what PromQL's per-sample calls need to be cheap.

use crate::head::disk_chunks::{DiskChunkRef, DiskChunks};
use std::sync::Arc;
use watchfire_block::Block;
use watchfire_chunkenc::{ChunkError, Encoding, decode_range_into};
use watchfire_model::{Sample, Timestamp};
use watchfire_storage::{SampleIterator, StorageError};

/// Where to fetch a chunk's bytes from when the iterator reaches it.
pub(crate) enum ChunkSource {
    /// Already in memory (the head's open chunk, or a heap-kept full chunk).
    Bytes(Vec<u8>),
    /// A full head chunk in a memory-mapped file.
    HeadDisk(Arc<DiskChunks>, DiskChunkRef),
    /// A chunk of a persisted block.
    Block(Arc<Block>, u64),
}

/// A chunk and the time range it covers.
pub(crate) struct ChunkHandle {
    pub min_time: i64,
    pub max_time: i64,
    pub source: ChunkSource,
}

fn corrupt_chunk(e: &ChunkError) -> StorageError {
    StorageError::Corruption {
        location: "chunk".into(),
        detail: e.to_string(),
    }
}

fn encoding(byte: u8) -> Result<Encoding, StorageError> {
    Encoding::try_from(byte).map_err(|e| corrupt_chunk(&e))
}

impl ChunkHandle {
    /// Decodes the chunk's samples within `[mint, maxt]` into `out` (see
    /// [`decode_range_into`]). The outer error means the chunk could not be read at
    /// all; the inner one that it is corrupt after the samples left in `out`.
    fn decode_into(
        &self,
        mint: Timestamp,
        maxt: Timestamp,
        out: &mut Vec<(i64, f64)>,
    ) -> Result<Result<(), ChunkError>, StorageError> {
        Ok(match &self.source {
            ChunkSource::Bytes(b) => decode_range_into(Encoding::Xor, b, mint, maxt, out),
            ChunkSource::HeadDisk(d, r) => {
                let (enc, bytes) = d.read(*r).map_err(StorageError::from)?;
                decode_range_into(encoding(enc)?, &bytes, mint, maxt, out)
            }
            ChunkSource::Block(b, r) => {
                let (enc, data) = b.chunk(*r).map_err(|e| StorageError::Corruption {
                    location: b.dir().display().to_string(),
                    detail: e.to_string(),
                })?;
                decode_range_into(encoding(enc)?, data, mint, maxt, out)
            }
        })
    }
}

/// Samples of one series within `[mint, maxt]`, decoded a chunk at a time.
pub(crate) struct ChunkSeriesIterator {
    chunks: std::vec::IntoIter<ChunkHandle>,
    /// Decoding output, reused from chunk to chunk.
    raw: Vec<(i64, f64)>,
    /// The current chunk's samples: in range, after every sample of earlier chunks,
    /// strictly increasing. Stored ready-made as `Option`s so that `next` returns one
    /// with a plain copy: callers read the result as whole words, and a result
    /// assembled field by field would make those reads wait on store forwarding.
    buf: Vec<Option<Sample>>,
    /// Index in `buf` of the next sample to return.
    pos: usize,
    /// The last sample returned before the current chunk (later ones are `buf[pos-1]`).
    before: Option<Sample>,
    mint: Timestamp,
    maxt: Timestamp,
    done: bool,
    /// Why the current chunk's samples end early, reported once they are consumed.
    pending: Option<StorageError>,
    error: Option<StorageError>,
}

impl ChunkSeriesIterator {
    /// Iterates `chunks` (time-ordered) clipped to `[mint, maxt]`.
    pub(crate) fn new(chunks: Vec<ChunkHandle>, mint: Timestamp, maxt: Timestamp) -> Self {
        ChunkSeriesIterator {
            chunks: chunks.into_iter(),
            raw: Vec::new(),
            buf: Vec::new(),
            pos: 0,
            before: None,
            mint,
            maxt,
            done: false,
            pending: None,
            error: None,
        }
    }

    /// The sample last returned.
    #[inline]
    fn current(&self) -> Option<Sample> {
        match self.pos.checked_sub(1) {
            Some(i) => self.buf.get(i).copied().flatten(),
            None => self.before,
        }
    }

    /// Called when `buf` is used up: reports the current chunk's error, if any, or
    /// decodes the next chunk that can hold samples at or after `from`. Returns
    /// whether `buf` has samples again.
    fn advance(&mut self, from: Timestamp) -> bool {
        self.before = self.current();
        self.buf.clear();
        self.pos = 0;
        if self.done {
            return false;
        }
        if let Some(e) = self.pending.take() {
            self.error = Some(e);
            self.done = true;
            return false;
        }
        // Never return a sample at or before one already returned (chunks may overlap).
        let from = match self.before {
            Some(c) => from.max(c.t.saturating_add(1)),
            None => from,
        }
        .max(self.mint);
        for c in self.chunks.by_ref() {
            if c.max_time < from {
                continue;
            }
            if c.min_time > self.maxt {
                break;
            }
            match c.decode_into(from, self.maxt, &mut self.raw) {
                Ok(r) => {
                    if let Err(e) = r {
                        self.pending = Some(corrupt_chunk(&e));
                    }
                    keep_increasing(&mut self.raw);
                    if !self.raw.is_empty() {
                        self.buf
                            .extend(self.raw.iter().map(|&(t, v)| Some(Sample::new(t, v))));
                        return true;
                    }
                    if let Some(e) = self.pending.take() {
                        self.error = Some(e);
                        break;
                    }
                }
                Err(e) => {
                    self.error = Some(e);
                    break;
                }
            }
        }
        self.done = true;
        false
    }

    /// `next` once `buf` is used up (kept out of line so `next` stays small).
    #[cold]
    #[inline(never)]
    fn next_chunk(&mut self) -> Option<Sample> {
        if self.advance(self.mint) {
            self.take()
        } else {
            None
        }
    }

    /// Returns `buf[pos]`, if any, and moves past it.
    #[inline(always)]
    fn take(&mut self) -> Option<Sample> {
        let slot = self.buf.get(self.pos)?;
        self.pos += 1;
        *slot
    }
}

/// Drops every sample not after all the samples before it (as iterating would skip
/// them), so the rest is strictly increasing. One pass; a no-op for sound chunks.
fn keep_increasing(buf: &mut Vec<(i64, f64)>) {
    if buf.is_sorted_by(|a, b| a.0 < b.0) {
        return;
    }
    let mut last = None;
    buf.retain(|s| {
        let keep = last.is_none_or(|l| s.0 > l);
        if keep {
            last = Some(s.0);
        }
        keep
    });
}

impl SampleIterator for ChunkSeriesIterator {
    #[inline]
    fn next(&mut self) -> Option<Sample> {
        // Returned as stored, without looking inside (see `buf`).
        if let Some(slot) = self.buf.get(self.pos) {
            self.pos += 1;
            return *slot;
        }
        self.next_chunk()
    }

    fn seek(&mut self, t: Timestamp) -> Option<Sample> {
        if let Some(c) = self.current()
            && c.t >= t
        {
            return Some(c);
        }
        loop {
            let rest = self.buf.get(self.pos..).unwrap_or_default();
            let skip = rest.partition_point(|s| s.is_some_and(|s| s.t < t));
            if skip < rest.len() {
                self.pos += skip;
                return self.take();
            }
            if !self.advance(t) {
                return None;
            }
        }
    }

    fn error(&mut self) -> Option<StorageError> {
        self.error.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use watchfire_chunkenc::XorChunk;

    fn xor(samples: &[(i64, f64)]) -> ChunkHandle {
        let mut c = XorChunk::new();
        samples.iter().for_each(|&(t, v)| c.append(t, v));
        ChunkHandle {
            min_time: samples.first().map_or(0, |s| s.0),
            max_time: samples.last().map_or(0, |s| s.0),
            source: ChunkSource::Bytes(c.into_bytes()),
        }
    }

    fn iter(chunks: &[Vec<(i64, f64)>], mint: i64, maxt: i64) -> ChunkSeriesIterator {
        ChunkSeriesIterator::new(chunks.iter().map(|c| xor(c)).collect(), mint, maxt)
    }

    /// What iterating must yield: each chunk's samples up to its first one after
    /// `maxt`, those in range and after every sample already yielded.
    fn model(chunks: &[Vec<(i64, f64)>], mint: i64, maxt: i64) -> Vec<Sample> {
        let mut out: Vec<Sample> = Vec::new();
        for c in chunks {
            for &(t, v) in c.iter().take_while(|s| s.0 <= maxt) {
                if t >= mint && out.last().is_none_or(|l| t > l.t) {
                    out.push(Sample::new(t, v));
                }
            }
        }
        out
    }

    fn drain(it: &mut ChunkSeriesIterator) -> Vec<Sample> {
        std::iter::from_fn(|| it.next()).collect()
    }

    fn samples(from: i64, n: i64, step: i64) -> Vec<(i64, f64)> {
        (0..n)
            .map(|i| (from + i * step, (from + i) as f64))
            .collect()
    }

    #[test]
    fn clips_to_range_and_skips_overlaps() {
        let chunks = vec![
            samples(0, 10, 10),
            samples(50, 10, 10), // overlaps the first one's tail
            samples(200, 5, 10),
        ];
        for (mint, maxt) in [
            (i64::MIN, i64::MAX),
            (15, 215),
            (95, 95),
            (300, 400),
            (-5, 0),
        ] {
            let mut it = iter(&chunks, mint, maxt);
            assert_eq!(
                drain(&mut it),
                model(&chunks, mint, maxt),
                "{mint}..={maxt}"
            );
            assert_eq!(it.next(), None);
            assert!(it.error().is_none());
        }
    }

    #[test]
    fn seek_semantics() {
        let chunks = vec![samples(0, 10, 10), samples(100, 10, 10)];
        let mut it = iter(&chunks, 5, 175);
        assert_eq!(it.seek(-100), Some(Sample::new(10, 1.0)), "clipped to mint");
        assert_eq!(it.seek(10), Some(Sample::new(10, 1.0)), "current qualifies");
        assert_eq!(
            it.seek(95),
            Some(Sample::new(100, 100.0)),
            "into the next chunk"
        );
        assert_eq!(it.seek(0), Some(Sample::new(100, 100.0)), "never backwards");
        assert_eq!(it.next(), Some(Sample::new(110, 101.0)));
        assert_eq!(it.seek(171), None, "past maxt");
        assert_eq!(it.next(), None);
        assert_eq!(it.seek(i64::MAX), None);
        assert!(it.error().is_none());
    }

    #[test]
    fn corrupt_chunk_yields_its_good_samples_then_an_error() {
        let mut handles = vec![xor(&samples(0, 10, 10))];
        let mut bad = xor(&samples(100, 50, 10));
        if let ChunkSource::Bytes(b) = &mut bad.source {
            b.truncate(b.len() / 2);
        }
        handles.push(bad);
        handles.push(xor(&samples(1000, 10, 10)));
        let mut it = ChunkSeriesIterator::new(handles, i64::MIN, i64::MAX);
        let got = drain(&mut it);
        assert!(got.len() > 10 && got.len() < 60, "{}", got.len());
        assert_eq!(
            got[..10],
            model(&[samples(0, 10, 10)], i64::MIN, i64::MAX)[..]
        );
        assert!(got.iter().all(|s| s.t < 1000), "stops at the damage");
        assert!(matches!(it.error(), Some(StorageError::Corruption { .. })));
        assert_eq!(it.next(), None);
        // So is a chunk too short for its header.
        let mut it = ChunkSeriesIterator::new(
            vec![ChunkHandle {
                min_time: 0,
                max_time: 0,
                source: ChunkSource::Bytes(vec![0xff]),
            }],
            0,
            10,
        );
        assert_eq!(it.next(), None);
        assert!(it.error().is_some());
    }

    fn chunks_strategy() -> impl Strategy<Value = Vec<Vec<(i64, f64)>>> {
        // Chunks of increasing timestamps; each starts at or before the previous one's
        // end now and then, to exercise overlap handling.
        prop::collection::vec(
            (
                -30i64..100,
                prop::collection::vec((1i64..30, -5.0f64..5.0), 0..40),
            ),
            0..5,
        )
        .prop_map(|specs| {
            let mut end = 0i64;
            specs
                .into_iter()
                .map(|(back, steps)| {
                    let mut t = end - back;
                    let c: Vec<(i64, f64)> = steps
                        .into_iter()
                        .map(|(d, v)| {
                            t += d;
                            (t, v)
                        })
                        .collect();
                    end = end.max(t);
                    c
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Interleaved `seek`s and `next`s follow the model sequence.
        #[test]
        fn matches_model(
            chunks in chunks_strategy(),
            mint in -50i64..300,
            len in 0i64..2000,
            ops in prop::collection::vec(prop::option::of(-50i64..2500), 0..60),
        ) {
            let maxt = mint + len;
            let want = model(&chunks, mint, maxt);
            let mut it = iter(&chunks, mint, maxt);
            // Index in `want` of the next sample, and the current one.
            let (mut pos, mut cur): (usize, Option<Sample>) = (0, None);
            for op in ops {
                let got = match op {
                    None => it.next(),
                    Some(t) => it.seek(t),
                };
                let expect = match op {
                    Some(t) if cur.is_some_and(|c| c.t >= t) => cur,
                    _ => {
                        let target = op.unwrap_or(i64::MIN);
                        let skip = want[pos.min(want.len())..].iter().take_while(|s| s.t < target).count();
                        pos += skip;
                        let s = want.get(pos).copied();
                        if s.is_some() {
                            pos += 1;
                            cur = s;
                        } else {
                            pos = want.len();
                        }
                        s
                    }
                };
                prop_assert_eq!(got, expect, "op {:?}", op);
            }
            prop_assert!(it.error().is_none());
        }
    }
}
