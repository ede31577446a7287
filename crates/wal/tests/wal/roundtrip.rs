//! Writing, reading, rotation, syncing and segment management.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::common::{opts, read_all, rec, segment_files};
use watchfire_wal::{
    FRAME_HEADER_LEN, Position, SEGMENT_HEADER_LEN, SyncPolicy, Wal, WalError, WalReader,
    segment_name, segments,
};

#[test]
fn round_trip_many_records_across_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut wal, report) = Wal::open(tmp.path(), opts(4096)).unwrap();
    assert!(report.is_clean());
    assert_eq!(wal.current_segment(), 0);
    let records: Vec<Vec<u8>> = (0..5000).map(rec).collect();
    for batch in records.chunks(10) {
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        wal.log(&refs).unwrap();
    }
    let stats = wal.stats();
    assert_eq!(stats.records, 5000);
    let framed: u64 = records
        .iter()
        .map(|r| FRAME_HEADER_LEN + r.len() as u64)
        .sum();
    assert_eq!(stats.bytes, framed);
    let last = wal.current_segment();
    assert!(last >= 10, "expected many segments, got {}", last + 1);
    assert_eq!(stats.segments_created, u64::from(last) + 1);
    wal.close().unwrap();

    assert_eq!(segments(tmp.path()).unwrap(), Some((0, last)));
    for f in segment_files(tmp.path()) {
        assert!(
            std::fs::metadata(&f).unwrap().len() <= 4096,
            "{f:?} too big"
        );
    }
    assert_eq!(read_all(tmp.path()), records);

    // A sub-range reads exactly the records of those segments, in order.
    let tail: Vec<Vec<u8>> = WalReader::new(tmp.path(), 3, last)
        .collect::<Result<_, _>>()
        .unwrap();
    let head: Vec<Vec<u8>> = WalReader::new(tmp.path(), 0, 2)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!([head, tail].concat(), records);
}

#[test]
fn reopen_resumes_in_a_new_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
    wal.log(&[b"a", b"b"]).unwrap();
    drop(wal);
    let (mut wal, report) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
    assert!(report.is_clean());
    assert_eq!(report.segments_scanned, 1);
    assert_eq!(report.records_scanned, 2);
    assert_eq!(wal.current_segment(), 1);
    wal.log(&[b"c"]).unwrap();
    wal.close().unwrap();
    assert_eq!(
        read_all(tmp.path()),
        vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
    );
}

#[test]
fn record_larger_than_a_segment_goes_alone_into_a_fresh_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(tmp.path(), opts(256)).unwrap();
    let big = vec![7u8; 1000];
    wal.log(&[b"small-1", &big, b"small-2"]).unwrap();
    wal.close().unwrap();
    let per_segment: Vec<Vec<Vec<u8>>> = (0..3)
        .map(|s| {
            WalReader::new(tmp.path(), s, s)
                .collect::<Result<_, _>>()
                .unwrap()
        })
        .collect();
    assert_eq!(per_segment[0], vec![b"small-1".to_vec()]);
    assert_eq!(per_segment[1], vec![big.clone()]);
    assert_eq!(per_segment[2], vec![b"small-2".to_vec()]);
    assert_eq!(segments(tmp.path()).unwrap(), Some((0, 2)));
}

#[test]
fn empty_records_and_empty_batches() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(tmp.path(), opts(64)).unwrap();
    wal.log(&[]).unwrap();
    assert_eq!(wal.stats().records, 0);
    wal.log(&[b"", b"x", b""]).unwrap();
    wal.close().unwrap();
    assert_eq!(read_all(tmp.path()), vec![vec![], b"x".to_vec(), vec![]]);
    let (_, report) = Wal::open(tmp.path(), opts(64)).unwrap();
    assert!(report.is_clean());
}

#[test]
fn segment_files_are_named_with_eight_digits() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(tmp.path(), opts(64)).unwrap();
    for _ in 0..3 {
        wal.next_segment().unwrap();
    }
    assert_eq!(segment_name(3), "00000003");
    assert!(tmp.path().join("00000003").is_file());
    let head = std::fs::read(tmp.path().join("00000000")).unwrap();
    assert_eq!(&head[..4], b"WFWL");
    assert_eq!(head.len() as u64, SEGMENT_HEADER_LEN);
}

#[test]
fn sync_policy_always_syncs_every_log() {
    let tmp = tempfile::tempdir().unwrap();
    let options = opts(1 << 20).with_sync(SyncPolicy::Always);
    let (mut wal, _) = Wal::open(tmp.path(), options).unwrap();
    let base = wal.stats().fsyncs;
    for i in 0..5 {
        wal.log(&[&rec(i)]).unwrap();
        assert_eq!(wal.last_synced(), wal.position());
    }
    assert_eq!(wal.stats().fsyncs, base + 5);
}

#[test]
fn sync_policy_manual_and_explicit_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
    let start = wal.position();
    assert_eq!(
        start,
        Position {
            segment: 0,
            offset: SEGMENT_HEADER_LEN
        }
    );
    assert_eq!(wal.last_synced(), start);
    let base = wal.stats().fsyncs;
    wal.log(&[b"hello"]).unwrap();
    assert_eq!(wal.last_synced(), start);
    assert!(!wal.sync_if_due().unwrap());
    wal.sync().unwrap();
    assert_eq!(wal.last_synced(), wal.position());
    assert_eq!(wal.stats().fsyncs, base + 1);
    // Nothing new: no fsync.
    wal.sync().unwrap();
    assert_eq!(wal.stats().fsyncs, base + 1);
}

