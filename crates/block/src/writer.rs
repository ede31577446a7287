//! [`BlockWriter`]: builds a block directory from series given in label order.

use crate::chunks::{CHUNKS_DIRNAME, SegmentWriter};
use crate::error::BlockError;
use crate::index_writer::IndexWriter;
use crate::meta::{BLOCK_VERSION, BlockMeta, BlockStats, CompactionMeta, META_FILENAME};
use crate::ulid::is_valid_ulid;
use crate::{ChunkMeta, INDEX_FILENAME};
use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use watchfire_model::{Labels, SymbolTable};

/// Writes one block.
///
/// Chunks go to the segment files as soon as a series is added; labels, chunk metas
/// and postings are kept in memory (interned: a few bytes per label occurrence and
/// per chunk) until [`finish`](Self::finish) writes the index and `meta.json`,
/// fsyncs everything and renames the `.tmp` directory into place.
///
/// The sample count in `meta.json` is whatever was passed to
/// [`add_samples`](Self::add_samples): this crate does not decode chunks.
///
/// Dropping a writer without calling `finish` deletes its `.tmp` directory. After an
/// I/O error the writer should be dropped.
pub struct BlockWriter {
    tmp_dir: PathBuf,
    final_dir: PathBuf,
    parent: PathBuf,
    ulid: String,
    min_time: i64,
    max_time: i64,
    chunks: SegmentWriter,
    /// Interned label names and values; ids here are temporary (insertion order).
    symbols: SymbolTable,
    /// `(name, value)` temporary symbol ids of all series, back to back.
    label_ids: Vec<(u32, u32)>,
    /// End of each series' labels in `label_ids`.
    label_ends: Vec<usize>,
    chunk_metas: Vec<ChunkMeta>,
    /// End of each series' chunks in `chunk_metas`.
    chunk_ends: Vec<usize>,
    /// Series ids per `(name, value)` pair of temporary ids.
    postings: FxHashMap<(u32, u32), Vec<u32>>,
    last: Option<Labels>,
    num_samples: u64,
    finished: bool,
}

impl std::fmt::Debug for BlockWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockWriter")
            .field("dir", &self.tmp_dir)
            .field("series", &self.label_ends.len())
            .field("chunks", &self.chunk_metas.len())
            .finish_non_exhaustive()
    }
}

fn sync_dir(dir: &Path) -> Result<(), BlockError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| BlockError::io(dir, e))
}

impl BlockWriter {
    /// Starts a block covering `[min_time, max_time)`. Writes into
    /// `<parent>/<ulid>.tmp` (removing a stale one), renamed to `<parent>/<ulid>` by
    /// [`finish`](Self::finish) after fsync. Fails if `ulid` is not a ULID,
    /// `min_time > max_time`, or `<parent>/<ulid>` already exists.
    pub fn new(
        parent: &Path,
        ulid: &str,
        min_time: i64,
        max_time: i64,
    ) -> Result<Self, BlockError> {
        let final_dir = parent.join(ulid);
        let tmp_dir = parent.join(format!("{ulid}.tmp"));
        let reject = |detail: String| BlockError::CannotWrite {
            path: final_dir.clone(),
            detail,
        };
        if !is_valid_ulid(ulid) {
            return Err(reject(format!("{ulid:?} is not a ULID")));
        }
        if min_time > max_time {
            return Err(reject(format!("min_time {min_time} > max_time {max_time}")));
        }
        if final_dir.exists() {
            return Err(reject("block directory already exists".into()));
        }
        if tmp_dir.exists() {
            std::fs::remove_dir_all(&tmp_dir).map_err(|e| BlockError::io(&tmp_dir, e))?;
        }
        let chunks_dir = tmp_dir.join(CHUNKS_DIRNAME);
        std::fs::create_dir_all(&chunks_dir).map_err(|e| BlockError::io(&chunks_dir, e))?;
        Ok(BlockWriter {
            tmp_dir,
            final_dir,
            parent: parent.to_path_buf(),
            ulid: ulid.to_owned(),
            min_time,
            max_time,
            chunks: SegmentWriter::new(chunks_dir),
            symbols: SymbolTable::new(),
            label_ids: Vec::new(),
            label_ends: Vec::new(),
            chunk_metas: Vec::new(),
            chunk_ends: Vec::new(),
            postings: FxHashMap::default(),
            last: None,
            num_samples: 0,
            finished: false,
        })
    }

