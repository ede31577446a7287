//! Damage detection and repair on open, and the explicit repair entry point.
#![allow(clippy::unwrap_used)]

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use crate::common::{opts, read_all, rec, segment_files, write_one_by_one};
use watchfire_wal::{
    Corruption, FRAME_HEADER_LEN, Position, RepairCause, SEGMENT_HEADER_LEN, Wal, WalError,
    WalReader, repair, segment_path, segments,
};

/// Writes `n` records one per `log` call into segments of `seg_size`,
/// returning the records and their start positions.
fn populate(dir: &Path, n: usize, seg_size: u64) -> (Vec<Vec<u8>>, Vec<Position>) {
    let (mut wal, _) = Wal::open(dir, opts(seg_size)).unwrap();
    let records: Vec<Vec<u8>> = (0..n).map(rec).collect();
    let pos = write_one_by_one(&mut wal, &records);
    wal.close().unwrap();
    (records, pos)
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

#[test]
fn torn_tail_is_cut_at_the_last_good_record() {
    let probe = tempfile::tempdir().unwrap();
    let (records, pos) = populate(probe.path(), 200, 1024);
    let last = *pos.last().unwrap();
    let last_len = FRAME_HEADER_LEN + records.last().unwrap().len() as u64;
    assert!(last.segment > 2 && last.offset > SEGMENT_HEADER_LEN);

    for cut in 1..=last_len {
        let tmp = tempfile::tempdir().unwrap();
        populate(tmp.path(), 200, 1024);
        let seg = segment_path(tmp.path(), last.segment);
        let len = file_len(&seg);
        assert_eq!(len, last.offset + last_len);
        OpenOptions::new()
            .write(true)
            .open(&seg)
            .unwrap()
            .set_len(len - cut)
            .unwrap();

        let (mut wal, report) = Wal::open(tmp.path(), opts(1024)).unwrap();
        if cut == last_len {
            // Cut exactly at a record boundary: nothing torn.
            assert!(report.is_clean(), "cut {cut}: {report:?}");
        } else {
            let r = report.repair.as_ref().unwrap();
            assert_eq!(r.segment, last.segment, "cut {cut}");
            assert_eq!(r.offset, last.offset, "cut {cut}");
            assert_eq!(r.bytes_dropped, last_len - cut, "cut {cut}");
            assert!(r.deleted_segments.is_empty());
            assert!(
                matches!(r.cause, RepairCause::Corrupt(Corruption::TornRecord { .. })),
                "cut {cut}: {:?}",
                r.cause
            );
        }
        assert_eq!(report.records_scanned, 199, "cut {cut}");
        assert_eq!(file_len(&seg), last.offset);
        assert_eq!(wal.current_segment(), last.segment + 1);
        wal.log(&[b"after-repair"]).unwrap();
        wal.close().unwrap();

        let mut expected = records[..199].to_vec();
        expected.push(b"after-repair".to_vec());
        assert_eq!(read_all(tmp.path()), expected, "cut {cut}");
        let (_, again) = Wal::open(tmp.path(), opts(1024)).unwrap();
        assert!(again.is_clean(), "cut {cut}");
    }
}

#[test]
fn flipped_byte_in_a_middle_segment_drops_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, pos) = populate(tmp.path(), 300, 1024);
    let last_seg = pos.last().unwrap().segment;
    assert!(last_seg >= 5);
    // Third record of segment 2.
    let idx = pos.iter().position(|p| p.segment == 2).unwrap() + 2;
    assert_eq!(pos[idx].segment, 2);
    let target = pos[idx];
    let path = segment_path(tmp.path(), 2);
    let mut bytes = std::fs::read(&path).unwrap();
    let original_len = bytes.len() as u64;
    bytes[(target.offset + FRAME_HEADER_LEN + 3) as usize] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();

    // A plain replay names the segment and offset.
    let err = WalReader::open_dir(tmp.path())
        .unwrap()
        .find_map(Result::err)
        .unwrap();
    assert_eq!(err.corrupt_position(), Some((2, target.offset)));
    let msg = err.to_string();
    assert!(
        msg.contains("00000002") && msg.contains(&target.offset.to_string()),
        "{msg}"
    );

    let later_records = pos.iter().filter(|p| p.segment > 2).count() as u64;
    let later_bytes: u64 = (3..=last_seg)
        .map(|s| file_len(&segment_path(tmp.path(), s)))
        .sum();
    let (wal, report) = Wal::open(tmp.path(), opts(1024)).unwrap();
    let r = report.repair.as_ref().unwrap();
    assert_eq!(r.segment, 2);
    assert_eq!(r.offset, target.offset);
    assert!(matches!(
        r.cause,
        RepairCause::Corrupt(Corruption::ChecksumMismatch { .. })
    ));
    assert_eq!(r.deleted_segments, (3..=last_seg).collect::<Vec<_>>());
    assert_eq!(r.records_dropped, later_records);
    assert_eq!(r.bytes_dropped, later_bytes + original_len - target.offset);
    assert_eq!(report.records_scanned, idx as u64);
    assert_eq!(segments(tmp.path()).unwrap(), Some((0, 3)));
    assert_eq!(wal.current_segment(), 3);
    drop(wal);
    assert_eq!(read_all(tmp.path()), records[..idx].to_vec());
}

