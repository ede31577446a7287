//! The Prometheus HTTP API v1 against the real server: push samples, read them back.

use crate::harness::{Server, enc};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Samples at 1700000000 s (2023-11-14T22:13:20Z) and 15 s and 30 s later.
const DATA: &str = "\
http_requests_total{job=\"api\",instance=\"a\"} 1 1700000000000
http_requests_total{job=\"api\",instance=\"a\"} 2 1700000015000
http_requests_total{job=\"api\",instance=\"a\"} 3 1700000030000
http_requests_total{job=\"web\",instance=\"b\"} 10 1700000000000
http_requests_total{job=\"web\",instance=\"b\"} 20.5 1700000015000
http_requests_total{job=\"web\",instance=\"b\"} 1e6 1700000030000
temperature{room=\"lab\"} 0.0000001 1700000030000
";

/// A form-encoded POST (the harness always sends text/plain).
fn post_form(addr: &str, path: &str, form: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        form.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(form.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = resp.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

fn get(server: &Server, path: &str) -> (u16, String) {
    server.request("GET", path, b"").unwrap()
}

/// GET and parse a successful answer.
fn ok(server: &Server, path: &str) -> (String, Value) {
    let (code, body) = get(server, path);
    assert_eq!(code, 200, "{path}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "success", "{body}");
    (body, v)
}

/// GET and check an error answer's status, type and message.
fn err(server: &Server, path: &str, code: u16, kind: &str, message: &str) {
    let (got, body) = get(server, path);
    assert_eq!(got, code, "{path}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "error", "{body}");
    assert_eq!(v["errorType"], kind, "{body}");
    assert_eq!(v["error"], message, "{body}");
}

fn start_with_data() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let (code, text) = server
        .request("POST", "/api/v1/import/prometheus", DATA.as_bytes())
        .unwrap();
    assert_eq!(code, 204, "{text}");
    (dir, server)
}

#[test]
fn instant_and_range_queries() {
    let (_dir, mut server) = start_with_data();

    let q = enc("http_requests_total");
    let (body, v) = ok(&server, &format!("/api/v1/query?query={q}&time=1700000030"));
    assert_eq!(v["data"]["resultType"], "vector");
    let mut result = v["data"]["result"].as_array().unwrap().clone();
    result.sort_by_key(|s| s["metric"]["job"].as_str().unwrap().to_string());
    assert_eq!(
        Value::Array(result),
        json!([
            {"metric": {"__name__": "http_requests_total", "instance": "a", "job": "api"},
             "value": [1700000030, "3"]},
            {"metric": {"__name__": "http_requests_total", "instance": "b", "job": "web"},
             "value": [1700000030, "1000000"]},
        ])
    );
    assert!(
        !body.contains("warnings") && !body.contains("infos"),
        "{body}"
    );

    // RFC 3339 time, a tiny value in exponent form, exact bytes.
    let (body, _) = ok(
        &server,
        &format!(
            "/api/v1/query?query=temperature&time={}",
            enc("2023-11-14T22:13:50Z")
        ),
    );
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"temperature","room":"lab"},"value":[1700000030,"1e-07"]}]}}"#
    );

    // Millisecond timestamps keep three decimals.
    let (body, _) = ok(&server, "/api/v1/query?query=temperature&time=1700000030.5");
    assert!(
        body.contains(r#""value":[1700000030.500,"1e-07"]"#),
        "{body}"
    );

    // Scalars.
    let (body, _) = ok(
        &server,
        &format!("/api/v1/query?query={}&time=1700000030", enc("1+1")),
    );
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"scalar","result":[1700000030,"2"]}}"#
    );

    // limit truncates and warns.
    let (_, v) = ok(
        &server,
        &format!("/api/v1/query?query={q}&time=1700000030&limit=1"),
    );
    assert_eq!(v["data"]["result"].as_array().unwrap().len(), 1);
    assert_eq!(v["warnings"], json!(["results truncated due to limit"]));

    // Range query over GET.
    let sel = enc("http_requests_total{job=\"api\"}");
    let (_, v) = ok(
        &server,
        &format!("/api/v1/query_range?query={sel}&start=1700000000&end=1700000030&step=15s"),
    );
    assert_eq!(
        v["data"],
        json!({"resultType": "matrix", "result": [
            {"metric": {"__name__": "http_requests_total", "instance": "a", "job": "api"},
             "values": [[1700000000, "1"], [1700000015, "2"], [1700000030, "3"]]}
        ]})
    );

    // Range query over a POST form, float step, RFC 3339 bounds.
    let (code, body) = post_form(
        &server.addr,
        "/api/v1/query_range",
        &format!(
            "query={}&start={}&end={}&step=15",
            enc("sum(http_requests_total)"),
            enc("2023-11-14T22:13:20Z"),
            enc("2023-11-14T22:13:50.000Z")
        ),
    );
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["data"]["result"],
        json!([{"metric": {}, "values": [
            [1700000000, "11"], [1700000015, "22.5"], [1700000030, "1000003"]
        ]}])
    );

    // POST form on the instant endpoint.
    let (code, body) = post_form(
        &server.addr,
        "/api/v1/query",
        &format!(
            "query={}&time=1700000030",
            enc("count(http_requests_total)")
        ),
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(r#""value":[1700000030,"2"]"#), "{body}");
    server.stop();
}

#[test]
fn series_labels_and_values() {
    let (_dir, mut server) = start_with_data();

    let (_, v) = ok(
        &server,
        &format!("/api/v1/series?match[]={}", enc("http_requests_total")),
    );
    assert_eq!(
        v["data"],
        json!([
            {"__name__": "http_requests_total", "instance": "a", "job": "api"},
            {"__name__": "http_requests_total", "instance": "b", "job": "web"},
        ])
    );

    // Two selectors: the union, sorted, without duplicates; with a time range.
    let (_, v) = ok(
        &server,
        &format!(
            "/api/v1/series?match[]=temperature&match[]={}&match[]={}&start=1700000000&end=1700000060",
            enc("{job=\"api\"}"),
            enc("http_requests_total{instance=\"a\"}")
        ),
    );
    assert_eq!(
        v["data"],
        json!([
            {"__name__": "http_requests_total", "instance": "a", "job": "api"},
            {"__name__": "temperature", "room": "lab"},
        ])
    );
    // Nothing in a range before the data.
    let (_, v) = ok(
        &server,
        "/api/v1/series?match[]=temperature&start=0&end=1000",
    );
    assert_eq!(v["data"], json!([]));

    let (_, v) = ok(&server, "/api/v1/labels");
    assert_eq!(v["data"], json!(["__name__", "instance", "job", "room"]));
    let (_, v) = ok(&server, "/api/v1/labels?match[]=temperature");
    assert_eq!(v["data"], json!(["__name__", "room"]));
    let (code, body) = post_form(
        &server.addr,
        "/api/v1/labels",
        "match[]=temperature&limit=1",
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body,
        r#"{"status":"success","data":["__name__"],"warnings":["results truncated due to limit"]}"#
    );

    let (_, v) = ok(&server, "/api/v1/label/job/values");
    assert_eq!(v["data"], json!(["api", "web"]));
    let (_, v) = ok(&server, "/api/v1/label/__name__/values");
    assert_eq!(v["data"], json!(["http_requests_total", "temperature"]));
    let (_, v) = ok(
        &server,
        &format!(
            "/api/v1/label/instance/values?match[]={}",
            enc("{job=\"web\"}")
        ),
    );
    assert_eq!(v["data"], json!(["b"]));
    let (_, v) = ok(&server, "/api/v1/label/nope/values");
    assert_eq!(v["data"], json!([]));

    let (_, v) = ok(&server, "/api/v1/status/tsdb");
    assert_eq!(v["data"]["headStats"]["numSeries"], 3);
    assert_eq!(v["data"]["headStats"]["minTime"], 1700000000000i64);
    assert_eq!(v["data"]["headStats"]["maxTime"], 1700000030000i64);
    assert!(
        v["data"]["seriesCountByMetricName"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "http_requests_total", "value": 2})),
        "{v}"
    );
    let (_, v) = ok(&server, "/api/v1/status/buildinfo");
    assert_eq!(v["data"]["version"], env!("CARGO_PKG_VERSION"));
    let (_, v) = ok(&server, "/api/v1/status/flags");
    assert_eq!(v["data"]["web.enable-lifecycle"], "false");
    assert_eq!(v["data"]["storage.tsdb.retention.time"], "15d");
    let (_, v) = ok(&server, "/api/v1/status/runtimeinfo");
    assert_eq!(v["data"]["storageRetention"], "15d");
    let (_, v) = ok(&server, "/api/v1/metadata");
    assert_eq!(v["data"], json!({}));
    let (_, v) = ok(&server, "/api/v1/query_exemplars?query=temperature");
    assert_eq!(v["data"], json!([]));
    server.stop();
}

