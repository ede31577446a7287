//! Fast, zero-copy parsers for the Prometheus text exposition format (0.0.4) and the
//! OpenMetrics 1.0 text format.
//!
//! ```
//! use watchfire_textparse::{Entry, Format, Parser};
//!
//! let body = b"# TYPE http_requests_total counter\n\
//!              http_requests_total{code=\"200\",path=\"/\"} 1027 1395066363000\n";
//! let mut samples = 0;
//! for entry in Parser::new(body, Format::PrometheusText) {
//!     match entry.expect("valid exposition") {
//!         Entry::Sample(s) => {
//!             assert_eq!(s.series, &b"http_requests_total{code=\"200\",path=\"/\"}"[..]);
//!             assert_eq!(s.labels[0].1, "200");
//!             assert_eq!(s.timestamp_ms, Some(1395066363000));
//!             samples += 1;
//!         }
//!         Entry::Type { family, .. } => assert_eq!(family, "http_requests_total"),
//!         _ => {}
//!     }
//! }
//! assert_eq!(samples, 1);
//! ```
//!
//! # Design
//!
//! * **One pass, one line per entry.** [`Parser`] walks the input bytes once with a
//!   hand-written scanner (byte-class tables, no regexes, no tokenizer allocations).
//!   Each call to [`Parser::next_entry`] consumes exactly one line, and blank lines and
//!   plain comments are skipped without producing entries.
//! * **Zero-copy.** The whole input is checked for UTF-8 once (the standard library's
//!   validator, which is far faster than the parse itself); every name, label and
//!   text returned is then a `&str` or `Cow::Borrowed` slice of the input. Only label
//!   values or names holding an escape sequence, and HELP text holding one, are
//!   copied. Per sample, the only allocation is the labels `Vec` (none for a sample
//!   without labels).
//! * **Cache key.** [`SampleEntry::series`] is the exact byte range `name{labels}` of
//!   the line (from the first byte of the name, or of `{` when the name is quoted
//!   inside the braces, to the closing brace), so a scrape cache can look up a series
//!   before looking at its parsed labels. [`Parser::next_entry_skipping`] goes one
//!   step further: it locates the series bytes with a quote-aware scan, asks the
//!   caller whether they are known, and for known ones skips label parsing (and the
//!   labels `Vec`) altogether.
//! * **Numbers.** Values follow Go's `strconv.ParseFloat` (what Prometheus uses) with
//!   a fast path for the common short decimals; out-of-range literals such as `1e400`
//!   are errors, every NaN is returned as [`f64::NAN`] so that a target can never
//!   forge Prometheus' staleness marker. Text-format timestamps are integer
//!   milliseconds; OpenMetrics timestamps are float seconds, converted exactly for
//!   plain decimals and rounded to the nearest millisecond.
//! * **Errors.** The first error ends the iteration (later calls return `None`); it
//!   carries a 1-based line and 1-based *byte* column. No input, including invalid
//!   UTF-8, makes the parser panic; invalid UTF-8 anywhere (comments included) is
//!   reported at the line and column of the first bad byte.
//!
//! # Prometheus text format 0.0.4
//!
//! Modelled on what Prometheus' own parser accepts, never stricter where it matters:
//! any run of spaces and tabs separates tokens (also inside `{…}`), leading and
//! trailing whitespace is ignored, blank lines and `#` comments are skipped, CRLF line
//! ends are accepted, and the final newline may be missing. `# HELP` and `# TYPE` may
//! appear anywhere and in any number (no ordering rules are enforced). The TYPE must
//! be `counter`, `gauge`, `histogram`, `summary` or `untyped` (reported as
//! [`MetricType::Unknown`]). HELP text is the rest of the line after one separating
//! blank, with `\\` and `\n` unescaped. As in Prometheus, the comma between labels may
//! be omitted. Deliberate differences: a raw newline inside a quoted string is an
//! error (it would desynchronise line numbers), and timestamps may carry a sign.
//!
//! # OpenMetrics 1.0
//!
//! Tokens on a sample line are separated by exactly one space; blank lines and comments
//! other than `# HELP`, `# TYPE`, `# UNIT` and `# EOF` are errors. The exposition must
//! end with `# EOF` (optionally followed by one newline): its absence is the error
//! `missing # EOF` and anything after it is an error too. For each metric family,
//! `TYPE`, `HELP` and `UNIT` may each appear once and only before the family's first
//! sample; a sample belongs to the family whose metadata precedes it when its name is
//! the family name or the family name plus a suffix allowed by the type (`_total`,
//! `_created`, `_bucket`, `_count`, `_sum`, `_gcount`, `_gsum`, `_info`). Sample
//! names are returned as written (`foo_total` stays `foo_total`). A `UNIT` must be a
//! suffix of the family name. Exemplars (` # {labels} value [timestamp]`) are parsed
//! on any sample; their 128-character label limit is left to the caller, like
//! Prometheus, which drops such exemplars rather than failing the scrape. As an
//! extension, spaces are tolerated inside a label set.
//!
//! # Names
//!
//! Metric names are `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`;
//! either may instead be a quoted UTF-8 string (Prometheus 3 syntax). A quoted metric
//! name goes inside the braces, alone: `{"my.metric", "my.label"="v"} 1`. Quoted names
//! are unescaped like label values, except in `# HELP`/`# TYPE`/`# UNIT` lines, where
//! [`Entry`] borrows the family name as written between the quotes (as Prometheus
//! does). Label sets may be empty (`m{} 1`) and may end with a comma. Duplicate label
//! names, and a label called `__name__`, are errors.
#![deny(missing_docs)]

mod escape;
mod number;
mod parser;
mod sample;

