//! Functions over range vectors: rates, `*_over_time`, regressions.

use super::super::aggregate::{Fold, KahanSum, Mean, Variance, kahan_add, quantile};
use super::super::extended::{anchored_start, check_modifiers, extended_rate};
use super::super::windows::{SeriesOut, SlidingExtreme, Window, apply_windows, apply_windows_at};
use super::super::{Evaluator, Grid, RangeArg, RangeMode, Val, exec};
use crate::QueryError;
use crate::ast::{Expr, Positions};
use watchfire_model::Sample;

impl Evaluator<'_> {
    /// Applies `f` to the window of each series at each step.
    fn range_fn(
        &mut self,
        arg: &Expr,
        grid: Grid,
        keep_name: bool,
        f: impl FnMut(&Window<'_>) -> Option<f64>,
    ) -> Result<SeriesOut, QueryError> {
        let ra = self.eval_range_arg(arg, grid)?;
        Ok(apply_windows(&ra, grid, keep_name, f))
    }

    /// Evaluates a function whose (main) argument is a range vector; `None` if
    /// `name` is not one.
    pub(crate) fn eval_range_call(
        &mut self,
        name: &str,
        args: &[Expr],
        pos: &Positions,
        grid: Grid,
    ) -> Result<Option<Val>, QueryError> {
        Ok(self
            .eval_range_series(name, args, pos, grid)?
            .map(|out| Val::Vector(out.into_steps(grid.len()))))
    }
}

