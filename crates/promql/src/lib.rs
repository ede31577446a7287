//! PromQL for Watchfire: parsing and evaluation with Prometheus 3 semantics.
//!
//! The engine reads data only through the `watchfire-storage` traits, never the TSDB.
//!
//! [`parse`] turns a query into Watchfire's own syntax tree ([`ast::Expr`]) with a
//! hand-written lexer and recursive-descent parser following Prometheus 3's grammar,
//! checks and error messages (with positions); experimental syntax is behind
//! [`ParseOptions`]. [`format_expr`] prints a tree back in canonical form and
//! [`expr_to_json`] as `/api/v1/parse_query` shows it. [`Engine`] evaluates every
//! node once over all the steps of a query, fetching each selector's series once.
//! Duration expressions using `step()`/`range()` are computed per query first. Names are dropped the Prometheus 3
//! way (delayed: `label_replace` and `by (__name__)` still see them).
//!
//! A node's value is one vector per step, but selectors and range functions are
//! made series by series: a range function slides two indices over each series'
//! samples (a monotonic deque for `max`/`min_over_time`), and when its consumer
//! is a range query's result, a subquery or a folding aggregation, the series
//! go there as they are, without being spread over the steps and regrouped.
//!
//! The experimental evaluation features are there when their syntax is enabled:
//! `anchored`/`smoothed` selectors (read a lookback delta around the window to give
//! its boundaries values of their own) and `info()` (joins info series' data labels
//! on `instance`/`job`). Native histograms are not supported.
//!
//! Annotations are worded like Prometheus', with the position of the argument they
//! concern when it is known: `PromQL info: metric might not be a counter, name
//! does not end in _total/_sum/_count/_bucket: "up" (1:6)`.
#![deny(missing_docs)]

pub mod ast;
mod eval;
mod parser;
mod value;

pub use parser::{ParseError, ParseOptions, expr_to_json, format_expr, parse, parse_with_options};

pub use value::{QueryError, QueryResult, RangeSeries, SampleStats, Value, VectorSample};

use std::time::Duration;
use watchfire_storage::Queryable;

/// Engine limits and defaults.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (5m in Prometheus).
    pub lookback_delta_ms: i64,
    /// Wall-clock limit per query.
    pub timeout: Duration,
    /// Most samples a query may hold in memory at once.
    pub max_samples: usize,
    /// Count [`SampleStats::total_queryable`] (the `stats` API parameter): costs a
    /// pass over each range selector's windows, so it is off unless asked for.
    pub count_queryable_samples: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            timeout: Duration::from_secs(120),
            max_samples: 50_000_000,
            count_queryable_samples: false,
        }
    }
}

/// Evaluates PromQL queries.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
    parse: ParseOptions,
}

impl Engine {
    /// An engine with these options.
    pub fn new(opts: EngineOptions) -> Self {
        Engine {
            opts,
            parse: ParseOptions::default(),
        }
    }

    /// The same engine parsing queries with these feature flags.
    pub fn with_parse_options(mut self, parse: ParseOptions) -> Self {
        self.parse = parse;
        self
    }

    /// The parser feature flags in force.
    pub fn parse_options(&self) -> &ParseOptions {
        &self.parse
    }

    /// The options in force.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at time `t` (ms).
    pub fn instant_query(
        &self,
        storage: &dyn Queryable,
        query: &str,
        t: i64,
    ) -> Result<QueryResult, QueryError> {
        let expr = parse_with_options(query, &self.parse)?;
        self.run(storage, &expr, t, t, 0, false)
    }

    /// Evaluates `query` at every `step` from `start` to `end` (ms, inclusive).
    pub fn range_query(
        &self,
        storage: &dyn Queryable,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, QueryError> {
        if step <= 0 {
            return Err(QueryError::Execution(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end < start {
            return Err(QueryError::Execution(
                "end timestamp must not be before start time".into(),
            ));
        }
        let expr = parse_with_options(query, &self.parse)?;
        match expr.value_type() {
            ast::ValueType::Scalar | ast::ValueType::Vector => {}
            other => {
                let name = match other {
                    ast::ValueType::String => "string",
                    _ => "range vector",
                };
                return Err(QueryError::Execution(format!(
                    "invalid expression type \"{name}\" for range query, must be Scalar or instant Vector"
                )));
            }
        }
        self.run(storage, &expr, start, end, step, true)
    }

    /// Evaluates an already parsed expression (rules evaluate parsed expressions).
    pub fn eval_expr(
        &self,
        storage: &dyn Queryable,
        expr: &ast::Expr,
        start: i64,
        end: i64,
        step: i64,
        range: bool,
    ) -> Result<QueryResult, QueryError> {
        self.run(storage, expr, start, end, step.max(1), range)
    }

    fn run(
        &self,
        storage: &dyn Queryable,
        expr: &ast::Expr,
        start: i64,
        end: i64,
        step: i64,
        range: bool,
    ) -> Result<QueryResult, QueryError> {
        // `step()` and `range()` in durations depend on the query (0 for instant ones).
        let resolved;
        let expr = if expr.has_duration_exprs() {
            let mut e = expr.clone();
            e.resolve_durations(if range { step } else { 0 }, end - start)
                .map_err(QueryError::Execution)?;
            resolved = e;
            &resolved
        } else {
            expr
        };
        let step = step.max(1);
        let mut ev = eval::Evaluator {
            storage,
            opts: &self.opts,
            query_start: start,
            query_end: end,
            deadline: std::time::Instant::now() + self.opts.timeout,
            samples_loaded: 0,
            queryable_samples: 0,
            warnings: Vec::new(),
            infos: Vec::new(),
            is_range: range,
        };
        let grid = eval::Grid { start, end, step };
        let value = eval::eval_value(&mut ev, expr, grid, range)?;
        let samples_read = ev.samples_loaded as u64;
        Ok(QueryResult {
            value,
            warnings: ev.warnings,
            infos: ev.infos,
            samples: SampleStats {
                total_queryable: self
                    .opts
                    .count_queryable_samples
                    .then_some(ev.queryable_samples),
                read: samples_read,
                peak: samples_read,
            },
        })
    }
}
