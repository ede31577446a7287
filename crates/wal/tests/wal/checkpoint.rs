//! Checkpoint creation, replay and segment truncation.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use crate::common::{opts, read_all, rec};
use watchfire_wal::{Wal, WalError, WalReader, checkpoint, segments};

/// Replays a WAL the way the TSDB does: last checkpoint, then later segments.
fn replay(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut after = 0;
    if let Some((path, n)) = checkpoint::last(dir).unwrap() {
        out.extend(read_all(&path));
        after = n + 1;
    }
    if let Some((first, last)) = segments(dir).unwrap() {
        let first = first.max(after);
        for r in WalReader::new(dir, first, last) {
            out.push(r.unwrap());
        }
    }
    out
}

fn keep_even_uppercased(r: &[u8]) -> Option<Vec<u8>> {
    let n: usize = std::str::from_utf8(r)
        .ok()?
        .strip_prefix("rec-")?
        .parse()
        .ok()?;
    n.is_multiple_of(2).then(|| r.to_ascii_uppercase())
}

fn log_range(wal: &mut Wal, range: std::ops::Range<usize>) {
    for chunk in range.collect::<Vec<_>>().chunks(7) {
        let recs: Vec<Vec<u8>> = chunk
            .iter()
            .map(|i| format!("rec-{i}").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
        wal.log(&refs).unwrap();
    }
}

#[test]
fn checkpoint_keeps_exactly_what_the_filter_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _) = Wal::open(dir, opts(256)).unwrap();
    log_range(&mut wal, 0..100);
    let active = wal.next_segment().unwrap();
    log_range(&mut wal, 100..110);
    let upto = active - 1;

    let stats = checkpoint::create(dir, upto, keep_even_uppercased).unwrap();
    assert_eq!(stats.number, upto);
    assert_eq!(stats.previous, None);
    assert_eq!(stats.segments, Some((0, upto)));
    assert_eq!(stats.records_read, 100);
    assert_eq!(stats.records_kept, 50);
    assert_eq!(stats.records_dropped, 50);
    assert_eq!(stats.dir, dir.join(format!("checkpoint.{upto:08}")));
    let (path, n) = checkpoint::last(dir).unwrap().unwrap();
    assert_eq!((path.clone(), n), (stats.dir.clone(), upto));

    let expected_cp: Vec<Vec<u8>> = (0..100)
        .filter(|i: &usize| i.is_multiple_of(2))
        .map(|i| format!("REC-{i}").into_bytes())
        .collect();
    assert_eq!(read_all(&path), expected_cp);
    assert_eq!(
        stats.bytes_kept,
        expected_cp.iter().map(|r| r.len() as u64).sum::<u64>()
    );

    // The segments are still there until truncate_before.
    assert_eq!(segments(dir).unwrap().unwrap().0, 0);
    let deleted = wal.truncate_before(upto + 1).unwrap();
    assert_eq!(deleted, upto as usize + 1);
    assert_eq!(segments(dir).unwrap().unwrap().0, active);

    let mut expected = expected_cp.clone();
    expected.extend((100..110).map(|i| format!("rec-{i}").into_bytes()));
    assert_eq!(replay(dir), expected);

    // A reopened WAL continues after everything, and replay is unchanged.
    drop(wal);
    let (wal, report) = Wal::open(dir, opts(256)).unwrap();
    assert!(report.is_clean());
    assert!(wal.current_segment() > active);
    assert_eq!(replay(dir), expected);
}

