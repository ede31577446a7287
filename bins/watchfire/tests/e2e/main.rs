//! End-to-end tests that run the real `watchfire` binary on loopback.
#![allow(clippy::unwrap_used, missing_docs)]

mod crash;
mod harness;
mod peers;
mod server;
mod tools;
