//! Side by side with the real Prometheus 2.42: the same OpenMetrics file is
//! backfilled into both (promtool there, `watchfire tsdb import` here), both HTTP
//! APIs answer the same queries, and the JSON must agree up to float tolerance and
//! series order. Where 2.42 and Prometheus 3 semantics differ, 3 wins and
//! `range_boundaries_follow_prometheus_3` says so.

use crate::harness::{Server, enc, free_port, http, tool};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const START: i64 = 1_700_000_000; // seconds
const STEPS: i64 = 720; // 3 hours at 15 s

fn input() -> String {
    let mut s = String::new();
    s.push_str("# TYPE http_requests counter\n");
    for (i, (code, rate)) in [("200", 40), ("404", 3), ("500", 1)].iter().enumerate() {
        for inst in ["a", "b"] {
            let mut total = 0i64;
            for k in 0..STEPS {
                total += rate + (k * 7 + i as i64) % 5;
                if inst == "b" && k == 400 {
                    total = 3; // a counter reset
                }
                s.push_str(&format!(
                    "http_requests_total{{code=\"{code}\",instance=\"{inst}\",job=\"api\"}} {total} {}\n",
                    START + k * 15
                ));
            }
        }
    }
    s.push_str("# TYPE temperature_celsius gauge\n");
    for inst in ["a", "b"] {
        for k in 0..STEPS {
            let v = 20.0 + ((k as f64) / 40.0).sin() * 5.0 + if inst == "b" { 1.5 } else { 0.0 };
            s.push_str(&format!(
                "temperature_celsius{{instance=\"{inst}\",job=\"api\"}} {v:.1} {}\n",
                START + k * 15
            ));
        }
    }
    s.push_str("# TYPE latency_seconds histogram\n");
    let les = ["0.1", "0.5", "1", "+Inf"];
    for (j, le) in les.iter().enumerate() {
        let mut c = 0i64;
        for k in 0..STEPS {
            c += (j as i64 + 1) * 3 + k % 3;
            s.push_str(&format!(
                "latency_seconds_bucket{{job=\"api\",le=\"{le}\"}} {c} {}\n",
                START + k * 15
            ));
        }
    }
    s.push_str("# EOF\n");
    s
}

/// Queries compared as instant queries (at several times) and as range queries.
const QUERIES: &[&str] = &[
    "http_requests_total",
    "rate(http_requests_total[5m])",
    "sum by (code) (rate(http_requests_total[5m]))",
    "sum without (instance) (increase(http_requests_total[10m]))",
    "irate(http_requests_total[1m])",
    "resets(http_requests_total[1h])",
    "topk(2, rate(http_requests_total[5m]))",
    "avg_over_time(temperature_celsius[10m])",
    "max_over_time(temperature_celsius[30m]) - min_over_time(temperature_celsius[30m])",
    "temperature_celsius > 22",
    "temperature_celsius > bool 22",
    "temperature_celsius offset 10m",
    "deriv(temperature_celsius[15m])",
    "predict_linear(temperature_celsius[30m], 600)",
    "quantile(0.9, temperature_celsius)",
    "count_values(\"v\", round(temperature_celsius))",
    "histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket[5m])))",
    "label_replace(temperature_celsius, \"host\", \"h-$1\", \"instance\", \"(.*)\")",
    "rate(http_requests_total{code=~\"4..|5..\"}[5m]) / ignoring(code) group_left sum without (code) (rate(http_requests_total[5m]))",
    "absent(nonexistent_metric)",
    "sum(rate(http_requests_total[5m])) by (job) * on(job) group_left count by (job) (temperature_celsius)",
    "max_over_time(rate(http_requests_total[2m])[20m:1m])",
    "scalar(sum(temperature_celsius)) * 2",
    "time() - timestamp(temperature_celsius)",
];