#[test]
fn errors_are_worded_like_prometheus() {
    let (_dir, mut server) = start_with_data();
    err(
        &server,
        "/api/v1/query?query=up&time=x",
        400,
        "bad_data",
        "invalid parameter \"time\": invalid time value for 'time': cannot parse \"x\" to a valid timestamp",
    );
    err(
        &server,
        "/api/v1/query_range?query=up&start=10&end=20&step=0",
        400,
        "bad_data",
        "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer",
    );
    err(
        &server,
        "/api/v1/query_range?query=up&start=0&end=11001&step=1",
        400,
        "bad_data",
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
    );
    err(
        &server,
        "/api/v1/query_range?query=up&start=20&end=10&step=1",
        400,
        "bad_data",
        "invalid parameter \"end\": end timestamp must not be before start time",
    );
    err(
        &server,
        "/api/v1/query_range?query=up&end=10&step=1",
        400,
        "bad_data",
        "invalid parameter \"start\": cannot parse \"\" to a valid timestamp",
    );
    err(
        &server,
        &format!(
            "/api/v1/query_range?query={}&start=0&end=10&step=1",
            enc("up[5m]")
        ),
        400,
        "bad_data",
        "invalid parameter \"query\": invalid expression type \"range vector\" for range query, must be Scalar or instant Vector",
    );
    err(
        &server,
        "/api/v1/query?query=up&timeout=soon",
        400,
        "bad_data",
        "invalid parameter \"timeout\": cannot parse \"soon\" to a valid duration",
    );
    err(
        &server,
        "/api/v1/series",
        400,
        "bad_data",
        "no match[] parameter provided",
    );
    // A parse error: bad_data, named after the parameter.
    let (code, body) = get(&server, &format!("/api/v1/query?query={}", enc("sum(")));
    assert_eq!(code, 400, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["errorType"], "bad_data");
    let msg = v["error"].as_str().unwrap();
    assert!(msg.starts_with("invalid parameter \"query\": "), "{msg}");
    assert!(msg.contains("parse error"), "{msg}");
    // An evaluation error: execution, 422 (the same label set twice).
    let (code, body) = get(
        &server,
        &format!(
            "/api/v1/query?time=1700000030&query={}",
            enc(
                "label_replace(label_replace(http_requests_total, \"job\", \"x\", \"\", \"\"), \"instance\", \"x\", \"\", \"\")"
            )
        ),
    );
    assert_eq!(code, 422, "{body}");
    assert!(body.contains(r#""errorType":"execution""#), "{body}");
    // Series selectors only in match[].
    let (code, body) = get(
        &server,
        &format!("/api/v1/series?match[]={}", enc("up + 1")),
    );
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains(r#""error":"invalid parameter \"match[]\": "#),
        "{body}"
    );
    server.stop();
}

#[test]
fn format_parse_query_and_feature_flags() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let (_, v) = ok(
        &s,
        &format!(
            "/api/v1/format_query?query={}",
            enc("sum  by(job)(rate(x[5m]))")
        ),
    );
    assert_eq!(v["data"], "sum by (job) (rate(x[5m]))");
    let (_, v) = ok(&s, &format!("/api/v1/parse_query?query={}", enc("x + 1")));
    assert_eq!(v["data"]["type"], "binaryExpr");
    // Errors carry the position, Prometheus style.
    let (code, body) = get(
        &s,
        &format!("/api/v1/query?query={}", enc("sum(rate(x[5m])")),
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("1:"), "{body}");
    // Experimental functions need the feature flag, as in Prometheus 3.
    let q = format!(
        "/api/v1/query?query={}",
        enc("sort_by_label(vector(1), \"a\")")
    );
    let (code, body) = get(&s, &q);
    assert_eq!(code, 400, "{body}");
    // Its own metrics count evaluated queries (parse errors never reach the engine).
    let _ = ok(&s, "/api/v1/query?query=1");
    let (_, metrics) = get(&s, "/metrics");
    let value = |name: &str| -> f64 {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing from /metrics"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    assert!(value("watchfire_queries_total") >= 1.0);
    assert_eq!(value("prometheus_engine_queries"), 0.0);
    assert!(value("prometheus_tsdb_wal_storage_size_bytes") >= 0.0);
    assert_eq!(value("prometheus_tsdb_compactions_failed_total"), 0.0);
    drop(s);
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(
        dir.path(),
        &["--enable-feature=promql-experimental-functions"],
    );
    ok(&s, &q);
}
