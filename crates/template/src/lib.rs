//! Go `text/template`-compatible templating for Watchfire's alerting rules
//! (Prometheus semantics) and notifications (Alertmanager semantics).
//!
//! # Design
//!
//! Parsing and execution are done by the `gotmpl` crate. Between the two this
//! crate runs three passes over gotmpl's public AST:
//!
//! 1. **Checks** Go's parser does and gotmpl does not (`check.rs`): block
//!    structure (`unexpected {{end}}`, `unexpected EOF`), unknown functions
//!    (`function "x" not defined`) and undefined variables, so rule files are
//!    rejected at load time like Prometheus does.
//! 2. **Rewrite** (`rewrite.rs`): field chains become calls of one function
//!    that emulates Go's reflection (methods such as `.Alerts.Firing`,
//!    `.CommonLabels.SortedPairs`, `.StartsAt.Format`, `missingkey=zero`),
//!    calls of our functions carry a source-position id so errors read like
//!    Go's `template: NAME:LINE:COL: executing ... at <node>: ...`, and every
//!    printing action ends in a formatter that prints floats like Go's `%v`
//!    (`1e+06`, `+Inf`), which gotmpl's `Display` does not.
//! 3. **Functions**: Prometheus' and Alertmanager's function sets, plus our
//!    own `print`/`printf`/`println`/`index` with Go formatting (`gofmt.rs`).
//!
//! Go values without a gotmpl equivalent are carried as strings: a
//! `time.Time` is its `Time.String()` text and a `time.Duration` its
//! `Duration.String()` text; functions and methods parse them back
//! (`gotime.rs`).
//!
//! Entry points: [`expand_rule_template`] / [`validate_rule_template`] for the
//! rules engine and [`NotificationTemplates`] for notifiers.
#![deny(missing_docs)]

mod check;
mod engine;
mod error;
mod fields;
mod funcs;
mod gofmt;
mod gotime;
mod notify;
mod notify_funcs;
mod rewrite;
mod rule;

pub use error::TemplateError;
pub use notify::{AlertData, NotificationData, NotificationTemplates};
pub use rule::{
    QueryFn, QuerySample, RuleTemplateData, expand_rule_template, validate_rule_template,
};

/// Names of the functions rule templates may call (Prometheus' set plus Go's
/// builtins), sorted.
pub fn rule_function_names() -> Vec<&'static str> {
    engine::function_names(engine::Mode::Rule)
}

/// Names of the functions notification templates may call (Alertmanager's
/// set plus Go's builtins), sorted.
pub fn notification_function_names() -> Vec<&'static str> {
    engine::function_names(engine::Mode::Notify)
}
