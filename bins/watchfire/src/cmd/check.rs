//! `watchfire check ...` and `watchfire routes ...`: configuration checks with
//! the output and exit codes of `promtool check` and `amtool`.

use crate::cli::{CheckCommand, RoutesCommand};
use std::process::ExitCode;

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Runs a `check` subcommand.
pub fn check(cmd: CheckCommand) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let code = match cmd {
        CheckCommand::Config { files } => {
            let mut err = std::io::stderr().lock();
            let check_rules = |path: &std::path::Path| -> Result<usize, String> {
                match watchfire_rules::load_rule_files(&[path.to_path_buf()]) {
                    Ok(groups) => Ok(groups.iter().map(|g| g.rules.len()).sum()),
                    Err(errors) => Err(errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")),
                }
            };
            watchfire_config::check_config_command(&files, &mut out, &mut err, &check_rules)
        }
        CheckCommand::Rules { files } => watchfire_rules::check_rules_command(&files, &mut out),
        CheckCommand::Alertmanager { files } => {
            watchfire_alertmanager_config::check_config_command(&files, &mut out)
        }
    };
    Ok(exit(code))
}

/// Runs a `routes` subcommand.
pub fn routes(cmd: RoutesCommand) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let code = match cmd {
        RoutesCommand::Test {
            config,
            verify_receivers,
            tree,
            explain,
            labels,
        } => watchfire_alertmanager_config::routes_test_command(
            &config,
            &labels,
            verify_receivers.as_deref(),
            tree,
            explain,
            &mut out,
        ),
        RoutesCommand::Show { config } => {
            watchfire_alertmanager_config::routes_show_command(&config, &mut out)
        }
    };
    Ok(exit(code))
}
