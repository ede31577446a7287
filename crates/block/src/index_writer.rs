//! Streams an index file section by section (see `docs/format/index.md`).

use crate::ChunkMeta;
use crate::encoding::{put_be_u64, put_uvarint, put_varint};
use crate::error::BlockError;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Magic number at the start of an index file.
pub(crate) const INDEX_MAGIC: [u8; 4] = *b"WFIX";
/// Index format version.
pub(crate) const INDEX_VERSION: u8 = 1;
/// Bytes of the index header.
pub(crate) const INDEX_HEADER_LEN: usize = 8;
/// Number of sections, in file order.
pub(crate) const NUM_SECTIONS: usize = 5;
/// Bytes of the table of contents at the end of the file.
pub(crate) const TOC_LEN: usize = NUM_SECTIONS * 8 + 4;
/// Bytes of framing around a section payload: `u64` length and `u32` checksum.
pub(crate) const SECTION_OVERHEAD: usize = 12;
/// Section names, in file order, as used in error messages.
pub(crate) const SECTION_NAMES: [&str; NUM_SECTIONS] = [
    "symbols",
    "series",
    "series offsets",
    "postings",
    "postings table",
];

/// A file written sequentially, with length-prefixed, checksummed sections.
struct SectionFile {
    path: PathBuf,
    w: BufWriter<File>,
    pos: u64,
    section_start: u64,
    crc: u32,
}

impl SectionFile {
    fn io(&self, e: std::io::Error) -> BlockError {
        BlockError::io(&self.path, e)
    }

    fn write(&mut self, b: &[u8]) -> Result<(), BlockError> {
        self.w
            .write_all(b)
            .map_err(|e| BlockError::io(&self.path, e))?;
        self.crc = crc32c::crc32c_append(self.crc, b);
        self.pos += b.len() as u64;
        Ok(())
    }

    /// Starts a section: writes a placeholder length and resets the checksum.
    fn begin(&mut self) -> Result<u64, BlockError> {
        self.section_start = self.pos;
        self.write(&[0; 8])?;
        self.crc = 0;
        Ok(self.section_start)
    }

    /// Ends a section: appends the checksum and patches the length.
    fn end(&mut self) -> Result<(), BlockError> {
        let len = self.pos - self.section_start - 8;
        let crc = self.crc;
        self.write(&crc.to_be_bytes())?;
        let end = self.pos;
        self.w
            .seek(SeekFrom::Start(self.section_start))
            .and_then(|_| self.w.write_all(&len.to_be_bytes()))
            .and_then(|()| self.w.seek(SeekFrom::Start(end)))
            .map_err(|e| self.io(e))?;
        Ok(())
    }
}

/// Writes an index file. Calls must follow the file order:
/// [`symbols`](Self::symbols), then [`series`](Self::series) for every series in
/// order, then [`postings`](Self::postings) for every pair in order, then
/// [`finish`](Self::finish).
pub(crate) struct IndexWriter {
    out: SectionFile,
    toc: [u64; NUM_SECTIONS],
    /// Offset of each series entry within the series payload.
    series_offsets: Vec<u64>,
    /// (name id, value id, postings offset) per pair, in order.
    table: Vec<(u32, u32, u64)>,
    stage: usize,
    buf: Vec<u8>,
}

impl IndexWriter {
    /// Creates the file and writes its header.
    pub(crate) fn create(path: &Path) -> Result<IndexWriter, BlockError> {
        let file = File::create(path).map_err(|e| BlockError::io(path, e))?;
        let mut out = SectionFile {
            path: path.to_path_buf(),
            w: BufWriter::with_capacity(1 << 20, file),
            pos: 0,
            section_start: 0,
            crc: 0,
        };
        let mut header = [0u8; INDEX_HEADER_LEN];
        header[..4].copy_from_slice(&INDEX_MAGIC);
        header[4] = INDEX_VERSION;
        out.write(&header)?;
        Ok(IndexWriter {
            out,
            toc: [0; NUM_SECTIONS],
            series_offsets: Vec::new(),
            table: Vec::new(),
            stage: 0,
            buf: Vec::with_capacity(256),
        })
    }

    fn limit(&self, detail: impl Into<String>) -> BlockError {
        BlockError::CannotWrite {
            path: self.out.path.clone(),
            detail: detail.into(),
        }
    }

    /// Moves to section `stage`, closing the previous ones.
    fn advance_to(&mut self, stage: usize) -> Result<(), BlockError> {
        while self.stage < stage {
            match self.stage {
                0 => self.symbols(&[])?,
                1 => {
                    // Close series, write series offsets, open postings.
                    self.out.end()?;
                    self.toc[2] = self.out.begin()?;
                    let offsets = std::mem::take(&mut self.series_offsets);
                    let mut chunk = Vec::with_capacity(8 * 1024);
                    for group in offsets.chunks(1024) {
                        chunk.clear();
                        for &o in group {
                            put_be_u64(&mut chunk, o);
                        }
                        self.out.write(&chunk)?;
                    }
                    self.out.end()?;
                    self.toc[3] = self.out.begin()?;
                    self.stage = 2;
                }
                _ => return Err(self.limit("index sections written out of order")),
            }
        }
        if self.stage != stage {
            return Err(self.limit("index sections written out of order"));
        }
        Ok(())
    }

