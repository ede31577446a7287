//! Rules → embedded alertmanager → webhook: the whole alerting path in one process.

use crate::harness::{Server, bin, free_port, http};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn firing_rule_reaches_the_webhook_sink() {
    let dir = tempfile::tempdir().unwrap();
    let sink_addr = format!("127.0.0.1:{}", free_port());
    let mut sink = Command::new(bin())
        .args(["webhook-sink", "--listen", &sink_addr])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        "global:\n  evaluation_interval: 500ms\n  external_labels: {cluster: e2e}\nrule_files: [rules.yml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n  - name: g\n    rules:\n      - alert: ServiceDown\n        expr: vector(0) == 0 or label_replace(vector(0), \"instance\", \"b\", \"\", \"\") == 0\n        labels: {severity: critical}\n        annotations: {summary: 'down ({{ $value }})'}\n",
    )
    .unwrap();
    // Two alerts in one group, one left out by max_alerts.
    std::fs::write(
        dir.path().join("alertmanager.yml"),
        format!(
            "route:\n  receiver: sink\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\nreceivers:\n  - name: sink\n    webhook_configs:\n      - url: http://{sink_addr}/alerts\n        max_alerts: 1\n"
        ),
    )
    .unwrap();
    let cfg = format!(
        "--config.file={}",
        dir.path().join("prometheus.yml").display()
    );
    let am = format!(
        "--alertmanager.config.file={}",
        dir.path().join("alertmanager.yml").display()
    );
    let s = Server::start(&dir.path().join("data"), &[&cfg, &am]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let payload = loop {
        if let Ok((200, body)) = http(&sink_addr, "GET", "/alerts", b"") {
            let list: serde_json::Value = serde_json::from_str(&body).unwrap();
            if let Some(first) = list.as_array().and_then(|l| l.first()) {
                break first["payload"].clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "no notification reached the sink"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(payload["version"], "4");
    assert_eq!(payload["status"], "firing");
    assert_eq!(payload["receiver"], "sink");
    let alert = &payload["alerts"][0];
    assert_eq!(alert["labels"]["alertname"], "ServiceDown");
    assert_eq!(alert["labels"]["cluster"], "e2e");
    assert_eq!(alert["annotations"]["summary"], "down (0)");
    assert_eq!(
        payload["alerts"].as_array().map(Vec::len),
        Some(1),
        "{payload}"
    );
    assert_eq!(payload["truncatedAlerts"], 1, "{payload}");
    let (_, metrics) = s.request("GET", "/metrics", b"").unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with(
            "watchfire_alertmanager_alerts_truncated_total{integration=\"webhook\"} "
        ) && !l.ends_with(" 0")),
        "{metrics}"
    );
    // The alertmanager API v2 answers on the same port.
    let (code, body) = s.request("GET", "/api/v2/alerts", b"").unwrap();
    assert_eq!(code, 200);
    assert!(body.contains("\"ServiceDown\""), "{body}");
    let _ = sink.kill();
    let _ = sink.wait();
}

#[test]
fn alerts_reach_an_external_alertmanager_over_api_v2() {
    // B plays the external Alertmanager (its API v2); A evaluates the rules and
    // sends to B as Prometheus does, after alert relabeling.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("am.yml"),
        "route:\n  receiver: none\nreceivers:\n  - name: none\n",
    )
    .unwrap();
    let am = format!(
        "--alertmanager.config.file={}",
        dir.path().join("am.yml").display()
    );
    let b = Server::start(&dir.path().join("b"), &[&am]);
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  evaluation_interval: 500ms\n  external_labels: {{replica: a}}\nrule_files: [rules.yml]\nalerting:\n  alert_relabel_configs:\n    - {{action: labeldrop, regex: dropme}}\n  alertmanagers:\n    - static_configs:\n        - targets: ['{}']\n",
            b.addr
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n  - name: g\n    rules:\n      - alert: External\n        expr: vector(1)\n        labels: {dropme: x, severity: page}\n",
    )
    .unwrap();
    let cfg = format!(
        "--config.file={}",
        dir.path().join("prometheus.yml").display()
    );
    let a = Server::start(&dir.path().join("a"), &[&cfg]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let alert = loop {
        let (_, body) = b.request("GET", "/api/v2/alerts", b"").unwrap();
        let list: serde_json::Value = serde_json::from_str(&body).unwrap();
        if let Some(a) = list.as_array().and_then(|l| l.first()) {
            break a.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no alert reached the external alertmanager"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(alert["labels"]["alertname"], "External");
    assert_eq!(alert["labels"]["replica"], "a");
    assert_eq!(alert["labels"]["severity"], "page");
    assert!(alert["labels"].get("dropme").is_none(), "{alert}");
    assert!(
        alert["generatorURL"]
            .as_str()
            .unwrap()
            .contains("/graph?g0.expr=")
    );
    // Sent alerts are counted (the counter moves once the post has answered).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, metrics) = a.request("GET", "/metrics", b"").unwrap();
        assert!(metrics.contains("prometheus_notifications_dropped_total 0"));
        if metrics
            .lines()
            .any(|l| l.starts_with("prometheus_notifications_sent_total ") && !l.ends_with(" 0"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sent alerts not counted: {metrics}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
