//! The crate's error type.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What was wrong with the bytes at a corrupt position.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Corruption {
    /// The file is shorter than a segment header.
    ShortHeader {
        /// Length of the file.
        len: u64,
    },
    /// The segment header has the wrong magic, version or checksum.
    BadHeader {
        /// The header bytes found.
        found: [u8; 20],
    },
    /// A record (frame header or payload) extends past the end of the file.
    TornRecord {
        /// Bytes the record needs, counting its frame header.
        needed: u64,
        /// Bytes left in the file from the record's start.
        available: u64,
    },
    /// The next segment's header records a different final length for this
    /// segment than it has: the segment lost its tail or gained bytes after
    /// it was completed.
    LengthMismatch {
        /// Length recorded in the next segment's header.
        expected: u64,
        /// Length of the valid data found.
        found: u64,
    },
    /// The record's CRC32C does not match its contents.
    ChecksumMismatch {
        /// Checksum stored in the frame header.
        stored: u32,
        /// Checksum computed over the length and payload read.
        computed: u32,
    },
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corruption::ShortHeader { len } => {
                write!(f, "segment is {len} bytes, too short for its header")
            }
            Corruption::BadHeader { found } => write!(f, "bad segment header {found:02x?}"),
            Corruption::TornRecord { needed, available } => write!(
                f,
                "torn record: needs {needed} bytes, only {available} left in the file"
            ),
            Corruption::LengthMismatch { expected, found } => write!(
                f,
                "segment should be {expected} bytes long according to the next segment, found {found}"
            ),
            Corruption::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
        }
    }
}

/// Every error this crate returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalError {
    /// An operating-system I/O error.
    #[error("WAL I/O error: {op} {path}: {source}")]
    Io {
        /// What was being done (`"open"`, `"write"`, `"fsync"`, ...).
        op: &'static str,
        /// File or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Bad data in a segment: a torn or corrupt record or a bad header.
    #[error("corrupt WAL segment {segment:08} at offset {offset} ({path}): {kind}")]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// Segment number.
        segment: u32,
        /// Byte offset of the bad record (the end of the last good one), 0
        /// for a bad header, or for a length mismatch the smaller of the
        /// expected and found lengths.
        offset: u64,
        /// What was wrong.
        kind: Corruption,
    },
    /// A segment expected in a range is not on disk.
    #[error("WAL segment {segment:08} is missing from {dir}")]
    MissingSegment {
        /// The WAL directory.
        dir: PathBuf,
        /// The missing segment number.
        segment: u32,
    },
    /// A record is too large to be framed (more than `u32::MAX` bytes).
    #[error("record of {len} bytes exceeds the maximum record size of {max} bytes")]
    RecordTooLarge {
        /// Length of the offending record.
        len: usize,
        /// Largest length the format allows.
        max: usize,
    },
    /// The caller asked for something inconsistent with the WAL's state.
    #[error("invalid WAL operation on {path}: {reason}")]
    InvalidArgument {
        /// The WAL (or checkpoint) directory.
        path: PathBuf,
        /// Why the request was refused.
        reason: String,
    },
    /// A failed write could not be rolled back, so the current segment may
    /// end in garbage; the `Wal` refuses further writes. Reopening repairs it.
    #[error("WAL segment {segment:08} is in an unknown state after a failed write; reopen the WAL")]
    Poisoned {
        /// The segment that could not be rolled back.
        segment: u32,
    },
}

impl WalError {
    /// Builds an [`WalError::Io`] (crate-internal helper).
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        WalError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Returns true for [`WalError::Corrupt`].
    pub fn is_corruption(&self) -> bool {
        matches!(self, WalError::Corrupt { .. })
    }

    /// For [`WalError::Corrupt`], the segment number and offset of the bad
    /// data (suitable for [`crate::repair`]).
    pub fn corrupt_position(&self) -> Option<(u32, u64)> {
        match self {
            WalError::Corrupt {
                segment, offset, ..
            } => Some((*segment, *offset)),
            _ => None,
        }
    }
}