#[test]
fn second_checkpoint_folds_in_the_first_and_deletes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _) = Wal::open(dir, opts(256)).unwrap();
    log_range(&mut wal, 0..60);
    let first_upto = wal.next_segment().unwrap() - 1;
    checkpoint::create(dir, first_upto, keep_even_uppercased).unwrap();
    wal.truncate_before(first_upto + 1).unwrap();

    log_range(&mut wal, 60..120);
    let second_upto = wal.next_segment().unwrap() - 1;
    log_range(&mut wal, 120..125);
    // Records from the first checkpoint are upper-cased and no longer parse
    // with the `rec-` prefix, so count what comes through.
    let mut seen = Vec::new();
    let stats = checkpoint::create(dir, second_upto, |r| {
        seen.push(r.to_vec());
        if r.starts_with(b"REC-") {
            Some(r.to_vec())
        } else {
            keep_even_uppercased(r)
        }
    })
    .unwrap();
    assert_eq!(stats.previous, Some(first_upto));
    assert_eq!(stats.segments, Some((first_upto + 1, second_upto)));
    assert_eq!(stats.deleted_checkpoints, vec![first_upto]);
    assert_eq!(stats.records_read, 30 + 60);
    assert_eq!(stats.records_kept, 60);
    // Previous checkpoint first, then segments, in order.
    assert_eq!(seen[0], b"REC-0");
    assert_eq!(seen[30], b"rec-60");
    assert!(!dir.join(format!("checkpoint.{first_upto:08}")).exists());
    assert_eq!(checkpoint::list(dir).unwrap().len(), 1);

    wal.truncate_before(second_upto + 1).unwrap();
    let mut expected: Vec<Vec<u8>> = (0..120)
        .filter(|i: &usize| i.is_multiple_of(2))
        .map(|i| format!("REC-{i}").into_bytes())
        .collect();
    expected.extend((120..125).map(|i| format!("rec-{i}").into_bytes()));
    assert_eq!(replay(dir), expected);
}

#[test]
fn checkpoint_argument_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _) = Wal::open(dir, opts(1 << 20)).unwrap();
    wal.log(&[b"a"]).unwrap();
    wal.next_segment().unwrap();
    let err = checkpoint::create(dir, 5, |r| Some(r.to_vec())).unwrap_err();
    assert!(matches!(err, WalError::InvalidArgument { .. }), "{err}");
    checkpoint::create(dir, 0, |r| Some(r.to_vec())).unwrap();
    let err = checkpoint::create(dir, 0, |r| Some(r.to_vec())).unwrap_err();
    assert!(matches!(err, WalError::InvalidArgument { .. }), "{err}");
}

#[test]
fn leftover_tmp_directory_is_ignored_and_cleaned() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _) = Wal::open(dir, opts(1 << 20)).unwrap();
    for i in 0..10 {
        wal.log(&[&rec(i)]).unwrap();
    }
    wal.next_segment().unwrap();
    let stale = dir.join("checkpoint.00000000.tmp");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("00000000"), b"half-written").unwrap();
    assert_eq!(checkpoint::last(dir).unwrap(), None);
    let stats = checkpoint::create(dir, 0, |r| Some(r.to_vec())).unwrap();
    assert_eq!(stats.records_kept, 10);
    assert!(!stale.exists());
    assert_eq!(read_all(&stats.dir), (0..10).map(rec).collect::<Vec<_>>());
}

#[test]
fn checkpoint_with_nothing_kept_and_reopen_numbering() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _) = Wal::open(dir, opts(1 << 20)).unwrap();
    wal.log(&[b"gone"]).unwrap();
    for _ in 0..4 {
        wal.next_segment().unwrap();
    }
    let stats = checkpoint::create(dir, 3, |_| None).unwrap();
    assert_eq!((stats.records_read, stats.records_kept), (1, 0));
    assert!(read_all(&stats.dir).is_empty());
    wal.truncate_before(4).unwrap();
    drop(wal);
    // Remove every segment: a reopened WAL must still number after the
    // checkpoint so a replay ("segments > checkpoint") sees new data.
    for s in 4..=4 {
        std::fs::remove_file(watchfire_wal::segment_path(dir, s)).unwrap();
    }
    assert_eq!(segments(dir).unwrap(), None);
    let (mut wal, report) = Wal::open(dir, opts(1 << 20)).unwrap();
    assert!(report.is_clean());
    assert_eq!(wal.current_segment(), 4);
    wal.log(&[b"new"]).unwrap();
    drop(wal);
    assert_eq!(replay(dir), vec![b"new".to_vec()]);
}

#[test]
fn checkpoint_refuses_corrupt_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _) = Wal::open(dir, opts(1 << 20)).unwrap();
    wal.log(&[b"aaaa", b"bbbb"]).unwrap();
    wal.next_segment().unwrap();
    let seg0 = watchfire_wal::segment_path(dir, 0);
    let mut b = std::fs::read(&seg0).unwrap();
    let n = b.len();
    b[n - 1] ^= 1;
    std::fs::write(&seg0, &b).unwrap();
    let err = checkpoint::create(dir, 0, |r| Some(r.to_vec())).unwrap_err();
    assert!(err.is_corruption(), "{err}");
    assert_eq!(checkpoint::last(dir).unwrap(), None);
    assert!(!dir.join("checkpoint.00000000.tmp").exists());
}
