//! Sliding a range selector's windows over the steps, and the result of a range
//! function series by series.
//!
//! The windows of one series' consecutive steps overlap and only move forward,
//! so their bounds are advanced from step to step rather than searched for, and
//! a function that can carry state across steps (`max_over_time` with a
//! monotonic deque) gets the window's place in the series.
//!
//! A range function's output (and an instant selector's) is made series by
//! series; it is only spread over per-step vectors when a consumer needs those.
//! A range query's result, a subquery and a folding aggregation take it as it
//! is, which saves an `Elem` (and a label-set refcount) per point and the
//! regrouping into series.

use super::{Elem, Grid, RangeArg, SeriesSamples, drop_name, exec, has_metadata_label};
use crate::QueryError;
use std::ops::Range;
use std::sync::Arc;
use watchfire_model::{Labels, Sample};

/// What a range function sees at one step.
pub(crate) struct Window<'s> {
    /// The samples read for the window (for `anchored`/`smoothed` selectors,
    /// also those up to a lookback delta around it).
    pub samples: &'s [Sample],
    /// Left bound (exclusive) of the window.
    pub lo: i64,
    /// Right bound (inclusive) of the window.
    pub hi: i64,
    /// The evaluation time.
    pub t: i64,
    /// The step index.
    pub step: usize,
}

/// A range function's (or an instant selector's) result, series by series in
/// the order of its input.
#[derive(Debug, Clone, Default)]
pub(crate) struct SeriesOut {
    /// Each input series that has a point, with the span of its points.
    pub series: Vec<(Arc<Labels>, Range<usize>)>,
    /// `(step index, value)` of all series, one series after the other.
    pub points: Vec<(usize, f64)>,
    /// Whether `__name__` is to be dropped from every series (delayed).
    pub drop: bool,
}

impl SeriesOut {
    /// One vector per step (of `n`), elements in series order.
    pub fn into_steps(self, n: usize) -> Vec<Vec<Elem>> {
        let mut out: Vec<Vec<Elem>> = (0..n)
            .map(|_| Vec::with_capacity(self.series.len()))
            .collect();
        for (labels, r) in &self.series {
            for &(i, v) in self.points.get(r.clone()).unwrap_or_default() {
                if let Some(step) = out.get_mut(i) {
                    step.push(Elem {
                        labels: labels.clone(),
                        v,
                        drop: self.drop,
                    });
                }
            }
        }
        out
    }

