//! Defaults, inheritance, redaction, error formatting and file SD.

use std::path::Path;
use watchfire_config::{Config, ConfigError, load_file_sd};

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::load_str(text, Path::new("prometheus.yml"))
}

#[test]
fn empty_config_gets_prometheus_defaults() {
    let cfg = load("").unwrap();
    assert_eq!(cfg.global.scrape_interval.to_string(), "1m");
    assert_eq!(cfg.global.scrape_timeout.to_string(), "10s");
    assert_eq!(cfg.global.evaluation_interval.to_string(), "1m");
    assert!(cfg.scrape_configs.is_empty());
    let cfg = load("global:\n").unwrap();
    assert_eq!(cfg.global.scrape_interval.to_string(), "1m");
}

#[test]
fn jobs_inherit_from_global() {
    let cfg = load(
        r#"
global:
  scrape_interval: 5s
  sample_limit: 100
  body_size_limit: 1MB
  label_limit: 7
scrape_configs:
  - job_name: a
  - job_name: b
    scrape_interval: 1m
    sample_limit: 5
  - job_name: c
    scrape_interval: 30s
    scrape_timeout: 20s
"#,
    )
    .unwrap();
    let [a, b, c] = &cfg.scrape_configs[..] else {
        panic!()
    };
    assert_eq!(
        (a.scrape_interval.to_string(), a.scrape_timeout.to_string()),
        ("5s".into(), "5s".into()),
        "timeout capped at the interval"
    );
    assert_eq!(
        (b.scrape_interval.to_string(), b.scrape_timeout.to_string()),
        ("1m".into(), "5s".into()),
        "global timeout (= 5s)"
    );
    assert_eq!(c.scrape_timeout.to_string(), "20s");
    assert_eq!((a.sample_limit, b.sample_limit), (100, 5));
    assert_eq!(a.body_size_limit.0, 1 << 20);
    assert_eq!(c.label_limit, 7);
    assert_eq!(a.metrics_path, "/metrics");
    assert_eq!(a.scheme, "http");
    assert!(a.honor_timestamps && a.enable_compression && a.follow_redirects && a.enable_http2);
    assert!(!a.honor_labels);
    assert_eq!(
        a.scrape_protocols.as_deref().unwrap(),
        [
            "OpenMetricsText1.0.0",
            "OpenMetricsText0.0.1",
            "PrometheusText1.0.0",
            "PrometheusText0.0.4"
        ]
    );
}

#[test]
fn global_timeout_longer_than_interval() {
    let err = load("global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "prometheus.yml:3:3: global.scrape_timeout: global scrape timeout greater than scrape interval"
    );
    // A job interval shorter than the inherited global timeout caps the timeout.
    let cfg = load("scrape_configs:\n  - job_name: x\n    scrape_interval: 2s\n").unwrap();
    assert_eq!(cfg.scrape_configs[0].scrape_timeout.to_string(), "2s");
}

#[test]
fn error_format_names_file_line_column_and_field_path() {
    let err = load("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [x]\n      - regex: 'a(b'\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "prometheus.yml:5:16: scrape_configs[0].relabel_configs[1].regex: invalid regex \"a(b\": unclosed group"
    );
    let err = load("global:\n  scrape_interval: 5x\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "prometheus.yml:2:20: global.scrape_interval: not a valid duration string: \"5x\""
    );
    let err = load("scrape_configs:\n  - job_name: a\n  - job_name: a\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "prometheus.yml:3:5: scrape_configs[1].job_name: found multiple scrape configs with job name \"a\""
    );
}

#[test]
fn other_validation_rules() {
    let cases = [
        (
            "global:\n  external_labels:\n    '': x\n",
            "\"\" is not a valid label name",
        ),
        (
            "global:\n  metric_name_validation_scheme: legacy\n  external_labels:\n    a.b: x\n",
            "\"a.b\" is not a valid label name",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://x/y']\n",
            "\"http://x/y\" is not a valid hostname",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    scheme: ftp\n",
            "invalid scheme \"ftp\"",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: ['x.txt']\n",
            "path name \"x.txt\" is not valid for file discovery",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - refresh_interval: 1m\n",
            "file service discovery config must contain at least one path name",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    basic_auth: {username: u, password: p}\n    bearer_token: t\n",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    authorization: {type: Basic, credentials: x}\n",
            "authorization type cannot be set to \"basic\"",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    tls_config: {cert_file: c}\n",
            "exactly one of key or key_file must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    metric_name_validation_scheme: legacy\n    relabel_configs:\n      - {target_label: 'a.b'}\n",
            "\"a.b\" is invalid 'target_label' for replace action",
        ),
        (
            "alerting:\n  alertmanagers:\n    - api_version: v1\n",
            "expected Alertmanager api version to be one of [v2] but got v1",
        ),
        (
            "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['http://am']\n",
            "\"http://am\" is not a valid hostname",
        ),
        (
            "remote_write:\n  - url: http://x\n    basic_auth: {username: u}\n    authorization: {credentials: c}\n",
            "at most one of",
        ),
        ("rule_files:\n  - '['\n", ""),
    ];
    for (yaml, want) in cases {
        match load(yaml) {
            Err(e) => {
                assert!(e.to_string().contains(want), "{yaml}: {e}");
                assert!(e.located().unwrap().line.is_some(), "{yaml}: {e}");
            }
            // `[` is a valid rule path pattern for Prometheus' check; globbing it is
            // what fails, later.
            Ok(c) if yaml.starts_with("rule_files") => assert!(c.rule_file_paths().is_err()),
            Ok(_) => panic!("accepted: {yaml}"),
        }
    }
}

