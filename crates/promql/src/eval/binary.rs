//! Binary operators: arithmetic, comparisons, set operators and vector matching.

use super::{Elem, Evaluator, Grid, PtrMap, Val, exec, ptr_key};
use crate::QueryError;
use crate::ast::{BinaryOp, Cardinality, Expr, VectorMatching};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use watchfire_model::{Labels, LabelsBuilder, METRIC_NAME};

/// Applies `op` to two floats: `(value, keep)`. Comparisons return the left value
/// and whether the comparison holds.
pub(crate) fn apply(op: BinaryOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinaryOp::Add => (l + r, true),
        BinaryOp::Sub => (l - r, true),
        BinaryOp::Mul => (l * r, true),
        BinaryOp::Div => (l / r, true),
        BinaryOp::Mod => (l % r, true),
        BinaryOp::Pow => (l.powf(r), true),
        BinaryOp::Atan2 => (l.atan2(r), true),
        BinaryOp::Eql => (l, l == r),
        BinaryOp::Neq => (l, l != r),
        BinaryOp::Gtr => (l, l > r),
        BinaryOp::Lss => (l, l < r),
        BinaryOp::Gte => (l, l >= r),
        BinaryOp::Lte => (l, l <= r),
        BinaryOp::And | BinaryOp::Or | BinaryOp::Unless => (l, true),
    }
}

/// The labels that decide which series of the two sides pair up.
fn signature(l: &Labels, on: bool, names: &[String]) -> Labels {
    let pairs = l.iter().filter(|lb| {
        if on {
            names.iter().any(|n| n == &lb.name)
        } else {
            lb.name != METRIC_NAME && !names.iter().any(|n| n == &lb.name)
        }
    });
    Labels::from_sorted_unchecked(pairs.cloned().collect())
}

/// Matching signatures interned once per query: each input label set (by address)
/// maps to a signature id.
struct Sigs<'m> {
    m: &'m VectorMatching,
    by_ptr: PtrMap<usize>,
    ids: HashMap<Labels, usize>,
    sigs: Vec<Labels>,
    /// Keeps the cached label sets alive so that their addresses stay unique.
    alive: Vec<Arc<Labels>>,
    /// Result labels of vector matching per (many side, one side) address.
    results: HashMap<(usize, usize), Arc<Labels>>,
}

impl<'m> Sigs<'m> {
    fn new(m: &'m VectorMatching) -> Self {
        Sigs {
            m,
            by_ptr: PtrMap::default(),
            ids: HashMap::new(),
            sigs: Vec::new(),
            alive: Vec::new(),
            results: HashMap::new(),
        }
    }

    fn id(&mut self, l: &Arc<Labels>) -> usize {
        let k = ptr_key(l);
        if let Some(&i) = self.by_ptr.get(&k) {
            return i;
        }
        let sig = signature(l, self.m.on, &self.m.labels);
        let i = match self.ids.get(&sig) {
            Some(&i) => i,
            None => {
                let i = self.sigs.len();
                self.ids.insert(sig.clone(), i);
                self.sigs.push(sig);
                i
            }
        };
        self.alive.push(l.clone());
        self.by_ptr.insert(k, i);
        i
    }
}

