//! Reads a memory-mapped index file (see `docs/format/index.md`).

use crate::ChunkMeta;
use crate::encoding::{DecodeError, Decoder, uvarint_u32_at};
use crate::error::BlockError;
use crate::index_writer::{
    INDEX_HEADER_LEN, INDEX_MAGIC, INDEX_VERSION, NUM_SECTIONS, SECTION_NAMES, SECTION_OVERHEAD,
    TOC_LEN,
};
use crate::postings::PostingsIndex;
use memmap2::Mmap;
use std::cmp::Ordering;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use watchfire_model::{Label, Labels};

/// One label name of the postings offset table, decoded on open.
#[derive(Debug)]
struct NameEntry {
    name: String,
    /// Symbol ids of the name's values, ascending (so the values sort ascending).
    values: Vec<u32>,
    /// Offset of each value's postings list in the postings payload.
    offsets: Vec<u64>,
}

/// Reader of a block's `index` file.
///
/// The file is memory-mapped. Opening verifies the header, the TOC and every
/// section's checksum, then decodes into memory only the symbol offsets and the
/// postings offset table (`name → [(value, offset)]`). Series entries and postings
/// lists are decoded from the map on demand, every read bounds-checked.
#[derive(Debug)]
pub struct IndexReader {
    path: PathBuf,
    map: Mmap,
    /// Payload ranges (absolute file offsets) of the sections.
    sections: [Range<usize>; NUM_SECTIONS],
    /// Offset of each symbol's length varint, relative to the symbols payload.
    symbol_offsets: Vec<u32>,
    num_series: u32,
    names: Vec<NameEntry>,
}

const SYMBOLS: usize = 0;
const SERIES: usize = 1;
const SERIES_OFFSETS: usize = 2;
const POSTINGS: usize = 3;
const POSTINGS_TABLE: usize = 4;

impl IndexReader {
    /// Opens and validates an index file.
    pub fn open(path: &Path) -> Result<IndexReader, BlockError> {
        let file = File::open(path).map_err(|e| BlockError::io(path, e))?;
        let len = file.metadata().map_err(|e| BlockError::io(path, e))?.len();
        let min_len = (INDEX_HEADER_LEN + NUM_SECTIONS * SECTION_OVERHEAD + TOC_LEN) as u64;
        if len < min_len {
            return Err(BlockError::corrupt(
                path,
                "header",
                0,
                format!("file is {len} bytes, shorter than the smallest index ({min_len})"),
            ));
        }
        // SAFETY: index files are never modified after the block is finished; a file
        // truncated by another process while mapped would fault, which memory maps
        // cannot prevent and the TSDB never does.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| BlockError::io(path, e))?;
        let sections = check_layout(path, &map)?;
        let mut r = IndexReader {
            path: path.to_path_buf(),
            map,
            sections,
            symbol_offsets: Vec::new(),
            num_series: 0,
            names: Vec::new(),
        };
        r.symbol_offsets = r.load_symbols()?;
        let offsets_len = r.sections[SERIES_OFFSETS].len();
        if !offsets_len.is_multiple_of(8) {
            return Err(r.corrupt(
                SERIES_OFFSETS,
                0,
                format!("length {offsets_len} is not a multiple of 8"),
            ));
        }
        r.num_series = u32::try_from(offsets_len / 8)
            .map_err(|_| r.corrupt(SERIES_OFFSETS, 0, "more than 2^32 series"))?;
        r.names = r.load_postings_table()?;
        Ok(r)
    }

