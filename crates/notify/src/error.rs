//! The one error type of the crate: a message plus Alertmanager's "should the
//! dispatcher retry?" verdict.

/// A failed notification attempt.
///
/// `retry` follows Alertmanager's notifiers: connection errors, timeouts, 5xx and
/// 429 answers are worth retrying; other 4xx answers, template errors and
/// configuration problems are not. `message` never contains secrets (URLs with
/// tokens are redacted, credentials are never formatted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NotifyError {
    /// Whether sending again may succeed.
    pub retry: bool,
    /// What went wrong.
    pub message: String,
}

impl NotifyError {
    /// A failure that will not go away by retrying.
    pub fn permanent(message: impl Into<String>) -> Self {
        NotifyError {
            retry: false,
            message: message.into(),
        }
    }

    /// A failure that may go away by retrying.
    pub fn transient(message: impl Into<String>) -> Self {
        NotifyError {
            retry: true,
            message: message.into(),
        }
    }

    /// The same error with `prefix: ` in front of the message.
    pub(crate) fn context(mut self, prefix: impl std::fmt::Display) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

/// Template failures are configuration problems: retrying renders the same text.
impl From<watchfire_template::TemplateError> for NotifyError {
    fn from(e: watchfire_template::TemplateError) -> Self {
        NotifyError::permanent(format!("template: {e}"))
    }
}
