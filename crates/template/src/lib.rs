//! Watchfire template (work in progress).
#![deny(missing_docs)]
