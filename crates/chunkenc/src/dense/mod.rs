//! The dense encoding ([`Encoding::Dense`](crate::Encoding::Dense)) for sealed chunks.
//!
//! Not appendable: the encoder sees all samples at once, stores timestamps and values
//! as two columns of integers, and picks for each column the cheapest of several
//! transforms by computing their exact sizes. Layout (details in
//! `docs/format/chunks.md`):
//!
//! ```text
//! u16 BE sample count n | timestamps: intseq | values: mode + intseq (+ exceptions) | pad
//! ```

mod codes;
mod intseq;
mod io;
mod values;

use std::iter::FusedIterator;

use crate::format::HEADER_BYTES;
use crate::{ChunkError, MAX_SAMPLES};
use io::{BitWriter, Cursor};

/// Samples' worth of buffers an [`Encoder`] keeps between chunks.
const KEEP_CAPACITY: usize = 4096;

/// Reusable encoder state: buffers kept between chunks to avoid allocations.
#[derive(Debug, Default)]
pub(crate) struct Encoder {
    scratch: intseq::Scratch,
    ts: Vec<i64>,
    vals: Vec<f64>,
}

impl Encoder {
    /// Encodes at most [`MAX_SAMPLES`] samples (the rest are ignored).
    pub(crate) fn encode(&mut self, samples: &[(i64, f64)]) -> Vec<u8> {
        let samples = samples.get(..usize::from(MAX_SAMPLES)).unwrap_or(samples);
        self.ts.clear();
        self.ts.extend(samples.iter().map(|s| s.0));
        self.vals.clear();
        self.vals.extend(samples.iter().map(|s| s.1));
        let tplan = intseq::plan(&self.ts, &mut self.scratch);
        let vplan = values::plan(&self.vals, &mut self.scratch);
        let bits = HEADER_BYTES as u64 * 8 + tplan.bits + vplan.bits;
        let count = samples.len() as u16;
        let mut w = BitWriter::with_prefix(&count.to_be_bytes(), bits.div_ceil(8) as usize);
        intseq::write(&mut w, &self.ts, &tplan, &mut self.scratch);
        if !samples.is_empty() {
            values::write(&mut w, &vplan, &mut self.scratch);
        }
        debug_assert_eq!(w.bit_len(), if samples.is_empty() { 16 } else { bits });
        // Buffers are kept for the next chunk, unless a huge chunk grew them.
        if self.ts.capacity() > KEEP_CAPACITY {
            *self = Encoder::default();
        }
        w.finish()
    }
}

/// Encodes samples with the dense encoding, whatever its size (see
/// [`encode_best`](crate::encode_best) to get the smaller of Dense and XOR).
///
/// Lossless for any timestamps and any value bit patterns; timestamps are expected to
/// be strictly increasing (for [`DenseIter::seek`]). Only the first
/// [`MAX_SAMPLES`] samples are encoded.
pub fn encode_dense(samples: &[(i64, f64)]) -> Vec<u8> {
    Encoder::default().encode(samples)
}

/// Decodes a whole dense chunk into `out` (replacing its contents), with `buf` as
/// scratch for one column. On error `out` is left empty. Bytes after the encoded
/// samples are ignored.
pub(crate) fn decode_into(
    bytes: &[u8],
    out: &mut Vec<(i64, f64)>,
    buf: &mut Vec<i64>,
) -> Result<(), ChunkError> {
    out.clear();
    let Some(h) = bytes.first_chunk::<HEADER_BYTES>() else {
        return Err(ChunkError::ShortHeader { len: bytes.len() });
    };
    let n = usize::from(u16::from_be_bytes(*h));
    let mut c = Cursor::new(bytes, HEADER_BYTES);
    intseq::read(&mut c, n, buf)?;
    out.extend(buf.iter().map(|&t| (t, 0.0)));
    if n > 0
        && let Err(e) = values::read(&mut c, out, buf)
    {
        out.clear();
        return Err(e);
    }
    Ok(())
}

/// Decodes a whole dense chunk. Bytes after the encoded samples are ignored.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<(i64, f64)>, ChunkError> {
    let mut out = Vec::new();
    crate::chunk::with_scratch(|buf| decode_into(bytes, &mut out, buf))?;
    Ok(out)
}

/// Iterates over a dense chunk, decoded in full when created (chunks are small).
///
/// Corrupt input never panics: the iterator is then empty and [`Self::error`] says
/// why (a dense chunk is all or nothing, since its columns are stored one after the
/// other).
#[derive(Debug, Clone, Default)]
pub struct DenseIter {
    samples: Vec<(i64, f64)>,
    /// Index of the next sample to return.
    next: usize,
    /// Whether `samples[next - 1]` is the current sample.
    positioned: bool,
    /// Whether timestamps increase, so `seek` can search.
    sorted: bool,
    err: Option<ChunkError>,
}

impl DenseIter {
    /// Decodes `bytes`, a chunk produced by [`encode_dense`] (or by
    /// [`encode_best`](crate::encode_best) with [`Encoding::Dense`](crate::Encoding::Dense)).
    pub fn new(bytes: &[u8]) -> Self {
        match decode(bytes) {
            Ok(samples) => DenseIter {
                sorted: samples.is_sorted_by(|a, b| a.0 < b.0),
                samples,
                ..DenseIter::default()
            },
            Err(e) => DenseIter {
                err: Some(e),
                ..DenseIter::default()
            },
        }
    }

