//! Tunables of the TSDB, with Prometheus' defaults.

use std::time::Duration;

/// Two hours in milliseconds: the span of a freshly cut block.
pub const DEFAULT_BLOCK_RANGE_MS: i64 = 2 * 3600 * 1000;

/// How the TSDB behaves; [`Options::default`] matches Prometheus.
#[derive(Debug, Clone)]
pub struct Options {
    /// Span of blocks cut from the head (`--storage.tsdb.min-block-duration`).
    pub block_range_ms: i64,
    /// Largest span compaction builds (`--storage.tsdb.max-block-duration`); 0 means
    /// 10% of the time retention, capped at 31 days.
    pub max_block_range_ms: i64,
    /// Keep data this long (`--storage.tsdb.retention.time`); 0 disables.
    pub retention_ms: i64,
    /// Keep at most this many bytes of blocks, WAL and head chunks
    /// (`--storage.tsdb.retention.size`); 0 disables.
    pub retention_bytes: u64,
    /// Size at which a WAL segment is closed.
    pub wal_segment_bytes: u64,
    /// How often the WAL is fsynced; commits are written to the OS at once.
    pub wal_sync_interval: Duration,
    /// Samples per chunk before it is cut.
    pub samples_per_chunk: u16,
    /// Size of each memory-mapped head chunk file.
    pub head_chunk_file_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            block_range_ms: DEFAULT_BLOCK_RANGE_MS,
            max_block_range_ms: 0,
            retention_ms: 15 * 24 * 3600 * 1000,
            retention_bytes: 0,
            wal_segment_bytes: 128 << 20,
            wal_sync_interval: Duration::from_secs(1),
            samples_per_chunk: 120,
            head_chunk_file_bytes: 128 << 20,
        }
    }
}

impl Options {
    /// The largest block span compaction may produce.
    pub fn effective_max_block_range(&self) -> i64 {
        if self.max_block_range_ms > 0 {
            return self.max_block_range_ms.max(self.block_range_ms);
        }
        let month = 31 * 24 * 3600 * 1000;
        let tenth = if self.retention_ms > 0 {
            self.retention_ms / 10
        } else {
            month
        };
        tenth.clamp(self.block_range_ms, month)
    }

    /// Block spans compaction steps through: 1x, 3x, 9x ... of the block range.
    pub fn compaction_ranges(&self) -> Vec<i64> {
        let max = self.effective_max_block_range();
        let mut ranges = vec![self.block_range_ms];
        while let Some(&last) = ranges.last() {
            let next = last.saturating_mul(3);
            if next > max {
                break;
            }
            ranges.push(next);
        }
        ranges
    }
}
