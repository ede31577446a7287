//! `amtool`-compatible commands: `check-config`, `config routes test`, `config routes show`.

use crate::config::Config;
use crate::matchers::{MatchOp, parse_matcher};
use crate::routing::{RouteTree, render_matching_tree, render_tree};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Expands the template globs (already resolved against the config file's directory by
/// [`Config::load_file`]) and parses every file the way the runtime loads them, so a
/// template that would make the Alertmanager fail to start fails the check. The error
/// names the file and line like amtool: `template: NAME:LINE: MESSAGE`.
fn check_templates(globs: &[String]) -> Result<(), String> {
    // Glob syntax first, with amtool's message ("syntax error in pattern").
    for g in globs {
        glob::Pattern::new(g).map_err(|_| "syntax error in pattern".to_string())?;
    }
    watchfire_template::NotificationTemplates::new(globs, Path::new(""))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// `amtool check-config FILE...`: prints per-file results; returns 0 when all are valid, 1
/// otherwise (amtool's exit codes).
pub fn check_config_command(paths: &[PathBuf], out: &mut dyn Write) -> i32 {
    let mut failed = 0;
    for p in paths {
        let _ = write!(out, "Checking '{}'", p.display());
        match Config::load_file(p) {
            Err(e) => {
                let _ = writeln!(out, "  FAILED: {e}");
                failed += 1;
            }
            Ok(cfg) => {
                let _ = writeln!(out, "  SUCCESS");
                let _ = writeln!(out, "Found:");
                let _ = writeln!(out, " - global config");
                let _ = writeln!(out, " - route");
                let _ = writeln!(out, " - {} inhibit rules", cfg.inhibit_rules.len());
                let _ = writeln!(out, " - {} receivers", cfg.receivers.len());
                let _ = writeln!(out, " - {} templates", cfg.templates.len());
                if !cfg.templates.is_empty() {
                    match check_templates(&cfg.templates) {
                        Ok(()) => {
                            let _ = writeln!(out, "  SUCCESS");
                        }
                        Err(e) => {
                            let _ = writeln!(out, "  FAILED: {e}");
                            failed += 1;
                        }
                    }
                }
                for w in &cfg.warnings {
                    let _ = writeln!(out, "  WARNING: {w}");
                }
            }
        }
        let _ = writeln!(out);
    }
    if failed > 0 {
        let _ = writeln!(out, "failed to validate {failed} file(s)");
        1
    } else {
        0
    }
}

/// Parses `k=v` arguments the way `amtool config routes test` does.
pub fn parse_label_args(labels: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut ls = BTreeMap::new();
    for l in labels {
        let m = parse_matcher(l).map_err(|e| format!("Failed to parse labels: {e}"))?;
        if m.op != MatchOp::Equal {
            return Err("Labels must be specified as key=value pairs".into());
        }
        ls.insert(m.name, m.value);
    }
    Ok(ls)
}

/// `amtool config routes test --config.file=F [--verify.receivers=R] [--tree] labels...`,
/// plus `explain`, which prints each matching route and why. Returns amtool's exit code:
/// 0, or 1 on a bad config, bad labels or a receiver mismatch.
pub fn routes_test_command(
    config: &Path,
    labels: &[String],
    verify_receivers: Option<&str>,
    tree: bool,
    explain: bool,
    out: &mut dyn Write,
) -> i32 {
    let cfg = match Config::load_file(config) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(out, "{e}");
            return 1;
        }
    };
    let ls = match parse_label_args(labels) {
        Ok(l) => l,
        Err(e) => {
            let _ = writeln!(out, "{e}");
            return 1;
        }
    };
    let Some(rt) = RouteTree::from_config(&cfg) else {
        let _ = writeln!(out, "no route provided in config");
        return 1;
    };
    if tree {
        let _ = writeln!(out, "Matching routes:");
        let _ = writeln!(out, "{}\n", render_matching_tree(&rt, &ls));
    }
    if explain {
        for l in rt.explain(&ls) {
            let _ = writeln!(out, "{l}");
        }
    }
    let slug = rt.receivers_for(&ls).join(",");
    let _ = writeln!(out, "{slug}");
    if let Some(exp) = verify_receivers.filter(|e| !e.is_empty())
        && exp != slug
    {
        let _ = writeln!(
            out,
            "WARNING: Expected receivers did not match resolved receivers."
        );
        return 1;
    }
    0
}

/// `amtool config routes show --config.file=F`.
pub fn routes_show_command(config: &Path, out: &mut dyn Write) -> i32 {
    match Config::load_file(config) {
        Ok(cfg) => match RouteTree::from_config(&cfg) {
            Some(rt) => {
                let _ = writeln!(out, "Routing tree:");
                let _ = writeln!(out, "{}", render_tree(&rt));
                0
            }
            None => 1,
        },
        Err(e) => {
            let _ = writeln!(out, "{e}");
            1
        }
    }
}
