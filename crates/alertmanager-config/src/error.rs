//! The crate's one error type.

use std::path::PathBuf;

/// Anything that can go wrong loading or using an Alertmanager configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// File being read.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The YAML is malformed, has an unknown field or a value that does not parse, or the
    /// configuration breaks one of Alertmanager's rules. `line`/`column` are 1-based and 0
    /// when unknown; `field` is the dotted path of the offending field (may be empty).
    #[error("{file}:{line}:{column}: {}{message}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
    Invalid {
        /// File name as given (or `<string>`).
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// Field path, e.g. `route.routes[1].receiver`.
        field: String,
        /// Alertmanager-style message, e.g. `undefined receiver "x" used in route`.
        message: String,
    },
    /// A matcher string does not parse.
    #[error("{0}")]
    Matcher(String),
}

impl ConfigError {
    /// The bare message, without file/line/field prefix (what `amtool` prints).
    pub fn message(&self) -> String {
        match self {
            ConfigError::Io { source, .. } => source.to_string(),
            ConfigError::Invalid { message, .. } => message.clone(),
            ConfigError::Matcher(m) => m.clone(),
        }
    }
}
