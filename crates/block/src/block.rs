//! [`Block`]: an opened, validated, memory-mapped block.

use crate::chunks::{CHUNKS_DIRNAME, ChunkReader};
use crate::error::BlockError;
use crate::index_reader::IndexReader;
use crate::meta::{BlockMeta, META_FILENAME};
use crate::postings::PostingsIndex;
use crate::{INDEX_FILENAME, TOMBSTONES_FILENAME};
use std::path::{Path, PathBuf};

/// A persisted block, opened for reading.
///
/// `Send + Sync`; queriers share it through an `Arc`. The index and the chunk segment
/// files are memory-mapped, so memory held on the heap is proportional to the
/// number of distinct label pairs (symbol offsets and the postings offset table).
#[derive(Debug)]
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    index: IndexReader,
    chunks: ChunkReader,
    size: u64,
}

impl Block {
    /// Opens the block in `dir`: reads and validates `meta.json`, maps and validates
    /// the index (header, TOC, every section's checksum and the in-memory tables),
    /// and maps the chunk segment files (checking their headers; each chunk's
    /// checksum is verified when it is read).
    ///
    /// A damaged block yields an error naming the file and, where it applies, the
    /// section and byte offset ([`BlockError::is_corruption`] is true for those).
    pub fn open(dir: &Path) -> Result<Block, BlockError> {
        let meta = BlockMeta::read(dir)?;
        let index = IndexReader::open(&dir.join(INDEX_FILENAME))?;
        let chunks = ChunkReader::open(&dir.join(CHUNKS_DIRNAME))?;
        if meta.stats.num_series != u64::from(index.num_series()) {
            tracing::warn!(
                block = %dir.display(),
                meta = meta.stats.num_series,
                index = index.num_series(),
                "meta.json series count differs from the index"
            );
        }
        let file_len = |name: &str| {
            let p = dir.join(name);
            match std::fs::metadata(&p) {
                Ok(m) => Ok(m.len()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
                Err(e) => Err(BlockError::io(&p, e)),
            }
        };
        let size = file_len(META_FILENAME)?
            + file_len(TOMBSTONES_FILENAME)?
            + index.size_bytes()
            + chunks.size_bytes();
        Ok(Block {
            dir: dir.to_path_buf(),
            meta,
            index,
            chunks,
            size,
        })
    }

    /// The block's metadata.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// The block's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes on disk: `meta.json`, `index`, chunk segment files and tombstones.
    pub fn size_bytes(&self) -> u64 {
        self.size
    }

    /// The index, which also implements [`PostingsIndex`].
    pub fn index(&self) -> &IndexReader {
        &self.index
    }

    /// The encoding byte and data of the chunk at `chunk_ref` (from a
    /// [`ChunkMeta`](crate::ChunkMeta)), bounds-checked and checksum-verified. The
    /// slice borrows the memory map.
    pub fn chunk(&self, chunk_ref: u64) -> Result<(u8, &[u8]), BlockError> {
        self.chunks.chunk(chunk_ref)
    }
}

impl PostingsIndex for Block {
    fn label_names(&self) -> Result<Vec<String>, BlockError> {
        self.index.label_names()
    }
    fn label_values(&self, name: &str) -> Result<Vec<String>, BlockError> {
        self.index.label_values(name)
    }
    fn postings(&self, name: &str, value: &str) -> Result<Vec<u32>, BlockError> {
        self.index.postings(name, value)
    }
    fn all_postings(&self) -> Result<Vec<u32>, BlockError> {
        self.index.all_postings()
    }
    fn postings_for_values(&self, name: &str, values: &[&str]) -> Result<Vec<u32>, BlockError> {
        self.index.postings_for_values(name, values)
    }
    fn postings_for_label_matching(
        &self,
        name: &str,
        pred: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Vec<u32>, BlockError> {
        self.index.postings_for_label_matching(name, pred)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Block>();
        assert_send_sync::<IndexReader>();
    }
}
