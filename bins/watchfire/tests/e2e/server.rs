//! The server's small HTTP surface: push endpoint, lifecycle, self-metrics.

use crate::harness::Server;

#[test]
fn push_endpoint_takes_large_bodies_and_names_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let mut body = String::new();
    for i in 0..60_000 {
        body.push_str(&format!(
            "big_push_metric{{series=\"{i}\",pad=\"{}\"}} {i} 1700000000000\n",
            "x".repeat(20)
        ));
    }
    assert!(body.len() > 4 << 20);
    let (code, text) = server
        .request("POST", "/api/v1/import/prometheus", body.as_bytes())
        .unwrap();
    assert_eq!(code, 204, "{text}");

    let (code, text) = server
        .request("POST", "/api/v1/import/prometheus", b"ok 1\nbad{x=} 2\n")
        .unwrap();
    assert_eq!(code, 400);
    assert!(text.contains("line 2"), "{text}");

    let (_, metrics) = server.request("GET", "/metrics", b"").unwrap();
    assert!(
        metrics.contains("prometheus_tsdb_head_series 60000"),
        "{metrics}"
    );

    let (code, _) = server.request("POST", "/-/quit", b"").unwrap();
    assert_eq!(code, 403, "lifecycle API is off by default");
    server.stop();
}

#[test]
fn lifecycle_quit_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--web.enable-lifecycle"]);
    let (code, _) = server.request("POST", "/-/quit", b"").unwrap();
    assert_eq!(code, 200);
    let status = server.child.wait().unwrap();
    assert!(status.success());
}
