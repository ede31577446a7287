//! Comparing query results with expectations, and rendering both for humans.

use crate::notation::SeqValue;
use crate::script::{Eval, EvalKind, Expected, ExpectedSeries};
use std::collections::HashMap;
use std::fmt::Write as _;
use watchfire_model::{Labels, METRIC_NAME, format_go_float, is_stale_nan};
use watchfire_promql::Value;

/// Relative tolerance for sample values, as Prometheus' test runner uses.
pub const EPSILON: f64 = 1e-6;

/// The smallest positive normal `f64`.
const MIN_NORMAL: f64 = f64::MIN_POSITIVE;

/// Whether `a` and `b` are equal within a relative error of `epsilon` (absolute
/// `epsilon * MIN_NORMAL` when either is zero or both are tiny). Any two NaNs are
/// equal; a staleness marker equals only a staleness marker.
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < epsilon * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

/// Formats labels Prometheus-style: `name{a="1", b="2"}`, `{a="1"}`, `name` or `{}`.
pub fn fmt_labels(labels: &Labels) -> String {
    let mut s = String::new();
    let name = labels.metric_name();
    if let Some(n) = name {
        s.push_str(n);
    }
    let rest: Vec<_> = labels.iter().filter(|l| l.name != METRIC_NAME).collect();
    if !rest.is_empty() || name.is_none() {
        s.push('{');
        for (i, l) in rest.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            let _ = write!(s, "{}={:?}", l.name, l.value);
        }
        s.push('}');
    }
    s
}

/// Formats a float for output; the staleness marker is `stale`.
pub fn fmt_float(v: f64) -> String {
    if is_stale_nan(v) {
        "stale".into()
    } else {
        format_go_float(v)
    }
}

/// Formats a timestamp (ms) as seconds where whole: `90s`, `1500ms`.
fn fmt_ts(t: i64) -> String {
    if t % 1000 == 0 {
        format!("{}s", t / 1000)
    } else {
        format!("{t}ms")
    }
}

