//! An in-memory store and a small promqltest script runner for the engine's tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;
use watchfire_model::{Labels, Matcher, Sample};
use watchfire_storage::{
    Querier, Queryable, SelectHints, SeriesSet, StorageError, VecSeriesSet, merge_series_sets,
};

/// Series held in memory.
#[derive(Debug, Clone, Default)]
pub struct MemStore {
    pub series: Arc<Vec<(Labels, Vec<Sample>)>>,
}

impl MemStore {
    pub fn new(mut series: Vec<(Labels, Vec<Sample>)>) -> Self {
        series.sort_by(|a, b| a.0.cmp(&b.0));
        MemStore {
            series: Arc::new(series),
        }
    }
}

struct MemQuerier {
    series: Arc<Vec<(Labels, Vec<Sample>)>>,
    mint: i64,
    maxt: i64,
}

impl Querier for MemQuerier {
    fn select(
        &self,
        _hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        let out = self
            .series
            .iter()
            .filter(|(l, _)| matchers.iter().all(|m| m.matches_labels(l)))
            .map(|(l, s)| {
                (
                    l.clone(),
                    s.iter()
                        .filter(|x| x.t >= self.mint && x.t <= self.maxt)
                        .copied()
                        .collect(),
                )
            })
            .collect();
        Ok(VecSeriesSet::from_vec(out))
    }
    fn label_names(&self, _m: &[Matcher]) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }
    fn label_values(&self, _n: &str, _m: &[Matcher]) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }
}

impl Queryable for MemStore {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(MemQuerier {
            series: self.series.clone(),
            mint,
            maxt,
        }))
    }
}

/// The same series as a [`MemStore`], each split into overlapping parts (and an
/// empty one) that the storage's merge chains back together, as a TSDB's blocks
/// are. Samples repeated in a later part carry other values: the first part's win.
#[derive(Debug, Clone)]
pub struct ChainedStore(pub MemStore);

impl Queryable for ChainedStore {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(ChainedQuerier(MemQuerier {
            series: self.0.series.clone(),
            mint,
            maxt,
        })))
    }
}

struct ChainedQuerier(MemQuerier);

impl Querier for ChainedQuerier {
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<SeriesSet, StorageError> {
        let mut parts: Vec<Vec<(Labels, Vec<Sample>)>> = vec![Vec::new(); 4];
        for r in self.0.select(hints, matchers)? {
            let s = r?;
            let labels = s.labels.clone();
            let all = s.collect_samples()?;
            let n = all.len();
            // [0, n/2), then [n/3, 3n/4), nothing, then [n/2, n).
            let ranges = [(0, n / 2), (n / 3, 3 * n / 4), (0, 0), (n / 2, n)];
            let mut covered = 0;
            for (part, (a, b)) in parts.iter_mut().zip(ranges) {
                let samples = (a..b)
                    .map(|i| {
                        let x = all[i];
                        if i < covered {
                            Sample::new(x.t, x.v + 1000.0)
                        } else {
                            x
                        }
                    })
                    .collect();
                covered = covered.max(b);
                part.push((labels.clone(), samples));
            }
        }
        Ok(merge_series_sets(
            parts.into_iter().map(VecSeriesSet::from_vec).collect(),
        ))
    }
    fn label_names(&self, m: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.0.label_names(m)
    }
    fn label_values(&self, n: &str, m: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.0.label_values(n, m)
    }
}

/// Parses a Prometheus duration (`1h30m`, `10s53ms`, `0`) into milliseconds.
pub fn duration_ms(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<f64>() {
        return Some((n * 1000.0) as i64);
    }
    let mut total = 0i64;
    let mut rest = s;
    while !rest.is_empty() {
        let d = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: i64 = rest[..d].parse().ok()?;
        rest = &rest[d..];
        let u = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let mult = match &rest[..u] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return None,
        };
        total += n * mult;
        rest = &rest[u..];
    }
    Some(total)
}

/// Expands promqltest value notation; `None` is an omitted sample.
pub fn expand_values(tokens: &[&str]) -> Option<Vec<Option<f64>>> {
    let mut out = Vec::new();
    for tok in tokens {
        let num = |s: &str| -> Option<f64> {
            match s {
                "stale" => Some(watchfire_model::STALE_NAN),
                "Inf" | "+Inf" | "inf" => Some(f64::INFINITY),
                "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
                "NaN" => Some(f64::NAN),
                _ => s.parse().ok(),
            }
        };
        if *tok == "_" {
            out.push(None);
            continue;
        }
        if let Some(n) = tok.strip_prefix("_x") {
            let n: usize = n.parse().ok()?;
            out.extend(std::iter::repeat_n(None, n));
            continue;
        }
        if let Some(xi) = tok.rfind('x') {
            let times: i64 = tok[xi + 1..].parse().ok()?;
            let body = &tok[..xi];
            // find a + or - that is not at the start and not after 'e'
            let bytes = body.as_bytes();
            let mut split = None;
            for i in 1..bytes.len() {
                if (bytes[i] == b'+' || bytes[i] == b'-')
                    && bytes[i - 1] != b'e'
                    && bytes[i - 1] != b'E'
                {
                    split = Some(i);
                }
            }
            let (a, b) = match split {
                Some(i) => (num(&body[..i])?, num(&body[i..])?),
                None => (num(body)?, 0.0),
            };
            for k in 0..=times {
                out.push(Some(a + b * k as f64));
            }
            continue;
        }
        out.push(Some(num(tok)?));
    }
    Some(out)
}

/// Splits `metric{a="b"} 1 2 3` into labels and value tokens.
pub fn split_series(line: &str) -> Option<(Labels, Vec<&str>)> {
    let line = line.trim();
    let end = if let Some(close) = line.rfind('}') {
        close + 1
    } else {
        line.find(char::is_whitespace).unwrap_or(line.len())
    };
    let (sel, vals) = line.split_at(end);
    let labels = if sel.starts_with('{') && !sel.contains('=') {
        Labels::empty()
    } else {
        let expr = watchfire_promql::parse(sel).ok()?;
        match expr {
            watchfire_promql::ast::Expr::VectorSelector(vs) => Labels::from_pairs(
                vs.matchers
                    .iter()
                    .map(|m| (m.name.clone(), m.value.clone())),
            ),
            _ => return None,
        }
    };
    Some((labels, vals.split_whitespace().collect()))
}
