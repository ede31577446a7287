//! Evaluation: every node is evaluated once over all steps of the query.

mod aggregate;
mod binary;
mod extended;
mod functions;
mod selector;
mod windows;

#[cfg(test)]
mod experimental_tests;
#[cfg(test)]
mod fastpath_tests;
#[cfg(test)]
mod window_tests;

use crate::ast::{AtModifier, Expr};
use crate::{EngineOptions, QueryError, RangeSeries, Value, VectorSample};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Instant;
use watchfire_model::{Labels, METRIC_NAME, Sample};
use watchfire_storage::Queryable;

/// Subquery step when none is written (Prometheus' default evaluation interval).
pub(crate) const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// One element of an instant vector at one step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Elem {
    /// Shared so that carrying a series through every step is a refcount bump.
    pub labels: Arc<Labels>,
    pub v: f64,
    /// `__name__` is to be removed at the end of the query (delayed name removal,
    /// so that `label_replace` and `by (__name__)` still see it).
    pub drop: bool,
}

impl Elem {
    /// An element that keeps its metric name.
    pub fn new(labels: impl Into<Arc<Labels>>, v: f64) -> Self {
        Elem {
            labels: labels.into(),
            v,
            drop: false,
        }
    }

    /// The labels with the name (and the `__type__`/`__unit__` metadata labels) removed
    /// if it is marked for dropping.
    pub fn final_labels(self) -> Arc<Labels> {
        if self.drop && has_metadata_label(&self.labels) {
            Arc::new(drop_name(&self.labels))
        } else {
            self.labels
        }
    }
}

/// The value of a node over all steps of its grid.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// One value per step.
    Scalar(Vec<f64>),
    /// A string (the same at every step).
    Str(String),
    /// One vector per step.
    Vector(Vec<Vec<Elem>>),
    /// A range vector, only as the top-level result of an instant query.
    Matrix(Vec<RangeSeries>),
}

/// The evaluation times of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grid {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

impl Grid {
    pub fn times(&self) -> Vec<i64> {
        let mut out = Vec::new();
        let mut t = self.start;
        let step = self.step.max(1);
        while t <= self.end {
            out.push(t);
            t += step;
        }
        out
    }

    pub fn len(&self) -> usize {
        if self.end < self.start {
            0
        } else {
            ((self.end - self.start) / self.step.max(1)) as usize + 1
        }
    }
}

/// A series (shared label set) with its samples.
pub(crate) type SeriesSamples = (Arc<Labels>, Vec<Sample>);

/// Series with their samples (stale markers kept for instant selectors, dropped
/// for range ones), as a range argument needs them.
#[derive(Debug, Clone)]
pub(crate) struct RangeArg {
    pub series: Vec<SeriesSamples>,
    pub range_ms: i64,
    pub offset_ms: i64,
    pub at: Option<i64>,
    /// How the selector's windows are read (plain, or the experimental
    /// `anchored`/`smoothed` modifiers that also read around the window).
    pub mode: RangeMode,
}

/// How a range selector reads its windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeMode {
    /// Samples in `(t - range, t]`.
    Plain,
    /// Also the last sample up to the lookback delta before the window, as the
    /// value at its start.
    Anchored {
        /// The lookback delta.
        lookback_ms: i64,
    },
    /// Also a lookback delta either side, to interpolate the values at both ends.
    Smoothed {
        /// The lookback delta.
        lookback_ms: i64,
    },
}

impl RangeArg {
    /// How many samples all steps' windows hold together (a sample in the windows
    /// of several steps counts once per step), as Prometheus' query stats count.
    pub fn samples_in_windows(&self, grid: Grid) -> u64 {
        let times = grid.times();
        let mut total = 0u64;
        for (_, samples) in &self.series {
            // Windows only move forward with time: two cursors over the samples.
            let (mut a, mut b) = (0usize, 0usize);
            for &t in &times {
                let (lo, hi) = self.read_window(t);
                while a < samples.len() && samples[a].t <= lo {
                    a += 1;
                }
                b = b.max(a);
                while b < samples.len() && samples[b].t <= hi {
                    b += 1;
                }
                total += (b - a) as u64;
            }
        }
        total
    }

