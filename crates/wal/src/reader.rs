//! Sequential, streaming reading of segments.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::format::{
    FRAME_HEADER_LEN, HEADER_BYTES, SEGMENT_HEADER_LEN, decode_header, list_segments, record_crc,
    segment_path,
};
use crate::{Corruption, Position, Result, WalError};

const READ_BUFFER: usize = 64 * 1024;

/// Streams the records of one segment file.
pub(crate) struct SegmentReader {
    path: PathBuf,
    segment: u32,
    reader: BufReader<File>,
    /// Offset of the next record.
    offset: u64,
    /// File length when opened (or last refreshed); records past it are
    /// not read.
    len: u64,
    /// Previous segment's length as recorded in the header (0: unknown).
    prev_len: u64,
}

impl SegmentReader {
    /// Opens a segment and validates its header. A missing file is an
    /// `Io` error with kind `NotFound`.
    pub(crate) fn open(path: PathBuf, segment: u32) -> Result<Self> {
        let file = File::open(&path).map_err(|e| WalError::io("open", &path, e))?;
        let len = file
            .metadata()
            .map_err(|e| WalError::io("stat", &path, e))?
            .len();
        let mut r = SegmentReader {
            path,
            segment,
            reader: BufReader::with_capacity(READ_BUFFER, file),
            offset: 0,
            len,
            prev_len: 0,
        };
        if len < SEGMENT_HEADER_LEN {
            return Err(r.corrupt(Corruption::ShortHeader { len }));
        }
        let mut header = [0u8; HEADER_BYTES];
        r.read_exact(&mut header, "read")?;
        r.prev_len = decode_header(&header)
            .ok_or_else(|| r.corrupt(Corruption::BadHeader { found: header }))?;
        r.offset = SEGMENT_HEADER_LEN;
        Ok(r)
    }

    /// The previous segment's final length recorded in this segment's
    /// header, or 0 if it was not known when this segment was created.
    pub(crate) fn prev_len(&self) -> u64 {
        self.prev_len
    }

    /// Re-reads the file length; returns true if the file has grown.
    fn refresh_len(&mut self) -> Result<bool> {
        let len = self
            .reader
            .get_ref()
            .metadata()
            .map_err(|e| WalError::io("stat", &self.path, e))?
            .len();
        let grew = len > self.len;
        self.len = self.len.max(len);
        Ok(grew)
    }

    /// Offset just past the last record read (or the header).
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    fn corrupt(&self, kind: Corruption) -> WalError {
        self.corrupt_at(self.offset, kind)
    }

    pub(crate) fn corrupt_at(&self, offset: u64, kind: Corruption) -> WalError {
        WalError::Corrupt {
            path: self.path.clone(),
            segment: self.segment,
            offset,
            kind,
        }
    }

    fn read_exact(&mut self, buf: &mut [u8], op: &'static str) -> Result<()> {
        match self.reader.read_exact(buf) {
            Ok(()) => Ok(()),
            // The file shrank under us: the data is not there.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                Err(self.corrupt(Corruption::TornRecord {
                    needed: buf.len() as u64,
                    available: 0,
                }))
            }
            Err(e) => Err(WalError::io(op, &self.path, e)),
        }
    }

    /// Reads the next record into `buf` (replacing its contents). Returns
    /// `Ok(false)` at a clean end of segment.
    pub(crate) fn next_into(&mut self, buf: &mut Vec<u8>) -> Result<bool> {
        let available = self.len.saturating_sub(self.offset);
        if available == 0 {
            return Ok(false);
        }
        if available < FRAME_HEADER_LEN {
            return Err(self.corrupt(Corruption::TornRecord {
                needed: FRAME_HEADER_LEN,
                available,
            }));
        }
        let mut frame = [0u8; FRAME_HEADER_LEN as usize];
        self.read_exact(&mut frame, "read")?;
        let len_le = [frame[0], frame[1], frame[2], frame[3]];
        let stored = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
        let len = u64::from(u32::from_le_bytes(len_le));
        let needed = FRAME_HEADER_LEN + len;
        if needed > available {
            return Err(self.corrupt(Corruption::TornRecord { needed, available }));
        }
        buf.clear();
        // `take` + `read_to_end` grows the buffer as data arrives, so memory
        // use is bounded by what the file really holds.
        let got = (&mut self.reader)
            .take(len)
            .read_to_end(buf)
            .map_err(|e| WalError::io("read", &self.path, e))?;
        if got as u64 != len {
            return Err(self.corrupt(Corruption::TornRecord {
                needed,
                available: FRAME_HEADER_LEN + got as u64,
            }));
        }
        let computed = record_crc(len_le, buf);
        if computed != stored {
            return Err(self.corrupt(Corruption::ChecksumMismatch { stored, computed }));
        }
        self.offset += needed;
        Ok(true)
    }
}

