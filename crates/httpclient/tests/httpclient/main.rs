//! Integration tests: token sources and TLS client configurations against
//! servers on 127.0.0.1.
#![allow(clippy::unwrap_used, missing_docs)]

mod oauth2;
mod tls;
