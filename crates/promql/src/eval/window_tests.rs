//! The sliding-window evaluation of range functions must give bit-identical
//! results to the straightforward one: for every step, cut the window out of the
//! series afresh and compute the function over it by a plain scan.
#![allow(clippy::unwrap_used)]

use super::aggregate::{kahan_add, quantile};
use super::fastpath_tests::Store;
use super::functions::range::{extrapolated_rate, instant_value, linear_regression};
use super::windows::{SeriesOut, SlidingExtreme, Window};
use super::{Grid, steps_to_series};
use crate::{Engine, EngineOptions, ParseOptions, Value};
use proptest::prelude::*;
use watchfire_model::{Labels, STALE_NAN, Sample, is_stale_nan};

/// Values that stress the comparisons: ties, signed zeros, NaNs, infinities.
const SPECIALS: [f64; 9] = [
    0.0,
    -0.0,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e308,
    2.5,
    2.5,
    -1.0,
];

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => (0u32..50).prop_map(|x| f64::from(x) * 0.5),
        2 => proptest::sample::select(SPECIALS.to_vec()),
        1 => Just(STALE_NAN),
        1 => any::<f64>(),
    ]
}

/// A series: increasing timestamps with gaps of 1 ms to 90 s.
fn samples() -> impl Strategy<Value = Vec<Sample>> {
    proptest::collection::vec((1i64..90_000, value()), 0..60).prop_map(|pts| {
        let mut t = 0;
        pts.into_iter()
            .map(|(gap, v)| {
                t += gap;
                Sample::new(t, v)
            })
            .collect()
    })
}

/// Compensated sum, written out plainly.
fn kahan_sum(vals: Vec<f64>) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for v in vals {
        (s, c) = kahan_add(v, s, c);
    }
    if s.is_infinite() { s } else { s + c }
}

/// Compensated mean switching to an incremental mean on overflow, written out
/// plainly.
fn mean(vals: &[f64]) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    let mut incremental = false;
    let mut m = 0.0;
    for (i, &v) in vals.iter().enumerate() {
        let n = i as f64 + 1.0;
        if i == 0 {
            sum = v;
            continue;
        }
        if !incremental {
            let (ns, nc) = kahan_add(v, sum, c);
            if !ns.is_infinite() {
                (sum, c) = (ns, nc);
                continue;
            }
            incremental = true;
            m = sum / (n - 1.0);
            c /= n - 1.0;
        }
        let q = (n - 1.0) / n;
        (m, c) = kahan_add(v / n, q * m, q * c);
    }
    if incremental {
        m + c
    } else {
        (sum + c) / vals.len() as f64
    }
}

/// Population variance (Welford), written out plainly.
fn variance(vals: &[f64]) -> f64 {
    let (mut n, mut m, mut s) = (0.0, 0.0, 0.0);
    for &v in vals {
        n += 1.0;
        let d = v - m;
        m += d / n;
        s += d * (v - m);
    }
    s / n
}

/// Scan for `max`/`min` as Prometheus writes it: start from NaN, take a value
/// when the current one is NaN or the value is strictly better.
fn scan_extreme(s: &[Sample], min: bool) -> f64 {
    let mut acc = f64::NAN;
    for x in s {
        if acc.is_nan() || (min && x.v < acc) || (!min && x.v > acc) {
            acc = x.v;
        }
    }
    acc
}

fn reference(f: &str, w: &Window<'_>) -> Option<f64> {
    let s = w.samples;
    let vals = || s.iter().map(|x| x.v).collect::<Vec<_>>();
    match f {
        "rate" => extrapolated_rate(w, true, true),
        "increase" => extrapolated_rate(w, true, false),
        "delta" => extrapolated_rate(w, false, false),
        "irate" => instant_value(w, true),
        "idelta" => instant_value(w, false),
        "max_over_time" => Some(scan_extreme(s, false)),
        "min_over_time" => Some(scan_extreme(s, true)),
        "avg_over_time" => Some(mean(&vals())),
        "sum_over_time" => Some(kahan_sum(vals())),
        "count_over_time" => Some(s.len() as f64),
        "stdvar_over_time" => Some(variance(&vals())),
        "stddev_over_time" => Some(variance(&vals()).sqrt()),
        "quantile_over_time" => Some(quantile(0.3, &mut vals())),
        "mad_over_time" => {
            let mut v = vals();
            if v.iter().any(|x| x.is_nan()) {
                return Some(f64::NAN);
            }
            let med = quantile(0.5, &mut v);
            let mut dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
            Some(quantile(0.5, &mut dev))
        }
        "changes" => Some(
            s.windows(2)
                .filter(|p| !(p[0].v == p[1].v || (p[0].v.is_nan() && p[1].v.is_nan())))
                .count() as f64,
        ),
        "resets" => Some(s.windows(2).filter(|p| p[1].v < p[0].v).count() as f64),
        "deriv" => (s.len() >= 2).then(|| linear_regression(s, s[0].t).0),
        _ => unreachable!("no reference for {f}"),
    }
}