    /// The window `(lo, hi]` read at evaluation time `t`.
    pub fn window(&self, t: i64) -> (i64, i64) {
        let hi = self.at.unwrap_or(t) - self.offset_ms;
        (hi - self.range_ms, hi)
    }

    /// The samples' span `(lo, hi]` the step at `t` reads: the window, widened
    /// by the lookback delta for the extended modes.
    pub fn read_window(&self, t: i64) -> (i64, i64) {
        let (lo, hi) = self.window(t);
        match self.mode {
            RangeMode::Plain => (lo, hi),
            RangeMode::Anchored { lookback_ms } => (lo - lookback_ms, hi),
            RangeMode::Smoothed { lookback_ms } => (lo - lookback_ms, hi + lookback_ms),
        }
    }
}

/// The samples of `samples` in `(lo, hi]`.
pub(crate) fn slice_window(samples: &[Sample], lo: i64, hi: i64) -> &[Sample] {
    let a = samples.partition_point(|s| s.t <= lo);
    let b = samples.partition_point(|s| s.t <= hi);
    &samples[a..b.max(a)]
}

/// State shared by one query's evaluation.
pub(crate) struct Evaluator<'a> {
    pub storage: &'a dyn Queryable,
    pub opts: &'a EngineOptions,
    /// Query start and end, for `@ start()` / `@ end()`.
    pub query_start: i64,
    pub query_end: i64,
    pub deadline: Instant,
    pub samples_loaded: usize,
    /// Samples seen per step by selectors (only counted when asked for).
    pub queryable_samples: u64,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
    /// Whether the query is a range query (for annotations).
    pub is_range: bool,
}

impl<'a> Evaluator<'a> {
    pub fn check_deadline(&self) -> Result<(), QueryError> {
        if Instant::now() > self.deadline {
            return Err(QueryError::Timeout("expression evaluation".to_string()));
        }
        Ok(())
    }

    pub fn add_samples(&mut self, n: usize) -> Result<(), QueryError> {
        self.samples_loaded = self.samples_loaded.saturating_add(n);
        if self.samples_loaded > self.opts.max_samples {
            return Err(QueryError::TooManySamples("query execution".to_string()));
        }
        Ok(())
    }

    pub fn at_ms(&self, at: Option<AtModifier>) -> Option<i64> {
        at.map(|a| match a {
            AtModifier::Start => self.query_start,
            AtModifier::End => self.query_end,
            AtModifier::Timestamp(t) => t,
        })
    }

    /// Adds ` (line:col)` to an annotation when the position is known.
    pub fn at_pos(msg: String, pos: Option<crate::ast::Pos>) -> String {
        match pos {
            Some(p) => format!("{msg} ({p})"),
            None => msg,
        }
    }

    pub fn info(&mut self, msg: String) {
        if !self.infos.contains(&msg) {
            self.infos.push(msg);
        }
    }

    pub fn warn_at(&mut self, pos: Option<crate::ast::Pos>, msg: String) {
        self.warn(Self::at_pos(msg, pos));
    }

    pub fn info_at(&mut self, pos: Option<crate::ast::Pos>, msg: String) {
        self.info(Self::at_pos(msg, pos));
    }

    pub fn warn(&mut self, msg: String) {
        if !self.warnings.contains(&msg) {
            self.warnings.push(msg);
        }
    }

