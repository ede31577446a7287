//! Integration tests for watchfire-config: the shared Prometheus samples, promtool's
//! test files, defaults, redaction and file SD.
#![allow(clippy::unwrap_used, missing_docs)]

mod check;
mod load;
mod samples;

use std::path::{Path, PathBuf};

/// The shared test data directory, or `None` (with a loud skip message).
pub fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("WATCHFIRE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP: shared test data not found at {} (set WATCHFIRE_SHARED)",
            dir.display()
        );
        None
    }
}
