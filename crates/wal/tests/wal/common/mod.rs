//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use watchfire_wal::{Position, SyncPolicy, Wal, WalOptions, WalReader};

/// Options with a small segment size and manual sync.
pub fn opts(segment_size: u64) -> WalOptions {
    WalOptions::default()
        .with_segment_size(segment_size)
        .with_sync(SyncPolicy::Manual)
}

/// A deterministic record of varying length.
pub fn rec(i: usize) -> Vec<u8> {
    let mut v = format!("record-{i}:").into_bytes();
    v.extend(std::iter::repeat_n((i % 251) as u8, i % 37));
    v
}

/// Reads every segment of `dir`, panicking on error.
pub fn read_all(dir: &Path) -> Vec<Vec<u8>> {
    WalReader::open_dir(dir)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// Paths of the segment files in `dir`, ascending.
pub fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    v.sort();
    v
}

/// Logs `n` records one per call, returning each record's start position.
pub fn write_one_by_one(wal: &mut Wal, records: &[Vec<u8>]) -> Vec<Position> {
    records
        .iter()
        .map(|r| {
            let before = wal.position();
            wal.log(&[r]).unwrap();
            // The record may have gone into a fresh segment.
            let after = wal.position();
            if after.segment == before.segment {
                before
            } else {
                Position {
                    segment: after.segment,
                    offset: watchfire_wal::SEGMENT_HEADER_LEN,
                }
            }
        })
        .collect()
}
