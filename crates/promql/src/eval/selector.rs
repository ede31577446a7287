//! Reading series from storage and instant vector selection.

use super::{Elem, Evaluator, Grid, SeriesSamples, Val};
use crate::QueryError;
use crate::ast::VectorSelector;
use std::sync::Arc;
use watchfire_model::{Labels, Matcher, is_stale_nan};
use watchfire_storage::SelectHints;

/// A series and, per step, the `(timestamp, value)` an instant selector picks.
pub(crate) type Picked = (Arc<Labels>, Vec<Option<(i64, f64)>>);

impl Evaluator<'_> {
    /// All series matching `matchers` with their samples in `[mint, maxt]`.
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
        let set = querier.select(&hints, matchers).map_err(storage_err)?;
        let mut out = Vec::new();
        for series in set {
            self.check_deadline()?;
            let mut series = series.map_err(storage_err)?;
            let mut samples = Vec::new();
            let mut next = series.samples.seek(mint);
            while let Some(s) = next {
                if s.t > maxt {
                    break;
                }
                samples.push(s);
                next = series.samples.next();
            }
            if let Some(e) = series.samples.error() {
                return Err(storage_err(e));
            }
            self.add_samples(samples.len())?;
            if !samples.is_empty() {
                out.push((Arc::new(series.labels), samples));
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
        let lookback = self.opts.lookback_delta_ms;
        let at = self.at_ms(vs.at);
        let (first, last) = match at {
            Some(a) => (a, a),
            None => (grid.start, grid.end),
        };
        let mint = first - vs.offset_ms - lookback + 1;
        let maxt = last - vs.offset_ms;
        let series = self.fetch(&vs.matchers, mint, maxt)?;
        let times = grid.times();
        let mut out = Vec::with_capacity(series.len());
        for (labels, samples) in series {
            let mut pts = Vec::with_capacity(times.len());
            let mut any = false;
            // Evaluation times only grow, so the sample cursor only moves forward.
            let mut idx = 0;
            for &t in &times {
                let rt = at.unwrap_or(t) - vs.offset_ms;
                while idx < samples.len() && samples[idx].t <= rt {
                    idx += 1;
                }
                let p = idx
                    .checked_sub(1)
                    .and_then(|i| samples.get(i))
                    .filter(|s| s.t > rt - lookback && !is_stale_nan(s.v))
                    .map(|s| (s.t, s.v));
                any |= p.is_some();
                pts.push(p);
            }
            if any {
                out.push((labels, pts));
            }
        }
        Ok(out)
    }

    /// Evaluates an instant vector selector over the grid.
    pub(crate) fn eval_vector_selector(
        &mut self,
        vs: &VectorSelector,
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let series = self.select_points(vs, grid)?;
        let mut steps: Vec<Vec<Elem>> = (0..grid.len())
            .map(|_| Vec::with_capacity(series.len()))
            .collect();
        for (labels, pts) in series {
            for (i, p) in pts.into_iter().enumerate() {
                if let (Some((_, v)), Some(step)) = (p, steps.get_mut(i)) {
                    step.push(Elem::new(labels.clone(), v));
                }
            }
        }
        Ok(Val::Vector(steps))
    }
}
