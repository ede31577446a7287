//! Watchfire config (work in progress).
#![deny(missing_docs)]
