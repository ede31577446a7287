//! Chunk segment files: `chunks/000001`, `chunks/000002`, ...
//!
//! See `docs/format/block.md`. Each file is an 8-byte header followed by chunks
//! framed as `uvarint len | encoding u8 | data | crc32c(encoding, data) u32 BE`.

use crate::encoding::{Decoder, put_uvarint, uvarint_len};
use crate::error::BlockError;
use memmap2::Mmap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Name of the directory holding a block's chunk segment files.
pub const CHUNKS_DIRNAME: &str = "chunks";

/// Largest size of one chunk segment file: 512 MiB.
pub const MAX_SEGMENT_SIZE: u64 = 512 << 20;

const SEGMENT_MAGIC: [u8; 4] = *b"WFCK";
const SEGMENT_VERSION: u8 = 1;
/// Bytes before the first chunk of a segment file.
pub(crate) const SEGMENT_HEADER_LEN: u64 = 8;

/// Bytes a chunk of `data_len` payload bytes takes in a segment file.
fn framed_len(data_len: usize) -> u64 {
    (uvarint_len(data_len as u64) + 1 + data_len + 4) as u64
}

/// The file name of segment number `n` (1-based): six digits, zero-padded.
pub fn segment_file_name(n: u32) -> String {
    format!("{n:06}")
}

/// Builds a chunk reference from a segment number (1-based) and a byte offset.
pub fn chunk_ref(segment: u32, offset: u32) -> u64 {
    (u64::from(segment) << 32) | u64::from(offset)
}

/// Splits a chunk reference into (segment number, byte offset).
pub fn chunk_ref_parts(chunk_ref: u64) -> (u32, u32) {
    ((chunk_ref >> 32) as u32, chunk_ref as u32)
}

/// Appends chunks to segment files, cutting a new file when one is full.
pub(crate) struct SegmentWriter {
    dir: PathBuf,
    max_size: u64,
    /// Number of the current file; 0 before the first chunk.
    seq: u32,
    file: Option<(PathBuf, BufWriter<File>)>,
    size: u64,
    frame: Vec<u8>,
}

impl SegmentWriter {
    /// A writer that creates segment files in `dir` (which must exist).
    pub(crate) fn new(dir: PathBuf) -> Self {
        SegmentWriter {
            dir,
            max_size: MAX_SEGMENT_SIZE,
            seq: 0,
            file: None,
            size: 0,
            frame: Vec::new(),
        }
    }

    /// Changes the segment size limit for chunks written from now on (clamped to
    /// `[SEGMENT_HEADER_LEN + 16, MAX_SEGMENT_SIZE]`).
    pub(crate) fn set_max_size(&mut self, bytes: u64) {
        self.max_size = bytes.clamp(SEGMENT_HEADER_LEN + 16, MAX_SEGMENT_SIZE);
    }

    /// Writes one chunk and returns its reference.
    pub(crate) fn write(&mut self, encoding: u8, data: &[u8]) -> Result<u64, BlockError> {
        let len = framed_len(data.len());
        if SEGMENT_HEADER_LEN + len > self.max_size {
            return Err(BlockError::CannotWrite {
                path: self.dir.clone(),
                detail: format!(
                    "chunk of {} bytes does not fit in a {}-byte segment file",
                    data.len(),
                    self.max_size
                ),
            });
        }
        if self.file.is_none() || self.size + len > self.max_size {
            self.cut()?;
        }
        let Some((path, w)) = self.file.as_mut() else {
            return Err(BlockError::CannotWrite {
                path: self.dir.clone(),
                detail: "no segment file open".into(),
            });
        };
        let offset = u32::try_from(self.size).map_err(|_| BlockError::CannotWrite {
            path: path.clone(),
            detail: "segment offset exceeds 32 bits".into(),
        })?;
        self.frame.clear();
        put_uvarint(&mut self.frame, data.len() as u64);
        self.frame.push(encoding);
        let mut crc = crc32c::crc32c(&[encoding]);
        crc = crc32c::crc32c_append(crc, data);
        w.write_all(&self.frame)
            .and_then(|()| w.write_all(data))
            .and_then(|()| w.write_all(&crc.to_be_bytes()))
            .map_err(|e| BlockError::io(&*path, e))?;
        self.size += len;
        Ok(chunk_ref(self.seq, offset))
    }

