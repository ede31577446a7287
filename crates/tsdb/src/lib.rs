//! Watchfire tsdb (being written).
