//! Watchfire textparse (being written).
