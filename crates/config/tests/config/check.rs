//! `check_config_command` against promtool's test files, and against the real
//! promtool's exit codes when it is installed.

use std::path::{Path, PathBuf};
use watchfire_config::check_config_command;

fn run(paths: &[PathBuf], rules: &dyn Fn(&Path) -> Result<usize, String>) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = check_config_command(paths, &mut out, &mut err, rules);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn no_rules(_: &Path) -> Result<usize, String> {
    Ok(0)
}

/// (file, exit code promtool gives, fragment of our output or error)
const PROMTOOL_CASES: &[(&str, i32, &str)] = &[
    ("prometheus-config.good.yml", 0, "SUCCESS: "),
    (
        "prometheus-config.bad.yml",
        1,
        "unknown field `not-prometheus`",
    ),
    (
        "config_with_rule_files.yml",
        1,
        "non-existent-file.yml\" does not point to an existing file",
    ),
    (
        "config_with_service_discovery_files.yml",
        0,
        "for file_sd in alertmanager config does not exist",
    ),
    (
        "config_with_tls_files.yml",
        1,
        "error checking client cert file",
    ),
    (
        "url_in_alert_targetgroup_with_relabel_config.bad.yml",
        1,
        "\"http://bad\" is not a valid hostname",
    ),
    (
        "url_in_alert_targetgroup_with_relabel_config.good.yml",
        0,
        "is valid prometheus config file syntax",
    ),
    (
        "url_in_scrape_targetgroup_with_relabel_config.bad.yml",
        1,
        "instance 0 in group 0: \"http://bad\" is not a valid hostname",
    ),
    (
        "url_in_scrape_targetgroup_with_relabel_config.good.yml",
        0,
        "is valid prometheus config file syntax",
    ),
    (
        "authorization_credentials_file.bad.yml",
        1,
        "error checking authorization credentials or bearer token file \"/random/file/which/does/not/exist.yml\": stat /random/file/which/does/not/exist.yml: no such file or directory",
    ),
    (
        "authorization_credentials_file.good.yml",
        0,
        "is valid prometheus config file syntax",
    ),
    ("bad-sd-file-format.yml", 1, "FAILED: parsing YAML file"),
    ("good-sd-file.yml", 1, "FAILED: parsing YAML file"),
];

#[test]
fn promtool_test_files() {
    let Some(dir) = crate::shared() else { return };
    for (name, code, fragment) in PROMTOOL_CASES {
        let path = dir.join("promtool-tests").join(name);
        let (got, out, err) = run(std::slice::from_ref(&path), &no_rules);
        assert_eq!(got, *code, "{name}\nstdout:\n{out}\nstderr:\n{err}");
        assert!(
            out.contains(fragment) || err.contains(fragment),
            "{name}\nstdout:\n{out}\nstderr:\n{err}"
        );
        assert!(
            out.starts_with(&format!("Checking {}\n", path.display())),
            "{out}"
        );
    }
}

#[test]
fn output_layout_matches_promtool() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.rules"), "x").unwrap();
    std::fs::write(tmp.path().join("b.rules"), "x").unwrap();
    let cfg = tmp.path().join("c.yml");
    std::fs::write(&cfg, "rule_files:\n  - '*.rules'\n").unwrap();
    let bad = tmp.path().join("bad.yml");
    std::fs::write(&bad, "nope: 1\n").unwrap();
    let a = tmp.path().join("a.rules");
    let rules = |p: &Path| -> Result<usize, String> {
        if p.ends_with("a.rules") {
            Err("a.rules: 4:13: bad rule\nsecond line".into())
        } else {
            Ok(3)
        }
    };
    let (code, out, err) = run(&[cfg.clone(), bad.clone()], &rules);
    assert_eq!(code, 1);
    let b = tmp.path().join("b.rules");
    assert_eq!(
        out,
        format!(
            "Checking {c}\n  SUCCESS: 2 rule files found\n SUCCESS: {c} is valid prometheus config file syntax\n\nChecking {a}\n\nChecking {b}\n  SUCCESS: 3 rules found\n\nChecking {bad}\n\n",
            c = cfg.display(),
            a = a.display(),
            b = b.display(),
            bad = bad.display()
        )
    );
    assert!(err.starts_with("  FAILED:\n     a.rules: 4:13: bad rule\n     second line\n  FAILED: parsing YAML file "), "{err}");

    // All good: exit 0.
    let (code, out, _) = run(std::slice::from_ref(&cfg), &|_: &Path| Ok(1));
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = run(&[tmp.path().join("missing.yml")], &no_rules);
    assert_eq!(code, 1);
    assert!(err.contains("no such file or directory"), "{err}");
}

#[test]
fn exit_codes_match_real_promtool() {
    if std::env::var("WATCHFIRE_SKIP_PEERS").is_ok_and(|v| v == "1") {
        eprintln!("SKIP: WATCHFIRE_SKIP_PEERS=1");
        return;
    }
    let Some(dir) = crate::shared() else { return };
    let probe = std::process::Command::new("promtool")
        .arg("--version")
        .output();
    if probe.is_err() {
        eprintln!("SKIP: promtool not installed");
        return;
    }
    for (name, _, _) in PROMTOOL_CASES {
        let path = dir.join("promtool-tests").join(name);
        let real = std::process::Command::new("promtool")
            .args(["check", "config"])
            .arg(&path)
            .output()
            .unwrap();
        let (ours, out, err) = run(std::slice::from_ref(&path), &no_rules);
        assert_eq!(
            Some(ours),
            real.status.code(),
            "{name}\nours:\n{out}{err}\npromtool:\n{}",
            String::from_utf8_lossy(&real.stderr)
        );
    }
}
