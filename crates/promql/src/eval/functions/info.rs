//! The experimental `info()` function: adds the data labels of info series
//! (`target_info` and the like) to the series they describe.
//!
//! An info series describes the series sharing its identifying labels
//! (`instance` and `job`). At each step the info series current at that time
//! (picked with the lookback delta, at the time the first argument's `@` and
//! `offset` point to) are joined to the base series by those labels and their
//! other labels are added, unless the base series already has them.

use super::super::{Elem, Evaluator, Grid, Val, check_unique, exec};
use crate::QueryError;
use crate::ast::{AtModifier, Expr, VectorSelector};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use watchfire_model::{Labels, METRIC_NAME, MatchOp, Matcher};

/// The info metric used when no `__name__` matcher selects one.
const TARGET_INFO: &str = "target_info";

/// Labels an info series shares with the series it describes.
const IDENTIFYING: [&str; 2] = ["instance", "job"];

/// The key joining a series to an info metric: the info metric's name and the
/// series' identifying label values (empty when absent).
type Signature = (String, [String; 2]);

fn signature(name: &str, l: &Labels) -> Signature {
    (
        name.to_string(),
        IDENTIFYING.map(|n| l.get(n).unwrap_or("").to_string()),
    )
}

fn name_matcher(op: MatchOp, value: &str) -> Result<Matcher, QueryError> {
    Matcher::new(op, METRIC_NAME, value).map_err(|e| exec(e.to_string()))
}

/// The `__name__` matchers that select info series: as written when one of
/// them is positive; restricted to `.+_info` names when all are negative;
/// `target_info` when there are none.
fn effective_name_matchers(ms: &[Matcher]) -> Result<Vec<Matcher>, QueryError> {
    if ms
        .iter()
        .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::RegexMatch))
    {
        return Ok(ms.to_vec());
    }
    if ms.is_empty() {
        return Ok(vec![Matcher::equal(METRIC_NAME, TARGET_INFO)]);
    }
    let mut out = vec![name_matcher(MatchOp::RegexMatch, ".+_info")?];
    out.extend(ms.iter().cloned());
    Ok(out)
}

/// The `@` time (if any) and offset that place the info series in time: those
/// of the first vector selector of `e`, with the offsets of the subqueries
/// around it added until one of them (or the selector) has an `@`.
fn reference_time(e: &Expr) -> Option<(Option<AtModifier>, i64)> {
    match e {
        Expr::VectorSelector(vs) => Some((vs.at, vs.offset_ms)),
        Expr::MatrixSelector { selector, .. } => Some((selector.at, selector.offset_ms)),
        Expr::Subquery {
            expr,
            offset_ms,
            at,
            ..
        } => reference_time(expr).map(|(a, o)| match a {
            Some(a) => (Some(a), o),
            None => (*at, o + offset_ms),
        }),
        Expr::Paren(e) | Expr::Neg(e) => reference_time(e),
        Expr::Binary { lhs, rhs, .. } => reference_time(lhs).or_else(|| reference_time(rhs)),
        Expr::Aggregate { expr, param, .. } => {
            reference_time(expr).or_else(|| param.as_deref().and_then(reference_time))
        }
        Expr::Call { args, .. } => args.iter().find_map(reference_time),
        Expr::Number(_) | Expr::String(_) => None,
    }
}

/// Info series with, per step, the timestamp of the sample picked then.
struct InfoSeries {
    labels: Arc<Labels>,
    sig: Signature,
    picked: Vec<Option<i64>>,
}

