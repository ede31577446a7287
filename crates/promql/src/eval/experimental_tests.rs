//! The experimental features end to end through the engine: `anchored` and
//! `smoothed` selectors and `info()`.
#![allow(clippy::unwrap_used)]

use super::fastpath_tests::Store;
use crate::{Engine, EngineOptions, ParseOptions, Value};
use watchfire_model::{Labels, STALE_NAN, Sample};

fn engine() -> Engine {
    Engine::new(EngineOptions::default()).with_parse_options(ParseOptions::all())
}

fn series(pairs: &[(&str, &str)], pts: &[(i64, f64)]) -> (Labels, Vec<Sample>) {
    (
        Labels::from_pairs(pairs.iter().copied()),
        pts.iter().map(|&(t, v)| Sample::new(t * 1000, v)).collect(),
    )
}

/// The points of the only series of a range query's result.
fn points(st: &Store, q: &str, start_s: i64, end_s: i64, step_s: i64) -> Vec<(i64, f64)> {
    let r = engine()
        .range_query(st, q, start_s * 1000, end_s * 1000, step_s * 1000)
        .unwrap();
    let Value::Matrix(m) = r.value else {
        panic!("not a matrix")
    };
    assert_eq!(m.len(), 1, "{q}: {m:?}");
    m[0].points.iter().map(|&(t, v)| (t / 1000, v)).collect()
}

#[test]
fn smoothed_and_anchored_selectors() {
    // A counter growing by 1 per 10 s, with a gap from 40 s to 60 s.
    let st = Store(vec![series(
        &[("__name__", "c")],
        &[
            (0, 0.0),
            (10, 1.0),
            (20, 2.0),
            (30, 3.0),
            (60, 6.0),
            (70, 7.0),
        ],
    )]);
    // Interpolated across the gap; the last value carried forward at the end.
    assert_eq!(
        points(&st, "c smoothed", 0, 80, 15),
        vec![
            (0, 0.0),
            (15, 1.5),
            (30, 3.0),
            (45, 4.5),
            (60, 6.0),
            (75, 7.0)
        ]
    );
    // `anchored` does not change an instant selector.
    assert_eq!(
        points(&st, "sum(c anchored)", 0, 80, 20),
        points(&st, "sum(c)", 0, 80, 20)
    );
    // No extrapolation: the value at the window's start is the last sample
    // before it, and the value at its end the last sample in it.
    assert_eq!(
        points(&st, "increase(c[20s] anchored)", 20, 80, 20),
        vec![(20, 2.0), (40, 1.0), (60, 3.0), (80, 1.0)]
    );
    assert_eq!(
        points(&st, "increase(c[20s] smoothed)", 20, 60, 20),
        vec![(20, 2.0), (40, 2.0), (60, 2.0)]
    );
    let err = engine()
        .instant_query(&st, "max_over_time(c[1m] smoothed)", 60_000)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("smoothed modifier can only be used with: delta, increase, rate - not with max_over_time"),
        "{err}"
    );
}

#[test]
fn info_adds_data_labels_of_the_current_info_series() {
    let st = Store(vec![
        series(
            &[("__name__", "m"), ("instance", "a"), ("job", "j")],
            &[(0, 1.0), (60, 2.0), (120, 3.0)],
        ),
        series(
            &[
                ("__name__", "target_info"),
                ("instance", "a"),
                ("job", "j"),
                ("v", "old"),
            ],
            &[(0, 1.0), (60, 1.0), (90, STALE_NAN)],
        ),
        series(
            &[
                ("__name__", "target_info"),
                ("instance", "a"),
                ("job", "j"),
                ("v", "new"),
            ],
            &[(120, 1.0)],
        ),
        series(
            &[
                ("__name__", "build_info"),
                ("instance", "a"),
                ("job", "j"),
                ("v", "x"),
            ],
            &[(0, 1.0)],
        ),
    ]);
    let r = engine()
        .range_query(&st, "info(rate(m[2m]))", 60_000, 120_000, 60_000)
        .unwrap();
    let Value::Matrix(m) = r.value else {
        panic!("not a matrix")
    };
    let got: Vec<(String, usize)> = m
        .iter()
        .map(|s| (s.labels.to_string(), s.points.len()))
        .collect();
    // The name stays dropped; the version follows the info series' churn.
    assert_eq!(
        got,
        vec![
            (r#"{instance="a", job="j", v="new"}"#.to_string(), 1),
            (r#"{instance="a", job="j", v="old"}"#.to_string(), 1),
        ]
    );
    // Info series pinned by `@`.
    let r = engine()
        .instant_query(&st, "info(m @ 60)", 600_000)
        .unwrap();
    let Value::Vector(v) = r.value else {
        panic!("not a vector")
    };
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].labels.get("v"), Some("old"));
    // Two info metrics giving one label different values.
    let err = engine()
        .instant_query(&st, r#"info(m, {__name__=~".+_info"})"#, 60_000)
        .unwrap_err()
        .to_string();
    assert!(err.contains("conflicting label: v"), "{err}");
    // A data label no info series has drops the series.
    let r = engine()
        .instant_query(&st, r#"info(m, {missing=~".+"})"#, 60_000)
        .unwrap();
    assert!(matches!(r.value, Value::Vector(v) if v.is_empty()));
}
