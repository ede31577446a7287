//! The XOR chunk decoder.

use std::iter::FusedIterator;

use crate::ChunkError;
use crate::bits::BitReader;
use crate::format::{DOD_WIDTHS, HEADER_BYTES, NO_WINDOW};

/// Decodes an XOR chunk, one sample at a time.
///
/// Generic over the byte holder (`&[u8]`, `Vec<u8>`, `Arc<[u8]>`, a memory-map
/// wrapper, ...). Corrupt or truncated input never panics: iteration ends and the
/// problem is available from [`Self::error`]. Bytes after the last sample announced by
/// the header are ignored.
#[derive(Debug, Clone)]
pub struct XorIter<B: AsRef<[u8]>> {
    bytes: B,
    st: State,
    err: Option<ChunkError>,
}

/// Decoder state, split from the bytes so decoding can borrow both.
#[derive(Debug, Clone, Copy)]
struct State {
    r: BitReader,
    t: i64,
    /// Bit pattern of the current value.
    v: u64,
    delta: u64,
    /// Samples announced by the header (cut to `idx` on error).
    count: u16,
    /// Samples decoded so far.
    idx: u16,
    lead: u8,
    trail: u8,
    /// Whether `t`/`v` hold a sample returned by `next`/`seek`.
    positioned: bool,
}

impl<B: AsRef<[u8]>> XorIter<B> {
    /// Starts decoding `bytes`, an XOR chunk as produced by
    /// [`XorChunk::bytes`](crate::XorChunk::bytes).
    pub fn new(bytes: B) -> Self {
        let (count, err) = match bytes.as_ref().first_chunk::<HEADER_BYTES>() {
            Some(h) => (u16::from_be_bytes(*h), None),
            None => (
                0,
                Some(ChunkError::ShortHeader {
                    len: bytes.as_ref().len(),
                }),
            ),
        };
        XorIter {
            bytes,
            st: State::new(count),
            err,
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
        let st = &mut self.st;
        if st.idx >= st.count {
            st.positioned = false;
            return None;
        }
        match st.decode(self.bytes.as_ref()) {
            Ok(()) => {
                st.idx += 1;
                st.positioned = true;
                Some((st.t, f64::from_bits(st.v)))
            }
            Err(e) => {
                st.count = st.idx;
                st.positioned = false;
                self.err = Some(e);
                None
            }
        }
    }

    /// Advances to the first sample with timestamp `>= t` and returns it. Never moves
    /// backwards: if the current sample already qualifies it is returned again.
    /// `None` once the chunk (or the input) is exhausted.
    pub fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        if self.st.positioned && self.st.t >= t {
            return self.at();
        }
        while let Some(s) = XorIter::next(self) {
            if s.0 >= t {
                return Some(s);
            }
        }
        None
    }

    /// The sample last returned by [`Self::next`] or [`Self::seek`]; `None` before the
    /// first call and after the end.
    #[inline]
    pub fn at(&self) -> Option<(i64, f64)> {
        self.st
            .positioned
            .then(|| (self.st.t, f64::from_bits(self.st.v)))
    }

    /// Why iteration stopped early, if it did.
    pub fn error(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }

    /// Samples not yet decoded (as announced by the header; 0 after an error).
    pub fn remaining(&self) -> u16 {
        self.st.count - self.st.idx
    }

    /// Gives back the byte holder.
    pub fn into_inner(self) -> B {
        self.bytes
    }
}

impl<B: AsRef<[u8]>> Iterator for XorIter<B> {
    type Item = (i64, f64);

    #[inline]
    fn next(&mut self) -> Option<(i64, f64)> {
        XorIter::next(self)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.remaining())))
    }
}

impl<B: AsRef<[u8]>> FusedIterator for XorIter<B> {}