/// Reads the records of the segments `[first, last]` of a WAL (or
/// checkpoint) directory in order.
///
/// Use it as an [`Iterator`] of `Result<Vec<u8>, WalError>`, or call
/// [`WalReader::next_record`] to reuse one buffer for every record. After the
/// first error the reader is finished. Corruption is reported as
/// [`WalError::Corrupt`] naming the segment and the offset of the bad record;
/// a segment missing from the range as [`WalError::MissingSegment`].
///
/// Each segment is read up to the length it had when the reader reached it.
pub struct WalReader {
    dir: PathBuf,
    next: u32,
    last: u32,
    /// False once the range is exhausted or an error was returned.
    live: bool,
    current: Option<SegmentReader>,
    position: Position,
}

impl WalReader {
    /// A reader over segments `first..=last` of `dir`. Nothing is opened
    /// until the first read. An empty range (`first > last`) yields nothing.
    pub fn new(dir: impl AsRef<Path>, first: u32, last: u32) -> Self {
        WalReader {
            dir: dir.as_ref().to_path_buf(),
            next: first,
            last,
            live: first <= last,
            current: None,
            position: Position {
                segment: first,
                offset: 0,
            },
        }
    }

    /// A reader over every segment currently in `dir` (for example a
    /// checkpoint directory). An empty or missing directory yields nothing.
    pub fn open_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let list = list_segments(dir)?;
        Ok(match (list.first(), list.last()) {
            (Some(&first), Some(&last)) => WalReader::new(dir, first, last),
            _ => {
                let mut r = WalReader::new(dir, 1, 0);
                r.position.segment = 0;
                r
            }
        })
    }

    /// Where the reader stands: the segment of the last record read and the
    /// offset just past it.
    pub fn position(&self) -> Position {
        self.position
    }

    /// Reads the next record into `buf`, replacing its contents. Returns
    /// `Ok(false)` when every segment in the range has been read.
    pub fn next_record(&mut self, buf: &mut Vec<u8>) -> Result<bool> {
        let r = self.advance(buf);
        if !matches!(r, Ok(true)) {
            self.live = false;
            self.current = None;
        }
        r
    }

    fn advance(&mut self, buf: &mut Vec<u8>) -> Result<bool> {
        while self.live {
            let seg = match self.current.as_mut() {
                Some(seg) => seg,
                None => {
                    let seg = open_segment(&self.dir, self.next)?;
                    self.position = Position {
                        segment: self.next,
                        offset: SEGMENT_HEADER_LEN,
                    };
                    self.current.insert(seg)
                }
            };
            if seg.next_into(buf)? {
                self.position.offset = seg.offset();
                return Ok(true);
            }
            if self.next >= self.last {
                self.live = false;
                break;
            }
            // Cross-check this segment's length against the next header.
            let following = open_segment(&self.dir, self.next + 1)?;
            let expected = following.prev_len();
            let found = seg.offset();
            if expected != 0 && expected != found {
                if expected > found && seg.refresh_len()? {
                    // Still being written when we reached it: read on.
                    continue;
                }
                return Err(seg.corrupt_at(
                    expected.min(found),
                    Corruption::LengthMismatch { expected, found },
                ));
            }
            self.next += 1;
            self.position = Position {
                segment: self.next,
                offset: SEGMENT_HEADER_LEN,
            };
            self.current = Some(following);
        }
        Ok(false)
    }
}

/// Opens segment `n` of `dir`, reporting a missing file as such.
fn open_segment(dir: &Path, n: u32) -> Result<SegmentReader> {
    match SegmentReader::open(segment_path(dir, n), n) {
        Err(WalError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            Err(WalError::MissingSegment {
                dir: dir.to_path_buf(),
                segment: n,
            })
        }
        r => r,
    }
}

impl Iterator for WalReader {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut buf = Vec::new();
        match self.next_record(&mut buf) {
            Ok(true) => Some(Ok(buf)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

impl std::fmt::Debug for WalReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalReader")
            .field("dir", &self.dir)
            .field("next", &self.next)
            .field("last", &self.last)
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}
