//! Side by side with the real Alertmanager 0.25: the same alertmanager.yml (only the
//! webhook path differs) and the same alerts posted to both over API v2 must produce the
//! same webhook notifications, at the same times within a second, and the same
//! `/api/v2/alerts` and `/api/v2/alerts/groups` contents after each phase.
//!
//! Scenario (t in seconds from the first post; every post happens on an even second and
//! every group tick falls on an odd one, so no post races a tick):
//!
//! * t0  A1, A2 (HighLatency, team=db, warning) → both `dba` (continue) and `tickets`.
//! * t1  first flush of both groups: [A1, A2].
//! * t2  A3 joins → t3 update: [A1, A2, A3].
//! * t7  repeat (repeat_interval 3s, ticks every 2s: the t5 tick is too early).
//! * t8  silence instance=i2 → t9 nothing (firing set shrank), t11 repeat [A1, A3].
//! * t12 ClusterDown (source of the inhibit rule) → t13 `tickets` gets it; the t15 repeat
//!   of HighLatency is inhibited.
//! * t16 ClusterDown resolved → t17 resolved to `tickets`; HighLatency repeats [A1, A3].
//! * t18 A1..A3 resolved → t19 resolved [A1, A3] (A2 stays silenced).
//!
//! repeat_interval is 3s, not 4s: with 4s = 2 x group_interval the repeat tick races the
//! notification log timestamp (logged after the send) in Alertmanager itself.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use watchfire_alertmanager::{Alertmanager, Clock, SystemClock};

const BIN: &str = "prometheus-alertmanager";

fn config_text(hook: &str) -> String {
    format!(
        r#"
global:
  resolve_timeout: 5m
route:
  receiver: default
  group_by: [alertname, cluster]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 3s
  routes:
    - matchers: [team="db"]
      receiver: dba
      continue: true
    - matchers: ['severity=~"warning|critical"']
      receiver: tickets
inhibit_rules:
  - source_matchers: [alertname="ClusterDown"]
    target_matchers: [severity="warning"]
    equal: [cluster]
receivers:
  - name: default
    webhook_configs: [{{url: "{hook}", send_resolved: true}}]
  - name: dba
    webhook_configs: [{{url: "{hook}", send_resolved: true}}]
  - name: tickets
    webhook_configs: [{{url: "{hook}", send_resolved: true}}]
"#
    )
}

/// One webhook delivery: seconds since the scenario start, who sent it, the payload.
#[derive(Debug, Clone)]
struct Delivery {
    at: f64,
    system: String,
    body: Value,
}

type Log = Arc<parking_lot::Mutex<Vec<Delivery>>>;

async fn start_receiver(log: Log, t0: Arc<parking_lot::Mutex<Instant>>) -> SocketAddr {
    use axum::extract::{Path, State};
    let app = axum::Router::new()
        .route(
            "/{system}",
            axum::routing::post(
                |State((log, t0)): State<(Log, Arc<parking_lot::Mutex<Instant>>)>,
                 Path(system): Path<String>,
                 body: String| async move {
                    let at = t0.lock().elapsed().as_secs_f64();
                    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
                    log.lock().push(Delivery { at, system, body });
                    "ok"
                },
            ),
        )
        .with_state((log, t0));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    addr
}

