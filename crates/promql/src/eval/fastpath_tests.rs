//! The fused selector paths must agree bit for bit with the general ones; a
//! parenthesised selector takes the general path, which gives the reference.
#![allow(clippy::unwrap_used)]

use crate::{Engine, Value};
use watchfire_model::{Labels, Matcher, STALE_NAN, Sample};
use watchfire_storage::{Querier, Queryable, SelectHints, SeriesSet, StorageError, VecSeriesSet};

/// Series held in memory (also used by the other engine-level tests).
pub(super) struct Store(pub(super) Vec<(Labels, Vec<Sample>)>);

struct Q(Vec<(Labels, Vec<Sample>)>, i64, i64);

impl Querier for Q {
    fn select(&self, _h: &SelectHints, m: &[Matcher]) -> Result<SeriesSet, StorageError> {
        Ok(VecSeriesSet::from_vec(
            self.0
                .iter()
                .filter(|(l, _)| m.iter().all(|m| m.matches_labels(l)))
                .map(|(l, s)| {
                    let s = s.iter().filter(|x| x.t >= self.1 && x.t <= self.2);
                    (l.clone(), s.copied().collect())
                })
                .collect(),
        ))
    }
    fn label_names(&self, _m: &[Matcher]) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }
    fn label_values(&self, _n: &str, _m: &[Matcher]) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }
}

impl Queryable for Store {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(Q(self.0.clone(), mint, maxt)))
    }
}

/// Series with ties, NaNs, signed zeros, gaps, stale markers and huge values.
fn store() -> Store {
    let specials = [0.0, -0.0, f64::NAN, 1e308, -1e308, 3.0, 3.0, f64::INFINITY];
    let mut series = Vec::new();
    for i in 0..24u32 {
        let l = Labels::from_pairs([
            ("__name__", "m".to_string()),
            ("g", (i % 3).to_string()),
            ("i", format!("{i:02}")),
        ]);
        let mut s = Vec::new();
        for k in 0..40i64 {
            let h = u64::from(i) * 31 + k as u64 * 17;
            if h.is_multiple_of(11) {
                continue; // gap
            }
            let v = if h.is_multiple_of(13) {
                STALE_NAN
            } else if h.is_multiple_of(5) {
                specials[(h % 8) as usize]
            } else {
                ((h % 7) as f64) * 0.1
            };
            s.push(Sample::new(k * 30_000, v));
        }
        series.push((l, s));
    }
    Store(series)
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Matrix(a), Value::Matrix(b)) => {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    x.labels == y.labels
                        && x.points.len() == y.points.len()
                        && x.points
                            .iter()
                            .zip(&y.points)
                            .all(|(p, q)| p.0 == q.0 && p.1.to_bits() == q.1.to_bits())
                })
        }
        (Value::Vector(a), Value::Vector(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| x.labels == y.labels && x.v.to_bits() == y.v.to_bits())
        }
        _ => false,
    }
}

#[test]
fn fused_aggregations_match_general_path() {
    let st = store();
    let e = Engine::default();
    let ops = [
        "sum",
        "avg",
        "count",
        "group",
        "min",
        "max",
        "stdvar",
        "stddev",
        "topk(2,",
        "bottomk(3,",
        "topk(0.5,",
        "topk(100,",
    ];
    for op in ops {
        for grp in ["", " by (g)", " without (i)", " by (__name__)"] {
            let (fast, slow) = match op.strip_suffix(',') {
                Some(_) => (format!("{op} m){grp}"), format!("{op} (m)){grp}")),
                None => (format!("{op}{grp}(m)"), format!("{op}{grp}((m))")),
            };
            let a = e.range_query(&st, &fast, 0, 1_200_000, 30_000).unwrap();
            let b = e.range_query(&st, &slow, 0, 1_200_000, 30_000).unwrap();
            assert!(same(&a.value, &b.value), "{fast} vs {slow}");
            let a = e.instant_query(&st, &fast, 600_000).unwrap();
            let b = e.instant_query(&st, &slow, 600_000).unwrap();
            assert!(same(&a.value, &b.value), "{fast} vs {slow} (instant)");
        }
    }
}

/// Enough series for selectors to decode in two threads: the halves must come
/// back complete and in order.
#[test]
fn parallel_decoding_keeps_series_and_order() {
    let n = 700u32;
    let series = (0..n)
        .map(|i| {
            let l = Labels::from_pairs([("__name__", "c".to_string()), ("i", format!("{i:04}"))]);
            let s = (0..20i64)
                .map(|k| Sample::new(k * 15_000, f64::from(i) + k as f64))
                .collect();
            (l, s)
        })
        .collect();
    let st = Store(series);
    let e = Engine::default();
    let r = e.range_query(&st, "c", 0, 240_000, 60_000).unwrap();
    let Value::Matrix(m) = r.value else {
        panic!("not a matrix")
    };
    assert_eq!(m.len(), n as usize);
    for (i, s) in m.iter().enumerate() {
        assert_eq!(s.labels.get("i"), Some(format!("{i:04}").as_str()));
        let want: Vec<(i64, f64)> = (0..5i64)
            .map(|k| (k * 60_000, i as f64 + (k * 4) as f64))
            .collect();
        assert_eq!(s.points, want);
    }
    let r = e
        .range_query(&st, "sum(increase(c[1m]))", 60_000, 240_000, 60_000)
        .unwrap();
    let Value::Matrix(m) = r.value else {
        panic!("not a matrix")
    };
    // Each series grows by 1 per 15 s: 4 per minute, after extrapolation.
    assert_eq!(m.len(), 1);
    assert!(
        m[0].points
            .iter()
            .all(|p| (p.1 - 4.0 * f64::from(n)).abs() < 1e-6)
    );
}
