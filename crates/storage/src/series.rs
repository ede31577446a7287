//! Series and their sample iterators.

use crate::StorageError;
use watchfire_model::{Labels, Sample, Timestamp};

/// Streams a series' samples in increasing time order.
pub trait SampleIterator: Send {
    /// The next sample, or `None` at the end (or on error, see [`error`](Self::error)).
    fn next(&mut self) -> Option<Sample>;

    /// Advances to the first sample at or after `t` and returns it. Never moves
    /// backwards: if the current sample is already at or after `t`, returns it.
    fn seek(&mut self, t: Timestamp) -> Option<Sample>;

    /// The error that ended iteration early, if any (for example a corrupt chunk).
    fn error(&mut self) -> Option<StorageError> {
        None
    }
}

/// A series selected by a querier: its labels and a stream of its samples.
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// Its samples within the querier's range.
    pub samples: Box<dyn SampleIterator>,
}

impl std::fmt::Debug for Series {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Series")
            .field("labels", &self.labels)
            .finish()
    }
}

impl Series {
    /// Drains the samples into a vector, stopping at an iterator error.
    pub fn collect_samples(mut self) -> Result<Vec<Sample>, StorageError> {
        let mut out = Vec::new();
        while let Some(s) = self.samples.next() {
            out.push(s);
        }
        match self.samples.error() {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

/// Series sorted by labels, produced lazily.
pub type SeriesSet = Box<dyn Iterator<Item = Result<Series, StorageError>> + Send>;

/// A sample iterator over an owned vector (tests, small in-memory results).
#[derive(Debug, Clone)]
pub struct VecSampleIterator {
    samples: Vec<Sample>,
    pos: usize,
}

impl VecSampleIterator {
    /// Iterates `samples`, which must be sorted by time.
    pub fn new(samples: Vec<Sample>) -> Self {
        VecSampleIterator { samples, pos: 0 }
    }
}

impl SampleIterator for VecSampleIterator {
    fn next(&mut self) -> Option<Sample> {
        let s = self.samples.get(self.pos).copied();
        if s.is_some() {
            self.pos += 1;
        }
        s
    }

    fn seek(&mut self, t: Timestamp) -> Option<Sample> {
        // `pos` points past the current sample; step back to consider it.
        let from = self.pos.saturating_sub(1);
        let idx = from + self.samples[from..].partition_point(|s| s.t < t);
        self.pos = idx + 1;
        self.samples.get(idx).copied()
    }
}

/// Builds a [`SeriesSet`] from owned series (tests, small results).
#[derive(Debug, Default)]
pub struct VecSeriesSet;

impl VecSeriesSet {
    /// Sorts `series` by labels and streams them.
    pub fn from_vec(mut series: Vec<(Labels, Vec<Sample>)>) -> SeriesSet {
        series.sort_by(|a, b| a.0.cmp(&b.0));
        Box::new(series.into_iter().map(|(labels, samples)| {
            Ok(Series {
                labels,
                samples: Box::new(VecSampleIterator::new(samples)),
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it() -> VecSampleIterator {
        VecSampleIterator::new((0..5).map(|i| Sample::new(i * 10, i as f64)).collect())
    }

    #[test]
    fn seek_never_moves_backwards() {
        let mut i = it();
        assert_eq!(i.seek(15).map(|s| s.t), Some(20));
        assert_eq!(i.seek(5).map(|s| s.t), Some(20));
        assert_eq!(i.next().map(|s| s.t), Some(30));
        assert_eq!(i.seek(100), None);
    }
}
