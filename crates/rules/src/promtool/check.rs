//! `check rules`: validate rule files and lint duplicates, printing like
//! `promtool check rules` (default `--lint=duplicate-rules`, not fatal).

use crate::file::{RuleGroup, load_rule_file};
use std::io::Write;
use std::path::PathBuf;

/// Rules with the same name and labels, as `promtool` lints them.
fn duplicates(groups: &[RuleGroup]) -> Vec<(String, Vec<(String, String)>)> {
    let mut all: Vec<(String, Vec<(String, String)>)> = groups
        .iter()
        .flat_map(|g| {
            g.rules.iter().map(move |r| {
                let labels = crate::group::labels_from_map(&r.merged_labels(g));
                (
                    r.name.clone(),
                    labels
                        .iter()
                        .map(|l| (l.name.clone(), l.value.clone()))
                        .collect::<Vec<_>>(),
                )
            })
        })
        .collect();
    all.sort();
    let mut dups: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for w in all.windows(2) {
        if w[0] == w[1] && dups.last() != Some(&w[1]) {
            dups.push(w[1].clone());
        }
    }
    dups
}

/// Runs `check rules` over `paths`, writing promtool's output to `out`; returns
/// the exit code (0 ok or lint warnings only, 1 errors).
pub fn check_rules_command(paths: &[PathBuf], out: &mut dyn Write) -> i32 {
    let mut has_errors = false;
    for p in paths {
        let _ = writeln!(out, "Checking {}", p.display());
        let groups = match load_rule_file(p, &watchfire_promql::ParseOptions::default()) {
            Ok(g) => g,
            Err(errs) => {
                has_errors = true;
                let _ = writeln!(out, "  FAILED:");
                for e in errs {
                    let _ = writeln!(out, "{e}");
                }
                continue;
            }
        };
        let dups = duplicates(&groups);
        if dups.is_empty() {
            let n: usize = groups.iter().map(|g| g.rules.len()).sum();
            let _ = writeln!(out, "  SUCCESS: {n} rules found");
        } else {
            let _ = writeln!(out, "  FAILED:");
            let mut msg = format!("lint error {} duplicate rule(s) found.\n", dups.len());
            for (name, labels) in &dups {
                msg.push_str(&format!("Metric: {name}\nLabel(s):\n"));
                for (k, v) in labels {
                    msg.push_str(&format!("\t{k}: {v}\n"));
                }
            }
            msg.push_str("Might cause inconsistency while recording expressions");
            let _ = writeln!(out, "{msg}");
        }
        let _ = writeln!(out);
    }
    i32::from(has_errors)
}
