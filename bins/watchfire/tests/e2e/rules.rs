//! Rules from `prometheus.yml`: evaluation, the rules/alerts API, reload, and
//! alert state across a restart.

use crate::harness::{Server, enc};
use std::time::{Duration, Instant};

const RULES: &str = r#"groups:
  - name: g
    interval: 500ms
    rules:
      - record: job:one
        expr: vector(1)
      - alert: AlwaysFiring
        expr: vector(7)
        for: 1s
        labels: {severity: warning}
        annotations: {summary: "value is {{ $value }}"}
"#;

fn get_json(s: &Server, path: &str) -> serde_json::Value {
    let (code, body) = s.request("GET", path, b"").unwrap();
    assert_eq!(code, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn rules_evaluate_reload_and_keep_alert_state() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    let data = dir.path().join("data");
    let config_flag = format!("--config.file={}", cfg.display());
    let mut s = Server::start(&data, &[&config_flag, "--web.enable-lifecycle"]);

    wait_for("the alert to fire", || {
        let a = get_json(&s, "/api/v1/alerts");
        a["data"]["alerts"][0]["state"] == "firing"
    });
    let alerts = get_json(&s, "/api/v1/alerts");
    let alert = &alerts["data"]["alerts"][0];
    assert_eq!(alert["annotations"]["summary"], "value is 7");
    let active_at = alert["activeAt"].as_str().unwrap().to_string();
    let rules = get_json(&s, "/api/v1/rules?type=record");
    assert_eq!(rules["data"]["groups"][0]["rules"][0]["name"], "job:one");
    assert_eq!(
        rules["data"]["groups"][0]["rules"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let q = get_json(&s, "/api/v1/query?query=job:one");
    assert_eq!(q["data"]["result"][0]["value"][1], "1");
    let q = get_json(&s, "/api/v1/query?query=ALERTS");
    assert_eq!(q["data"]["result"][0]["metric"]["alertstate"], "firing");

    // Backtesting a rule over what was stored shows it going pending, then firing.
    let rules =
        "groups:\n- name: b\n  rules:\n  - alert: One\n    expr: job:one > 0\n    for: 1s\n";
    // Let a few seconds of the recorded series accumulate.
    std::thread::sleep(Duration::from_secs(3));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let path = format!(
        "/api/v1/watchfire/rules/backtest?rules={}&start={}&end={}&step=1s",
        enc(rules),
        now - 5,
        now
    );
    let bt = get_json(&s, &path);
    let states: Vec<&str> = bt["data"]["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(&states[..2], ["pending", "firing"], "{bt}");

    // A broken rule file is refused and the running rules stay.
    std::fs::write(
        dir.path().join("rules.yml"),
        format!("{RULES}  - name: broken\n    rules: [{{record: x, expr: 'sum(('}}]\n"),
    )
    .unwrap();
    let (code, body) = s.request("POST", "/-/reload", b"").unwrap();
    assert_eq!(code, 500, "{body}");
    assert!(
        body.contains("rules.yml: 13:") && body.contains("unclosed left parenthesis"),
        "{body}"
    );
    let (_, metrics) = s.request("GET", "/metrics", b"").unwrap();
    assert!(metrics.contains("prometheus_config_last_reload_successful 0"));
    assert_eq!(
        get_json(&s, "/api/v1/rules")["data"]["groups"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Firing alerts stay firing with the same activeAt after a restart.
    std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    s.stop();
    let s = Server::start(&data, &[&config_flag]);
    let alerts = get_json(&s, "/api/v1/alerts");
    let alert = &alerts["data"]["alerts"][0];
    assert_eq!(alert["state"], "firing", "{alerts}");
    assert_eq!(alert["activeAt"].as_str().unwrap(), active_at);
}
