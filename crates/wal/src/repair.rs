//! Verification and repair of a WAL directory.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io;
use std::path::Path;

use crate::format::{SEGMENT_HEADER_LEN, list_segments, read_header, segment_path, sync_dir};
use crate::reader::SegmentReader;
use crate::{Corruption, Result, WalError};

/// Why a repair happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RepairCause {
    /// Bad data found while scanning.
    Corrupt(Corruption),
    /// The segment after the repaired one is missing while later ones exist.
    MissingSegment(u32),
    /// [`repair`] was called for this offset.
    Requested {
        /// The offset passed to [`repair`].
        offset: u64,
    },
}

impl fmt::Display for RepairCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepairCause::Corrupt(c) => write!(f, "{c}"),
            RepairCause::MissingSegment(n) => write!(f, "segment {n:08} is missing"),
            RepairCause::Requested { offset } => write!(f, "repair requested at offset {offset}"),
        }
    }
}

/// What a repair did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// The damaged segment. It was truncated and is now the last one, or,
    /// when the damage was in its header, deleted.
    pub segment: u32,
    /// The length it was truncated to: the end of its last good record, or
    /// 0 when its header was bad (it was then deleted).
    pub offset: u64,
    /// Why.
    pub cause: RepairCause,
    /// Bytes removed: the truncated tail plus the deleted segments.
    pub bytes_dropped: u64,
    /// Intact records removed. Records inside a corrupt tail cannot be
    /// counted, so after corruption this is a lower bound (it counts the
    /// records of deleted later segments).
    pub records_dropped: u64,
    /// Segments deleted: those after the damage, plus the damaged one
    /// itself if its header was bad. Ascending.
    pub deleted_segments: Vec<u32>,
}

/// The outcome of checking a WAL directory on open (or of [`repair`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairReport {
    /// Segments scanned.
    pub segments_scanned: u32,
    /// Good records found in the scanned segments (and kept).
    pub records_scanned: u64,
    /// The repair performed, if any damage was found.
    pub repair: Option<Repair>,
}

impl RepairReport {
    /// True when nothing had to be repaired.
    pub fn is_clean(&self) -> bool {
        self.repair.is_none()
    }
}

/// Result of scanning one segment.
struct Scan {
    /// Good records ending at or before the limit.
    records: u64,
    /// Good records ending after the limit.
    records_after_limit: u64,
    /// End of the last good record ending at or before the limit; 0 for a
    /// bad header.
    valid_end: u64,
    /// First damage found, if any.
    corruption: Option<Corruption>,
}

