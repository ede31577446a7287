//! PromQL conformance ratchet: runs every script of Prometheus' PromQL test suite
//! (`shared/promqltest/*.test` next to the repository) through
//! `watchfire test promql` and fails if any file passes fewer evals than recorded
//! in `tests/promql-ratchet.txt`, or if a float-only file has any failure. Counts only go up: when they rise, raise the
//! record with `WATCHFIRE_UPDATE_RATCHET=1 cargo test -p watchfire --test
//! promql_ratchet`. Set `WATCHFIRE_SKIP_PEERS=1` to skip when the suite is absent.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn suite_dir() -> PathBuf {
    std::env::var_os("WATCHFIRE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../../shared"))
        .join("promqltest")
}

fn ratchet_path() -> PathBuf {
    manifest_dir().join("tests/promql-ratchet.txt")
}

/// `file name -> passed` from the ratchet file (`name count` lines, `#` comments).
fn read_ratchet(path: &Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (name, n) = l.split_once(char::is_whitespace)?;
            Some((name.to_string(), n.trim().parse().ok()?))
        })
        .collect()
}

fn write_ratchet(path: &Path, counts: &BTreeMap<String, (usize, usize, usize)>) {
    let mut s = String::from(
        "# Evals of each Prometheus PromQL test script that pass (see tests/promql_ratchet.rs).\n\
         # The test fails when a count drops; raise with WATCHFIRE_UPDATE_RATCHET=1.\n",
    );
    for (name, (passed, _, _)) in counts {
        s.push_str(&format!("{name} {passed}\n"));
    }
    std::fs::write(path, s).unwrap();
}

/// Parses the per-file summary lines `PATH: P passed, F failed, S skipped`.
fn parse_summary(line: &str) -> Option<(usize, usize, usize)> {
    let nums: Vec<usize> = line
        .split(", ")
        .map(|part| part.split_whitespace().next()?.parse().ok())
        .collect::<Option<_>>()?;
    match nums[..] {
        [p, f, s] => Some((p, f, s)),
        _ => None,
    }
}

/// The scripts that only need float samples (native-histogram evals in them are skipped).
const FLOAT_FILES: &[&str] = &[
    "aggregators.test",
    "collision.test",
    "functions.test",
    "histograms.test",
    "literals.test",
    "name_label_dropping.test",
    "operators.test",
    "range_queries.test",
    "selectors.test",
    "staleness.test",
];

#[test]
fn promql_conformance_ratchet() {
    let dir = suite_dir();
    if !dir.is_dir() {
        if std::env::var("WATCHFIRE_SKIP_PEERS").is_ok_and(|v| v == "1") {
            eprintln!(
                "{} not found; skipped (WATCHFIRE_SKIP_PEERS=1)",
                dir.display()
            );
            return;
        }
        panic!(
            "Prometheus' PromQL test scripts not found at {}; put them there or set WATCHFIRE_SKIP_PEERS=1",
            dir.display()
        );
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.test files in {}", dir.display());

    let out = Command::new(env!("CARGO_BIN_EXE_watchfire"))
        .args(["test", "promql"])
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut counts = BTreeMap::new();
    for f in &files {
        let prefix = format!("{}: ", f.display());
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&prefix) && l.ends_with(" skipped"))
            .unwrap_or_else(|| {
                panic!(
                    "no summary for {} in the output:\n{stdout}\n{}",
                    f.display(),
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        counts.insert(name, parse_summary(&line[prefix.len()..]).unwrap());
    }

    let recorded = read_ratchet(&ratchet_path());
    let mut dropped = Vec::new();
    let mut raised = Vec::new();
    eprintln!(
        "{:<28} {:>7} {:>7} {:>7} {:>9}",
        "file", "passed", "failed", "skipped", "recorded"
    );
    for (name, &(p, f, s)) in &counts {
        let rec = recorded.get(name).copied().unwrap_or(0);
        eprintln!("{name:<28} {p:>7} {f:>7} {s:>7} {rec:>9}");
        if p < rec {
            dropped.push(format!("{name}: {p} passed, {rec} recorded"));
        } else if p > rec {
            raised.push(format!("{name}: {rec} -> {p}"));
        }
    }
    for name in recorded.keys().filter(|n| !counts.contains_key(*n)) {
        dropped.push(format!(
            "{name}: recorded but no longer in {}",
            dir.display()
        ));
    }
    // Issue 3's goal: the float files have no failures at all (only native-histogram
    // evals may be skipped, which the subcommand decides with a printed reason).
    for name in FLOAT_FILES {
        if let Some(&(_, f, _)) = counts.get(*name)
            && f > 0
        {
            dropped.push(format!("{name}: {f} failed; float files must have none"));
        }
    }
    let total: usize = counts.values().map(|c| c.0).sum();
    eprintln!("total passed: {total}");

    if std::env::var("WATCHFIRE_UPDATE_RATCHET").is_ok_and(|v| v == "1") && dropped.is_empty() {
        write_ratchet(&ratchet_path(), &counts);
        eprintln!("wrote {}", ratchet_path().display());
    } else if !raised.is_empty() {
        eprintln!(
            "pass counts went up ({}); raise the ratchet with:\n  WATCHFIRE_UPDATE_RATCHET=1 cargo test -p watchfire --test promql_ratchet",
            raised.join(", ")
        );
    }
    assert!(
        dropped.is_empty(),
        "PromQL conformance went down:\n  {}\n(run `watchfire test promql FILE` to see the failing evals)",
        dropped.join("\n  ")
    );
}

/// The subcommand prints failures and totals and exits 1 on a failure, 0 otherwise.
#[test]
fn test_promql_subcommand_reports_and_exits() {
    let dir = std::env::temp_dir().join(format!("watchfire-ratchet-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.test");
    // Histogram expectations are always skipped, so this does not depend on how
    // far the engine has come.
    std::fs::write(
        &good,
        "load 1m\n  h {{schema:0 sum:1 count:1}}x2\n  f 1+1x2\n\neval instant at 1m h\n  h {{schema:0 sum:1 count:1}}\n",
    )
    .unwrap();
    let bad = dir.join("bad.test");
    std::fs::write(&bad, "load 1m\n  f 1 2\n\nfrobnicate everything\n").unwrap();

    let run = |files: &[&Path]| {
        let out = Command::new(env!("CARGO_BIN_EXE_watchfire"))
            .args(["test", "promql"])
            .args(files)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, stdout) = run(&[&good]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("0 passed, 0 failed, 1 skipped"));

    let (code, stdout) = run(&[&good, &bad]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("FAIL {}:4: frobnicate everything", bad.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}: 0 passed, 1 failed, 0 skipped", bad.display())),
        "{stdout}"
    );
    assert_eq!(stdout.lines().last(), Some("0 passed, 1 failed, 1 skipped"));
    std::fs::remove_dir_all(&dir).unwrap();
}
