//! The experimental `anchored` and `smoothed` selector modifiers
//! (Prometheus' `promql-extended-range-selectors` feature).
//!
//! Both read a lookback delta beyond the window so that the window's boundaries
//! get a value of their own: `anchored` takes the last sample at or before the
//! window's start as its start value; `smoothed` interpolates linearly between
//! the samples either side of each boundary (and, for an instant selector,
//! of the evaluation time). Only a few functions make sense over such windows,
//! so the others are refused, as Prometheus does.

use super::{Elem, Evaluator, Grid, Val, exec};
use crate::QueryError;
use crate::ast::{Expr, VectorSelector};
use watchfire_model::Sample;

/// Functions that accept an `anchored` range selector (sorted, for the error text).
const ANCHORED_SAFE: [&str; 5] = ["changes", "delta", "increase", "rate", "resets"];

/// Functions that accept a `smoothed` range selector (sorted, for the error text).
const SMOOTHED_SAFE: [&str; 3] = ["delta", "increase", "rate"];

/// Refuses an `anchored`/`smoothed` range selector argument of a function that
/// cannot work on the values it produces outside the window.
pub(crate) fn check_modifiers(name: &str, args: &[Expr]) -> Result<(), QueryError> {
    for a in args {
        let mut a = a;
        while let Expr::Paren(inner) = a {
            a = inner;
        }
        let Expr::MatrixSelector { selector, .. } = a else {
            continue;
        };
        let (modifier, safe): (&str, &[&str]) = if selector.anchored {
            ("anchored", &ANCHORED_SAFE)
        } else if selector.smoothed {
            ("smoothed", &SMOOTHED_SAFE)
        } else {
            continue;
        };
        if !safe.contains(&name) {
            return Err(exec(format!(
                "{modifier} modifier can only be used with: {} - not with {name}",
                safe.join(", ")
            )));
        }
    }
    Ok(())
}

/// Linear interpolation at `t` between `a` and `b`. For a counter that reset
/// between them the counter is taken to restart from zero.
fn interpolate(a: Sample, b: Sample, t: i64, is_counter: bool) -> f64 {
    let y1 = if is_counter && b.v < a.v { 0.0 } else { a.v };
    y1 + (b.v - y1) * (t - a.t) as f64 / (b.t - a.t) as f64
}

/// The boundary samples of an extended window `s` (the samples read for
/// `(lo, hi]` widened by the lookback delta): the index of the sample giving the
/// start value and of the one giving the end value, or `None` when the window
/// has nothing to measure.
fn boundaries(s: &[Sample], lo: i64, hi: i64, smoothed: bool) -> Option<(usize, usize)> {
    let mut last = s.len().checked_sub(1)?;
    // The last sample at or before the start; the first one when none is (but
    // never the last, which must stay after the start).
    let first = s[..last].partition_point(|p| p.t <= lo).saturating_sub(1);
    if smoothed {
        // The first sample at or after the end (the last one when none is).
        last = s[..last].partition_point(|p| p.t < hi);
    }
    if s[last].t <= lo || (smoothed && s[first].t > hi) {
        return None;
    }
    Some((first, last))
}

/// The value at the start of the window: interpolated for `smoothed` when the
/// chosen sample lies before it.
fn left_value(s: &[Sample], first: usize, lo: i64, smoothed: bool, is_counter: bool) -> f64 {
    match s.get(first + 1) {
        Some(&next) if smoothed && s[first].t < lo => interpolate(s[first], next, lo, is_counter),
        _ => s[first].v,
    }
}

/// The value at the end of the window: interpolated for `smoothed` when the
/// chosen sample lies after it.
fn right_value(s: &[Sample], last: usize, hi: i64, smoothed: bool, is_counter: bool) -> f64 {
    if smoothed && last > 0 && s[last].t > hi {
        interpolate(s[last - 1], s[last], hi, is_counter)
    } else {
        s[last].v
    }
}

/// `rate`, `increase` and `delta` over an anchored or smoothed window: the
/// difference between the end and start values, corrected for counter resets,
/// without extrapolation.
pub(crate) fn extended_rate(
    s: &[Sample],
    lo: i64,
    hi: i64,
    smoothed: bool,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    let (mut first, last) = boundaries(s, lo, hi, smoothed)?;
    let left = left_value(s, first, lo, smoothed, is_counter);
    let right = right_value(s, last, hi, smoothed, is_counter);
    let mut result = right - left;
    if is_counter {
        // Resets at the boundaries are already in the boundary values: only
        // the samples strictly inside the window are checked.
        if s[first].t <= lo {
            first += 1;
        }
        let end = if s[last].t >= hi { last } else { last + 1 };
        let inner = s.get(first..end).unwrap_or(&[]);
        let mut prev = left;
        for p in inner {
            if p.v < prev {
                result += prev;
            }
            prev = p.v;
        }
        if right < prev {
            result += prev;
        }
    }
    if is_rate {
        result /= (hi - lo) as f64 / 1000.0;
    }
    Some(result)
}

/// Where `changes`/`resets` start in an anchored window: at the last sample at
/// or before the window's start (the anchor), or at the first sample when there
/// is none; `None` when no sample lies inside the window.
pub(crate) fn anchored_start(s: &[Sample], lo: i64) -> Option<usize> {
    let after = s.partition_point(|p| p.t <= lo);
    if after >= s.len() {
        return None;
    }
    Some(after.saturating_sub(1))
}