struct Prometheus {
    child: Child,
    addr: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn have(bin: &str) -> bool {
    Command::new(bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn start_prometheus(data: &std::path::Path, config: &std::path::Path) -> Prometheus {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg("--storage.tsdb.retention.time=100y")
        .arg(format!("--web.listen-address={addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let p = Prometheus { child, addr };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok((200, _)) = http(&p.addr, "GET", "/-/ready", b"") {
            return p;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("prometheus did not become ready");
}

fn get_json(addr: &str, path: &str) -> Value {
    let (code, body) = http(addr, "GET", path, b"").expect("http");
    serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{addr}{path} answered {code} with non-JSON ({e}): {body}"))
}

/// Series of a result keyed by their label set, for order-independent comparison.
fn normalise(v: &Value) -> Vec<(String, Vec<(f64, String)>)> {
    let data = &v["data"];
    let mut out = Vec::new();
    let points = |arr: &Value| -> Vec<(f64, String)> {
        arr.as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        (
                            p[0].as_f64().unwrap_or(f64::NAN),
                            p[1].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    match data["resultType"].as_str() {
        Some("vector") | Some("matrix") => {
            for s in data["result"].as_array().into_iter().flatten() {
                let mut labels: Vec<(String, String)> = s["metric"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                labels.sort();
                let pts = if s.get("values").is_some() {
                    points(&s["values"])
                } else {
                    vec![(
                        s["value"][0].as_f64().unwrap_or(f64::NAN),
                        s["value"][1].as_str().unwrap_or("").to_string(),
                    )]
                };
                out.push((format!("{labels:?}"), pts));
            }
        }
        Some("scalar") | Some("string") => out.push((
            "".into(),
            vec![(
                data["result"][0].as_f64().unwrap_or(f64::NAN),
                data["result"][1].as_str().unwrap_or("").to_string(),
            )],
        )),
        _ => {}
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn close(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => {
            (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-6 * x.abs().max(y.abs()).max(1e-12)
        }
        _ => false,
    }
}

fn assert_same(what: &str, prom: &Value, wf: &Value) {
    assert_eq!(
        prom["status"], wf["status"],
        "{what}: status\nprometheus: {prom}\nwatchfire: {wf}"
    );
    assert_eq!(
        prom["data"]["resultType"], wf["data"]["resultType"],
        "{what}: resultType"
    );
    let (p, w) = (normalise(prom), normalise(wf));
    assert_eq!(
        p.iter().map(|s| &s.0).collect::<Vec<_>>(),
        w.iter().map(|s| &s.0).collect::<Vec<_>>(),
        "{what}: series differ\nprometheus: {prom}\nwatchfire: {wf}"
    );
    for ((labels, pp), (_, wp)) in p.iter().zip(&w) {
        assert_eq!(
            pp.len(),
            wp.len(),
            "{what}: point count of {labels}\nprometheus: {prom}\nwatchfire: {wf}"
        );
        for (a, b) in pp.iter().zip(wp) {
            assert!(
                (a.0 - b.0).abs() < 1e-3,
                "{what}: timestamps {} vs {} in {labels}",
                a.0,
                b.0
            );
            assert!(
                close(&a.1, &b.1),
                "{what}: value {} vs {} at {} in {labels}",
                a.1,
                b.1,
                a.0
            );
        }
    }
}

struct Pair {
    prom: Prometheus,
    wf: Server,
    _dir: tempfile::TempDir,
}

fn setup() -> Option<Pair> {
    if !have("prometheus") || !have("promtool") {
        if std::env::var_os("WATCHFIRE_SKIP_PEERS").is_some() {
            eprintln!("prometheus/promtool not installed; skipping (WATCHFIRE_SKIP_PEERS is set)");
            return None;
        }
        panic!(
            "prometheus and promtool must be installed: run ../shared/peers/install.sh, or set WATCHFIRE_SKIP_PEERS=1"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.om");
    std::fs::write(&file, input()).unwrap();
    let prom_data = dir.path().join("prom");
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(&prom_data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15s\n").unwrap();
    let wf_data = dir.path().join("wf");
    let out = tool(&[
        "tsdb",
        "import",
        "openmetrics",
        file.to_str().unwrap(),
        wf_data.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prom = start_prometheus(&prom_data, &config);
    let wf = Server::start(&wf_data, &[]);
    Some(Pair {
        prom,
        wf,
        _dir: dir,
    })
}

#[test]
fn query_api_matches_prometheus() {
    let Some(pair) = setup() else { return };
    // Evaluation times fall between samples (7 s past a scrape) so that no sample sits
    // exactly on a range boundary, where 2.42 and 3.x differ (tested separately below);
    // range steps are multiples of the 15 s scrape interval for the same reason.
    let times: Vec<i64> = [3_007, 6_007, 9_607, 10_792]
        .iter()
        .map(|o| START + o)
        .collect();
    for q in QUERIES {
        for t in &times {
            let path = format!("/api/v1/query?query={}&time={t}", enc(q));
            assert_same(
                &format!("instant {q} @ {t}"),
                &get_json(&pair.prom.addr, &path),
                &get_json(&pair.wf.addr, &path),
            );
        }
        let path = format!(
            "/api/v1/query_range?query={}&start={}&end={}&step=90",
            enc(q),
            START + 1_207,
            START + 10_000
        );
        assert_same(
            &format!("range {q}"),
            &get_json(&pair.prom.addr, &path),
            &get_json(&pair.wf.addr, &path),
        );
    }
    // `stats`: the samples each step's selectors see, counted as Prometheus does.
    for q in [
        "http_requests_total",
        "rate(http_requests_total[5m])",
        "sum by (code) (rate(http_requests_total[5m]))",
        "temperature_celsius offset 10m",
        "max_over_time(temperature_celsius[30m]) - min_over_time(temperature_celsius[30m])",
        "max_over_time(rate(http_requests_total[2m])[20m:1m])",
    ] {
        for path in [
            format!(
                "/api/v1/query?query={}&time={}&stats=true",
                enc(q),
                START + 6_007
            ),
            format!(
                "/api/v1/query_range?query={}&start={}&end={}&step=90&stats=all",
                enc(q),
                START + 1_207,
                START + 10_000
            ),
        ] {
            let (p, w) = (
                get_json(&pair.prom.addr, &path),
                get_json(&pair.wf.addr, &path),
            );
            let total = |v: &Value| v["data"]["stats"]["samples"]["totalQueryableSamples"].clone();
            assert!(total(&p).is_u64(), "{path}: prometheus {p}");
            assert_eq!(total(&p), total(&w), "{path}: totalQueryableSamples");
            for k in ["evalTotalTime", "execQueueTime", "execTotalTime"] {
                assert!(
                    w["data"]["stats"]["timings"][k].is_f64(),
                    "{path}: {k} in {w}"
                );
            }
        }
    }
    // Errors: same type and status.
    for (path, what) in [
        ("/api/v1/query?query=sum(", "parse error"),
        ("/api/v1/query?query=up&time=notatime", "bad time"),
        (
            "/api/v1/query_range?query=up&start=10&end=0&step=1",
            "end before start",
        ),
        (
            "/api/v1/query_range?query=up&start=0&end=100000&step=1",
            "too many points",
        ),
    ] {
        let (p, w) = (
            get_json(&pair.prom.addr, path),
            get_json(&pair.wf.addr, path),
        );
        assert_eq!(p["status"], w["status"], "{what}");
        assert_eq!(
            p["errorType"], w["errorType"],
            "{what}: prometheus {p} watchfire {w}"
        );
    }
    // Series and label APIs.
    for path in [
        "/api/v1/labels",
        "/api/v1/label/job/values",
        "/api/v1/label/code/values?match[]=http_requests_total%7Binstance%3D%22a%22%7D",
        "/api/v1/series?match[]=temperature_celsius",
    ] {
        let (p, w) = (
            get_json(&pair.prom.addr, path),
            get_json(&pair.wf.addr, path),
        );
        let sorted = |v: &Value| {
            let mut a: Vec<String> = v["data"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| x.to_string())
                .collect();
            a.sort();
            a
        };
        assert_eq!(
            sorted(&p),
            sorted(&w),
            "{path}: prometheus {p} watchfire {w}"
        );
    }
}

/// Prometheus 3 made range selectors left-open: a sample exactly `range` before the
/// evaluation time is no longer included. 2.42 still includes it; Watchfire follows 3.
#[test]
fn range_boundaries_follow_prometheus_3() {
    let Some(pair) = setup() else { return };
    let t = START + 600; // a scrape time: a sample sits at t - 1m exactly
    let path = format!(
        "/api/v1/query?query={}&time={t}",
        enc("count_over_time(temperature_celsius[1m])")
    );
    let (p, w) = (
        get_json(&pair.prom.addr, &path),
        get_json(&pair.wf.addr, &path),
    );
    let count = |v: &Value| {
        v["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(count(&p), "5", "2.42 includes both ends: {p}");
    assert_eq!(count(&w), "4", "3.x excludes the left end: {w}");
}
