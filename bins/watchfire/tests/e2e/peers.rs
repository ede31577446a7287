//! Comparison with the real Prometheus tools (promtool 2.42 from ../shared/peers).
//! Set WATCHFIRE_SKIP_PEERS=1 to skip where the peers cannot be installed.

use crate::harness::tool;
use std::process::Command;

fn promtool() -> Option<&'static str> {
    if Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some("promtool");
    }
    if std::env::var_os("WATCHFIRE_SKIP_PEERS").is_some() {
        eprintln!("promtool not installed; skipping (WATCHFIRE_SKIP_PEERS is set)");
        return None;
    }
    panic!(
        "promtool is not installed: run ../shared/peers/install.sh, or set WATCHFIRE_SKIP_PEERS=1"
    );
}

/// A backfill file with awkward values: decimals, big and tiny numbers, NaN, ±Inf,
/// -0, irregular timestamps, and several hours so both tools cut several blocks.
fn backfill_input() -> String {
    let mut s = String::from("# TYPE http_requests counter\n");
    for code in ["200", "404", "500"] {
        for step in 0..1500i64 {
            let t = 1_700_000_000 + step * 15 + (step % 7 == 3) as i64;
            let v = (step * step / 3) as f64 * if code == "500" { 0.001 } else { 1.0 };
            s.push_str(&format!(
                "http_requests_total{{code=\"{code}\",path=\"/api\"}} {v} {t}\n"
            ));
        }
    }
    s.push_str("# TYPE odd gauge\n");
    let odd = [
        "NaN",
        "+Inf",
        "-Inf",
        "-0",
        "0",
        "1e-300",
        "1.7976931348623157e+308",
        "123456.789",
        "0.1",
        "-2.5e-05",
        "3e+21",
    ];
    for (i, v) in odd.iter().cycle().take(900).enumerate() {
        s.push_str(&format!(
            "odd{{kind=\"mixed\"}} {v} {}\n",
            1_700_000_000 + i as i64 * 20
        ));
    }
    s.push_str("# EOF\n");
    s
}

fn sorted_lines(out: &[u8]) -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8_lossy(out)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

#[test]
fn backfill_and_dump_match_promtool_exactly() {
    let Some(promtool) = promtool() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.om");
    std::fs::write(&input, backfill_input()).unwrap();

    let prom_dir = dir.path().join("prom");
    let out = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&prom_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool backfill: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::create_dir_all(prom_dir.join("wal")).unwrap(); // promtool dump wants one
    let prom = Command::new(promtool)
        .args(["tsdb", "dump"])
        .arg(&prom_dir)
        .output()
        .unwrap();
    assert!(
        prom.status.success(),
        "promtool dump: {}",
        String::from_utf8_lossy(&prom.stderr)
    );

    let wf_dir = dir.path().join("wf");
    let out = tool(&[
        "tsdb",
        "import",
        "openmetrics",
        input.to_str().unwrap(),
        wf_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "watchfire import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wf = tool(&["tsdb", "dump", wf_dir.to_str().unwrap()]);
    assert!(
        wf.status.success(),
        "watchfire dump: {}",
        String::from_utf8_lossy(&wf.stderr)
    );

    let (p, w) = (sorted_lines(&prom.stdout), sorted_lines(&wf.stdout));
    assert_eq!(p.len(), 3 * 1500 + 900);
    for (a, b) in p.iter().zip(&w) {
        assert_eq!(a, b, "first difference (promtool vs watchfire)");
    }
    assert_eq!(p.len(), w.len());
}
