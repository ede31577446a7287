#![allow(clippy::unwrap_used, missing_docs)]

mod append;
mod file_sd;
mod harness;
mod loops;
mod oauth2;
mod targets;
mod tls;
