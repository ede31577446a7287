//! The data model every other Watchfire crate speaks.
//!
//! A time series is identified by its [`Labels`]: a set of name/value pairs kept sorted
//! by name, with the metric name stored under [`METRIC_NAME`] like Prometheus does.
//! Samples are millisecond timestamps with a float value ([`Sample`]); Prometheus'
//! staleness marker is a particular NaN bit pattern ([`STALE_NAN`]) that must survive
//! storage bit for bit. [`Matcher`]s select series the way PromQL selectors do, with
//! fully anchored regular expressions.
//!
//! [`SymbolTable`] interns label strings so that stores holding millions of series pay
//! for each distinct string once.
//!
//! Native histograms are not modelled yet; [`ValueType`] is where they will join.
#![deny(missing_docs)]

mod duration;
mod gofmt;
mod labels;
mod matcher;
mod sample;
mod symbols;

pub use duration::{format_duration_ms, parse_duration_ms};
pub use gofmt::{
    format_go_float, format_go_float_e, format_go_float_f, go_query_escape, go_query_escape_into,
    go_quote,
};
pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use sample::{
    STALE_NAN, STALE_NAN_BITS, Sample, SeriesRef, Timestamp, ValueType, is_stale_nan,
};
pub use symbols::{SymbolId, SymbolTable};