#[test]
fn static_relabel_allows_urls_when_relabeled() {
    let cfg = load(
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {target_label: __address__, replacement: 'h:1'}\n    static_configs:\n      - targets: ['http://x/y']\n        labels: {env: prod}\n      - targets: ['b:2']\n",
    )
    .unwrap();
    let groups = cfg.scrape_configs[0].static_target_groups();
    assert_eq!(groups.len(), 2);
    assert_eq!(
        (groups[0].source.as_str(), groups[1].source.as_str()),
        ("0", "1")
    );
    assert_eq!(
        groups[0].labels.get("env").map(String::as_str),
        Some("prod")
    );
    let sc = &cfg.scrape_configs[0];
    let target = std::collections::BTreeMap::from([(
        "__address__".to_owned(),
        groups[0].targets[0].clone(),
    )]);
    let labels = sc
        .populate_target_labels(&target, &groups[0].labels)
        .unwrap()
        .unwrap();
    assert_eq!(
        labels.to_string(),
        r#"{__address__="h:1", __metrics_path__="/metrics", __scheme__="http", __scrape_interval__="1m", __scrape_timeout__="10s", env="prod", instance="h:1", job="a"}"#
    );
}

#[test]
fn secrets_are_redacted_and_bearer_tokens_become_authorization() {
    let cfg = load(
        r#"
scrape_configs:
  - job_name: a
    bearer_token: tok123
  - job_name: b
    basic_auth: {username: user, password: pw123}
    tls_config: {key: keypem, cert: certpem}
remote_write:
  - url: http://rw
    oauth2: {client_id: id, client_secret: cs123, token_url: http://t}
    headers: {X-Foo: bar}
    kubernetes_sd_configs_is_not_here: 1
"#,
    );
    assert!(cfg.is_err(), "unknown remote_write field must be rejected");
    let cfg = load(
        r#"
scrape_configs:
  - job_name: a
    bearer_token: tok123
  - job_name: b
    basic_auth: {username: user, password: pw123}
    tls_config: {key: keypem, cert: certpem}
  - job_name: c
    consul_sd_configs:
      - {server: 'localhost:8500', token: consultok}
remote_write:
  - url: http://rw
    oauth2: {client_id: id, client_secret: cs123, token_url: http://t}
"#,
    )
    .unwrap();
    let a = &cfg.scrape_configs[0];
    let auth = a.authorization.as_ref().unwrap();
    assert_eq!(
        (auth.kind.as_str(), auth.credentials.expose()),
        ("Bearer", "tok123")
    );
    assert!(a.bearer_token.is_empty());
    assert_eq!(a.http_client().authorization, a.authorization);
    assert!(
        !cfg.remote_write[0].enable_http2,
        "remote write defaults enable_http2 to false"
    );
    let yaml = cfg.to_yaml_redacted();
    for secret in ["tok123", "pw123", "keypem", "cs123", "consultok"] {
        assert!(!yaml.contains(secret), "{secret} leaked:\n{yaml}");
    }
    assert!(yaml.contains("username: user"), "{yaml}");
    assert!(
        yaml.contains("certpem"),
        "certificates are not secret: {yaml}"
    );
    assert!(
        yaml.contains("scrape_interval: 1m"),
        "defaults are filled in: {yaml}"
    );
    assert!(format!("{cfg:?}").contains("<secret>"));
    assert!(!format!("{cfg:?}").contains("pw123"));
}

#[test]
fn rule_files_resolve_relative_to_the_config_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("rules")).unwrap();
    for f in ["rules/b.yml", "rules/a.yml", "rules/c.txt", "one.yml"] {
        std::fs::write(tmp.path().join(f), "groups: []\n").unwrap();
    }
    let path = tmp.path().join("prometheus.yml");
    std::fs::write(
        &path,
        "rule_files: ['rules/*.yml', one.yml, 'none/*.yml']\n",
    )
    .unwrap();
    let cfg = Config::load_file(&path).unwrap();
    let got = cfg.rule_file_paths().unwrap();
    assert_eq!(
        got,
        [
            tmp.path().join("rules/a.yml"),
            tmp.path().join("rules/b.yml"),
            tmp.path().join("one.yml")
        ]
    );
    assert_eq!(cfg.directory, tmp.path());
}

