//! The crate's one error type. Messages name the token URL (password redacted)
//! and never carry client secrets or tokens.

/// What went wrong building a client or fetching a token.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    /// The OAuth2 settings cannot work (bad `token_url`, a parameter that would
    /// overwrite one the flow sets).
    #[error("oauth2: {0}")]
    OAuth2Config(String),
    /// The client secret file could not be read.
    #[error("oauth2: unable to read client secret file {path}: {source}")]
    SecretFile {
        /// The configured `client_secret_file`.
        path: String,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The token request did not get an answer (connection, TLS, timeout).
    #[error("oauth2: cannot fetch token from {url}: {message}")]
    TokenTransport {
        /// The token URL, password redacted.
        url: String,
        /// The transport error chain.
        message: String,
    },
    /// The token endpoint answered with a non-2xx status.
    #[error("oauth2: cannot fetch token from {url}: {status}; response: {body}")]
    TokenStatus {
        /// The token URL, password redacted.
        url: String,
        /// Status code and reason, e.g. `401 Unauthorized`.
        status: String,
        /// The start of the response body.
        body: String,
    },
    /// The token endpoint's 2xx answer is not a usable token.
    #[error("oauth2: cannot parse token response from {url}: {message}")]
    TokenResponse {
        /// The token URL, password redacted.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// A `tls_config` that cannot be turned into a rustls configuration.
    #[error("tls_config: {0}")]
    Tls(String),
    /// reqwest refused the client configuration.
    #[error("building HTTP client: {0}")]
    Client(String),
}
