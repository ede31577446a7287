//! Integration tests of `watchfire-promqltest`: one test binary, one module per concern.
#![allow(clippy::unwrap_used, missing_docs)]

mod runner;
mod shared_scripts;