impl Evaluator<'_> {
    /// `info(v [, label selector])`.
    pub(crate) fn eval_info(&mut self, args: &[Expr], grid: Grid) -> Result<Val, QueryError> {
        let base = args
            .first()
            .ok_or_else(|| exec("missing argument to info"))?;
        let (at, offset_ms) = reference_time(base).unwrap_or((None, 0));
        let steps = match self.eval(base, grid)? {
            Val::Vector(s) => s,
            _ => return Err(exec("expected an instant vector argument to info")),
        };
        let selector: &[Matcher] = match args.get(1) {
            Some(Expr::VectorSelector(vs)) => &vs.matchers,
            Some(_) => return Err(exec("expected label selectors only")),
            None => &[],
        };
        let name_ms: Vec<Matcher> = selector
            .iter()
            .filter(|m| m.name == METRIC_NAME)
            .cloned()
            .collect();
        let effective = effective_name_matchers(&name_ms)?;
        // Data label matchers by label name (`__name__` only picks info metrics).
        let mut data_ms: BTreeMap<&str, Vec<&Matcher>> = BTreeMap::new();
        for m in selector.iter().filter(|m| m.name != METRIC_NAME) {
            data_ms.entry(m.name.as_str()).or_default().push(m);
        }

        // Info series among the base series are passed through as they are.
        let mut ignored: HashSet<Arc<Labels>> = HashSet::new();
        let mut wanted: [BTreeSet<String>; 2] = Default::default();
        let mut seen: HashSet<Arc<Labels>> = HashSet::new();
        for e in steps.iter().flatten() {
            if !seen.insert(e.labels.clone()) {
                continue;
            }
            let name = e.labels.metric_name().unwrap_or("");
            if effective.iter().all(|m| m.matches(name)) {
                ignored.insert(e.labels.clone());
                continue;
            }
            for (set, n) in wanted.iter_mut().zip(IDENTIFYING) {
                if let Some(v) = e.labels.get(n).filter(|v| !v.is_empty()) {
                    set.insert(v.to_string());
                }
            }
        }
        drop(seen);

        let info = if wanted.iter().all(BTreeSet::is_empty) {
            Vec::new()
        } else {
            let mut matchers = Vec::new();
            for (set, n) in wanted.iter().zip(IDENTIFYING) {
                if set.is_empty() {
                    continue;
                }
                let alt: Vec<String> = set.iter().map(|v| regex::escape(v)).collect();
                matchers.push(
                    Matcher::new(MatchOp::RegexMatch, n, alt.join("|"))
                        .map_err(|e| exec(e.to_string()))?,
                );
            }
            matchers.extend(data_ms.values().flatten().map(|m| (*m).clone()));
            matchers.extend(effective.iter().cloned());
            self.select_info(matchers, at, offset_ms, grid)?
        };
        let info_names: BTreeSet<&str> = info.iter().map(|s| s.sig.0.as_str()).collect();

        let mut out = Vec::with_capacity(steps.len());
        // Output label sets by base series and the info series joined to it, so
        // that a series carried through all steps shares one label set.
        let mut cache: HashMap<(Arc<Labels>, Vec<usize>), Arc<Labels>> = HashMap::new();
        for (i, step) in steps.into_iter().enumerate() {
            // The info series current at this step per signature: the one with
            // the latest sample wins; two with the same timestamp conflict.
            let mut current: HashMap<&Signature, (usize, i64)> = HashMap::new();
            for (j, s) in info.iter().enumerate() {
                let Some(t) = s.picked.get(i).copied().flatten() else {
                    continue;
                };
                match current.get(&s.sig) {
                    Some(&(k, t0)) if t0 == t => {
                        return Err(exec(format!(
                            "found duplicate series for info metric: existing {} @ {t0}, new {} @ {t}",
                            info[k].labels, s.labels
                        )));
                    }
                    Some(&(_, t0)) if t0 > t => {}
                    _ => {
                        current.insert(&s.sig, (j, t));
                    }
                }
            }
            let mut res = Vec::with_capacity(step.len());
            for e in step {
                if ignored.contains(&e.labels) {
                    res.push(e);
                    continue;
                }
                let joined: Vec<usize> = info_names
                    .iter()
                    .filter_map(|n| current.get(&signature(n, &e.labels)).map(|&(j, _)| j))
                    .collect();
                if joined.is_empty() && data_ms.values().flatten().any(|m| !m.matches("")) {
                    // The selector asks for data labels no info series gives.
                    continue;
                }
                let key = (e.labels.clone(), joined);
                let labels = match cache.get(&key) {
                    Some(l) => l.clone(),
                    None => {
                        let l = Arc::new(enrich(&e.labels, &key.1, &info, &data_ms)?);
                        cache.insert(key, l.clone());
                        l
                    }
                };
                res.push(Elem {
                    labels,
                    v: e.v,
                    drop: e.drop,
                });
            }
            check_unique(&res)?;
            out.push(res);
        }
        Ok(Val::Vector(out))
    }

    /// The info series matching `matchers`, each with the timestamp of the
    /// sample an instant selector picks at every step (at the `@` time if any,
    /// shifted by `offset_ms`).
    fn select_info(
        &mut self,
        matchers: Vec<Matcher>,
        at: Option<AtModifier>,
        offset_ms: i64,
        grid: Grid,
    ) -> Result<Vec<InfoSeries>, QueryError> {
        let vs = VectorSelector {
            name: None,
            matchers,
            offset_ms,
            at,
            offset_expr: None,
            anchored: false,
            smoothed: false,
        };
        let mut out = Vec::new();
        self.for_each_selected(&vs, grid, |labels, pts| {
            let sig = signature(labels.metric_name().unwrap_or(""), &labels);
            out.push(InfoSeries {
                labels,
                sig,
                picked: pts.iter().map(|p| p.map(|(t, _)| t)).collect(),
            });
        })?;
        Ok(out)
    }
}

