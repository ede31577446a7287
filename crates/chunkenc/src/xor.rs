//! The XOR chunk encoder.

use crate::format::{DOD_PREFIX, DOD_WIDTHS, HEADER_BYTES, MAX_LEADING, NO_WINDOW};
use crate::{ChunkError, MAX_SAMPLES, XorIter};

/// The encoding of a chunk with no samples.
static EMPTY: [u8; HEADER_BYTES] = [0; HEADER_BYTES];

/// An appendable chunk of float samples (see the crate docs for the design).
///
/// The struct is 64 bytes plus its byte buffer; a new chunk allocates nothing until the
/// first append, and appends allocate only when the buffer doubles.
///
/// Bits are collected in a 64-bit accumulator holding the stream's current (last,
/// incomplete) 64-bit word. Every write stores the whole accumulator into the buffer,
/// so the buffer is always a complete chunk, without ever reading the buffer back.
#[derive(Debug, Clone, Default)]
pub struct XorChunk {
    /// Encoded chunk followed by zeroed slack; empty until the first append.
    buf: Vec<u8>,
    /// The current word of the bit stream, MSB first; bits past `bits` are zero.
    acc: u64,
    last_t: i64,
    /// Bit pattern of the last value.
    last_v: u64,
    /// Last timestamp delta, as a wrapping `u64`.
    last_delta: u64,
    /// Length of the bit stream (after the header) in bits.
    bits: u32,
    count: u16,
    /// Current XOR window: leading zeros ([`NO_WINDOW`] if unset) and trailing zeros.
    lead: u8,
    trail: u8,
}

impl XorChunk {
    /// An empty chunk. Allocates nothing.
    pub const fn new() -> Self {
        XorChunk {
            buf: Vec::new(),
            acc: 0,
            last_t: 0,
            last_v: 0,
            last_delta: 0,
            bits: 0,
            count: 0,
            lead: NO_WINDOW,
            trail: 0,
        }
    }

    /// Appends a sample.
    ///
    /// Timestamps should be strictly increasing (the caller's job: [`XorIter::seek`]
    /// relies on it); any sequence is still stored losslessly. A chunk holds at most
    /// [`MAX_SAMPLES`] samples: once full, further samples are dropped. Use
    /// [`Self::try_append`] or [`Self::is_full`] where that can happen.
    #[inline]
    pub fn append(&mut self, t: i64, v: f64) {
        // The only error is `Full`, documented above.
        let _ = self.try_append(t, v);
    }

    /// Appends a sample, or returns [`ChunkError::Full`] if the chunk already holds
    /// [`MAX_SAMPLES`] samples.
    #[inline]
    pub fn try_append(&mut self, t: i64, v: f64) -> Result<(), ChunkError> {
        let bits = v.to_bits();
        let xor = bits ^ self.last_v;
        let delta = (t as u64).wrapping_sub(self.last_t as u64);
        match self.count {
            MAX_SAMPLES => return Err(ChunkError::Full),
            0 => {
                let zigzag = ((t << 1) ^ (t >> 63)) as u64;
                self.put_varint(zigzag);
                // The value before the first one is taken to be +0.0 (all bits zero).
                self.put_flagged(0, 0, bits);
            }
            1 => {
                self.put_varint(delta);
                self.put_flagged(0, 0, xor);
                self.last_delta = delta;
            }
            _ => {
                let dod = delta.wrapping_sub(self.last_delta) as i64;
                if dod == 0 {
                    if xor == 0 {
                        self.put(0, 1);
                    } else {
                        self.put_changed(0b10, 2, xor);
                    }
                } else {
                    self.put_dod(dod, xor);
                    self.last_delta = delta;
                }
            }
        }
        self.last_t = t;
        self.last_v = bits;
        self.count += 1;
        if let Some(h) = self.buf.first_chunk_mut::<HEADER_BYTES>() {
            *h = self.count.to_be_bytes();
        }
        Ok(())
    }

    /// Writes a non-zero delta-of-delta (joint prefix `11` + bucket) and the value.
    #[inline]
    fn put_dod(&mut self, dod: i64, xor: u64) {
        for (&w, &(prefix, plen)) in DOD_WIDTHS.iter().zip(&DOD_PREFIX) {
            if w == 64 {
                break;
            }
            let half = 1i64 << (w - 1);
            if (-half..half).contains(&dod) {
                let payload = (dod as u64) & ((1u64 << w) - 1);
                self.put_flagged(prefix << w | payload, plen + w, xor);
                return;
            }
        }
        let (prefix, plen) = DOD_PREFIX[DOD_PREFIX.len() - 1];
        self.put(prefix, plen);
        self.put(dod as u64, 64);
        self.put_flagged(0, 0, xor);
    }

