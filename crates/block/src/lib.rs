//! Watchfire block (being written).
