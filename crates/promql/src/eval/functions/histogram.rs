//! `histogram_quantile` over classic (`le`-labelled) buckets.

use super::super::{Elem, Evaluator, Grid, PtrMap, Val, exec, ptr_key};
use crate::QueryError;
use crate::ast::{Expr, Positions};
use std::collections::HashMap;
use std::sync::Arc;
use watchfire_model::{Labels, METRIC_NAME};

/// The quantile `q` of cumulative buckets `(upper bound, count)`, and whether the
/// counts had to be forced monotonic.
pub(crate) fn bucket_quantile(q: f64, buckets: &mut [(f64, f64)]) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    match buckets.last() {
        Some((ub, _)) if *ub == f64::INFINITY => {}
        _ => return (f64::NAN, false),
    }
    // Merge buckets with the same upper bound (in place: the first `n` hold
    // the merged ones).
    let mut n = 0usize;
    for i in 0..buckets.len() {
        let (ub, c) = buckets[i];
        match n.checked_sub(1).map(|k| &mut buckets[k]) {
            Some(last) if last.0 == ub => last.1 += c,
            _ => {
                buckets[n] = (ub, c);
                n += 1;
            }
        }
    }
    let merged = &mut buckets[..n];
    // Force monotonic counts.
    let mut fixed = false;
    let mut max = f64::NEG_INFINITY;
    for b in merged.iter_mut() {
        if b.1 > max {
            max = b.1;
        } else if b.1 < max {
            b.1 = max;
            fixed = true;
        }
    }
    if merged.len() < 2 {
        return (f64::NAN, fixed);
    }
    let n = merged.len();
    let observations = merged[n - 1].1;
    if observations == 0.0 || observations.is_nan() {
        return (f64::NAN, fixed);
    }
    let mut rank = q * observations;
    let b = merged[..n - 1].partition_point(|x| x.1 < rank);
    if b == n - 1 {
        return (merged[n - 2].0, fixed);
    }
    if b == 0 && merged[0].0 <= 0.0 {
        return (merged[0].0, fixed);
    }
    let (mut start, end, mut count) = (0.0, merged[b].0, merged[b].1);
    if b > 0 {
        start = merged[b - 1].0;
        count -= merged[b - 1].1;
        rank -= merged[b - 1].1;
    }
    (start + (end - start) * (rank / count), fixed)
}

/// A group seen at one step: its id, metric name and `(le, count)` buckets.
type StepGroup = (usize, Arc<Labels>, Vec<(f64, f64)>);