#[test]
fn file_sd_json_and_yaml() {
    let tmp = tempfile::tempdir().unwrap();
    let y = tmp.path().join("t.yml");
    std::fs::write(
        &y,
        "- targets: ['a:1', 'b:2']\n  labels: {env: prod}\n- targets: ['c:3']\n",
    )
    .unwrap();
    let groups = load_file_sd(&y).unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].targets, ["a:1", "b:2"]);
    assert_eq!(
        groups[0].labels.get("env").map(String::as_str),
        Some("prod")
    );
    let ys = y.to_string_lossy().into_owned();
    assert_eq!(groups[1].labels.get("__meta_filepath"), Some(&ys));
    assert_eq!(groups[1].source, format!("{ys}:1"));

    let j = tmp.path().join("t.json");
    std::fs::write(&j, r#"[{"targets": ["x:9"], "labels": {"a": "b"}}]"#).unwrap();
    assert_eq!(load_file_sd(&j).unwrap()[0].targets, ["x:9"]);

    std::fs::write(&j, "[\n  {\"targets\": [\"x:9\"],\n   \"labelz\": {}}\n]").unwrap();
    let err = load_file_sd(&j).unwrap_err().to_string();
    assert!(err.contains("t.json:3:") && err.contains("labelz"), "{err}");

    std::fs::write(&y, "- targets: ['a:1']\n  labels:\n    '': x\n").unwrap();
    let err = load_file_sd(&y).unwrap_err().to_string();
    assert!(
        err.contains("t.yml:3:") && err.contains("is not a valid label name"),
        "{err}"
    );

    std::fs::write(&y, "- targets: ['a:1']\n-\n").unwrap();
    let err = load_file_sd(&y).unwrap_err().to_string();
    assert!(
        err.contains("t.yml:2:") && err.contains("nil target group item found"),
        "{err}"
    );

    assert!(matches!(
        load_file_sd(&tmp.path().join("missing.yml")),
        Err(ConfigError::Io { .. })
    ));
}

#[test]
fn shared_sd_files() {
    let Some(dir) = crate::shared() else { return };
    let groups = load_file_sd(&dir.join("promtool-tests/good-sd-file.yml")).unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[1].targets, ["localhost:9100"]);
    let err = load_file_sd(&dir.join("promtool-tests/bad-sd-file-format.yml")).unwrap_err();
    assert!(
        err.to_string()
            .contains("bad-sd-file-format.yml:1:3: [0].targats: unknown field `targats`"),
        "{err}"
    );
}

/// The HTTP client block's authentication conflicts (shared with alertmanager.yml)
/// read as Prometheus reports them; checked against the real promtool when present.
#[test]
fn http_auth_conflicts_match_promtool() {
    let conflict = "at most one of basic_auth, oauth2 & authorization must be configured";
    let bearer =
        "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured";
    let cases = [
        ("basic_auth: {username: u}\n    bearer_token: t", bearer),
        (
            "oauth2: {client_id: a, token_url: 'http://t'}\n    bearer_token: t",
            bearer,
        ),
        (
            "authorization: {credentials: c}\n    bearer_token: t",
            "authorization is not compatible with bearer_token & bearer_token_file",
        ),
        (
            "basic_auth: {username: u}\n    authorization: {credentials: c}",
            conflict,
        ),
        (
            "basic_auth: {username: u}\n    oauth2: {client_id: a, token_url: 'http://t'}",
            conflict,
        ),
        (
            "authorization: {credentials: c}\n    oauth2: {client_id: a, token_url: 'http://t'}",
            conflict,
        ),
    ];
    let peer = if std::env::var("WATCHFIRE_SKIP_PEERS").is_ok_and(|v| v == "1") {
        eprintln!("SKIP (promtool comparison): WATCHFIRE_SKIP_PEERS=1");
        false
    } else if std::process::Command::new("promtool")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIP (promtool comparison): promtool not installed");
        false
    } else {
        true
    };
    let dir = tempfile::tempdir().unwrap();
    for (fields, want) in cases {
        let text = format!("scrape_configs:\n  - job_name: a\n    {fields}\n");
        let e = load(&text).unwrap_err();
        assert!(e.to_string().ends_with(want), "{text}: {e}");
        assert_eq!(e.located().unwrap().line, Some(2), "{text}: {e}");
        if peer {
            let p = dir.path().join("p.yml");
            std::fs::write(&p, &text).unwrap();
            let o = std::process::Command::new("promtool")
                .args(["check", "config"])
                .arg(&p)
                .output()
                .unwrap();
            let theirs = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{text}: {theirs}");
            assert!(theirs.contains(want), "{text}: {theirs}");
        }
    }
}
