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

    /// Appends the next samples to `out` and returns how many it appended: at least
    /// one, or 0 at the end (or on error, see [`error`](Self::error)).
    ///
    /// Yields exactly what as many [`next`](Self::next) calls would, and leaves the
    /// iterator where they would (the last sample appended is the current one that
    /// [`seek`](Self::seek) does not move back from); `next`, `seek` and
    /// `next_batch` may be mixed freely. How many samples one call appends is up to
    /// the iterator (a decoded chunk's worth, say). Readers of many samples use it
    /// so that the per-sample work is a slice access rather than a dynamic call.
    fn next_batch(&mut self, out: &mut Vec<Sample>) -> usize {
        // Default methods are compiled per implementing type, so these `next` calls
        // are static and can be inlined.
        let mut n = 0;
        while n < DEFAULT_BATCH {
            match self.next() {
                Some(s) => out.push(s),
                None => break,
            }
            n += 1;
        }
        n
    }

    /// The error that ended iteration early, if any (for example a corrupt chunk).
    fn error(&mut self) -> Option<StorageError> {
        None
    }
}

/// Samples the default [`SampleIterator::next_batch`] gathers per call.
const DEFAULT_BATCH: usize = 128;

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
        while self.samples.next_batch(&mut out) > 0 {}
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

    fn next_batch(&mut self, out: &mut Vec<Sample>) -> usize {
        // `pos` may be one past the end after a fruitless seek.
        let rest = self.samples.get(self.pos..).unwrap_or_default();
        out.extend_from_slice(rest);
        self.pos += rest.len();
        rest.len()
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

    fn ts(s: &[Sample]) -> Vec<i64> {
        s.iter().map(|x| x.t).collect()
    }

    /// Only `next` and `seek`: gets the default `next_batch`.
    struct NextOnly(VecSampleIterator);

    impl SampleIterator for NextOnly {
        fn next(&mut self) -> Option<Sample> {
            self.0.next()
        }
        fn seek(&mut self, t: Timestamp) -> Option<Sample> {
            self.0.seek(t)
        }
    }

    #[test]
    fn vec_next_batch_takes_the_rest_from_where_next_and_seek_left_off() {
        let mut i = it();
        let mut out = vec![Sample::new(-1, 0.0)];
        assert_eq!(i.next().map(|s| s.t), Some(0));
        assert_eq!(i.next_batch(&mut out), 4, "appends after what `out` held");
        assert_eq!(ts(&out), [-1, 10, 20, 30, 40]);
        assert_eq!(i.next_batch(&mut out), 0);
        assert_eq!(i.next(), None);
        // The last sample batched is the current one: seek stays on it.
        assert_eq!(i.seek(0).map(|s| s.t), Some(40));

        let mut i = it();
        assert_eq!(i.seek(15).map(|s| s.t), Some(20));
        out.clear();
        assert_eq!(i.next_batch(&mut out), 2);
        assert_eq!(ts(&out), [30, 40]);

        let mut i = it();
        assert_eq!(i.seek(41), None);
        assert_eq!(i.next_batch(&mut out), 0, "after seeking past the end");
        assert_eq!(i.seek(41), None);

        let mut empty = VecSampleIterator::new(Vec::new());
        assert_eq!(empty.next_batch(&mut out), 0);
        assert_eq!(empty.seek(0), None);
        assert_eq!(empty.next_batch(&mut out), 0);
    }

    #[test]
    fn next_batch_keeps_stale_markers_bit_for_bit() {
        let samples = vec![
            Sample::new(1, 1.0),
            Sample::new(2, watchfire_model::STALE_NAN),
            Sample::new(3, f64::NAN),
        ];
        for mut i in [
            Box::new(VecSampleIterator::new(samples.clone())) as Box<dyn SampleIterator>,
            Box::new(NextOnly(VecSampleIterator::new(samples.clone()))),
        ] {
            let mut out = Vec::new();
            assert_eq!(i.next_batch(&mut out), 3);
            let bits: Vec<u64> = out.iter().map(|s| s.v.to_bits()).collect();
            let want: Vec<u64> = samples.iter().map(|s| s.v.to_bits()).collect();
            assert_eq!(bits, want);
            assert!(watchfire_model::is_stale_nan(out[1].v));
            assert!(!watchfire_model::is_stale_nan(out[2].v));
        }
    }

    #[test]
    fn default_next_batch_is_bounded_and_resumable() {
        let n = DEFAULT_BATCH as i64 * 2 + 5;
        let all: Vec<Sample> = (0..n).map(|t| Sample::new(t, t as f64)).collect();
        let mut i = NextOnly(VecSampleIterator::new(all.clone()));
        assert_eq!(i.seek(3).map(|s| s.t), Some(3));
        let mut out = Vec::new();
        assert_eq!(i.next_batch(&mut out), DEFAULT_BATCH);
        assert_eq!(i.seek(0).map(|s| s.t), Some(DEFAULT_BATCH as i64 + 3));
        assert_eq!(i.next().map(|s| s.t), Some(DEFAULT_BATCH as i64 + 4));
        while i.next_batch(&mut out) > 0 {}
        let mut want = ts(&all[4..]);
        want.remove(DEFAULT_BATCH);
        assert_eq!(ts(&out), want);
        assert_eq!(i.next(), None);
    }

    #[test]
    fn collect_samples_reads_everything() {
        let all: Vec<Sample> = (0..1000).map(|t| Sample::new(t, 0.5)).collect();
        for samples in [
            Box::new(VecSampleIterator::new(all.clone())) as Box<dyn SampleIterator>,
            Box::new(NextOnly(VecSampleIterator::new(all.clone()))),
        ] {
            let s = Series {
                labels: Labels::empty(),
                samples,
            };
            assert_eq!(s.collect_samples().unwrap(), all);
        }
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