/// The points an anchored or smoothed range selector yields for the window
/// `(lo, hi]`: the start value at `lo`, the samples strictly inside, and the end
/// value at `hi`.
pub(crate) fn extend_window(s: &[Sample], lo: i64, hi: i64, smoothed: bool) -> Vec<(i64, f64)> {
    let Some((mut first, last)) = boundaries(s, lo, hi, smoothed) else {
        return Vec::new();
    };
    let left = left_value(s, first, lo, smoothed, false);
    let right = right_value(s, last, hi, smoothed, false);
    // The boundary samples are replaced by the boundary values.
    if s[first].t <= lo {
        first += 1;
    }
    let end = if s[last].t >= hi { last } else { last + 1 };
    let inner = s.get(first..end).unwrap_or(&[]);
    let mut out = Vec::with_capacity(inner.len() + 2);
    out.push((lo, left));
    out.extend(inner.iter().map(|p| (p.t, p.v)));
    out.push((hi, right));
    out
}

impl Evaluator<'_> {
    /// A `smoothed` instant selector: at each step the value interpolated
    /// between the samples either side of the read time (within a lookback
    /// delta), the sample itself on an exact hit, or the last sample carried
    /// forward when none follows yet.
    pub(crate) fn eval_smoothed_selector(
        &mut self,
        vs: &VectorSelector,
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let lb = self.opts.lookback_delta_ms;
        let at = self.at_ms(vs.at);
        let (first, last) = match at {
            Some(a) => (a, a),
            None => (grid.start, grid.end),
        };
        let mint = first - vs.offset_ms - lb + 1;
        let maxt = last - vs.offset_ms + lb;
        let series = self.fetch(&vs.matchers, mint, maxt)?;
        let times = grid.times();
        let mut steps: Vec<Vec<Elem>> = (0..times.len()).map(|_| Vec::new()).collect();
        for (labels, samples) in series {
            // Read times only grow with the steps: two cursors over the samples.
            let (mut a, mut b) = (0usize, 0usize);
            for (&t, step) in times.iter().zip(steps.iter_mut()) {
                let rt = at.unwrap_or(t) - vs.offset_ms;
                while a < samples.len() && samples[a].t <= rt - lb {
                    a += 1;
                }
                b = b.max(a);
                while b < samples.len() && samples[b].t <= rt + lb {
                    b += 1;
                }
                let w = &samples[a..b];
                let i = w.partition_point(|p| p.t < rt);
                let v = match (i.checked_sub(1).map(|j| w[j]), w.get(i)) {
                    (_, Some(next)) if next.t == rt => next.v,
                    (Some(prev), Some(next)) => interpolate(prev, *next, rt, false),
                    (Some(prev), None) => prev.v,
                    (None, _) => continue,
                };
                step.push(Elem::new(labels.clone(), v));
            }
        }
        Ok(Val::Vector(steps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(pts: &[(i64, f64)]) -> Vec<Sample> {
        pts.iter().map(|&(t, v)| Sample::new(t, v)).collect()
    }

    #[test]
    fn anchored_increase_uses_sample_before_window() {
        // Samples every 15s: 1 2 3 4 5 at 0..60s; window (20s, 80s].
        let x = s(&[
            (0, 1.0),
            (15_000, 2.0),
            (30_000, 3.0),
            (45_000, 4.0),
            (60_000, 5.0),
        ]);
        assert_eq!(
            extended_rate(&x, 20_000, 80_000, false, true, false),
            Some(3.0)
        );
    }

    #[test]
    fn smoothed_rate_across_reset() {
        let x = s(&[(0, 100.0), (15_000, 10.0)]);
        let r = extended_rate(&x, 2_000, 12_000, true, true, true).unwrap();
        assert!((r - 2.0 / 3.0).abs() < 1e-9, "{r}");
    }

    #[test]
    fn nothing_after_window_start() {
        let x = s(&[(0, 1.0), (10_000, 2.0)]);
        assert_eq!(extended_rate(&x, 10_000, 20_000, false, true, false), None);
        assert_eq!(anchored_start(&x, 10_000), None);
        assert_eq!(anchored_start(&x, 5_000), Some(0));
        assert_eq!(anchored_start(&x, -5_000), Some(0));
    }

    #[test]
    fn extended_points() {
        let x = s(&[(0, 0.0), (10_000, 10.0), (20_000, 20.0), (30_000, 30.0)]);
        assert_eq!(
            extend_window(&x, 5_000, 25_000, true),
            vec![(5_000, 5.0), (10_000, 10.0), (20_000, 20.0), (25_000, 25.0)]
        );
        assert_eq!(
            // An anchored read never goes past the window's end.
            extend_window(&x[..3], 5_000, 20_000, false),
            vec![(5_000, 0.0), (10_000, 10.0), (20_000, 20.0)]
        );
    }

    #[test]
    fn unsafe_function_refused() {
        let e = crate::parser::parse_with_options(
            "deriv(foo[3m] smoothed)",
            &crate::parser::ParseOptions {
                extended_range_selectors: true,
                ..Default::default()
            },
        )
        .unwrap();
        let Expr::Call { func, args, .. } = e else {
            panic!("not a call")
        };
        let err = check_modifiers(&func, &args).unwrap_err().to_string();
        assert!(
            err.contains(
                "smoothed modifier can only be used with: delta, increase, rate - not with deriv"
            ),
            "{err}"
        );
    }
}
