//! Watchfire wal (being written).
