//! The crate's error type. Display strings follow Go's `text/template` so that
//! messages shown by `check rules`-style tooling read like Prometheus'.

use thiserror::Error;

/// Errors from parsing, validating or executing a template.
#[derive(Debug, Error)]
pub enum TemplateError {
    /// A syntax error, an unknown function or an undefined variable, found
    /// when the template is parsed. Go prints only the line
    /// (`template: NAME:LINE: MSG`); the column is kept for callers that want
    /// to point at it.
    #[error("template: {name}:{line}: {message}")]
    Parse {
        /// Template (or file) name the text was parsed under.
        name: String,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters), not part of Go's message.
        col: usize,
        /// What went wrong, e.g. `function "foo" not defined`.
        message: String,
    },
    /// A failure while executing. When the failing node is known the message
    /// reads like Go's
    /// `template: NAME:LINE:COL: executing "TMPL" at <NODE>: MSG` (COL is
    /// Go's 0-based byte offset in the line); otherwise the position part is
    /// left out.
    #[error("{}", fmt_exec(name, *line, *col, executing, context, message))]
    Exec {
        /// Name the failing text was parsed under.
        name: String,
        /// 1-based line of the failing node, 0 when unknown.
        line: usize,
        /// Go-style 0-based byte column of the failing node.
        col: usize,
        /// The (sub-)template being executed.
        executing: String,
        /// The failing node, rendered as template source (`humanize "x"`).
        context: String,
        /// What went wrong, e.g. `error calling humanize: ...`.
        message: String,
    },
    /// Prometheus' wrapper around rule-template failures:
    /// `error parsing template NAME: ...` / `error executing template NAME: ...`.
    #[error("error {} template {template}: {source}", if *parsing { "parsing" } else { "executing" })]
    Expansion {
        /// The rule template's name (`__alert_<alertname>`).
        template: String,
        /// True for parse/validation failures, false for execution failures.
        parsing: bool,
        /// The underlying error.
        #[source]
        source: Box<TemplateError>,
    },
    /// A `templates:` glob pattern was malformed.
    #[error("invalid template glob {pattern:?}: {message}")]
    Glob {
        /// The pattern as configured.
        pattern: String,
        /// Why it is invalid.
        message: String,
    },
    /// A template file could not be read.
    #[error("reading template file {path}: {source}")]
    Io {
        /// The file's path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn fmt_exec(
    name: &str,
    line: usize,
    col: usize,
    executing: &str,
    context: &str,
    message: &str,
) -> String {
    if line == 0 {
        format!("template: {name}: executing {executing:?}: {message}")
    } else {
        format!("template: {name}:{line}:{col}: executing {executing:?} at <{context}>: {message}")
    }
}

impl TemplateError {
    /// The 1-based line the error points at, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            TemplateError::Parse { line, .. } => Some(*line),
            TemplateError::Exec { line, .. } if *line > 0 => Some(*line),
            TemplateError::Expansion { source, .. } => source.line(),
            _ => None,
        }
    }

    /// Converts a gotmpl parse/lex error into ours, keeping its position.
    pub(crate) fn from_gotmpl_parse(name: &str, err: gotmpl::TemplateError) -> Self {
        match err {
            gotmpl::TemplateError::Parse {
                line, col, message, ..
            }
            | gotmpl::TemplateError::Lex {
                line, col, message, ..
            } => TemplateError::Parse {
                name: name.to_string(),
                line: line.max(1),
                col: col.max(1),
                message,
            },
            other => TemplateError::Parse {
                name: name.to_string(),
                line: 1,
                col: 1,
                message: other.to_string(),
            },
        }
    }
}
