//! Binary operators: arithmetic, comparisons, set operators and vector matching.

use super::{Elem, Evaluator, Grid, Val, exec};
use crate::QueryError;
use crate::ast::{BinaryOp, Cardinality, Expr, VectorMatching};
use std::collections::{HashMap, HashSet};
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
                let mut out = Vec::with_capacity(a.len());
                for (i, (ls, rs)) in a.into_iter().zip(b).enumerate() {
                    if i % 64 == 0 {
                        self.check_deadline()?;
                    }
                    out.push(match op {
                        BinaryOp::And => and_unless(ls, &rs, m, true),
                        BinaryOp::Unless => and_unless(ls, &rs, m, false),
                        BinaryOp::Or => or(ls, rs, m),
                        _ => vector_op(op, ls, rs, m, return_bool, drop)?,
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

fn and_unless(ls: Vec<Elem>, rs: &[Elem], m: &VectorMatching, and: bool) -> Vec<Elem> {
    let sigs: HashSet<Labels> = rs
        .iter()
        .map(|e| signature(&e.labels, m.on, &m.labels))
        .collect();
    ls.into_iter()
        .filter(|e| sigs.contains(&signature(&e.labels, m.on, &m.labels)) == and)
        .collect()
}

fn or(mut ls: Vec<Elem>, rs: Vec<Elem>, m: &VectorMatching) -> Vec<Elem> {
    let sigs: HashSet<Labels> = ls
        .iter()
        .map(|e| signature(&e.labels, m.on, &m.labels))
        .collect();
    ls.extend(
        rs.into_iter()
            .filter(|e| !sigs.contains(&signature(&e.labels, m.on, &m.labels))),
    );
    ls
}

fn vector_op(
    op: BinaryOp,
    ls: Vec<Elem>,
    rs: Vec<Elem>,
    m: &VectorMatching,
    return_bool: bool,
    drop: bool,
) -> Result<Vec<Elem>, QueryError> {
    let one_to_many = matches!(m.card, Cardinality::OneToMany(_));
    // The "many" side walks; the "one" side is indexed.
    let (many, one) = if one_to_many { (rs, ls) } else { (ls, rs) };
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(one.len());
    for (i, e) in one.iter().enumerate() {
        let sig = signature(&e.labels, m.on, &m.labels);
        if let Some(&j) = index.get(&sig) {
            let side = if one_to_many { "left" } else { "right" };
            let mut pair = [one[j].labels.to_string(), e.labels.to_string()];
            pair.sort();
            return Err(exec(format!(
                "found duplicate series for the match group {sig} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                pair[0], pair[1]
            )));
        }
        index.insert(sig, i);
    }
    let include: &[String] = match &m.card {
        Cardinality::ManyToOne(l) | Cardinality::OneToMany(l) => l,
        _ => &[],
    };
    let mut matched: HashSet<Labels> = HashSet::new();
    let mut inserted: HashSet<(Labels, Labels)> = HashSet::new();
    let mut out = Vec::new();
    for e in many {
        let sig = signature(&e.labels, m.on, &m.labels);
        let Some(&j) = index.get(&sig) else { continue };
        let o = &one[j];
        if m.card == Cardinality::OneToOne && !matched.insert(sig.clone()) {
            return Err(exec(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
            ));
        }
        let (fl, fr) = if one_to_many { (o.v, e.v) } else { (e.v, o.v) };
        let (mut v, keep) = apply(op, fl, fr);
        if return_bool {
            v = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        let labels = result_labels(&e.labels, &o.labels, m, include);
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