    /// Writes the symbol table: strictly increasing strings. Symbol ids used later
    /// are positions in this slice. Opens the series section.
    pub(crate) fn symbols(&mut self, symbols: &[&str]) -> Result<(), BlockError> {
        if self.stage != 0 {
            return Err(self.limit("symbols written twice"));
        }
        if u32::try_from(symbols.len()).is_err() {
            return Err(self.limit(format!("{} symbols exceed u32", symbols.len())));
        }
        self.toc[0] = self.out.begin()?;
        let start = self.out.pos;
        self.buf.clear();
        put_uvarint(&mut self.buf, symbols.len() as u64);
        for s in symbols {
            put_uvarint(&mut self.buf, s.len() as u64);
            self.buf.extend_from_slice(s.as_bytes());
            if self.buf.len() >= 64 * 1024 {
                let b = std::mem::take(&mut self.buf);
                self.out.write(&b)?;
                self.buf = b;
                self.buf.clear();
            }
        }
        let b = std::mem::take(&mut self.buf);
        self.out.write(&b)?;
        self.buf = b;
        if self.out.pos - start > u64::from(u32::MAX) {
            return Err(self.limit("symbol table exceeds 4 GiB"));
        }
        self.out.end()?;
        self.toc[1] = self.out.begin()?;
        self.stage = 1;
        Ok(())
    }

    /// Appends the next series: `(name id, value id)` pairs in name order and its
    /// chunk metas in time order.
    pub(crate) fn series(
        &mut self,
        labels: impl ExactSizeIterator<Item = (u32, u32)>,
        chunks: &[ChunkMeta],
    ) -> Result<(), BlockError> {
        self.advance_to(1)?;
        if self.series_offsets.len() > u32::MAX as usize {
            return Err(self.limit("more than 2^32 series"));
        }
        self.series_offsets
            .push(self.out.pos - self.out.section_start - 8);
        let buf = &mut self.buf;
        buf.clear();
        put_uvarint(buf, labels.len() as u64);
        for (n, v) in labels {
            put_uvarint(buf, u64::from(n));
            put_uvarint(buf, u64::from(v));
        }
        put_uvarint(buf, chunks.len() as u64);
        let mut prev: Option<&ChunkMeta> = None;
        for c in chunks {
            match prev {
                None => {
                    put_varint(buf, c.min_time);
                    put_uvarint(buf, c.max_time.wrapping_sub(c.min_time) as u64);
                    put_uvarint(buf, c.chunk_ref);
                }
                Some(p) => {
                    put_varint(buf, c.min_time.wrapping_sub(p.max_time));
                    put_uvarint(buf, c.max_time.wrapping_sub(c.min_time) as u64);
                    put_uvarint(buf, c.chunk_ref.wrapping_sub(p.chunk_ref));
                }
            }
            prev = Some(c);
        }
        let b = std::mem::take(&mut self.buf);
        let r = self.out.write(&b);
        self.buf = b;
        r
    }

    /// Appends the postings list of the next `(name id, value id)` pair; `ids` is
    /// strictly increasing and non-empty.
    pub(crate) fn postings(
        &mut self,
        name: u32,
        value: u32,
        ids: &[u32],
    ) -> Result<(), BlockError> {
        self.advance_to(2)?;
        let offset = self.out.pos - self.out.section_start - 8;
        self.table.push((name, value, offset));
        let buf = &mut self.buf;
        buf.clear();
        put_uvarint(buf, ids.len() as u64);
        let mut prev = 0u32;
        for (i, &id) in ids.iter().enumerate() {
            put_uvarint(buf, u64::from(if i == 0 { id } else { id - prev }));
            prev = id;
        }
        let b = std::mem::take(&mut self.buf);
        let r = self.out.write(&b);
        self.buf = b;
        r
    }

    /// Writes the postings offset table and the TOC, then flushes and fsyncs.
    /// Returns the file size.
    pub(crate) fn finish(mut self) -> Result<u64, BlockError> {
        self.advance_to(2)?;
        self.out.end()?;
        self.toc[4] = self.out.begin()?;
        let table = std::mem::take(&mut self.table);
        let mut buf = Vec::with_capacity(64 * 1024);
        let names = {
            let mut n = 0u64;
            let mut last = None;
            for &(name, _, _) in &table {
                if last != Some(name) {
                    n += 1;
                    last = Some(name);
                }
            }
            n
        };
        put_uvarint(&mut buf, names);
        let mut prev_offset = 0u64;
        let mut i = 0;
        while i < table.len() {
            let name = table[i].0;
            let j = table[i..]
                .iter()
                .position(|t| t.0 != name)
                .map_or(table.len(), |k| i + k);
            put_uvarint(&mut buf, u64::from(name));
            put_uvarint(&mut buf, (j - i) as u64);
            for &(_, value, offset) in &table[i..j] {
                put_uvarint(&mut buf, u64::from(value));
                put_uvarint(&mut buf, offset - prev_offset);
                prev_offset = offset;
            }
            if buf.len() >= 64 * 1024 {
                self.out.write(&buf)?;
                buf.clear();
            }
            i = j;
        }
        self.out.write(&buf)?;
        self.out.end()?;
        let mut toc = Vec::with_capacity(TOC_LEN);
        for &o in &self.toc {
            put_be_u64(&mut toc, o);
        }
        let crc = crc32c::crc32c(&toc);
        toc.extend_from_slice(&crc.to_be_bytes());
        self.out.write(&toc)?;
        let size = self.out.pos;
        let path = self.out.path.clone();
        let file = self
            .out
            .w
            .into_inner()
            .map_err(|e| BlockError::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| BlockError::io(&path, e))?;
        Ok(size)
    }
}
