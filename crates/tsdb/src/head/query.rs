//! Reading the head.

use super::Head;
use crate::iter::{ChunkHandle, ChunkSeriesIterator, ChunkSource};
use std::collections::BTreeSet;
use std::sync::Arc;
use watchfire_block::{PostingsIndex, postings_for_matchers};
use watchfire_model::{Labels, Matcher, Timestamp};
use watchfire_storage::{Querier, SelectHints, Series, SeriesSet, StorageError};

/// A querier over the head for `[mint, maxt]`.
pub(crate) struct HeadQuerier {
    head: Arc<Head>,
    mint: Timestamp,
    maxt: Timestamp,
}

impl HeadQuerier {
    pub(crate) fn new(head: Arc<Head>, mint: Timestamp, maxt: Timestamp) -> Self {
        HeadQuerier { head, mint, maxt }
    }

    /// Labels and chunk handles of matching series with data in range, sorted.
    pub(crate) fn select_chunks(
        &self,
        matchers: &[Matcher],
        with_chunks: bool,
        mint: Timestamp,
        maxt: Timestamp,
    ) -> Result<Vec<(Labels, Vec<ChunkHandle>)>, StorageError> {
        let index = self.head.index.read();
        let refs = postings_for_matchers(&*index, matchers)
            .map_err(|e| StorageError::Invalid(e.to_string()))?;
        let mut out = Vec::with_capacity(refs.len());
        for r in refs {
            let stripe = self.head.stripe(r).lock();
            let Some(s) = stripe.get(r) else { continue };
            let mut chunks = Vec::new();
            let mut any = false;
            for c in &s.full {
                if c.max_time < mint || c.min_time > maxt {
                    continue;
                }
                any = true;
                if with_chunks {
                    let source = ChunkSource::HeadDisk(self.head.disk.clone(), c.disk_ref);
                    chunks.push(ChunkHandle {
                        min_time: c.min_time,
                        max_time: c.max_time,
                        source,
                    });
                }
            }
            if let Some(first) = s.open_min()
                && first <= maxt
                && s.last_t >= mint
            {
                any = true;
                if with_chunks {
                    chunks.push(ChunkHandle {
                        min_time: first,
                        max_time: s.last_t,
                        source: ChunkSource::Bytes(s.open.bytes().to_vec()),
                    });
                }
            }
            if any {
                out.push((index.resolve(&s.labels), chunks));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

impl Querier for HeadQuerier {
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<SeriesSet, StorageError> {
        let (mint, maxt) = (self.mint, self.maxt);
        let series = self.select_chunks(matchers, !hints.labels_only, mint, maxt)?;
        Ok(Box::new(series.into_iter().map(move |(labels, chunks)| {
            Ok(Series {
                labels,
                samples: Box::new(ChunkSeriesIterator::new(chunks, mint, maxt)),
            })
        })))
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        if matchers.is_empty() {
            return self
                .head
                .index
                .read()
                .label_names()
                .map_err(|e| StorageError::Invalid(e.to_string()));
        }
        let names: BTreeSet<String> = self
            .select_chunks(matchers, false, self.mint, self.maxt)?
            .into_iter()
            .flat_map(|(l, _)| l.iter().map(|l| l.name.clone()).collect::<Vec<_>>())
            .collect();
        Ok(names.into_iter().collect())
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        if matchers.is_empty() {
            return self
                .head
                .index
                .read()
                .label_values(name)
                .map_err(|e| StorageError::Invalid(e.to_string()));
        }
        let values: BTreeSet<String> = self
            .select_chunks(matchers, false, self.mint, self.maxt)?
            .into_iter()
            .filter_map(|(l, _)| l.get(name).map(str::to_string))
            .collect();
        Ok(values.into_iter().collect())
    }
}
