//! promtool-compatible commands: `check rules` and `test rules`.

mod check;
mod fmt;
mod unittest;

pub use check::check_rules_command;
pub use fmt::{go_duration, model_duration};
pub use unittest::test_rules_command;