    /// Evaluates `expr` at every time of `grid`.
    pub fn eval(&mut self, expr: &Expr, grid: Grid) -> Result<Val, QueryError> {
        self.check_deadline()?;
        let n = grid.len();
        match expr {
            Expr::Number(v) => Ok(Val::Scalar(vec![*v; n])),
            Expr::String(s) => Ok(Val::Str(s.value.clone())),
            Expr::Paren(e) => self.eval(e, grid),
            Expr::Neg(e) => match self.eval(e, grid)? {
                Val::Scalar(vs) => Ok(Val::Scalar(vs.into_iter().map(|v| -v).collect())),
                Val::Vector(steps) => Ok(Val::Vector(
                    steps
                        .into_iter()
                        .map(|step| {
                            step.into_iter()
                                .map(|e| Elem {
                                    labels: e.labels,
                                    v: -e.v,
                                    drop: true,
                                })
                                .collect()
                        })
                        .collect(),
                )),
                _ => Err(exec(
                    "unary minus only applies to scalars and instant vectors",
                )),
            },
            // `anchored` changes nothing for an instant selector (as in Prometheus).
            Expr::VectorSelector(vs) if vs.smoothed => self.eval_smoothed_selector(vs, grid),
            Expr::VectorSelector(vs) => self.eval_vector_selector(vs, grid),
            Expr::MatrixSelector { .. } | Expr::Subquery { .. } => {
                // Only valid at the top of an instant query.
                let arg = self.eval_range_arg(expr, grid)?;
                let t = grid.start;
                let mut out = Vec::new();
                let (lo, hi) = arg.window(t);
                let (rlo, rhi) = arg.read_window(t);
                for (labels, samples) in arg.series {
                    let window = slice_window(&samples, rlo, rhi);
                    let pts: Vec<(i64, f64)> = match arg.mode {
                        RangeMode::Plain => window.iter().map(|s| (s.t, s.v)).collect(),
                        RangeMode::Anchored { .. } => {
                            extended::extend_window(window, lo, hi, false)
                        }
                        RangeMode::Smoothed { .. } => extended::extend_window(window, lo, hi, true),
                    };
                    if !pts.is_empty() {
                        out.push(RangeSeries {
                            labels: Arc::unwrap_or_clone(labels),
                            points: pts,
                        });
                    }
                }
                Ok(Val::Matrix(out))
            }
            Expr::Binary {
                op,
                lhs,
                rhs,
                matching,
                return_bool,
            } => self.eval_binary(*op, lhs, rhs, matching.as_ref(), *return_bool, grid),
            Expr::Aggregate {
                op,
                expr,
                param,
                grouping,
                pos,
            } => self.eval_aggregate(*op, expr, param.as_deref(), grouping, pos, grid),
            Expr::Call { func, args, pos } => self.eval_call(func, args, pos, grid),
        }
    }

    /// Evaluates `expr` series by series when it is made that way: an instant
    /// selector, or a call of a function over a range vector (in parentheses or
    /// not); `None` for any other expression (see [`windows::SeriesOut`]).
    pub fn eval_series(
        &mut self,
        expr: &Expr,
        grid: Grid,
    ) -> Result<Option<windows::SeriesOut>, QueryError> {
        match expr {
            Expr::Paren(e) => self.eval_series(e, grid),
            Expr::VectorSelector(vs) if !vs.smoothed => {
                self.check_deadline()?;
                self.select_series(vs, grid).map(Some)
            }
            Expr::Call { func, args, pos } => {
                self.check_deadline()?;
                self.eval_range_series(func, args, pos, grid)
            }
            _ => Ok(None),
        }
    }

