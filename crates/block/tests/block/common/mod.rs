//! Shared fixtures for the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use watchfire_block::{BlockError, BlockWriter, CompactionMeta, PostingsIndex};
use watchfire_model::Labels;

/// A generated series: labels and chunks `(min_time, max_time, encoding, data)`.
pub struct TestSeries {
    pub labels: Labels,
    pub chunks: Vec<(i64, i64, u8, Vec<u8>)>,
}

/// `n` distinct series in label order, with optional labels so that absent-label
/// semantics get exercised.
pub fn gen_series(n: usize) -> Vec<TestSeries> {
    let a_vals = ["a", "b", "ab", "x1", "ba"];
    let mut out: Vec<TestSeries> = (0..n)
        .map(|i| {
            let mut pairs = vec![
                ("__name__".to_string(), format!("metric_{}", i % 20)),
                ("job".to_string(), format!("job_{}", i % 7)),
                ("series".to_string(), format!("{i}")),
            ];
            if i % 3 == 0 {
                pairs.push(("env".into(), if i % 2 == 0 { "prod" } else { "dev" }.into()));
            }
            if i % 5 != 0 {
                pairs.push(("a".into(), a_vals[(i / 5) % a_vals.len()].into()));
            }
            let labels = Labels::from_pairs(pairs);
            let chunks = (0..(i % 3) + 1)
                .map(|j| {
                    let t = (j as i64) * 1000;
                    let data = format!("chunk-{i}-{j};").repeat(1 + i % 4).into_bytes();
                    (t, t + 999, 1 + (j % 2) as u8, data)
                })
                .collect();
            TestSeries { labels, chunks }
        })
        .collect();
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    out
}

/// Writes `series` as a block under `parent`; returns the block directory.
pub fn write_block(parent: &Path, ulid: &str, series: &[TestSeries]) -> PathBuf {
    try_write_block(parent, ulid, series, None).expect("write block")
}

pub fn try_write_block(
    parent: &Path,
    ulid: &str,
    series: &[TestSeries],
    segment_size: Option<u64>,
) -> Result<PathBuf, BlockError> {
    let mut w = BlockWriter::new(parent, ulid, 0, 10_000)?;
    if let Some(s) = segment_size {
        w.set_max_segment_size(s);
    }
    for s in series {
        let chunks: Vec<(i64, i64, u8, &[u8])> = s
            .chunks
            .iter()
            .map(|(a, b, e, d)| (*a, *b, *e, d.as_slice()))
            .collect();
        w.add_series(&s.labels, &chunks)?;
        w.add_samples(s.chunks.len() as u64 * 10);
    }
    w.finish(CompactionMeta::default())?;
    Ok(parent.join(ulid))
}

/// An in-memory index implementing only the required methods, standing in for the
/// TSDB head.
pub struct MemIndex {
    pub n: u32,
    pub pairs: BTreeMap<String, BTreeMap<String, Vec<u32>>>,
}

impl MemIndex {
    pub fn new(series: &[TestSeries]) -> Self {
        let mut pairs: BTreeMap<String, BTreeMap<String, Vec<u32>>> = BTreeMap::new();
        for (id, s) in series.iter().enumerate() {
            for l in &s.labels {
                pairs
                    .entry(l.name.clone())
                    .or_default()
                    .entry(l.value.clone())
                    .or_default()
                    .push(id as u32);
            }
        }
        MemIndex {
            n: series.len() as u32,
            pairs,
        }
    }
}

impl PostingsIndex for MemIndex {
    fn label_names(&self) -> Result<Vec<String>, BlockError> {
        Ok(self.pairs.keys().cloned().collect())
    }
    fn label_values(&self, name: &str) -> Result<Vec<String>, BlockError> {
        Ok(self
            .pairs
            .get(name)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default())
    }
    fn postings(&self, name: &str, value: &str) -> Result<Vec<u32>, BlockError> {
        Ok(self
            .pairs
            .get(name)
            .and_then(|m| m.get(value))
            .cloned()
            .unwrap_or_default())
    }
    fn all_postings(&self) -> Result<Vec<u32>, BlockError> {
        Ok((0..self.n).collect())
    }
}

/// A fixed ULID per test so tests never depend on the generator.
pub const ULID: &str = "01HV8Y3M6Q5Z0000000000TEST";
