//! Merging series from several sources (blocks and the head) into one stream.

use crate::{SampleIterator, Series, SeriesSet, StorageError};
use std::collections::VecDeque;
use watchfire_model::{Sample, Timestamp};

/// Chains the sample iterators of one series from several sources that cover
/// ascending, possibly overlapping time ranges. Samples are emitted in time order;
/// on equal timestamps the first source wins. [`next_batch`](SampleIterator::next_batch)
/// hands on the current part's batches (less what overlaps earlier parts), so a
/// batch reader pays one dynamic call per part's batch, not two per sample.
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

    fn next_batch(&mut self, out: &mut Vec<Sample>) -> usize {
        loop {
            let Some(part) = self.parts.front_mut() else {
                return 0;
            };
            let start = out.len();
            if part.next_batch(out) == 0 {
                if !self.drop_exhausted_part() {
                    return 0;
                }
                continue;
            }
            let kept = keep_after(out, start, self.current.map(|c| c.t));
            if kept > 0 {
                self.current = out.last().copied();
                return kept;
            }
            // All of them overlapped samples already emitted: read on.
        }
    }

    fn error(&mut self) -> Option<StorageError> {
        self.error.take()
    }
}

/// Keeps of `out[start..]` only the samples after `last` and after every sample kept
/// before them, as [`ChainedSampleIterator::next`] skips overlaps one by one; returns
/// how many are left there. Checks first, so disjoint parts cost one compare pass.
fn keep_after(out: &mut Vec<Sample>, start: usize, last: Option<Timestamp>) -> usize {
    let new = &out[start..];
    let after_last = match (new.first(), last) {
        (Some(f), Some(l)) => f.t > l,
        _ => true,
    };
    if after_last && new.is_sorted_by(|a, b| a.t < b.t) {
        return new.len();
    }
    let mut last = last;
    let mut w = start;
    for r in start..out.len() {
        let s = out[r];
        if last.is_none_or(|l| s.t > l) {
            out[w] = s;
            w += 1;
            last = Some(s.t);
        }
    }
    out.truncate(w);
    w - start
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
    use crate::{VecSampleIterator, VecSeriesSet};
    use proptest::prelude::*;
    use watchfire_model::{Labels, STALE_NAN, is_stale_nan};

    /// A part that fails once used up (uses the default `next_batch`).
    struct FailsAtEnd(VecSampleIterator, bool);

    impl SampleIterator for FailsAtEnd {
        fn next(&mut self) -> Option<Sample> {
            let s = self.0.next();
            self.1 |= s.is_none();
            s
        }
        fn seek(&mut self, t: Timestamp) -> Option<Sample> {
            let s = self.0.seek(t);
            self.1 |= s.is_none();
            s
        }
        fn error(&mut self) -> Option<StorageError> {
            self.1.then(|| StorageError::Invalid("broken part".into()))
        }
    }

    /// Parts as samples, the flag saying which ones fail at their end.
    type Parts = Vec<(Vec<Sample>, bool)>;

    fn chain(parts: &Parts) -> ChainedSampleIterator {
        ChainedSampleIterator::new(
            parts
                .iter()
                .map(|(p, fails)| -> Box<dyn SampleIterator> {
                    if *fails {
                        Box::new(FailsAtEnd(VecSampleIterator::new(p.clone()), false))
                    } else {
                        Box::new(VecSampleIterator::new(p.clone()))
                    }
                })
                .collect(),
        )
    }

    /// What the chain yields: each part's samples after every one before them, up to
    /// the end of the first part that fails.
    fn model(parts: &Parts) -> (Vec<Sample>, bool) {
        let mut out: Vec<Sample> = Vec::new();
        for (p, fails) in parts {
            for s in p {
                if out.last().is_none_or(|l| s.t > l.t) {
                    out.push(*s);
                }
            }
            if *fails {
                return (out, true);
            }
        }
        (out, false)
    }

    fn drain_batches(c: &mut ChainedSampleIterator) -> Vec<Sample> {
        let mut out = Vec::new();
        loop {
            let before = out.len();
            let n = c.next_batch(&mut out);
            assert_eq!(n, out.len() - before, "returns how many it appended");
            if n == 0 {
                return out;
            }
        }
    }

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

    fn part(ts: &[i64], v: f64) -> (Vec<Sample>, bool) {
        (ts.iter().map(|&t| Sample::new(t, v)).collect(), false)
    }

    #[test]
    fn batches_skip_empty_and_overlapped_parts() {
        let parts: Parts = vec![
            part(&[], 0.0),
            part(&[1, 5], 1.0),
            part(&[], 2.0),
            part(&[2, 3, 5], 3.0), // wholly overlapped: nothing of it is new
            part(&[4, 5, 6, 6, 9], 4.0),
            part(&[], 5.0),
        ];
        let mut c = chain(&parts);
        let mut out = Vec::new();
        assert_eq!(c.next_batch(&mut out), 2);
        assert_eq!(c.next_batch(&mut out), 2, "reads past the overlapped part");
        assert_eq!(
            out,
            [
                Sample::new(1, 1.0),
                Sample::new(5, 1.0),
                Sample::new(6, 4.0),
                Sample::new(9, 4.0)
            ]
        );
        assert_eq!(c.next_batch(&mut out), 0);
        assert_eq!(c.next(), None);
        assert!(c.error().is_none());
        assert_eq!(drain_batches(&mut chain(&vec![part(&[], 0.0)])), []);
        assert_eq!(
            drain_batches(&mut ChainedSampleIterator::new(Vec::new())),
            []
        );
    }

    #[test]
    fn batches_after_seek_and_next() {
        let parts: Parts = vec![part(&[1, 5, 8], 1.0), part(&[7, 8, 10, 12], 2.0)];
        let mut c = chain(&parts);
        assert_eq!(c.seek(4), Some(Sample::new(5, 1.0)));
        let mut out = Vec::new();
        assert_eq!(c.next_batch(&mut out), 1);
        assert_eq!(out, [Sample::new(8, 1.0)]);
        assert_eq!(c.seek(2), Some(Sample::new(8, 1.0)), "never moves back");
        assert_eq!(c.next(), Some(Sample::new(10, 2.0)));
        out.clear();
        assert_eq!(c.next_batch(&mut out), 1);
        assert_eq!(out, [Sample::new(12, 2.0)]);
        assert_eq!(c.seek(13), None);
        assert_eq!(c.next_batch(&mut out), 0);
    }

    #[test]
    fn batches_carry_stale_markers() {
        let parts: Parts = vec![
            part(&[1, 2], 1.0),
            (vec![Sample::new(2, 7.0), Sample::new(3, STALE_NAN)], false),
        ];
        let got = drain_batches(&mut chain(&parts));
        assert_eq!(got.len(), 3);
        assert!(is_stale_nan(got[2].v));
        assert_eq!(got[1], Sample::new(2, 1.0), "the first part wins");
    }

    #[test]
    fn a_failing_part_ends_the_chain_with_its_error() {
        let mut failing = part(&[3, 4], 2.0);
        failing.1 = true;
        let parts: Parts = vec![part(&[1, 2], 1.0), failing, part(&[5, 6], 3.0)];
        let mut c = chain(&parts);
        assert_eq!(
            drain_batches(&mut c)
                .iter()
                .map(|s| s.t)
                .collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        assert!(matches!(c.error(), Some(StorageError::Invalid(_))));
        assert!(c.error().is_none(), "reported once");
        assert_eq!(c.next(), None);
        let mut out = Vec::new();
        assert_eq!(c.next_batch(&mut out), 0);
    }

    fn parts_strategy() -> impl Strategy<Value = Parts> {
        // Sorted parts, each starting at or before the previous one's end now and
        // then (overlaps), with repeated timestamps (steps of 0) inside a part.
        prop::collection::vec(
            (
                -10i64..40,
                prop::collection::vec(0i64..8, 0..30),
                prop::bool::weighted(0.1),
            ),
            0..5,
        )
        .prop_map(|specs| {
            let mut end = 0i64;
            specs
                .into_iter()
                .enumerate()
                .map(|(i, (back, steps, fails))| {
                    let mut t = end - back;
                    let p: Vec<Sample> = steps
                        .into_iter()
                        .enumerate()
                        .map(|(j, d)| {
                            t += d;
                            // Values name their part and position, so a sample from the
                            // wrong part shows.
                            Sample::new(t, (i * 1000 + j) as f64)
                        })
                        .collect();
                    end = end.max(t);
                    (p, fails)
                })
                .collect()
        })
    }

    #[derive(Debug, Clone)]
    enum Op {
        Next,
        Seek(i64),
        Batch,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            Just(Op::Next),
            (-10i64..250).prop_map(Op::Seek),
            Just(Op::Batch)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Batches read what `next` would, wherever `next` and `seek` left off.
        #[test]
        fn batches_match_next(parts in parts_strategy(), ops in prop::collection::vec(op(), 0..40)) {
            let (want, fails) = model(&parts);
            prop_assert_eq!(drain_batches(&mut chain(&parts)), want.clone());
            let mut c = chain(&parts);
            // Index in `want` of the next sample, and the current one.
            let (mut pos, mut cur): (usize, Option<Sample>) = (0, None);
            for op in ops {
                match op {
                    Op::Batch => {
                        let mut out = vec![Sample::new(-99, 0.0)];
                        let n = c.next_batch(&mut out);
                        prop_assert_eq!(n, out.len() - 1);
                        prop_assert_eq!(n == 0, pos == want.len());
                        prop_assert_eq!(&out[1..], &want[pos..pos + n]);
                        pos += n;
                        cur = out.last().copied().filter(|_| n > 0).or(cur);
                    }
                    Op::Next | Op::Seek(_) => {
                        let got = match op {
                            Op::Seek(t) => c.seek(t),
                            _ => c.next(),
                        };
                        let expect = match op {
                            Op::Seek(t) if cur.is_some_and(|c| c.t >= t) => cur,
                            _ => {
                                let target = match op { Op::Seek(t) => t, _ => i64::MIN };
                                pos += want[pos..].iter().take_while(|s| s.t < target).count();
                                let s = want.get(pos).copied();
                                if s.is_some() {
                                    pos += 1;
                                    cur = s;
                                }
                                s
                            }
                        };
                        prop_assert_eq!(got, expect, "{:?}", op);
                    }
                }
            }
            let mut rest = Vec::new();
            while c.next_batch(&mut rest) > 0 {}
            prop_assert_eq!(&rest[..], &want[pos..]);
            prop_assert_eq!(c.error().is_some(), fails);
        }
    }
}