/// Renders a query value, one series per line.
pub fn render_value(v: &Value) -> String {
    match v {
        Value::Scalar { v, .. } => format!("scalar {}", fmt_float(*v)),
        Value::String { v, .. } => format!("string {v:?}"),
        Value::Vector(samples) if samples.is_empty() => "empty vector".into(),
        Value::Vector(samples) => samples
            .iter()
            .map(|s| format!("{} {}", fmt_labels(&s.labels), fmt_float(s.v)))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Matrix(series) if series.is_empty() => "empty matrix".into(),
        Value::Matrix(series) => series
            .iter()
            .map(|s| {
                let pts: Vec<String> = s
                    .points
                    .iter()
                    .map(|(t, v)| format!("{}@{}", fmt_float(*v), fmt_ts(*t)))
                    .collect();
                format!("{} {}", fmt_labels(&s.labels), pts.join(" "))
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn fmt_seq(v: &SeqValue) -> String {
    match v {
        SeqValue::Omitted => "_".into(),
        SeqValue::Float(f) => fmt_float(*f),
        SeqValue::Histogram => "{{histogram}}".into(),
    }
}

/// Renders what an eval expects, in the same style as [`render_value`].
pub fn render_expected(ev: &Eval) -> String {
    if ev.expects_fail() {
        let m = ev
            .expects_of(crate::script::ExpectKind::Fail)
            .map(|e| e.matcher.to_string())
            .next()
            .unwrap_or_default();
        return format!("an error matching {m}");
    }
    match &ev.expected {
        Expected::Scalar(v) => format!("scalar {}", fmt_float(*v)),
        Expected::String(s) => format!("string {s:?}"),
        Expected::Series(s) if s.is_empty() => "empty result".into(),
        Expected::Series(series) => {
            let times = point_times(ev);
            series
                .iter()
                .map(|s| {
                    let vals: Vec<String> = match times {
                        Some((start, step)) if s.values.len() > 1 || is_range(ev) => s
                            .values
                            .iter()
                            .enumerate()
                            .map(|(i, v)| {
                                format!("{}@{}", fmt_seq(v), fmt_ts(start + i as i64 * step))
                            })
                            .collect(),
                        _ => s.values.iter().map(fmt_seq).collect(),
                    };
                    format!("{} {}", fmt_labels(&s.labels), vals.join(" "))
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

fn is_range(ev: &Eval) -> bool {
    matches!(ev.kind, EvalKind::Range { .. }) || ev.range_vector.is_some()
}

/// Start and step of the points of a matrix result, when one is expected.
fn point_times(ev: &Eval) -> Option<(i64, i64)> {
    match (ev.kind, ev.range_vector) {
        (EvalKind::Range { start, step, .. }, _) => Some((start, step)),
        (_, Some((start, _, step))) => Some((start, step)),
        (EvalKind::Instant { at }, None) => Some((at, 0)),
    }
}

/// Checks `value` against the eval's expected value. `Err` says what differs.
pub fn compare(ev: &Eval, value: &Value) -> Result<(), String> {
    let empty = Vec::new();
    let series: &Vec<ExpectedSeries> = match &ev.expected {
        Expected::Series(s) => s,
        _ => &empty,
    };
    let by_labels: HashMap<&Labels, &ExpectedSeries> =
        series.iter().map(|s| (&s.labels, s)).collect();
    match value {
        Value::Scalar { v, .. } => match &ev.expected {
            Expected::Scalar(e) if almost_equal(*e, *v, EPSILON) => Ok(()),
            Expected::Scalar(e) => Err(format!(
                "expected scalar {} but got {}",
                fmt_float(*e),
                fmt_float(*v)
            )),
            _ => Err("expected a vector or matrix but got a scalar".into()),
        },
        Value::String { v, .. } => {
            let want = match &ev.expected {
                Expected::String(s) => s.as_str(),
                _ => "",
            };
            if want == v {
                Ok(())
            } else {
                Err(format!("expected string {want:?} but got {v:?}"))
            }
        }
        Value::Vector(samples) => {
            if matches!(ev.expected, Expected::Scalar(_)) {
                return Err("expected a scalar but got a vector".into());
            }
            let mut seen = HashMap::new();
            for (i, s) in samples.iter().enumerate() {
                let Some(exp) = by_labels.get(&s.labels) else {
                    return Err(format!(
                        "unexpected series {} {}",
                        fmt_labels(&s.labels),
                        fmt_float(s.v)
                    ));
                };
                if ev.ordered() && exp.pos != i + 1 {
                    return Err(format!(
                        "expected {} at position {} but it was at {}",
                        fmt_labels(&s.labels),
                        exp.pos,
                        i + 1
                    ));
                }
                match exp.values.first() {
                    Some(SeqValue::Float(e)) if almost_equal(*e, s.v, EPSILON) => {}
                    Some(e) => {
                        return Err(format!(
                            "expected {} for {} but got {}",
                            fmt_seq(e),
                            fmt_labels(&s.labels),
                            fmt_float(s.v)
                        ));
                    }
                    None => return Err(format!("no expected value for {}", fmt_labels(&s.labels))),
                }
                seen.insert(&s.labels, ());
            }
            missing(series, |l| seen.contains_key(l))
        }
        Value::Matrix(result) => {
            if ev.ordered() {
                return Err("expected an ordered result but the query returned a matrix".into());
            }
            if matches!(ev.expected, Expected::Scalar(_)) {
                return Err("expected a scalar but got a matrix".into());
            }
            if let Some(w) = result.windows(2).find(|w| w[0].labels > w[1].labels) {
                return Err(format!(
                    "matrix is not sorted by labels: {} comes before {}",
                    fmt_labels(&w[0].labels),
                    fmt_labels(&w[1].labels)
                ));
            }
            let (start, step) = point_times(ev).unwrap_or((0, 0));
            let end = match (ev.kind, ev.range_vector) {
                (EvalKind::Range { end, .. }, _) => end,
                (_, Some((_, end, _))) => end,
                (EvalKind::Instant { at }, None) => at,
            };
            let mut seen = HashMap::new();
            for s in result {
                let Some(exp) = by_labels.get(&s.labels) else {
                    return Err(format!("unexpected series {}", fmt_labels(&s.labels)));
                };
                seen.insert(&s.labels, ());
                let mut want = Vec::new();
                for (i, v) in exp.values.iter().enumerate() {
                    let t = start + i as i64 * step;
                    if t > end {
                        return Err(format!(
                            "expected {} points for {} but the query range cannot return that many",
                            exp.values.len(),
                            fmt_labels(&s.labels)
                        ));
                    }
                    match v {
                        SeqValue::Float(f) => want.push((t, *f)),
                        SeqValue::Omitted => {}
                        SeqValue::Histogram => {
                            return Err("histogram points cannot be compared".into());
                        }
                    }
                }
                if want.len() != s.points.len() {
                    return Err(format!(
                        "expected {} points for {} but got {}",
                        want.len(),
                        fmt_labels(&s.labels),
                        s.points.len()
                    ));
                }
                for (i, ((et, ev), (gt, gv))) in want.iter().zip(&s.points).enumerate() {
                    if et != gt {
                        return Err(format!(
                            "point {i} of {} should be at {} but is at {}",
                            fmt_labels(&s.labels),
                            fmt_ts(*et),
                            fmt_ts(*gt)
                        ));
                    }
                    if !almost_equal(*ev, *gv, EPSILON) {
                        return Err(format!(
                            "expected {} at {} for {} but got {}",
                            fmt_float(*ev),
                            fmt_ts(*et),
                            fmt_labels(&s.labels),
                            fmt_float(*gv)
                        ));
                    }
                }
            }
            missing(series, |l| seen.contains_key(l))
        }
    }
}

fn missing(series: &[ExpectedSeries], seen: impl Fn(&Labels) -> bool) -> Result<(), String> {
    match series.iter().find(|s| !seen(&s.labels)) {
        Some(s) => Err(format!(
            "expected series {} is missing",
            fmt_labels(&s.labels)
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::script::{Command, parse_script};
    use watchfire_promql::{RangeSeries, VectorSample};

    fn eval(text: &str) -> Eval {
        match parse_script(text).into_iter().next().unwrap() {
            Command::Eval(e) => *e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tolerance() {
        assert!(almost_equal(1.0, 1.0 + 1e-7, EPSILON));
        assert!(!almost_equal(1.0, 1.0 + 1e-5, EPSILON));
        assert!(almost_equal(f64::NAN, -f64::NAN, EPSILON));
        assert!(!almost_equal(0.0, 1e-300, EPSILON));
        assert!(almost_equal(0.0, -0.0, EPSILON));
        assert!(almost_equal(f64::INFINITY, f64::INFINITY, EPSILON));
        assert!(!almost_equal(f64::INFINITY, f64::NEG_INFINITY, EPSILON));
        let stale = watchfire_model::STALE_NAN;
        assert!(almost_equal(stale, stale, EPSILON));
        assert!(!almost_equal(stale, f64::NAN, EPSILON));
    }

    #[test]
    fn vectors_match_regardless_of_order_unless_ordered() {
        let ev = eval("eval instant at 1m x\n  x{a=\"1\"} 1\n  x{a=\"2\"} 2\n");
        let s = |a: &str, v| VectorSample {
            labels: Labels::from_pairs([("__name__", "x"), ("a", a)]),
            t: 60_000,
            v,
        };
        assert!(compare(&ev, &Value::Vector(vec![s("2", 2.0), s("1", 1.0)])).is_ok());
        let e = compare(&ev, &Value::Vector(vec![s("1", 1.0)])).unwrap_err();
        assert!(e.contains("missing"), "{e}");
        let e = compare(&ev, &Value::Vector(vec![s("1", 1.5), s("2", 2.0)])).unwrap_err();
        assert!(e.contains("expected 1 for"), "{e}");
        let ev = eval("eval instant at 1m x\n  expect ordered\n  x{a=\"1\"} 1\n  x{a=\"2\"} 2\n");
        assert!(compare(&ev, &Value::Vector(vec![s("2", 2.0), s("1", 1.0)])).is_err());
        assert!(compare(&ev, &Value::Scalar { t: 0, v: 1.0 }).is_err());
    }

    #[test]
    fn matrices_compare_points_at_steps() {
        let ev = eval("eval range from 0 to 2m step 1m x\n  x 1 _ 3\n");
        let m = |pts: Vec<(i64, f64)>| {
            Value::Matrix(vec![RangeSeries {
                labels: Labels::from_pairs([("__name__", "x")]),
                points: pts,
            }])
        };
        assert!(compare(&ev, &m(vec![(0, 1.0), (120_000, 3.0)])).is_ok());
        assert!(compare(&ev, &m(vec![(0, 1.0), (60_000, 3.0)])).is_err());
        assert!(compare(&ev, &m(vec![(0, 1.0)])).is_err());
        assert!(render_expected(&ev).contains("1@0s _@60s 3@120s"));
        assert!(render_value(&m(vec![(0, 1.0)])).contains("x 1@0s"));
    }

    #[test]
    fn scalars_and_strings() {
        let ev = eval("eval instant at 0 1\n  1.0000001\n");
        assert!(compare(&ev, &Value::Scalar { t: 0, v: 1.0 }).is_ok());
        assert!(compare(&ev, &Value::Vector(vec![])).is_err());
        let ev = eval("eval instant at 0 \"a\"\n  expect string \"a\"\n");
        assert!(
            compare(
                &ev,
                &Value::String {
                    t: 0,
                    v: "a".into()
                }
            )
            .is_ok()
        );
        assert!(
            compare(
                &ev,
                &Value::String {
                    t: 0,
                    v: "b".into()
                }
            )
            .is_err()
        );
    }
}
