//! End-to-end tests that run the real `watchfire` binary on loopback.

mod crash;
mod harness;
mod tools;
