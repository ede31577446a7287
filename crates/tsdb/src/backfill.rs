//! Backfilling blocks from an OpenMetrics text file, as
//! `promtool tsdb create-blocks-from openmetrics` does.

use crate::compact::{BLOCK_CHUNK_SAMPLES, write_series};
use crate::error::{Result, TsdbError};
use std::collections::BTreeMap;
use std::path::Path;
use watchfire_block::{BlockWriter, CompactionMeta, new_ulid};
use watchfire_model::{Labels, Sample};
use watchfire_textparse::{Entry, Format, Parser};

/// What an import wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// ULIDs of the blocks written.
    pub blocks: Vec<String>,
    /// Distinct series read.
    pub series: usize,
    /// Samples written.
    pub samples: u64,
    /// Samples dropped because their series already had one at that timestamp.
    pub duplicates: u64,
}

/// Reads an OpenMetrics text exposition with timestamps and writes its samples as
/// blocks aligned to `block_range` under `out_dir`. Errors name the input line.
pub fn import_openmetrics(input: &[u8], out_dir: &Path, block_range: i64) -> Result<ImportReport> {
    let mut series: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
    for entry in Parser::new(input, Format::OpenMetrics) {
        let entry = entry.map_err(|e| TsdbError::Invalid(format!("openmetrics input: {e}")))?;
        if let Entry::Sample(s) = entry {
            let t = s.timestamp_ms.ok_or_else(|| {
                TsdbError::Invalid(format!(
                    "openmetrics input: line {}: sample has no timestamp (backfill needs one on every sample)",
                    s.line
                ))
            })?;
            series
                .entry(s.to_labels())
                .or_default()
                .push(Sample::new(t, s.value));
        }
    }
    let mut report = ImportReport {
        series: series.len(),
        ..Default::default()
    };
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for samples in series.values_mut() {
        samples.sort_by_key(|s| s.t);
        let before = samples.len();
        samples.dedup_by_key(|s| s.t);
        report.duplicates += (before - samples.len()) as u64;
        if let (Some(f), Some(l)) = (samples.first(), samples.last()) {
            lo = lo.min(f.t);
            hi = hi.max(l.t);
        }
    }
    if lo > hi {
        return Ok(report);
    }
    std::fs::create_dir_all(out_dir).map_err(|e| TsdbError::io(out_dir, e))?;
    let range = block_range.max(1);
    let mut start = lo.div_euclid(range) * range;
    while start <= hi {
        let end = start.saturating_add(range);
        let mut writer: Option<(BlockWriter, String)> = None;
        for (labels, samples) in &series {
            let a = samples.partition_point(|s| s.t < start);
            let b = samples.partition_point(|s| s.t < end);
            if a == b {
                continue;
            }
            if writer.is_none() {
                let ulid = new_ulid(start);
                writer = Some((BlockWriter::new(out_dir, &ulid, start, end)?, ulid));
            }
            if let Some((w, _)) = writer.as_mut() {
                write_series(w, labels, &samples[a..b], BLOCK_CHUNK_SAMPLES)?;
                report.samples += (b - a) as u64;
            }
        }
        if let Some((w, ulid)) = writer {
            w.finish(CompactionMeta {
                level: 1,
                sources: vec![ulid.clone()],
            })?;
            report.blocks.push(ulid);
        }
        start = end;
    }
    Ok(report)
}
