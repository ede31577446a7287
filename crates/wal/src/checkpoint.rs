//! Checkpoints: condensed copies of the WAL's older segments.
//!
//! A checkpoint `checkpoint.NNNNNNNN` inside a WAL directory holds the
//! records of everything up to and including segment `NNNNNNNN` that the
//! caller chose to keep (for the TSDB: definitions of series still in the
//! head, samples newer than the head's minimum time). It is itself a WAL
//! directory whose segments start at `00000000`; read it with
//! [`crate::WalReader::open_dir`].
//!
//! Replay order is: [`last`] checkpoint `N`, then WAL segments `> N`.
//! A typical truncation is:
//!
//! ```no_run
//! # fn main() -> watchfire_wal::Result<()> {
//! use watchfire_wal::{Wal, WalOptions, checkpoint};
//! let (mut wal, _report) = Wal::open("data/wal", WalOptions::default())?;
//! let active = wal.next_segment()?;           // segments < active are complete
//! let upto = active - 1;                        // checkpoint some or all of them
//! checkpoint::create(wal.dir(), upto, |rec| Some(rec.to_vec()))?;
//! wal.truncate_before(upto + 1)?;               // now redundant
//! # Ok(()) }
//! ```
//!
//! Creation writes into `checkpoint.NNNNNNNN.tmp`, fsyncs it and renames it
//! into place, so a crash leaves either the old or the new checkpoint
//! complete. Leftover `.tmp` directories are removed by the next `create`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::format::{list_segments, parse_number, sync_dir};
use crate::{Result, SyncPolicy, Wal, WalError, WalOptions, WalReader};

const PREFIX: &str = "checkpoint.";
const TMP_SUFFIX: &str = ".tmp";
/// Kept records are written in batches of about this many bytes.
const BATCH_BYTES: usize = 1024 * 1024;

/// What [`create`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointStats {
    /// The new checkpoint directory.
    pub dir: PathBuf,
    /// Its number (the last segment it covers).
    pub number: u32,
    /// The previous checkpoint that was folded in, if any.
    pub previous: Option<u32>,
    /// The WAL segments read, `(first, last)`; `None` if there were none.
    pub segments: Option<(u32, u32)>,
    /// Records read from the previous checkpoint and the segments.
    pub records_read: u64,
    /// Records written to the new checkpoint.
    pub records_kept: u64,
    /// Records dropped by the filter.
    pub records_dropped: u64,
    /// Payload bytes written to the new checkpoint.
    pub bytes_kept: u64,
    /// Older checkpoints deleted afterwards.
    pub deleted_checkpoints: Vec<u32>,
}

/// Name of checkpoint `n`: `checkpoint.` followed by eight digits.
pub fn checkpoint_name(n: u32) -> String {
    format!("{PREFIX}{n:08}")
}

fn parse_checkpoint(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX).and_then(parse_number)
}

/// All complete checkpoints in `wal_dir`, ascending by number.
pub fn list(wal_dir: impl AsRef<Path>) -> Result<Vec<(PathBuf, u32)>> {
    crate::format::numbered_entries(wal_dir.as_ref(), parse_checkpoint, true)
}

/// The newest complete checkpoint in `wal_dir`: its path and number.
///
/// Returns `Ok(None)` when there is none. (This returns a `Result` rather
/// than a bare `Option` so that an unreadable directory is not mistaken for
/// "no checkpoint", which would make a replay silently skip data.)
pub fn last(wal_dir: impl AsRef<Path>) -> Result<Option<(PathBuf, u32)>> {
    Ok(list(wal_dir)?.pop())
}

