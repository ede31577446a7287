//! A small in-memory store implementing the storage traits, used by
//! `test rules`, backtesting and tests. Transactions buffer until commit; the
//! store rejects out-of-order samples like the TSDB head does.

use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use watchfire_model::{Labels, Matcher, Sample, SeriesRef, Timestamp};
use watchfire_storage::{
    AppendError, Appendable, Appender, CommitSummary, Querier, Queryable, SelectHints, SeriesSet,
    StorageError, VecSeriesSet,
};

/// In-memory series store.
#[derive(Debug, Default)]
pub struct MemStorage {
    series: Arc<RwLock<BTreeMap<Labels, Vec<Sample>>>>,
}

impl MemStorage {
    /// An empty store.
    pub fn new() -> Self {
        MemStorage::default()
    }

    /// Every sample of the series with exactly these labels.
    pub fn samples(&self, labels: &Labels) -> Vec<Sample> {
        self.series.read().get(labels).cloned().unwrap_or_default()
    }

    /// All series' labels, sorted.
    pub fn series_labels(&self) -> Vec<Labels> {
        self.series.read().keys().cloned().collect()
    }
}

struct MemAppender<'a> {
    store: &'a MemStorage,
    pending: Vec<(Labels, Sample)>,
    /// Latest pending timestamp (and value) per series, for order checks.
    latest: HashMap<Labels, Sample>,
}

impl Appender for MemAppender<'_> {
    fn append(
        &mut self,
        _series: Option<SeriesRef>,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        if labels.is_empty() {
            return Err(AppendError::InvalidLabels("empty label set".into()));
        }
        let last = match self.latest.get(labels) {
            Some(s) => Some(*s),
            None => self
                .store
                .series
                .read()
                .get(labels)
                .and_then(|v| v.last().copied()),
        };
        if let Some(last) = last {
            if t < last.t {
                return Err(AppendError::OutOfOrder { t, latest: last.t });
            }
            if t == last.t {
                if last.v.to_bits() == v.to_bits() {
                    return Ok(SeriesRef(labels.stable_hash()));
                }
                return Err(AppendError::DuplicateTimestamp { t });
            }
        }
        let s = Sample::new(t, v);
        self.latest.insert(labels.clone(), s);
        self.pending.push((labels.clone(), s));
        Ok(SeriesRef(labels.stable_hash()))
    }

    fn commit(&mut self) -> Result<CommitSummary, StorageError> {
        let mut map = self.store.series.write();
        let mut summary = CommitSummary::default();
        for (l, s) in self.pending.drain(..) {
            let entry = map.entry(l).or_insert_with(|| {
                summary.new_series += 1;
                Vec::new()
            });
            // Order was checked on append; keep the vector sorted regardless.
            match entry.last() {
                Some(last) if last.t >= s.t => continue,
                _ => entry.push(s),
            }
            summary.samples += 1;
        }
        self.latest.clear();
        Ok(summary)
    }

    fn rollback(&mut self) {
        self.pending.clear();
        self.latest.clear();
    }
}

impl Appendable for MemStorage {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(MemAppender {
            store: self,
            pending: Vec::new(),
            latest: HashMap::new(),
        })
    }
}

struct MemQuerier {
    series: Arc<RwLock<BTreeMap<Labels, Vec<Sample>>>>,
    mint: Timestamp,
    maxt: Timestamp,
}

impl MemQuerier {
    /// Matching series with their samples in range (labels only when asked).
    fn matching(&self, matchers: &[Matcher], with_samples: bool) -> Vec<(Labels, Vec<Sample>)> {
        let map = self.series.read();
        map.iter()
            .filter(|(l, _)| matchers.iter().all(|m| m.matches_labels(l)))
            .filter_map(|(l, s)| {
                let lo = s.partition_point(|x| x.t < self.mint);
                let hi = s.partition_point(|x| x.t <= self.maxt);
                if lo >= hi {
                    return None;
                }
                let samples = if with_samples {
                    s[lo..hi].to_vec()
                } else {
                    Vec::new()
                };
                Some((l.clone(), samples))
            })
            .collect()
    }
}

impl Querier for MemQuerier {
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<SeriesSet, StorageError> {
        Ok(VecSeriesSet::from_vec(
            self.matching(matchers, !hints.labels_only),
        ))
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut names: Vec<String> = self
            .matching(matchers, false)
            .iter()
            .flat_map(|(l, _)| l.iter().map(|x| x.name.clone()).collect::<Vec<_>>())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut vals: Vec<String> = self
            .matching(matchers, false)
            .iter()
            .filter_map(|(l, _)| l.get(name).map(str::to_string))
            .collect();
        vals.sort();
        vals.dedup();
        Ok(vals)
    }
}

impl Queryable for MemStorage {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(MemQuerier {
            series: Arc::clone(&self.series),
            mint,
            maxt,
        }))
    }
}
