//! Watchfire notify (work in progress).
#![deny(missing_docs)]
