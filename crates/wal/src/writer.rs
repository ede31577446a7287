//! The appending side: [`Wal`], its options and counters.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::format::{
    MAX_RECORD_LEN, SEGMENT_HEADER_LEN, encode_header, encode_record, framed_len, list_segments,
    segment_path, sync_dir,
};
use crate::{RepairReport, Result, WalError, checkpoint, repair};

/// Default maximum segment size: 128 MiB.
pub const DEFAULT_SEGMENT_SIZE: u64 = 128 * 1024 * 1024;

/// Batch buffers above this capacity are released after use.
const MAX_RETAINED_BUFFER: usize = 16 * 1024 * 1024;

/// When [`Wal::log`] fsyncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// fsync at the end of every [`Wal::log`] call.
    Always,
    /// fsync inside [`Wal::log`] when at least this long has passed since the
    /// last fsync. Data logged in between is in the OS page cache (safe from
    /// a process crash, not from a power failure).
    Interval(Duration),
    /// Never fsync implicitly except when a segment is completed; call
    /// [`Wal::sync`] (or [`Wal::sync_if_due`]) yourself.
    Manual,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        SyncPolicy::Interval(Duration::from_secs(1))
    }
}

/// Options for [`Wal::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalOptions {
    /// Segment size at which a new segment is started. A record that does not
    /// fit in the rest of a non-empty segment goes into a new one.
    pub segment_size: u64,
    /// When to fsync.
    pub sync: SyncPolicy,
    /// Verify every segment on open (true, the default) rather than only the
    /// last one. Scanning everything costs one sequential read of the WAL but
    /// guarantees that a subsequent replay meets no corruption.
    pub scan_all_segments: bool,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: DEFAULT_SEGMENT_SIZE,
            sync: SyncPolicy::default(),
            scan_all_segments: true,
        }
    }
}

impl WalOptions {
    /// Sets [`WalOptions::segment_size`].
    pub fn with_segment_size(mut self, bytes: u64) -> Self {
        self.segment_size = bytes;
        self
    }

    /// Sets [`WalOptions::sync`].
    pub fn with_sync(mut self, sync: SyncPolicy) -> Self {
        self.sync = sync;
        self
    }

    /// Sets [`WalOptions::scan_all_segments`].
    pub fn with_scan_all_segments(mut self, all: bool) -> Self {
        self.scan_all_segments = all;
        self
    }
}

/// A position in the WAL: a segment and a byte offset within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Segment number.
    pub segment: u32,
    /// Byte offset from the start of the segment file.
    pub offset: u64,
}

/// Counters of a [`Wal`] since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalStats {
    /// Records appended.
    pub records: u64,
    /// Bytes appended for records, framing included (segment headers not).
    pub bytes: u64,
    /// `fsync`/`fdatasync` calls on segment files and the directory.
    pub fsyncs: u64,
    /// Segments created (including the one created by `open`).
    pub segments_created: u64,
}

/// An open write-ahead log, appending to its newest segment.
///
/// See the crate documentation for the design. `Wal` is `Send`; wrap it in a
/// mutex to share it between threads.
#[derive(Debug)]
pub struct Wal {
    dir: PathBuf,
    options: WalOptions,
    file: File,
    segment: u32,
    /// Bytes in the current segment (the next write goes here).
    offset: u64,
    synced: Position,
    last_sync: Instant,
    stats: WalStats,
    buf: Vec<u8>,
    poisoned: bool,
}

const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Wal>();
};

