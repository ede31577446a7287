//! Compressed chunks of float samples: millisecond `i64` timestamps with `f64` values.
//!
//! Two encodings, both lossless (every value round-trips bit for bit):
//!
//! * [`Encoding::Xor`], appendable, for the head: see below.
//! * [`Encoding::Dense`], for sealed chunks in persisted blocks: [`encode_best`] (or
//!   [`encode_dense`]) encodes a whole chunk at once. Timestamps and values are two
//!   columns of integers (values as decimals `m / 10ᵏ` when they are, else as
//!   order-preserving float bits), each stored with its cheapest common divisor,
//!   slope and difference order (0 to 7), then adaptive-Rice coded or bit-packed in
//!   groups with per-group widths. Values that are not decimals (NaN, ±Inf, -0.0, …)
//!   are listed as exceptions. [`encode_best`] falls back to XOR when that is
//!   smaller. [`ChunkIter`] and [`decode_all_with`] read either encoding; a dense
//!   chunk is decoded in full when its iterator is created. Readers that want every
//!   sample (or every sample of a time range) use [`decode_into`] /
//!   [`decode_range_into`], which decode in one tight loop into a buffer the caller
//!   reuses from chunk to chunk. The dense decoder reads Rice codes and packed
//!   fields from a register copy of its bit reader and undoes differencing, slope
//!   and divisor in one pass.
//!
//! The XOR encoding is a Gorilla-style bit stream ([`XorChunk`] writes it, [`XorIter`]
//! reads it):
//!
//! * **Timestamps** are stored as a delta-of-delta ("dod"). Regular scrapes give a dod
//!   of 0; a dod within −32…31 ms (scrape jitter up to ±7 ms) costs 9 bits; 13-, 18-
//!   and 32-bit buckets follow, and a 64-bit bucket catches everything else. All timestamp arithmetic is wrapping (modulo 2⁶⁴), so any
//!   `i64` and any gap, however huge, round-trips exactly.
//! * **Values** are XORed with the previous value. An unchanged value costs 1 bit;
//!   otherwise only the meaningful bits of the XOR are stored, either inside the
//!   previous leading/trailing-zero window (when it fits and is not too wasteful) or
//!   with a fresh 11-bit window description. Values are handled purely as their
//!   64-bit patterns, so NaN payloads (including Prometheus' stale marker), ±Inf, -0.0
//!   and subnormals survive bit for bit.
//! * The two most common cases share one prefix code: `0` means "timestamp on the
//!   beat and value unchanged" (1 bit per sample for a constant, regularly scraped
//!   series), `10` means "on the beat, value changed".
//!
//! Every chunk starts with a 2-byte sample count and its bytes are always complete, so
//! [`XorChunk::bytes`] can be decoded after any append. The writer gathers bits in a
//! 64-bit accumulator (the stream's last word) that it stores into the buffer after
//! each write; the reader shifts fields out of a 64-bit accumulator refilled 8 bytes at
//! a time. Nothing is done bit by bit and nothing is allocated per sample (the buffer
//! doubles as needed; [`XorChunk::shrink_to_fit`] trims it when the chunk is done).
//! Decoding never panics: corrupt or truncated input ends iteration with a
//! [`ChunkError`] that names the sample index and bit offset.
//!
//! The exact bit layouts are specified in `docs/format/chunks.md`.
#![deny(missing_docs)]

mod bits;
mod chunk;
mod dense;
mod iter;
mod xor;

pub use chunk::{ChunkIter, decode_all_with, decode_into, decode_range_into, encode_best};
pub use dense::{DenseIter, encode_dense};
pub use iter::XorIter;
pub use xor::XorChunk;

/// Most samples one chunk can hold (the header stores the count in 16 bits).
pub const MAX_SAMPLES: u16 = u16::MAX;

/// Encoding id written beside every chunk on disk (one byte).
#[repr(u8)]
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Float samples: delta-of-delta timestamps and XOR-compressed values ([`XorChunk`]).
    Xor = 1,
    /// Sealed chunks only: column-wise integer coding ([`encode_best`], [`DenseIter`]).
    Dense = 2,
}

impl Encoding {
    /// The byte stored on disk for this encoding.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
}

impl From<Encoding> for u8 {
    fn from(e: Encoding) -> u8 {
        e.as_u8()
    }
}

impl TryFrom<u8> for Encoding {
    type Error = ChunkError;

    fn try_from(b: u8) -> Result<Self, ChunkError> {
        match b {
            1 => Ok(Encoding::Xor),
            2 => Ok(Encoding::Dense),
            other => Err(ChunkError::UnknownEncoding(other)),
        }
    }
}

