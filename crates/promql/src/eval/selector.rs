//! Reading series from storage and instant vector selection.

use super::windows::SeriesOut;
use super::{Elem, Evaluator, Grid, SeriesSamples, Val};
use crate::QueryError;
use crate::ast::VectorSelector;
use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Instant;
use watchfire_model::{Labels, Matcher, Sample, is_stale_nan};
use watchfire_storage::{SampleIterator, SelectHints, Series, SeriesSet};

/// Series read from storage per batch: bounds what decoding ahead holds.
const BATCH: usize = 512;

/// Smallest batch split over two threads: below it a spawn costs more than
/// it saves.
const PAR_MIN: usize = 64;

/// Whether a second core is there to decode on.
fn parallel() -> bool {
    static PAR: OnceLock<bool> = OnceLock::new();
    *PAR.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

fn check(deadline: Instant) -> Result<(), QueryError> {
    if Instant::now() > deadline {
        return Err(QueryError::Timeout("expression evaluation".to_string()));
    }
    Ok(())
}

/// The next (up to) [`BATCH`] series of `set`.
fn next_batch(set: &mut SeriesSet) -> Result<Vec<Series>, QueryError> {
    let mut batch = Vec::new();
    for s in set.by_ref().take(BATCH) {
        batch.push(s.map_err(|e| QueryError::Storage(e.to_string()))?);
    }
    Ok(batch)
}

/// Decodes each series of `batch` with `f`, giving its labels and result in
/// input order. Decoding samples dominates selector cost and series are
/// independent, so a large batch is split in two halves over two threads.
fn decode_batch<T: Send>(
    mut batch: Vec<Series>,
    f: &(dyn Fn(&mut Series) -> Result<T, QueryError> + Sync),
) -> Result<Vec<(Labels, T)>, QueryError> {
    let results: Vec<T> = if batch.len() < PAR_MIN || !parallel() {
        batch.iter_mut().map(f).collect::<Result<_, _>>()?
    } else {
        let mid = batch.len() / 2;
        let (a, b) = batch.split_at_mut(mid);
        std::thread::scope(|s| {
            let h = s.spawn(|| b.iter_mut().map(f).collect::<Result<Vec<T>, _>>());
            let ra = a.iter_mut().map(f).collect::<Result<Vec<T>, _>>();
            let rb = h.join().unwrap_or_else(|_| {
                Err(QueryError::Execution(
                    "series decoding thread panicked".to_string(),
                ))
            });
            let mut ra = ra?;
            ra.extend(rb?);
            Ok::<_, QueryError>(ra)
        })?
    };
    Ok(batch.into_iter().map(|s| s.labels).zip(results).collect())
}

/// Most samples reserved for a series ahead of reading them (16 MiB).
const RESERVE_MAX: usize = 1 << 20;

/// Reserves room for the samples up to `maxt` at the density of those read so
/// far, so that a long series is not copied over and over as it grows.
fn reserve_for_span(samples: &mut Vec<Sample>, maxt: i64) {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return;
    };
    let span = last.t - first.t;
    if span <= 0 || last.t >= maxt {
        return;
    }
    let per_ms = (samples.len() - 1) as f64 / span as f64;
    let want = ((maxt - last.t) as f64 * per_ms) as usize + 1;
    samples.reserve(want.min(RESERVE_MAX.saturating_sub(samples.len())));
}

/// Reads a series' samples in `[mint, maxt]` a batch at a time, so that stepping
/// through them is a slice access rather than a dynamic call per sample.
struct SampleReader<'a> {
    it: &'a mut dyn SampleIterator,
    buf: Vec<Sample>,
    /// Index in `buf` of the next sample not yet consumed.
    pos: usize,
    /// Samples consumed from earlier batches.
    consumed: usize,
    maxt: i64,
    /// The iterator is used up (or passed `maxt`): ask it for no more.
    done: bool,
}