use std::borrow::Cow;
use std::fmt;

use watchfire_model::{Label, Labels, METRIC_NAME};

pub use parser::Parser;

/// The exposition format of a scrape body or file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// The Prometheus text format, version 0.0.4 (`text/plain; version=0.0.4`).
    #[default]
    PrometheusText,
    /// The OpenMetrics 1.0 text format (`application/openmetrics-text`).
    OpenMetrics,
}

impl Format {
    /// Picks the format from an HTTP `Content-Type` header value:
    /// `application/openmetrics-text` (any parameters, any case) is
    /// [`Format::OpenMetrics`], everything else [`Format::PrometheusText`].
    pub fn from_content_type(ct: &str) -> Format {
        let media_type = ct.split(';').next().unwrap_or("").trim();
        if media_type.eq_ignore_ascii_case("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::PrometheusText
        }
    }
}

/// The type declared by a `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// `counter`.
    Counter,
    /// `gauge`.
    Gauge,
    /// `histogram`.
    Histogram,
    /// `gaugehistogram` (OpenMetrics only).
    GaugeHistogram,
    /// `summary`.
    Summary,
    /// `info` (OpenMetrics only).
    Info,
    /// `stateset` (OpenMetrics only).
    StateSet,
    /// `unknown` in OpenMetrics, `untyped` in the text format.
    Unknown,
}

impl MetricType {
    /// The OpenMetrics spelling of the type (`unknown` for the text format's
    /// `untyped`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One label pair as parsed: borrowed from the input unless it held escapes.
pub type LabelPair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// One meaningful line of an exposition.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// `# TYPE family kind`.
    Type {
        /// The metric family name.
        family: &'a str,
        /// The declared type.
        kind: MetricType,
    },
    /// `# HELP family text`.
    Help {
        /// The metric family name.
        family: &'a str,
        /// The help text, unescaped.
        text: Cow<'a, str>,
    },
    /// `# UNIT family unit` (OpenMetrics only).
    Unit {
        /// The metric family name.
        family: &'a str,
        /// The unit, possibly empty.
        unit: &'a str,
    },
    /// A sample line.
    Sample(SampleEntry<'a>),
    /// The OpenMetrics `# EOF` line; always the last entry of an OpenMetrics input.
    Eof,
}

/// A parsed sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleEntry<'a> {
    /// The raw bytes of `name{labels}` exactly as in the input, for use as a cache key.
    pub series: &'a [u8],
    /// The metric name, unescaped when it was quoted.
    pub name: Cow<'a, str>,
    /// The labels in input order, unescaped; `__name__` is not among them.
    pub labels: Vec<LabelPair<'a>>,
    /// The sample value.
    pub value: f64,
    /// The timestamp in milliseconds since the epoch, if the line has one.
    pub timestamp_ms: Option<i64>,
    /// The exemplar (OpenMetrics only).
    pub exemplar: Option<Exemplar<'a>>,
    /// The 1-based line number of the sample.
    pub line: usize,
}

impl SampleEntry<'_> {
    /// The series' label set, with the metric name under `__name__`. Labels with an
    /// empty value are dropped, as Prometheus treats them as absent.
    pub fn to_labels(&self) -> Labels {
        build_labels(Some(&self.name), &self.labels)
    }
}

/// An OpenMetrics exemplar: ` # {labels} value [timestamp]` after a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// The exemplar's labels in input order, unescaped.
    pub labels: Vec<LabelPair<'a>>,
    /// The exemplar value.
    pub value: f64,
    /// The exemplar timestamp in milliseconds, if present.
    pub timestamp_ms: Option<i64>,
}

impl Exemplar<'_> {
    /// The exemplar's label set (labels with an empty value dropped).
    pub fn to_labels(&self) -> Labels {
        build_labels(None, &self.labels)
    }
}

fn build_labels(name: Option<&str>, pairs: &[LabelPair<'_>]) -> Labels {
    let mut v: Vec<Label> = Vec::with_capacity(pairs.len() + 1);
    if let Some(name) = name.filter(|n| !n.is_empty()) {
        v.push(Label::new(METRIC_NAME, name));
    }
    v.extend(
        pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(n, value)| Label::new(n.as_ref(), value.as_ref())),
    );
    v.sort_by(|a, b| a.name.cmp(&b.name));
    // The parser never yields duplicates, but the fields are public.
    v.dedup_by(|a, b| a.name == b.name);
    Labels::from_sorted_unchecked(v)
}

/// A syntax error, with its 1-based line and 1-based byte column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in bytes.
    pub column: usize,
    /// What went wrong.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let om = "application/openmetrics-text; version=1.0.0; charset=utf-8";
        assert_eq!(Format::from_content_type(om), Format::OpenMetrics);
        assert_eq!(
            Format::from_content_type("Application/OpenMetrics-Text"),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_content_type("text/plain; version=0.0.4"),
            Format::PrometheusText
        );
        assert_eq!(Format::from_content_type(""), Format::PrometheusText);
    }

    #[test]
    fn error_display() {
        let e = ParseError {
            line: 3,
            column: 14,
            message: "expected '=' after label name \"job\"".into(),
        };
        assert_eq!(
            e.to_string(),
            "line 3, column 14: expected '=' after label name \"job\""
        );
    }

    #[test]
    fn to_labels_sorts_and_drops_empty() {
        let s = SampleEntry {
            series: b"",
            name: "m".into(),
            labels: vec![("b".into(), "2".into()), ("a".into(), "".into())],
            value: 1.0,
            timestamp_ms: None,
            exemplar: None,
            line: 1,
        };
        assert_eq!(s.to_labels().to_string(), r#"{__name__="m", b="2"}"#);
    }
}
