//! Prometheus relabeling (`relabel_configs`, `metric_relabel_configs`,
//! `alert_relabel_configs`, `write_relabel_configs`).
//!
//! A [`RelabelConfig`] is one rule as written in `prometheus.yml`; it deserialises with
//! Prometheus' defaults (separator `;`, regex `(.*)`, replacement `$1`, action
//! `replace`) and [`RelabelConfig::validate`] applies Prometheus' validation rules.
//! [`process`] and [`process_builder`] apply a list of rules in order and report
//! whether the label set survived.
//!
//! Design notes:
//! - Regexes are fully anchored as `^(?s:...)$` ([`Regex`]), so `.` matches newlines,
//!   exactly like Prometheus 3.
//! - Replacement templates are expanded with Go's `regexp.Expand` rules (`$1x` is the
//!   group *named* `1x`, unknown groups expand to nothing, `$$` is a literal `$`),
//!   implemented in [`Regex::expand`], rather than with the `regex` crate's own
//!   expansion which differs in corner cases.
//! - Rules run against a small working set that mirrors Go's `labels.Builder`
//!   (base labels plus ordered additions and deletions), because the order in which
//!   `labelmap` visits labels decides which value wins when two labels map to the same
//!   name.
#![deny(missing_docs)]

mod config;
mod expand;
mod process;

pub use config::{Action, NameValidation, Regex, RelabelConfig};
pub use process::{process, process_builder};

/// A relabel rule is invalid.
#[derive(Debug, thiserror::Error)]
pub enum RelabelError {
    /// The regular expression does not compile.
    #[error("invalid regex {pattern:?}: {}", short_regex_error(source))]
    Regex {
        /// The pattern as written (without the anchors Watchfire adds).
        pattern: String,
        /// The compile error.
        source: Box<regex::Error>,
    },
    /// The rule breaks one of Prometheus' validation rules; the message is
    /// Prometheus' own wording.
    #[error("{0}")]
    Invalid(String),
}

/// The `regex` crate renders parse errors over several lines with a caret diagram;
/// configuration errors are one line, so keep only the final description.
fn short_regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    match text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
    {
        Some(desc) => desc.to_owned(),
        None => text.lines().map(str::trim).collect::<Vec<_>>().join(" "),
    }
}
