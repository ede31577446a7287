//! Bit I/O for the dense encoding: a plain MSB-first writer (the whole chunk is known
//! up front, so unlike [`XorChunk`](crate::XorChunk) it need not be decodable mid-way)
//! and a reading cursor that turns running out of bits into [`ChunkError`]s.

use crate::ChunkError;
use crate::bits::BitReader;

/// Collects bits MSB-first in a 64-bit accumulator and flushes whole words.
#[derive(Debug, Default)]
pub(crate) struct BitWriter {
    buf: Vec<u8>,
    /// Pending bits, MSB-aligned; bits past `fill` are zero.
    acc: u64,
    /// Number of pending bits in `acc` (0..=63).
    fill: u32,
}

impl BitWriter {
    /// A writer whose output starts with `prefix` (byte aligned).
    pub(crate) fn with_prefix(prefix: &[u8], capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity.max(prefix.len() + 8));
        buf.extend_from_slice(prefix);
        BitWriter {
            buf,
            acc: 0,
            fill: 0,
        }
    }

    /// Appends the low `n` bits of `v` (0 ≤ `n` ≤ 64; bits of `v` above `n` must be 0).
    #[inline(always)]
    pub(crate) fn put(&mut self, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        let free = 64 - self.fill;
        if n < free {
            self.acc |= v << (free - n);
            self.fill += n;
        } else {
            let rest = n - free; // 0..=63
            self.acc |= v.checked_shr(rest).unwrap_or(0);
            self.buf.extend_from_slice(&self.acc.to_be_bytes());
            self.acc = if rest == 0 { 0 } else { v << (64 - rest) };
            self.fill = rest;
        }
    }

    /// LEB128 in 8-bit groups, least significant group first (as in the XOR format).
    pub(crate) fn put_varint(&mut self, mut x: u64) {
        while x >= 0x80 {
            self.put((x & 0x7f) | 0x80, 8);
            x >>= 7;
        }
        self.put(x, 8);
    }

    /// Bits written so far, including any prefix.
    pub(crate) fn bit_len(&self) -> u64 {
        self.buf.len() as u64 * 8 + u64::from(self.fill)
    }

    /// The bytes, the last one zero-padded.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let tail = self.fill.div_ceil(8) as usize;
        self.buf
            .extend_from_slice(self.acc.to_be_bytes().get(..tail).unwrap_or_default());
        self.buf
    }
}

/// Bits taken by [`BitWriter::put_varint`] for `x`.
#[inline]
pub(crate) fn varint_bits(x: u64) -> u64 {
    let sig = 64 - u64::from((x | 1).leading_zeros());
    sig.div_ceil(7) * 8
}

/// Maps signed to unsigned so that small magnitudes stay small.
#[inline(always)]
pub(crate) fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline(always)]
pub(crate) fn unzigzag(z: u64) -> i64 {
    (z >> 1) as i64 ^ -((z & 1) as i64)
}

/// Reads a dense chunk's bit stream; errors name the sample (within the column being
/// decoded) and the bit offset from the start of the chunk.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    /// Exposed to the codes' fast paths, which keep a copy in registers.
    pub(super) r: BitReader,
    pub(super) data: &'a [u8],
    /// Index of the sample the fields being read belong to (for error reports).
    pub(crate) sample: u32,
}

impl<'a> Cursor<'a> {
    /// A cursor at byte `start` of `data`.
    pub(crate) fn new(data: &'a [u8], start: usize) -> Self {
        Cursor {
            r: BitReader::new(start),
            data,
            sample: 0,
        }
    }

    /// Offset of the next unread bit.
    pub(crate) fn bit_pos(&self) -> u64 {
        self.r.bit_pos()
    }

    pub(crate) fn truncated(&self) -> ChunkError {
        ChunkError::Truncated {
            sample: self.sample,
            bit: self.r.bit_pos(),
        }
    }

    /// An [`ChunkError::Invalid`] for `field`, which started at bit `at`.
    pub(crate) fn invalid(&self, field: &'static str, at: u64) -> ChunkError {
        ChunkError::Invalid {
            field,
            sample: self.sample,
            bit: at,
        }
    }

    /// Reads `n` bits, 0 ≤ `n` ≤ 64 (0 bits read as 0).
    #[inline(always)]
    pub(crate) fn bits(&mut self, n: u32) -> Result<u64, ChunkError> {
        if n == 0 {
            return Ok(0);
        }
        match self.r.read_long(self.data, n) {
            Some(x) => Ok(x),
            None => Err(self.truncated()),
        }
    }

    /// Reads `n` bits, 1 ≤ `n` ≤ 56.
    #[inline(always)]
    pub(crate) fn short(&mut self, n: u32) -> Result<u64, ChunkError> {
        match self.r.read(self.data, n) {
            Some(x) => Ok(x),
            None => Err(self.truncated()),
        }
    }

    /// Reads up to `limit` (1 ≤ `limit` ≤ 55) one bits and, if fewer than `limit`
    /// were found, the zero that ends them; returns the number of ones.
    #[inline(always)]
    pub(crate) fn unary(&mut self, limit: u32) -> Result<u32, ChunkError> {
        // Past the end of input the accumulator reads as zeros, so `ones` never
        // counts bits that are not there.
        self.r.ensure(self.data, limit + 1);
        let ones = self.r.peek().leading_ones().min(limit);
        let used = if ones < limit { ones + 1 } else { limit };
        if !self.r.ensure(self.data, used) {
            return Err(self.truncated());
        }
        self.r.skip(used);
        Ok(ones)
    }

    /// A LEB128 varint of at most 10 groups (64 bits).
    pub(crate) fn varint(&mut self) -> Result<u64, ChunkError> {
        let at = self.r.bit_pos();
        let mut x = 0u64;
        for i in 0..10 {
            let b = self.short(8)?;
            if i == 9 && b > 1 {
                break;
            }
            x |= (b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(x);
            }
        }
        Err(ChunkError::BadVarint {
            sample: self.sample,
            bit: at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::BitReader;

    #[test]
    fn write_then_read() {
        let mut w = BitWriter::with_prefix(&[9, 9], 0);
        let mut fields = Vec::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..3000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = i * 13 % 65;
            let v = if n == 64 { x } else { x & ((1u64 << n) - 1) };
            w.put(v, n);
            fields.push((v, n));
        }
        let total = w.bit_len();
        let bytes = w.finish();
        assert_eq!(bytes.len() as u64, total.div_ceil(8));
        assert_eq!(&bytes[..2], &[9, 9]);
        let mut r = BitReader::new(2);
        for (v, n) in fields {
            if n > 0 {
                assert_eq!(r.read_long(&bytes, n), Some(v), "width {n}");
            }
        }
    }

    #[test]
    fn varint_sizes_and_zigzag() {
        for (x, bits) in [(0u64, 8u64), (127, 8), (128, 16), (u64::MAX, 80)] {
            assert_eq!(varint_bits(x), bits);
            let mut w = BitWriter::default();
            w.put_varint(x);
            assert_eq!(w.bit_len(), bits);
        }
        for x in [0i64, 1, -1, i64::MAX, i64::MIN, 12345, -98765] {
            assert_eq!(unzigzag(zigzag(x)), x);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }
}
