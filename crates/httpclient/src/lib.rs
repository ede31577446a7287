//! HTTP client plumbing shared by Watchfire's outgoing HTTP: scraping and the
//! Alertmanager notifiers.
//!
//! Design: this crate knows nothing about either configuration format. Callers
//! map their own `http_config` types onto the neutral settings here
//! ([`OAuth2Config`]), build a `reqwest::Client` for the token endpoint, and ask
//! a [`TokenSource`] for the `Authorization` header of each request. The token
//! source owns the caching and refresh rules of Go's `clientcredentials`
//! package, so every client gets Prometheus' `oauth2` semantics from one place.
//! The rustls configuration of a `tls_config` ([`TlsSettings`],
//! [`rustls_client_config`]: CA roots, client certificates, `server_name`,
//! `insecure_skip_verify`, version bounds) lives here too, so scraping and the
//! notifiers verify servers the same way. The small encoders in [`encode`]
//! (base64, Go-style query escaping, error chains) are shared for the same
//! reason.

#![deny(missing_docs)]

pub mod encode;
mod error;
mod oauth2;
mod tls;

pub use error::HttpClientError;
pub use oauth2::{ClientSecret, Clock, EXPIRY_DELTA, OAuth2Config, Token, TokenSource};
pub use tls::{Pem, TlsSettings, rustls_client_config, token_client};

/// Installs ring as rustls' process-wide provider, which reqwest needs before
/// it builds a client; a provider installed earlier (by us or by another part
/// of the binary) is kept.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