const FUNCS: [&str; 18] = [
    "rate",
    "increase",
    "delta",
    "irate",
    "idelta",
    "max_over_time",
    "min_over_time",
    "avg_over_time",
    "sum_over_time",
    "count_over_time",
    "stdvar_over_time",
    "stddev_over_time",
    "quantile_over_time",
    "mad_over_time",
    "changes",
    "resets",
    "deriv",
    "max_over_time",
];

/// Evaluation shape: range, step, offset, `@` and the query's start and end.
#[derive(Debug, Clone)]
struct Shape {
    range_ms: i64,
    step_ms: i64,
    offset_ms: i64,
    at_ms: Option<i64>,
    start: i64,
    end: i64,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        1i64..1_200_000,
        1i64..300_000,
        -120_000i64..300_000,
        proptest::option::weighted(0.2, 0i64..3_000_000),
        0i64..2_000_000,
        0i64..3_000_000,
    )
        .prop_map(|(range_ms, step_ms, offset_ms, at_ms, start, len)| Shape {
            range_ms,
            step_ms,
            offset_ms,
            at_ms,
            start,
            // At most 400 steps.
            end: start + len.min(step_ms * 400),
        })
}

fn query(f: &str, sh: &Shape) -> String {
    let at = sh.at_ms.map_or(String::new(), |a| {
        format!(" @ {}.{:03}", a / 1000, a % 1000)
    });
    let arg = format!("m[{}ms]{at} offset {}ms", sh.range_ms, sh.offset_ms);
    match f {
        "quantile_over_time" => format!("{f}(0.3, {arg})"),
        _ => format!("{f}({arg})"),
    }
}

