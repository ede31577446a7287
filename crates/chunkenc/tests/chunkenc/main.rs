//! Integration tests of `watchfire-chunkenc`: one test binary, one module per concern.
#![allow(clippy::unwrap_used, missing_docs)]

mod compression;
mod dense;
#[path = "../common/fleet.rs"]
mod fleet;
mod roundtrip;