impl Evaluator<'_> {
    pub(crate) fn eval_binary(
        &mut self,
        op: BinaryOp,
        lhs: &Expr,
        rhs: &Expr,
        matching: Option<&VectorMatching>,
        return_bool: bool,
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let l = self.eval(lhs, grid)?;
        let r = self.eval(rhs, grid)?;
        let drop = !op.is_comparison() || return_bool;
        match (l, r) {
            (Val::Scalar(a), Val::Scalar(b)) => Ok(Val::Scalar(
                a.into_iter()
                    .zip(b)
                    .map(|(x, y)| {
                        let (v, keep) = apply(op, x, y);
                        if op.is_comparison() {
                            if keep { 1.0 } else { 0.0 }
                        } else {
                            v
                        }
                    })
                    .collect(),
            )),
            (Val::Vector(vs), Val::Scalar(s)) => {
                Ok(Val::Vector(scalar_op(op, vs, &s, false, return_bool, drop)))
            }
            (Val::Scalar(s), Val::Vector(vs)) => {
                Ok(Val::Vector(scalar_op(op, vs, &s, true, return_bool, drop)))
            }
            (Val::Vector(a), Val::Vector(b)) => {
                let default = VectorMatching::default();
                let m = matching.unwrap_or(&default);
                let mut sigs = Sigs::new(m);
                let mut out = Vec::with_capacity(a.len());
                for (i, (ls, rs)) in a.into_iter().zip(b).enumerate() {
                    if i % 64 == 0 {
                        self.check_deadline()?;
                    }
                    out.push(match op {
                        BinaryOp::And => and_unless(ls, &rs, &mut sigs, true),
                        BinaryOp::Unless => and_unless(ls, &rs, &mut sigs, false),
                        BinaryOp::Or => or(ls, rs, &mut sigs),
                        _ => vector_op(op, ls, rs, &mut sigs, return_bool, drop)?,
                    });
                }
                Ok(Val::Vector(out))
            }
            _ => Err(exec(format!(
                "binary operator {:?} is only defined for scalars and instant vectors",
                op.as_str()
            ))),
        }
    }
}

fn scalar_op(
    op: BinaryOp,
    steps: Vec<Vec<Elem>>,
    s: &[f64],
    swap: bool,
    return_bool: bool,
    drop: bool,
) -> Vec<Vec<Elem>> {
    steps
        .into_iter()
        .zip(s)
        .map(|(step, &sv)| {
            step.into_iter()
                .filter_map(|e| {
                    let (l, r) = if swap { (sv, e.v) } else { (e.v, sv) };
                    let (mut v, keep) = apply(op, l, r);
                    if op.is_comparison() && swap {
                        v = e.v;
                    }
                    if return_bool {
                        v = if keep { 1.0 } else { 0.0 };
                    } else if !keep {
                        return None;
                    }
                    Some(Elem {
                        labels: e.labels,
                        v,
                        drop: e.drop || drop,
                    })
                })
                .collect()
        })
        .collect()
}

fn and_unless(ls: Vec<Elem>, rs: &[Elem], sigs: &mut Sigs<'_>, and: bool) -> Vec<Elem> {
    let set: HashSet<usize> = rs.iter().map(|e| sigs.id(&e.labels)).collect();
    ls.into_iter()
        .filter(|e| set.contains(&sigs.id(&e.labels)) == and)
        .collect()
}

fn or(mut ls: Vec<Elem>, rs: Vec<Elem>, sigs: &mut Sigs<'_>) -> Vec<Elem> {
    let set: HashSet<usize> = ls.iter().map(|e| sigs.id(&e.labels)).collect();
    ls.extend(
        rs.into_iter()
            .filter(|e| !set.contains(&sigs.id(&e.labels))),
    );
    ls
}

