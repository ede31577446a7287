//! Integration tests of `watchfire-wal`: one test binary, one module per concern.
#![allow(clippy::unwrap_used, missing_docs)]

mod checkpoint;
mod common;
mod props;
mod repair;
mod roundtrip;