#[test]
fn sync_policy_interval() {
    let tmp = tempfile::tempdir().unwrap();
    let long = opts(1 << 20).with_sync(SyncPolicy::Interval(Duration::from_secs(3600)));
    let (mut wal, _) = Wal::open(tmp.path().join("long"), long).unwrap();
    let base = wal.stats().fsyncs;
    for i in 0..10 {
        wal.log(&[&rec(i)]).unwrap();
    }
    assert_eq!(wal.stats().fsyncs, base);
    assert_ne!(wal.last_synced(), wal.position());

    let zero = opts(1 << 20).with_sync(SyncPolicy::Interval(Duration::ZERO));
    let (mut wal, _) = Wal::open(tmp.path().join("zero"), zero).unwrap();
    let base = wal.stats().fsyncs;
    for i in 0..10 {
        wal.log(&[&rec(i)]).unwrap();
    }
    assert_eq!(wal.stats().fsyncs, base + 10);
    assert_eq!(wal.last_synced(), wal.position());
}

#[test]
fn rotation_syncs_the_finished_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
    wal.log(&[b"one"]).unwrap();
    let n = wal.next_segment().unwrap();
    assert_eq!(n, 1);
    assert_eq!(wal.current_segment(), 1);
    assert_eq!(
        wal.last_synced(),
        Position {
            segment: 1,
            offset: SEGMENT_HEADER_LEN
        }
    );
    // Rotation inside log also syncs: fill segments of 64 bytes.
    let (mut wal, _) = Wal::open(tmp.path().join("x"), opts(64)).unwrap();
    let before = wal.stats().fsyncs;
    wal.log(&[&[1u8; 40], &[2u8; 40], &[3u8; 40]]).unwrap();
    assert_eq!(wal.current_segment(), 2);
    // Two rotations: each syncs the old segment, the new file and the dir.
    assert_eq!(wal.stats().fsyncs, before + 6);
    assert_eq!(wal.last_synced().segment, 2);
}

#[test]
fn truncate_before_deletes_older_segments_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
    for i in 0..5 {
        wal.log(&[&rec(i)]).unwrap();
        wal.next_segment().unwrap();
    }
    assert_eq!(segments(tmp.path()).unwrap(), Some((0, 5)));
    assert_eq!(wal.truncate_before(3).unwrap(), 3);
    assert_eq!(segments(tmp.path()).unwrap(), Some((3, 5)));
    assert_eq!(wal.truncate_before(3).unwrap(), 0);
    let err = wal.truncate_before(6).unwrap_err();
    assert!(matches!(err, WalError::InvalidArgument { .. }), "{err}");
    assert_eq!(wal.truncate_before(5).unwrap(), 2);
    assert_eq!(segments(tmp.path()).unwrap(), Some((5, 5)));
    wal.log(&[b"after"]).unwrap();
    drop(wal);
    let (wal, report) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
    assert!(report.is_clean());
    assert_eq!(wal.current_segment(), 6);
    assert_eq!(read_all(tmp.path()), vec![b"after".to_vec()]);
}

#[test]
fn reader_reports_missing_segment_and_tracks_position() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
    wal.log(&[b"abc"]).unwrap();
    wal.close().unwrap();
    let mut r = WalReader::new(tmp.path(), 0, 2);
    let mut buf = Vec::new();
    assert!(r.next_record(&mut buf).unwrap());
    assert_eq!(buf, b"abc");
    assert_eq!(
        r.position(),
        Position {
            segment: 0,
            offset: SEGMENT_HEADER_LEN + FRAME_HEADER_LEN + 3
        }
    );
    let err = r.next_record(&mut buf).unwrap_err();
    assert!(
        matches!(err, WalError::MissingSegment { segment: 1, .. }),
        "{err}"
    );
    // Finished after an error.
    assert!(!r.next_record(&mut buf).unwrap());

    // Empty ranges and directories read nothing.
    assert_eq!(WalReader::new(tmp.path(), 5, 4).count(), 0);
    assert_eq!(
        WalReader::open_dir(tmp.path().join("nope"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn open_creates_nested_directories_and_ignores_foreign_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b/wal");
    let (mut wal, _) = Wal::open(&dir, opts(1 << 20)).unwrap();
    wal.log(&[b"x"]).unwrap();
    drop(wal);
    std::fs::write(dir.join("README"), b"not a segment").unwrap();
    std::fs::write(dir.join("0001"), b"short name, not a segment").unwrap();
    std::fs::create_dir(dir.join("00000099")).unwrap();
    let (wal, report) = Wal::open(&dir, opts(1 << 20)).unwrap();
    assert!(report.is_clean());
    assert_eq!(wal.current_segment(), 1);
}

#[test]
fn opening_a_file_as_directory_is_an_io_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("f");
    std::fs::write(&file, b"x").unwrap();
    let err = Wal::open(&file, opts(1 << 20)).unwrap_err();
    assert!(matches!(err, WalError::Io { .. }), "{err}");
}

#[test]
fn wal_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Wal>();
    assert_send::<WalReader>();
    assert_send::<WalError>();
}
