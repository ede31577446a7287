//! Integration tests of `watchfire-block`: one test binary, one module per concern.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;
mod corruption;
mod matchers;
mod roundtrip;