impl Evaluator<'_> {
    pub(crate) fn eval_histogram_quantile(
        &mut self,
        args: &[Expr],
        pos: &Positions,
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let (qe, ve) = match args {
            [q, v] => (q, v),
            _ => return Err(exec("histogram_quantile takes two arguments")),
        };
        let q = match self.eval(qe, grid)? {
            Val::Scalar(s) => s,
            _ => return Err(exec("histogram_quantile expects a scalar quantile")),
        };
        let steps = match self.eval(ve, grid)? {
            Val::Vector(s) => s,
            _ => return Err(exec("histogram_quantile expects an instant vector")),
        };
        // Per input label set (by address, kept alive by `alive`): its `le` and
        // group, computed once per query.
        let mut by_ptr: PtrMap<Option<(f64, usize)>> = PtrMap::default();
        let mut alive: Vec<Arc<Labels>> = Vec::new();
        let mut pos_cache: Vec<(usize, Option<(f64, usize)>)> = Vec::new();
        let mut ids: HashMap<Labels, usize> = HashMap::new();
        let mut keys: Vec<Arc<Labels>> = Vec::new();
        let mut slot: Vec<usize> = Vec::new();
        let mut order: Vec<StepGroup> = Vec::new();
        // Bucket lists of earlier steps, reused.
        let mut spare: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut out = Vec::with_capacity(steps.len());
        for (i, step) in steps.into_iter().enumerate() {
            let qv = q.get(i).copied().unwrap_or(f64::NAN);
            if !(0.0..=1.0).contains(&qv) {
                self.warn_at(
                    pos.arg(0),
                    format!(
                        "PromQL warning: quantile value should be between 0 and 1, got {}",
                        watchfire_model::format_go_float(qv)
                    ),
                );
            }
            for (j, e) in step.into_iter().enumerate() {
                let pk = ptr_key(&e.labels);
                // Steps usually hold the same series at the same positions.
                let cached = match pos_cache.get(j) {
                    Some(&(k, x)) if k == pk => Some(x),
                    _ => None,
                };
                let entry = match cached.or_else(|| by_ptr.get(&pk).copied()) {
                    Some(x) => x,
                    None => {
                        let x = match e
                            .labels
                            .get("le")
                            .and_then(|s| s.trim().parse::<f64>().ok())
                        {
                            None => {
                                let name = e.labels.metric_name().unwrap_or("").to_string();
                                self.warn_at(pos.arg(1), format!(
                                    "PromQL warning: bucket label \"le\" is missing or has a malformed value of {:?} for metric name {name:?}",
                                    e.labels.get("le").unwrap_or("")
                                ));
                                None
                            }
                            Some(le) => {
                                let mut b = e.labels.to_builder();
                                b.delete("le");
                                b.delete(METRIC_NAME);
                                let key = b.build();
                                let g = match ids.get(&key) {
                                    Some(&g) => g,
                                    None => {
                                        let g = keys.len();
                                        ids.insert(key.clone(), g);
                                        keys.push(Arc::new(key));
                                        slot.push(usize::MAX);
                                        g
                                    }
                                };
                                Some((le, g))
                            }
                        };
                        alive.push(e.labels.clone());
                        by_ptr.insert(pk, x);
                        x
                    }
                };
                if cached.is_none() {
                    if j < pos_cache.len() {
                        pos_cache[j] = (pk, entry);
                    } else {
                        pos_cache.push((pk, entry));
                    }
                }
                let Some((le, g)) = entry else { continue };
                if slot[g] == usize::MAX {
                    slot[g] = order.len();
                    order.push((g, e.labels.clone(), spare.pop().unwrap_or_default()));
                }
                order[slot[g]].2.push((le, e.v));
            }
            let mut res = Vec::with_capacity(order.len());
            for (g, name, mut buckets) in order.drain(..) {
                slot[g] = usize::MAX;
                let (v, fixed) = bucket_quantile(qv, &mut buckets);
                if fixed {
                    self.info_at(pos.arg(1), format!(
                        "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {:?}",
                        name.metric_name().unwrap_or_default()
                    ));
                }
                res.push(Elem::new(keys[g].clone(), v));
                buckets.clear();
                spare.push(buckets);
            }
            out.push(res);
        }
        Ok(Val::Vector(out))
    }
}

#[cfg(test)]
mod tests {
    use super::bucket_quantile;
    use proptest::prelude::*;

    /// Merging equal bounds into a fresh list, as `bucket_quantile` did before it
    /// merged in place; the rest is `bucket_quantile` itself on the merged list (on
    /// which its own merge changes nothing).
    fn reference(q: f64, buckets: &mut [(f64, f64)]) -> (f64, bool) {
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::with_capacity(buckets.len());
        for &(ub, c) in buckets.iter() {
            match merged.last_mut() {
                Some(last) if last.0 == ub => last.1 += c,
                _ => merged.push((ub, c)),
            }
        }
        bucket_quantile(q, &mut merged)
    }

    proptest! {
        #[test]
        fn in_place_merge_matches_fresh_list(
            q in prop_oneof![0.0..=1.0f64, Just(0.99), Just(-0.5), Just(2.0), Just(f64::NAN)],
            mut b in proptest::collection::vec(
                (
                    proptest::sample::select(vec![-1.0, -0.0, 0.0, 0.1, 0.5, 1.0, f64::INFINITY, f64::NAN]),
                    prop_oneof![0.0..100.0f64, Just(f64::NAN), Just(0.0)],
                ),
                0..14,
            ),
        ) {
            let mut r = b.clone();
            let (want, wfixed) = reference(q, &mut r);
            let (got, gfixed) = bucket_quantile(q, &mut b);
            prop_assert_eq!(want.to_bits(), got.to_bits());
            prop_assert_eq!(wfixed, gfixed);
        }
    }

    #[test]
    fn interpolates() {
        let mut b = vec![(0.1, 1.0), (0.5, 3.0), (f64::INFINITY, 4.0)];
        let (v, fixed) = bucket_quantile(0.5, &mut b);
        assert!(!fixed);
        assert!((v - 0.3).abs() < 1e-12, "{v}");
        let mut b = vec![(1.0, 1.0)];
        assert!(bucket_quantile(0.5, &mut b).0.is_nan());
    }
}
