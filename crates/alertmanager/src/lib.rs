//! Watchfire alertmanager (work in progress).
#![deny(missing_docs)]