    /// Writes the `plen`-bit `code` followed by a value flagged `0` (unchanged) or `1`
    /// + [`Self::put_changed`]. `plen + 13 <= 64`.
    #[inline(always)]
    fn put_flagged(&mut self, code: u64, plen: u32, xor: u64) {
        if xor == 0 {
            self.put(code << 1, plen + 1);
        } else {
            self.put_changed(code << 1 | 1, plen + 1, xor);
        }
    }

    /// Writes the `plen`-bit `code` followed by a non-zero XOR: `0` + bits in the
    /// current window, or `1` + 5-bit leading count + 6-bit (significant - 1) + bits.
    #[inline(always)]
    fn put_changed(&mut self, code: u64, plen: u32, xor: u64) {
        let lead = xor.leading_zeros().min(MAX_LEADING);
        let trail = xor.trailing_zeros();
        let sig = 64 - lead - trail;
        let (wl, wt) = (u32::from(self.lead), u32::from(self.trail));
        // Reuse the window if the XOR fits in it (never true while it is unset, as
        // NO_WINDOW exceeds MAX_LEADING) and reusing costs no more than a new window.
        let (code, len, payload, pbits) = if lead >= wl && trail >= wt && 64 - wl - wt <= sig + 11 {
            (code << 1, plen + 1, xor >> wt, 64 - wl - wt)
        } else {
            self.lead = lead as u8;
            self.trail = trail as u8;
            let window = u64::from(lead << 6 | (sig - 1));
            ((code << 1 | 1) << 11 | window, plen + 12, xor >> trail, sig)
        };
        if len + pbits <= 64 {
            self.put(code << pbits | payload, len + pbits);
        } else {
            self.put(code, len);
            self.put(payload, pbits);
        }
    }

    /// Appends the low `n` bits of `v` (1 ≤ `n` ≤ 64, `v < 2ⁿ`) to the stream.
    #[inline(always)]
    fn put(&mut self, v: u64, n: u32) {
        let free = 64 - (self.bits & 63);
        let at = HEADER_BYTES + (self.bits >> 6) as usize * 8;
        if self.buf.len() < at + 16 {
            grow(&mut self.buf, at + 16);
        }
        if n < free {
            self.acc |= v << (free - n);
            store(&mut self.buf, at, self.acc);
        } else {
            // Fill the current word, then start the next with the remaining bits.
            let rest = n - free;
            store(&mut self.buf, at, self.acc | v >> rest);
            self.acc = (v << 1).wrapping_shl(63 - rest); // v << (64 - rest), 0 if rest == 0
            store(&mut self.buf, at + 8, self.acc);
        }
        self.bits += n;
    }

    /// Length of the encoded chunk in bytes.
    #[inline(always)]
    fn logical_len(&self) -> usize {
        HEADER_BYTES + (self.bits as usize).div_ceil(8)
    }

    /// LEB128: 7 bits per byte, least significant group first, high bit = more follow.
    fn put_varint(&mut self, mut x: u64) {
        while x >= 0x80 {
            self.put((x & 0x7f) | 0x80, 8);
            x >>= 7;
        }
        self.put(x, 8);
    }

    /// Number of samples in the chunk.
    #[inline]
    pub fn num_samples(&self) -> u16 {
        self.count
    }

