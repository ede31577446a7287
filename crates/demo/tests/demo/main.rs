//! Integration tests for the demo service, the load generator and the example files.
#![allow(clippy::unwrap_used, missing_docs)]

mod examples;
mod load;
mod service;
mod support;
