use crate::common::shared_dir;
use std::path::{Path, PathBuf};
use std::process::Command;
use watchfire_rules::{check_rules_command, test_rules_command};

/// Files where Prometheus 3 (our target) and the installed promtool 2.42
/// legitimately disagree.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[(
    "no-test-group-interval.yml",
    "promtool 2.42 leaves a test group's interval at 0 when evaluation_interval is unset; Prometheus 3 defaults it to 1m",
)];

fn promtool() -> Option<()> {
    if std::env::var("WATCHFIRE_SKIP_PEERS").as_deref() == Ok("1") {
        eprintln!("SKIP: WATCHFIRE_SKIP_PEERS=1");
        return None;
    }
    match Command::new("promtool").arg("--version").output() {
        Ok(o) if o.status.success() => Some(()),
        _ => {
            eprintln!("SKIP: promtool not installed");
            None
        }
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    v.sort();
    v
}

fn top_level_key(p: &Path, key: &str) -> bool {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with(key))
}

fn ours_test(p: &Path) -> (i32, String) {
    let mut out = Vec::new();
    let code = test_rules_command(&[p.to_path_buf()], None, &mut out);
    (code, String::from_utf8(out).unwrap())
}

fn theirs(args: &[&str], p: &Path) -> (i32, String) {
    let o = Command::new("promtool")
        .args(args)
        .arg(p.file_name().unwrap())
        .current_dir(p.parent().unwrap())
        .output()
        .unwrap();
    let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap_or(-1), s)
}

#[test]
fn test_rules_without_peers() {
    let Some(shared) = shared_dir() else { return };
    let dir = shared.join("promtool-tests");
    let (code, out) = ours_test(&dir.join("failing.yml"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("  FAILED:\n"), "{out}");
    assert!(out.contains("    name: Failing test,\n    alertname: Test, time: 0s, \n        exp:[\n            0:\n              Labels:{alertname=\"Test\"}\n              Annotations:{}\n            ], \n        got:[]"), "{out}");
    assert!(out.contains("    expr: \"test\", time: 0s,\n        exp: {__name__=\"test\"} 1E+00\n        got: {__name__=\"test\"} 0E+00"), "{out}");
    assert!(
        out.contains("Labels:{alertname=\"InstanceDown\", job=\"test\", severity=\"page\"}"),
        "{out}"
    );
    for ok in [
        "at-modifier-test.yml",
        "negative-offset-test.yml",
        "no-test-group-interval.yml",
        "prometheus-config.good.yml",
    ] {
        let (code, out) = ours_test(&dir.join(ok));
        assert_eq!((code, out.as_str()), (0, "  SUCCESS\n\n"), "{ok}");
    }
    let (code, out) = ours_test(&dir.join("bad-rules-error-test.yml"));
    assert_eq!(code, 1);
    assert!(out.contains("    rule: joined, time: 0s, err: "), "{out}");
    let (code, out) = ours_test(&dir.join("bad-rules-syntax-test.yml"));
    assert_eq!(code, 1);
    assert!(out.contains("bad-rules-syntax.yml: 7:15: group \"bad-syntax\", rule 1, \"x\": could not parse expression: "), "{out}");
    let (code, out) = ours_test(&dir.join("rules_run_fuzzy.yml"));
    assert_eq!(code, 1);
    assert!(
        !out.contains("correct fuzzy"),
        "the fuzzy match passes: {out}"
    );
    let mut out = Vec::new();
    let code = test_rules_command(
        &[dir.join("rules_run.yml")],
        Some(&["correct".to_string()]),
        &mut out,
    );
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
    let (code, out) = ours_test(&dir.join("config_with_rule_files.yml"));
    assert_eq!(code, 0);
    assert!(out.contains("  WARNING: no file match pattern /etc/non/existent/file.yml\n"));
}

#[test]
fn test_rules_matches_promtool() {
    let Some(shared) = shared_dir() else { return };
    if promtool().is_none() {
        return;
    }
    let dir = shared.join("promtool-tests");
    let mut diffs = Vec::new();
    for p in files(&dir) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !top_level_key(&p, "tests:") {
            continue;
        }
        let (ours, our_out) = ours_test(&p);
        let (code, their_out) = theirs(&["test", "rules"], &p);
        if KNOWN_DIFFERENCES.iter().any(|(f, _)| *f == name) {
            continue;
        }
        if ours != code {
            diffs.push(format!(
                "{name}: ours {ours}, promtool {code}\n{our_out}\n---\n{their_out}"
            ));
        }
        // Evaluation failures must be reported with promtool's lines.
        if name == "failing.yml" {
            for line in their_out.lines().filter(|l| l.starts_with("    ")) {
                assert!(
                    our_out.contains(line),
                    "{name}: missing line {line:?} in\n{our_out}"
                );
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn check_rules_matches_promtool() {
    let Some(shared) = shared_dir() else { return };
    let dir = shared.join("promtool-tests");
    let run = |p: &Path| {
        let mut out = Vec::new();
        let code = check_rules_command(&[p.to_path_buf()], &mut out);
        (code, String::from_utf8(out).unwrap())
    };
    let (code, out) = run(&dir.join("rules.yml"));
    assert_eq!(code, 0);
    assert!(out.ends_with("  SUCCESS: 5 rules found\n\n"), "{out}");
    let (code, out) = run(&dir.join("rules_duplicates.yml"));
    assert_eq!(code, 0, "lint findings are not fatal");
    assert!(out.contains("lint error 1 duplicate rule(s) found.\nMetric: job:test:count_over_time1m\nLabel(s):\nMight cause inconsistency while recording expressions\n"), "{out}");
    let (code, out) = run(&dir.join("prometheus-rules.lint.yml"));
    assert_eq!(code, 0);
    assert!(out.contains("Label(s):\n\tseverity: page\n"), "{out}");
    let (code, out) = run(&dir.join("rules_extrafields.yml"));
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "yaml: unmarshal errors:\n  line 7: field namespace not found in type rulefmt.RuleGroup"
        ),
        "{out}"
    );

    let (code, out) = run(&dir.join("rules-bad.yml"));
    assert_eq!(code, 1);
    assert!(
        out.contains(r#"rules-bad.yml: group "alerts", rule 1, "InstanceDown": annotation "summary": template: __alert_InstanceDown:1: undefined variable "$label""#),
        "{out}"
    );

    if promtool().is_none() {
        return;
    }
    // Prometheus 3 syntax that 2.42 does not know.
    let skip = ["features.yml"];
    for p in files(&dir) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !top_level_key(&p, "groups:") || skip.contains(&name.as_str()) {
            continue;
        }
        let (ours, our_out) = run(&p);
        let (code, their_out) = theirs(&["check", "rules"], &p);
        assert_eq!(ours, code, "{name}:\n{our_out}\n---\n{their_out}");
    }
}