    /// The temporary directory being written.
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp_dir
    }

    /// Lowers the chunk segment file size limit (default and maximum
    /// [`MAX_SEGMENT_SIZE`](crate::MAX_SEGMENT_SIZE)) for chunks written from now
    /// on; mainly for tests.
    pub fn set_max_segment_size(&mut self, bytes: u64) {
        self.chunks.set_max_size(bytes);
    }

    /// Adds `n` to the sample count recorded in `meta.json` (`stats.numSamples`).
    /// Call it with the number of samples in the chunks passed to
    /// [`add_series`](Self::add_series); the total is all that matters.
    pub fn add_samples(&mut self, n: u64) {
        self.num_samples = self.num_samples.saturating_add(n);
    }

    /// Number of series added so far.
    pub fn num_series(&self) -> u32 {
        self.label_ends.len() as u32
    }

    /// Adds the next series.
    ///
    /// Series MUST be added in strictly increasing [`Labels`] order; the id of a
    /// series in the block is the number of series added before it. `labels` must
    /// be non-empty with non-empty names and values. Each chunk is
    /// `(min_time, max_time, encoding, bytes)` with `min_time <= max_time`, chunks in
    /// time order and non-overlapping (each `min_time` after the previous
    /// `max_time`). Chunk times should lie inside the block's range; this is not
    /// checked. A series may have no chunks.
    ///
    /// Nothing is written when validation fails, so the writer stays usable.
    pub fn add_series(
        &mut self,
        labels: &Labels,
        chunks: &[(i64, i64, u8, &[u8])],
    ) -> Result<(), BlockError> {
        self.validate(labels, chunks)?;
        let id = self.label_ends.len() as u32;
        for &(min_time, max_time, encoding, data) in chunks {
            let chunk_ref = self.chunks.write(encoding, data)?;
            self.chunk_metas.push(ChunkMeta {
                min_time,
                max_time,
                chunk_ref,
            });
        }
        self.chunk_ends.push(self.chunk_metas.len());
        for l in labels {
            let key = (self.symbols.intern(&l.name), self.symbols.intern(&l.value));
            self.label_ids.push(key);
            self.postings.entry(key).or_default().push(id);
        }
        self.label_ends.push(self.label_ids.len());
        self.last = Some(labels.clone());
        Ok(())
    }

    fn validate(
        &self,
        labels: &Labels,
        chunks: &[(i64, i64, u8, &[u8])],
    ) -> Result<(), BlockError> {
        let invalid = |detail: String| BlockError::InvalidSeries {
            labels: labels.to_string(),
            detail,
        };
        if let Some(last) = &self.last
            && labels <= last
        {
            return Err(BlockError::OutOfOrderSeries {
                previous: last.to_string(),
                labels: labels.to_string(),
            });
        }
        if labels.is_empty() {
            return Err(invalid("empty label set".into()));
        }
        if self.label_ends.len() >= u32::MAX as usize {
            return Err(invalid("block already holds 2^32-1 series".into()));
        }
        let mut prev: Option<&str> = None;
        for l in labels {
            if l.name.is_empty() || l.value.is_empty() {
                return Err(invalid("empty label name or value".into()));
            }
            if prev.is_some_and(|p| p >= l.name.as_str()) {
                return Err(invalid("label names not sorted and unique".into()));
            }
            prev = Some(&l.name);
        }
        let mut prev_max: Option<i64> = None;
        for (i, &(min_time, max_time, _, _)) in chunks.iter().enumerate() {
            if min_time > max_time {
                return Err(invalid(format!(
                    "chunk {i}: min_time {min_time} > max_time {max_time}"
                )));
            }
            if let Some(p) = prev_max
                && min_time <= p
            {
                return Err(invalid(format!(
                    "chunk {i}: min_time {min_time} not after previous max_time {p}"
                )));
            }
            prev_max = Some(max_time);
        }
        Ok(())
    }

    /// Writes the index and `meta.json`, fsyncs, and renames the directory to
    /// `<parent>/<ulid>`. Returns the metadata written.
    ///
    /// `compaction.level` 0 is written as 1 and empty `compaction.sources` as
    /// `[ulid]`, which is what a block cut from the head needs; compaction passes
    /// its own values.
    pub fn finish(mut self, compaction: CompactionMeta) -> Result<BlockMeta, BlockError> {
        self.chunks.finish()?;

        // Final symbol ids: positions in the sorted table. Temporary ids map to them.
        let n = self.symbols.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by(|&a, &b| self.symbols.resolve(a).cmp(self.symbols.resolve(b)));
        let mut remap = vec![0u32; n];
        for (final_id, &tmp) in order.iter().enumerate() {
            remap[tmp as usize] = final_id as u32;
        }
        let sorted: Vec<&str> = order.iter().map(|&t| self.symbols.resolve(t)).collect();

        let index_path = self.tmp_dir.join(INDEX_FILENAME);
        let mut ix = IndexWriter::create(&index_path)?;
        ix.symbols(&sorted)?;
        let (mut l0, mut c0) = (0, 0);
        for (&l1, &c1) in self.label_ends.iter().zip(&self.chunk_ends) {
            let labels = self.label_ids[l0..l1]
                .iter()
                .map(|&(n, v)| (remap[n as usize], remap[v as usize]));
            ix.series(labels, &self.chunk_metas[c0..c1])?;
            (l0, c0) = (l1, c1);
        }
        let mut pairs: Vec<((u32, u32), Vec<u32>)> = std::mem::take(&mut self.postings)
            .into_iter()
            .map(|((n, v), ids)| ((remap[n as usize], remap[v as usize]), ids))
            .collect();
        pairs.sort_unstable_by_key(|p| p.0);
        for ((n, v), ids) in &pairs {
            ix.postings(*n, *v, ids)?;
        }
        drop(pairs);
        ix.finish()?;

        let mut compaction = compaction;
        if compaction.level == 0 {
            compaction.level = 1;
        }
        if compaction.sources.is_empty() {
            compaction.sources.push(self.ulid.clone());
        }
        let meta = BlockMeta {
            ulid: self.ulid.clone(),
            min_time: self.min_time,
            max_time: self.max_time,
            stats: BlockStats {
                num_samples: self.num_samples,
                num_series: self.label_ends.len() as u64,
                num_chunks: self.chunk_metas.len() as u64,
            },
            compaction,
            version: BLOCK_VERSION,
        };
        let meta_path = self.tmp_dir.join(META_FILENAME);
        let mut f = File::create(&meta_path).map_err(|e| BlockError::io(&meta_path, e))?;
        f.write_all(meta.to_json().as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| BlockError::io(&meta_path, e))?;
        drop(f);

        sync_dir(&self.tmp_dir.join(CHUNKS_DIRNAME))?;
        sync_dir(&self.tmp_dir)?;
        std::fs::rename(&self.tmp_dir, &self.final_dir)
            .map_err(|e| BlockError::io(&self.final_dir, e))?;
        self.finished = true;
        sync_dir(&self.parent)?;
        tracing::debug!(
            block = %self.final_dir.display(),
            series = meta.stats.num_series,
            chunks = meta.stats.num_chunks,
            "block written"
        );
        Ok(meta)
    }
}

impl Drop for BlockWriter {
    fn drop(&mut self) {
        if !self.finished {
            // Best effort: an unfinished .tmp directory is also removed at start-up.
            let _ = std::fs::remove_dir_all(&self.tmp_dir);
        }
    }
}
