//! Integration tests of watchfire-rules.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;
mod files;
mod promtool;
mod recording;
mod restore;
mod seeds;
mod state_machine;