/// `base` with the data labels of the info series `joined` it does not have.
fn enrich(
    base: &Labels,
    joined: &[usize],
    info: &[InfoSeries],
    data_ms: &BTreeMap<&str, Vec<&Matcher>>,
) -> Result<Labels, QueryError> {
    let mut added: BTreeMap<&str, &str> = BTreeMap::new();
    for &j in joined {
        for l in info[j].labels.iter() {
            if l.name == METRIC_NAME
                || (!data_ms.is_empty() && !data_ms.contains_key(l.name.as_str()))
            {
                continue;
            }
            if let Some(v) = added.get(l.name.as_str())
                && *v != l.value
            {
                return Err(exec(format!("conflicting label: {}", l.name)));
            }
            if base.get(&l.name).is_some() {
                continue;
            }
            added.insert(&l.name, &l.value);
        }
    }
    if added.is_empty() {
        return Ok(base.clone());
    }
    let mut b = base.to_builder();
    for (n, v) in added {
        b.set(n, v);
    }
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_matchers() {
        let none = effective_name_matchers(&[]).unwrap();
        assert_eq!(none, vec![Matcher::equal(METRIC_NAME, TARGET_INFO)]);
        let neg = [name_matcher(MatchOp::NotEqual, "target_info").unwrap()];
        let eff = effective_name_matchers(&neg).unwrap();
        assert_eq!(eff.len(), 2);
        assert!(eff.iter().all(|m| m.matches("build_info")));
        assert!(!eff.iter().all(|m| m.matches("target_info")));
        assert!(!eff.iter().all(|m| m.matches("metric")));
    }

    #[test]
    fn reference_time_through_subqueries() {
        let opts = crate::parser::ParseOptions::default();
        let e = crate::parser::parse_with_options(
            "last_over_time((metric offset 1m)[10m:1m] offset 2m)",
            &opts,
        )
        .unwrap();
        assert_eq!(reference_time(&e), Some((None, 180_000)));
        let e = crate::parser::parse_with_options(
            "last_over_time((metric offset 1m)[10m:1m] @ 180 offset 2m)",
            &opts,
        )
        .unwrap();
        assert_eq!(
            reference_time(&e),
            Some((Some(AtModifier::Timestamp(180_000)), 180_000))
        );
    }

    #[test]
    fn conflicting_labels() {
        let base = Labels::from_pairs([("instance", "a")]);
        let info = vec![
            InfoSeries {
                labels: Arc::new(Labels::from_pairs([
                    ("__name__", "a_info"),
                    ("instance", "a"),
                    ("x", "1"),
                ])),
                sig: signature("a_info", &base),
                picked: vec![],
            },
            InfoSeries {
                labels: Arc::new(Labels::from_pairs([
                    ("__name__", "b_info"),
                    ("instance", "a"),
                    ("x", "2"),
                ])),
                sig: signature("b_info", &base),
                picked: vec![],
            },
        ];
        let err = enrich(&base, &[0, 1], &info, &BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("conflicting label: x"), "{err}");
        let one = enrich(&base, &[0], &info, &BTreeMap::new()).unwrap();
        assert_eq!(one.get("x"), Some("1"));
    }
}
