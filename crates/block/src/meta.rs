//! `meta.json`: what a block covers and how it was made.

use crate::error::BlockError;
use crate::ulid::is_valid_ulid;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The only block format version this crate reads and writes.
pub const BLOCK_VERSION: u32 = 1;

/// Name of the metadata file inside a block directory.
pub const META_FILENAME: &str = "meta.json";

/// Contents of a block's `meta.json`, with Prometheus' JSON field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    /// The block's ULID, which is also its directory name.
    pub ulid: String,
    /// Inclusive lower bound of the block's sample timestamps (ms).
    pub min_time: i64,
    /// Exclusive upper bound of the block's sample timestamps (ms).
    pub max_time: i64,
    /// Counts of what the block holds.
    #[serde(default)]
    pub stats: BlockStats,
    /// Compaction lineage.
    #[serde(default)]
    pub compaction: CompactionMeta,
    /// Format version ([`BLOCK_VERSION`]).
    pub version: u32,
}

/// Counts recorded in `meta.json`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    /// Samples in all chunks, as reported to
    /// [`BlockWriter::add_samples`](crate::BlockWriter::add_samples).
    #[serde(default)]
    pub num_samples: u64,
    /// Series in the index.
    #[serde(default)]
    pub num_series: u64,
    /// Chunks in the chunk segment files.
    #[serde(default)]
    pub num_chunks: u64,
}

/// How a block came to be.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactionMeta {
    /// 1 for a block cut from the head; one more than its highest source's level for
    /// a compacted block.
    #[serde(default)]
    pub level: u32,
    /// ULIDs of the level-1 blocks whose data this block holds (its own ULID for a
    /// level-1 block).
    #[serde(default)]
    pub sources: Vec<String>,
}

impl BlockMeta {
    /// Reads and validates `<dir>/meta.json`.
    pub fn read(dir: &Path) -> Result<BlockMeta, BlockError> {
        let path = dir.join(META_FILENAME);
        let bytes = std::fs::read(&path).map_err(|e| BlockError::io(&path, e))?;
        let invalid = |detail: String| BlockError::InvalidMeta {
            path: path.clone(),
            detail,
        };
        let meta: BlockMeta =
            serde_json::from_slice(&bytes).map_err(|e| invalid(format!("not valid: {e}")))?;
        if meta.version != BLOCK_VERSION {
            return Err(invalid(format!(
                "unsupported version {} (expected {BLOCK_VERSION})",
                meta.version
            )));
        }
        if !is_valid_ulid(&meta.ulid) {
            return Err(invalid(format!("{:?} is not a ULID", meta.ulid)));
        }
        if meta.min_time > meta.max_time {
            return Err(invalid(format!(
                "minTime {} is after maxTime {}",
                meta.min_time, meta.max_time
            )));
        }
        Ok(meta)
    }

    /// Serialises to the pretty-printed JSON written to disk.
    pub fn to_json(&self) -> String {
        // Serialising plain integers and strings cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Whether the block holds samples in `[mint, maxt]` (inclusive bounds, as
    /// queriers use them) — i.e. the ranges overlap.
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.min_time <= maxt && mint < self.max_time
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_uses_prometheus_names() {
        let m = BlockMeta {
            ulid: "01ARZ3NDEKTSV4RRFFQ69G5FAV".into(),
            min_time: 1,
            max_time: 2,
            stats: BlockStats {
                num_samples: 3,
                num_series: 4,
                num_chunks: 5,
            },
            compaction: CompactionMeta {
                level: 1,
                sources: vec!["01ARZ3NDEKTSV4RRFFQ69G5FAV".into()],
            },
            version: 1,
        };
        let v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
        assert_eq!(v["minTime"], 1);
        assert_eq!(v["maxTime"], 2);
        assert_eq!(v["stats"]["numSamples"], 3);
        assert_eq!(v["stats"]["numSeries"], 4);
        assert_eq!(v["stats"]["numChunks"], 5);
        assert_eq!(v["compaction"]["level"], 1);
        assert_eq!(v["compaction"]["sources"][0], "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        assert_eq!(v["version"], 1);
        let back: BlockMeta = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn overlap_uses_half_open_block_range() {
        let m = BlockMeta {
            ulid: String::new(),
            min_time: 100,
            max_time: 200,
            stats: BlockStats::default(),
            compaction: CompactionMeta::default(),
            version: 1,
        };
        assert!(m.overlaps(0, 100));
        assert!(m.overlaps(199, 300));
        assert!(!m.overlaps(200, 300));
        assert!(!m.overlaps(0, 99));
    }
}