    /// The series with their final labels (the name dropped if it is to be)
    /// and timestamped points, sorted by labels: what regrouping
    /// [`Self::into_steps`] with `steps_to_series` gives, including its error
    /// when two series end up with the same labels at the same step.
    pub fn into_series(self, grid: Grid) -> Result<Vec<SeriesSamples>, QueryError> {
        let step = grid.step.max(1);
        let mut out: Vec<SeriesSamples> = self
            .series
            .into_iter()
            .map(|(labels, r)| {
                let labels = if self.drop && has_metadata_label(&labels) {
                    Arc::new(drop_name(&labels))
                } else {
                    labels
                };
                let pts = self.points.get(r).unwrap_or_default();
                let samples = pts
                    .iter()
                    .map(|&(i, v)| Sample::new(grid.start + i as i64 * step, v));
                (labels, samples.collect())
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        // Series whose labels are the same once their names are dropped are
        // one series (sorted next to each other).
        if out.windows(2).any(|w| w[0].0 == w[1].0) {
            let mut merged: Vec<SeriesSamples> = Vec::with_capacity(out.len());
            for (labels, pts) in out {
                match merged.last_mut() {
                    Some(last) if last.0 == labels => last.1 = merge_points(&last.1, pts)?,
                    _ => merged.push((labels, pts)),
                }
            }
            out = merged;
        }
        Ok(out)
    }
}

/// Two series' points (each in time order) in time order; an error when both
/// have a point at the same time.
fn merge_points(a: &[Sample], b: Vec<Sample>) -> Result<Vec<Sample>, QueryError> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut a = a.iter().copied().peekable();
    for s in b {
        while let Some(x) = a.next_if(|x| x.t < s.t) {
            out.push(x);
        }
        if a.peek().is_some_and(|x| x.t == s.t) {
            return Err(exec("vector cannot contain metrics with the same labelset"));
        }
        out.push(s);
    }
    out.extend(a);
    Ok(out)
}

/// Applies `f` to the window of each series at each step.
pub(crate) fn apply_windows(
    ra: &RangeArg,
    grid: Grid,
    keep_name: bool,
    mut f: impl FnMut(&Window<'_>) -> Option<f64>,
) -> SeriesOut {
    apply_windows_at(ra, grid, keep_name, |_, _, _, w| f(w))
}

/// Like [`apply_windows`], but `f` also gets where the window lies in its series:
/// `f(series index, all of the series' samples, index of the window's first
/// sample, window)`. Windows of one series come in step order and both of their
/// bounds only move forward, so `f` can carry state from one step to the next.
pub(crate) fn apply_windows_at(
    ra: &RangeArg,
    grid: Grid,
    keep_name: bool,
    mut f: impl FnMut(usize, &[Sample], usize, &Window<'_>) -> Option<f64>,
) -> SeriesOut {
    // The bounds are the same for every series: worked out once per step.
    let steps: Vec<StepBounds> = grid
        .times()
        .into_iter()
        .map(|t| StepBounds {
            t,
            window: ra.window(t),
            read: ra.read_window(t),
        })
        .collect();
    let mut out = SeriesOut {
        series: Vec::with_capacity(ra.series.len()),
        points: Vec::new(),
        drop: !keep_name,
    };
    for (si, (labels, samples)) in ra.series.iter().enumerate() {
        let first = out.points.len();
        // Window bounds only move forward with the steps, so the slice bounds are
        // advanced from the previous step's instead of searched for again.
        let (mut a, mut b) = (0usize, 0usize);
        for (i, sb) in steps.iter().enumerate() {
            let (rlo, rhi) = sb.read;
            while a < samples.len() && samples[a].t <= rlo {
                a += 1;
            }
            b = b.max(a);
            while b < samples.len() && samples[b].t <= rhi {
                b += 1;
            }
            if a == b {
                continue;
            }
            let win = Window {
                samples: &samples[a..b],
                lo: sb.window.0,
                hi: sb.window.1,
                t: sb.t,
                step: i,
            };
            if let Some(v) = f(si, samples, a, &win) {
                out.points.push((i, v));
            }
        }
        if out.points.len() > first {
            out.series.push((labels.clone(), first..out.points.len()));
        }
    }
    out
}

/// One step's evaluation time with its window `(lo, hi]` and the span read for it.
struct StepBounds {
    t: i64,
    window: (i64, i64),
    read: (i64, i64),
}

/// `max_over_time`/`min_over_time` over a series' sliding windows with a
/// monotonic deque: each sample is pushed and popped at most once, so a step
/// costs O(1) amortised however many steps' windows a sample is in.
///
/// The result equals a scan that starts from NaN and takes a sample when the
/// value so far is NaN or the sample is strictly better: the earliest of equal
/// extremes (so `0` vs `-0` keeps the earlier one), NaNs ignored unless the
/// window holds nothing else, and then the window's last value.
pub(crate) struct SlidingExtreme<const MIN: bool> {
    /// The series the deque belongs to (`usize::MAX`: none yet).
    series: usize,
    /// Samples before this index have been pushed.
    next: usize,
    /// The deque is `queue[head..]`: `(index, value)` of non-NaN samples, the
    /// best at the front, none followed by a strictly better one.
    queue: Vec<(usize, f64)>,
    head: usize,
}

impl<const MIN: bool> SlidingExtreme<MIN> {
    /// An empty deque.
    pub(crate) fn new() -> Self {
        SlidingExtreme {
            series: usize::MAX,
            next: 0,
            queue: Vec::new(),
            head: 0,
        }
    }

    #[inline]
    fn better(x: f64, than: f64) -> bool {
        if MIN { x < than } else { x > than }
    }

    /// The extreme of `all[a..b]`, the window of series `series` (non-empty);
    /// windows of a series must come with `a` and `b` never decreasing.
    pub(crate) fn at(&mut self, series: usize, all: &[Sample], a: usize, b: usize) -> f64 {
        if series != self.series || a >= self.next {
            // A new series, or no pushed sample is still in the window.
            self.series = series;
            self.queue.clear();
            self.head = 0;
            self.next = a;
        }
        if let Some(new) = all.get(self.next..b) {
            for (i, s) in (self.next..).zip(new) {
                if s.v.is_nan() {
                    continue;
                }
                while self.queue.len() > self.head
                    && self
                        .queue
                        .last()
                        .is_some_and(|&(_, w)| Self::better(s.v, w))
                {
                    self.queue.pop();
                }
                self.queue.push((i, s.v));
            }
            self.next = b;
        }
        while self.queue.get(self.head).is_some_and(|&(j, _)| j < a) {
            self.head += 1;
        }
        // Reclaim the popped front once it is most of the buffer.
        if self.head >= 1024 && self.head * 2 >= self.queue.len() {
            self.queue.drain(..self.head);
            self.head = 0;
        }
        match self.queue.get(self.head) {
            Some(&(_, v)) => v,
            // Only NaNs: the scan ends on the last one.
            None => all.get(b.wrapping_sub(1)).map_or(f64::NAN, |s| s.v),
        }
    }
}
