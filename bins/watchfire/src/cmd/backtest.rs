//! `watchfire rules backtest`: replays alerting rules over stored history with
//! the real state machine and prints each alert's transitions.

use crate::cli::RulesCommand;
use anyhow::Context;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use watchfire_tsdb::{Db, Options};

/// Runs a `rules` subcommand.
pub fn run(cmd: RulesCommand) -> anyhow::Result<ExitCode> {
    let RulesCommand::Backtest {
        rules,
        from,
        to,
        step,
        data_dir,
        json,
    } = cmd;
    let from_ms =
        watchfire_web_api::params::parse_time(&from).map_err(|e| anyhow::anyhow!("--from: {e}"))?;
    let to_ms = match to {
        Some(t) => {
            watchfire_web_api::params::parse_time(&t).map_err(|e| anyhow::anyhow!("--to: {e}"))?
        }
        None => jiff::Timestamp::now().as_millisecond(),
    };
    if to_ms < from_ms {
        anyhow::bail!("--to must not be before --from");
    }
    let step_ms = i64::try_from(step.as_millis()).unwrap_or(i64::MAX).max(1);
    let groups = match watchfire_rules::load_rule_files(&rules) {
        Ok(g) => g,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    let (db, _) = Db::open(&data_dir, Options::default())
        .with_context(|| format!("opening storage at {}", data_dir.display()))?;
    let db = Arc::new(db);
    let transitions = watchfire_rules::backtest(&groups, db.clone(), from_ms, to_ms, step_ms);
    let mut out = std::io::stdout().lock();
    for t in &transitions {
        if json {
            let line = serde_json::json!({
                "time": format_ms(t.t), "file": t.file, "group": t.group,
                "alertname": t.alertname, "state": t.state, "labels": t.labels,
                "annotations": t.annotations, "activeAt": format_ms(t.active_at),
                "value": t.value,
            });
            writeln!(out, "{line}")?;
        } else {
            let labels: Vec<String> = t.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            writeln!(
                out,
                "{} {:<8} {} {{{}}} value={}",
                format_ms(t.t),
                t.state,
                t.alertname,
                labels.join(", "),
                watchfire_model::format_go_float(t.value)
            )?;
            for (k, v) in &t.annotations {
                writeln!(out, "    {k}: {v}")?;
            }
        }
    }
    if !json {
        writeln!(out, "{} transitions", transitions.len())?;
    }
    drop(out);
    Arc::try_unwrap(db)
        .map_err(|_| anyhow::anyhow!("storage still in use"))?
        .close()
        .context("closing storage")?;
    Ok(ExitCode::SUCCESS)
}

fn format_ms(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}
