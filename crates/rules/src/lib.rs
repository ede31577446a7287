//! Prometheus 3 recording and alerting rules for Watchfire.
//!
//! Layers, each its own module:
//! - [`file`]: rule files (`groups:`) decoded with serde-saphyr and validated
//!   like Prometheus' `rulefmt`, errors at `line:column`.
//! - [`rule`] / [`alerting`]: recording rules and the alert state machine
//!   (inactive → pending → firing, `keep_firing_for`, 15m resolved retention).
//! - [`group`]: a group at run time. Rules run in order and each rule's output
//!   is committed before the next runs, so later rules see it; series a rule
//!   stops producing get staleness markers; `for` state is restored from
//!   `ALERTS_FOR_STATE`. Time is explicit (`eval(ts)`) and the wall clock is a
//!   [`Clock`], so timing is testable.
//! - [`manager`]: one thread per group, at a stable offset inside its interval
//!   (hash of file and name), counting missed iterations; reloads keep state.
//! - [`state`]: alert state saved to and loaded from a JSON file (beyond
//!   Prometheus); it takes precedence over the `ALERTS_FOR_STATE` restore.
//! - [`notify`]: the [`AlertSender`] contract and Prometheus' sending rules;
//!   [`http_sender`] posts to Alertmanager's v2 API.
//! - [`api`]: `/api/v1/rules` and `/api/v1/alerts` data.
//! - [`promtool`]: `check rules` and `test rules` with promtool's output.
//! - [`backtest`]: replays alerting rules over stored history.
//! - [`memstore`]: a small in-memory store (unit tests, backtests).
#![deny(missing_docs)]

pub mod alerting;
pub mod api;
pub mod backtest;
pub mod file;
pub mod group;
pub mod http_sender;
pub mod manager;
pub mod memstore;
pub mod notify;
pub mod promtool;
pub mod rule;
pub mod state;
mod yamlerr;

pub use alerting::{Alert, AlertState, AlertingRule};
pub use api::{AlertDiscovery, RuleDiscovery, RulesFilter, alerts_snapshot, rules_snapshot};
pub use backtest::{AlertTransition, backtest};
pub use file::{
    RuleDef, RuleGroup, RuleKind, load_rule_files, load_rule_files_with, parse_rules,
    parse_rules_with,
};
pub use group::{Clock, Group, RuleOptions, SystemClock};
pub use http_sender::{HttpAlertSender, HttpSenderConfig};
pub use manager::RuleManager;
pub use memstore::MemStorage;
pub use notify::{AlertSender, OutgoingAlert};
pub use promtool::{check_rules_command, test_rules_command};
pub use rule::{Health, RecordingRule, Rule};
pub use state::{load_state, save_state};

/// Errors of this crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    /// A rule file could not be read or is invalid; `message` is worded like
    /// Prometheus (`7:15: group "g", rule 1, "x": could not parse expression: ...`).
    #[error("{file}: {message}")]
    File {
        /// The file as given.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The alert state file could not be written or read.
    #[error("alert state {path}: {message}")]
    State {
        /// The state file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// Sending alerts failed.
    #[error("sending alerts to {url}: {message}")]
    Send {
        /// The Alertmanager URL.
        url: String,
        /// What went wrong.
        message: String,
    },
}

/// An I/O error worded like Go's (`open x: no such file or directory`).
pub(crate) fn go_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
