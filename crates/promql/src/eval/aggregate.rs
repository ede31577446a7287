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
    fold::<KahanSum>(vals)
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
    fold::<Mean>(vals.iter().copied())
}

/// Population variance (Welford).
pub(crate) fn variance(vals: &[f64]) -> f64 {
    fold::<Variance<false>>(vals.iter().copied())
}

fn fold<F: Fold>(vals: impl IntoIterator<Item = f64>) -> f64 {
    let mut f = F::default();
    for v in vals {
        f.push(v);
    }
    f.finish()
}

/// A fold of values in order into one (a sum, a mean, a variance): the
/// `*_over_time` functions fold a window's samples straight from the series,
/// without copying their values out first.
pub(crate) trait Fold: Copy + Default {
    /// Folds in the next value.
    fn push(&mut self, v: f64);
    /// The result.
    fn finish(self) -> f64;
}

/// Neumaier-compensated sum.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KahanSum {
    s: f64,
    c: f64,
}

impl Fold for KahanSum {
    #[inline(always)]
    fn push(&mut self, v: f64) {
        (self.s, self.c) = kahan_add(v, self.s, self.c);
    }

    #[inline(always)]
    fn finish(self) -> f64 {
        if self.s.is_infinite() {
            self.s
        } else {
            self.s + self.c
        }
    }
}

/// Mean with compensated summation, switching to a compensated incremental
/// mean once the plain sum would overflow.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Mean {
    n: u64,
    sum: f64,
    c: f64,
    incremental: bool,
    m: f64,
}

impl Fold for Mean {
    #[inline(always)]
    fn push(&mut self, v: f64) {
        self.n += 1;
        if self.n == 1 {
            self.sum = v;
            return;
        }
        let n = self.n as f64;
        if !self.incremental {
            let (ns, nc) = kahan_add(v, self.sum, self.c);
            if !ns.is_infinite() {
                (self.sum, self.c) = (ns, nc);
                return;
            }
            self.incremental = true;
            self.m = self.sum / (n - 1.0);
            self.c /= n - 1.0;
        }
        let q = (n - 1.0) / n;
        (self.m, self.c) = kahan_add(v / n, q * self.m, q * self.c);
    }

    #[inline(always)]
    fn finish(self) -> f64 {
        if self.incremental {
            self.m + self.c
        } else {
            (self.sum + self.c) / self.n as f64
        }
    }
}

/// Population variance (Welford); its square root with `SQRT`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Variance<const SQRT: bool> {
    n: f64,
    m: f64,
    s: f64,
}

impl<const SQRT: bool> Fold for Variance<SQRT> {
    #[inline(always)]
    fn push(&mut self, v: f64) {
        self.n += 1.0;
        let d = v - self.m;
        self.m += d / self.n;
        self.s += d * (v - self.m);
    }

    #[inline(always)]
    fn finish(self) -> f64 {
        let v = self.s / self.n;
        if SQRT { v.sqrt() } else { v }
    }
}

/// A running aggregate for the operators that fold values one at a time; it
/// gives bit-identical results to the slice-based helpers above.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    n: f64,
    /// Sum and compensation (sum, avg), or Welford mean and M2 (stdvar).
    a: f64,
    c: f64,
    /// Avg switched to an incremental mean after the sum overflowed.
    incremental: bool,
    /// Avg's incremental mean.
    m: f64,
    any_drop: bool,
}

impl Acc {
    fn supports(op: AggregateOp) -> bool {
        matches!(
            op,
            AggregateOp::Sum
                | AggregateOp::Avg
                | AggregateOp::Count
                | AggregateOp::Group
                | AggregateOp::Min
                | AggregateOp::Max
                | AggregateOp::Stdvar
                | AggregateOp::Stddev
        )
    }

