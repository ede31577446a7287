//! Encoding-independent entry points: pick the best encoding, decode any encoding.

use std::cell::RefCell;
use std::iter::FusedIterator;

use crate::dense::{DenseIter, Encoder};
use crate::{ChunkError, Encoding, MAX_SAMPLES, XorChunk, XorIter, decode_all};

thread_local! {
    /// Per-thread dense encoder, so its buffers are reused from chunk to chunk.
    static ENCODER: RefCell<Encoder> = RefCell::new(Encoder::default());
    /// Per-thread column buffer for dense decoding.
    static SCRATCH: RefCell<Vec<i64>> = const { RefCell::new(Vec::new()) };
}

/// Samples' worth of decoding scratch kept per thread between chunks.
const KEEP_SCRATCH: usize = 1 << 12;

/// Runs `f` with this thread's decoding scratch buffer (a fresh one if it is in use).
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Vec<i64>) -> R) -> R {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut buf) => {
            let r = f(&mut buf);
            if buf.capacity() > KEEP_SCRATCH {
                *buf = Vec::new();
            }
            r
        }
        Err(_) => f(&mut Vec::new()),
    })
}

/// Encodes a sealed chunk with whichever encoding is smallest ([`Encoding::Dense`]
/// or [`Encoding::Xor`]; Dense on a tie).
///
/// `samples` should have strictly increasing timestamps (iterators' `seek` relies on
/// it); any sequence is still stored losslessly, every value bit for bit. Only the
/// first [`MAX_SAMPLES`] samples are encoded.
pub fn encode_best(samples: &[(i64, f64)]) -> (Encoding, Vec<u8>) {
    let samples = samples.get(..usize::from(MAX_SAMPLES)).unwrap_or(samples);
    let dense = ENCODER.with(|e| match e.try_borrow_mut() {
        Ok(mut e) => e.encode(samples),
        Err(_) => Encoder::default().encode(samples),
    });
    if dense.len() <= xor_lower_bound(samples) {
        return (Encoding::Dense, dense);
    }
    let mut xor = XorChunk::new();
    for &(t, v) in samples {
        xor.append(t, v);
    }
    let xor = xor.into_bytes();
    if xor.len() < dense.len() {
        (Encoding::Xor, xor)
    } else {
        (Encoding::Dense, dense)
    }
}

/// A size in bytes no XOR chunk of `samples` can be below (so when the dense chunk is
/// no larger, XOR need not be tried). Per sample it counts the shortest prefix its
/// timestamp allows and, for a changed value, a control bit plus the XOR's
/// significant bits (a reused window is never narrower than those).
fn xor_lower_bound(samples: &[(i64, f64)]) -> usize {
    let Some(&(t0, v0)) = samples.first() else {
        return 2;
    };
    let varint_bits = |x: u64| (64 - u64::from((x | 1).leading_zeros())).div_ceil(7) * 8;
    let sig = |x: u64| {
        let lead = u64::from(x.leading_zeros().min(31));
        64 - lead - u64::from(x.trailing_zeros())
    };
    let value = |prev: u64, v: u64| if prev == v { 1 } else { 2 + sig(prev ^ v) };
    let (v0, zz) = (v0.to_bits(), ((t0 << 1) ^ (t0 >> 63)) as u64);
    let mut bits = varint_bits(zz) + value(0, v0);
    let (mut prev_t, mut prev_v, mut prev_d) = (t0, v0, 0u64);
    for (i, &(t, v)) in samples.iter().enumerate().skip(1) {
        let v = v.to_bits();
        let d = (t as u64).wrapping_sub(prev_t as u64);
        bits += if i == 1 {
            varint_bits(d) + value(prev_v, v)
        } else if d == prev_d {
            // '0' (unchanged) or '10' + '0' + window bits at least.
            if prev_v == v { 1 } else { 3 + sig(prev_v ^ v) }
        } else {
            // '110' + 6 bits at least, then the flagged value.
            9 + value(prev_v, v)
        };
        (prev_t, prev_v, prev_d) = (t, v, d);
    }
    2 + bits.div_ceil(8) as usize
}

/// Decodes a whole chunk of any encoding into `(timestamp, value)` pairs.
pub fn decode_all_with(encoding: Encoding, bytes: &[u8]) -> Result<Vec<(i64, f64)>, ChunkError> {
    match encoding {
        Encoding::Xor => decode_all(bytes),
        Encoding::Dense => crate::dense::decode(bytes),
    }
}

/// Decodes a whole chunk of any encoding into `out`, replacing its contents and
/// reusing its allocation (the fast way to read every sample: no per-sample
/// iterator state, and no allocation once `out` is large enough).
///
/// On error `out` holds what [`ChunkIter`] would have yielded before stopping: the
/// samples before the damage for [`Encoding::Xor`], none for [`Encoding::Dense`].
pub fn decode_into(
    encoding: Encoding,
    bytes: &[u8],
    out: &mut Vec<(i64, f64)>,
) -> Result<(), ChunkError> {
    decode_range_into(encoding, bytes, i64::MIN, i64::MAX, out)
}

/// Like [`decode_into`], but keeps only the samples with `mint <= t <= maxt`, and
/// stops at the first sample after `maxt` (later samples, and any damage after it,
/// are not looked at: timestamps are taken to increase, as the encoders expect).
pub fn decode_range_into(
    encoding: Encoding,
    bytes: &[u8],
    mint: i64,
    maxt: i64,
    out: &mut Vec<(i64, f64)>,
) -> Result<(), ChunkError> {
    match encoding {
        Encoding::Xor => crate::iter::decode_range(bytes, mint, maxt, out),
        Encoding::Dense => {
            with_scratch(|buf| crate::dense::decode_into(bytes, out, buf))?;
            if let Some(end) = out.iter().position(|s| s.0 > maxt) {
                out.truncate(end);
            }
            if mint > i64::MIN {
                out.retain(|s| s.0 >= mint);
            }
            Ok(())
        }
    }
}

