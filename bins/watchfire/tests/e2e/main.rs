//! End-to-end tests that run the real `watchfire` binary on loopback.
#![allow(clippy::unwrap_used, missing_docs)]

mod alerting;
mod am_resilience;
mod api;
mod crash;
mod demo;
mod harness;
mod peers;
mod prom_compare;
mod rules;
mod scrape;
mod server;
mod tools;
mod webhook_sink;
