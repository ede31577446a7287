//! Integration tests of `watchfire-textparse`: one test binary, one module per concern.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;
mod errors;
mod openmetrics;
mod proptests;
mod text_format;
