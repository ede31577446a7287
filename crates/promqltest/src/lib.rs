//! Runner for promqltest scripts (being written).
