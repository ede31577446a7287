//! The `watchfire tsdb` tools.

use crate::harness::tool;

#[test]
fn import_then_analyze_and_dump() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.om");
    let mut text = String::from("# TYPE jobs_done counter\n");
    for step in 0..500 {
        text.push_str(&format!(
            "jobs_done_total{{queue=\"a\"}} {} {}\n",
            step * 2,
            1_700_000_000 + step * 15
        ));
        text.push_str(&format!(
            "jobs_done_total{{queue=\"b\"}} {} {}\n",
            step,
            1_700_000_000 + step * 15
        ));
    }
    text.push_str("# EOF\n");
    std::fs::write(&input, text).unwrap();
    let data = dir.path().join("data");
    let out = tool(&[
        "tsdb",
        "import",
        "openmetrics",
        input.to_str().unwrap(),
        data.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("imported 1000 samples of 2 series"),
        "{stdout}"
    );

    let out = tool(&["tsdb", "analyze", data.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1000 samples"), "{stdout}");
    assert!(stdout.contains("jobs_done_total"), "{stdout}");

    let out = tool(&[
        "tsdb",
        "dump",
        data.to_str().unwrap(),
        "--match",
        "jobs_done_total{queue=\"b\"}",
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 500);
    assert_eq!(
        stdout.lines().last().unwrap(),
        format!(
            "{{__name__=\"jobs_done_total\", queue=\"b\"}} 499 {}",
            (1_700_000_000i64 + 499 * 15) * 1000
        )
    );
}

#[test]
fn bad_import_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.om");
    std::fs::write(
        &input,
        "ok_metric 1 1700000000\nbroken{a=} 2 1700000000\n# EOF\n",
    )
    .unwrap();
    let out = tool(&[
        "tsdb",
        "import",
        "openmetrics",
        input.to_str().unwrap(),
        dir.path().join("d").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn check_alertmanager_and_route_test() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("am.yml");
    std::fs::write(
        &good,
        "route:\n  receiver: team\n  routes:\n    - matchers: ['severity=\"critical\"']\n      receiver: oncall\n      continue: true\nreceivers:\n  - name: team\n  - name: oncall\n",
    )
    .unwrap();
    let out = tool(&["check", "alertmanager", good.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let out = tool(&[
        "routes",
        "test",
        "--config",
        good.to_str().unwrap(),
        "severity=critical",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "oncall");
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "route:\n  receiver: nobody\nreceivers:\n  - name: team\n",
    )
    .unwrap();
    let out = tool(&["check", "alertmanager", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("undefined receiver \"nobody\""), "{text}");
}
