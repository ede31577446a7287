//! Byte-level encoding helpers: varints, big-endian integers and a bounds-checked
//! decoder that never panics on short or malformed input.

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Appends `v` zigzag-encoded as a varint.
pub(crate) fn put_varint(buf: &mut Vec<u8>, v: i64) {
    put_uvarint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends `v` as 8 big-endian bytes.
pub(crate) fn put_be_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_be_bytes());
}

/// Number of bytes `put_uvarint` writes for `v`.
pub(crate) fn uvarint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Decodes a uvarint that must fit in `u32` from `buf[*pos..]`, advancing `pos`;
/// `None` when truncated or too large. The fast path for postings lists.
#[inline(always)]
pub(crate) fn uvarint_u32_at(buf: &[u8], pos: &mut usize) -> Option<u32> {
    let mut v: u32 = 0;
    let mut shift = 0u32;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        if shift == 28 && b > 0x0f {
            return None;
        }
        v |= u32::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
    }
}

/// What went wrong while decoding, and where (relative to the decoder's buffer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError {
    /// Offset in the decoder's buffer.
    pub(crate) at: usize,
    /// Description.
    pub(crate) what: String,
}

impl DecodeError {
    pub(crate) fn new(at: usize, what: impl Into<String>) -> Self {
        DecodeError {
            at,
            what: what.into(),
        }
    }
}

pub(crate) type DecResult<T> = Result<T, DecodeError>;

/// A cursor over a byte slice whose every read is bounds-checked.
#[derive(Debug, Clone)]
pub(crate) struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Decoder { buf, pos: 0 }
    }

    /// A decoder positioned at `pos` (which may be past the end; reads then fail).
    pub(crate) fn at(buf: &'a [u8], pos: usize) -> Self {
        Decoder { buf, pos }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    fn eof(&self, what: &str) -> DecodeError {
        DecodeError::new(self.pos, format!("unexpected end of data reading {what}"))
    }

    pub(crate) fn bytes(&mut self, n: usize) -> DecResult<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.eof(&format!("{n} bytes")))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn be_u32(&mut self) -> DecResult<u32> {
        let b = self.bytes(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_be_bytes(a))
    }

    pub(crate) fn be_u64(&mut self) -> DecResult<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    pub(crate) fn uvarint(&mut self) -> DecResult<u64> {
        let start = self.pos;
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                self.pos = start;
                return Err(DecodeError::new(start, "unexpected end of data in varint"));
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                self.pos = start;
                return Err(DecodeError::new(start, "varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                self.pos = start;
                return Err(DecodeError::new(start, "varint longer than 10 bytes"));
            }
        }
    }

    /// A uvarint that must fit in `u32`.
    pub(crate) fn uvarint_u32(&mut self) -> DecResult<u32> {
        let at = self.pos;
        let v = self.uvarint()?;
        u32::try_from(v).map_err(|_| DecodeError::new(at, format!("value {v} exceeds u32")))
    }

    /// A uvarint that must fit in `usize`.
    pub(crate) fn uvarint_usize(&mut self) -> DecResult<usize> {
        let at = self.pos;
        let v = self.uvarint()?;
        usize::try_from(v).map_err(|_| DecodeError::new(at, format!("value {v} exceeds usize")))
    }

    pub(crate) fn varint(&mut self) -> DecResult<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        let vals = [
            0u64,
            1,
            127,
            128,
            300,
            u32::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ];
        let mut buf = Vec::new();
        for &v in &vals {
            let before = buf.len();
            put_uvarint(&mut buf, v);
            assert_eq!(buf.len() - before, uvarint_len(v), "len of {v}");
        }
        let ivals = [0i64, -1, 1, i64::MIN, i64::MAX, -300];
        for &v in &ivals {
            put_varint(&mut buf, v);
        }
        let mut d = Decoder::new(&buf);
        for &v in &vals {
            assert_eq!(d.uvarint().unwrap(), v);
        }
        for &v in &ivals {
            assert_eq!(d.varint().unwrap(), v);
        }
        assert!(d.is_empty());
        assert!(d.uvarint().is_err());
    }

    #[test]
    fn u32_fast_path_agrees() {
        let vals = [
            0u64,
            1,
            127,
            128,
            16_384,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
        ];
        for v in vals {
            let mut buf = Vec::new();
            put_uvarint(&mut buf, v);
            let mut pos = 0;
            let got = uvarint_u32_at(&buf, &mut pos);
            assert_eq!(
                got.map(u64::from),
                u32::try_from(v).ok().map(u64::from),
                "{v}"
            );
            if got.is_some() {
                assert_eq!(pos, buf.len());
            }
            let mut pos = 0;
            assert_eq!(uvarint_u32_at(&buf[..buf.len() - 1], &mut pos), None);
        }
    }

    #[test]
    fn malformed_varints_are_errors() {
        let mut d = Decoder::new(&[0x80, 0x80]);
        assert!(d.uvarint().is_err());
        let eleven = [0xffu8; 11];
        assert!(Decoder::new(&eleven).uvarint().is_err());
        // 10th byte may only carry one bit.
        let mut over = [0xffu8; 10];
        over[9] = 0x02;
        assert!(Decoder::new(&over).uvarint().is_err());
        over[9] = 0x01;
        assert_eq!(Decoder::new(&over).uvarint().unwrap(), u64::MAX);
    }

    #[test]
    fn reads_past_end_fail() {
        let mut d = Decoder::at(&[1, 2, 3], 10);
        assert!(d.bytes(1).is_err());
        let mut d = Decoder::new(&[1, 2, 3]);
        assert!(d.be_u32().is_err());
        assert!(d.bytes(usize::MAX).is_err());
        assert_eq!(d.bytes(3).unwrap(), &[1, 2, 3]);
    }
}
