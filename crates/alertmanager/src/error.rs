//! The crate's error type.

use std::path::PathBuf;

/// Errors of the Alertmanager runtime.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No silence has this ID.
    #[error("silence not found")]
    SilenceNotFound,
    /// A silence failed validation; the text is Alertmanager's.
    #[error("{0}")]
    InvalidSilence(String),
    /// An alert failed validation; the text is Alertmanager's.
    #[error("{0}")]
    InvalidAlert(String),
    /// No alert has this fingerprint (acknowledgements).
    #[error("alert {0} not found")]
    AlertNotFound(String),
    /// A state file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A state file is not valid JSON of the expected shape.
    #[error("{path}: line {line}, column {column}: {message}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A `templates:` file does not parse (or a glob is malformed): the same text as
    /// `check alertmanager` prints, e.g. `template: b.tmpl:5: unexpected EOF`.
    #[error("{0}")]
    Template(#[from] watchfire_template::TemplateError),
    /// The configuration cannot be applied (e.g. a receiver's integrations fail to build).
    #[error("receiver {receiver:?}: {message}")]
    Receiver {
        /// Receiver name.
        receiver: String,
        /// What failed.
        message: String,
    },
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