#[test]
fn zero_filled_tail_is_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, pos) = populate(tmp.path(), 50, 1 << 20);
    let seg = segment_path(tmp.path(), 0);
    let good_len = file_len(&seg);
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[0u8; 4096]).unwrap();
    drop(f);
    // A preallocated, all-zero next segment as well.
    std::fs::write(segment_path(tmp.path(), 1), vec![0u8; 8192]).unwrap();
    assert_eq!(pos.last().unwrap().segment, 0);

    let (wal, report) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
    let r = report.repair.as_ref().unwrap();
    assert_eq!((r.segment, r.offset), (0, good_len));
    assert_eq!(r.deleted_segments, vec![1]);
    assert_eq!(r.bytes_dropped, 4096 + 8192);
    assert_eq!(r.records_dropped, 0);
    assert_eq!(report.records_scanned, 50);
    assert_eq!(wal.current_segment(), 1);
    drop(wal);
    assert_eq!(read_all(tmp.path()), records);
}

#[test]
fn zero_filled_last_segment_is_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, _) = populate(tmp.path(), 10, 1 << 20);
    std::fs::write(segment_path(tmp.path(), 1), vec![0u8; 100]).unwrap();
    let (wal, report) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
    let r = report.repair.unwrap();
    assert_eq!((r.segment, r.offset, r.bytes_dropped), (1, 0, 100));
    assert_eq!(r.deleted_segments, vec![1]);
    assert!(matches!(
        r.cause,
        RepairCause::Corrupt(Corruption::BadHeader { .. })
    ));
    // The new segment takes the deleted one's number.
    assert_eq!(wal.current_segment(), 1);
    assert_eq!(file_len(&segment_path(tmp.path(), 1)), SEGMENT_HEADER_LEN);
    drop(wal);
    assert_eq!(read_all(tmp.path()), records);
}

#[test]
fn empty_and_short_segment_files_are_repaired() {
    for len in [0usize, 3, 7] {
        let tmp = tempfile::tempdir().unwrap();
        let (records, _) = populate(tmp.path(), 5, 1 << 20);
        let header = std::fs::read(segment_path(tmp.path(), 0)).unwrap();
        std::fs::write(segment_path(tmp.path(), 1), &header[..len]).unwrap();
        let (wal, report) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
        let r = report.repair.unwrap();
        assert_eq!((r.segment, r.offset), (1, 0), "len {len}");
        assert!(matches!(
            r.cause,
            RepairCause::Corrupt(Corruption::ShortHeader { .. })
        ));
        drop(wal);
        assert_eq!(read_all(tmp.path()), records);
        let (_, again) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
        assert!(again.is_clean());
    }
}

