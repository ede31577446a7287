//! Errors of the storage contract.

use watchfire_model::Timestamp;

/// Why a single sample was not accepted. Stores count these by kind.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppendError {
    /// The sample is older than the newest sample already stored for the series.
    #[error("out of order sample: timestamp {t} is before the series' latest {latest}")]
    OutOfOrder {
        /// Rejected timestamp.
        t: Timestamp,
        /// The series' newest timestamp.
        latest: Timestamp,
    },
    /// A different value already exists at the same timestamp.
    #[error("duplicate sample for timestamp {t} with a different value")]
    DuplicateTimestamp {
        /// Rejected timestamp.
        t: Timestamp,
    },
    /// The sample falls before the range the store still accepts writes for.
    #[error("out of bounds: timestamp {t} is before the earliest writable time {min_valid}")]
    OutOfBounds {
        /// Rejected timestamp.
        t: Timestamp,
        /// Earliest accepted timestamp.
        min_valid: Timestamp,
    },
    /// The label set is not storable (empty, duplicate or invalid names).
    #[error("invalid labels: {0}")]
    InvalidLabels(String),
    /// The store has been closed.
    #[error("storage is closed")]
    Closed,
}

/// A failure of the store itself.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. the file.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Data on disk is not what it should be.
    #[error("corrupt data in {location}: {detail}")]
    Corruption {
        /// File and offset.
        location: String,
        /// What is wrong.
        detail: String,
    },
    /// The request cannot be served (bad range, closed store, ...).
    #[error("{0}")]
    Invalid(String),
}

impl StorageError {
    /// Wraps an I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        StorageError::Io {
            context: context.into(),
            source,
        }
    }
}
