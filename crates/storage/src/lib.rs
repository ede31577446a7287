//! The storage contract between Watchfire's producers, consumers and stores.
//!
//! Producers (scrape loops, rule evaluation, backfill) write through an [`Appender`]:
//! they append a whole scrape's samples and then [`Appender::commit`] or
//! [`Appender::rollback`] them as one unit. Consumers (the PromQL engine, the HTTP
//! API) read through a [`Querier`] bound to a time range; it selects series with
//! [`Matcher`]s and streams their samples through [`SampleIterator`]s. Bulk readers
//! take samples a batch at a time ([`SampleIterator::next_batch`]): iterators are
//! boxed and chained across blocks, and a dynamic call or two per sample would cost
//! more than handing the sample over.
//!
//! This crate holds traits and small generic helpers only. The PromQL engine and the
//! HTTP layer depend on it and never on the TSDB that implements it, so engines and
//! stores can be tested and swapped independently.
#![deny(missing_docs)]

mod error;
mod merge;
mod series;

pub use error::{AppendError, StorageError};
pub use merge::{ChainedSampleIterator, merge_series_sets};
pub use series::{SampleIterator, Series, SeriesSet, VecSampleIterator, VecSeriesSet};

use watchfire_model::{Labels, Matcher, SeriesRef, Timestamp};

/// Writes samples transactionally.
///
/// Samples appended are invisible to queriers until [`commit`](Appender::commit);
/// [`rollback`](Appender::rollback) discards them. An appender dropped without either
/// rolls back.
pub trait Appender: Send {
    /// Appends one float sample.
    ///
    /// `series` is a reference returned by an earlier append for the same labels; it
    /// lets the store skip the label lookup. When it is `None` or unknown the store
    /// resolves `labels`. Returns the series' reference, or why the sample was
    /// rejected; a rejected sample does not spoil the rest of the transaction.
    fn append(
        &mut self,
        series: Option<SeriesRef>,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, AppendError>;

    /// Makes every accepted sample durable (written to the WAL) and visible.
    fn commit(&mut self) -> Result<CommitSummary, StorageError>;

    /// Discards every sample appended since the last commit.
    fn rollback(&mut self);
}

/// What a commit stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitSummary {
    /// Samples made durable and visible.
    pub samples: usize,
    /// Series created by this transaction.
    pub new_series: usize,
}

/// Something that hands out appenders.
pub trait Appendable: Send + Sync {
    /// A new, empty transaction.
    fn appender(&self) -> Box<dyn Appender + '_>;
}

/// Hints that let a store avoid work; a store may ignore them.
#[derive(Debug, Clone, Default)]
pub struct SelectHints {
    /// Earliest timestamp the caller will read.
    pub start: Timestamp,
    /// Latest timestamp the caller will read.
    pub end: Timestamp,
    /// The caller only needs labels, not samples (series API).
    pub labels_only: bool,
}

/// Reads series from a fixed time range `[mint, maxt]` (both inclusive).
pub trait Querier: Send + Sync {
    /// Series matching every matcher, sorted by labels, with samples in the range.
    ///
    /// Series whose samples in the range are all outside the hint window may still
    /// be returned with an empty iterator.
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<SeriesSet, StorageError>;

    /// Label names of series matching `matchers` (all series when empty), sorted.
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;

    /// Values of label `name` among series matching `matchers`, sorted.
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;
}

/// Something that opens queriers.
pub trait Queryable: Send + Sync {
    /// A querier over `[mint, maxt]`, both inclusive, in milliseconds.
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError>;
}

/// Series counts for cardinality pages and `tsdb analyze`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardinalityStats {
    /// Series in the head (in memory).
    pub num_series: u64,
    /// Earliest sample time in the head, if any.
    pub min_time: Option<Timestamp>,
    /// Latest sample time in the head, if any.
    pub max_time: Option<Timestamp>,
    /// Metric names with the most series, descending.
    pub series_count_by_metric_name: Vec<(String, u64)>,
    /// Label names with the most distinct values, descending.
    pub label_value_count_by_label_name: Vec<(String, u64)>,
    /// `name=value` pairs with the most series, descending.
    pub series_count_by_label_value_pair: Vec<(String, u64)>,
    /// Label names by the memory their values take, descending.
    pub memory_in_bytes_by_label_name: Vec<(String, u64)>,
}

/// A store that can describe its cardinality.
pub trait CardinalitySource: Send + Sync {
    /// The top `limit` entries of each list.
    fn cardinality(&self, limit: usize) -> CardinalityStats;
}
