//! Damaged blocks give errors naming the file, never panics.

use crate::common::{ULID, gen_series, write_block};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::{Path, PathBuf};
use watchfire_block::{Block, BlockError, PostingsIndex, postings_for_matchers};
use watchfire_model::{MatchOp, Matcher};

fn small_block() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = write_block(tmp.path(), ULID, &gen_series(40));
    (tmp, dir)
}

/// Reads everything a querier could read; returns how many reads failed.
fn read_all(block: &Block) -> usize {
    let ix = block.index();
    let mut errors = 0;
    let names = match ix.label_names() {
        Ok(n) => n,
        Err(_) => return 1,
    };
    for name in &names {
        match ix.label_values(name) {
            Ok(vals) => {
                for v in vals {
                    errors += usize::from(ix.postings(name, &v).is_err());
                }
            }
            Err(_) => errors += 1,
        }
        let ms = [Matcher::new(MatchOp::RegexMatch, name.as_str(), ".+").expect("valid")];
        errors += usize::from(postings_for_matchers(ix, &ms).is_err());
    }
    for id in 0..ix.num_series() {
        match ix.series(id) {
            Ok((_, metas)) => {
                for m in metas {
                    errors += usize::from(block.chunk(m.chunk_ref).is_err());
                }
            }
            Err(_) => errors += 1,
        }
    }
    errors
}

/// Errors from reading every chunk of every series.
fn chunk_errors(block: &Block) -> Vec<BlockError> {
    let ix = block.index();
    (0..ix.num_series())
        .flat_map(|id| ix.series(id).expect("index is intact").1)
        .filter_map(|m| block.chunk(m.chunk_ref).err())
        .collect()
}

fn expect_corrupt(dir: &Path, file: &str) -> BlockError {
    let e = Block::open(dir).expect_err("open must fail");
    let msg = e.to_string();
    assert!(msg.contains(file), "error does not name {file}: {msg}");
    e
}

#[test]
fn truncated_index_fails_to_open() {
    let (_tmp, dir) = small_block();
    let path = dir.join("index");
    let orig = std::fs::read(&path).unwrap();
    let len = orig.len();
    for cut in [
        0,
        1,
        7,
        8,
        20,
        60,
        len / 3,
        len / 2,
        len - 45,
        len - 44,
        len - 5,
        len - 1,
    ] {
        std::fs::write(&path, &orig[..cut]).unwrap();
        let e = expect_corrupt(&dir, "index");
        assert!(e.is_corruption(), "cut at {cut}: {e}");
    }
    // Trailing garbage is caught too.
    let mut longer = orig.clone();
    longer.extend_from_slice(b"junk");
    std::fs::write(&path, &longer).unwrap();
    expect_corrupt(&dir, "index");
    std::fs::write(&path, &orig).unwrap();
    Block::open(&dir).unwrap();
}

#[test]
fn every_bit_flip_in_index_is_detected() {
    let (_tmp, dir) = small_block();
    let path = dir.join("index");
    let orig = std::fs::read(&path).unwrap();
    for pos in 0..orig.len() {
        for bit in [pos % 8, (pos * 5 + 3) % 8] {
            let mut bad = orig.clone();
            bad[pos] ^= 1 << bit;
            std::fs::write(&path, &bad).unwrap();
            let e = Block::open(&dir).expect_err(&format!("flip at {pos} bit {bit} undetected"));
            let msg = e.to_string();
            assert!(msg.contains("index") && e.is_corruption(), "{msg}");
        }
    }
}

#[test]
fn index_errors_name_section_and_offset() {
    let (_tmp, dir) = small_block();
    let path = dir.join("index");
    let mut bad = std::fs::read(&path).unwrap();
    bad[20] ^= 0xff; // inside the symbols payload
    std::fs::write(&path, &bad).unwrap();
    match Block::open(&dir).unwrap_err() {
        BlockError::Corrupt {
            path: p, section, ..
        } => {
            assert_eq!(p, path);
            assert_eq!(section, "symbols");
        }
        e => panic!("unexpected {e}"),
    }
}

#[test]
fn bit_flips_in_chunks_are_detected_on_read() {
    let (_tmp, dir) = small_block();
    let path = dir.join("chunks").join("000001");
    let orig = std::fs::read(&path).unwrap();
    for pos in 0..orig.len() {
        let mut bad = orig.clone();
        bad[pos] ^= 1 << (pos % 8);
        std::fs::write(&path, &bad).unwrap();
        match Block::open(&dir) {
            Err(e) => {
                assert!(pos < 8, "open failed for flip at {pos}: {e}");
                assert!(e.to_string().contains("000001"), "{e}");
            }
            Ok(block) => {
                let first_err = chunk_errors(&block)
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| panic!("flip at {pos} undetected"));
                assert!(first_err.to_string().contains("000001"), "{first_err}");
                assert!(first_err.is_corruption());
            }
        }
    }
}

