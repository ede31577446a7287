//! Label manipulation, sorting and `absent`.

use super::super::windows::apply_windows;
use super::super::{Elem, Evaluator, Grid, Val, check_unique, exec};
use crate::QueryError;
use crate::ast::{Expr, Positions, StringLiteral};
use std::cmp::Ordering;
use std::sync::Arc;
use watchfire_model::{Labels, METRIC_NAME, MatchOp};

/// Compares strings with digit runs compared as numbers ("cpu2" < "cpu10").
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.chars().next(), y.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let ex = x.find(|c: char| !c.is_ascii_digit()).unwrap_or(x.len());
                let ey = y.find(|c: char| !c.is_ascii_digit()).unwrap_or(y.len());
                let (nx, ny) = (
                    x[..ex].trim_start_matches('0'),
                    y[..ey].trim_start_matches('0'),
                );
                let o = nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny));
                if o != Ordering::Equal {
                    return o;
                }
                x = &x[ex..];
                y = &y[ey..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(&d);
                }
                x = &x[c.len_utf8()..];
                y = &y[d.len_utf8()..];
            }
        }
    }
}

fn string_arg(args: &[Expr], i: usize, func: &str) -> Result<String, QueryError> {
    literal_arg(args, i, func).map(|s| s.value)
}

/// A destination label name: not empty and valid UTF-8 (Prometheus 3 allows any other).
fn label_name_arg(args: &[Expr], i: usize, func: &str) -> Result<String, QueryError> {
    let lit = literal_arg(args, i, func)?;
    if lit.value.is_empty() || !lit.valid_utf8 {
        return Err(exec(format!(
            "invalid destination label name in {func}(): {}",
            lit.value
        )));
    }
    Ok(lit.value)
}

fn literal_arg(args: &[Expr], i: usize, func: &str) -> Result<StringLiteral, QueryError> {
    let mut e = args
        .get(i)
        .ok_or_else(|| exec(format!("missing argument {} to {func}", i + 1)))?;
    while let Expr::Paren(inner) = e {
        e = inner;
    }
    match e {
        Expr::String(s) => Ok(s.clone()),
        _ => Err(exec(format!(
            "argument {} of {func} must be a string literal",
            i + 1
        ))),
    }
}

fn vector(v: Val) -> Result<Vec<Vec<Elem>>, QueryError> {
    match v {
        Val::Vector(s) => Ok(s),
        _ => Err(exec("expected an instant vector argument")),
    }
}

/// Sorts by value, NaN last either way.
fn sort_by_value(step: &mut [Elem], desc: bool) {
    step.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if desc => b.v.total_cmp(&a.v),
        _ => a.v.total_cmp(&b.v),
    });
}