/// Scans a segment, counting records, up to the first corruption. Only I/O
/// errors are errors.
fn scan_segment(dir: &Path, n: u32, limit: u64) -> Result<Scan> {
    let mut scan = Scan {
        records: 0,
        records_after_limit: 0,
        valid_end: 0,
        corruption: None,
    };
    let mut r = match SegmentReader::open(segment_path(dir, n), n) {
        Ok(r) => r,
        Err(WalError::Corrupt { kind, .. }) => {
            scan.corruption = Some(kind);
            return Ok(scan);
        }
        Err(e) => return Err(e),
    };
    if limit >= SEGMENT_HEADER_LEN {
        scan.valid_end = SEGMENT_HEADER_LEN;
    }
    let mut buf = Vec::new();
    loop {
        match r.next_into(&mut buf) {
            Ok(true) if r.offset() <= limit => {
                scan.records += 1;
                scan.valid_end = r.offset();
            }
            Ok(true) => scan.records_after_limit += 1,
            Ok(false) => break,
            Err(WalError::Corrupt { kind, .. }) => {
                scan.corruption = Some(kind);
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(scan)
}

/// Checks the segments of `dir` and repairs the first damage found.
/// Returns the report and the number the next new segment should get
/// (`None` when there were no segments).
///
/// Besides scanning records, each segment's length is checked against the
/// length the next segment's header recorded when it was created; that
/// check is cheap (a stat and a header read), so it covers every segment
/// even when only the last one is scanned.
pub(crate) fn check_dir(dir: &Path, scan_all: bool) -> Result<(RepairReport, Option<u32>)> {
    let segs = list_segments(dir)?;
    let mut report = RepairReport::default();
    let Some(&last) = segs.last() else {
        return Ok((report, None));
    };
    // Segments up to the first gap in the numbering.
    let contiguous = segs
        .windows(2)
        .position(|w| w[1] != w[0].wrapping_add(1))
        .map_or(segs.len(), |i| i + 1);
    let kept = &segs[..contiguous];
    let mut last_end = 0;
    for (i, &n) in kept.iter().enumerate() {
        // The final length the next segment says this one has (0: unknown;
        // a bad next header is dealt with when that segment is checked).
        let claimed = match kept.get(i + 1) {
            Some(&next) => read_header(dir, next)?.filter(|&c| c != 0),
            None => None,
        };
        let mismatch = match claimed {
            Some(c) => segment_len(dir, n)? != c,
            None => false,
        };
        if !(scan_all || mismatch || i + 1 == kept.len()) {
            continue;
        }
        let scan = scan_segment(dir, n, claimed.unwrap_or(u64::MAX))?;
        report.segments_scanned += 1;
        report.records_scanned += scan.records;
        let cause = match (scan.corruption, claimed) {
            (Some(kind), _) => Some(RepairCause::Corrupt(kind)),
            (None, Some(c)) if c != scan.valid_end || scan.records_after_limit > 0 => {
                Some(RepairCause::Corrupt(Corruption::LengthMismatch {
                    expected: c,
                    found: segment_len(dir, n)?,
                }))
            }
            _ => None,
        };
        if let Some(cause) = cause {
            let rep = repair_at(
                dir,
                &segs,
                n,
                scan.valid_end,
                scan.records_after_limit,
                cause,
            )?;
            let next = if rep.offset == 0 {
                n
            } else {
                n.saturating_add(1)
            };
            report.repair = Some(rep);
            return Ok((report, Some(next)));
        }
        last_end = scan.valid_end;
    }
    let n = kept.last().copied().unwrap_or(last);
    if contiguous < segs.len() {
        let missing = n.wrapping_add(1);
        let rep = repair_at(
            dir,
            &segs,
            n,
            last_end,
            0,
            RepairCause::MissingSegment(missing),
        )?;
        report.repair = Some(rep);
        return Ok((report, Some(missing)));
    }
    Ok((report, Some(last.saturating_add(1))))
}

fn segment_len(dir: &Path, n: u32) -> Result<u64> {
    let path = segment_path(dir, n);
    fs::metadata(&path)
        .map(|m| m.len())
        .map_err(|e| WalError::io("stat", path, e))
}

/// Truncates segment `segment` of `dir` at the last record boundary at or
/// before `offset` and deletes all later segments, as [`crate::Wal::open`]
/// does when it finds damage. Use it when a replay with
/// [`crate::WalReader`] hits a [`WalError::Corrupt`] (see
/// [`WalError::corrupt_position`]), e.g. with
/// [`crate::WalOptions::scan_all_segments`] off.
///
/// No [`crate::Wal`] may be open on `dir` while this runs: the segment it is
/// appending to would be deleted.
pub fn repair(dir: impl AsRef<Path>, segment: u32, offset: u64) -> Result<RepairReport> {
    let dir = dir.as_ref();
    let segs = list_segments(dir)?;
    if !segs.contains(&segment) {
        return Err(WalError::MissingSegment {
            dir: dir.to_path_buf(),
            segment,
        });
    }
    let scan = scan_segment(dir, segment, offset)?;
    let rep = repair_at(
        dir,
        &segs,
        segment,
        scan.valid_end,
        scan.records_after_limit,
        RepairCause::Requested { offset },
    )?;
    Ok(RepairReport {
        segments_scanned: 1,
        records_scanned: scan.records,
        repair: Some(rep),
    })
}

/// Deletes the segments after `segment` (highest first), then truncates
/// `segment` to `offset` (resetting it to a bare header when `offset` is
/// inside the header), fsyncing as it goes, and logs a warning.
fn repair_at(
    dir: &Path,
    segs: &[u32],
    segment: u32,
    offset: u64,
    tail_records: u64,
    cause: RepairCause,
) -> Result<Repair> {
    let mut rep = Repair {
        segment,
        offset,
        cause,
        bytes_dropped: 0,
        records_dropped: tail_records,
        deleted_segments: Vec::new(),
    };
    for &s in segs.iter().rev().filter(|&&s| s > segment) {
        let path = segment_path(dir, s);
        let len = match fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(WalError::io("stat", path, e)),
        };
        // Best effort: a later segment may itself be damaged.
        if let Ok(scan) = scan_segment(dir, s, u64::MAX) {
            rep.records_dropped += scan.records;
        }
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(WalError::io("remove", path, e)),
        }
        rep.bytes_dropped += len;
        rep.deleted_segments.push(s);
    }
    rep.deleted_segments.reverse();
    if !rep.deleted_segments.is_empty() {
        sync_dir(dir)?;
    }

    let path = segment_path(dir, segment);
    let len = segment_len(dir, segment)?;
    if offset < SEGMENT_HEADER_LEN {
        // Nothing usable: remove the segment itself.
        rep.offset = 0;
        rep.bytes_dropped += len;
        fs::remove_file(&path).map_err(|e| WalError::io("remove", &path, e))?;
        rep.deleted_segments.insert(0, segment);
        sync_dir(dir)?;
    } else if offset < len {
        rep.bytes_dropped += len - offset;
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| WalError::io("open", &path, e))?;
        file.set_len(offset)
            .map_err(|e| WalError::io("truncate", &path, e))?;
        file.sync_all()
            .map_err(|e| WalError::io("fsync", &path, e))?;
    }

    tracing::warn!(
        dir = %dir.display(),
        segment = %format_args!("{segment:08}"),
        offset = rep.offset,
        bytes_dropped = rep.bytes_dropped,
        records_dropped = rep.records_dropped,
        deleted_segments = ?rep.deleted_segments,
        cause = %rep.cause,
        "WAL damaged in segment {segment:08} at byte {}: kept {} bytes of it, deleted {} \
         segment(s), dropping {} bytes and at least {} records",
        rep.offset,
        rep.offset,
        rep.deleted_segments.len(),
        rep.bytes_dropped,
        rep.records_dropped,
    );
    Ok(rep)
}
