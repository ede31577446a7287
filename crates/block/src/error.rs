//! The crate's error type.

use crate::encoding::DecodeError;
use std::path::{Path, PathBuf};

/// Everything that can go wrong writing or reading a block.
///
/// Errors about on-disk data carry the file's path and, where it applies, the
/// section and byte offset, so a TSDB can log exactly what is broken before skipping
/// or quarantining the block.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// An operating-system I/O call failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// File or directory the call was about.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A file's content is malformed: bad magic, checksum mismatch, truncation,
    /// out-of-range value.
    #[error("corrupt block file {}: {section} at offset {offset}: {detail}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Which part of the file (`header`, `toc`, `symbols`, `series`, `chunk`, ...).
        section: &'static str,
        /// Absolute byte offset in the file where the problem was found.
        offset: u64,
        /// What is wrong.
        detail: String,
    },

    /// `meta.json` is missing fields, is not JSON, or holds impossible values.
    #[error("invalid block meta {}: {detail}", path.display())]
    InvalidMeta {
        /// Path of the `meta.json`.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },

    /// A chunk reference does not point into any segment file of the block.
    #[error("invalid chunk reference {chunk_ref:#x} in block {}: {detail}", dir.display())]
    InvalidChunkRef {
        /// The block directory.
        dir: PathBuf,
        /// The reference asked for.
        chunk_ref: u64,
        /// What is wrong.
        detail: String,
    },

    /// A series id past the end of the index.
    #[error("series id {id} out of range: index {} has {num_series} series", path.display())]
    SeriesNotFound {
        /// The index file.
        path: PathBuf,
        /// The id asked for.
        id: u32,
        /// Series in the index.
        num_series: u32,
    },

    /// [`BlockWriter::add_series`](crate::BlockWriter::add_series) was called with
    /// labels that do not sort strictly after the previous series.
    #[error("series added out of order: {labels} does not sort after {previous}")]
    OutOfOrderSeries {
        /// The previous series' labels.
        previous: String,
        /// The rejected labels.
        labels: String,
    },

    /// A series or chunk handed to the writer breaks the format's rules.
    #[error("invalid series {labels}: {detail}")]
    InvalidSeries {
        /// The series' labels.
        labels: String,
        /// What is wrong.
        detail: String,
    },

    /// The writer cannot produce the block: a format limit would be exceeded (series
    /// count, symbol table size, chunk size), the arguments are invalid (not a ULID,
    /// `min_time > max_time`) or the target directory already exists.
    #[error("cannot write block {}: {detail}", path.display())]
    CannotWrite {
        /// The block (temporary) directory.
        path: PathBuf,
        /// What limit was hit.
        detail: String,
    },
}

impl BlockError {
    pub(crate) fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        BlockError::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    pub(crate) fn corrupt(
        path: impl AsRef<Path>,
        section: &'static str,
        offset: u64,
        detail: impl Into<String>,
    ) -> Self {
        BlockError::Corrupt {
            path: path.as_ref().to_path_buf(),
            section,
            offset,
            detail: detail.into(),
        }
    }

    /// Turns a decoder error into `Corrupt`, `base` being the file offset of the
    /// decoder's buffer start.
    pub(crate) fn decode(
        path: impl AsRef<Path>,
        section: &'static str,
        base: u64,
        e: DecodeError,
    ) -> Self {
        BlockError::corrupt(path, section, base.saturating_add(e.at as u64), e.what)
    }

    /// Whether the error says the block's files are damaged (as opposed to an I/O
    /// failure or a caller mistake); such a block should be quarantined.
    pub fn is_corruption(&self) -> bool {
        matches!(
            self,
            BlockError::Corrupt { .. }
                | BlockError::InvalidMeta { .. }
                | BlockError::InvalidChunkRef { .. }
        )
    }
}
