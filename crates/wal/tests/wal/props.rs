//! Property tests: round trips, and arbitrary damage never panics open and
//! always leaves a readable prefix of the original log.
#![allow(clippy::unwrap_used)]

use std::fs::OpenOptions;

use crate::common::{opts, read_all, segment_files};
use proptest::prelude::*;
use watchfire_wal::Wal;

fn batches() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
    prop::collection::vec(
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20),
        1..15,
    )
}

fn write(dir: &std::path::Path, seg_size: u64, batches: &[Vec<Vec<u8>>]) -> Vec<Vec<u8>> {
    let (mut wal, _) = Wal::open(dir, opts(seg_size)).unwrap();
    for b in batches {
        let refs: Vec<&[u8]> = b.iter().map(Vec::as_slice).collect();
        wal.log(&refs).unwrap();
    }
    wal.close().unwrap();
    batches.concat()
}

#[derive(Debug, Clone)]
enum Damage {
    /// XOR a byte at (file index, position), both taken modulo the sizes.
    Flip(usize, usize, u8),
    /// Truncate a file to a fraction (per mille) of its length.
    Truncate(usize, u16),
    /// Zero a range starting at a position.
    Zero(usize, usize, usize),
    /// Append bytes to a file.
    Append(usize, Vec<u8>),
    /// Delete a file.
    Delete(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        4 => (any::<usize>(), any::<usize>(), 1u8..=255).prop_map(|(f, p, x)| Damage::Flip(f, p, x)),
        2 => (any::<usize>(), 0u16..1000).prop_map(|(f, k)| Damage::Truncate(f, k)),
        1 => (any::<usize>(), any::<usize>(), 1usize..64).prop_map(|(f, p, n)| Damage::Zero(f, p, n)),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..64)).prop_map(|(f, b)| Damage::Append(f, b)),
        1 => any::<usize>().prop_map(Damage::Delete),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_records_round_trip(batches in batches(), seg_size in 16u64..4096) {
        let tmp = tempfile::tempdir().unwrap();
        let records = write(tmp.path(), seg_size, &batches);
        prop_assert_eq!(read_all(tmp.path()), records.clone());
        let (wal, report) = Wal::open(tmp.path(), opts(seg_size)).unwrap();
        prop_assert!(report.is_clean());
        prop_assert_eq!(report.records_scanned, records.len() as u64);
        drop(wal);
        prop_assert_eq!(read_all(tmp.path()), records);
    }

    #[test]
    fn arbitrary_damage_never_panics_and_keeps_a_prefix(
        batches in batches(),
        seg_size in 64u64..2048,
        damages in prop::collection::vec(damage(), 1..6),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let records = write(tmp.path(), seg_size, &batches);
        let mut appended_garbage = false;
        for d in &damages {
            let files = segment_files(tmp.path());
            if files.is_empty() {
                break;
            }
            match d {
                Damage::Flip(f, p, x) => {
                    let path = &files[f % files.len()];
                    let mut b = std::fs::read(path).unwrap();
                    if !b.is_empty() {
                        let i = p % b.len();
                        b[i] ^= x;
                        std::fs::write(path, &b).unwrap();
                    }
                }
                Damage::Truncate(f, k) => {
                    let path = &files[f % files.len()];
                    let len = std::fs::metadata(path).unwrap().len();
                    let file = OpenOptions::new().write(true).open(path).unwrap();
                    file.set_len(len * u64::from(*k) / 1000).unwrap();
                }
                Damage::Zero(f, p, n) => {
                    let path = &files[f % files.len()];
                    let mut b = std::fs::read(path).unwrap();
                    if !b.is_empty() {
                        let start = p % b.len();
                        let end = (start + n).min(b.len());
                        b[start..end].fill(0);
                        std::fs::write(path, &b).unwrap();
                    }
                }
                Damage::Append(f, bytes) => {
                    let path = &files[f % files.len()];
                    let mut b = std::fs::read(path).unwrap();
                    b.extend_from_slice(bytes);
                    std::fs::write(path, &b).unwrap();
                    appended_garbage = true;
                }
                Damage::Delete(f) => {
                    std::fs::remove_file(&files[f % files.len()]).unwrap();
                }
            }
        }

        let (mut wal, _report) = Wal::open(tmp.path(), opts(seg_size)).unwrap();
        wal.log(&[b"after"]).unwrap();
        wal.close().unwrap();
        let (wal, again) = Wal::open(tmp.path(), opts(seg_size)).unwrap();
        prop_assert!(again.is_clean(), "second open repaired again: {:?}", again);
        drop(wal);

        let got = read_all(tmp.path());
        prop_assert_eq!(got.last().map(Vec::as_slice), Some(&b"after"[..]));
        let got = &got[..got.len() - 1];
        if !appended_garbage {
            // Unless garbage happens to form a valid record (probability
            // ~2^-32), what survives is a contiguous run of the original
            // records: a prefix, or a later run when leading segments were
            // deleted.
            prop_assert!(
                got.is_empty() || records.windows(got.len()).any(|w| w == got),
                "{} surviving records are not a contiguous run of the {} written",
                got.len(),
                records.len()
            );
        }
    }
}
