//! `watchfire demo`, as the README's walkthrough runs it: under load, stop the
//! blue instance, see ServiceDown reach the webhook sink, start it again, see
//! the resolved notification. Bounds follow from the example configuration:
//! 5 s scrapes and rule evaluation, `for: 30s`, group_wait 5 s, group_interval 15 s.

use crate::harness::{bin, free_port, http};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Demo(std::process::Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The first ServiceDown notification for `deployment` with `status`.
fn service_down(sink: &str, deployment: &str, status: &str) -> Option<Value> {
    let (code, body) = http(sink, "GET", "/alerts", b"").ok()?;
    if code != 200 {
        return None;
    }
    let list: Value = serde_json::from_str(&body).ok()?;
    list.as_array()?.iter().find_map(|e| {
        let p = &e["payload"];
        let alert = p["alerts"].as_array()?.iter().find(|a| {
            a["labels"]["alertname"] == "ServiceDown"
                && a["labels"]["deployment"] == deployment
                && a["status"] == status
        })?;
        Some(serde_json::json!({"receiver": p["receiver"], "alert": alert}))
    })
}

fn wait<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> (T, Duration) {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return (v, start.elapsed());
        }
        assert!(start.elapsed() < limit, "{what}: nothing after {limit:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn demo_service_down_fires_and_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let (web, blue, green, sink) = (free_port(), free_port(), free_port(), free_port());
    let addr = format!("127.0.0.1:{web}");
    let sink_addr = format!("127.0.0.1:{sink}");
    let child = Command::new(bin())
        .args([
            "demo",
            &format!("--web.listen-address={addr}"),
            &format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            &format!("--demo.blue-port={blue}"),
            &format!("--demo.green-port={green}"),
            &format!("--demo.sink-port={sink}"),
            "--demo.load-connections=5",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _demo = Demo(child);
    // Both instances scraped and up.
    wait("both targets up", Duration::from_secs(60), || {
        let (_, body) = http(&addr, "GET", "/api/v1/query?query=sum(up)", b"").ok()?;
        body.contains("\"2\"").then_some(())
    });
    // Load is flowing: the demo's connections show up in the scraped gauge.
    wait(
        "connections from the load generator",
        Duration::from_secs(30),
        || {
            let q = "/api/v1/query?query=sum(websocket_connections_active)";
            let (_, body) = http(&addr, "GET", q, b"").ok()?;
            (!body.contains("\"0\"") && body.contains("\"value\"")).then_some(())
        },
    );

    let (code, body) = http(&addr, "POST", "/demo/blue/stop", b"").unwrap();
    assert_eq!(code, 200, "{body}");
    // Firing: up=0 within a scrape, pending for 30 s, evaluated every 5 s,
    // first notification after group_wait 5 s: 50 s plus slack.
    let (firing, took) = wait(
        "ServiceDown firing at the sink",
        Duration::from_secs(90),
        || service_down(&sink_addr, "blue", "firing"),
    );
    assert!(
        took >= Duration::from_secs(30),
        "fired before `for: 30s`: {took:?}"
    );
    assert_eq!(firing["receiver"], "websocket-oncall", "{firing}");
    let labels = &firing["alert"]["labels"];
    assert_eq!(labels["severity"], "critical");
    assert_eq!(labels["team"], "websocket");
    assert_eq!(labels["job"], "websocket-app");
    assert_eq!(labels["instance"], format!("127.0.0.1:{blue}"));
    assert_eq!(
        firing["alert"]["annotations"]["summary"],
        "WebSocket service blue is down"
    );
    assert!(service_down(&sink_addr, "green", "firing").is_none());

    let (code, body) = http(&addr, "POST", "/demo/blue/start", b"").unwrap();
    assert_eq!(code, 200, "{body}");
    // Resolved: up=1 within a scrape, the rule resolves at its next evaluation,
    // the group's next flush is at most group_interval (15 s) later.
    let (resolved, _) = wait(
        "ServiceDown resolved at the sink",
        Duration::from_secs(60),
        || service_down(&sink_addr, "blue", "resolved"),
    );
    assert_eq!(
        resolved["alert"]["labels"]["instance"],
        format!("127.0.0.1:{blue}")
    );
}
