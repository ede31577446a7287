//! Watchfire's model of an embedded Alertmanager: its configuration and the pure logic
//! that the dispatcher, notifiers and API build on. No I/O beyond reading the config file,
//! no async.
//!
//! * [`Config`] is `alertmanager.yml` as Alertmanager 0.27+ reads it. Decoding uses
//!   serde-saphyr with `deny_unknown_fields`; values validate while decoding (durations,
//!   URLs, matchers, time ranges), so errors read `file:line:column: field.path: message`.
//!   Alertmanager's cross-field checks follow (undefined receivers/time intervals, root
//!   route rules, duplicate names), then global defaults are filled into receivers the way
//!   Alertmanager does. Settings accepted but not acted on (SNS `sigv4.role_arn`,
//!   `tracing`) are named in [`Config::warnings`]. Secrets serialise as `<secret>`;
//!   `original` keeps the text. [`Config::load_file`] then joins the relative paths Alertmanager resolves (template
//!   globs, every `http_config`) with the file's directory; other `*_file` settings stay
//!   relative to the working directory, as in Alertmanager.
//! * [`Matchers`] parses both matcher syntaxes in Alertmanager's fallback mode and prints
//!   the canonical form used in route keys and silences.
//! * [`RouteTree`] flattens the route tree with inherited options, matches alerts exactly
//!   like `Route.Match` (depth first, `continue`), and builds route keys and group keys.
//! * [`TimeInterval`] answers "is this instant inside?", [`InhibitRule`] "is this target
//!   inhibited by these sources?".
//! * [`commands`] re-implements `amtool check-config` and `amtool config routes`.
#![deny(missing_docs)]

pub mod commands;
mod config;
mod error;
mod inhibit;
mod matchers;
mod paths;
mod receivers;
mod receivers_chat_paging;
mod receivers_jira;
mod receivers_wechat_sns;
mod routing;
mod timeinterval;
mod values;

pub use commands::{
    check_config_command, parse_label_args, routes_show_command, routes_test_command,
};
pub use config::{
    Config, GlobalConfig, GroupBy, InhibitRuleConfig, MatchMap, MatchReMap, MatcherList,
    RouteConfig,
};
pub use error::ConfigError;
pub use inhibit::{InhibitRule, is_inhibited};
pub use matchers::{
    DisplayMatcher, LabelSource, MatchOp, Matcher, Matchers, matcher_to_string,
    parse_classic_matchers, parse_matcher, parse_matchers, parse_utf8_matchers, sort_matchers,
};
pub use receivers::*;
pub use receivers_chat_paging::*;
pub use receivers_jira::{JiraConfig, JiraFieldConfig};
pub use receivers_wechat_sns::{SigV4Config, SnsConfig, WechatConfig};
pub use routing::{
    Route, RouteId, RouteOpts, RouteTree, label_set_string, render_matching_tree, render_tree,
};
pub use timeinterval::{NamedTimeInterval, Range, TimeInterval, TimeRange};
pub use values::*;
