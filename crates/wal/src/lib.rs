//! Watchfire's write-ahead log: a directory of numbered, checksummed segment
//! files holding opaque records.
//!
//! The WAL knows nothing about what a record means; the TSDB encodes series
//! definitions and sample batches into byte strings, [`Wal::log`]s them, and
//! replays them with a [`WalReader`] after a restart.
//!
//! # Layout
//!
//! A WAL directory contains segment files named by their number as eight
//! zero-padded decimal digits (`00000000`, `00000001`, ...), plus optional
//! checkpoint directories (`checkpoint.00000042`, see [`checkpoint`]). Each
//! segment starts with a 20-byte header (magic `WFWL`, a version byte, three
//! reserved zero bytes, the final length of the previous segment, and a
//! CRC32C of the header) followed by records framed as
//! `len: u32 LE | crc: u32 LE | payload`, where `crc` is CRC32C over the four
//! length bytes followed by the payload. Covering the length means a
//! zero-filled tail never parses as a valid (empty) record; recording the
//! previous segment's length lets a segment that lost whole records at its
//! end (a truncation exactly on a record boundary, e.g. from copying a live
//! WAL) be told apart from one that simply ended there. The exact format is
//! specified in `docs/format/wal.md`.
//!
//! A record never spans segments: when a record does not fit in what is left
//! of the current segment (default 128 MiB, see [`WalOptions`]), a new segment
//! is started; a record larger than a whole segment is written alone into a
//! fresh segment.
//!
//! # Writing and durability
//!
//! [`Wal::log`] frames a whole batch into one buffer and hands it to the
//! kernel with a single `write` (one per segment if the batch has to rotate),
//! so once `log` returns the batch survives the process being killed.
//! `fsync` is batched according to [`SyncPolicy`]; completed segments are
//! always synced when the WAL rotates away from them. [`Wal::last_synced`]
//! tells how far data is known to be on stable storage. If a write fails,
//! the segment is truncated back to its last complete record so a failed
//! batch never leaves garbage in the middle of the log.
//!
//! # Repair policy
//!
//! [`Wal::open`] scans every segment (or only the last one, see
//! [`WalOptions::scan_all_segments`]; the length cross-check between
//! consecutive segments is cheap and always covers all of them). At the
//! first torn or corrupt record, bad segment header, length mismatch, or gap
//! in the segment numbering it:
//!
//! 1. deletes every later segment (highest first, so a crash part-way leaves
//!    a state the next open repairs the same way),
//! 2. truncates the damaged segment at the end of its last good record (a
//!    segment whose header is bad is deleted as well),
//! 3. logs a `tracing::warn!` naming the segment, byte offset and the number
//!    of bytes and records dropped, and returns the same facts in a
//!    [`RepairReport`].
//!
//! Everything after the first damage is dropped, even intact later
//! segments: replaying records after a hole could resurrect samples whose
//! series definitions were lost, and a log with a hole is not a log.
//! [`WalReader`] detects the same damage during a replay, and [`repair()`]
//! applies the same policy at a position the reader reported.
//!
//! Bad data never makes `open` fail or panic; only genuine I/O errors
//! (permission denied, disk failure, ...) are returned. Writing always resumes
//! in a new segment after all existing ones (and after the last checkpoint),
//! so existing files are never appended to.
//!
//! # Checkpoints
//!
//! [`checkpoint::create`] condenses the previous checkpoint and the segments
//! up to a given number into a new checkpoint directory, keeping only what the
//! caller's filter returns. A checkpoint directory is itself a small WAL
//! directory, read with the same [`WalReader`]. Replay is: last checkpoint,
//! then the segments numbered above it; afterwards [`Wal::truncate_before`]
//! removes the segments the checkpoint made redundant.
//!
//! # Concurrency
//!
//! [`Wal`] is `Send` but not internally synchronised; wrap it in a mutex to
//! share it. Only one `Wal` may be open on a directory at a time (this is not
//! enforced by a lock file).
#![deny(missing_docs)]

pub mod checkpoint;
mod error;
mod format;
mod reader;
mod repair;
mod writer;

pub use error::{Corruption, WalError};
pub use format::{
    FRAME_HEADER_LEN, MAGIC, SEGMENT_HEADER_LEN, VERSION, segment_name, segment_path, segments,
};
pub use reader::WalReader;
pub use repair::{Repair, RepairCause, RepairReport, repair};
pub use writer::{DEFAULT_SEGMENT_SIZE, Position, SyncPolicy, Wal, WalOptions, WalStats};

/// Convenience alias for results of this crate.
pub type Result<T, E = WalError> = std::result::Result<T, E>;
