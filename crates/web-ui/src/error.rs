//! The crate's one error type.

use std::path::PathBuf;

/// Why a dashboards folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// The folder or a file in it could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid JSON.
    #[error("{path}:{line}:{column}: invalid dashboard JSON: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the fault.
        line: usize,
        /// 1-based column of the fault.
        column: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// A file is JSON but not a usable Grafana dashboard.
    #[error("{path}: invalid dashboard: field {field}: {why}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The offending field, as a JSON path (`uid`, `panels`, ...).
        field: String,
        /// What is wrong with it.
        why: String,
    },
    /// Two files declare the same uid.
    #[error("dashboard uid {uid:?} is used by both {first} and {second}")]
    DuplicateUid {
        /// The uid.
        uid: String,
        /// The file read first.
        first: PathBuf,
        /// The file read second.
        second: PathBuf,
    },
}
