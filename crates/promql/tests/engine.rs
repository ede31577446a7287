//! Engine behaviour on a small in-memory store.
#![allow(clippy::unwrap_used)]

mod common;

use common::{ChainedStore, MemStore};
use std::time::Duration;
use watchfire_model::{Labels, STALE_NAN, Sample};
use watchfire_promql::{Engine, EngineOptions, QueryError, Value};

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

/// `up{job="a"}` every 15s from 0 to 10m with value = minute index, stale at 10m;
/// `req_total{job="a"}` a counter +1/15s.
fn store() -> MemStore {
    let mut up = Vec::new();
    let mut req = Vec::new();
    for i in 0..40 {
        up.push(Sample::new(i * 15_000, (i / 4) as f64));
        req.push(Sample::new(i * 15_000, i as f64));
    }
    up.push(Sample::new(600_000, STALE_NAN));
    MemStore::new(vec![
        (l(&[("__name__", "up"), ("job", "a")]), up),
        (l(&[("__name__", "req_total"), ("job", "a")]), req),
        (
            l(&[("__name__", "up"), ("job", "b")]),
            vec![Sample::new(0, 1.0)],
        ),
    ])
}

fn engine() -> Engine {
    Engine::new(EngineOptions::default())
}

fn vector(v: &Value) -> Vec<(String, f64)> {
    let Value::Vector(vs) = v else {
        panic!("not a vector: {v:?}")
    };
    let mut out: Vec<_> = vs.iter().map(|s| (s.labels.to_string(), s.v)).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn instant_selector_lookback_and_staleness() {
    let e = engine();
    let s = store();
    let r = e.instant_query(&s, "up", 60_000).unwrap();
    assert_eq!(
        vector(&r.value),
        vec![
            (r#"{__name__="up", job="a"}"#.into(), 1.0),
            (r#"{__name__="up", job="b"}"#.into(), 1.0)
        ]
    );
    // job="b" has a single sample at 0: visible until 5m (exclusive), gone at 5m.
    let r = e.instant_query(&s, "up{job=\"b\"}", 299_999).unwrap();
    assert_eq!(vector(&r.value).len(), 1);
    let r = e.instant_query(&s, "up{job=\"b\"}", 300_000).unwrap();
    assert_eq!(vector(&r.value).len(), 0);
    // The stale marker at 10m ends job="a" at once.
    let r = e.instant_query(&s, "up{job=\"a\"}", 600_000).unwrap();
    assert!(vector(&r.value).is_empty());
}

#[test]
fn offset_and_at() {
    let e = engine();
    let s = store();
    let r = e
        .instant_query(&s, "up{job=\"a\"} offset 2m", 300_000)
        .unwrap();
    assert_eq!(vector(&r.value)[0].1, 3.0);
    let r = e
        .instant_query(&s, "up{job=\"a\"} offset -2m", 60_000)
        .unwrap();
    assert_eq!(vector(&r.value)[0].1, 3.0);
    let r = e.instant_query(&s, "up{job=\"a\"} @ 120", 500_000).unwrap();
    assert_eq!(vector(&r.value)[0].1, 2.0);
    let r = e
        .range_query(&s, "up{job=\"a\"} @ start()", 120_000, 240_000, 60_000)
        .unwrap();
    let Value::Matrix(m) = r.value else { panic!() };
    assert_eq!(
        m[0].points,
        vec![(120_000, 2.0), (180_000, 2.0), (240_000, 2.0)]
    );
}

#[test]
fn range_selector_is_left_open() {
    let e = engine();
    let s = store();
    let r = e.instant_query(&s, "req_total[1m]", 60_000).unwrap();
    let Value::Matrix(m) = r.value else { panic!() };
    // (0, 60s]: 15s, 30s, 45s, 60s.
    assert_eq!(
        m[0].points.iter().map(|p| p.0).collect::<Vec<_>>(),
        vec![15_000, 30_000, 45_000, 60_000]
    );
}

#[test]
fn rate_and_range_query() {
    let e = engine();
    let s = store();
    let r = e
        .range_query(&s, "rate(req_total[1m])", 60_000, 180_000, 60_000)
        .unwrap();
    let Value::Matrix(m) = &r.value else { panic!() };
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].labels.to_string(), r#"{job="a"}"#);
    for (_, v) in &m[0].points {
        assert!((v - 1.0 / 15.0).abs() < 1e-9, "{v}");
    }
    assert!(r.infos.is_empty());
    let r = e.instant_query(&s, "rate(up[1m])", 120_000).unwrap();
    assert_eq!(
        r.infos,
        vec![
            r#"PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "up" (1:6)"#
        ]
    );
}

#[test]
fn binary_and_aggregation() {
    let e = engine();
    let s = store();
    let r = e
        .instant_query(&s, "sum by (job) (up) * 2", 60_000)
        .unwrap();
    assert_eq!(
        vector(&r.value),
        vec![(r#"{job="a"}"#.into(), 2.0), (r#"{job="b"}"#.into(), 2.0)]
    );
    let r = e.instant_query(&s, "up > 0", 120_000).unwrap();
    assert_eq!(
        vector(&r.value),
        vec![
            (r#"{__name__="up", job="a"}"#.into(), 2.0),
            (r#"{__name__="up", job="b"}"#.into(), 1.0)
        ]
    );
    let r = e.instant_query(&s, "up == bool 1", 60_000).unwrap();
    assert_eq!(
        vector(&r.value),
        vec![(r#"{job="a"}"#.into(), 1.0), (r#"{job="b"}"#.into(), 1.0)]
    );
    let err = e
        .instant_query(&s, "up + on() req_total", 60_000)
        .unwrap_err();
    assert!(matches!(err, QueryError::Execution(_)), "{err}");
    let r = e.instant_query(&s, "1 + 2 * 3", 0).unwrap();
    assert_eq!(r.value, Value::Scalar { t: 0, v: 7.0 });
    let r = e.instant_query(&s, "\"hi\"", 5).unwrap();
    assert_eq!(
        r.value,
        Value::String {
            t: 5,
            v: "hi".into()
        }
    );
}

#[test]
fn errors() {
    let e = engine();
    let s = store();
    assert!(matches!(
        e.instant_query(&s, "sum(", 0),
        Err(QueryError::Parse { .. })
    ));
    assert!(matches!(
        e.range_query(&s, "up[5m]", 0, 60_000, 15_000),
        Err(QueryError::Execution(_))
    ));
    assert!(matches!(
        e.range_query(&s, "\"x\"", 0, 60_000, 15_000),
        Err(QueryError::Execution(_))
    ));
    assert!(matches!(
        e.instant_query(&s, "histogram_count(up)", 0),
        Err(QueryError::Unsupported(_))
    ));
}

#[test]
fn limits() {
    let s = store();
    let e = Engine::new(EngineOptions {
        max_samples: 10,
        ..EngineOptions::default()
    });
    assert!(matches!(
        e.instant_query(&s, "count_over_time(req_total[10m])", 600_000),
        Err(QueryError::TooManySamples(_))
    ));
    let e = Engine::new(EngineOptions {
        timeout: Duration::ZERO,
        ..EngineOptions::default()
    });
    assert!(matches!(
        e.instant_query(&s, "up", 0),
        Err(QueryError::Timeout(_))
    ));
}

#[test]
fn subquery() {
    let e = engine();
    let s = store();
    let r = e
        .instant_query(&s, "max_over_time(up{job=\"a\"}[5m:1m])", 300_000)
        .unwrap();
    assert_eq!(vector(&r.value)[0].1, 5.0);
    let r = e
        .instant_query(&s, "count_over_time(up{job=\"a\"}[5m:1m])", 300_000)
        .unwrap();
    // (0, 300s] at 60s steps: 60,120,180,240,300.
    assert_eq!(vector(&r.value)[0].1, 5.0);
}

/// `stats`: each step counts the samples its selectors see; samples read from storage
/// count once per selector.
#[test]
fn sample_stats() {
    let s = store();
    let e = Engine::new(EngineOptions {
        count_queryable_samples: true,
        ..EngineOptions::default()
    });
    // req_total has a sample every 15 s from 0 to 585 s: a 1m window (left-open) holds 4.
    let r = e
        .range_query(&s, "rate(req_total[1m])", 120_000, 300_000, 60_000)
        .unwrap();
    assert_eq!(r.samples.total_queryable, Some(4 * 4));
    // Samples in (60 s, 300 s]: 16.
    assert_eq!(r.samples.read, 16);
    // An instant selector sees one sample per series per step where it finds one:
    // up{job="a"} at both steps, up{job="b"} (one sample at 0) only within 5m.
    let r = e.range_query(&s, "up", 240_000, 360_000, 120_000).unwrap();
    assert_eq!(r.samples.total_queryable, Some(2 + 1));
    // Off unless asked for.
    let r = engine().instant_query(&s, "up", 60_000).unwrap();
    assert_eq!(r.samples.total_queryable, None);
    assert!(r.samples.read > 0);
}

/// Series read through the storage's chained iterators (overlapping parts, an empty
/// one) evaluate exactly as when read from one part: values, staleness, lookback,
/// left-open windows, offset and `@`, and the samples counted.
#[test]
fn chained_parts_evaluate_like_one() {
    let flat = store();
    let chained = ChainedStore(store());
    let e = Engine::new(EngineOptions {
        count_queryable_samples: true,
        ..EngineOptions::default()
    });
    let queries = [
        "up",
        "up offset 1m",
        "up @ 300",
        "timestamp(up)",
        "rate(req_total[1m])",
        "max_over_time(up[2m])",
        "count_over_time(up[5m] offset 30s)",
        "last_over_time(up[10m])",
        "max_over_time(rate(req_total[1m])[3m:30s])",
        "sum(req_total @ 600) by (job)",
    ];
    let mut ran = 0;
    for q in queries {
        for (start, end, step) in [
            (0, 0, 1),
            (60_000, 60_000, 1),
            (0, 900_000, 15_000),
            (7_000, 700_000, 45_000),
            (300_000, 601_000, 1_000),
        ] {
            let a = e.range_query(&flat, q, start, end, step).unwrap();
            let b = e.range_query(&chained, q, start, end, step).unwrap();
            let what = format!("{q} over {start}..{end} step {step}");
            assert_eq!(format!("{:?}", a.value), format!("{:?}", b.value), "{what}");
            assert_eq!(a.samples, b.samples, "{what}");
            ran += 1;
        }
        let a = e.instant_query(&flat, q, 610_000).unwrap();
        let b = e.instant_query(&chained, q, 610_000).unwrap();
        assert_eq!(format!("{:?}", a.value), format!("{:?}", b.value), "{q}");
        assert_eq!(a.samples, b.samples, "{q}");
    }
    assert_eq!(ran, queries.len() * 5);
}

/// An instant selector reads a series up to its last step's sample and one more,
/// as reading sample by sample looked one ahead; not the rest up to the query end.
#[test]
fn instant_selector_counts_one_sample_past_the_last_step() {
    // Steps at 0, 45 s and 90 s; up{job="a"} has samples at 105 s and 120 s up to
    // the end (130 s): only the first counts. up{job="b"}: one sample.
    for s in [
        &store() as &dyn watchfire_storage::Queryable,
        &ChainedStore(store()),
    ] {
        let r = engine().range_query(s, "up", 0, 130_000, 45_000).unwrap();
        assert_eq!(r.samples.read, 7 + 1 + 1);
    }
}