    /// Whether the chunk holds [`MAX_SAMPLES`] samples and accepts no more.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.count == MAX_SAMPLES
    }

    /// The complete encoded chunk, decodable at any time.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        if self.buf.is_empty() {
            return &EMPTY;
        }
        let len = self.logical_len();
        self.buf.get(..len).unwrap_or(&EMPTY)
    }

    /// Timestamp of the first sample.
    pub fn first_time(&self) -> Option<i64> {
        if self.count == 0 {
            return None;
        }
        // The first timestamp is a zigzag LEB128 varint right after the header.
        let mut x = 0u64;
        for (i, &b) in self.buf.get(HEADER_BYTES..)?.iter().take(10).enumerate() {
            x |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some((x >> 1) as i64 ^ -((x & 1) as i64));
            }
        }
        None
    }

    /// The last sample appended.
    #[inline]
    pub fn last(&self) -> Option<(i64, f64)> {
        (self.count > 0).then(|| (self.last_t, f64::from_bits(self.last_v)))
    }

    /// Heap memory held: the capacity of the byte buffer.
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// The encoded chunk as an owned buffer (same contents as [`Self::bytes`]).
    /// Spare capacity is kept; call [`Self::shrink_to_fit`] first to drop it.
    pub fn into_bytes(mut self) -> Vec<u8> {
        if self.buf.is_empty() {
            return EMPTY.to_vec();
        }
        self.buf.truncate(self.logical_len());
        self.buf
    }

    /// Releases spare buffer capacity, e.g. once the chunk is complete. Appending
    /// afterwards still works (the buffer grows again).
    pub fn shrink_to_fit(&mut self) {
        self.buf.truncate(self.logical_len());
        self.buf.shrink_to_fit();
    }

    /// An iterator over the samples appended so far.
    pub fn iter(&self) -> XorIter<&[u8]> {
        XorIter::new(self.bytes())
    }
}

/// Writes `word` big-endian at byte `at` (the caller made room).
#[inline(always)]
fn store(buf: &mut [u8], at: usize, word: u64) {
    if let Some(w) = buf.get_mut(at..).and_then(|s| s.first_chunk_mut::<8>()) {
        *w = word.to_be_bytes();
    }
}