/// Creates checkpoint `upto` from the previous checkpoint (if any) and the
/// WAL segments after it up to and including `upto`.
///
/// Every record is passed to `keep`; `None` drops it, `Some(bytes)` writes
/// `bytes` (possibly rewritten) to the checkpoint, in the original order.
/// Afterwards older checkpoints are deleted; WAL segments are not (call
/// [`Wal::truncate_before`] with `upto + 1`).
///
/// Segments must be complete: `upto` must be below the segment a [`Wal`] is
/// appending to (use [`Wal::next_segment`] first). Errors if `upto` is not a
/// segment in the directory, if the newest checkpoint is already `>= upto`,
/// or if the input is corrupt (a checkpoint is never built from damaged
/// data; [`Wal::open`] repairs the segments first).
pub fn create<F>(wal_dir: impl AsRef<Path>, upto: u32, mut keep: F) -> Result<CheckpointStats>
where
    F: FnMut(&[u8]) -> Option<Vec<u8>>,
{
    let wal_dir = wal_dir.as_ref();
    let invalid = |reason: String| WalError::InvalidArgument {
        path: wal_dir.to_path_buf(),
        reason,
    };
    let previous = last(wal_dir)?;
    if let Some((_, p)) = &previous
        && *p >= upto
    {
        return Err(invalid(format!(
            "checkpoint {p:08} already covers segment {upto:08}"
        )));
    }
    let segs = list_segments(wal_dir)?;
    if !segs.contains(&upto) {
        return Err(invalid(format!("segment {upto:08} does not exist")));
    }
    let after_prev = previous.as_ref().map_or(0, |&(_, p)| p + 1);
    let first = segs.iter().copied().find(|&s| s >= after_prev && s <= upto);
    let segments = first.map(|f| (f, upto));

    remove_tmp_dirs(wal_dir)?;
    let final_dir = wal_dir.join(checkpoint_name(upto));
    let tmp_dir = wal_dir.join(format!("{}{TMP_SUFFIX}", checkpoint_name(upto)));

    let mut stats = CheckpointStats {
        dir: final_dir.clone(),
        number: upto,
        previous: previous.as_ref().map(|&(_, p)| p),
        segments,
        records_read: 0,
        records_kept: 0,
        records_dropped: 0,
        bytes_kept: 0,
        deleted_checkpoints: Vec::new(),
    };

    let previous_dir = previous.as_ref().map(|(p, _)| p.as_path());
    if let Err(e) = write_tmp(
        &tmp_dir,
        previous_dir,
        wal_dir,
        segments,
        &mut keep,
        &mut stats,
    ) {
        // Best effort; the next `create` removes it anyway.
        let _ = fs::remove_dir_all(&tmp_dir);
        return Err(e);
    }

    fs::rename(&tmp_dir, &final_dir).map_err(|e| WalError::io("rename", &tmp_dir, e))?;
    sync_dir(wal_dir)?;

    for (path, n) in list(wal_dir)? {
        if n >= upto {
            continue;
        }
        match fs::remove_dir_all(&path) {
            Ok(()) => stats.deleted_checkpoints.push(n),
            // Harmless: `last` always picks the newest checkpoint.
            Err(e) => tracing::warn!(
                path = %path.display(),
                error = %e,
                "could not delete old WAL checkpoint"
            ),
        }
    }
    if !stats.deleted_checkpoints.is_empty() {
        sync_dir(wal_dir)?;
    }
    tracing::info!(
        dir = %final_dir.display(),
        records_read = stats.records_read,
        records_kept = stats.records_kept,
        bytes_kept = stats.bytes_kept,
        "WAL checkpoint created"
    );
    Ok(stats)
}

/// Writes the kept records into `tmp_dir` and makes them durable.
fn write_tmp<F>(
    tmp_dir: &Path,
    previous: Option<&Path>,
    wal_dir: &Path,
    segments: Option<(u32, u32)>,
    keep: &mut F,
    stats: &mut CheckpointStats,
) -> Result<()>
where
    F: FnMut(&[u8]) -> Option<Vec<u8>>,
{
    let options = WalOptions::default()
        .with_sync(SyncPolicy::Manual)
        .with_scan_all_segments(false);
    let (mut out, _) = Wal::open(tmp_dir, options)?;
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut batch_bytes = 0usize;
    let mut readers = Vec::new();
    if let Some(path) = previous {
        readers.push(WalReader::open_dir(path)?);
    }
    if let Some((f, l)) = segments {
        readers.push(WalReader::new(wal_dir, f, l));
    }
    let mut rec = Vec::new();
    for mut reader in readers {
        while reader.next_record(&mut rec)? {
            stats.records_read += 1;
            match keep(&rec) {
                Some(kept) => {
                    batch_bytes += kept.len();
                    batch.push(kept);
                    if batch_bytes >= BATCH_BYTES {
                        write_batch(&mut out, &mut batch, stats)?;
                        batch_bytes = 0;
                    }
                }
                None => stats.records_dropped += 1,
            }
        }
    }
    write_batch(&mut out, &mut batch, stats)?;
    out.close()?;
    sync_dir(tmp_dir)
}

fn write_batch(out: &mut Wal, batch: &mut Vec<Vec<u8>>, stats: &mut CheckpointStats) -> Result<()> {
    let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
    out.log(&refs)?;
    stats.records_kept += refs.len() as u64;
    stats.bytes_kept += refs.iter().map(|r| r.len() as u64).sum::<u64>();
    batch.clear();
    Ok(())
}

/// Removes `checkpoint.*.tmp` directories left by an interrupted `create`.
fn remove_tmp_dirs(wal_dir: &Path) -> Result<()> {
    let entries = match fs::read_dir(wal_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(WalError::io("read directory", wal_dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| WalError::io("read directory", wal_dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(PREFIX) && name.ends_with(TMP_SUFFIX) {
            let path = entry.path();
            let is_dir = entry
                .file_type()
                .map_err(|e| WalError::io("stat", &path, e))?
                .is_dir();
            let r = if is_dir {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            r.map_err(|e| WalError::io("remove", &path, e))?;
        }
    }
    Ok(())
}
