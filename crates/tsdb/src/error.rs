//! The TSDB's error type.

use std::path::Path;
use watchfire_storage::StorageError;

/// Result alias for the TSDB.
pub type Result<T, E = TsdbError> = std::result::Result<T, E>;

/// Everything that can go wrong inside the TSDB.
#[derive(Debug, thiserror::Error)]
pub enum TsdbError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Data read back is not what was written.
    #[error("corrupt data in {location}: {detail}")]
    Corruption {
        /// File (and offset) of the bad data.
        location: String,
        /// What is wrong.
        detail: String,
    },
    /// The write-ahead log failed.
    #[error("write-ahead log: {0}")]
    Wal(#[from] watchfire_wal::WalError),
    /// A persisted block failed.
    #[error("block: {0}")]
    Block(#[from] watchfire_block::BlockError),
    /// Another process holds the data directory.
    #[error("data directory {0} is locked by another process (is another Watchfire running?)")]
    Locked(String),
    /// A request or option makes no sense.
    #[error("{0}")]
    Invalid(String),
}

impl TsdbError {
    pub(crate) fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        TsdbError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

impl From<TsdbError> for StorageError {
    fn from(e: TsdbError) -> Self {
        match e {
            TsdbError::Io { path, source } => StorageError::Io {
                context: path,
                source,
            },
            TsdbError::Corruption { location, detail } => {
                StorageError::Corruption { location, detail }
            }
            other => StorageError::Invalid(other.to_string()),
        }
    }
}
