//! Every script of Prometheus' suite (when present next to the repository) parses
//! without a broken command.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use watchfire_promqltest::{Command, parse_script};

#[test]
fn shared_scripts_parse() {
    let dir = std::env::var_os("WATCHFIRE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("promqltest");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("{} not found; skipping", dir.display());
        return;
    };
    let mut bad = Vec::new();
    let mut evals = 0;
    for e in entries {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "test") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for cmd in parse_script(&text) {
            match cmd {
                Command::Invalid { line, text, error } => {
                    bad.push(format!("{}:{line}: {text}: {error}", path.display()))
                }
                Command::Eval(_) => evals += 1,
                _ => {}
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} broken commands:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert!(evals > 1000, "only {evals} evals found");
}