    /// Path of the index file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the index file in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.map.len() as u64
    }

    /// Number of series; their ids are `0..num_series()`.
    pub fn num_series(&self) -> u32 {
        self.num_series
    }

    /// Number of symbols (distinct label names and values).
    pub fn num_symbols(&self) -> u32 {
        self.symbol_offsets.len() as u32
    }

    /// The symbol with id `id` (symbols are sorted, so ids order like strings).
    pub fn symbol(&self, id: u32) -> Result<&str, BlockError> {
        let Some(&off) = self.symbol_offsets.get(id as usize) else {
            return Err(self.corrupt(
                SYMBOLS,
                0,
                format!(
                    "symbol id {id} out of range ({} symbols)",
                    self.num_symbols()
                ),
            ));
        };
        let payload = self.payload(SYMBOLS);
        let mut d = Decoder::at(payload, off as usize);
        let bytes = d
            .uvarint_usize()
            .and_then(|n| d.bytes(n))
            .map_err(|e| self.decode_err(SYMBOLS, e))?;
        std::str::from_utf8(bytes)
            .map_err(|e| self.corrupt(SYMBOLS, off as usize, format!("invalid UTF-8: {e}")))
    }

    /// All symbols in ascending order.
    pub fn symbols(&self) -> impl Iterator<Item = Result<&str, BlockError>> + '_ {
        (0..self.num_symbols()).map(move |id| self.symbol(id))
    }

    /// The labels and chunk metas of series `id`.
    pub fn series(&self, id: u32) -> Result<(Labels, Vec<ChunkMeta>), BlockError> {
        if id >= self.num_series {
            return Err(BlockError::SeriesNotFound {
                path: self.path.clone(),
                id,
                num_series: self.num_series,
            });
        }
        let offs = self.payload(SERIES_OFFSETS);
        let off = Decoder::at(offs, id as usize * 8)
            .be_u64()
            .map_err(|e| self.decode_err(SERIES_OFFSETS, e))?;
        let payload = self.payload(SERIES);
        let start = usize::try_from(off)
            .ok()
            .filter(|&o| o < payload.len())
            .ok_or_else(|| {
                self.corrupt(
                    SERIES_OFFSETS,
                    id as usize * 8,
                    format!("series {id} offset {off} outside the series section"),
                )
            })?;
        let mut d = Decoder::at(payload, start);
        self.decode_series(&mut d)
            .map_err(|e| self.decode_err(SERIES, e))?
            .map_err(|(at, what)| self.corrupt(SERIES, at, format!("series {id}: {what}")))
    }

    /// Decodes one series entry. The outer error is a decoding failure; the inner
    /// one (offset, message) an invalid value.
    #[allow(clippy::type_complexity)]
    fn decode_series(
        &self,
        d: &mut Decoder<'_>,
    ) -> Result<Result<(Labels, Vec<ChunkMeta>), (usize, String)>, DecodeError> {
        let at = d.pos();
        let k = d.uvarint_usize()?;
        if k == 0 || k > d.remaining() / 2 {
            return Ok(Err((at, format!("invalid label count {k}"))));
        }
        let mut labels = Vec::with_capacity(k);
        let mut prev_name = None;
        for _ in 0..k {
            let at = d.pos();
            let n = d.uvarint_u32()?;
            let v = d.uvarint_u32()?;
            if prev_name.is_some_and(|p| p >= n) {
                return Ok(Err((at, "label names not strictly increasing".into())));
            }
            prev_name = Some(n);
            let (name, value) = match (self.symbol(n), self.symbol(v)) {
                (Ok(name), Ok(value)) => (name, value),
                _ => return Ok(Err((at, format!("bad symbol ids {n}/{v}")))),
            };
            if value.is_empty() {
                return Ok(Err((at, format!("empty value for label {name:?}"))));
            }
            labels.push(Label::new(name, value));
        }
        let at = d.pos();
        let c = d.uvarint_usize()?;
        if c > d.remaining() / 3 {
            return Ok(Err((at, format!("invalid chunk count {c}"))));
        }
        let mut chunks: Vec<ChunkMeta> = Vec::with_capacity(c);
        for _ in 0..c {
            let at = d.pos();
            let meta = match chunks.last() {
                None => {
                    let min_time = d.varint()?;
                    let span = d.uvarint()?;
                    let chunk_ref = d.uvarint()?;
                    ChunkMeta {
                        min_time,
                        max_time: min_time.wrapping_add(span as i64),
                        chunk_ref,
                    }
                }
                Some(p) => {
                    let min_time = p.max_time.wrapping_add(d.varint()?);
                    let span = d.uvarint()?;
                    let chunk_ref = p.chunk_ref.wrapping_add(d.uvarint()?);
                    ChunkMeta {
                        min_time,
                        max_time: min_time.wrapping_add(span as i64),
                        chunk_ref,
                    }
                }
            };
            if meta.max_time < meta.min_time
                || chunks.last().is_some_and(|p| meta.min_time <= p.max_time)
            {
                return Ok(Err((at, "chunk time ranges out of order".into())));
            }
            chunks.push(meta);
        }
        Ok(Ok((Labels::from_sorted_unchecked(labels), chunks)))
    }

    fn payload(&self, section: usize) -> &[u8] {
        self.map
            .get(self.sections[section].clone())
            .unwrap_or_default()
    }

    fn corrupt(&self, section: usize, at: usize, detail: impl Into<String>) -> BlockError {
        let base = self.sections[section].start as u64;
        BlockError::corrupt(&self.path, SECTION_NAMES[section], base + at as u64, detail)
    }

    fn decode_err(&self, section: usize, e: DecodeError) -> BlockError {
        self.corrupt(section, e.at, e.what)
    }

    /// Walks the symbols once: checks UTF-8 and strict order, records offsets.
    fn load_symbols(&self) -> Result<Vec<u32>, BlockError> {
        let payload = self.payload(SYMBOLS);
        if u32::try_from(payload.len()).is_err() {
            return Err(self.corrupt(SYMBOLS, 0, "symbol table larger than 4 GiB"));
        }
        let mut d = Decoder::new(payload);
        let err = |e| self.decode_err(SYMBOLS, e);
        let count = d.uvarint_usize().map_err(err)?;
        if count > d.remaining() {
            return Err(self.corrupt(SYMBOLS, 0, format!("symbol count {count} too large")));
        }
        let mut offsets = Vec::with_capacity(count);
        let mut prev: Option<&[u8]> = None;
        for _ in 0..count {
            let at = d.pos();
            let n = d.uvarint_usize().map_err(err)?;
            let s = d.bytes(n).map_err(err)?;
            if std::str::from_utf8(s).is_err() {
                return Err(self.corrupt(SYMBOLS, at, "symbol is not valid UTF-8"));
            }
            if prev.is_some_and(|p| p >= s) {
                return Err(self.corrupt(SYMBOLS, at, "symbols not strictly increasing"));
            }
            prev = Some(s);
            offsets.push(at as u32);
        }
        if !d.is_empty() {
            return Err(self.corrupt(SYMBOLS, d.pos(), "trailing bytes after symbols"));
        }
        Ok(offsets)
    }

    /// Decodes the postings offset table into memory.
    fn load_postings_table(&self) -> Result<Vec<NameEntry>, BlockError> {
        let payload = self.payload(POSTINGS_TABLE);
        let postings_len = self.sections[POSTINGS].len() as u64;
        let mut d = Decoder::new(payload);
        let err = |e| self.decode_err(POSTINGS_TABLE, e);
        let bad = |at: usize, what: String| self.corrupt(POSTINGS_TABLE, at, what);
        let num_names = d.uvarint_usize().map_err(err)?;
        if num_names > d.remaining() {
            return Err(bad(0, format!("name count {num_names} too large")));
        }
        let mut names = Vec::with_capacity(num_names);
        let mut prev_name: Option<u32> = None;
        let mut offset: Option<u64> = None;
        for _ in 0..num_names {
            let at = d.pos();
            let name_id = d.uvarint_u32().map_err(err)?;
            if prev_name.is_some_and(|p| p >= name_id) {
                return Err(bad(at, "label names not strictly increasing".into()));
            }
            prev_name = Some(name_id);
            let name = self
                .symbol(name_id)
                .map_err(|_| bad(at, format!("bad name symbol id {name_id}")))?
                .to_owned();
            let n = d.uvarint_usize().map_err(err)?;
            if n == 0 || n > d.remaining() / 2 {
                return Err(bad(at, format!("invalid value count {n} for {name:?}")));
            }
            let mut values = Vec::with_capacity(n);
            let mut offsets = Vec::with_capacity(n);
            for _ in 0..n {
                let at = d.pos();
                let v = d.uvarint_u32().map_err(err)?;
                let delta = d.uvarint().map_err(err)?;
                if v >= self.num_symbols() || values.last().is_some_and(|&p| p >= v) {
                    return Err(bad(at, format!("bad value symbol id {v} for {name:?}")));
                }
                let o = match offset {
                    None => delta,
                    Some(_) if delta == 0 => {
                        return Err(bad(at, "postings offsets not increasing".into()));
                    }
                    Some(prev) => prev.saturating_add(delta),
                };
                if o >= postings_len {
                    return Err(bad(
                        at,
                        format!("postings offset {o} outside the postings section"),
                    ));
                }
                offset = Some(o);
                values.push(v);
                offsets.push(o);
            }
            names.push(NameEntry {
                name,
                values,
                offsets,
            });
        }
        if !d.is_empty() {
            return Err(bad(d.pos(), "trailing bytes after postings table".into()));
        }
        Ok(names)
    }

    fn name_entry(&self, name: &str) -> Option<&NameEntry> {
        self.names
            .binary_search_by(|e| e.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.names[i])
    }

    /// Offset of the postings list of `name=value`, if the pair exists.
    fn postings_offset(&self, name: &str, value: &str) -> Result<Option<u64>, BlockError> {
        let Some(e) = self.name_entry(name) else {
            return Ok(None);
        };
        let (mut lo, mut hi) = (0, e.values.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.symbol(e.values[mid])?.cmp(value) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Ok(Some(e.offsets[mid])),
            }
        }
        Ok(None)
    }

    /// Decodes the postings list at `offset` of the postings payload, appending to
    /// `out`.
    fn read_postings(&self, offset: u64, out: &mut Vec<u32>) -> Result<(), BlockError> {
        let payload = self.payload(POSTINGS);
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let mut d = Decoder::at(payload, start);
        let n = d
            .uvarint_usize()
            .map_err(|e| self.decode_err(POSTINGS, e))?;
        if n == 0 || n > d.remaining() {
            return Err(self.corrupt(POSTINGS, start, format!("invalid postings count {n}")));
        }
        // Hot loop: decode straight from the slice, validate once at the end (ids
        // strictly increase, so checking the last one bounds them all).
        let base = out.len();
        out.reserve(n);
        let mut pos = d.pos();
        let mut id: u64 = 0;
        for i in 0..n {
            let at = pos;
            let Some(delta) = uvarint_u32_at(payload, &mut pos) else {
                out.truncate(base);
                return Err(self.corrupt(POSTINGS, at, "bad or truncated varint in postings"));
            };
            if i > 0 && delta == 0 {
                out.truncate(base);
                return Err(self.corrupt(POSTINGS, at, "postings not strictly increasing"));
            }
            id += u64::from(delta);
            out.push(id as u32);
        }
        if id >= u64::from(self.num_series) {
            out.truncate(base);
            return Err(self.corrupt(POSTINGS, start, format!("series id {id} out of range")));
        }
        Ok(())
    }
}

