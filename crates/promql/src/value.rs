//! Query results.

use watchfire_model::Labels;

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    /// Series labels (metric name dropped where PromQL drops it).
    pub labels: Labels,
    /// Evaluation timestamp (ms).
    pub t: i64,
    /// Value.
    pub v: f64,
}

/// One series of a range result.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// Series labels.
    pub labels: Labels,
    /// `(timestamp ms, value)` points in time order.
    pub points: Vec<(i64, f64)>,
}

/// The value of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar at a timestamp.
    Scalar {
        /// Timestamp (ms).
        t: i64,
        /// Value.
        v: f64,
    },
    /// A string at a timestamp.
    String {
        /// Timestamp (ms).
        t: i64,
        /// Value.
        v: String,
    },
    /// An instant vector.
    Vector(Vec<VectorSample>),
    /// A range vector (instant query of a matrix selector) or a range query result.
    Matrix(Vec<RangeSeries>),
}

/// A result with Prometheus-style annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The value.
    pub value: Value,
    /// Warnings (e.g. a histogram quantile over broken buckets).
    pub warnings: Vec<String>,
    /// Infos (e.g. `rate` on a metric not named like a counter).
    pub infos: Vec<String>,
    /// How many samples the query touched.
    pub samples: SampleStats,
}

/// Sample counts of one query, as the API's `stats` parameter reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleStats {
    /// Prometheus' `totalQueryableSamples`: the samples each step's selectors see
    /// (a sample in the windows of five steps counts five times). `None` unless
    /// [`crate::EngineOptions::count_queryable_samples`] is set.
    pub total_queryable: Option<u64>,
    /// Samples decoded from storage, each once per selector (`samplesRead`).
    pub read: u64,
    /// Most samples held at once. Selectors load their samples for all steps up
    /// front, so this is what they loaded: the figure the `max_samples` limit is
    /// checked against (Prometheus counts per step and reports less).
    pub peak: u64,
}

/// Why a query failed, with Prometheus' error types.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// The query does not parse or type-check (`bad_data`).
    #[error("{position}: parse error: {message}")]
    Parse {
        /// `line:column` (1-based) of the problem, Prometheus style.
        position: String,
        /// What is wrong.
        message: String,
    },
    /// Evaluation failed (`execution`), e.g. a vector with duplicate label sets.
    #[error("{0}")]
    Execution(String),
    /// The query ran past its timeout (`timeout`).
    #[error("query timed out in {0}")]
    Timeout(String),
    /// Too many samples held at once (`execution`).
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(String),
    /// Reading storage failed (`internal`).
    #[error("storage: {0}")]
    Storage(String),
    /// A feature not built yet (e.g. native histograms).
    #[error("not supported: {0}")]
    Unsupported(String),
}
