//! Aggregation operators.

use super::{Elem, Evaluator, Grid, PtrMap, Val, exec, ptr_key};
use crate::QueryError;
use crate::ast::{AggregateOp, Expr, Grouping, Positions};
use std::collections::HashMap;
use std::sync::Arc;
use watchfire_model::{Labels, METRIC_NAME};

/// Neumaier-compensated summation step: returns the new sum and compensation.
pub(crate) fn kahan_add(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// Compensated sum of `vals`.
pub(crate) fn kahan_sum(vals: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for v in vals {
        (s, c) = kahan_add(v, s, c);
    }
    if s.is_infinite() { s } else { s + c }
}

/// Quantile `q` of `vals` (sorted in place) by linear interpolation.
pub(crate) fn quantile(q: f64, vals: &mut [f64]) -> f64 {
    if vals.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // NaN sorts as the smallest value.
    vals.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.total_cmp(b),
    });
    let n = vals.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let w = rank - rank.floor();
    vals[lower as usize] * (1.0 - w) + vals[upper as usize] * w
}

/// Mean with compensated summation, switching to a compensated incremental
/// mean once the plain sum would overflow.
pub(crate) fn mean(vals: &[f64]) -> f64 {
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

/// Population variance (Welford).
pub(crate) fn variance(vals: &[f64]) -> f64 {
    let (mut n, mut m, mut s) = (0.0, 0.0, 0.0);
    for &v in vals {
        n += 1.0;
        let d = v - m;
        m += d / n;
        s += d * (v - m);
    }
    s / n
}

fn group_key(l: &Labels, grouping: &Grouping) -> Labels {
    match grouping {
        Grouping::None => Labels::empty(),
        Grouping::By(names) => Labels::from_sorted_unchecked(
            l.iter()
                .filter(|lb| names.iter().any(|n| n == &lb.name))
                .cloned()
                .collect(),
        ),
        Grouping::Without(names) => Labels::from_sorted_unchecked(
            l.iter()
                .filter(|lb| lb.name != METRIC_NAME && !names.iter().any(|n| n == &lb.name))
                .cloned()
                .collect(),
        ),
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
fn format_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

impl Evaluator<'_> {
    pub(crate) fn eval_aggregate(
        &mut self,
        op: AggregateOp,
        expr: &Expr,
        param: Option<&Expr>,
        grouping: &Grouping,
        pos: &Positions,
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let param_pos = pos.arg(0);
        let param = match param {
            Some(p) => Some(self.eval(p, grid)?),
            None => None,
        };
        let steps = match self.eval(expr, grid)? {
            Val::Vector(s) => s,
            _ => {
                return Err(exec(format!(
                    "expected instant vector in aggregation {}",
                    op.as_str()
                )));
            }
        };
        // Group of each input label set, computed once per query (the label sets
        // are kept alive in `alive` so their addresses stay unique).
        let mut alive: Vec<Arc<Labels>> = Vec::new();
        let mut group_of: PtrMap<usize> = PtrMap::default();
        let mut group_ids: HashMap<Labels, usize> = HashMap::new();
        let mut keys: Vec<Arc<Labels>> = Vec::new();
        // Per step: slot of each group in `order` (usize::MAX when unseen).
        let mut slot: Vec<usize> = Vec::new();
        let mut order: Vec<usize> = Vec::new();
        let mut bufs: Vec<Vec<Elem>> = Vec::new();
        let mut out = Vec::with_capacity(steps.len());
        for (i, step) in steps.into_iter().enumerate() {
            let p = match &param {
                Some(Val::Scalar(s)) => Some(s.get(i).copied().unwrap_or(f64::NAN)),
                _ => None,
            };
            // Groups in first-seen order.
            for e in step {
                let pk = ptr_key(&e.labels);
                let g = match group_of.get(&pk) {
                    Some(&g) => g,
                    None => {
                        let k = group_key(&e.labels, grouping);
                        let g = match group_ids.get(&k) {
                            Some(&g) => g,
                            None => {
                                let g = keys.len();
                                group_ids.insert(k.clone(), g);
                                keys.push(Arc::new(k));
                                slot.push(usize::MAX);
                                g
                            }
                        };
                        alive.push(e.labels.clone());
                        group_of.insert(pk, g);
                        g
                    }
                };
                if slot[g] == usize::MAX {
                    slot[g] = order.len();
                    order.push(g);
                    if bufs.len() < order.len() {
                        bufs.push(Vec::new());
                    }
                }
                bufs[slot[g]].push(e);
            }
            let mut res = Vec::with_capacity(order.len());
            let mut failed = None;
            for (j, &g) in order.iter().enumerate() {
                slot[g] = usize::MAX;
                if failed.is_none() {
                    let grp = std::mem::take(&mut bufs[j]);
                    match self.aggregate_group(
                        op,
                        &keys[g],
                        grp,
                        p,
                        param.as_ref(),
                        param_pos,
                        &mut res,
                    ) {
                        Ok(mut back) => {
                            back.clear();
                            bufs[j] = back;
                        }
                        Err(err) => failed = Some(err),
                    }
                }
            }
            order.clear();
            if let Some(err) = failed {
                return Err(err);
            }
            if p.is_some_and(f64::is_nan) {
                match op {
                    AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk => {
                        return Err(exec("Parameter value is NaN"));
                    }
                    AggregateOp::LimitRatio => return Err(exec("Ratio value is NaN")),
                    _ => {}
                }
            }
            if op == AggregateOp::CountValues {
                // Series are counted by their output label set, across groups.
                let mut merged: Vec<Elem> = Vec::new();
                let mut idx: HashMap<Arc<Labels>, usize> = HashMap::new();
                for e in res {
                    match idx.get(&e.labels) {
                        Some(&j) => merged[j].v += e.v,
                        None => {
                            idx.insert(e.labels.clone(), merged.len());
                            merged.push(e);
                        }
                    }
                }
                res = merged;
            }
            out.push(res);
        }
        Ok(Val::Vector(out))
    }

    #[allow(clippy::too_many_arguments)]
    fn aggregate_group(
        &mut self,
        op: AggregateOp,
        key: &Arc<Labels>,
        mut g: Vec<Elem>,
        p: Option<f64>,
        param: Option<&Val>,
        param_pos: Option<crate::ast::Pos>,
        res: &mut Vec<Elem>,
    ) -> Result<Vec<Elem>, QueryError> {
        let vals = || g.iter().map(|e| e.v);
        let any_drop = g.iter().any(|e| e.drop);
        let single = |v: f64| Elem {
            labels: key.clone(),
            v,
            drop: any_drop,
        };
        match op {
            AggregateOp::Sum => res.push(single(kahan_sum(vals()))),
            AggregateOp::Avg => res.push(single(mean(&vals().collect::<Vec<_>>()))),
            AggregateOp::Count => res.push(single(g.len() as f64)),
            AggregateOp::Group => res.push(single(1.0)),
            AggregateOp::Min | AggregateOp::Max => {
                let mut acc = f64::NAN;
                for v in vals() {
                    let better = if op == AggregateOp::Min {
                        acc > v
                    } else {
                        acc < v
                    };
                    if acc.is_nan() || better {
                        acc = v;
                    }
                }
                res.push(single(acc));
            }
            AggregateOp::Stdvar => res.push(single(variance(&vals().collect::<Vec<_>>()))),
            AggregateOp::Stddev => res.push(single(variance(&vals().collect::<Vec<_>>()).sqrt())),
            AggregateOp::Quantile => {
                let q = p.unwrap_or(f64::NAN);
                if !(0.0..=1.0).contains(&q) {
                    self.warn_at(
                        param_pos,
                        format!(
                            "PromQL warning: quantile value should be between 0 and 1, got {}",
                            watchfire_model::format_go_float(q)
                        ),
                    );
                }
                res.push(single(quantile(q, &mut vals().collect::<Vec<_>>())));
            }
            AggregateOp::Topk | AggregateOp::Bottomk => {
                let k = p.unwrap_or(f64::NAN);
                if k.is_nan() || k < 1.0 {
                    return Ok(g);
                }
                let k = if k >= g.len() as f64 {
                    g.len()
                } else {
                    k as usize
                };
                let top = op == AggregateOp::Topk;
                // NaNs always sort last.
                g.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    _ if top => b.v.total_cmp(&a.v),
                    _ => a.v.total_cmp(&b.v),
                });
                res.extend(g.drain(..k));
            }
            AggregateOp::Limitk => {
                let k = p.unwrap_or(f64::NAN);
                if k.is_nan() || k < 1.0 {
                    return Ok(g);
                }
                let k = if k >= g.len() as f64 {
                    g.len()
                } else {
                    k as usize
                };
                res.extend(g.drain(..k));
            }
            AggregateOp::LimitRatio => {
                let mut r = p.unwrap_or(f64::NAN);
                if r.is_nan() {
                    return Ok(g);
                }
                if !(-1.0..=1.0).contains(&r) {
                    let capped = r.clamp(-1.0, 1.0);
                    self.warn_at(param_pos, format!(
                        "PromQL warning: ratio value should be between -1 and 1, got {}, capping to {}",
                        watchfire_model::format_go_float(r),
                        watchfire_model::format_go_float(capped)
                    ));
                    r = capped;
                }
                for e in g.drain(..) {
                    let off = e.labels.stable_hash() as f64 / u64::MAX as f64;
                    let take = if r >= 0.0 { off < r } else { off >= 1.0 + r };
                    if take {
                        res.push(e);
                    }
                }
            }
            AggregateOp::CountValues => {
                let name = match param {
                    Some(Val::Str(s)) => s.clone(),
                    _ => return Err(exec("count_values needs a string parameter")),
                };
                let mut counts: Vec<(String, f64)> = Vec::new();
                for v in vals() {
                    let s = format_f(v);
                    match counts.iter_mut().find(|(k, _)| *k == s) {
                        Some((_, c)) => *c += 1.0,
                        None => counts.push((s, 1.0)),
                    }
                }
                for (s, c) in counts {
                    let mut b = key.to_builder();
                    b.set(name.clone(), s);
                    res.push(Elem {
                        labels: Arc::new(b.build()),
                        v: c,
                        drop: any_drop,
                    });
                }
            }
        }
        Ok(g)
    }
}
