//! `examples/demo/`: the files parse, the real tools accept them, the alerts route
//! and fire as intended, and every metric they use is one the service exposes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use watchfire_demo::DemoService;

use crate::support::{http_get, peer_tool, sample_names};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo")
}

fn yaml(name: &str) -> Value {
    let path = examples_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn dashboard() -> Value {
    let path = examples_dir().join("dashboards/websocket.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn alert_rules() -> Vec<Value> {
    yaml("alerts.yml")["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().clone())
        .collect()
}

fn dashboard_exprs() -> Vec<String> {
    dashboard()["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().clone())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect()
}

/// Metric names a PromQL expression selects. Strings, label matchers and range or
/// subquery brackets are blanked out, grouping label lists after `by`/`on`/... are
/// skipped, and identifiers followed by `(` are functions or aggregations.
fn metric_names(expr: &str) -> BTreeSet<String> {
    // Aggregations are listed because they may be followed by `by (...)`, not `(`.
    const KEYWORDS: [&str; 27] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "inf",
        "nan",
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "limitk",
        "limit_ratio",
    ];
    const LABEL_LISTS: [&str; 6] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let mut flat = String::new();
    let (mut depth, mut quote) = (0, None);
    for c in expr.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => depth -= 1,
            (None, c) if depth == 0 => flat.push(c),
            _ => {}
        }
        if quote.is_some() || depth > 0 {
            flat.push(' ');
        }
    }
    let chars: Vec<char> = flat.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || c == '.' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            continue;
        }
        if !(c.is_ascii_alphabetic() || c == '_' || c == ':') {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len()
            && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
        {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        let next = chars.get(j).copied();
        if LABEL_LISTS.contains(&word.as_str()) && next == Some('(') {
            while i < chars.len() && chars[i] != ')' {
                i += 1;
            }
            continue;
        }
        if next == Some('(') || KEYWORDS.contains(&word.to_ascii_lowercase().as_str()) {
            continue;
        }
        names.insert(word);
    }
    names
}

#[test]
fn the_tokenizer_finds_only_metric_names() {
    let got = metric_names(
        r#"histogram_quantile(0.95, sum by (deployment, le) (rate(a_bucket{job="x", le!~"1e3"}[1m]))) > 1e3 and on(instance) b:rec offset 5m or vector(1) unless sum(c) without (d) + sum by (e) (f)"#,
    );
    let want: BTreeSet<String> = ["a_bucket", "b:rec", "c", "f"].map(String::from).into();
    assert_eq!(got, want);
}

#[test]
fn alert_rules_keep_the_seed_alerts_labels_and_annotations() {
    let rules = alert_rules();
    let names: BTreeSet<&str> = rules.iter().map(|r| r["alert"].as_str().unwrap()).collect();
    for required in [
        "NoActiveConnections",
        "ServiceDown",
        "HighErrorRate",
        "TooManyConnections",
        "SlowMessageProcessing",
        "HighMemoryUsage",
        "HeartbeatPingsFailing",
        "BothDeploymentsDown",
    ] {
        assert!(names.contains(required), "missing {required}");
    }
    for rule in &rules {
        let name = rule["alert"].as_str().unwrap();
        let severity = rule["labels"]["severity"].as_str().unwrap();
        assert!(
            ["critical", "warning", "info"].contains(&severity),
            "{name}"
        );
        assert!(rule["labels"]["team"].is_string(), "{name}");
        assert!(rule["annotations"]["summary"].is_string(), "{name}");
        assert!(rule["annotations"]["description"].is_string(), "{name}");
    }
    let service_down = rules.iter().find(|r| r["alert"] == "ServiceDown").unwrap();
    assert_eq!(service_down["for"], "30s");
    assert_eq!(service_down["expr"], r#"up{job="websocket-app"} == 0"#);
}

#[test]
fn prometheus_and_alertmanager_configs_wire_the_demo_together() {
    let prom = yaml("prometheus.yml");
    assert_eq!(prom["global"]["scrape_interval"], "5s");
    assert_eq!(prom["rule_files"], serde_json::json!(["alerts.yml"]));
    let job = &prom["scrape_configs"][0];
    assert_eq!(job["job_name"], "websocket-app");
    let targets: Vec<(String, String)> = job["static_configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sc| {
            (
                sc["targets"][0].as_str().unwrap().to_owned(),
                sc["labels"]["deployment"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        targets,
        [
            ("127.0.0.1:8001".into(), "blue".into()),
            ("127.0.0.1:8002".into(), "green".into())
        ]
    );

    let am = yaml("alertmanager.yml");
    let receivers = am["receivers"].as_array().unwrap();
    assert_eq!(receivers.len(), 3);
    for r in receivers {
        assert_eq!(
            r["webhook_configs"][0]["url"], "http://127.0.0.1:5001/alerts",
            "{r}"
        );
    }
    let routes: Vec<(String, String)> = am["route"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["matchers"][0].as_str().unwrap().to_owned(),
                r["receiver"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(routes.contains(&(r#"severity="critical""#.into(), "websocket-oncall".into())));
    assert!(routes.contains(&(r#"severity="warning""#.into(), "websocket-team".into())));
    assert!(routes.contains(&(
        r#"team="infrastructure""#.into(),
        "infrastructure-team".into()
    )));
}

#[test]
fn dashboard_is_a_grafana_dashboard_like_the_seeds() {
    let d = dashboard();
    assert_eq!(d["uid"], "websocket-demo");
    assert_eq!(d["schemaVersion"], 39);
    let panels = d["panels"].as_array().unwrap();
    let gauge = panels
        .iter()
        .find(|p| p["title"] == "Active Connections")
        .unwrap();
    assert_eq!(gauge["type"], "gauge");
    let steps = &gauge["fieldConfig"]["defaults"]["thresholds"]["steps"];
    assert_eq!(
        (&steps[0]["color"], &steps[1]["value"], &steps[2]["value"]),
        (
            &Value::from("green"),
            &Value::from(1700),
            &Value::from(2000)
        )
    );
    let exprs = dashboard_exprs().join("\n");
    assert!(exprs.contains("histogram_quantile(0.95"));
    assert!(exprs.contains("histogram_quantile(0.99"));
    let mut ids = BTreeSet::new();
    for p in panels {
        assert!(ids.insert(p["id"].as_u64().unwrap()), "duplicate panel id");
        assert!(p["gridPos"]["w"].as_u64().unwrap() <= 24);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_in_alerts_and_dashboard_is_exposed_by_the_service() {
    let handle = DemoService::start("blue", "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let (_, _, body) = http_get(handle.local_addr(), "/metrics").await.unwrap();
    let mut exposed = sample_names(&body);
    // Synthesised by the scraper, not by the target.
    exposed.insert("up".into());

    let mut used = BTreeSet::new();
    for rule in alert_rules() {
        used.extend(metric_names(rule["expr"].as_str().unwrap()));
    }
    for expr in dashboard_exprs() {
        used.extend(metric_names(&expr));
    }
    assert!(used.len() >= 12, "suspiciously few metrics found: {used:?}");
    let missing: Vec<_> = used.difference(&exposed).collect();
    assert!(missing.is_empty(), "used but not exposed: {missing:?}");
}

/// Runs a tool in `examples/demo/`; returns success, stdout and stdout+stderr.
fn run_tool(tool: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(tool)
        .args(args)
        .current_dir(examples_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.success(), stdout, all)
}

#[test]
fn real_tools_accept_the_files() {
    if let Some(promtool) = peer_tool("promtool") {
        for args in [
            ["check", "config", "prometheus.yml"],
            ["check", "rules", "alerts.yml"],
        ] {
            let (ok, _, out) = run_tool(&promtool, &args);
            assert!(ok, "promtool {args:?}:\n{out}");
        }
        // Dashboard queries must be valid PromQL too: check them as recording rules.
        let dir = tempfile::tempdir().unwrap();
        let rules: Vec<Value> = dashboard_exprs()
            .into_iter()
            .enumerate()
            .map(|(i, expr)| serde_json::json!({"record": format!("dashboard:query_{i}"), "expr": expr}))
            .collect();
        let file = dir.path().join("dashboard-rules.yml");
        let doc = serde_json::json!({"groups": [{"name": "dashboard", "rules": rules}]});
        // JSON is YAML.
        std::fs::write(&file, doc.to_string()).unwrap();
        let (ok, _, out) = run_tool(&promtool, &["check", "rules", file.to_str().unwrap()]);
        assert!(ok, "dashboard queries:\n{out}");
    }
    if let Some(amtool) = peer_tool("amtool") {
        let (ok, _, out) = run_tool(&amtool, &["check-config", "alertmanager.yml"]);
        assert!(ok, "amtool check-config:\n{out}");
        // The routing tree sends each kind of alert where the seeds say.
        for (labels, want) in [
            (
                &[
                    "alertname=ServiceDown",
                    "severity=critical",
                    "team=websocket",
                ][..],
                "websocket-oncall",
            ),
            (
                &[
                    "alertname=SlowMessageProcessing",
                    "severity=warning",
                    "team=websocket",
                ][..],
                "websocket-team",
            ),
            (
                &[
                    "alertname=HighCPUUsage",
                    "severity=warning",
                    "team=infrastructure",
                ][..],
                "websocket-team,infrastructure-team",
            ),
            (
                &[
                    "alertname=ApplicationLongUptime",
                    "severity=info",
                    "team=websocket",
                ][..],
                "websocket-team",
            ),
        ] {
            let mut args = vec!["config", "routes", "test", "--config.file=alertmanager.yml"];
            args.extend_from_slice(labels);
            let (_, out, _) = run_tool(&amtool, &args);
            assert_eq!(out.trim(), want, "{labels:?}");
        }
    }
}

/// `promtool test rules` over synthetic series: the key alerts fire when they should
/// and stay quiet otherwise.
#[test]
fn key_alerts_fire_under_promtool_test_rules() {
    let Some(promtool) = peer_tool("promtool") else {
        return;
    };
    let alerts = examples_dir().join("alerts.yml").canonicalize().unwrap();
    let base_blue = r#"{job="websocket-app", instance="127.0.0.1:8001", deployment="blue"}"#;
    let base_green = r#"{job="websocket-app", instance="127.0.0.1:8002", deployment="green"}"#;
    let test = format!(
        r#"rule_files: ["{alerts}"]
evaluation_interval: 5s
tests:
  - interval: 5s
    input_series:
      - series: 'up{base_blue}'
        values: '1 1 0x20'
      - series: 'up{base_green}'
        values: '1x30'
      - series: 'app_errors_total{{job="websocket-app", instance="127.0.0.1:8002", deployment="green", type="invalid_message"}}'
        values: '0+2x40'
      - series: 'websocket_connections_active{base_green}'
        values: '5x40'
      - series: 'websocket_heartbeat_pongs_total{base_green}'
        values: '7x40'
    alert_rule_test:
      - eval_time: 35s
        alertname: ServiceDown
      - eval_time: 60s
        alertname: ServiceDown
        exp_alerts:
          - exp_labels: {{severity: critical, team: websocket, job: websocket-app, instance: "127.0.0.1:8001", deployment: blue}}
            exp_annotations:
              summary: "WebSocket service blue is down"
              description: "The WebSocket application on 127.0.0.1:8001 is not responding to scrapes."
              runbook_url: "https://wiki.company.com/runbooks/service-down"
      - eval_time: 60s
        alertname: BothDeploymentsDown
      - eval_time: 100s
        alertname: HighErrorRate
        exp_alerts:
          - exp_labels: {{severity: critical, team: websocket, job: websocket-app, instance: "127.0.0.1:8002", deployment: green}}
            exp_annotations:
              summary: "High error rate detected on green"
              description: "Error rate is 24.0 errors per minute"
              runbook_url: "https://wiki.company.com/runbooks/high-error-rate"
      - eval_time: 160s
        alertname: HeartbeatPingsFailing
        exp_alerts:
          - exp_labels: {{severity: warning, team: websocket, job: websocket-app, instance: "127.0.0.1:8002", deployment: green}}
            exp_annotations:
              summary: "Heartbeat pings failing on green"
              description: "No heartbeat pong received on 127.0.0.1:8002 for more than 2 minutes while clients are connected."
  - interval: 5s
    input_series:
      - series: 'up{base_blue}'
        values: '0x12'
      - series: 'up{base_green}'
        values: '0x12'
    alert_rule_test:
      - eval_time: 40s
        alertname: BothDeploymentsDown
        exp_alerts:
          - exp_labels: {{severity: critical, team: websocket, job: websocket-app}}
            exp_annotations:
              summary: "Both blue and green deployments are down"
              description: "No instance of websocket-app is up: the WebSocket service is completely unavailable."
              runbook_url: "https://wiki.company.com/runbooks/service-down"
"#,
        alerts = alerts.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alerts_test.yml");
    std::fs::write(&file, test).unwrap();
    let (ok, _, out) = run_tool(&promtool, &["test", "rules", file.to_str().unwrap()]);
    assert!(ok, "promtool test rules:\n{out}");
}
