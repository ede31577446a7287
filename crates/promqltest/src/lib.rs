//! Runner for Prometheus' PromQL test scripts (the `promqltest` format) against any
//! [`Engine`] and any store that implements the `watchfire-storage` traits.
//!
//! A script loads series (`load 5m` and lines like `metric{a="b"} 1+2x3 _ stale`),
//! evaluates queries (`eval instant at 10m ...`, `eval range from 0 to 1h step 5m
//! ...`) and states the expected result, annotations or error. [`run_script`]
//! runs one script and reports each eval as passed, failed (with expected and
//! actual results) or skipped: skipped evals are those the engine answers with
//! [`QueryError::Unsupported`](watchfire_promql::QueryError::Unsupported), those
//! using feature-flagged PromQL syntax the engine does not parse, and those
//! involving native histograms or start timestamps, which Watchfire cannot store.
//! Like Prometheus' runner, queries are parsed with every experimental parser
//! feature enabled ([`ParseOptions::all`](watchfire_promql::ParseOptions::all)).
//!
//! Differences from Prometheus' runner: an eval failure does not stop the script;
//! the extra instant-query runs with `@` added to every selector are not made (they
//! need a PromQL parser); the range-mode re-run of instant queries is.
#![deny(missing_docs)]

mod compare;
mod notation;
mod runner;
mod script;

pub use compare::{EPSILON, almost_equal, fmt_labels};
pub use notation::{SeqValue, parse_duration, parse_series, parse_values};
pub use script::{
    Command, Eval, EvalKind, Expect, ExpectKind, Expected, ExpectedSeries, Load, LoadSeries,
    MessageMatch, parse_script,
};

use watchfire_promql::Engine;
use watchfire_storage::{Appendable, Queryable};

/// A store the runner can load samples into and query.
pub trait TestStorage: Appendable + Queryable {}

impl<T: Appendable + Queryable + ?Sized> TestStorage for T {}

/// How one eval (or a broken command) turned out.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The result matched.
    Passed,
    /// The result did not match.
    Failed {
        /// What the script expects, rendered one series per line.
        expected: String,
        /// What differs (first line) and what the engine returned.
        got: String,
    },
    /// Not run to a verdict.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// The outcome of one eval.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// 1-based line of the `eval` (or of the broken command).
    pub line: usize,
    /// The query (or the broken line).
    pub expr: String,
    /// What happened.
    pub outcome: Outcome,
}

/// The outcomes of a script's evals, in script order, with totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScriptReport {
    /// Every eval, plus loads whose samples were rejected and commands that did
    /// not parse (both counted as failures).
    pub evals: Vec<EvalReport>,
    /// Evals that passed.
    pub passed: usize,
    /// Evals that failed.
    pub failed: usize,
    /// Evals skipped.
    pub skipped: usize,
}

impl ScriptReport {
    /// Records one outcome.
    pub fn push(&mut self, r: EvalReport) {
        match r.outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed { .. } => self.failed += 1,
            Outcome::Skipped { .. } => self.skipped += 1,
        }
        self.evals.push(r);
    }

    /// The failed evals.
    pub fn failures(&self) -> impl Iterator<Item = &EvalReport> {
        self.evals
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Failed { .. }))
    }
}

/// Runs a script.
///
/// `new_storage` is called for a fresh, empty store before the first command that
/// needs one and again after every `clear`; a store is dropped when it is cleared
/// or the script ends. `load` appends its samples at `i * step` through one
/// appender and commits.
pub fn run_script(
    text: &str,
    engine: &Engine,
    new_storage: &mut dyn FnMut() -> Box<dyn TestStorage>,
) -> ScriptReport {
    runner::run(text, engine, new_storage)
}