impl PostingsIndex for IndexReader {
    fn label_names(&self) -> Result<Vec<String>, BlockError> {
        Ok(self.names.iter().map(|e| e.name.clone()).collect())
    }

    fn label_values(&self, name: &str) -> Result<Vec<String>, BlockError> {
        let Some(e) = self.name_entry(name) else {
            return Ok(Vec::new());
        };
        e.values
            .iter()
            .map(|&v| self.symbol(v).map(str::to_owned))
            .collect()
    }

    fn postings(&self, name: &str, value: &str) -> Result<Vec<u32>, BlockError> {
        let mut out = Vec::new();
        if let Some(off) = self.postings_offset(name, value)? {
            self.read_postings(off, &mut out)?;
        }
        Ok(out)
    }

    fn all_postings(&self) -> Result<Vec<u32>, BlockError> {
        Ok((0..self.num_series).collect())
    }

    fn postings_for_values(&self, name: &str, values: &[&str]) -> Result<Vec<u32>, BlockError> {
        let mut out = Vec::new();
        for v in values {
            if let Some(off) = self.postings_offset(name, v)? {
                self.read_postings(off, &mut out)?;
            }
        }
        crate::postings::sort_dedup_runs(&mut out);
        Ok(out)
    }

    fn postings_for_label_matching(
        &self,
        name: &str,
        pred: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Vec<u32>, BlockError> {
        let mut out = Vec::new();
        let Some(e) = self.name_entry(name) else {
            return Ok(out);
        };
        for (&v, &off) in e.values.iter().zip(&e.offsets) {
            if pred(self.symbol(v)?) {
                self.read_postings(off, &mut out)?;
            }
        }
        crate::postings::sort_dedup_runs(&mut out);
        Ok(out)
    }
}

/// Checks header, TOC and section framing and checksums; returns payload ranges.
fn check_layout(path: &Path, map: &[u8]) -> Result<[Range<usize>; NUM_SECTIONS], BlockError> {
    let header = &map[..INDEX_HEADER_LEN];
    if header[..4] != INDEX_MAGIC {
        return Err(BlockError::corrupt(
            path,
            "header",
            0,
            format!("bad magic {:02x?}", &header[..4]),
        ));
    }
    if header[4] != INDEX_VERSION {
        return Err(BlockError::corrupt(
            path,
            "header",
            4,
            format!("unsupported index version {}", header[4]),
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
    let toc_start = map.len() - TOC_LEN;
    let mut d = Decoder::at(map, toc_start);
    let toc_err = |e: DecodeError| BlockError::decode(path, "toc", 0, e);
    let mut toc = [0u64; NUM_SECTIONS];
    for t in &mut toc {
        *t = d.be_u64().map_err(toc_err)?;
    }
    let stored = d.be_u32().map_err(toc_err)?;
    let computed = crc32c::crc32c(&map[toc_start..toc_start + NUM_SECTIONS * 8]);
    if stored != computed {
        return Err(BlockError::corrupt(
            path,
            "toc",
            toc_start as u64,
            format!("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"),
        ));
    }
    let mut sections: [Range<usize>; NUM_SECTIONS] = Default::default();
    let mut expected = INDEX_HEADER_LEN;
    for (i, &start) in toc.iter().enumerate() {
        let name = SECTION_NAMES[i];
        if start != expected as u64 {
            return Err(BlockError::corrupt(
                path,
                "toc",
                (toc_start + 8 * i) as u64,
                format!("section {name} starts at {start}, expected {expected}"),
            ));
        }
        let mut d = Decoder::at(&map[..toc_start], expected);
        let len = d
            .be_u64()
            .map_err(|e| BlockError::decode(path, name, 0, e))?;
        let payload_start = expected + 8;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| payload_start.checked_add(l))
            .filter(|&e| e.checked_add(4).is_some_and(|e4| e4 <= toc_start))
            .ok_or_else(|| {
                BlockError::corrupt(
                    path,
                    name,
                    expected as u64,
                    format!("length {len} runs past the end of the sections"),
                )
            })?;
        let payload = &map[payload_start..end];
        let mut d = Decoder::at(map, end);
        let stored = d
            .be_u32()
            .map_err(|e| BlockError::decode(path, name, 0, e))?;
        let computed = crc32c::crc32c(payload);
        if stored != computed {
            return Err(BlockError::corrupt(
                path,
                name,
                end as u64,
                format!("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"),
            ));
        }
        sections[i] = payload_start..end;
        expected = end + 4;
    }
    if expected != toc_start {
        return Err(BlockError::corrupt(
            path,
            "toc",
            expected as u64,
            format!(
                "{} unaccounted bytes between the last section and the TOC",
                toc_start - expected
            ),
        ));
    }
    Ok(sections)
}
