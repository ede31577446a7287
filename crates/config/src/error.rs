//! The crate's error type.

use std::fmt;
use std::path::PathBuf;

/// Loading or validating a configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("{}: {source}", .file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The content is invalid. Displays as `file:line:column: field.path: message`.
    #[error("{0}")]
    Invalid(Box<Located>),
}

/// A configuration problem with the place it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// File name as given by the caller.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// Field path such as `scrape_configs[0].relabel_configs[1].regex`; empty for the
    /// document itself.
    pub path: String,
    /// What is wrong, in Prometheus' wording where Prometheus has one.
    pub message: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        f.write_str(": ")?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl ConfigError {
    /// Builds an [`ConfigError::Invalid`].
    pub fn invalid(
        file: impl Into<String>,
        line: Option<u64>,
        column: Option<u64>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid(Box::new(Located {
            file: file.into(),
            line,
            column,
            path: path.into(),
            message: message.into(),
        }))
    }

    /// The location details, for errors about content.
    pub fn located(&self) -> Option<&Located> {
        match self {
            ConfigError::Invalid(l) => Some(l),
            ConfigError::Io { .. } => None,
        }
    }
}

/// A semantic problem found after deserialising: the field path it concerns and the
/// message. Turned into a [`ConfigError`] once the path has been located in the source.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}