#[test]
fn huge_garbage_length_is_a_torn_record() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, _) = populate(tmp.path(), 5, 1 << 20);
    let seg = segment_path(tmp.path(), 0);
    let good = file_len(&seg);
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 5, 6])
        .unwrap();
    drop(f);
    let err = WalReader::open_dir(tmp.path())
        .unwrap()
        .find_map(Result::err)
        .unwrap();
    assert!(
        matches!(err, WalError::Corrupt { segment: 0, offset, kind: Corruption::TornRecord { .. }, .. } if offset == good),
        "{err}"
    );
    let (_, report) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
    assert_eq!(report.repair.unwrap().offset, good);
    assert_eq!(read_all(tmp.path()), records);
}

#[test]
fn gap_in_segment_numbers_drops_segments_after_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, pos) = populate(tmp.path(), 200, 512);
    let last_seg = pos.last().unwrap().segment;
    assert!(last_seg >= 4);
    std::fs::remove_file(segment_path(tmp.path(), 2)).unwrap();
    let (wal, report) = Wal::open(tmp.path(), opts(512)).unwrap();
    let r = report.repair.unwrap();
    assert_eq!(r.segment, 1);
    assert_eq!(r.cause, RepairCause::MissingSegment(2));
    assert_eq!(r.deleted_segments, (3..=last_seg).collect::<Vec<_>>());
    assert_eq!(wal.current_segment(), 2);
    drop(wal);
    let kept = pos.iter().filter(|p| p.segment < 2).count();
    assert_eq!(read_all(tmp.path()), records[..kept].to_vec());
}

#[test]
fn scanning_only_the_last_segment_then_explicit_repair() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, pos) = populate(tmp.path(), 200, 1024);
    let idx = pos.iter().position(|p| p.segment == 1).unwrap() + 1;
    let target = pos[idx];
    let path = segment_path(tmp.path(), 1);
    let mut bytes = std::fs::read(&path).unwrap();
    // Corrupt the stored checksum.
    bytes[(target.offset + 5) as usize] ^= 1;
    std::fs::write(&path, &bytes).unwrap();

    let options = opts(1024).with_scan_all_segments(false);
    let (wal, report) = Wal::open(tmp.path(), options.clone()).unwrap();
    assert!(report.is_clean());
    assert_eq!(report.segments_scanned, 1);
    drop(wal);

    let err = WalReader::open_dir(tmp.path())
        .unwrap()
        .find_map(Result::err)
        .unwrap();
    let (seg, off) = err.corrupt_position().unwrap();
    assert_eq!((seg, off), (1, target.offset));
    let report = repair(tmp.path(), seg, off).unwrap();
    let r = report.repair.unwrap();
    assert_eq!((r.segment, r.offset), (1, target.offset));
    assert_eq!(report.records_scanned, 1);
    assert_eq!(read_all(tmp.path()), records[..idx].to_vec());
    let (_, again) = Wal::open(tmp.path(), options).unwrap();
    assert!(again.is_clean());
}

#[test]
fn explicit_repair_rounds_down_to_a_record_boundary() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, pos) = populate(tmp.path(), 20, 1 << 20);
    // An offset inside record 10 keeps records 0..10.
    let report = repair(tmp.path(), 0, pos[10].offset + 3).unwrap();
    let r = report.repair.unwrap();
    assert_eq!(r.offset, pos[10].offset);
    assert_eq!(r.records_dropped, 10);
    assert_eq!(read_all(tmp.path()), records[..10].to_vec());
    let err = repair(tmp.path(), 7, 0).unwrap_err();
    assert!(matches!(err, WalError::MissingSegment { segment: 7, .. }));
}

