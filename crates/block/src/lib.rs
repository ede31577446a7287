//! Persisted, immutable blocks of Watchfire's TSDB: on-disk format, writer, reader
//! and postings (the inverted index queries run on).
//!
//! # Layout
//!
//! A block holds every series and chunk of the half-open time range
//! `[min_time, max_time)` in a directory named by a [ULID](new_ulid):
//!
//! ```text
//! <ULID>/meta.json      BlockMeta, Prometheus' field names
//! <ULID>/index          symbols, series, postings, postings offset table, TOC
//! <ULID>/chunks/000001  chunk segment files (<= 512 MiB each)
//! <ULID>/tombstones     reserved
//! ```
//!
//! The byte-level specification lives in `docs/format/block.md` and
//! `docs/format/index.md` at the repository root; this crate implements it.
//!
//! # Design
//!
//! * **Symbols.** Every distinct label name and value is stored once, in a sorted
//!   table; series refer to strings by their position in it. Because the table is
//!   sorted, comparing symbol ids compares strings, which keeps label values sorted
//!   for free.
//! * **Series ids** are positions in label order (`0..num_series`), so postings are
//!   dense `u32`s, and a head index can use the very same evaluation code
//!   ([`postings_for_matchers`] is generic over [`PostingsIndex`]). A fixed-width
//!   offset table maps an id to its series entry without any memory on the heap.
//! * **Postings** are delta-encoded varint lists, one per `(name, value)` pair. The
//!   *postings offset table* (name → sorted `(value, offset)`) is decoded into memory
//!   on open; it doubles as the label-name → values index.
//! * **Integrity.** Every index section is framed with its length and a CRC32C, and
//!   sections must tile the file exactly, so any damaged byte of the index fails
//!   [`Block::open`]. Each chunk carries its own CRC32C, verified by
//!   [`Block::chunk`]. All decoding is bounds-checked: corrupt or truncated files
//!   give a [`BlockError`] naming the file, section and offset, never a panic.
//! * **Atomicity.** [`BlockWriter`] writes into `<ULID>.tmp`, fsyncs, and renames;
//!   a directory without the suffix is always complete.
//! * **Chunks are opaque**: bytes plus a one-byte encoding id (1 = XOR, defined by
//!   the chunk encoding crate). This crate never decodes samples, so the sample
//!   count in `meta.json` is supplied by the caller ([`BlockWriter::add_samples`]).
//!
//! # Example
//!
//! ```
//! use watchfire_block::{Block, BlockWriter, CompactionMeta, PostingsIndex, new_ulid};
//! use watchfire_model::{Labels, Matcher};
//!
//! let parent = tempfile::tempdir()?;
//! let ulid = new_ulid(1_700_000_000_000);
//! let mut w = BlockWriter::new(parent.path(), &ulid, 0, 7_200_000)?;
//! w.add_series(&Labels::from_pairs([("__name__", "up"), ("job", "api")]), &[(0, 15_000, 1, b"xor bytes")])?;
//! w.add_series(&Labels::from_pairs([("__name__", "up"), ("job", "db")]), &[(0, 15_000, 1, b"more")])?;
//! w.add_samples(4);
//! let meta = w.finish(CompactionMeta::default())?;
//! assert_eq!(meta.stats.num_series, 2);
//!
//! let block = Block::open(&parent.path().join(&ulid))?;
//! let ids = watchfire_block::postings_for_matchers(block.index(), &[Matcher::equal("job", "db")])?;
//! assert_eq!(ids, vec![1]);
//! let (labels, chunks) = block.index().series(ids[0])?;
//! assert_eq!(labels.get("job"), Some("db"));
//! assert_eq!(block.chunk(chunks[0].chunk_ref)?, (1, &b"more"[..]));
//! assert_eq!(block.index().label_values("job")?, vec!["api", "db"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod block;
mod chunks;
mod encoding;
mod error;
mod index_reader;
mod index_writer;
mod meta;
mod postings;
mod ulid;
mod writer;

pub use block::Block;
pub use chunks::{CHUNKS_DIRNAME, MAX_SEGMENT_SIZE, chunk_ref, chunk_ref_parts, segment_file_name};
pub use error::BlockError;
pub use index_reader::IndexReader;
pub use meta::{BLOCK_VERSION, BlockMeta, BlockStats, CompactionMeta, META_FILENAME};
pub use postings::{
    PostingsIndex, postings_for_matchers, sorted_intersect, sorted_subtract, sorted_union,
};
pub use ulid::{is_valid_ulid, new_ulid, ulid_time};
pub use writer::BlockWriter;

/// Name of the index file inside a block directory.
pub const INDEX_FILENAME: &str = "index";

/// Name reserved for the tombstones file inside a block directory (not written yet).
pub const TOMBSTONES_FILENAME: &str = "tombstones";

/// Where one chunk of a series lives and what time range it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkMeta {
    /// Timestamp of the chunk's first sample (ms, inclusive).
    pub min_time: i64,
    /// Timestamp of the chunk's last sample (ms, inclusive).
    pub max_time: i64,
    /// `(segment file number << 32) | byte offset`; see [`chunk_ref`].
    pub chunk_ref: u64,
}

impl ChunkMeta {
    /// Whether the chunk has samples in `[mint, maxt]` (inclusive).
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.min_time <= maxt && mint <= self.max_time
    }
}
