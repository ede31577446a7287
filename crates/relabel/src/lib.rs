//! Watchfire relabel (work in progress).
#![deny(missing_docs)]