/// A free port in the peers' range 19000-19999.
fn free_port() -> u16 {
    // An ephemeral port from the OS: parallel tests get different ones (a seed from the
    // process id alone gave two tests of one process the same port).
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Client {
    http: reqwest::Client,
}

impl Client {
    async fn get(&self, base: &str, path: &str) -> Value {
        let r = self.http.get(format!("{base}{path}")).send().await.unwrap();
        assert!(r.status().is_success(), "GET {base}{path}: {}", r.status());
        r.json().await.unwrap()
    }
    async fn post(&self, base: &str, path: &str, body: &Value) -> Value {
        let r = self
            .http
            .post(format!("{base}{path}"))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "POST {base}{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

fn skip_reason() -> Option<String> {
    if std::env::var("WATCHFIRE_SKIP_PEERS").as_deref() == Ok("1") {
        return Some("WATCHFIRE_SKIP_PEERS=1".into());
    }
    if std::process::Command::new(BIN)
        .arg("--version")
        .output()
        .is_err()
    {
        return Some(format!("{BIN} not found on PATH"));
    }
    None
}

fn alert(labels: &[(&str, &str)], ends_at: Option<&str>) -> Value {
    let labels: BTreeMap<_, _> = labels.iter().copied().collect();
    let mut a = json!({"labels": labels, "annotations": {"summary": "s"}});
    if let Some(e) = ends_at {
        a["endsAt"] = json!(e);
    }
    a
}

fn rfc3339(offset_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(SystemClock.now() + offset_ms)
        .unwrap()
        .to_string()
}

/// A notification reduced to what must match: (receiver, groupKey, groupLabels, status,
/// sorted (labels, status, fingerprint)).
fn notification_shape(body: &Value) -> Value {
    let mut alerts: Vec<Value> = body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| json!([a["labels"], a["status"], a["fingerprint"]]))
        .collect();
    alerts.sort_by_key(|a| a.to_string());
    json!({
        "receiver": body["receiver"],
        "groupKey": body["groupKey"],
        "groupLabels": body["groupLabels"],
        "commonLabels": body["commonLabels"],
        "status": body["status"],
        "alerts": alerts,
        "version": body["version"],
    })
}

/// An API alert reduced to what both systems must agree on. Silence ids differ between
/// the systems, so only their count is kept; inhibitedBy holds fingerprints, kept as is.
fn alert_shape(a: &Value) -> Value {
    let mut receivers: Vec<String> = a["receivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    receivers.sort();
    for k in ["startsAt", "endsAt", "updatedAt", "annotations"] {
        assert!(a.get(k).is_some(), "alert without {k}: {a}");
    }
    json!({
        "fingerprint": a["fingerprint"],
        "labels": a["labels"],
        "annotations": a["annotations"],
        "receivers": receivers,
        "state": a["status"]["state"],
        "silencedBy": a["status"]["silencedBy"].as_array().map(Vec::len),
        "inhibitedBy": a["status"]["inhibitedBy"],
    })
}

fn alerts_shape(v: &Value) -> Value {
    let mut list: Vec<Value> = v.as_array().unwrap().iter().map(alert_shape).collect();
    list.sort_by_key(|a| a["fingerprint"].to_string());
    Value::Array(list)
}

fn groups_shape(v: &Value) -> Value {
    let mut list: Vec<Value> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            json!({
                "labels": g["labels"],
                "receiver": g["receiver"]["name"],
                "alerts": alerts_shape(&g["alerts"]),
            })
        })
        .collect();
    list.sort_by_key(|g| g.to_string());
    Value::Array(list)
}

/// Keys of the real API objects must all exist in Watchfire's (it may add its own).
fn assert_keys_subset(real: &Value, wf: &Value, path: &str) {
    match (real, wf) {
        (Value::Object(r), Value::Object(w)) => {
            for (k, rv) in r {
                let wv = w
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} missing in Watchfire: {wf}"));
                assert_keys_subset(rv, wv, &format!("{path}.{k}"));
            }
        }
        (Value::Array(r), Value::Array(w)) => {
            if let (Some(r0), Some(w0)) = (r.first(), w.first()) {
                assert_keys_subset(r0, w0, &format!("{path}[0]"));
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_notifications_as_real_alertmanager() {
    if let Some(why) = skip_reason() {
        eprintln!("skipping peer comparison: {why}");
        return;
    }
    let log: Log = Arc::default();
    let t0 = Arc::new(parking_lot::Mutex::new(Instant::now()));
    let hook = start_receiver(Arc::clone(&log), Arc::clone(&t0)).await;

    // The real Alertmanager, clustering off.
    let dir = tempfile::tempdir().unwrap();
    let cfg_file = dir.path().join("alertmanager.yml");
    std::fs::write(&cfg_file, config_text(&format!("http://{hook}/real"))).unwrap();
    let port = free_port();
    let _real = Child(
        std::process::Command::new(BIN)
            .arg(format!("--config.file={}", cfg_file.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let real = format!("http://127.0.0.1:{port}");

    // Watchfire, on the wall clock with the real webhook integration.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let wf_cfg = crate::common::config(&config_text(&format!("http://{hook}/wf")));
    let am = Alertmanager::start(wf_cfg, None, "http://wf.example", clock).unwrap();
    let wf = format!("http://{}", crate::common::serve(Arc::clone(&am)).await);

    // A client without proxies; building notify's client installs the TLS provider.
    let _ = watchfire_notify::default_http_client(None).unwrap();
    let c = Client {
        http: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = c.http.get(format!("{real}/-/ready")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "{BIN} did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let a1 = [
        ("alertname", "HighLatency"),
        ("cluster", "c1"),
        ("instance", "i1"),
        ("severity", "warning"),
        ("team", "db"),
    ];
    let mut a2 = a1;
    a2[2].1 = "i2";
    let mut a3 = a1;
    a3[2].1 = "i3";
    let src = [
        ("alertname", "ClusterDown"),
        ("cluster", "c1"),
        ("severity", "critical"),
    ];

    let start = Instant::now();
    *t0.lock() = start;
    let at = |s: f64| tokio::time::sleep_until((start + Duration::from_secs_f64(s)).into());
    let post_both = |alerts: Value| {
        let c = &c;
        let (real, wf) = (real.clone(), wf.clone());
        async move {
            tokio::join!(
                c.post(&real, "/api/v2/alerts", &alerts),
                c.post(&wf, "/api/v2/alerts", &alerts)
            );
        }
    };
    let mut snapshots = 0;
    let compare_api = |phase: &'static str| {
        let c = &c;
        let (real, wf) = (real.clone(), wf.clone());
        async move {
            for path in ["/api/v2/alerts", "/api/v2/alerts/groups"] {
                let (r, w) = tokio::join!(c.get(&real, path), c.get(&wf, path));
                assert_keys_subset(&r, &w, path);
                let (rs, ws) = if path.ends_with("groups") {
                    (groups_shape(&r), groups_shape(&w))
                } else {
                    (alerts_shape(&r), alerts_shape(&w))
                };
                assert_eq!(
                    ws, rs,
                    "{phase}: GET {path} differs\nwatchfire: {ws:#}\nreal: {rs:#}"
                );
            }
        }
    };

    post_both(json!([alert(&a1, None), alert(&a2, None)])).await;
    at(0.5).await;
    compare_api("t0.5 two alerts").await;
    snapshots += 1;
    at(2.0).await;
    post_both(json!([alert(&a3, None)])).await;
    at(2.5).await;
    compare_api("t2.5 third alert").await;
    snapshots += 1;
    at(8.0).await;
    let silence = json!({
        "matchers": [{"name": "instance", "value": "i2", "isRegex": false, "isEqual": true}],
        "startsAt": rfc3339(0),
        "endsAt": rfc3339(3_600_000),
        "createdBy": "peer-test",
        "comment": "mute i2",
    });
    let (rs, ws) = tokio::join!(
        c.post(&real, "/api/v2/silences", &silence),
        c.post(&wf, "/api/v2/silences", &silence)
    );
    assert!(rs["silenceID"].is_string() && ws["silenceID"].is_string());
    at(8.5).await;
    compare_api("t8.5 silenced").await;
    snapshots += 1;
    at(12.0).await;
    post_both(json!([alert(&src, None)])).await;
    at(12.5).await;
    compare_api("t12.5 inhibited").await;
    snapshots += 1;
    at(16.0).await;
    post_both(json!([alert(&src, Some(&rfc3339(0)))])).await;
    at(16.5).await;
    compare_api("t16.5 source resolved").await;
    snapshots += 1;
    at(18.0).await;
    let now = rfc3339(0);
    post_both(json!([
        alert(&a1, Some(&now)),
        alert(&a2, Some(&now)),
        alert(&a3, Some(&now))
    ]))
    .await;
    at(18.5).await;
    compare_api("t18.5 all resolved").await;
    snapshots += 1;
    at(20.5).await;
    am.stop().await.unwrap();
    assert_eq!(snapshots, 6);

    // Notifications, per system in arrival order.
    let log = log.lock().clone();
    let mut by_system: BTreeMap<&str, Vec<(f64, Value)>> = BTreeMap::new();
    for d in &log {
        eprintln!(
            "{:7.3}s {:4} {} {} {}",
            d.at,
            d.system,
            d.body["receiver"],
            d.body["status"],
            d.body["alerts"]
                .as_array()
                .map(|a| a
                    .iter()
                    .map(|x| format!("{}/{}", x["labels"]["instance"], x["status"]))
                    .collect::<Vec<_>>()
                    .join(","))
                .unwrap_or_default()
        );
        by_system
            .entry(d.system.as_str())
            .or_default()
            .push((d.at, notification_shape(&d.body)));
    }
    let real_n = by_system.remove("real").unwrap_or_default();
    let wf_n = by_system.remove("wf").unwrap_or_default();
    assert!(by_system.is_empty(), "unexpected webhook paths");
    // Notifications of one tick to different receivers may arrive in any order: compare
    // per (receiver, group) stream.
    let streams = |v: &[(f64, Value)]| {
        let mut m: BTreeMap<String, Vec<(f64, Value)>> = BTreeMap::new();
        for (t, n) in v {
            let k = format!("{} {}", n["receiver"], n["groupKey"]);
            m.entry(k).or_default().push((*t, n.clone()));
        }
        m
    };
    let (rs, ws) = (streams(&real_n), streams(&wf_n));
    assert_eq!(
        rs.keys().collect::<Vec<_>>(),
        ws.keys().collect::<Vec<_>>(),
        "different (receiver, group) streams"
    );
    for (k, r) in &rs {
        let w = &ws[k];
        let shapes = |v: &[(f64, Value)]| v.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            shapes(w),
            shapes(r),
            "{k}: notifications differ\nwatchfire: {w:#?}\nreal: {r:#?}"
        );
        for ((tr, _), (tw, _)) in r.iter().zip(w) {
            assert!(
                (tr - tw).abs() <= 1.0,
                "{k}: real at {tr:.3}s, watchfire at {tw:.3}s"
            );
        }
    }
    // The scenario really exercised grouping, update, repeat, silence, inhibition and
    // resolve: these are the real Alertmanager's notifications, checked above to equal
    // Watchfire's.
    let dba = &rs[r#""dba" "{}/{team=\"db\"}:{alertname=\"HighLatency\", cluster=\"c1\"}""#];
    let counts: Vec<usize> = dba
        .iter()
        .map(|(_, n)| n["alerts"].as_array().unwrap().len())
        .collect();
    let statuses: Vec<&str> = dba
        .iter()
        .map(|(_, n)| n["status"].as_str().unwrap())
        .collect();
    assert_eq!(counts, [2, 3, 3, 2, 2, 2], "{dba:#?}");
    assert_eq!(
        statuses,
        ["firing", "firing", "firing", "firing", "firing", "resolved"]
    );
}

/// Time intervals built around the wall-clock instant of the test, so that which routes
/// are muted is known in advance: the same config runs in the real Alertmanager and in
/// Watchfire, and both must notify exactly the expected routes. Covers `location`
/// (weekday in zones 25h apart, a time window in a +05:45 zone against the same window
/// in UTC), negative days of month, months, years, and active intervals.
fn interval_config(hook: &str, now: jiff::Timestamp) -> String {
    let zoned = |tz: &str| now.to_zoned(jiff::tz::TimeZone::get(tz).unwrap());
    let weekday = |z: &jiff::Zoned| {
        [
            "sunday",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
        ][z.weekday().to_sunday_zero_offset() as usize]
    };
    let kiri = zoned("Pacific/Kiritimati");
    let ktm = zoned("Asia/Kathmandu");
    let m = i32::from(ktm.hour()) * 60 + i32::from(ktm.minute());
    let hhmm = |m: i32| format!("{:02}:{:02}", m / 60, m % 60);
    let (from, to) = (hhmm((m - 30).max(0)), hhmm((m + 30).min(1440)));
    let utc = now.to_zoned(jiff::tz::TimeZone::UTC);
    let from_end = i32::from(utc.date().days_in_month()) - i32::from(utc.day()) + 1;
    format!(
        r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1m
  routes:
    - {{matchers: [alertname="MuteKiri"], mute_time_intervals: [kiri-day]}}
    - {{matchers: [alertname="MutePago"], mute_time_intervals: [kiri-day-in-pago]}}
    - {{matchers: [alertname="MuteKtm"], mute_time_intervals: [ktm-now]}}
    - {{matchers: [alertname="MuteUtcTimes"], mute_time_intervals: [ktm-times-in-utc]}}
    - {{matchers: [alertname="MuteCalendar"], mute_time_intervals: [calendar]}}
    - {{matchers: [alertname="ActiveKiri"], active_time_intervals: [kiri-day]}}
    - {{matchers: [alertname="ActivePago"], active_time_intervals: [kiri-day-in-pago]}}
receivers:
  - name: hook
    webhook_configs: [{{url: "{hook}"}}]
time_intervals:
  - name: kiri-day
    time_intervals: [{{weekdays: [{day}], location: Pacific/Kiritimati}}]
  - name: kiri-day-in-pago
    time_intervals: [{{weekdays: [{day}], location: Pacific/Pago_Pago}}]
  - name: ktm-now
    time_intervals:
      - times: [{{start_time: '{from}', end_time: '{to}'}}]
        location: Asia/Kathmandu
  - name: ktm-times-in-utc
    time_intervals: [{{times: [{{start_time: '{from}', end_time: '{to}'}}]}}]
  - name: calendar
    time_intervals:
      - days_of_month: ['-{from_end}']
        months: ['{month}']
        years: ['{year}']
"#,
        day = weekday(&kiri),
        month = utc.month(),
        year = utc.year(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_intervals_match_real_alertmanager() {
    if let Some(why) = skip_reason() {
        eprintln!("skipping peer comparison: {why}");
        return;
    }
    // Keep clear of minute/day boundaries that could flip an interval mid-test: the
    // windows are ±30 min and the weekday zones are 25h apart, so only the last seconds
    // before a UTC or Kiritimati/Kathmandu midnight matter; wait those out.
    loop {
        let now = jiff::Timestamp::now();
        let near_midnight = [
            "UTC",
            "Pacific/Kiritimati",
            "Asia/Kathmandu",
            "Pacific/Pago_Pago",
        ]
        .iter()
        .any(|tz| {
            let z = now.to_zoned(jiff::tz::TimeZone::get(tz).unwrap());
            z.hour() == 23 && z.minute() >= 59 || z.hour() == 0 && z.minute() < 1
        });
        if !near_midnight {
            break;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let log: Log = Arc::default();
    let t0 = Arc::new(parking_lot::Mutex::new(Instant::now()));
    let hook = start_receiver(Arc::clone(&log), Arc::clone(&t0)).await;
    let now = jiff::Timestamp::now();

    let dir = tempfile::tempdir().unwrap();
    let cfg_file = dir.path().join("alertmanager.yml");
    std::fs::write(
        &cfg_file,
        interval_config(&format!("http://{hook}/real"), now),
    )
    .unwrap();
    let port = free_port();
    let _real = Child(
        std::process::Command::new(BIN)
            .arg(format!("--config.file={}", cfg_file.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let real = format!("http://127.0.0.1:{port}");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let wf_cfg = crate::common::config(&interval_config(&format!("http://{hook}/wf"), now));
    let am = Alertmanager::start(wf_cfg, None, "http://wf.example", clock).unwrap();

    let _ = watchfire_notify::default_http_client(None).unwrap();
    let c = Client {
        http: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = c.http.get(format!("{real}/-/ready")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "{BIN} did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let names = [
        "MuteKiri",
        "MutePago",
        "MuteKtm",
        "MuteUtcTimes",
        "MuteCalendar",
        "ActiveKiri",
        "ActivePago",
    ];
    let alerts: Vec<Value> = names
        .iter()
        .map(|n| alert(&[("alertname", n)], None))
        .collect();
    c.post(&real, "/api/v2/alerts", &json!(alerts)).await;
    am.put_alerts(
        names
            .iter()
            .map(|n| crate::common::alert(&[("alertname", n)]))
            .collect(),
    )
    .unwrap();
    // group_wait is 1s; give both time to deliver.
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    am.stop().await.unwrap();

    let sent = |system: &str| -> Vec<String> {
        let mut v: Vec<String> = log
            .lock()
            .iter()
            .filter(|d| d.system == system)
            .map(|d| {
                d.body["groupLabels"]["alertname"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        v.sort();
        v
    };
    let expected = vec!["ActiveKiri", "MutePago", "MuteUtcTimes"];
    assert_eq!(sent("real"), expected, "real Alertmanager");
    assert_eq!(sent("wf"), expected, "Watchfire");
}
