//! Watchfire chunkenc (being written).