fn vector_op(
    op: BinaryOp,
    ls: Vec<Elem>,
    rs: Vec<Elem>,
    sigs: &mut Sigs<'_>,
    return_bool: bool,
    drop: bool,
) -> Result<Vec<Elem>, QueryError> {
    let m = sigs.m;
    let one_to_many = matches!(m.card, Cardinality::OneToMany(_));
    // The "many" side walks; the "one" side is indexed.
    let (many, one) = if one_to_many { (rs, ls) } else { (ls, rs) };
    let mut index: PtrMap<usize> = PtrMap::default();
    index.reserve(one.len());
    for (i, e) in one.iter().enumerate() {
        let sig = sigs.id(&e.labels);
        if let Some(&j) = index.get(&sig) {
            let side = if one_to_many { "left" } else { "right" };
            let mut pair = [one[j].labels.to_string(), e.labels.to_string()];
            pair.sort();
            return Err(exec(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                sigs.sigs[sig], pair[0], pair[1]
            )));
        }
        index.insert(sig, i);
    }
    let include: &[String] = match &m.card {
        Cardinality::ManyToOne(l) | Cardinality::OneToMany(l) => l,
        _ => &[],
    };
    let mut matched: HashSet<usize> = HashSet::new();
    // Signatures of the "one" side that took part in an operation (kept or not).
    let mut touched: HashSet<usize> = HashSet::new();
    let mut inserted: HashSet<(usize, Arc<Labels>)> = HashSet::new();
    let mut out = Vec::new();
    // One pairing of a "many" element with a "one" element; either may be a
    // stand-in made by `fill` (then `cache` is false).
    let mut pair = |e: &Elem,
                    o: &Elem,
                    sig: usize,
                    cache: bool,
                    sigs: &mut Sigs<'_>,
                    touched: &mut HashSet<usize>,
                    out: &mut Vec<Elem>|
     -> Result<(), QueryError> {
        if m.card == Cardinality::OneToOne && !matched.insert(sig) {
            return Err(exec(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
            ));
        }
        touched.insert(sig);
        let (fl, fr) = if one_to_many { (o.v, e.v) } else { (e.v, o.v) };
        let (mut v, keep) = apply(op, fl, fr);
        if return_bool {
            v = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            return Ok(());
        }
        let labels = if cache {
            // Both label sets are kept alive by `sigs.alive` (they went through `id`).
            let rk = (ptr_key(&e.labels), ptr_key(&o.labels));
            match sigs.results.get(&rk) {
                Some(l) => l.clone(),
                None => {
                    let l = Arc::new(result_labels(&e.labels, &o.labels, m, include));
                    sigs.results.insert(rk, l.clone());
                    l
                }
            }
        } else {
            Arc::new(result_labels(&e.labels, &o.labels, m, include))
        };
        if m.card != Cardinality::OneToOne && !inserted.insert((sig, labels.clone())) {
            return Err(exec(
                "multiple matches for labels: grouping labels must ensure unique matches",
            ));
        }
        out.push(Elem {
            labels,
            v,
            drop: drop || e.drop,
        });
        Ok(())
    };
    for e in &many {
        let sig = sigs.id(&e.labels);
        match index.get(&sig) {
            Some(&j) => pair(e, &one[j], sig, true, sigs, &mut touched, &mut out)?,
            None => {
                // `fill(v)` / `fill_right(v)`: a stand-in for the missing partner.
                let Some(fill) = m.fill_rhs else { continue };
                let o = Elem {
                    labels: Arc::new(signature(&e.labels, m.on, &m.labels)),
                    v: fill,
                    drop: false,
                };
                pair(e, &o, sig, false, sigs, &mut touched, &mut out)?;
            }
        }
    }
    if let Some(fill) = m.fill_lhs {
        for o in &one {
            let sig = sigs.id(&o.labels);
            if touched.contains(&sig) {
                continue;
            }
            let e = Elem {
                labels: Arc::new(signature(&o.labels, m.on, &m.labels)),
                v: fill,
                drop: false,
            };
            pair(&e, o, sig, false, sigs, &mut touched, &mut out)?;
        }
    }
    Ok(out)
}

fn result_labels(many: &Labels, one: &Labels, m: &VectorMatching, include: &[String]) -> Labels {
    let mut b: LabelsBuilder = many.to_builder();
    if m.card == Cardinality::OneToOne {
        if m.on {
            let keep: Vec<_> = many
                .iter()
                .filter(|l| !m.labels.iter().any(|n| n == &l.name))
                .map(|l| l.name.clone())
                .collect();
            for n in keep {
                b.delete(&n);
            }
        } else {
            for n in &m.labels {
                b.delete(n);
            }
        }
    }
    for n in include {
        match one.get(n) {
            Some(v) => b.set(n.clone(), v.to_string()),
            None => b.delete(n),
        };
    }
    b.build()
}