/// The expected result of `f` over `series` by cutting each step's window
/// afresh: series without `__name__`, in label order, with at least one point.
fn expected(
    f: &str,
    series: &[(Labels, Vec<Sample>)],
    sh: &Shape,
) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let mut out = Vec::new();
    for (labels, samples) in series {
        let samples: Vec<Sample> = samples
            .iter()
            .copied()
            .filter(|s| !is_stale_nan(s.v))
            .collect();
        let mut pts = Vec::new();
        let mut t = sh.start;
        let mut step = 0;
        while t <= sh.end {
            let hi = sh.at_ms.unwrap_or(t) - sh.offset_ms;
            let lo = hi - sh.range_ms;
            let w: Vec<Sample> = samples
                .iter()
                .copied()
                .filter(|s| s.t > lo && s.t <= hi)
                .collect();
            if !w.is_empty() {
                let win = Window {
                    samples: &w,
                    lo,
                    hi,
                    t,
                    step,
                };
                if let Some(v) = reference(f, &win) {
                    pts.push((t, v));
                }
            }
            t += sh.step_ms;
            step += 1;
        }
        if !pts.is_empty() {
            let mut b = labels.to_builder();
            b.delete("__name__");
            out.push((b.build(), pts));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// With the experimental functions (`mad_over_time`) enabled.
fn engine() -> Engine {
    Engine::new(EngineOptions::default()).with_parse_options(ParseOptions::all())
}

/// Bit patterns, with every NaN as the canonical one: the sign and payload of a NaN
/// made by arithmetic (`Inf - Inf`) depend on how the compiler ordered the operations
/// (they differ between debug and release builds), and every NaN prints as `NaN`.
fn bits(pts: &[(i64, f64)]) -> Vec<(i64, u64)> {
    pts.iter()
        .map(|p| (p.0, if p.1.is_nan() { f64::NAN } else { p.1 }.to_bits()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The deque gives what a scan of each window gives, for any forward-moving
    /// windows (including repeated and disjoint ones) over one or two series.
    #[test]
    fn sliding_extreme_matches_scan(
        a in proptest::collection::vec(value(), 1..80),
        b in proptest::collection::vec(value(), 1..80),
        moves in proptest::collection::vec((0usize..6, 0usize..8), 1..60),
    ) {
        let mk = |v: &[f64]| v.iter().enumerate().map(|(i, &x)| Sample::new(i as i64, x)).collect::<Vec<_>>();
        let series = [mk(&a), mk(&b)];
        for min in [false, true] {
            let mut max_ext = SlidingExtreme::<false>::new();
            let mut min_ext = SlidingExtreme::<true>::new();
            for (si, s) in series.iter().enumerate() {
                let (mut lo, mut hi) = (0usize, 0usize);
                for &(da, db) in &moves {
                    lo = (lo + da).min(s.len() - 1);
                    hi = (hi + db).max(lo + 1).min(s.len());
                    let got = if min { min_ext.at(si, s, lo, hi) } else { max_ext.at(si, s, lo, hi) };
                    let want = scan_extreme(&s[lo..hi], min);
                    prop_assert_eq!(got.to_bits(), want.to_bits(), "min={} window {}..{}", min, lo, hi);
                }
            }
        }
    }

    /// Each range function through the engine (range query) against windows cut
    /// afresh per step, over series with gaps, stale markers and special values.
    #[test]
    fn range_functions_match_fresh_windows(
        raw in proptest::collection::vec(samples(), 1..4),
        sh in shape(),
        fi in 0usize..FUNCS.len(),
    ) {
        let series: Vec<(Labels, Vec<Sample>)> = raw
            .into_iter()
            .enumerate()
            .map(|(i, s)| (Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]), s))
            .collect();
        let f = FUNCS[fi];
        let want = expected(f, &series, &sh);
        let q = query(f, &sh);
        let st = Store(series);
        let got = engine().range_query(&st, &q, sh.start, sh.end, sh.step_ms).unwrap();
        let Value::Matrix(got) = got.value else { panic!("{q}: not a matrix") };
        prop_assert_eq!(got.len(), want.len(), "{}", q);
        for (g, w) in got.iter().zip(&want) {
            prop_assert_eq!(&g.labels, &w.0, "{}", q);
            prop_assert_eq!(bits(&g.points), bits(&w.1), "{}", q);
        }
    }
}

/// Windows much longer than the step (each sample in many windows) over a long
/// series: the shape the deque is for.
#[test]
fn long_overlapping_windows_match_fresh_windows() {
    let s: Vec<Sample> = (0..3000i64)
        .map(|k| {
            let v = match k % 97 {
                0 => f64::NAN,
                1 => STALE_NAN,
                _ => ((k * 7919) % 1013) as f64 - 500.0,
            };
            Sample::new(k * 15_000, v)
        })
        .collect();
    let series = vec![(
        Labels::from_pairs([("__name__", "m".to_string()), ("i", "0".to_string())]),
        s,
    )];
    let sh = Shape {
        range_ms: 3_600_000,
        step_ms: 60_000,
        offset_ms: 0,
        at_ms: None,
        start: 0,
        end: 3000 * 15_000,
    };
    let st = Store(series.clone());
    for f in [
        "max_over_time",
        "min_over_time",
        "avg_over_time",
        "sum_over_time",
        "stddev_over_time",
        "rate",
    ] {
        let want = expected(f, &series, &sh);
        let q = query(f, &sh);
        let got = engine()
            .range_query(&st, &q, sh.start, sh.end, sh.step_ms)
            .unwrap();
        let Value::Matrix(got) = got.value else {
            panic!("{q}: not a matrix")
        };
        assert_eq!(got.len(), 1);
        assert_eq!(bits(&got[0].points), bits(&want[0].1), "{q}");
    }
}

/// NaNs compare equal whatever their payload (arithmetic may quiet them).
fn same_value(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn same_matrix(a: &Value, b: &Value) -> bool {
    let (Value::Matrix(a), Value::Matrix(b)) = (a, b) else {
        return false;
    };
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.labels == y.labels
                && x.points.len() == y.points.len()
                && x.points
                    .iter()
                    .zip(&y.points)
                    .all(|(p, q)| p.0 == q.0 && same_value(p.1, q.1))
        })
}

/// A label set: name `a` or `b` (the same series but for its name collide once
/// the name is dropped) and one of three values of `i`.
fn labels(k: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", ["a", "b"][k % 2].to_string()),
        ("i", (k / 2 % 3).to_string()),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Taking a range function's series as they are made gives what spreading
    /// them over the steps and regrouping them gives, including the error for
    /// two series that end up with the same labels at one step.
    #[test]
    fn series_out_regroups_like_steps(
        series in proptest::collection::vec(
            (0usize..6, proptest::collection::btree_map(0usize..12, value(), 0..12)),
            0..6,
        ),
        drop in any::<bool>(),
        start in -50_000i64..50_000,
        step in 1i64..40_000,
    ) {
        let grid = Grid { start, end: start + 11 * step, step };
        let mut out = SeriesOut { drop, ..SeriesOut::default() };
        let mut seen = std::collections::HashSet::new();
        for (k, pts) in series {
            // Input series are distinct label sets.
            if pts.is_empty() || !seen.insert(k) {
                continue;
            }
            let first = out.points.len();
            out.points.extend(pts);
            out.series.push((std::sync::Arc::new(labels(k)), first..out.points.len()));
        }
        let want = steps_to_series(&grid.times(), out.clone().into_steps(grid.len()));
        let got = out.into_series(grid);
        match (want, got) {
            (Ok(w), Ok(g)) => {
                prop_assert_eq!(w.len(), g.len());
                for (w, g) in w.iter().zip(&g) {
                    prop_assert_eq!(&w.0, &g.0);
                    let wb: Vec<(i64, u64)> = w.1.iter().map(|s| (s.t, s.v.to_bits())).collect();
                    let gb: Vec<(i64, u64)> = g.1.iter().map(|s| (s.t, s.v.to_bits())).collect();
                    prop_assert_eq!(wb, gb);
                }
            }
            (Err(w), Err(g)) => prop_assert_eq!(w.to_string(), g.to_string()),
            (w, g) => prop_assert!(false, "steps_to_series {:?} vs into_series {:?}", w.is_ok(), g.is_ok()),
        }
    }

    /// Aggregations and subqueries over a range function take its series as
    /// they are made; `* 1` (exact, but not a range function) forces the
    /// general path through per-step vectors, which gives the reference.
    #[test]
    fn consumers_of_series_match_step_vectors(
        raw in proptest::collection::vec(samples(), 1..5),
        sh in shape(),
        fi in 0usize..FUNCS.len(),
        agg in 0usize..7,
    ) {
        let series: Vec<(Labels, Vec<Sample>)> = raw
            .into_iter()
            .enumerate()
            .map(|(k, s)| (labels(k), s))
            .collect();
        let f = FUNCS[fi];
        let call = query(f, &sh).replace("m[", "{__name__=~\"a|b\"}[");
        let at = sh.at_ms.map_or(String::new(), |a| format!(" @ {}.{:03}", a / 1000, a % 1000));
        let sel = format!("{{__name__=~\"a|b\"}}{at} offset {}ms", sh.offset_ms);
        // Relabelling by nothing: the same series, through per-step vectors.
        let relabel = format!("label_replace({sel}, \"x\", \"\", \"x\", \"\")");
        let (fast, slow) = match agg {
            5 => (sel.clone(), relabel.clone()),
            6 => (format!("max_over_time({sel}[3m:17s])"), format!("max_over_time({relabel}[3m:17s])")),
            0 => (format!("sum by (i) ({call})"), format!("sum by (i) ({call} * 1)")),
            1 => (format!("avg({call})"), format!("avg({call} * 1)")),
            2 => (format!("max without (i) ({call})"), format!("max without (i) ({call} * 1)")),
            3 => (format!("count by (__name__) ({call})"), format!("count by (__name__) ({call} * 1)")),
            _ => (
                format!("max_over_time(({call})[5m:17s])"),
                format!("max_over_time(({call} * 1)[5m:17s])"),
            ),
        };
        let st = Store(series);
        let e = engine();
        let a = e.range_query(&st, &fast, sh.start, sh.end, sh.step_ms);
        let b = e.range_query(&st, &slow, sh.start, sh.end, sh.step_ms);
        match (a, b) {
            (Ok(a), Ok(b)) => prop_assert!(same_matrix(&a.value, &b.value), "{} vs {}", fast, slow),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            (a, b) => prop_assert!(false, "{}: {:?} vs {:?}", fast, a.err(), b.err()),
        }
    }
}
