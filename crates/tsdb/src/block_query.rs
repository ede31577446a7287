//! Reading persisted blocks.

use crate::iter::{ChunkHandle, ChunkSeriesIterator, ChunkSource};
use std::collections::BTreeSet;
use std::sync::Arc;
use watchfire_block::{Block, BlockError, PostingsIndex, postings_for_matchers};
use watchfire_model::{Labels, Matcher, Timestamp};
use watchfire_storage::{Querier, SelectHints, Series, SeriesSet, StorageError};

fn block_err(b: &Block, e: BlockError) -> StorageError {
    StorageError::Corruption {
        location: b.dir().display().to_string(),
        detail: e.to_string(),
    }
}

/// A querier over one block for `[mint, maxt]`.
pub(crate) struct BlockQuerier {
    block: Arc<Block>,
    mint: Timestamp,
    maxt: Timestamp,
}

impl BlockQuerier {
    pub(crate) fn new(block: Arc<Block>, mint: Timestamp, maxt: Timestamp) -> Self {
        BlockQuerier { block, mint, maxt }
    }

    fn matching(&self, matchers: &[Matcher]) -> Result<Vec<u32>, StorageError> {
        let ix = self.block.index();
        if matchers.is_empty() {
            return ix.all_postings().map_err(|e| block_err(&self.block, e));
        }
        postings_for_matchers(ix, matchers).map_err(|e| block_err(&self.block, e))
    }

    /// Series ids in label order, each with chunk handles in range.
    pub(crate) fn series(&self, matchers: &[Matcher]) -> Result<SeriesWithChunks, StorageError> {
        let ids = self.matching(matchers)?;
        Ok(SeriesWithChunks {
            block: self.block.clone(),
            ids: ids.into_iter(),
            mint: self.mint,
            maxt: self.maxt,
        })
    }
}

/// Lazily reads series of a block with their chunks in range, in label order.
pub(crate) struct SeriesWithChunks {
    block: Arc<Block>,
    ids: std::vec::IntoIter<u32>,
    mint: Timestamp,
    maxt: Timestamp,
}

impl Iterator for SeriesWithChunks {
    type Item = Result<(Labels, Vec<ChunkHandle>), StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        for id in self.ids.by_ref() {
            let (labels, metas) = match self.block.index().series(id) {
                Ok(s) => s,
                Err(e) => return Some(Err(block_err(&self.block, e))),
            };
            let chunks: Vec<ChunkHandle> = metas
                .into_iter()
                .filter(|m| m.max_time >= self.mint && m.min_time <= self.maxt)
                .map(|m| ChunkHandle {
                    min_time: m.min_time,
                    max_time: m.max_time,
                    source: ChunkSource::Block(self.block.clone(), m.chunk_ref),
                })
                .collect();
            if !chunks.is_empty() {
                return Some(Ok((labels, chunks)));
            }
        }
        None
    }
}

impl Querier for BlockQuerier {
    fn select(
        &self,
        _hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        let (mint, maxt) = (self.mint, self.maxt);
        Ok(Box::new(self.series(matchers)?.map(move |r| {
            r.map(|(labels, chunks)| Series {
                labels,
                samples: Box::new(ChunkSeriesIterator::new(chunks, mint, maxt)),
            })
        })))
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        if matchers.is_empty() {
            return self
                .block
                .index()
                .label_names()
                .map_err(|e| block_err(&self.block, e));
        }
        let mut names = BTreeSet::new();
        for s in self.series(matchers)? {
            let (labels, _) = s?;
            names.extend(labels.iter().map(|l| l.name.clone()));
        }
        Ok(names.into_iter().collect())
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        if matchers.is_empty() {
            return self
                .block
                .index()
                .label_values(name)
                .map_err(|e| block_err(&self.block, e));
        }
        let mut values = BTreeSet::new();
        for s in self.series(matchers)? {
            let (labels, _) = s?;
            if let Some(v) = labels.get(name) {
                values.insert(v.to_string());
            }
        }
        Ok(values.into_iter().collect())
    }
}