/// `rate`, `increase` and `delta` with Prometheus' extrapolation.
pub(crate) fn extrapolated_rate(w: &Window<'_>, is_counter: bool, is_rate: bool) -> Option<f64> {
    let s = w.samples;
    if s.len() < 2 {
        return None;
    }
    let first = s[0];
    let last = s[s.len() - 1];
    let mut result = last.v - first.v;
    if is_counter {
        let mut prev = first.v;
        for x in &s[1..] {
            if x.v < prev {
                result += prev;
            }
            prev = x.v;
        }
    }
    let range_s = (w.hi - w.lo) as f64 / 1000.0;
    let mut to_start = (first.t - w.lo) as f64 / 1000.0;
    let mut to_end = (w.hi - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let avg = sampled / (s.len() - 1) as f64;
    let threshold = avg * 1.1;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    if is_counter && result > 0.0 && first.v >= 0.0 {
        let to_zero = sampled * (first.v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if is_rate {
        factor /= range_s;
    }
    Some(result * factor)
}

/// `irate` and `idelta`.
pub(crate) fn instant_value(w: &Window<'_>, is_rate: bool) -> Option<f64> {
    let s = w.samples;
    if s.len() < 2 {
        return None;
    }
    let last = s[s.len() - 1];
    let prev = s[s.len() - 2];
    let mut r = last.v - prev.v;
    if is_rate {
        if last.v < prev.v {
            r = last.v;
        }
        let dt = last.t - prev.t;
        if dt == 0 {
            return None;
        }
        r /= dt as f64 / 1000.0;
    }
    Some(r)
}

/// Least-squares fit `(slope, intercept)` with x in seconds from `intercept_t`.
pub(crate) fn linear_regression(s: &[Sample], intercept_t: i64) -> (f64, f64) {
    let init = s[0].v;
    let const_y = s.iter().all(|x| x.v == init);
    if const_y {
        if init.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init);
    }
    let n = s.len() as f64;
    let (mut sx, mut cx, mut sy, mut cy, mut sxy, mut cxy, mut sx2, mut cx2) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for p in s {
        let x = (p.t - intercept_t) as f64 / 1e3;
        (sx, cx) = kahan_add(x, sx, cx);
        (sy, cy) = kahan_add(p.v, sy, cy);
        (sxy, cxy) = kahan_add(x * p.v, sxy, cxy);
        (sx2, cx2) = kahan_add(x * x, sx2, cx2);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    let intercept = sy / n - slope * sx / n;
    (slope, intercept)
}

fn double_exponential_smoothing(s: &[Sample], sf: f64, tf: f64) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let mut s0 = 0.0;
    let mut s1 = s[0].v;
    let mut b = s[1].v - s[0].v;
    for (i, p) in s.iter().enumerate().skip(1) {
        let x = sf * p.v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Some(s1)
}

/// Folds the window's values in order with `F` (no copy of them is made).
fn fold_window<F: Fold>(w: &Window<'_>) -> Option<f64> {
    let mut f = F::default();
    for s in w.samples {
        f.push(s.v);
    }
    Some(f.finish())
}

/// The values of `w`'s samples in `buf` (reused from window to window, so that
/// a step allocates nothing).
fn window_values<'b>(buf: &'b mut Vec<f64>, w: &Window<'_>) -> &'b mut [f64] {
    buf.clear();
    buf.extend(w.samples.iter().map(|s| s.v));
    buf
}

fn scalar_at(v: &Val, i: usize) -> f64 {
    match v {
        Val::Scalar(s) => s.get(i).copied().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

impl Evaluator<'_> {
    /// A function whose (main) argument is a range vector, series by series;
    /// `None` if `name` is not one.
    pub(crate) fn eval_range_series(
        &mut self,
        name: &str,
        args: &[Expr],
        pos: &Positions,
        grid: Grid,
    ) -> Result<Option<SeriesOut>, QueryError> {
        let arg0 = || {
            args.first()
                .ok_or_else(|| exec(format!("missing argument to {name}")))
        };
        check_modifiers(name, args)?;
        let v = match name {
            "rate" | "increase" | "delta" => {
                let a = arg0()?;
                let counter = name != "delta";
                let rate = name == "rate";
                let ra = self.eval_range_arg(a, grid)?;
                if counter && matches!(a, Expr::MatrixSelector { .. }) {
                    self.counter_info(&ra, pos);
                }
                match ra.mode {
                    RangeMode::Plain => {
                        apply_windows(&ra, grid, false, |w| extrapolated_rate(w, counter, rate))
                    }
                    RangeMode::Anchored { .. } | RangeMode::Smoothed { .. } => {
                        let smoothed = matches!(ra.mode, RangeMode::Smoothed { .. });
                        apply_windows(&ra, grid, false, |w| {
                            extended_rate(w.samples, w.lo, w.hi, smoothed, counter, rate)
                        })
                    }
                }
            }
            "irate" => self.range_fn(arg0()?, grid, false, |w| instant_value(w, true))?,
            "idelta" => self.range_fn(arg0()?, grid, false, |w| instant_value(w, false))?,
            "avg_over_time" => self.range_fn(arg0()?, grid, false, fold_window::<Mean>)?,
            "sum_over_time" => self.range_fn(arg0()?, grid, false, fold_window::<KahanSum>)?,
            "stdvar_over_time" => {
                self.range_fn(arg0()?, grid, false, fold_window::<Variance<false>>)?
            }
            "stddev_over_time" => {
                self.range_fn(arg0()?, grid, false, fold_window::<Variance<true>>)?
            }
            "count_over_time" => {
                self.range_fn(arg0()?, grid, false, |w| Some(w.samples.len() as f64))?
            }
            "present_over_time" => self.range_fn(arg0()?, grid, false, |_| Some(1.0))?,
            "last_over_time" => {
                self.range_fn(arg0()?, grid, true, |w| w.samples.last().map(|s| s.v))?
            }
            "first_over_time" => {
                self.range_fn(arg0()?, grid, true, |w| w.samples.first().map(|s| s.v))?
            }
            "min_over_time" | "max_over_time" => {
                let ra = self.eval_range_arg(arg0()?, grid)?;
                if name == "min_over_time" {
                    let mut ext = SlidingExtreme::<true>::new();
                    apply_windows_at(&ra, grid, false, |si, all, a, w| {
                        Some(ext.at(si, all, a, a + w.samples.len()))
                    })
                } else {
                    let mut ext = SlidingExtreme::<false>::new();
                    apply_windows_at(&ra, grid, false, |si, all, a, w| {
                        Some(ext.at(si, all, a, a + w.samples.len()))
                    })
                }
            }
            "ts_of_min_over_time" | "ts_of_max_over_time" => {
                // Timestamp of the last sample holding the extreme value (ties
                // go to the later sample, as in Prometheus).
                let min = name == "ts_of_min_over_time";
                self.range_fn(arg0()?, grid, false, |w| {
                    let mut acc = f64::NAN;
                    let mut ts = None;
                    for s in w.samples {
                        let better = if min { s.v <= acc } else { s.v >= acc };
                        if acc.is_nan() || better {
                            acc = s.v;
                            ts = Some(s.t);
                        }
                    }
                    ts.map(|t| t as f64 / 1e3)
                })?
            }
            "ts_of_first_over_time" => self.range_fn(arg0()?, grid, false, |w| {
                w.samples.first().map(|s| s.t as f64 / 1e3)
            })?,
            "ts_of_last_over_time" => self.range_fn(arg0()?, grid, false, |w| {
                w.samples.last().map(|s| s.t as f64 / 1e3)
            })?,
            "mad_over_time" => {
                let (mut vals, mut dev) = (Vec::new(), Vec::new());
                self.range_fn(arg0()?, grid, false, |w| {
                    let vals = window_values(&mut vals, w);
                    if vals.iter().any(|v| v.is_nan()) {
                        return Some(f64::NAN);
                    }
                    let med = quantile(0.5, vals);
                    dev.clear();
                    dev.extend(vals.iter().map(|v| (v - med).abs()));
                    Some(quantile(0.5, &mut dev))
                })?
            }
            "quantile_over_time" => {
                let q = self.eval(arg0()?, grid)?;
                let m = args
                    .get(1)
                    .ok_or_else(|| exec("missing argument to quantile_over_time"))?;
                let mut warned = false;
                let mut vals = Vec::new();
                let out = self.range_fn(m, grid, false, |w| {
                    let qv = scalar_at(&q, w.step);
                    if !(0.0..=1.0).contains(&qv) {
                        warned = true;
                    }
                    Some(quantile(qv, window_values(&mut vals, w)))
                })?;
                if warned {
                    self.warn_at(
                        pos.arg(0),
                        "PromQL warning: quantile value should be between 0 and 1".to_string(),
                    );
                }
                out
            }
            "changes" | "resets" => {
                let changes = name == "changes";
                let ra = self.eval_range_arg(arg0()?, grid)?;
                let anchored = matches!(ra.mode, RangeMode::Anchored { .. });
                apply_windows(&ra, grid, false, |w| {
                    // An anchored window also compares with the last sample
                    // before it.
                    let samples = if anchored {
                        &w.samples[anchored_start(w.samples, w.lo)?..]
                    } else {
                        w.samples
                    };
                    let mut n = 0.0;
                    for p in samples.windows(2) {
                        let (a, b) = (p[0].v, p[1].v);
                        let hit = if changes {
                            !(a == b || (a.is_nan() && b.is_nan()))
                        } else {
                            b < a
                        };
                        if hit {
                            n += 1.0;
                        }
                    }
                    Some(n)
                })
            }
            "deriv" => self.range_fn(arg0()?, grid, false, |w| {
                (w.samples.len() >= 2).then(|| linear_regression(w.samples, w.samples[0].t).0)
            })?,
            "predict_linear" => {
                let d = self.eval(
                    args.get(1)
                        .ok_or_else(|| exec("missing argument to predict_linear"))?,
                    grid,
                )?;
                self.range_fn(arg0()?, grid, false, |w| {
                    if w.samples.len() < 2 {
                        return None;
                    }
                    let (slope, icpt) = linear_regression(w.samples, w.t);
                    Some(icpt + slope * scalar_at(&d, w.step))
                })?
            }
            "double_exponential_smoothing" => {
                let sf = self.eval(
                    args.get(1)
                        .ok_or_else(|| exec("missing smoothing factor"))?,
                    grid,
                )?;
                let tf = self.eval(
                    args.get(2).ok_or_else(|| exec("missing trend factor"))?,
                    grid,
                )?;
                for i in 0..grid.len() {
                    let (s, t) = (scalar_at(&sf, i), scalar_at(&tf, i));
                    if !(s > 0.0 && s < 1.0) {
                        return Err(exec(format!(
                            "invalid smoothing factor. Expected: 0 < sf < 1, got: {s:.6}"
                        )));
                    }
                    if !(t > 0.0 && t < 1.0) {
                        return Err(exec(format!(
                            "invalid trend factor. Expected: 0 < tf < 1, got: {t:.6}"
                        )));
                    }
                }
                self.range_fn(arg0()?, grid, false, |w| {
                    double_exponential_smoothing(
                        w.samples,
                        scalar_at(&sf, w.step),
                        scalar_at(&tf, w.step),
                    )
                })?
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    /// The "might not be a counter" info for `rate`/`increase` over series whose
    /// metric name does not look like a counter.
    fn counter_info(&mut self, ra: &RangeArg, pos: &Positions) {
        for (labels, samples) in &ra.series {
            if samples.len() < 2 {
                continue;
            }
            if let Some(name) = labels.metric_name()
                && !["_total", "_sum", "_count", "_bucket"]
                    .iter()
                    .any(|s| name.ends_with(s))
            {
                self.info_at(pos.arg(0), format!(
                    "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {name:?}"
                ));
            }
        }
    }
}
