//! PromQL for Watchfire: parsing and evaluation with Prometheus 3 semantics.
//!
//! The engine reads data only through the `watchfire-storage` traits, never the TSDB.
#![deny(missing_docs)]

mod value;

pub use value::{QueryError, QueryResult, RangeSeries, Value, VectorSample};

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
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            timeout: Duration::from_secs(120),
            max_samples: 50_000_000,
        }
    }
}

/// Evaluates PromQL queries.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// An engine with these options.
    pub fn new(opts: EngineOptions) -> Self {
        Engine { opts }
    }

    /// The options in force.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at time `t` (ms).
    pub fn instant_query(&self, _storage: &dyn Queryable, query: &str, _t: i64) -> Result<QueryResult, QueryError> {
        Err(QueryError::Unsupported(format!("evaluation is being written: {query}")))
    }

    /// Evaluates `query` at every `step` from `start` to `end` (ms, inclusive).
    pub fn range_query(
        &self,
        _storage: &dyn Queryable,
        query: &str,
        _start: i64,
        _end: i64,
        _step: i64,
    ) -> Result<QueryResult, QueryError> {
        Err(QueryError::Unsupported(format!("evaluation is being written: {query}")))
    }
}