#[test]
fn damage_in_many_places_keeps_the_prefix_before_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, pos) = populate(tmp.path(), 300, 700);
    let files = segment_files(tmp.path());
    // Damage the header of segment 4 and a record of segment 6.
    let mut b = std::fs::read(&files[4]).unwrap();
    b[1] = b'X';
    std::fs::write(&files[4], &b).unwrap();
    let mut b = std::fs::read(&files[6]).unwrap();
    let n = b.len();
    b[n - 2] ^= 0xff;
    std::fs::write(&files[6], &b).unwrap();
    let (_, report) = Wal::open(tmp.path(), opts(700)).unwrap();
    let r = report.repair.unwrap();
    assert_eq!((r.segment, r.offset), (4, 0));
    let kept = pos.iter().filter(|p| p.segment < 4).count();
    assert_eq!(read_all(tmp.path()), records[..kept].to_vec());
}

#[test]
fn middle_segment_cut_at_a_record_boundary_is_detected() {
    for scan_all in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let (records, pos) = populate(tmp.path(), 200, 1024);
        assert!(pos.last().unwrap().segment >= 4);
        // Drop the last two records of segment 2 cleanly, as a copy of a
        // live directory taken at the wrong moment would.
        let in_two: Vec<usize> = (0..pos.len()).filter(|&i| pos[i].segment == 2).collect();
        let cut_idx = in_two[in_two.len() - 2];
        let cut = pos[cut_idx].offset;
        let path = segment_path(tmp.path(), 2);
        let full = file_len(&path);
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(cut)
            .unwrap();

        // A replay notices without any repair.
        let err = WalReader::open_dir(tmp.path())
            .unwrap()
            .find_map(Result::err)
            .unwrap();
        assert!(
            matches!(
                err,
                WalError::Corrupt { segment: 2, kind: Corruption::LengthMismatch { expected, found }, .. }
                    if expected == full && found == cut
            ),
            "{err}"
        );

        let options = opts(1024).with_scan_all_segments(scan_all);
        let (wal, report) = Wal::open(tmp.path(), options).unwrap();
        let r = report.repair.unwrap();
        assert_eq!((r.segment, r.offset), (2, cut), "scan_all {scan_all}");
        assert!(matches!(
            r.cause,
            RepairCause::Corrupt(Corruption::LengthMismatch { .. })
        ));
        assert_eq!(wal.current_segment(), 3);
        drop(wal);
        assert_eq!(read_all(tmp.path()), records[..cut_idx].to_vec());
    }
}

#[test]
fn extra_valid_data_after_a_completed_segment_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, pos) = populate(tmp.path(), 100, 512);
    // Append a well-formed record to segment 0 after segment 1 exists.
    let seg0 = segment_path(tmp.path(), 0);
    let original = file_len(&seg0);
    let s0 = std::fs::read(&seg0).unwrap();
    let first_record = &s0[SEGMENT_HEADER_LEN as usize..pos[1].offset as usize];
    let mut f = OpenOptions::new().append(true).open(&seg0).unwrap();
    f.write_all(first_record).unwrap();
    drop(f);
    let (_, report) = Wal::open(tmp.path(), opts(512)).unwrap();
    let r = report.repair.unwrap();
    assert_eq!((r.segment, r.offset), (0, original));
    let kept = pos.iter().filter(|p| p.segment == 0).count();
    assert_eq!(read_all(tmp.path()), records[..kept].to_vec());
}

#[test]
fn reader_follows_a_segment_that_grew_after_it_was_reached() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(tmp.path(), opts(1 << 20)).unwrap();
    wal.log(&[b"one"]).unwrap();
    let mut reader = WalReader::new(tmp.path(), 0, 1);
    let mut buf = Vec::new();
    assert!(reader.next_record(&mut buf).unwrap());
    // More data and a rotation after the reader sized segment 0.
    wal.log(&[b"two"]).unwrap();
    wal.next_segment().unwrap();
    wal.log(&[b"three"]).unwrap();
    let mut rest = Vec::new();
    while reader.next_record(&mut buf).unwrap() {
        rest.push(buf.clone());
    }
    assert_eq!(rest, vec![b"two".to_vec(), b"three".to_vec()]);
}