    #[inline]
    fn push(&mut self, op: AggregateOp, v: f64, drop: bool) {
        self.any_drop |= drop;
        self.n += 1.0;
        match op {
            AggregateOp::Sum => (self.a, self.c) = kahan_add(v, self.a, self.c),
            AggregateOp::Avg => {
                // Mirrors `mean`.
                let n = self.n;
                if n == 1.0 {
                    self.a = v;
                    return;
                }
                if !self.incremental {
                    let (ns, nc) = kahan_add(v, self.a, self.c);
                    if !ns.is_infinite() {
                        (self.a, self.c) = (ns, nc);
                        return;
                    }
                    self.incremental = true;
                    self.m = self.a / (n - 1.0);
                    self.c /= n - 1.0;
                }
                let q = (n - 1.0) / n;
                (self.m, self.c) = kahan_add(v / n, q * self.m, q * self.c);
            }
            AggregateOp::Min | AggregateOp::Max => {
                if self.n == 1.0 {
                    self.a = f64::NAN;
                }
                let better = if op == AggregateOp::Min {
                    self.a > v
                } else {
                    self.a < v
                };
                if self.a.is_nan() || better {
                    self.a = v;
                }
            }
            AggregateOp::Stdvar | AggregateOp::Stddev => {
                // Mirrors `variance` (Welford).
                let d = v - self.a;
                self.a += d / self.n;
                self.c += d * (v - self.a);
            }
            _ => {}
        }
    }

    fn finish(&self, op: AggregateOp) -> f64 {
        match op {
            AggregateOp::Sum => {
                if self.a.is_infinite() {
                    self.a
                } else {
                    self.a + self.c
                }
            }
            AggregateOp::Avg => {
                if self.incremental {
                    self.m + self.c
                } else {
                    (self.a + self.c) / self.n
                }
            }
            AggregateOp::Count => self.n,
            AggregateOp::Group => 1.0,
            AggregateOp::Min | AggregateOp::Max => self.a,
            AggregateOp::Stdvar => self.c / self.n,
            AggregateOp::Stddev => (self.c / self.n).sqrt(),
            _ => f64::NAN,
        }
    }
}

/// Folding aggregates of groups per step, fed series by series. Feeding each
/// series' points in step order, series in the order of the step vectors, gives
/// the groups of each step in first-seen order and folds their values in step
/// vector order: the same result as folding the step vectors.
struct SeriesFold {
    group_ids: HashMap<Labels, usize>,
    keys: Vec<Arc<Labels>>,
    /// Per step: groups in first-seen order with their running aggregate.
    steps: Vec<Vec<(usize, Acc)>>,
    /// Per group: its position in each step's list (u32::MAX when absent).
    slots: Vec<Vec<u32>>,
}

impl SeriesFold {
    fn new(steps: usize) -> Self {
        SeriesFold {
            group_ids: HashMap::new(),
            keys: Vec::new(),
            steps: vec![Vec::new(); steps],
            slots: Vec::new(),
        }
    }

    /// The group of a series with labels `l`.
    fn group(&mut self, l: &Labels, grouping: &Grouping) -> usize {
        let k = group_key(l, grouping);
        match self.group_ids.get(&k) {
            Some(&g) => g,
            None => {
                let g = self.keys.len();
                self.group_ids.insert(k.clone(), g);
                self.keys.push(Arc::new(k));
                self.slots.push(vec![u32::MAX; self.steps.len()]);
                g
            }
        }
    }

    /// Folds `v` into group `g` at step `i`.
    #[inline]
    fn push(&mut self, g: usize, i: usize, op: AggregateOp, v: f64, drop: bool) {
        let (Some(st), Some(s)) = (
            self.steps.get_mut(i),
            self.slots.get_mut(g).and_then(|sl| sl.get_mut(i)),
        ) else {
            return;
        };
        if *s == u32::MAX {
            *s = st.len() as u32;
            st.push((g, Acc::default()));
        }
        if let Some((_, a)) = st.get_mut(*s as usize) {
            a.push(op, v, drop);
        }
    }