impl Evaluator<'_> {
    pub(crate) fn eval_label_call(
        &mut self,
        name: &str,
        args: &[Expr],
        pos: &Positions,
        grid: Grid,
    ) -> Result<Option<Val>, QueryError> {
        let arg0 = || {
            args.first()
                .ok_or_else(|| exec(format!("missing argument to {name}")))
        };
        let out = match name {
            "label_replace" => {
                let dst = label_name_arg(args, 1, name)?;
                let repl = string_arg(args, 2, name)?;
                let src = string_arg(args, 3, name)?;
                let re_src = string_arg(args, 4, name)?;
                let re = regex::Regex::new(&format!("^(?s:{re_src})$")).map_err(|_| {
                    exec(format!(
                        "invalid regular expression in label_replace(): {re_src}"
                    ))
                })?;
                let mut steps = vector(self.eval(arg0()?, grid)?)?;
                for step in &mut steps {
                    for e in step.iter_mut() {
                        let val = e.labels.get(&src).unwrap_or("");
                        if let Some(caps) = re.captures(val) {
                            let mut res = String::new();
                            caps.expand(&repl, &mut res);
                            let mut b = e.labels.to_builder();
                            b.set(dst.clone(), res);
                            e.labels = Arc::new(b.build());
                            if dst == METRIC_NAME {
                                e.drop = false;
                            }
                        }
                    }
                    check_unique(step)?;
                }
                Val::Vector(steps)
            }
            "label_join" => {
                let dst = label_name_arg(args, 1, name)?;
                let sep = string_arg(args, 2, name)?;
                let srcs = (3..args.len())
                    .map(|i| string_arg(args, i, name))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut steps = vector(self.eval(arg0()?, grid)?)?;
                for step in &mut steps {
                    for e in step.iter_mut() {
                        let joined = srcs
                            .iter()
                            .map(|s| e.labels.get(s).unwrap_or(""))
                            .collect::<Vec<_>>()
                            .join(&sep);
                        let mut b = e.labels.to_builder();
                        b.set(dst.clone(), joined);
                        e.labels = Arc::new(b.build());
                        if dst == METRIC_NAME {
                            e.drop = false;
                        }
                    }
                    check_unique(step)?;
                }
                Val::Vector(steps)
            }
            "sort" | "sort_desc" => {
                if self.is_range {
                    self.warn_at(
                        pos.start,
                        "PromQL warning: sort is ineffective for range queries since results are always ordered by labels"
                            .to_string(),
                    );
                }
                let mut steps = vector(self.eval(arg0()?, grid)?)?;
                for step in &mut steps {
                    sort_by_value(step, name == "sort_desc");
                }
                Val::Vector(steps)
            }
            "sort_by_label" | "sort_by_label_desc" => {
                let names = (1..args.len())
                    .map(|i| string_arg(args, i, name))
                    .collect::<Result<Vec<_>, _>>()?;
                let desc = name == "sort_by_label_desc";
                if self.is_range {
                    self.warn_at(
                        pos.start,
                        "PromQL warning: sort is ineffective for range queries since results are always ordered by labels"
                            .to_string(),
                    );
                }
                let mut steps = vector(self.eval(arg0()?, grid)?)?;
                for step in &mut steps {
                    step.sort_by(|a, b| {
                        let mut o = Ordering::Equal;
                        for n in &names {
                            o = natural_cmp(
                                a.labels.get(n).unwrap_or(""),
                                b.labels.get(n).unwrap_or(""),
                            );
                            if o != Ordering::Equal {
                                break;
                            }
                        }
                        let o = o.then_with(|| a.labels.cmp(&b.labels));
                        if desc { o.reverse() } else { o }
                    });
                }
                Val::Vector(steps)
            }
            "absent" => {
                let a = arg0()?;
                let labels = absent_labels(a);
                let steps = vector(self.eval(a, grid)?)?;
                Val::Vector(
                    steps
                        .into_iter()
                        .map(|s| {
                            if s.is_empty() {
                                vec![Elem::new(labels.clone(), 1.0)]
                            } else {
                                Vec::new()
                            }
                        })
                        .collect(),
                )
            }
            "absent_over_time" => {
                let a = arg0()?;
                let labels = absent_labels(a);
                let ra = self.eval_range_arg(a, grid)?;
                let present = apply_windows(&ra, grid, false, |_| Some(1.0)).into_steps(grid.len());
                Val::Vector(
                    present
                        .into_iter()
                        .map(|s| {
                            if s.is_empty() {
                                vec![Elem::new(labels.clone(), 1.0)]
                            } else {
                                Vec::new()
                            }
                        })
                        .collect(),
                )
            }
            _ => return Ok(None),
        };
        Ok(Some(out))
    }
}

/// The labels `absent` reports: the selector's equality matchers, except the
/// metric name and names matched more than once.
fn absent_labels(e: &Expr) -> Labels {
    let mut e = e;
    loop {
        match e {
            Expr::Paren(inner) => e = inner,
            Expr::MatrixSelector { selector, .. } => {
                return selector_labels(&selector.matchers);
            }
            Expr::VectorSelector(vs) => return selector_labels(&vs.matchers),
            _ => return Labels::empty(),
        }
    }
}

fn selector_labels(ms: &[watchfire_model::Matcher]) -> Labels {
    let mut b = watchfire_model::LabelsBuilder::new();
    let mut dup: Vec<&str> = Vec::new();
    for m in ms {
        if m.name == METRIC_NAME {
            continue;
        }
        let count = ms.iter().filter(|o| o.name == m.name).count();
        if count > 1 {
            dup.push(&m.name);
            continue;
        }
        if m.op == MatchOp::Equal {
            b.set(m.name.clone(), m.value.clone());
        }
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::natural_cmp;
    use std::cmp::Ordering;

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("2", "10"), Ordering::Less);
        assert_eq!(natural_cmp("cpu10", "cpu9"), Ordering::Greater);
        assert_eq!(natural_cmp("a", "b"), Ordering::Less);
        assert_eq!(natural_cmp("1.11.3", "1.2.3"), Ordering::Greater);
    }
}