    /// Evaluates a range-vector expression (matrix selector or subquery) into
    /// series with all the samples any step of `grid` will read.
    pub fn eval_range_arg(&mut self, expr: &Expr, grid: Grid) -> Result<RangeArg, QueryError> {
        match expr {
            Expr::Paren(e) => self.eval_range_arg(e, grid),
            Expr::MatrixSelector {
                selector, range_ms, ..
            } => {
                let at = self.at_ms(selector.at);
                let (first, last) = match at {
                    Some(a) => (a, a),
                    None => (grid.start, grid.end),
                };
                let lookback_ms = self.opts.lookback_delta_ms;
                let mode = if selector.anchored {
                    RangeMode::Anchored { lookback_ms }
                } else if selector.smoothed {
                    RangeMode::Smoothed { lookback_ms }
                } else {
                    RangeMode::Plain
                };
                let mut arg = RangeArg {
                    series: Vec::new(),
                    range_ms: *range_ms,
                    offset_ms: selector.offset_ms,
                    at,
                    mode,
                };
                // Windows are left-open: nothing at their start is ever read.
                let (mint, maxt) = (arg.read_window(first).0 + 1, arg.read_window(last).1);
                arg.series = self.fetch(&selector.matchers, mint, maxt)?;
                if self.opts.count_queryable_samples {
                    self.queryable_samples += arg.samples_in_windows(grid);
                }
                Ok(arg)
            }
            Expr::Subquery {
                expr,
                range_ms,
                step_ms,
                offset_ms,
                at,
                ..
            } => {
                let at = self.at_ms(*at);
                let step = step_ms.unwrap_or(DEFAULT_SUBQUERY_STEP_MS).max(1);
                let (first, last) = match at {
                    Some(a) => (a, a),
                    None => (grid.start, grid.end),
                };
                let lo = first - offset_ms - range_ms;
                let hi = last - offset_ms;
                let mut start = lo - lo.rem_euclid(step);
                if start < lo {
                    start += step;
                }
                let sub = Grid {
                    start,
                    end: hi,
                    step,
                };
                let times = sub.times();
                // Prometheus counts what the outer windows see of the subquery's
                // result, not the samples its inner selectors saw.
                let outer_queryable = self.queryable_samples;
                let series = if let Some(out) = self.eval_series(expr, sub)? {
                    out.into_series(sub)?
                } else {
                    match self.eval(expr, sub)? {
                        Val::Vector(steps) => steps_to_series(&times, steps)?,
                        Val::Scalar(vs) => vec![(
                            Arc::new(Labels::empty()),
                            times
                                .iter()
                                .zip(vs)
                                .map(|(t, v)| Sample::new(*t, v))
                                .collect(),
                        )],
                        _ => return Err(exec("subquery is only allowed on instant vectors")),
                    }
                };
                let arg = RangeArg {
                    series,
                    range_ms: *range_ms,
                    offset_ms: *offset_ms,
                    at,
                    mode: RangeMode::Plain,
                };
                if self.opts.count_queryable_samples {
                    self.queryable_samples = outer_queryable + arg.samples_in_windows(grid);
                }
                Ok(arg)
            }
            _ => Err(exec(
                "expected a range vector (matrix selector or subquery)",
            )),
        }
    }
}

/// A cheap hasher for pointer-sized keys (label sets identified by their `Arc`).
#[derive(Default)]
pub(crate) struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_usize(n as usize);
    }
}

/// A map keyed by the address of a shared label set.
pub(crate) type PtrMap<V> = HashMap<usize, V, BuildHasherDefault<PtrHasher>>;

/// The key of `l` in a [`PtrMap`]. Only valid while the `Arc` is kept alive.
pub(crate) fn ptr_key(l: &Arc<Labels>) -> usize {
    Arc::as_ptr(l) as usize
}

/// Regroups per-step vectors into series, erroring on duplicate label sets.
pub(crate) fn steps_to_series(
    times: &[i64],
    steps: Vec<Vec<Elem>>,
) -> Result<Vec<SeriesSamples>, QueryError> {
    let mut series: Vec<SeriesSamples> = Vec::new();
    let mut by_labels: HashMap<Arc<Labels>, usize> = HashMap::new();
    // Series index per (input label set, drop flag); the inputs are kept alive in
    // `alive` so that their addresses stay unique.
    let mut by_ptr: [PtrMap<usize>; 2] = [PtrMap::default(), PtrMap::default()];
    let mut alive: Vec<Arc<Labels>> = Vec::new();
    // Series index of the element at each position last step: steps usually hold
    // the same series in the same order, which skips the map lookup.
    let mut pos_cache: Vec<(usize, bool, usize)> = Vec::new();
    for (t, step) in times.iter().zip(steps) {
        for (j, e) in step.into_iter().enumerate() {
            let v = e.v;
            let k = ptr_key(&e.labels);
            let d = usize::from(e.drop);
            let cached = match pos_cache.get(j) {
                Some(&(ck, cd, ci)) if ck == k && cd == e.drop => Some(ci),
                _ => None,
            };
            let idx = match cached.or_else(|| by_ptr[d].get(&k).copied()) {
                Some(i) => i,
                None => {
                    alive.push(e.labels.clone());
                    let fl = e.final_labels();
                    let i = match by_labels.get(&fl) {
                        Some(&i) => i,
                        None => {
                            let i = series.len();
                            by_labels.insert(fl.clone(), i);
                            series.push((fl, Vec::new()));
                            i
                        }
                    };
                    by_ptr[d].insert(k, i);
                    i
                }
            };
            if cached.is_none() {
                if j < pos_cache.len() {
                    pos_cache[j] = (k, d == 1, idx);
                } else {
                    pos_cache.push((k, d == 1, idx));
                }
            }
            let pts = &mut series[idx].1;
            if pts.last().is_some_and(|p| p.t == *t) {
                return Err(exec("vector cannot contain metrics with the same labelset"));
            }
            pts.push(Sample::new(*t, v));
        }
    }
    drop(alive);
    series.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(series)
}