    /// Closes the current file (flushed and fsynced) and starts the next one.
    fn cut(&mut self) -> Result<(), BlockError> {
        self.finish()?;
        self.seq = self
            .seq
            .checked_add(1)
            .ok_or_else(|| BlockError::CannotWrite {
                path: self.dir.clone(),
                detail: "too many segment files".into(),
            })?;
        let path = self.dir.join(segment_file_name(self.seq));
        let file = File::create(&path).map_err(|e| BlockError::io(&path, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let mut header = [0u8; SEGMENT_HEADER_LEN as usize];
        header[..4].copy_from_slice(&SEGMENT_MAGIC);
        header[4] = SEGMENT_VERSION;
        w.write_all(&header).map_err(|e| BlockError::io(&path, e))?;
        self.size = SEGMENT_HEADER_LEN;
        self.file = Some((path, w));
        Ok(())
    }

    /// Flushes and fsyncs the current file, if any.
    pub(crate) fn finish(&mut self) -> Result<(), BlockError> {
        if let Some((path, w)) = self.file.take() {
            let file = w
                .into_inner()
                .map_err(|e| BlockError::io(&path, e.into_error()))?;
            file.sync_all().map_err(|e| BlockError::io(&path, e))?;
        }
        Ok(())
    }
}

/// Memory-mapped segment files of one block.
#[derive(Debug)]
pub(crate) struct ChunkReader {
    dir: PathBuf,
    /// Segment `n` is at index `n - 1`.
    segments: Vec<(PathBuf, Mmap)>,
    size: u64,
}

impl ChunkReader {
    /// Maps every segment file in `dir`, checking names are consecutive from
    /// `000001` and that each file has a valid header.
    pub(crate) fn open(dir: &Path) -> Result<ChunkReader, BlockError> {
        let mut numbered = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| BlockError::io(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| BlockError::io(dir, e))?;
            let name = entry.file_name();
            let Some(n) = name
                .to_str()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u32>().ok())
            else {
                tracing::warn!(file = %entry.path().display(), "ignoring unexpected file in chunks directory");
                continue;
            };
            numbered.push((n, entry.path()));
        }
        numbered.sort();
        let mut segments = Vec::with_capacity(numbered.len());
        let mut size = 0;
        for (i, (n, path)) in numbered.into_iter().enumerate() {
            if n as usize != i + 1 {
                return Err(BlockError::corrupt(
                    &path,
                    "segment sequence",
                    0,
                    format!("expected segment {} but found {n}", i + 1),
                ));
            }
            let file = File::open(&path).map_err(|e| BlockError::io(&path, e))?;
            let len = file.metadata().map_err(|e| BlockError::io(&path, e))?.len();
            if len < SEGMENT_HEADER_LEN {
                return Err(BlockError::corrupt(
                    &path,
                    "header",
                    0,
                    format!("file is {len} bytes, shorter than the segment header"),
                ));
            }
            // SAFETY: block files are never modified after the block is finished; a
            // file truncated by another process while mapped would fault, which
            // memory maps cannot prevent and the TSDB never does.
            let map = unsafe { Mmap::map(&file) }.map_err(|e| BlockError::io(&path, e))?;
            check_header(&path, &map)?;
            size += len;
            segments.push((path, map));
        }
        Ok(ChunkReader {
            dir: dir.to_path_buf(),
            segments,
            size,
        })
    }

    /// Total bytes of the segment files.
    pub(crate) fn size_bytes(&self) -> u64 {
        self.size
    }