/// Decodes the samples of an XOR chunk with `mint <= t <= maxt` into `out`
/// (replacing its contents), stopping at the first sample after `maxt`. On error `out`
/// keeps the samples decoded before it.
pub(crate) fn decode_range(
    bytes: &[u8],
    mint: i64,
    maxt: i64,
    out: &mut Vec<(i64, f64)>,
) -> Result<(), ChunkError> {
    out.clear();
    let Some(h) = bytes.first_chunk::<HEADER_BYTES>() else {
        return Err(ChunkError::ShortHeader { len: bytes.len() });
    };
    let count = u16::from_be_bytes(*h);
    // Every sample takes at least one bit; don't let a garbage header reserve more.
    out.reserve(usize::from(count).min(bytes.len().saturating_mul(8)));
    let mut it = XorIter::new(bytes);
    while let Some(s) = it.next() {
        if s.0 > maxt {
            break;
        }
        if s.0 >= mint {
            out.push(s);
        }
    }
    match it.err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl State {
    /// Before the first sample of a chunk announcing `count` samples.
    fn new(count: u16) -> Self {
        State {
            r: BitReader::new(HEADER_BYTES),
            t: 0,
            v: 0,
            delta: 0,
            count,
            idx: 0,
            lead: NO_WINDOW,
            trail: 0,
            positioned: false,
        }
    }

    fn truncated(&self) -> ChunkError {
        ChunkError::Truncated {
            sample: u32::from(self.idx),
            bit: self.r.bit_pos(),
        }
    }

    /// Reads `n` bits (1..=64).
    #[inline(always)]
    fn bits(&mut self, data: &[u8], n: u32) -> Result<u64, ChunkError> {
        match self.r.read_long(data, n) {
            Some(x) => Ok(x),
            None => Err(self.truncated()),
        }
    }

    /// Decodes sample `idx` into `t`/`v`.
    #[inline(always)]
    fn decode(&mut self, data: &[u8]) -> Result<(), ChunkError> {
        match self.idx {
            0 => {
                let z = self.varint(data)?;
                self.t = (z >> 1) as i64 ^ -((z & 1) as i64);
                self.flagged(data)
            }
            1 => {
                self.delta = self.varint(data)?;
                self.t = self.t.wrapping_add(self.delta as i64);
                self.flagged(data)
            }
            _ => {
                // Joint prefix: count leading ones (at most 6).
                self.r.ensure(data, 6);
                let k = (!self.r.peek()).leading_zeros().min(6);
                let plen = if k < 6 { k + 1 } else { 6 };
                if !self.r.ensure(data, plen) {
                    return Err(self.truncated());
                }
                self.r.skip(plen);
                match k {
                    0 => {}
                    1 => self.changed(data)?,
                    _ => {
                        let w = match k {
                            2 => DOD_WIDTHS[0],
                            3 => DOD_WIDTHS[1],
                            4 => DOD_WIDTHS[2],
                            5 => DOD_WIDTHS[3],
                            _ => DOD_WIDTHS[4],
                        };
                        let raw = self.bits(data, w)?;
                        // Sign-extend the w-bit field.
                        let dod = ((raw << (64 - w)) as i64) >> (64 - w);
                        self.delta = self.delta.wrapping_add(dod as u64);
                        self.flagged(data)?;
                    }
                }
                self.t = self.t.wrapping_add(self.delta as i64);
                Ok(())
            }
        }
    }

    /// A value flagged `0` (unchanged) or `1` + changed value.
    #[inline(always)]
    fn flagged(&mut self, data: &[u8]) -> Result<(), ChunkError> {
        if !self.r.ensure(data, 1) {
            return Err(self.truncated());
        }
        let changed = self.r.peek() >> 63 != 0;
        self.r.skip(1);
        if changed { self.changed(data) } else { Ok(()) }
    }

    /// A changed value: `0` + bits in the current window, or `1` + new window + bits.
    #[inline(always)]
    fn changed(&mut self, data: &[u8]) -> Result<(), ChunkError> {
        let at = self.r.bit_pos();
        if self.bits(data, 1)? != 0 {
            let w = self.bits(data, 11)?;
            let (lead, sig) = ((w >> 6) as u8, (w & 63) as u8 + 1);
            if lead + sig > 64 {
                return Err(ChunkError::BadWindow {
                    sample: u32::from(self.idx),
                    bit: at,
                    leading: lead,
                    significant: sig,
                });
            }
            self.lead = lead;
            self.trail = 64 - lead - sig;
        } else if self.lead == NO_WINDOW {
            return Err(ChunkError::NoWindow {
                sample: u32::from(self.idx),
                bit: at,
            });
        }
        let sig = 64 - u32::from(self.lead) - u32::from(self.trail);
        let x = self.bits(data, sig)?;
        self.v ^= x << self.trail;
        Ok(())
    }

    /// LEB128 varint of at most 10 bytes (64 bits).
    fn varint(&mut self, data: &[u8]) -> Result<u64, ChunkError> {
        let at = self.r.bit_pos();
        let mut x = 0u64;
        for i in 0..10 {
            let b = self.bits(data, 8)?;
            if i == 9 && b > 1 {
                break;
            }
            x |= (b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(x);
            }
        }
        Err(ChunkError::BadVarint {
            sample: u32::from(self.idx),
            bit: at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{XorChunk, decode_all};

    fn chunk(samples: &[(i64, f64)]) -> XorChunk {
        let mut c = XorChunk::new();
        for &(t, v) in samples {
            c.append(t, v);
        }
        c
    }

    #[test]
    fn seek_semantics() {
        let samples: Vec<_> = (0..10).map(|i| (i * 10, i as f64)).collect();
        let c = chunk(&samples);
        let mut it = XorIter::new(c.bytes());
        assert_eq!(it.at(), None);
        assert_eq!(it.seek(-100), Some((0, 0.0)));
        assert_eq!(it.at(), Some((0, 0.0)));
        assert_eq!(it.seek(0), Some((0, 0.0)), "current already qualifies");
        assert_eq!(it.seek(15), Some((20, 2.0)));
        assert_eq!(it.seek(5), Some((20, 2.0)), "never goes backwards");
        assert_eq!(it.seek(20), Some((20, 2.0)));
        assert_eq!(it.next(), Some((30, 3.0)));
        assert_eq!(it.seek(90), Some((90, 9.0)));
        assert_eq!(it.remaining(), 0);
        assert_eq!(it.seek(91), None);
        assert_eq!(it.at(), None);
        assert_eq!(it.seek(0), None, "exhausted stays exhausted");
        assert_eq!(it.next(), None);
        assert!(it.error().is_none());

        let mut it = XorIter::new(c.bytes());
        assert_eq!(it.seek(1000), None);
        let mut it = XorIter::new(XorChunk::new().into_bytes());
        assert_eq!(it.seek(0), None);
    }

    #[test]
    fn byte_holders() {
        let samples = [(1, 1.5), (2, 2.5), (4, -1.0)];
        let c = chunk(&samples);
        let v: Vec<u8> = c.bytes().to_vec();
        let a: std::sync::Arc<[u8]> = v.clone().into();
        assert_eq!(XorIter::new(v).collect::<Vec<_>>(), samples);
        assert_eq!(XorIter::new(a.clone()).collect::<Vec<_>>(), samples);
        assert_eq!(XorIter::new(&a[..]).collect::<Vec<_>>(), samples);
    }

    #[test]
    fn truncation_is_reported() {
        let samples: Vec<_> = (0..50)
            .map(|i| (i * 15_000 + i % 3, (i * 7) as f64 / 3.0))
            .collect();
        let c = chunk(&samples);
        let full = c.bytes();
        for cut in 0..full.len() {
            let mut it = XorIter::new(&full[..cut]);
            let got: Vec<_> = it.by_ref().collect();
            assert!(got.len() < samples.len());
            assert_eq!(got[..], samples[..got.len()]);
            let err = it.error().unwrap().clone();
            if cut >= 2 {
                assert!(
                    matches!(err, ChunkError::Truncated { sample, bit } if sample as usize == got.len() && bit <= cut as u64 * 8),
                    "{err}"
                );
            }
            assert_eq!(it.next(), None);
            assert_eq!(it.remaining(), 0);
            assert_eq!(decode_all(&full[..cut]), Err(err));
        }
    }

    #[test]
    fn trailing_bytes_ignored() {
        let c = chunk(&[(1, 1.0), (3, 2.0)]);
        let mut v = c.bytes().to_vec();
        v.extend_from_slice(&[0xff; 20]);
        assert_eq!(decode_all(&v).unwrap(), vec![(1, 1.0), (3, 2.0)]);
    }

    #[test]
    fn corrupt_inputs() {
        // Varint longer than 64 bits.
        let mut bad = vec![0, 1];
        bad.extend_from_slice(&[0xff; 10]);
        bad.push(0);
        assert!(matches!(
            decode_all(&bad),
            Err(ChunkError::BadVarint { sample: 0, bit: 16 })
        ));
        // Second sample reusing a window that was never set: t=0 (varint 00), value
        // flag 0, then delta varint 01, flag 1 (changed), control 0 (reuse).
        let bad = [0, 2, 0x00, 0b0000_0000, 0b1100_0000];
        assert!(
            matches!(
                decode_all(&bad),
                Err(ChunkError::NoWindow { sample: 1, .. })
            ),
            "{:?}",
            decode_all(&bad)
        );
        // New window with leading 31 + significant 64.
        let bad = [0, 1, 0x00, 0b1111_1111, 0b1111_1000, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            decode_all(&bad),
            Err(ChunkError::BadWindow {
                sample: 0,
                leading: 31,
                significant: 64,
                ..
            })
        ));
    }
}