/// What is wrong with a chunk (or an encoding byte).
///
/// `sample` is the 0-based index of the sample being decoded; `bit` is the offset in
/// bits from the start of the chunk (header included) where the failing field starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    /// The encoding byte names no known encoding.
    #[error("unknown chunk encoding {0}")]
    UnknownEncoding(u8),
    /// The chunk is shorter than its 2-byte header.
    #[error("chunk of {len} bytes is too short for its 2-byte header")]
    ShortHeader {
        /// Length of the input in bytes.
        len: usize,
    },
    /// The bit stream ended before all samples the header announces were decoded.
    #[error("chunk truncated: sample {sample} needs bits past the end at bit {bit}")]
    Truncated {
        /// Sample being decoded.
        sample: u32,
        /// Bit offset of the field that ran past the end.
        bit: u64,
    },
    /// A variable-length integer (first timestamp or first delta) is longer than 64 bits.
    #[error("invalid varint in sample {sample} at bit {bit}")]
    BadVarint {
        /// Sample being decoded.
        sample: u32,
        /// Bit offset where the varint starts.
        bit: u64,
    },
    /// A value reuses the previous XOR window but no window has been set yet.
    #[error("sample {sample} reuses an XOR window but none is set (bit {bit})")]
    NoWindow {
        /// Sample being decoded.
        sample: u32,
        /// Bit offset of the value's control bits.
        bit: u64,
    },
    /// A new XOR window claims more than 64 bits.
    #[error(
        "sample {sample} has an invalid XOR window: {leading} leading + {significant} significant bits > 64 (bit {bit})"
    )]
    BadWindow {
        /// Sample being decoded.
        sample: u32,
        /// Bit offset of the window description.
        bit: u64,
        /// Leading-zero count read.
        leading: u8,
        /// Significant-bit count read.
        significant: u8,
    },
    /// A field of a dense chunk holds an impossible value.
    #[error("invalid {field} in dense chunk, sample {sample}, at bit {bit}")]
    Invalid {
        /// What the field is.
        field: &'static str,
        /// Sample (within the column being decoded) the field belongs to.
        sample: u32,
        /// Bit offset where the field starts.
        bit: u64,
    },
    /// [`XorChunk::try_append`] on a chunk that already holds [`MAX_SAMPLES`] samples.
    #[error("chunk is full ({MAX_SAMPLES} samples)")]
    Full,
}

/// Decodes a whole XOR chunk into `(timestamp, value)` pairs.
///
/// Bytes after the last sample the header announces are ignored.
pub fn decode_all(bytes: &[u8]) -> Result<Vec<(i64, f64)>, ChunkError> {
    let mut out = Vec::new();
    iter::decode_range(bytes, i64::MIN, i64::MAX, &mut out)?;
    Ok(out)
}

/// Constants of the bit format shared by the encoder and the decoder.
mod format {
    /// Bytes before the bit stream: the big-endian sample count.
    pub(crate) const HEADER_BYTES: usize = 2;
    /// `leading` value meaning "no XOR window has been set yet".
    pub(crate) const NO_WINDOW: u8 = u8::MAX;
    /// Leading-zero counts are stored in 5 bits; larger counts are clamped.
    pub(crate) const MAX_LEADING: u32 = 31;
    /// Payload widths of the non-zero delta-of-delta buckets, selected by prefixes
    /// `110`, `1110`, `11110`, `111110` and `111111`.
    pub(crate) const DOD_WIDTHS: [u32; 5] = [6, 13, 18, 32, 64];
    /// Prefix bits of each bucket in [`DOD_WIDTHS`] (joint code, see the spec).
    pub(crate) const DOD_PREFIX: [(u64, u32); 5] = [
        (0b110, 3),
        (0b1110, 4),
        (0b11110, 5),
        (0b111110, 6),
        (0b111111, 6),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_byte() {
        assert_eq!(Encoding::try_from(1), Ok(Encoding::Xor));
        assert_eq!(u8::from(Encoding::Xor), 1);
        assert_eq!(Encoding::try_from(2), Ok(Encoding::Dense));
        assert_eq!(u8::from(Encoding::Dense), 2);
        assert_eq!(Encoding::try_from(0), Err(ChunkError::UnknownEncoding(0)));
        assert_eq!(Encoding::try_from(7), Err(ChunkError::UnknownEncoding(7)));
    }

    #[test]
    fn errors_say_where() {
        let e = ChunkError::Truncated {
            sample: 5,
            bit: 123,
        };
        let s = e.to_string();
        assert!(s.contains("sample 5") && s.contains("bit 123"), "{s}");
    }

    #[test]
    fn decode_all_reports_errors() {
        assert_eq!(decode_all(&[]), Err(ChunkError::ShortHeader { len: 0 }));
        assert_eq!(decode_all(&[0, 0]), Ok(vec![]));
        assert!(matches!(
            decode_all(&[0, 1]),
            Err(ChunkError::Truncated { sample: 0, .. })
        ));
    }
}