impl Wal {
    /// Opens (creating if needed) the WAL in `dir`, repairing damage as
    /// described in the crate documentation, and starts a new segment after
    /// every existing one and after the last checkpoint.
    ///
    /// Only I/O errors are returned; corrupt data is repaired and reported.
    pub fn open(dir: impl AsRef<Path>, options: WalOptions) -> Result<(Wal, RepairReport)> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.is_dir() {
            fs::create_dir_all(&dir).map_err(|e| WalError::io("create directory", &dir, e))?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        let (report, next) = repair::check_dir(&dir, options.scan_all_segments)?;
        let mut next = next.unwrap_or(0);
        if let Some((_, c)) = checkpoint::last(&dir)? {
            next = next.max(c.saturating_add(1));
        }
        if next == u32::MAX {
            return Err(exhausted(&dir));
        }
        // Record the final length of the segment before, if it exists.
        let prev_len = match next.checked_sub(1) {
            Some(p) => match fs::metadata(segment_path(&dir, p)) {
                Ok(m) => m.len(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
                Err(e) => return Err(WalError::io("stat", segment_path(&dir, p), e)),
            },
            None => 0,
        };
        let file = create_segment(&dir, next, prev_len)?;
        let now = Instant::now();
        let wal = Wal {
            dir,
            options,
            file,
            segment: next,
            offset: SEGMENT_HEADER_LEN,
            synced: Position {
                segment: next,
                offset: SEGMENT_HEADER_LEN,
            },
            last_sync: now,
            stats: WalStats {
                fsyncs: 2,
                segments_created: 1,
                ..WalStats::default()
            },
            buf: Vec::new(),
            poisoned: false,
        };
        Ok((wal, report))
    }

    /// Appends `records` in order.
    ///
    /// The batch is framed into one buffer and written with a single write
    /// (one per segment if it has to rotate), so it is in the OS when this
    /// returns. Then fsyncs if the [`SyncPolicy`] says so. On a write error
    /// the segment is truncated back to its previous end, so the batch is
    /// either wholly in the current segment or absent (batches that span a
    /// rotation keep the part written to earlier segments).
    pub fn log(&mut self, records: &[&[u8]]) -> Result<()> {
        self.check_poisoned()?;
        if let Some(r) = records.iter().find(|r| r.len() > MAX_RECORD_LEN) {
            return Err(WalError::RecordTooLarge {
                len: r.len(),
                max: MAX_RECORD_LEN,
            });
        }
        if records.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        let mut pending = 0u64;
        for rec in records {
            let used = self.offset + self.buf.len() as u64;
            if used > SEGMENT_HEADER_LEN && used + framed_len(rec.len()) > self.options.segment_size
            {
                self.flush(pending)?;
                pending = 0;
                self.rotate()?;
            }
            encode_record(&mut self.buf, rec);
            pending += 1;
        }
        self.flush(pending)?;
        if self.buf.capacity() > MAX_RETAINED_BUFFER {
            self.buf = Vec::new();
        }
        match self.options.sync {
            SyncPolicy::Always => self.sync(),
            SyncPolicy::Interval(_) => self.sync_if_due().map(|_| ()),
            SyncPolicy::Manual => Ok(()),
        }
    }

    /// Writes the buffered batch to the current segment.
    fn flush(&mut self, records: u64) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.file.write_all(&self.buf) {
            self.buf.clear();
            self.roll_back();
            return Err(WalError::io(
                "write",
                segment_path(&self.dir, self.segment),
                e,
            ));
        }
        self.offset += self.buf.len() as u64;
        self.stats.records += records;
        self.stats.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Cuts a partially written batch off the segment; poisons the `Wal`
    /// when that fails.
    fn roll_back(&mut self) {
        let ok = self.file.set_len(self.offset).is_ok()
            && self.file.seek(SeekFrom::Start(self.offset)).is_ok();
        if !ok {
            self.poisoned = true;
            tracing::error!(
                segment = self.segment,
                offset = self.offset,
                "WAL write failed and could not be rolled back; refusing further writes"
            );
        }
    }

    fn check_poisoned(&self) -> Result<()> {
        if self.poisoned {
            Err(WalError::Poisoned {
                segment: self.segment,
            })
        } else {
            Ok(())
        }
    }

    /// fsyncs the current segment if anything was written since the last
    /// fsync.
    pub fn sync(&mut self) -> Result<()> {
        self.check_poisoned()?;
        let pos = self.position();
        if self.synced == pos {
            return Ok(());
        }
        self.file
            .sync_data()
            .map_err(|e| WalError::io("fsync", segment_path(&self.dir, self.segment), e))?;
        self.stats.fsyncs += 1;
        self.synced = pos;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Under [`SyncPolicy::Interval`], fsyncs if the interval has elapsed and
    /// there is unsynced data; returns whether it did. For a timer that
    /// bounds the unsynced window when no writes arrive. Other policies:
    /// `Always` syncs any unsynced data, `Manual` does nothing.
    pub fn sync_if_due(&mut self) -> Result<bool> {
        let due = match self.options.sync {
            SyncPolicy::Always => true,
            SyncPolicy::Interval(d) => self.last_sync.elapsed() >= d,
            SyncPolicy::Manual => false,
        };
        if !due || self.synced == self.position() {
            return Ok(false);
        }
        self.sync()?;
        Ok(true)
    }

    /// Completes the current segment (fsyncing it) and starts the next one.
    fn rotate(&mut self) -> Result<u32> {
        self.sync()?;
        let next = self
            .segment
            .checked_add(1)
            .ok_or_else(|| exhausted(&self.dir))?;
        self.file = create_segment(&self.dir, next, self.offset)?;
        self.stats.fsyncs += 2;
        self.stats.segments_created += 1;
        self.segment = next;
        self.offset = SEGMENT_HEADER_LEN;
        self.synced = self.position();
        Ok(next)
    }

    /// Closes the current segment (fsyncing it), starts a new one and returns
    /// its number. Everything before the returned number is then complete,
    /// e.g. ready for [`checkpoint::create`].
    pub fn next_segment(&mut self) -> Result<u32> {
        self.check_poisoned()?;
        self.rotate()
    }

    /// Deletes all segments numbered below `n` and returns how many were
    /// deleted. `n` may not exceed the current segment.
    pub fn truncate_before(&mut self, n: u32) -> Result<usize> {
        if n > self.segment {
            return Err(WalError::InvalidArgument {
                path: self.dir.clone(),
                reason: format!(
                    "cannot delete segments before {n:08}: current segment is {:08}",
                    self.segment
                ),
            });
        }
        let mut deleted = 0;
        // Lowest first, so an interrupted truncation leaves no gap.
        for s in list_segments(&self.dir)?.into_iter().filter(|&s| s < n) {
            let path = segment_path(&self.dir, s);
            match fs::remove_file(&path) {
                Ok(()) => deleted += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(WalError::io("remove", path, e)),
            }
        }
        if deleted > 0 {
            sync_dir(&self.dir)?;
            self.stats.fsyncs += 1;
        }
        Ok(deleted)
    }

    /// fsyncs and closes the WAL.
    pub fn close(mut self) -> Result<()> {
        self.sync()
    }

    /// The WAL directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options the WAL was opened with.
    pub fn options(&self) -> &WalOptions {
        &self.options
    }

    /// Number of the segment being appended to.
    pub fn current_segment(&self) -> u32 {
        self.segment
    }

    /// Where the next record will be written (the end of the log).
    pub fn position(&self) -> Position {
        Position {
            segment: self.segment,
            offset: self.offset,
        }
    }

    /// How far the log is known to be on stable storage: everything before
    /// this position has been fsynced.
    pub fn last_synced(&self) -> Position {
        self.synced
    }

    /// Counters since the WAL was opened.
    pub fn stats(&self) -> WalStats {
        self.stats
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        if !self.poisoned && self.synced != self.position() {
            // Best effort: the data is already in the OS either way.
            let _ = self.file.sync_data();
        }
    }
}

fn exhausted(dir: &Path) -> WalError {
    WalError::InvalidArgument {
        path: dir.to_path_buf(),
        reason: "segment numbers exhausted".to_owned(),
    }
}

/// Creates segment `n` with its header, fsyncing the file and the directory.
/// `prev_len` is the final length of segment `n - 1` (0 if none).
pub(crate) fn create_segment(dir: &Path, n: u32, prev_len: u64) -> Result<File> {
    let path = segment_path(dir, n);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| WalError::io("create", &path, e))?;
    file.write_all(&encode_header(prev_len))
        .map_err(|e| WalError::io("write", &path, e))?;
    file.sync_all()
        .map_err(|e| WalError::io("fsync", &path, e))?;
    sync_dir(dir)?;
    Ok(file)
}
