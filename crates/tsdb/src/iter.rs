//! Streaming samples out of a series' chunks, wherever they live.

use crate::head::disk_chunks::{DiskChunkRef, DiskChunks};
use std::sync::Arc;
use watchfire_block::Block;
use watchfire_chunkenc::{ChunkIter, Encoding};
use watchfire_model::{Sample, Timestamp};
use watchfire_storage::{SampleIterator, StorageError};

/// Where to fetch a chunk's bytes from when the iterator reaches it.
pub(crate) enum ChunkSource {
    /// Already in memory (the head's open chunk, or a heap-kept full chunk).
    Bytes(Vec<u8>),
    /// A full head chunk in a memory-mapped file.
    HeadDisk(Arc<DiskChunks>, DiskChunkRef),
    /// A chunk of a persisted block.
    Block(Arc<Block>, u64),
}

/// A chunk and the time range it covers.
pub(crate) struct ChunkHandle {
    pub min_time: i64,
    pub max_time: i64,
    pub source: ChunkSource,
}

impl ChunkHandle {
    fn load(&self) -> Result<(Encoding, Vec<u8>), StorageError> {
        let (encoding, bytes) = match &self.source {
            ChunkSource::Bytes(b) => return Ok((Encoding::Xor, b.clone())),
            ChunkSource::HeadDisk(d, r) => d.read(*r).map_err(StorageError::from)?,
            ChunkSource::Block(b, r) => {
                let (enc, data) = b.chunk(*r).map_err(|e| StorageError::Corruption {
                    location: b.dir().display().to_string(),
                    detail: e.to_string(),
                })?;
                (enc, data.to_vec())
            }
        };
        let encoding = Encoding::try_from(encoding).map_err(|e| StorageError::Corruption {
            location: "chunk".into(),
            detail: e.to_string(),
        })?;
        Ok((encoding, bytes))
    }
}

/// Samples of one series within `[mint, maxt]`, decoded a chunk at a time.
pub(crate) struct ChunkSeriesIterator {
    chunks: std::vec::IntoIter<ChunkHandle>,
    cur: Option<ChunkIter<Vec<u8>>>,
    current: Option<Sample>,
    mint: Timestamp,
    maxt: Timestamp,
    done: bool,
    error: Option<StorageError>,
}

impl ChunkSeriesIterator {
    /// Iterates `chunks` (time-ordered) clipped to `[mint, maxt]`.
    pub(crate) fn new(chunks: Vec<ChunkHandle>, mint: Timestamp, maxt: Timestamp) -> Self {
        ChunkSeriesIterator {
            chunks: chunks.into_iter(),
            cur: None,
            current: None,
            mint,
            maxt,
            done: false,
            error: None,
        }
    }

    /// Opens the next chunk that can hold samples at or after `from`.
    fn open_next(&mut self, from: Timestamp) -> bool {
        for c in self.chunks.by_ref() {
            if c.max_time < from {
                continue;
            }
            if c.min_time > self.maxt {
                break;
            }
            match c.load() {
                Ok((encoding, bytes)) => {
                    self.cur = Some(ChunkIter::new(encoding, bytes));
                    return true;
                }
                Err(e) => {
                    self.error = Some(e);
                    break;
                }
            }
        }
        self.done = true;
        false
    }

    fn finish_chunk(&mut self) {
        if let Some(it) = self.cur.take()
            && let Some(e) = it.error()
        {
            self.error = Some(StorageError::Corruption {
                location: "chunk".into(),
                detail: e.to_string(),
            });
            self.done = true;
        }
    }

    fn emit(&mut self, t: Timestamp, v: f64) -> Option<Sample> {
        if t > self.maxt {
            self.done = true;
            self.cur = None;
            return None;
        }
        let s = Sample::new(t, v);
        self.current = Some(s);
        Some(s)
    }
}

impl SampleIterator for ChunkSeriesIterator {
    fn next(&mut self) -> Option<Sample> {
        let min = self.current.map_or(self.mint, |c| c.t.saturating_add(1));
        while !self.done {
            if self.cur.is_none() && !self.open_next(min) {
                return None;
            }
            let next = self.cur.as_mut().and_then(|it| it.next());
            match next {
                Some((t, _)) if t < min => continue,
                Some((t, v)) => return self.emit(t, v),
                None => self.finish_chunk(),
            }
        }
        None
    }

    fn seek(&mut self, t: Timestamp) -> Option<Sample> {
        if let Some(c) = self.current
            && c.t >= t
        {
            return Some(c);
        }
        let target = t.max(self.mint);
        while !self.done {
            if self.cur.is_none() && !self.open_next(target) {
                return None;
            }
            let found = self.cur.as_mut().and_then(|it| it.seek(target));
            match found {
                Some((ts, v)) => return self.emit(ts, v),
                None => self.finish_chunk(),
            }
        }
        None
    }

    fn error(&mut self) -> Option<StorageError> {
        self.error.take()
    }
}