/// Evaluates `expr` over `grid` into the public result. A range query of a
/// selector or a range function takes its series as they are made instead of
/// spreading them over the steps and regrouping them.
pub(crate) fn eval_value(
    ev: &mut Evaluator<'_>,
    expr: &Expr,
    grid: Grid,
    range: bool,
) -> Result<Value, QueryError> {
    if range && let Some(out) = ev.eval_series(expr, grid)? {
        return Ok(Value::Matrix(
            out.into_series(grid)?
                .into_iter()
                .map(|(labels, pts)| RangeSeries {
                    labels: Arc::unwrap_or_clone(labels),
                    points: pts.into_iter().map(|s| (s.t, s.v)).collect(),
                })
                .collect(),
        ));
    }
    let val = ev.eval(expr, grid)?;
    to_value(val, grid, range)
}

/// Builds the public result of an evaluation.
pub(crate) fn to_value(val: Val, grid: Grid, range: bool) -> Result<Value, QueryError> {
    let times = grid.times();
    Ok(match val {
        Val::Scalar(vs) if !range => Value::Scalar {
            t: grid.start,
            v: vs.first().copied().unwrap_or(f64::NAN),
        },
        Val::Scalar(vs) => Value::Matrix(vec![RangeSeries {
            labels: Labels::empty(),
            points: times.iter().copied().zip(vs).collect(),
        }]),
        Val::Str(s) if !range => Value::String {
            t: grid.start,
            v: s,
        },
        Val::Str(_) => {
            return Err(exec(
                "invalid expression type \"string\" for range query, must be Scalar or instant Vector",
            ));
        }
        Val::Vector(steps) if !range => {
            let step: Vec<Elem> = steps
                .into_iter()
                .next()
                .unwrap_or_default()
                .into_iter()
                .map(|e| {
                    let v = e.v;
                    Elem::new(e.final_labels(), v)
                })
                .collect();
            check_unique(&step)?;
            Value::Vector(
                step.into_iter()
                    .map(|e| VectorSample {
                        labels: Arc::unwrap_or_clone(e.labels),
                        t: grid.start,
                        v: e.v,
                    })
                    .collect(),
            )
        }
        Val::Vector(steps) => Value::Matrix(
            steps_to_series(&times, steps)?
                .into_iter()
                .map(|(labels, pts)| RangeSeries {
                    labels: Arc::unwrap_or_clone(labels),
                    points: pts.into_iter().map(|s| (s.t, s.v)).collect(),
                })
                .collect(),
        ),
        Val::Matrix(m) if !range => Value::Matrix(m),
        Val::Matrix(_) => {
            return Err(exec(
                "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector",
            ));
        }
    })
}

pub(crate) fn check_unique(step: &[Elem]) -> Result<(), QueryError> {
    if step.len() < 2 {
        return Ok(());
    }
    let mut seen = std::collections::HashSet::with_capacity(step.len());
    for e in step {
        if !seen.insert(&e.labels) {
            return Err(exec("vector cannot contain metrics with the same labelset"));
        }
    }
    Ok(())
}

/// An execution error.
pub(crate) fn exec(msg: impl Into<String>) -> QueryError {
    QueryError::Execution(msg.into())
}

/// Labels that describe the metric itself rather than the series: `__name__` and, from
/// Prometheus 3's type-and-unit labels, `__type__` and `__unit__`. Whenever the name is
/// dropped, all three go, as Prometheus does.
const METADATA_LABELS: [&str; 3] = [METRIC_NAME, "__type__", "__unit__"];

pub(crate) fn has_metadata_label(l: &Labels) -> bool {
    METADATA_LABELS.iter().any(|n| l.get(n).is_some())
}

/// The labels without `__name__` (and without `__type__`/`__unit__`).
pub(crate) fn drop_name(l: &Labels) -> Labels {
    if !has_metadata_label(l) {
        return l.clone();
    }
    let mut b = l.to_builder();
    for n in METADATA_LABELS {
        b.delete(n);
    }
    b.build()
}