impl<'a> SampleReader<'a> {
    fn new(it: &'a mut dyn SampleIterator, mint: i64, maxt: i64) -> Self {
        let first = it.seek(mint);
        SampleReader {
            it,
            buf: first.into_iter().collect(),
            pos: 0,
            consumed: 0,
            maxt,
            done: first.is_none(),
        }
    }

    /// The next sample in range, not consumed (advance `pos` to consume it).
    #[inline]
    fn peek(&mut self) -> Option<Sample> {
        if self.pos == self.buf.len() {
            self.refill();
        }
        self.buf.get(self.pos).copied().filter(|s| s.t <= self.maxt)
    }

    #[cold]
    fn refill(&mut self) {
        if self.done || self.buf.last().is_some_and(|s| s.t > self.maxt) {
            return;
        }
        self.consumed += self.buf.len();
        self.buf.clear();
        self.pos = 0;
        self.done = self.it.next_batch(&mut self.buf) == 0;
    }
}

/// A series and, per step, the `(timestamp, value)` an instant selector picks.
pub(crate) type Picked = (Arc<Labels>, Vec<Option<(i64, f64)>>);

impl Evaluator<'_> {
    /// All series matching `matchers` with their samples in `[mint, maxt]`,
    /// stale markers left out (as range selectors read them).
    pub(crate) fn fetch(
        &mut self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<SeriesSamples>, QueryError> {
        let storage_err = |e: watchfire_storage::StorageError| QueryError::Storage(e.to_string());
        let querier = self.storage.querier(mint, maxt).map_err(storage_err)?;
        let hints = SelectHints {
            start: mint,
            end: maxt,
            labels_only: false,
        };
        let mut set = querier.select(&hints, matchers).map_err(storage_err)?;
        let deadline = self.deadline;
        let mut out = Vec::new();
        loop {
            self.check_deadline()?;
            let batch = next_batch(&mut set)?;
            if batch.is_empty() {
                break;
            }
            let decoded = decode_batch(batch, &|series: &mut Series| {
                check(deadline)?;
                let mut samples = Vec::new();
                if let Some(first) = series.samples.seek(mint) {
                    samples.push(first);
                    let mut start = 0;
                    // Up to the first sample after `maxt`, in batches: one dynamic
                    // call per batch instead of per sample.
                    loop {
                        if let Some(end) = samples[start..].iter().position(|s| s.t > maxt) {
                            samples.truncate(start + end);
                            break;
                        }
                        start = samples.len();
                        if series.samples.next_batch(&mut samples) == 0 {
                            break;
                        }
                        if start == 1 {
                            reserve_for_span(&mut samples, maxt);
                        }
                    }
                }
                if let Some(e) = series.samples.error() {
                    return Err(storage_err(e));
                }
                let read = samples.len();
                // Range selectors never see stale markers.
                if samples.iter().any(|s| is_stale_nan(s.v)) {
                    samples.retain(|s| !is_stale_nan(s.v));
                }
                Ok((read, samples))
            })?;
            for (labels, (read, samples)) in decoded {
                self.add_samples(read)?;
                if !samples.is_empty() {
                    out.push((Arc::new(labels), samples));
                }
            }
        }
        Ok(out)
    }

    /// For each series, the sample an instant selector picks at each step:
    /// `(sample timestamp, value)` or `None`.
    pub(crate) fn select_points(
        &mut self,
        vs: &VectorSelector,
        grid: Grid,
    ) -> Result<Vec<Picked>, QueryError> {
        let n = grid.len();
        let mut out = Vec::new();
        let mut pts: Vec<Option<(i64, f64)>> = vec![None; n];
        self.for_each_selected(vs, grid, |labels, picked| {
            let mut any = false;
            for (dst, p) in pts.iter_mut().zip(picked) {
                *dst = *p;
                any |= p.is_some();
            }
            if any {
                out.push((labels, pts.clone()));
            }
        })?;
        Ok(out)
    }

    /// Streams each matching series' picked points (one per step) to `f`,
    /// decoding samples straight from storage: an instant selector only needs
    /// the last sample before each step, so the samples are never collected.
    pub(crate) fn for_each_selected(
        &mut self,
        vs: &VectorSelector,
        grid: Grid,
        mut f: impl FnMut(Arc<Labels>, &[Option<(i64, f64)>]),
    ) -> Result<(), QueryError> {
        let lookback = self.opts.lookback_delta_ms;
        let at = self.at_ms(vs.at);
        let (first, last) = match at {
            Some(a) => (a, a),
            None => (grid.start, grid.end),
        };
        let mint = first - vs.offset_ms - lookback + 1;
        let maxt = last - vs.offset_ms;
        let storage_err = |e: watchfire_storage::StorageError| QueryError::Storage(e.to_string());
        let querier = self.storage.querier(mint, maxt).map_err(storage_err)?;
        let hints = SelectHints {
            start: mint,
            end: maxt,
            labels_only: false,
        };
        let mut set = querier.select(&hints, &vs.matchers).map_err(storage_err)?;
        let times = grid.times();
        let deadline = self.deadline;
        loop {
            self.check_deadline()?;
            let batch = next_batch(&mut set)?;
            if batch.is_empty() {
                break;
            }
            let decoded = decode_batch(batch, &|series: &mut Series| {
                check(deadline)?;
                let mut pts: Vec<Option<(i64, f64)>> = Vec::with_capacity(times.len());
                let mut any = false;
                let mut rd = SampleReader::new(series.samples.as_mut(), mint, maxt);
                // The sample at or before the current step's read time; evaluation
                // times only grow, and never past `maxt`.
                let mut cur: Option<Sample> = None;
                for &t in &times {
                    let rt = at.unwrap_or(t) - vs.offset_ms;
                    while let Some(s) = rd.peek().filter(|s| s.t <= rt) {
                        cur = Some(s);
                        rd.pos += 1;
                    }
                    let p = cur
                        .filter(|s| s.t > rt - lookback && !is_stale_nan(s.v))
                        .map(|s| (s.t, s.v));
                    any |= p.is_some();
                    pts.push(p);
                }
                // Samples read: those consumed, and the one after them, if in range
                // (as reading sample by sample looked one ahead).
                let count = rd.consumed + rd.pos + usize::from(rd.peek().is_some());
                if let Some(e) = series.samples.error() {
                    return Err(storage_err(e));
                }
                Ok((count, any.then_some(pts)))
            })?;
            for (labels, (count, pts)) in decoded {
                self.add_samples(count)?;
                if let Some(pts) = pts {
                    if self.opts.count_queryable_samples {
                        self.queryable_samples += pts.iter().filter(|p| p.is_some()).count() as u64;
                    }
                    f(Arc::new(labels), &pts);
                }
            }
        }
        Ok(())
    }

    /// An instant vector selector's points, series by series (what
    /// [`Self::eval_vector_selector`] spreads over the steps).
    pub(crate) fn select_series(
        &mut self,
        vs: &VectorSelector,
        grid: Grid,
    ) -> Result<SeriesOut, QueryError> {
        let mut out = SeriesOut::default();
        self.for_each_selected(vs, grid, |labels, pts| {
            let first = out.points.len();
            for (i, p) in pts.iter().enumerate() {
                if let Some((_, v)) = p {
                    out.points.push((i, *v));
                }
            }
            if out.points.len() > first {
                out.series.push((labels, first..out.points.len()));
            }
        })?;
        Ok(out)
    }

    /// Evaluates an instant vector selector over the grid.
    pub(crate) fn eval_vector_selector(
        &mut self,
        vs: &VectorSelector,
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let mut steps: Vec<Vec<Elem>> = (0..grid.len()).map(|_| Vec::new()).collect();
        self.for_each_selected(vs, grid, |labels, pts| {
            for (p, step) in pts.iter().zip(steps.iter_mut()) {
                if let Some((_, v)) = p {
                    step.push(Elem::new(labels.clone(), *v));
                }
            }
        })?;
        Ok(Val::Vector(steps))
    }
}
