//! Streaming samples out of a series' chunks, wherever they live.
//!
//! Each chunk is decoded in one go into a buffer the iterator keeps (straight from
//! the block's memory map or the head's bytes, without copying the chunk first),
//! clipped to the query range. `next_batch` then copies the rest of that buffer out
//! in one go (what PromQL's selectors read with), `next` is an index increment and
//! `seek` a binary search.

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
    /// The current chunk's samples: in range, after every sample of earlier chunks,
    /// strictly increasing. Decoded into in place, reused from chunk to chunk.
    raw: Vec<(i64, f64)>,
    /// `raw` ready-made as `Option`s, built only once `next` reaches the chunk (batch
    /// readers never need it), so that `next` returns one with a plain copy: callers
    /// read the result as whole words, and a result assembled field by field would
    /// make those reads wait on store forwarding. Empty or as long as `raw`.
    buf: Vec<Option<Sample>>,
    /// Index in `raw` (and `buf`) of the next sample to return.
    pos: usize,
    /// The last sample returned before the current chunk (later ones are `raw[pos-1]`).
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
            Some(i) => self.raw.get(i).map(|&(t, v)| Sample::new(t, v)),
            None => self.before,
        }
    }

    /// Called when `raw` is used up: reports the current chunk's error, if any, or
    /// decodes the next chunk that can hold samples at or after `from`. Returns
    /// whether `raw` has samples again.
    fn advance(&mut self, from: Timestamp) -> bool {
        self.before = self.current();
        self.raw.clear();
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
        self.raw.clear();
        self.done = true;
        false
    }

    /// `next` once `buf` is used up (kept out of line so `next` stays small): mirrors
    /// the current chunk into `buf` if that is not done yet, else moves to the next.
    #[cold]
    #[inline(never)]
    fn next_chunk(&mut self) -> Option<Sample> {
        if self.pos >= self.raw.len() && !self.advance(self.mint) {
            return None;
        }
        if self.buf.is_empty() {
            self.buf
                .extend(self.raw.iter().map(|&(t, v)| Some(Sample::new(t, v))));
        }
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
            let rest = self.raw.get(self.pos..).unwrap_or_default();
            let skip = rest.partition_point(|s| s.0 < t);
            if let Some(&(st, sv)) = rest.get(skip) {
                self.pos += skip + 1;
                return Some(Sample::new(st, sv));
            }
            if !self.advance(t) {
                return None;
            }
        }
    }

    fn next_batch(&mut self, out: &mut Vec<Sample>) -> usize {
        if self.pos >= self.raw.len() && !self.advance(self.mint) {
            return 0;
        }
        let rest = self.raw.get(self.pos..).unwrap_or_default();
        out.extend(rest.iter().map(|&(t, v)| Sample::new(t, v)));
        self.pos = self.raw.len();
        rest.len()
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

    fn drain_batches(it: &mut ChunkSeriesIterator) -> Vec<Sample> {
        let mut out = Vec::new();
        while it.next_batch(&mut out) > 0 {}
        out
    }

    #[test]
    fn batches_are_the_rest_of_the_current_chunk() {
        let chunks = vec![samples(0, 10, 10), samples(100, 10, 10)];
        let mut it = iter(&chunks, 5, 175);
        let mut out = Vec::new();
        assert_eq!(it.seek(42), Some(Sample::new(50, 5.0)));
        assert_eq!(it.next_batch(&mut out), 4, "ends with the chunk");
        assert_eq!(
            out.iter().map(|s| s.t).collect::<Vec<_>>(),
            [60, 70, 80, 90]
        );
        assert_eq!(
            it.seek(0),
            Some(Sample::new(90, 9.0)),
            "current is the last"
        );
        assert_eq!(it.next(), Some(Sample::new(100, 100.0)));
        out.clear();
        assert_eq!(it.next_batch(&mut out), 7, "clipped to maxt");
        assert_eq!(out.last(), Some(&Sample::new(170, 107.0)));
        assert_eq!(it.next_batch(&mut out), 0);
        assert_eq!(it.next(), None);
        assert_eq!(it.seek(0), Some(Sample::new(170, 107.0)));
        assert!(it.error().is_none());

        // `next` partway into a chunk, then a batch of the rest, then `next` again.
        let mut it = iter(&chunks, i64::MIN, i64::MAX);
        assert_eq!(it.next(), Some(Sample::new(0, 0.0)));
        out.clear();
        assert_eq!(it.next_batch(&mut out), 9);
        assert_eq!(it.next(), Some(Sample::new(100, 100.0)));
        assert_eq!(it.seek(185), Some(Sample::new(190, 109.0)));
        assert_eq!(it.next_batch(&mut out), 0);

        // Nothing in range, or no chunks at all.
        for mut it in [iter(&chunks, 300, 400), iter(&[], 0, 10)] {
            assert_eq!(it.next_batch(&mut out), 0);
            assert_eq!(it.seek(0), None);
            assert_eq!(it.next_batch(&mut out), 0);
            assert!(it.error().is_none());
        }
        // A seek past the end, then a batch.
        let mut it = iter(&chunks, 5, 175);
        assert_eq!(it.seek(171), None);
        assert_eq!(it.next_batch(&mut out), 0);
    }

    #[test]
    fn batches_keep_stale_markers_bit_for_bit() {
        let chunk = vec![
            (1, 1.0),
            (2, watchfire_model::STALE_NAN),
            (3, f64::NAN),
            (4, 2.0),
        ];
        let got = drain_batches(&mut iter(std::slice::from_ref(&chunk), 0, 10));
        let bits = |v: f64| v.to_bits();
        assert_eq!(
            got.iter().map(|s| (s.t, bits(s.v))).collect::<Vec<_>>(),
            chunk.iter().map(|s| (s.0, bits(s.1))).collect::<Vec<_>>()
        );
        assert!(watchfire_model::is_stale_nan(got[1].v));
        assert!(!watchfire_model::is_stale_nan(got[2].v));
    }

    #[test]
    fn batches_of_a_corrupt_chunk_end_with_its_error() {
        let mut bad = xor(&samples(100, 50, 10));
        if let ChunkSource::Bytes(b) = &mut bad.source {
            b.truncate(b.len() / 2);
        }
        let handles = vec![xor(&samples(0, 10, 10)), bad, xor(&samples(1000, 10, 10))];
        let mut it = ChunkSeriesIterator::new(handles, i64::MIN, i64::MAX);
        let mut out = Vec::new();
        assert_eq!(it.next_batch(&mut out), 10);
        let n = it.next_batch(&mut out);
        assert!(
            n > 0 && n < 50,
            "the good samples of the damaged chunk: {n}"
        );
        assert!(it.error().is_none(), "reported once they are read");
        assert_eq!(it.next_batch(&mut out), 0);
        assert!(matches!(it.error(), Some(StorageError::Corruption { .. })));
        assert!(out.iter().all(|s| s.t < 1000), "stops at the damage");
        assert_eq!(it.next_batch(&mut out), 0);
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

        /// Interleaved `seek`s, `next`s and `next_batch`es follow the model sequence.
        #[test]
        fn matches_model(
            chunks in chunks_strategy(),
            mint in -50i64..300,
            len in 0i64..2000,
            ops in prop::collection::vec(
                prop_oneof![
                    3 => prop::option::of(-50i64..2500).prop_map(Some),
                    1 => Just(None),
                ],
                0..60,
            ),
        ) {
            let maxt = mint + len;
            let want = model(&chunks, mint, maxt);
            prop_assert_eq!(drain_batches(&mut iter(&chunks, mint, maxt)), want.clone());
            let mut it = iter(&chunks, mint, maxt);
            // Index in `want` of the next sample, and the current one.
            let (mut pos, mut cur): (usize, Option<Sample>) = (0, None);
            for op in ops {
                // `None`: a batch.
                let Some(op) = op else {
                    let mut out = vec![Sample::new(-99, 0.0)];
                    let n = it.next_batch(&mut out);
                    prop_assert_eq!(n, out.len() - 1);
                    prop_assert_eq!(n == 0, pos >= want.len());
                    prop_assert_eq!(&out[1..], &want[pos.min(want.len())..(pos + n).min(want.len())]);
                    pos += n;
                    if n > 0 {
                        cur = out.last().copied();
                    }
                    continue;
                };
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
