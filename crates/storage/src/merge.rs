//! Merging series from several sources (blocks and the head) into one stream.

use crate::{SampleIterator, Series, SeriesSet, StorageError};
use std::collections::VecDeque;
use watchfire_model::{Sample, Timestamp};

/// Chains the sample iterators of one series from several sources that cover
/// ascending, possibly overlapping time ranges. Samples are emitted in time order;
/// on equal timestamps the first source wins.
pub struct ChainedSampleIterator {
    parts: VecDeque<Box<dyn SampleIterator>>,
    current: Option<Sample>,
    error: Option<StorageError>,
}

impl std::fmt::Debug for ChainedSampleIterator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainedSampleIterator")
            .field("parts", &self.parts.len())
            .finish()
    }
}

impl ChainedSampleIterator {
    /// Chains `parts`, ordered by the time ranges they cover.
    pub fn new(parts: Vec<Box<dyn SampleIterator>>) -> Self {
        ChainedSampleIterator {
            parts: parts.into(),
            current: None,
            error: None,
        }
    }
}

impl ChainedSampleIterator {
    /// Moves past the front part once it is exhausted. Returns false when it ended
    /// with an error, which then ends the whole chain.
    fn drop_exhausted_part(&mut self) -> bool {
        if let Some(e) = self.parts.front_mut().and_then(|p| p.error()) {
            self.error = Some(e);
            self.parts.clear();
            return false;
        }
        self.parts.pop_front();
        true
    }
}

impl SampleIterator for ChainedSampleIterator {
    fn next(&mut self) -> Option<Sample> {
        loop {
            let part = self.parts.front_mut()?;
            match part.next() {
                Some(s) if self.current.is_some_and(|c| s.t <= c.t) => continue,
                Some(s) => {
                    self.current = Some(s);
                    return Some(s);
                }
                None => {
                    if !self.drop_exhausted_part() {
                        return None;
                    }
                }
            }
        }
    }

    fn seek(&mut self, t: Timestamp) -> Option<Sample> {
        if let Some(c) = self.current
            && c.t >= t
        {
            return Some(c);
        }
        loop {
            let part = self.parts.front_mut()?;
            match part.seek(t) {
                Some(s) if self.current.is_some_and(|c| s.t <= c.t) => {
                    // Overlap with an earlier part: continue scanning forward.
                    return self.next();
                }
                Some(s) => {
                    self.current = Some(s);
                    return Some(s);
                }
                None => {
                    if !self.drop_exhausted_part() {
                        return None;
                    }
                }
            }
        }
    }

    fn error(&mut self) -> Option<StorageError> {
        self.error.take()
    }
}

/// Merges several label-sorted series sets into one. Series with equal labels from
/// different sets are joined; their samples are chained in the order of `sets`
/// (pass sets oldest first).
pub fn merge_series_sets(sets: Vec<SeriesSet>) -> SeriesSet {
    if sets.len() == 1 {
        return sets
            .into_iter()
            .next()
            .unwrap_or_else(|| Box::new(std::iter::empty()));
    }
    Box::new(MergedSeriesSet {
        heads: sets.into_iter().map(|s| (None, s)).collect(),
        primed: false,
    })
}

struct MergedSeriesSet {
    heads: Vec<(Option<Series>, SeriesSet)>,
    primed: bool,
}

impl Iterator for MergedSeriesSet {
    type Item = Result<Series, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.primed {
            self.primed = true;
            for (head, set) in &mut self.heads {
                match set.next() {
                    Some(Ok(s)) => *head = Some(s),
                    Some(Err(e)) => return Some(Err(e)),
                    None => {}
                }
            }
        }
        // Smallest label set among the heads.
        let min = self
            .heads
            .iter()
            .filter_map(|(h, _)| h.as_ref().map(|s| &s.labels))
            .min()?
            .clone();
        let mut parts = Vec::new();
        for (head, set) in &mut self.heads {
            if head.as_ref().is_some_and(|s| s.labels == min) {
                if let Some(s) = head.take() {
                    parts.push(s.samples);
                }
                match set.next() {
                    Some(Ok(s)) => *head = Some(s),
                    Some(Err(e)) => return Some(Err(e)),
                    None => {}
                }
            }
        }
        let samples: Box<dyn SampleIterator> = if parts.len() == 1 {
            parts.pop()?
        } else {
            Box::new(ChainedSampleIterator::new(parts))
        };
        Some(Ok(Series {
            labels: min,
            samples,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VecSeriesSet;
    use watchfire_model::Labels;

    fn s(ts: &[i64]) -> Vec<Sample> {
        ts.iter().map(|&t| Sample::new(t, t as f64)).collect()
    }

    #[test]
    fn merges_and_chains_overlapping_series() {
        let a = Labels::from_pairs([("__name__", "a")]);
        let b = Labels::from_pairs([("__name__", "b")]);
        let old = VecSeriesSet::from_vec(vec![(a.clone(), s(&[1, 2, 3])), (b.clone(), s(&[1]))]);
        let new = VecSeriesSet::from_vec(vec![(a.clone(), s(&[3, 4]))]);
        let merged: Vec<_> = merge_series_sets(vec![old, new])
            .map(|r| {
                let s = r.unwrap();
                (
                    s.labels.clone(),
                    s.collect_samples()
                        .unwrap()
                        .iter()
                        .map(|x| x.t)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(merged, vec![(a, vec![1, 2, 3, 4]), (b, vec![1])]);
    }

    #[test]
    fn chained_seek_across_parts() {
        let parts: Vec<Box<dyn SampleIterator>> = vec![
            Box::new(crate::VecSampleIterator::new(s(&[1, 5]))),
            Box::new(crate::VecSampleIterator::new(s(&[5, 9, 12]))),
        ];
        let mut c = ChainedSampleIterator::new(parts);
        assert_eq!(c.seek(6).map(|x| x.t), Some(9));
        assert_eq!(c.seek(6).map(|x| x.t), Some(9));
        assert_eq!(c.next().map(|x| x.t), Some(12));
        assert_eq!(c.next(), None);
    }
}