    fn finish(self, op: AggregateOp) -> Val {
        let keys = self.keys;
        Val::Vector(
            self.steps
                .into_iter()
                .map(|st| {
                    st.into_iter()
                        .map(|(g, a)| Elem {
                            labels: keys[g].clone(),
                            v: a.finish(op),
                            drop: a.any_drop,
                        })
                        .collect()
                })
                .collect(),
        )
    }
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
        if let (Expr::VectorSelector(vs), None) = (expr, param)
            && Acc::supports(op)
            && !vs.anchored
            && !vs.smoothed
        {
            return self.aggregate_selector(op, vs, grouping, grid);
        }
        // Likewise over a range function, folded series by series as its
        // windows are computed.
        if param.is_none()
            && Acc::supports(op)
            && let Some(out) = self.eval_series(expr, grid)?
        {
            let mut fold = SeriesFold::new(grid.len());
            for (labels, r) in &out.series {
                let g = fold.group(labels, grouping);
                for &(i, v) in out.points.get(r.clone()).unwrap_or_default() {
                    fold.push(g, i, op, v, out.drop);
                }
            }
            return Ok(fold.finish(op));
        }
        let param = match param {
            Some(p) => Some(self.eval(p, grid)?),
            None => None,
        };
        if let (Expr::VectorSelector(vs), Some(Val::Scalar(ks))) = (expr, &param)
            && matches!(op, AggregateOp::Topk | AggregateOp::Bottomk)
            && !vs.anchored
            && !vs.smoothed
            && ks.iter().all(|k| !k.is_nan() && *k < 64.0)
        {
            return self.topk_selector(op, vs, ks, grouping, grid);
        }
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
        // Steps usually hold the same series at the same positions: the label set
        // and group seen at each position last step skip the map lookup.
        let mut pos_cache: Vec<(usize, usize)> = Vec::new();
        // Per step: slot of each group in `order` (usize::MAX when unseen).
        let mut slot: Vec<usize> = Vec::new();
        let mut order: Vec<usize> = Vec::new();
        let mut bufs: Vec<Vec<Elem>> = Vec::new();
        // Ops folded element by element need no per-group buffers.
        let streaming = Acc::supports(op);
        let mut accs: Vec<Acc> = Vec::new();
        let mut out = Vec::with_capacity(steps.len());
        for (i, step) in steps.into_iter().enumerate() {
            let p = match &param {
                Some(Val::Scalar(s)) => Some(s.get(i).copied().unwrap_or(f64::NAN)),
                _ => None,
            };
            // Groups in first-seen order.
            for (j, e) in step.into_iter().enumerate() {
                let pk = ptr_key(&e.labels);
                let g = match pos_cache.get(j) {
                    Some(&(k, g)) if k == pk => g,
                    _ => {
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
                        if j < pos_cache.len() {
                            pos_cache[j] = (pk, g);
                        } else {
                            pos_cache.push((pk, g));
                        }
                        g
                    }
                };
                if slot[g] == usize::MAX {
                    slot[g] = order.len();
                    order.push(g);
                    if streaming {
                        if accs.len() < order.len() {
                            accs.push(Acc::default());
                        } else {
                            accs[order.len() - 1] = Acc::default();
                        }
                    } else if bufs.len() < order.len() {
                        bufs.push(Vec::new());
                    }
                }
                if streaming {
                    accs[slot[g]].push(op, e.v, e.drop);
                } else {
                    bufs[slot[g]].push(e);
                }
            }
            let mut res = Vec::with_capacity(order.len());
            let mut failed = None;
            for (j, &g) in order.iter().enumerate() {
                slot[g] = usize::MAX;
                if streaming {
                    let a = &accs[j];
                    res.push(Elem {
                        labels: keys[g].clone(),
                        v: a.finish(op),
                        drop: a.any_drop,
                    });
                } else if failed.is_none() {
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

    /// A folding aggregation straight over a vector selector: each series is
    /// folded into its group's per-step accumulators as it is decoded, so no
    /// per-step vectors of the input are built. Series come in the same order
    /// as in the step vectors, so groups and sums come out in the same order.
    fn aggregate_selector(
        &mut self,
        op: AggregateOp,
        vs: &crate::ast::VectorSelector,
        grouping: &Grouping,
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let mut fold = SeriesFold::new(grid.len());
        self.for_each_selected(vs, grid, |labels, pts| {
            let g = fold.group(&labels, grouping);
            for (i, p) in pts.iter().enumerate() {
                if let Some((_, v)) = p {
                    fold.push(g, i, op, *v, false);
                }
            }
        })?;
        Ok(fold.finish(op))
    }

    /// `topk`/`bottomk` with a small `k` straight over a vector selector: each
    /// step keeps only the best `k` per group while the series are decoded.
    /// Series arrive in step-vector order and ties keep the earlier series, so
    /// the selection and its order equal the stable sort of the general path.
    fn topk_selector(
        &mut self,
        op: AggregateOp,
        vs: &crate::ast::VectorSelector,
        ks: &[f64],
        grouping: &Grouping,
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let n = grid.len();
        let top = op == AggregateOp::Topk;
        let mut group_ids: HashMap<Labels, usize> = HashMap::new();
        let mut series: Vec<Arc<Labels>> = Vec::new();
        // Per step: groups in first-seen order with their best `(value, series)`.
        let mut steps: Vec<Vec<Vec<(f64, usize)>>> = vec![Vec::new(); n];
        let mut slots: Vec<Vec<u32>> = Vec::new();
        // Whether `a` ranks strictly before `b` (NaNs always last).
        let before = |a: f64, b: f64| match (a.is_nan(), b.is_nan()) {
            (_, true) => !a.is_nan(),
            (true, false) => false,
            _ if top => a.total_cmp(&b).is_gt(),
            _ => a.total_cmp(&b).is_lt(),
        };
        self.for_each_selected(vs, grid, |labels, pts| {
            let g = {
                let k = group_key(&labels, grouping);
                match group_ids.get(&k) {
                    Some(&g) => g,
                    None => {
                        let g = slots.len();
                        group_ids.insert(k, g);
                        slots.push(vec![u32::MAX; n]);
                        g
                    }
                }
            };
            let sid = series.len();
            series.push(labels);
            let sl = &mut slots[g];
            for (i, ((p, st), s)) in pts
                .iter()
                .zip(steps.iter_mut())
                .zip(sl.iter_mut())
                .enumerate()
            {
                let Some((_, v)) = *p else { continue };
                if *s == u32::MAX {
                    *s = st.len() as u32;
                    st.push(Vec::new());
                }
                let k = ks.get(i).copied().unwrap_or(0.0);
                if k < 1.0 {
                    continue;
                }
                let k = k as usize;
                let Some(best) = st.get_mut(*s as usize) else {
                    continue;
                };
                if best.len() == k && best.last().is_some_and(|l| !before(v, l.0)) {
                    continue;
                }
                let at = best.partition_point(|x| !before(v, x.0));
                best.insert(at, (v, sid));
                best.truncate(k);
            }
        })?;
        Ok(Val::Vector(
            steps
                .into_iter()
                .map(|st| {
                    st.into_iter()
                        .flatten()
                        .map(|(v, sid)| Elem::new(series[sid].clone(), v))
                        .collect()
                })
                .collect(),
        ))
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
                let cmp = |a: &Elem, b: &Elem| match (a.v.is_nan(), b.v.is_nan()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    _ if top => b.v.total_cmp(&a.v),
                    _ => a.v.total_cmp(&b.v),
                };
                if k.saturating_mul(8) < g.len() {
                    // A few out of many: keep the best k in order, inserting after
                    // equal ones, which selects exactly the prefix a stable sort would.
                    let mut best: Vec<Elem> = Vec::with_capacity(k + 1);
                    for e in g.drain(..) {
                        if best.len() == k
                            && best
                                .last()
                                .is_some_and(|l| cmp(&e, l) != std::cmp::Ordering::Less)
                        {
                            continue;
                        }
                        let at =
                            best.partition_point(|x| cmp(x, &e) != std::cmp::Ordering::Greater);
                        best.insert(at, e);
                        best.truncate(k);
                    }
                    res.extend(best);
                } else {
                    g.sort_by(cmp);
                    res.extend(g.drain(..k));
                }
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
