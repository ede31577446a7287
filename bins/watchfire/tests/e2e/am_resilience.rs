//! Notifications survive a receiver that is down and a Watchfire restart in the middle,
//! and are delivered exactly once.
//!
//! Alertmanager's issue speaks of a receiver that is down "for minutes". The mechanism
//! does not depend on how long: while the receiver refuses connections, every group flush
//! retries with backoff until its deadline (the tick plus `max(group_interval, 10s)`), then
//! the next flush starts over; the notification log only records a delivery that
//! succeeded, so nothing marks the group as notified however many flushes fail. A
//! restart loses the in-flight retries but not the log (written on shutdown), and the
//! rules re-send the firing alert, so the new process starts retrying again. Minutes of
//! downtime are just more of the same flushes; seconds show the same behaviour.

use crate::harness::{Server, bin, free_port, http};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `group_wait` and `group_interval` of the test route, in seconds.
const GROUP_WAIT_S: u64 = 1;
const GROUP_INTERVAL_S: u64 = 2;
/// Alertmanager never gives a flush less than this to retry (its notify timeout floor).
const MIN_FLUSH_TIMEOUT_S: u64 = 10;
/// Startup, rule evaluation (1s interval, `for: 1s`) and CI scheduling noise.
const SLACK_S: u64 = 15;

fn write_configs(dir: &Path, sink_addr: &str) {
    std::fs::write(
        dir.join("prometheus.yml"),
        "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: g\n    rules:\n      - alert: ReceiverOutage\n        expr: vector(1)\n        for: 1s\n        labels: {severity: page}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("alertmanager.yml"),
        format!(
            "route:\n  receiver: sink\n  group_by: [alertname]\n  group_wait: {GROUP_WAIT_S}s\n  group_interval: {GROUP_INTERVAL_S}s\n  repeat_interval: 1h\nreceivers:\n  - name: sink\n    webhook_configs:\n      - url: http://{sink_addr}/alerts\n"
        ),
    )
    .unwrap();
}

fn start(dir: &Path) -> Server {
    let cfg = format!("--config.file={}", dir.join("prometheus.yml").display());
    let am = format!(
        "--alertmanager.config.file={}",
        dir.join("alertmanager.yml").display()
    );
    Server::start(&dir.join("data"), &[&cfg, &am])
}

/// Notification attempts to the `sink` receiver, newest first.
fn attempts(s: &Server) -> Vec<Value> {
    let (code, body) = s
        .request(
            "GET",
            "/api/v2/watchfire/history?receiver=sink&limit=10000",
            b"",
        )
        .unwrap();
    assert_eq!(code, 200, "{body}");
    serde_json::from_str::<Value>(&body)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn count(attempts: &[Value], outcome: &str) -> usize {
    attempts.iter().filter(|a| a["outcome"] == outcome).count()
}

/// Notifications the sink has received (none while it is still starting).
fn received(sink_addr: &str) -> Vec<Value> {
    let Ok((code, body)) = http(sink_addr, "GET", "/alerts", b"") else {
        return Vec::new();
    };
    assert_eq!(code, 200, "{body}");
    serde_json::from_str::<Value>(&body)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn wait_for<T>(what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the server has the firing alert (the rules re-sent it).
fn wait_alert(s: &Server) {
    wait_for(
        "the rule's alert at the alertmanager",
        Duration::from_secs(SLACK_S),
        || {
            let (code, body) = s.request("GET", "/api/v2/alerts", b"").ok()?;
            (code == 200 && body.contains("\"ReceiverOutage\"")).then_some(())
        },
    );
}

struct Sink(Child);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn notification_survives_receiver_outage_and_restart_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    // Reserved, nobody listens yet: every delivery attempt is refused.
    let sink_addr = format!("127.0.0.1:{}", free_port());
    write_configs(dir.path(), &sink_addr);

    // First process: the rule fires, the first flush fails and keeps retrying.
    let mut s = start(dir.path());
    wait_alert(&s);
    let failed_before_restart = wait_for(
        "two failed, retryable attempts before the restart",
        Duration::from_secs(GROUP_WAIT_S + SLACK_S),
        || {
            let a = attempts(&s);
            (count(&a, "failure") >= 2).then_some(a)
        },
    );
    assert_eq!(count(&failed_before_restart, "success"), 0);
    let last = &failed_before_restart[0];
    assert_eq!(last["retryable"], true, "{last}");
    assert_eq!(last["groupKey"], "{}:{alertname=\"ReceiverOutage\"}");
    assert!(http(&sink_addr, "GET", "/alerts", b"").is_err());
    s.stop();

    // Second process on the same data dir, receiver still down: it retries on its own.
    let s = start(dir.path());
    let persisted = count(&attempts(&s), "failure");
    assert!(
        persisted >= 2,
        "history survives the restart: {persisted} failures"
    );
    wait_alert(&s);
    wait_for(
        "a failed attempt by the restarted process",
        Duration::from_secs(GROUP_WAIT_S + SLACK_S),
        || (count(&attempts(&s), "failure") > persisted).then_some(()),
    );

    // The receiver comes back: the pending notification arrives within one retry window
    // (a flush retries until tick + max(group_interval, 10s)) plus one group_interval
    // for the next flush.
    let sink = Sink(
        Command::new(bin())
            .args(["webhook-sink", "--listen", &sink_addr])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let bound = Duration::from_secs(MIN_FLUSH_TIMEOUT_S.max(GROUP_INTERVAL_S) + GROUP_INTERVAL_S)
        + Duration::from_secs(SLACK_S);
    let got = wait_for("the notification at the sink", bound, || {
        let r = received(&sink_addr);
        (!r.is_empty()).then_some(r)
    });
    let payload = &got[0]["payload"];
    assert_eq!(payload["status"], "firing", "{payload}");
    assert_eq!(payload["receiver"], "sink");
    assert_eq!(payload["groupKey"], "{}:{alertname=\"ReceiverOutage\"}");
    assert_eq!(
        payload["alerts"][0]["labels"]["alertname"],
        "ReceiverOutage"
    );
    assert_eq!(payload["alerts"][0]["labels"]["severity"], "page");

    // Later flushes of the same group find it in the notification log: nothing more is
    // sent before repeat_interval (1h).
    std::thread::sleep(Duration::from_secs(2 * GROUP_INTERVAL_S + 1));
    assert_eq!(received(&sink_addr).len(), 1, "{:?}", received(&sink_addr));
    assert_eq!(count(&attempts(&s), "success"), 1);
    // The delivery is on disk already (the log is written within a second of a change),
    // not only at shutdown.
    let nflog = std::fs::read_to_string(dir.path().join("data/alertmanager/nflog.json")).unwrap();
    assert!(nflog.contains("ReceiverOutage"), "{nflog}");

    // Second restart after the delivery: the log comes back from disk, so the re-sent
    // alert's new group (first flush after group_wait) is deduplicated.
    let mut s = s;
    s.stop();
    let s = start(dir.path());
    wait_alert(&s);
    std::thread::sleep(Duration::from_secs(GROUP_WAIT_S + 2 * GROUP_INTERVAL_S + 1));
    let groups = s.request("GET", "/api/v2/alerts/groups", b"").unwrap().1;
    assert!(groups.contains("ReceiverOutage"), "{groups}");
    let after = received(&sink_addr);
    assert_eq!(after.len(), 1, "duplicate after the restart: {after:?}");
    let a = attempts(&s);
    assert_eq!(count(&a, "success"), 1, "{a:?}");
    drop(sink);
}