/// Iterates over a chunk of any encoding.
///
/// Corrupt input never panics: iteration ends and [`Self::error`] says why. An XOR
/// chunk yields the samples before the damage; a dense chunk, decoded in full up
/// front, yields none.
#[derive(Debug, Clone)]
pub enum ChunkIter<B: AsRef<[u8]>> {
    /// An [`Encoding::Xor`] chunk, decoded sample by sample.
    Xor(XorIter<B>),
    /// An [`Encoding::Dense`] chunk, decoded when the iterator is created.
    Dense(DenseIter),
}

impl<B: AsRef<[u8]>> ChunkIter<B> {
    /// Starts iterating over `bytes`, a chunk in `encoding`.
    pub fn new(encoding: Encoding, bytes: B) -> Self {
        match encoding {
            Encoding::Xor => ChunkIter::Xor(XorIter::new(bytes)),
            Encoding::Dense => ChunkIter::Dense(DenseIter::new(bytes.as_ref())),
        }
    }

    /// Advances to the next sample and returns it; `None` at the end of the chunk or on
    /// corrupt input (see [`Self::error`]).
    #[allow(
        clippy::should_implement_trait,
        reason = "Iterator is implemented too; this is the inherent fast path"
    )]
    #[inline]
    pub fn next(&mut self) -> Option<(i64, f64)> {
        match self {
            ChunkIter::Xor(it) => it.next(),
            ChunkIter::Dense(it) => it.next(),
        }
    }

    /// Advances to the first sample with timestamp `>= t` and returns it. Never moves
    /// backwards: if the current sample already qualifies it is returned again.
    /// `None` once the chunk (or the input) is exhausted.
    pub fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        match self {
            ChunkIter::Xor(it) => it.seek(t),
            ChunkIter::Dense(it) => it.seek(t),
        }
    }

    /// The sample last returned by [`Self::next`] or [`Self::seek`]; `None` before the
    /// first call and after the end.
    #[inline]
    pub fn at(&self) -> Option<(i64, f64)> {
        match self {
            ChunkIter::Xor(it) => it.at(),
            ChunkIter::Dense(it) => it.at(),
        }
    }

    /// Why iteration stopped early, if it did.
    pub fn error(&self) -> Option<&ChunkError> {
        match self {
            ChunkIter::Xor(it) => it.error(),
            ChunkIter::Dense(it) => it.error(),
        }
    }

    /// Samples not yet returned (as announced by the chunk; 0 after an error).
    pub fn remaining(&self) -> u16 {
        match self {
            ChunkIter::Xor(it) => it.remaining(),
            ChunkIter::Dense(it) => it.remaining(),
        }
    }
}

impl<B: AsRef<[u8]>> Iterator for ChunkIter<B> {
    type Item = (i64, f64);

    #[inline]
    fn next(&mut self) -> Option<(i64, f64)> {
        ChunkIter::next(self)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.remaining())))
    }
}

impl<B: AsRef<[u8]>> FusedIterator for ChunkIter<B> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_picks_smaller() {
        // Random floats: XOR and dense are close; whichever wins must round-trip.
        let mut x = 7u64;
        let noise: Vec<(i64, f64)> = (0..200)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (i * 1000, f64::from_bits(x))
            })
            .collect();
        let counter: Vec<(i64, f64)> = (0..480).map(|i| (i * 15_000, (i * i) as f64)).collect();
        for s in [noise, counter, vec![], vec![(3, f64::NAN)]] {
            let (enc, bytes) = encode_best(&s);
            let xor = {
                let mut c = XorChunk::new();
                s.iter().for_each(|&(t, v)| c.append(t, v));
                c.into_bytes()
            };
            assert!(bytes.len() <= xor.len());
            assert!(bytes.len() <= crate::encode_dense(&s).len());
            let got = decode_all_with(enc, &bytes).unwrap();
            let bits =
                |v: &[(i64, f64)]| v.iter().map(|&(t, v)| (t, v.to_bits())).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&s));
            let it = ChunkIter::new(enc, &bytes[..]);
            assert_eq!(bits(&it.collect::<Vec<_>>()), bits(&s));
        }
    }

    #[test]
    fn lower_bound_is_a_lower_bound() {
        let mut x = 99u64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [0usize, 1, 2, 3, 9, 10, 17, 480] {
            for t0 in [0i64, -1, 1 << 40, i64::MIN] {
                for kind in 0..4 {
                    let mut t = t0;
                    let s: Vec<(i64, f64)> = (0..n)
                        .map(|i| {
                            let r = rnd();
                            t = t.wrapping_add(match kind {
                                0 | 1 => 15_000,
                                _ => 15_000 + (r % 7) as i64 - 3,
                            });
                            let v = match kind {
                                0 => 1.0,
                                1 | 2 => (i / 3) as f64 * 0.1,
                                _ => f64::from_bits(r),
                            };
                            (t, v)
                        })
                        .collect();
                    let mut c = XorChunk::new();
                    s.iter().for_each(|&(t, v)| c.append(t, v));
                    let bound = xor_lower_bound(&s);
                    assert!(bound <= c.bytes().len(), "n={n} t0={t0} kind={kind}");
                    if n == 480 && kind == 3 {
                        assert!(bound * 10 >= c.bytes().len() * 9, "bound {bound} is loose");
                    }
                }
            }
        }
    }
}