    /// The encoding and data of the chunk at `chunk_ref`, checksum verified.
    pub(crate) fn chunk(&self, chunk_ref: u64) -> Result<(u8, &[u8]), BlockError> {
        let (seg, offset) = chunk_ref_parts(chunk_ref);
        let bad_ref = |detail: String| BlockError::InvalidChunkRef {
            dir: self.dir.clone(),
            chunk_ref,
            detail,
        };
        let Some((path, map)) = (seg as usize)
            .checked_sub(1)
            .and_then(|i| self.segments.get(i))
        else {
            return Err(bad_ref(format!(
                "segment {seg} does not exist (block has {})",
                self.segments.len()
            )));
        };
        if u64::from(offset) < SEGMENT_HEADER_LEN {
            return Err(bad_ref(format!(
                "offset {offset} is inside the segment header"
            )));
        }
        let corrupt = |e: crate::encoding::DecodeError| {
            BlockError::decode(path, "chunk", u64::from(offset), e)
        };
        let buf: &[u8] = map;
        let tail = buf.get(offset as usize..).ok_or_else(|| {
            BlockError::corrupt(
                path,
                "chunk",
                u64::from(offset),
                format!("offset past end of {}-byte file", buf.len()),
            )
        })?;
        let mut d = Decoder::new(tail);
        let len = d.uvarint_usize().map_err(corrupt)?;
        let body_len = len.checked_add(1).ok_or_else(|| {
            BlockError::corrupt(path, "chunk", u64::from(offset), "chunk length overflows")
        })?;
        let body = d.bytes(body_len).map_err(corrupt)?;
        let crc_at = d.pos();
        let want = d.be_u32().map_err(corrupt)?;
        let got = crc32c::crc32c(body);
        if want != got {
            return Err(BlockError::corrupt(
                path,
                "chunk",
                u64::from(offset) + crc_at as u64,
                format!("checksum mismatch: stored {want:#010x}, computed {got:#010x}"),
            ));
        }
        Ok((body[0], &body[1..]))
    }
}

fn check_header(path: &Path, map: &[u8]) -> Result<(), BlockError> {
    let mut d = Decoder::new(map);
    let header = d
        .bytes(SEGMENT_HEADER_LEN as usize)
        .map_err(|e| BlockError::decode(path, "header", 0, e))?;
    if header[..4] != SEGMENT_MAGIC {
        return Err(BlockError::corrupt(
            path,
            "header",
            0,
            format!("bad magic {:02x?}", &header[..4]),
        ));
    }
    if header[4] != SEGMENT_VERSION {
        return Err(BlockError::corrupt(
            path,
            "header",
            4,
            format!("unsupported segment version {}", header[4]),
        ));
    }
    if header[5..].iter().any(|&b| b != 0) {
        return Err(BlockError::corrupt(
            path,
            "header",
            5,
            "reserved bytes not zero",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_roll_over_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SegmentWriter::new(dir.path().to_path_buf());
        w.set_max_size(100);
        let mut refs = Vec::new();
        for i in 0..20u8 {
            let data = vec![i; usize::from(i) * 3];
            refs.push((w.write(1, &data).unwrap(), data));
        }
        w.finish().unwrap();
        assert!(w.write(1, &[0; 200]).is_err(), "oversized chunk rejected");
        let r = ChunkReader::open(dir.path()).unwrap();
        assert!(r.segments.len() > 5);
        for (cref, data) in &refs {
            let (enc, got) = r.chunk(*cref).unwrap();
            assert_eq!(enc, 1);
            assert_eq!(got, &data[..]);
        }
        assert!(matches!(
            r.chunk(0),
            Err(BlockError::InvalidChunkRef { .. })
        ));
        assert!(matches!(
            r.chunk(chunk_ref(99, 8)),
            Err(BlockError::InvalidChunkRef { .. })
        ));
        assert!(matches!(
            r.chunk(chunk_ref(1, 99)),
            Err(BlockError::Corrupt { .. })
        ));
    }

    #[test]
    fn missing_segment_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SegmentWriter::new(dir.path().to_path_buf());
        w.set_max_size(40);
        for _ in 0..3 {
            w.write(1, &[7; 20]).unwrap();
        }
        w.finish().unwrap();
        std::fs::remove_file(dir.path().join("000002")).unwrap();
        let e = ChunkReader::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("000003"), "{e}");
    }
}