#[cold]
#[inline(never)]
fn grow(buf: &mut Vec<u8>, need: usize) {
    // Double the zero-filled length (so capacity doubles too); start small because a
    // million series each hold one open chunk.
    let new_len = need.max(buf.len().saturating_mul(2)).max(32);
    buf.resize(new_len, 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode_all;

    const STALE: u64 = 0x7ff0_0000_0000_0002;

    fn roundtrip(samples: &[(i64, u64)]) {
        let mut c = XorChunk::new();
        for (i, &(t, v)) in samples.iter().enumerate() {
            c.append(t, f64::from_bits(v));
            let got = decode_all(c.bytes()).unwrap();
            assert_eq!(got.len(), i + 1);
            for (g, w) in got.iter().zip(samples) {
                assert_eq!((g.0, g.1.to_bits()), *w);
            }
        }
        assert_eq!(c.first_time(), samples.first().map(|s| s.0));
        assert_eq!(
            c.last().map(|(t, v)| (t, v.to_bits())),
            samples.last().copied()
        );
        assert_eq!(usize::from(c.num_samples()), samples.len());
    }

    /// Writes fields of assorted widths at every alignment and reads them back.
    #[test]
    fn write_read_fields() {
        use crate::bits::BitReader;
        let mut fields = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..2000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = (i * 7 % 64) + 1;
            let v = if n == 64 { x } else { x & ((1u64 << n) - 1) };
            fields.push((v, n));
        }
        let mut c = XorChunk::new();
        let mut total = 0;
        // Reference: the stream packed one bit at a time.
        let mut want = vec![0u8; HEADER_BYTES];
        for &(v, n) in &fields {
            c.put(v, n);
            for k in (0..n).rev() {
                if total % 8 == 0 {
                    want.push(0);
                }
                let last = want.len() - 1;
                want[last] |= (((v >> k) & 1) as u8) << (7 - total % 8);
                total += 1;
            }
            // The buffer is complete after every write.
            assert_eq!(&c.buf[HEADER_BYTES..c.logical_len()], &want[HEADER_BYTES..]);
        }
        assert_eq!(c.bits, total);
        let bytes = &c.buf[..c.logical_len()];
        assert!(c.buf[bytes.len()..].iter().all(|&b| b == 0));
        let mut r = BitReader::new(HEADER_BYTES);
        for &(v, n) in &fields {
            assert_eq!(r.read_long(bytes, n), Some(v), "width {n}");
        }
        // Only padding is left.
        let pad = (8 - total % 8) % 8;
        if pad > 0 {
            assert_eq!(r.read(bytes, pad), Some(0));
        }
        assert_eq!(r.read(bytes, 1), None);
    }

    #[test]
    fn struct_is_small() {
        assert!(std::mem::size_of::<XorChunk>() <= 64);
    }

    #[test]
    fn empty_chunk() {
        let c = XorChunk::new();
        assert_eq!(c.bytes(), &[0, 0]);
        assert_eq!(c.num_samples(), 0);
        assert_eq!(c.first_time(), None);
        assert_eq!(c.last(), None);
        assert_eq!(c.heap_bytes(), 0);
        assert_eq!(decode_all(c.bytes()).unwrap(), vec![]);
        assert_eq!(c.into_bytes(), vec![0, 0]);
    }

    #[test]
    fn edge_values() {
        let values = [
            STALE,
            f64::NAN.to_bits(),
            0x7ff8_dead_beef_0001, // quiet NaN with payload
            0xfff0_0000_0000_0001, // negative signalling NaN
            f64::INFINITY.to_bits(),
            f64::NEG_INFINITY.to_bits(),
            (-0.0f64).to_bits(),
            0.0f64.to_bits(),
            1,                     // smallest subnormal
            0x000f_ffff_ffff_ffff, // largest subnormal
            0x8000_0000_0000_0001, // negative subnormal
            f64::MAX.to_bits(),
            f64::MIN.to_bits(),
            f64::MIN_POSITIVE.to_bits(),
            f64::EPSILON.to_bits(),
            u64::MAX,
            1.0f64.to_bits(),
            1.0f64.to_bits(),
            STALE,
        ];
        let samples: Vec<_> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as i64 * 1000, v))
            .collect();
        roundtrip(&samples);
        // Each value alone as the first sample, and as the second.
        for &v in &values {
            roundtrip(&[(5, v)]);
            roundtrip(&[(5, 0), (6, v)]);
            roundtrip(&[(5, v), (6, v), (7, !v)]);
        }
    }

    #[test]
    fn edge_timestamps() {
        roundtrip(&[(i64::MIN, 1), (i64::MAX, 2)]);
        roundtrip(&[(i64::MIN, 1), (i64::MIN + 1, 2), (i64::MAX, 3)]);
        roundtrip(&[
            (-5, 1),
            (-4, 1),
            (0, 1),
            (1 << 40, 1),
            ((1 << 40) + 1, 1),
            (i64::MAX, 1),
        ]);
        // Every dod bucket boundary, both signs.
        let mut s = vec![(0i64, 0u64), (1_000_000_000, 0)];
        let mut delta = 1_000_000_000i64;
        for w in [6u32, 13, 18, 32] {
            let half = 1i64 << (w - 1);
            for dod in [half - 1, half, -half, -half - 1, 1, -1] {
                delta += dod;
                let t = s.last().unwrap().0 + delta;
                s.push((t, t as u64));
            }
        }
        roundtrip(&s);
    }

    #[test]
    fn full_chunk() {
        let mut c = XorChunk::new();
        for i in 0..MAX_SAMPLES {
            c.append(i64::from(i) * 15_000, f64::from(i % 7));
        }
        assert!(c.is_full());
        assert_eq!(c.try_append(i64::MAX, 1.0), Err(ChunkError::Full));
        c.append(i64::MAX, 1.0);
        assert_eq!(c.num_samples(), MAX_SAMPLES);
        let got = decode_all(c.bytes()).unwrap();
        assert_eq!(got.len(), usize::from(MAX_SAMPLES));
        assert_eq!(
            got.last(),
            Some(&(
                i64::from(MAX_SAMPLES - 1) * 15_000,
                f64::from((MAX_SAMPLES - 1) % 7)
            ))
        );
    }

    #[test]
    fn shrink_then_append() {
        let mut c = XorChunk::new();
        for i in 0..50 {
            c.append(i * 10, (i * i) as f64);
        }
        c.shrink_to_fit();
        assert_eq!(c.heap_bytes(), c.bytes().len());
        for i in 50..100 {
            c.append(i * 10, (i * i) as f64);
        }
        let want: Vec<_> = (0..100).map(|i| (i * 10, (i * i) as f64)).collect();
        assert_eq!(decode_all(&c.clone().into_bytes()).unwrap(), want);
        assert_eq!(c.iter().collect::<Vec<_>>(), want);
    }

    #[test]
    fn window_reuse_heuristic() {
        // A wide window followed by a narrow XOR that fits it: a new window is cheaper.
        let mut c = XorChunk::new();
        c.append(0, 0.0);
        c.append(1, f64::from_bits(0x0fff_ffff_ffff_fff0));
        c.append(
            2,
            f64::from_bits(0x0fff_ffff_ffff_fff0 ^ 0x0000_0001_0000_0000),
        );
        assert_eq!(c.lead, 31);
        assert_eq!(c.trail, 32);
        let got = decode_all(c.bytes()).unwrap();
        assert_eq!(got[2].1.to_bits(), 0x0fff_fffe_ffff_fff0);
    }
}
