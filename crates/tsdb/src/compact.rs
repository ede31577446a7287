//! Writing blocks: from the head, from merged blocks, and from raw samples.

use crate::error::{Result, TsdbError};
use crate::head::{Head, HeadQuerier};
use crate::iter::ChunkSeriesIterator;
use std::path::Path;
use std::sync::Arc;
use watchfire_block::{Block, BlockMeta, BlockWriter, CompactionMeta, new_ulid};
use watchfire_chunkenc::{ChunkIter, Encoding, encode_best};
use watchfire_model::{Labels, Sample};
use watchfire_storage::SampleIterator;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Samples per chunk in persisted blocks. Larger than the head's 120: sealed chunks
/// are encoded once with the densest encoding, which pays off over more samples.
pub(crate) const BLOCK_CHUNK_SAMPLES: usize = 2048;

/// Encodes time-sorted samples into chunks of at most `per_chunk` samples, each in
/// whichever encoding is smallest.
pub(crate) fn encode_chunks(
    samples: &[Sample],
    per_chunk: usize,
) -> Vec<(i64, i64, Encoding, Vec<u8>)> {
    let mut pairs = Vec::with_capacity(per_chunk.min(samples.len()));
    samples
        .chunks(per_chunk.clamp(1, usize::from(u16::MAX)))
        .map(|part| {
            pairs.clear();
            pairs.extend(part.iter().map(|s| (s.t, s.v)));
            let (encoding, bytes) = encode_best(&pairs);
            let first = part.first().map_or(0, |s| s.t);
            let last = part.last().map_or(0, |s| s.t);
            (first, last, encoding, bytes)
        })
        .collect()
}

/// Writes the head's data in `[mint, maxt)` as a level-1 block under `parent`.
/// Returns `None` when there is nothing in that range.
pub(crate) fn write_head_block(
    head: &Arc<Head>,
    parent: &Path,
    mint: i64,
    maxt: i64,
) -> Result<Option<BlockMeta>> {
    let q = HeadQuerier::new(head.clone(), mint, maxt - 1);
    let series = q
        .select_chunks(&[], true, mint, maxt - 1)
        .map_err(|e| TsdbError::Invalid(e.to_string()))?;
    if series.is_empty() {
        return Ok(None);
    }
    let ulid = new_ulid(now_ms());
    let mut w = BlockWriter::new(parent, &ulid, mint, maxt)?;
    for (labels, handles) in series {
        // Chunks never straddle a block boundary, so they can be copied as they are;
        // they are decoded once to count samples and to catch corruption early.
        let mut it = ChunkSeriesIterator::new(handles, mint, maxt - 1);
        let mut samples = Vec::new();
        while let Some(s) = it.next() {
            samples.push(s);
        }
        if let Some(e) = it.error() {
            tracing::warn!(series = %labels, error = %e, "skipping unreadable head chunk while writing block");
        }
        write_series(&mut w, &labels, &samples, BLOCK_CHUNK_SAMPLES)?;
    }
    let meta = w.finish(CompactionMeta {
        level: 1,
        sources: vec![ulid.clone()],
    })?;
    Ok(Some(meta))
}

/// Adds one series' samples to a block being written.
pub(crate) fn write_series(
    w: &mut BlockWriter,
    labels: &Labels,
    samples: &[Sample],
    per_chunk: usize,
) -> Result<()> {
    if samples.is_empty() {
        return Ok(());
    }
    let chunks = encode_chunks(samples, per_chunk);
    let refs: Vec<(i64, i64, u8, &[u8])> = chunks
        .iter()
        .map(|(a, b, e, d)| (*a, *b, *e as u8, d.as_slice()))
        .collect();
    w.add_series(labels, &refs)?;
    w.add_samples(samples.len() as u64);
    Ok(())
}

/// Merges `blocks` (sorted by time, possibly overlapping) into one new block.
/// Samples at equal timestamps are deduplicated, the earliest block winning.
pub(crate) fn merge_blocks(blocks: &[Arc<Block>], parent: &Path) -> Result<BlockMeta> {
    let mint = blocks.iter().map(|b| b.meta().min_time).min().unwrap_or(0);
    let maxt = blocks.iter().map(|b| b.meta().max_time).max().unwrap_or(0);
    let ulid = new_ulid(now_ms());
    let mut w = BlockWriter::new(parent, &ulid, mint, maxt)?;

    // K-way merge of the blocks' label-sorted series.
    let mut cursors: Vec<(Arc<Block>, Vec<u32>, usize)> = Vec::new();
    for b in blocks {
        let ids = watchfire_block::PostingsIndex::all_postings(b.index())?;
        cursors.push((b.clone(), ids, 0));
    }
    let mut heads: Vec<Option<Labels>> = Vec::with_capacity(cursors.len());
    for (b, ids, pos) in &cursors {
        heads.push(match ids.get(*pos) {
            Some(&id) => Some(b.index().series(id)?.0),
            None => None,
        });
    }
    while let Some(min) = heads.iter().flatten().min().cloned() {
        let mut samples: Vec<Sample> = Vec::new();
        for (i, (b, ids, pos)) in cursors.iter_mut().enumerate() {
            if heads[i].as_ref() != Some(&min) {
                continue;
            }
            let (_, metas) = b.index().series(ids[*pos])?;
            for m in metas {
                let (enc, data) = b.chunk(m.chunk_ref)?;
                let enc = Encoding::try_from(enc).map_err(|e| TsdbError::Corruption {
                    location: b.dir().display().to_string(),
                    detail: e.to_string(),
                })?;
                let mut it = ChunkIter::new(enc, data);
                while let Some((t, v)) = it.next() {
                    samples.push(Sample::new(t, v));
                }
                if let Some(e) = it.error() {
                    return Err(TsdbError::Corruption {
                        location: b.dir().display().to_string(),
                        detail: e.to_string(),
                    });
                }
            }
            *pos += 1;
            heads[i] = match ids.get(*pos) {
                Some(&id) => Some(b.index().series(id)?.0),
                None => None,
            };
        }
        // Stable sort keeps the earlier block's sample first on equal timestamps.
        samples.sort_by_key(|s| s.t);
        samples.dedup_by_key(|s| s.t);
        write_series(&mut w, &min, &samples, BLOCK_CHUNK_SAMPLES)?;
    }
    let level = blocks
        .iter()
        .map(|b| b.meta().compaction.level)
        .max()
        .unwrap_or(1)
        + 1;
    let mut sources: Vec<String> = blocks
        .iter()
        .flat_map(|b| b.meta().compaction.sources.clone())
        .collect();
    sources.sort();
    sources.dedup();
    Ok(w.finish(CompactionMeta { level, sources })?)
}
