//! On-disk format: segment header, record framing, file naming and
//! directory helpers. See `docs/format/wal.md`.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::{Result, WalError};

/// Magic bytes at the start of every segment.
pub const MAGIC: [u8; 4] = *b"WFWL";
/// Segment format version written by this crate.
pub const VERSION: u8 = 1;
/// Length of the segment header: magic, version, three reserved zero bytes,
/// the previous segment's length (`u64` LE) and a CRC32C of those 16 bytes.
pub const SEGMENT_HEADER_LEN: u64 = 20;
/// Length of a record's frame header: `len: u32 LE`, `crc: u32 LE`.
pub const FRAME_HEADER_LEN: u64 = 8;

/// Largest payload a record may carry.
pub(crate) const MAX_RECORD_LEN: usize = u32::MAX as usize;

/// Size of the header as an array length.
pub(crate) const HEADER_BYTES: usize = SEGMENT_HEADER_LEN as usize;

/// Encodes a segment header. `prev_len` is the final length of the previous
/// segment (`n - 1`), or 0 when there is none.
pub(crate) fn encode_header(prev_len: u64) -> [u8; HEADER_BYTES] {
    let mut h = [0u8; HEADER_BYTES];
    h[..4].copy_from_slice(&MAGIC);
    h[4] = VERSION;
    h[8..16].copy_from_slice(&prev_len.to_le_bytes());
    let crc = crc32c::crc32c(&h[..16]);
    h[16..].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Decodes a segment header, returning the previous segment's length, or
/// `None` if the header is not valid.
pub(crate) fn decode_header(h: &[u8; HEADER_BYTES]) -> Option<u64> {
    let crc = u32::from_le_bytes([h[16], h[17], h[18], h[19]]);
    if h[..4] != MAGIC || h[4] != VERSION || h[5..8] != [0, 0, 0] || crc32c::crc32c(&h[..16]) != crc
    {
        return None;
    }
    let mut prev = [0u8; 8];
    prev.copy_from_slice(&h[8..16]);
    Some(u64::from_le_bytes(prev))
}

/// Reads and decodes the header of segment `n`: `Ok(None)` when the file is
/// too short or the header invalid.
pub(crate) fn read_header(dir: &Path, n: u32) -> Result<Option<u64>> {
    use std::io::Read;
    let path = segment_path(dir, n);
    let mut f = File::open(&path).map_err(|e| WalError::io("open", &path, e))?;
    let mut h = [0u8; HEADER_BYTES];
    match f.read_exact(&mut h) {
        Ok(()) => Ok(decode_header(&h)),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(WalError::io("read", &path, e)),
    }
}

/// CRC32C over the little-endian length bytes followed by the payload.
pub(crate) fn record_crc(len_le: [u8; 4], payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&len_le), payload)
}

/// Appends one framed record to `buf`. The caller checks the length limit.
pub(crate) fn encode_record(buf: &mut Vec<u8>, payload: &[u8]) {
    // Callers validate `payload.len() <= MAX_RECORD_LEN` first.
    let len_le = (payload.len() as u32).to_le_bytes();
    buf.extend_from_slice(&len_le);
    buf.extend_from_slice(&record_crc(len_le, payload).to_le_bytes());
    buf.extend_from_slice(payload);
}

/// Size of a record once framed.
pub(crate) fn framed_len(payload_len: usize) -> u64 {
    FRAME_HEADER_LEN + payload_len as u64
}

/// File name of segment `n`: eight zero-padded decimal digits.
pub fn segment_name(n: u32) -> String {
    format!("{n:08}")
}

/// Path of segment `n` in `dir`.
pub fn segment_path(dir: impl AsRef<Path>, n: u32) -> PathBuf {
    dir.as_ref().join(segment_name(n))
}

/// Parses a name made of at least eight ASCII digits.
pub(crate) fn parse_number(name: &str) -> Option<u32> {
    if name.len() < 8 || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// Entries of `dir` whose names `parse` into a number and whose type is a directory
/// (`want_dir`) or a regular file, ascending by number. A missing directory is empty.
pub(crate) fn numbered_entries(
    dir: &Path,
    parse: impl Fn(&str) -> Option<u32>,
    want_dir: bool,
) -> Result<Vec<(PathBuf, u32)>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(WalError::io("read directory", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| WalError::io("read directory", dir, e))?;
        let Some(n) = entry.file_name().to_str().and_then(&parse) else {
            continue;
        };
        let ft = entry
            .file_type()
            .map_err(|e| WalError::io("stat", entry.path(), e))?;
        if (want_dir && ft.is_dir()) || (!want_dir && ft.is_file()) {
            out.push((entry.path(), n));
        }
    }
    out.sort_unstable_by_key(|&(_, n)| n);
    Ok(out)
}

/// All segment numbers in `dir`, ascending. Entries that are not regular
/// files named by a segment number are ignored. A missing directory has no
/// segments.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<u32>> {
    Ok(numbered_entries(dir, parse_number, false)?
        .into_iter()
        .map(|(_, n)| n)
        .collect())
}

/// The first and last segment numbers in `dir`, or `None` if it holds no
/// segments (or does not exist).
///
/// Gaps in between are not checked here; [`crate::WalReader`] reports a
/// missing segment and [`crate::Wal::open`] repairs gaps.
pub fn segments(dir: impl AsRef<Path>) -> Result<Option<(u32, u32)>> {
    let list = list_segments(dir.as_ref())?;
    Ok(match (list.first(), list.last()) {
        (Some(&a), Some(&b)) => Some((a, b)),
        _ => None,
    })
}

/// fsyncs a directory so entries created, renamed or removed in it persist.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let f = File::open(dir).map_err(|e| WalError::io("open directory", dir, e))?;
    f.sync_all()
        .map_err(|e| WalError::io("fsync directory", dir, e))
}
