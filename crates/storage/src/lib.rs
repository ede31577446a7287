//! Watchfire storage (being written).
