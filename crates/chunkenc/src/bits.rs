//! Word-at-a-time bit reading, most significant bit first.

/// Reads bits MSB-first from a byte slice through a 64-bit accumulator.
///
/// Bits of `acc` below the top `avail` are either zero or the correct following bits
/// of the stream, so refills can simply OR a new big-endian word in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BitReader {
    /// Pending bits, MSB-aligned.
    acc: u64,
    /// Number of valid bits at the top of `acc`.
    avail: u32,
    /// Next byte of the input to load into `acc`.
    next: usize,
}

impl BitReader {
    /// A reader starting at byte `start`.
    pub(crate) fn new(start: usize) -> Self {
        BitReader {
            acc: 0,
            avail: 0,
            next: start,
        }
    }

    /// Bit offset of the next unread bit.
    pub(crate) fn bit_pos(&self) -> u64 {
        (self.next as u64) * 8 - u64::from(self.avail)
    }

    /// Loads more bits. Afterwards `avail >= 57` unless the input is exhausted.
    /// Only called with `avail <= 56`.
    #[inline]
    fn refill(&mut self, data: &[u8]) {
        if let Some(w) = data.get(self.next..).and_then(|s| s.first_chunk::<8>()) {
            self.acc |= u64::from_be_bytes(*w) >> self.avail;
            let bytes = (64 - self.avail) >> 3;
            self.next += bytes as usize;
            self.avail += bytes * 8;
        } else {
            self.refill_tail(data);
        }
    }

    #[cold]
    fn refill_tail(&mut self, data: &[u8]) {
        while self.avail <= 56 {
            let Some(&b) = data.get(self.next) else { break };
            self.acc |= u64::from(b) << (56 - self.avail);
            self.avail += 8;
            self.next += 1;
        }
    }

    /// Makes at least `n` (≤ 56) bits visible at the top of [`Self::peek`] if the input
    /// has them; returns whether it does.
    #[inline(always)]
    pub(crate) fn ensure(&mut self, data: &[u8], n: u32) -> bool {
        if self.avail < n {
            self.refill(data);
        }
        self.avail >= n
    }

    /// The accumulator: the next bits of the stream, MSB-aligned. Only the top
    /// `ensure`d bits are meaningful; past the end of input the rest are zero.
    #[inline(always)]
    pub(crate) fn peek(&self) -> u64 {
        self.acc
    }

    /// Drops `n` bits (1 ≤ `n` ≤ 63) previously made visible by [`Self::ensure`].
    #[inline(always)]
    pub(crate) fn skip(&mut self, n: u32) {
        self.acc = self.acc.wrapping_shl(n);
        self.avail = self.avail.saturating_sub(n);
    }

    /// Reads one Rice code with parameter `k`: `q` one bits, a zero, then `k` bits;
    /// the value is `q << k | bits`. Only a fast path: `None`, with nothing consumed,
    /// unless `q < limit` and the whole code fits in the accumulator after at most one
    /// refill (the caller then takes a careful path that reports errors).
    #[inline(always)]
    pub(crate) fn rice(&mut self, data: &[u8], limit: u32, k: u32) -> Option<u64> {
        // Refilling only when under half full keeps the refill off most codes' path.
        if self.avail < 32 {
            self.refill(data);
        }
        let (mut q, mut len) = self.rice_len(k);
        // `len < 64` keeps `skip` meaningful; past the input's end `acc` holds zeros,
        // so codes using bits beyond `avail` are rejected rather than misread (a `q`
        // that reaches past `avail` gives such a `len` too).
        if len > self.avail.min(63) {
            if self.avail > 56 {
                return None;
            }
            self.refill(data);
            (q, len) = self.rice_len(k);
            if len > self.avail.min(63) {
                return None;
            }
        }
        if q >= limit {
            return None;
        }
        // (x >> 1) >> (63 - k) is x >> (64 - k), and 0 for k = 0 without a 64-bit shift.
        let low = ((self.acc << (q + 1)) >> 1) >> (63 - k);
        self.acc <<= len;
        self.avail -= len;
        Some((u64::from(q) << k) | low)
    }

    /// The quotient and total length of the Rice code at the top of the accumulator.
    #[inline(always)]
    fn rice_len(&self, k: u32) -> (u32, u32) {
        // Leading ones without a zero-input special case (baseline x86-64 has no
        // lzcnt): the forced low bit only caps q at 63.
        let q = 63 - (!self.acc | 1).ilog2();
        (q, q + 1 + k)
    }

    /// Reads `n` bits, 1 ≤ `n` ≤ 56. `None` if the input ends first.
    #[inline(always)]
    pub(crate) fn read(&mut self, data: &[u8], n: u32) -> Option<u64> {
        if !self.ensure(data, n) {
            return None;
        }
        let v = self.acc.wrapping_shr(64u32.wrapping_sub(n));
        self.skip(n);
        Some(v)
    }

    /// Reads `n` bits, 1 ≤ `n` ≤ 64. `None` if the input ends first.
    #[inline(always)]
    pub(crate) fn read_long(&mut self, data: &[u8], n: u32) -> Option<u64> {
        if n <= 56 {
            self.read(data, n)
        } else {
            let hi = self.read(data, n - 32)?;
            let lo = self.read(data, 32)?;
            Some(hi << 32 | lo)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_stops_at_end() {
        let data = [0xffu8; 3];
        let mut r = BitReader::new(0);
        assert_eq!(r.read(&data, 20), Some(0xfffff));
        assert_eq!(r.read(&data, 5), None);
        assert_eq!(r.read(&data, 4), Some(0xf));
    }
}