    /// Advances to the next sample and returns it; `None` at the end.
    #[allow(
        clippy::should_implement_trait,
        reason = "Iterator is implemented too; mirrors XorIter"
    )]
    #[inline]
    pub fn next(&mut self) -> Option<(i64, f64)> {
        let s = self.samples.get(self.next).copied();
        self.positioned = s.is_some();
        if s.is_some() {
            self.next += 1;
        }
        s
    }

    /// Advances to the first sample with timestamp `>= t` and returns it. Never moves
    /// backwards: if the current sample already qualifies it is returned again.
    /// `None` once the chunk is exhausted (same semantics as
    /// [`XorIter::seek`](crate::XorIter::seek)).
    ///
    /// A binary search when the timestamps increase (as they do in any chunk made
    /// from valid input), else a scan.
    pub fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        if let Some(cur) = self.at().filter(|s| s.0 >= t) {
            return Some(cur);
        }
        let rest = self.samples.get(self.next..).unwrap_or_default();
        self.next += if self.sorted {
            rest.partition_point(|s| s.0 < t)
        } else {
            rest.iter().position(|s| s.0 >= t).unwrap_or(rest.len())
        };
        DenseIter::next(self)
    }

    /// The sample last returned by [`Self::next`] or [`Self::seek`]; `None` before the
    /// first call and after the end.
    #[inline]
    pub fn at(&self) -> Option<(i64, f64)> {
        if !self.positioned {
            return None;
        }
        self.next
            .checked_sub(1)
            .and_then(|i| self.samples.get(i))
            .copied()
    }

    /// Why the chunk could not be decoded, if it could not.
    pub fn error(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }

    /// Samples not yet returned (0 after an error).
    pub fn remaining(&self) -> u16 {
        self.samples.len().saturating_sub(self.next) as u16
    }

    /// All decoded samples, including those already returned.
    pub fn samples(&self) -> &[(i64, f64)] {
        &self.samples
    }
}

impl Iterator for DenseIter {
    type Item = (i64, f64);

    #[inline]
    fn next(&mut self) -> Option<(i64, f64)> {
        DenseIter::next(self)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.remaining());
        (n, Some(n))
    }
}

impl ExactSizeIterator for DenseIter {}

impl FusedIterator for DenseIter {}

#[cfg(test)]
mod tests {
    use super::*;

    const STALE: u64 = values::STALE_NAN;

    fn roundtrip(samples: &[(i64, u64)]) -> usize {
        let s: Vec<(i64, f64)> = samples
            .iter()
            .map(|&(t, v)| (t, f64::from_bits(v)))
            .collect();
        let bytes = encode_dense(&s);
        let got = decode(&bytes).unwrap();
        let got: Vec<(i64, u64)> = got.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        assert_eq!(got, samples);
        bytes.len()
    }

    #[test]
    fn small_and_edge_chunks() {
        assert_eq!(encode_dense(&[]), vec![0, 0]);
        assert_eq!(decode(&[0, 0]).unwrap(), vec![]);
        roundtrip(&[(5, 1.5f64.to_bits())]);
        roundtrip(&[(i64::MIN, STALE), (i64::MAX, (-0.0f64).to_bits())]);
        let edge = [
            STALE,
            f64::NAN.to_bits(),
            0x7ff8_dead_beef_0001,
            f64::INFINITY.to_bits(),
            f64::NEG_INFINITY.to_bits(),
            (-0.0f64).to_bits(),
            0,
            1,
            u64::MAX,
            f64::MAX.to_bits(),
        ];
        for (i, &v) in edge.iter().enumerate() {
            let mut s: Vec<(i64, u64)> = (0..40)
                .map(|j| (j * 15_000, f64::from(j as u32).to_bits()))
                .collect();
            s[(i * 7) % 40].1 = v;
            roundtrip(&s);
            roundtrip(&[(0, v)]);
            roundtrip(&[(0, 0), (1, v)]);
        }
        let all: Vec<_> = edge
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as i64, v))
            .collect();
        roundtrip(&all);
    }

    #[test]
    fn decimal_series_are_small() {
        let s: Vec<(i64, u64)> = (0..480)
            .map(|i| {
                let v = 55.0 + f64::from((i * 37 % 11) as u32) / 10.0;
                (1_700_000_000_000 + i * 15_000, v.to_bits())
            })
            .collect();
        let len = roundtrip(&s);
        assert!(len < 480 * 5 / 8 + 40, "{len}");
        let mut s = s;
        s[100].1 = STALE;
        s[479].1 = STALE;
        let len2 = roundtrip(&s);
        assert!(len2 < len + 12, "{len2} vs {len}");
    }

    #[test]
    fn iterator_and_errors() {
        let s: Vec<(i64, f64)> = (0..10).map(|i| (i * 10, i as f64)).collect();
        let bytes = encode_dense(&s);
        let mut it = DenseIter::new(&bytes);
        assert_eq!(it.len(), 10);
        assert_eq!(it.at(), None);
        assert_eq!(it.seek(15), Some((20, 2.0)));
        assert_eq!(it.seek(5), Some((20, 2.0)));
        assert_eq!(it.next(), Some((30, 3.0)));
        assert_eq!(it.seek(1000), None);
        assert_eq!(it.at(), None);
        assert_eq!(it.next(), None);
        assert!(it.error().is_none());
        let bad = DenseIter::new(&bytes[..bytes.len() - 1]);
        assert!(matches!(bad.error(), Some(ChunkError::Truncated { .. })));
        assert_eq!(bad.remaining(), 0);
        assert_eq!(
            DenseIter::new(&[7]).error(),
            Some(&ChunkError::ShortHeader { len: 1 })
        );
    }
}
