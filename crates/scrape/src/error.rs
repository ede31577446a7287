//! The crate's error type. Messages follow Prometheus' wording where the text is
//! shown to users (`last_error` of `/api/v1/targets`).

/// Why a target could not be built, a scrape failed, or a file SD file was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScrapeError {
    /// Target building failed (`no address`, bad interval, ...); Prometheus' text.
    #[error("{0}")]
    Target(String),
    /// `target_limit` was exceeded; every target of the pool reports this.
    #[error("target_limit exceeded (number of targets: {count}, limit: {limit})")]
    TargetLimit {
        /// Targets after relabeling.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// Building the HTTP client failed (bad TLS files, bad proxy URL).
    #[error("error creating HTTP client: {0}")]
    Client(String),
    /// The request could not be sent or the body not read.
    #[error("{0}")]
    Http(String),
    /// The scrape did not finish within `scrape_timeout`.
    #[error("context deadline exceeded")]
    Timeout,
    /// A non-200 answer, e.g. `server returned HTTP status 500 Internal Server Error`.
    #[error("server returned HTTP status {0}")]
    Status(String),
    /// The (decompressed) body reached `body_size_limit`.
    #[error("body size limit exceeded")]
    BodySizeLimit,
    /// The `Content-Type` could not be used and no fallback protocol is configured.
    #[error("{0}")]
    ContentType(String),
    /// The exposition did not parse.
    #[error("{0}")]
    Parse(#[from] watchfire_textparse::ParseError),
    /// `sample_limit` was exceeded.
    #[error("sample limit exceeded")]
    SampleLimit,
    /// A label limit was exceeded, or a series was invalid; Prometheus' text.
    #[error("{0}")]
    Labels(String),
    /// The store refused the scrape (closed, commit failed).
    #[error("{0}")]
    Storage(String),
    /// A file SD file could not be read or parsed.
    #[error("{path}: {message}")]
    FileSd {
        /// The file.
        path: String,
        /// What went wrong, with line and column when the parser gives them.
        message: String,
    },
}