#[test]
fn truncated_chunks_are_detected() {
    let (_tmp, dir) = small_block();
    let path = dir.join("chunks").join("000001");
    let orig = std::fs::read(&path).unwrap();
    for cut in [0, 4, 7] {
        std::fs::write(&path, &orig[..cut]).unwrap();
        expect_corrupt(&dir, "000001");
    }
    for cut in [8, 9, 100, orig.len() / 2, orig.len() - 1] {
        std::fs::write(&path, &orig[..cut]).unwrap();
        let block = Block::open(&dir).unwrap();
        assert!(read_all(&block) > 0, "cut at {cut} undetected");
    }
    std::fs::remove_file(&path).unwrap();
    let block = Block::open(&dir).unwrap();
    let (_, metas) = block.index().series(0).unwrap();
    let e = block.chunk(metas[0].chunk_ref).unwrap_err();
    assert!(matches!(e, BlockError::InvalidChunkRef { .. }), "{e}");
}

#[test]
fn bad_meta_is_reported() {
    let (_tmp, dir) = small_block();
    let path = dir.join("meta.json");
    let orig = std::fs::read_to_string(&path).unwrap();
    for bad in [
        String::new(),
        "{".to_string(),
        orig.replace("\"version\": 1", "\"version\": 2"),
        orig.replace(ULID, "not-a-ulid"),
        orig.replace("\"minTime\": 0", "\"minTime\": 20000"),
    ] {
        std::fs::write(&path, &bad).unwrap();
        let e = expect_corrupt(&dir, "meta.json");
        assert!(matches!(e, BlockError::InvalidMeta { .. }), "{e}");
    }
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        expect_corrupt(&dir, "meta.json"),
        BlockError::Io { .. }
    ));
    std::fs::write(&path, &orig).unwrap();
    std::fs::remove_file(dir.join("index")).unwrap();
    expect_corrupt(&dir, "index");
}

/// Locates the section holding `pos` from the TOC and rewrites its checksum (and
/// nothing else), so that damage gets past the checksums and into the decoders.
fn fix_section_crc(data: &mut [u8], pos: usize) -> bool {
    let be64 = |d: &[u8], at: usize| -> Option<usize> {
        let b: [u8; 8] = d.get(at..at.checked_add(8)?)?.try_into().ok()?;
        usize::try_from(u64::from_be_bytes(b)).ok()
    };
    let toc = data.len() - 44;
    for i in 0..5 {
        let Some(start) = be64(data, toc + 8 * i) else {
            return false;
        };
        let Some(len) = be64(data, start) else {
            continue;
        };
        let Some(end) = start.checked_add(8).and_then(|s| s.checked_add(len)) else {
            continue;
        };
        if end + 4 > data.len() || !(start + 8..end).contains(&pos) {
            continue;
        }
        let crc = crc32c::crc32c(&data[start + 8..end]);
        data[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        return true;
    }
    false
}

#[test]
fn checksum_valid_garbage_never_panics() {
    let (_tmp, dir) = small_block();
    let path = dir.join("index");
    let orig = std::fs::read(&path).unwrap();
    let mut runner = TestRunner::new(Config::with_cases(400));
    runner
        .run(
            &(
                prop::collection::vec((0..orig.len(), any::<u8>()), 1..4),
                any::<bool>(),
            ),
            |(edits, open_only)| {
                let mut bad = orig.clone();
                for &(pos, val) in &edits {
                    bad[pos] = val;
                }
                for &(pos, _) in &edits {
                    fix_section_crc(&mut bad, pos);
                }
                std::fs::write(&path, &bad).unwrap();
                if let Ok(block) = Block::open(&dir)
                    && !open_only
                {
                    let _ = read_all(&block);
                    let ms = [
                        Matcher::new(MatchOp::RegexNoMatch, "a", "a|b").unwrap(),
                        Matcher::equal("env", ""),
                    ];
                    let _ = postings_for_matchers(block.index(), &ms);
                    let _ = block.index().all_postings();
                }
                Ok(())
            },
        )
        .unwrap();
    std::fs::write(&path, &orig).unwrap();
    assert_eq!(read_all(&Block::open(&dir).unwrap()), 0);
}
