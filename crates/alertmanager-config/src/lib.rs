//! Watchfire alertmanager-config (work in progress).
#![deny(missing_docs)]
