//! The service: WebSocket protocol, metrics, health, capacity, heartbeats, stop/start.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;
use watchfire_demo::{DemoConfig, DemoError, DemoService};

use crate::support::{connect, http_get, next_json, peer_tool, scrape, send_text};

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Polls the metrics until `series` has `want` (connection teardown is asynchronous).
async fn wait_for_value(addr: SocketAddr, series: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = scrape(addr).await.get(series).copied();
        if got == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{series} stayed {got:?}, wanted {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_move_counters_gauge_and_histogram() {
    let handle = DemoService::start("blue", any_port()).await.unwrap();
    let addr = handle.local_addr();
    assert_ne!(addr.port(), 0);
    assert_eq!(handle.ws_url(), format!("ws://{addr}/ws"));

    let before = scrape(addr).await;
    assert_eq!(before["websocket_connections_active"], 0.0);
    assert_eq!(before["websocket_connections_total"], 0.0);
    assert_eq!(
        before["websocket_message_processing_duration_seconds_count"],
        0.0
    );
    assert_eq!(
        before["application_info{color=\"blue\",version=\"0.1.0\"}"],
        1.0
    );

    let mut ws = connect(addr).await;
    let welcome = next_json(&mut ws).await;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["deployment"], "blue");

    send_text(&mut ws, r#"{"type":"chat","id":1,"text":"hello"}"#).await;
    let reply = next_json(&mut ws).await;
    assert_eq!(
        (reply["type"].as_str(), reply["id"].as_u64()),
        (Some("chat"), Some(1))
    );
    assert_eq!(reply["text"], "hello");
    assert_eq!(reply["deployment"], "blue");
    assert!(reply["processing_ms"].as_f64().unwrap() >= 1.0, "{reply}");

    send_text(&mut ws, r#"{"type":"ping","id":2}"#).await;
    let pong = next_json(&mut ws).await;
    assert_eq!(
        (pong["type"].as_str(), pong["id"].as_u64()),
        (Some("pong"), Some(2))
    );

    send_text(&mut ws, r#"{"type":"shout","id":3}"#).await;
    let error = next_json(&mut ws).await;
    assert_eq!(
        (error["type"].as_str(), error["id"].as_u64()),
        (Some("error"), Some(3))
    );

    send_text(&mut ws, "plain text is a chat message").await;
    let echo = next_json(&mut ws).await;
    assert_eq!(echo["text"], "plain text is a chat message");
    assert_eq!(echo["id"], Value::Null);

    // Requested extra work lands in the histogram above the 0.25 s bucket.
    send_text(
        &mut ws,
        r#"{"type":"chat","id":5,"text":"slow","work_ms":300}"#,
    )
    .await;
    let slow = next_json(&mut ws).await;
    assert!(slow["processing_ms"].as_f64().unwrap() >= 300.0, "{slow}");

    let m = scrape(addr).await;
    assert_eq!(m["websocket_connections_active"], 1.0);
    assert_eq!(m["websocket_connections_total"], 1.0);
    assert_eq!(m["websocket_messages_total{type=\"chat\"}"], 3.0);
    assert_eq!(m["websocket_messages_total{type=\"ping\"}"], 1.0);
    assert_eq!(m["websocket_messages_total{type=\"invalid\"}"], 1.0);
    assert_eq!(m["app_errors_total{type=\"invalid_message\"}"], 1.0);
    assert_eq!(
        m["websocket_messages_sent_total"], 6.0,
        "welcome + 5 replies"
    );
    assert!(m["websocket_received_bytes_total"] > 100.0);
    assert!(m["websocket_sent_bytes_total"] > m["websocket_received_bytes_total"]);
    let h = "websocket_message_processing_duration_seconds";
    assert_eq!(m[&format!("{h}_count")], 5.0);
    assert_eq!(m[&format!("{h}_bucket{{le=\"+Inf\"}}")], 5.0);
    assert_eq!(m[&format!("{h}_bucket{{le=\"0.25\"}}")], 4.0);
    assert!(m[&format!("{h}_sum")] >= 0.302);
    // Buckets are cumulative.
    let buckets: Vec<f64> = m
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{h}_bucket")))
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(buckets.len(), 14);
    assert!(m["application_uptime_seconds"] > 0.0);
    assert!(m["process_resident_memory_bytes"] > 0.0);
    assert!(m["process_cpu_seconds_total"] >= 0.0);
    assert!(m["process_start_time_seconds"] > 1e9);

    drop(ws);
    wait_for_value(addr, "websocket_connections_active", 0.0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_has_the_seed_shape_and_turns_503_when_unhealthy() {
    let handle = DemoService::start("green", any_port()).await.unwrap();
    let (status, head, body) = http_get(handle.local_addr(), "/health").await.unwrap();
    assert_eq!(status, 200);
    assert!(head.contains("content-type: application/json"));
    let h: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["status"], "healthy");
    assert_eq!(h["healthy"], true);
    assert_eq!(h["deployment"], "green");
    assert_eq!(h["checks"]["capacity"]["current"], 0);
    assert_eq!(h["checks"]["capacity"]["max"], 5000);
    assert!(h["checks"]["capacity"]["percentage"].is_number());
    assert!(h["checks"]["memory"]["used_mb"].as_f64().unwrap() > 0.0);
    assert_eq!(h["checks"]["memory"]["limit_mb"], 512.0);
    assert!(h["checks"]["memory"]["percentage"].is_number());
    assert!(h["checks"]["cpu"]["percentage"].is_number());
    for check in ["capacity", "memory", "cpu"] {
        assert!(h["checks"][check]["healthy"].is_boolean(), "{check}");
    }
    assert!(h["warnings"].is_array() && h["errors"].is_array());
    assert!(h["uptime"].as_f64().unwrap() >= 0.0);

    // A memory budget far below the resident set is critical: 503 with an error.
    let tiny = DemoConfig {
        memory_limit_bytes: 4096,
        ..DemoConfig::new("blue")
    };
    let sick = DemoService::start_with(tiny, any_port()).await.unwrap();
    let (status, _, body) = http_get(sick.local_addr(), "/health").await.unwrap();
    assert_eq!(status, 503);
    let h: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["status"], "unhealthy");
    assert_eq!(h["checks"]["memory"]["healthy"], false);
    assert!(
        h["errors"][0].as_str().unwrap().starts_with("memory"),
        "{h}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_are_refused_and_counted() {
    let config = DemoConfig {
        max_connections: 1,
        ..DemoConfig::new("blue")
    };
    let handle = DemoService::start_with(config, any_port()).await.unwrap();
    let addr = handle.local_addr();
    let mut first = connect(addr).await;
    next_json(&mut first).await;
    let second = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await;
    match second {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 503)
        }
        other => panic!("expected a 503, got {other:?}"),
    }
    let m = scrape(addr).await;
    assert_eq!(m["app_errors_total{type=\"capacity\"}"], 1.0);
    assert_eq!(m["websocket_connections_active"], 1.0);
    let (status, _, body) = http_get(addr, "/health").await.unwrap();
    assert_eq!(status, 503, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_counted_and_silent_clients_dropped() {
    let config = DemoConfig {
        heartbeat_interval: Duration::from_millis(100),
        heartbeat_timeout: Duration::from_millis(350),
        ..DemoConfig::new("blue")
    };
    let handle = DemoService::start_with(config, any_port()).await.unwrap();
    let addr = handle.local_addr();

    // A client that keeps reading answers pings (tungstenite sends the pongs).
    let mut live = connect(addr).await;
    let reader = tokio::spawn(async move {
        let until = tokio::time::Instant::now() + Duration::from_millis(450);
        while let Ok(Some(Ok(_))) = tokio::time::timeout_at(until, live.next()).await {}
        live
    });
    let live = reader.await.unwrap();
    let m = scrape(addr).await;
    assert!(m["websocket_heartbeat_pings_total"] >= 3.0, "{m:?}");
    assert!(m["websocket_heartbeat_pongs_total"] >= 2.0, "{m:?}");
    assert_eq!(m["app_errors_total{type=\"heartbeat_timeout\"}"], 0.0);
    drop(live);
    wait_for_value(addr, "websocket_connections_active", 0.0).await;

    // A client that never reads never answers: dropped once the timeout passes.
    let silent = connect(addr).await;
    wait_for_value(addr, "app_errors_total{type=\"heartbeat_timeout\"}", 1.0).await;
    wait_for_value(addr, "websocket_connections_active", 0.0).await;
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_refuses_connections_and_start_serves_again_on_the_same_address() {
    let mut handle = DemoService::start("green", any_port()).await.unwrap();
    let addr = handle.local_addr();
    let mut ws = connect(addr).await;
    next_json(&mut ws).await;
    send_text(&mut ws, "before stop").await;
    next_json(&mut ws).await;
    // A kept-alive HTTP/1.1 connection must not hold the stop up either.
    let mut idle_http = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut idle_http,
        format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();

    let started = Instant::now();
    handle.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        started.elapsed()
    );
    assert!(!handle.is_running());
    handle.stop().await.unwrap(); // idempotent

    let refused = tokio::net::TcpStream::connect(addr).await;
    assert_eq!(
        refused.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    // The client was told, then cut off.
    let mut saw_close = false;
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
        match frame {
            Ok(tokio_tungstenite::tungstenite::Message::Close(Some(f))) => {
                assert_eq!(u16::from(f.code), 1001);
                saw_close = true;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    assert!(saw_close);

    handle.start().await.unwrap();
    assert!(handle.is_running());
    assert_eq!(handle.local_addr(), addr);
    let mut ws = connect(addr).await;
    assert_eq!(next_json(&mut ws).await["deployment"], "green");
    // A restart starts from fresh counters, like a new process.
    let m = scrape(addr).await;
    assert_eq!(m["websocket_connections_total"], 1.0);
    assert_eq!(m["websocket_messages_total{type=\"chat\"}"], 0.0);
    assert!(m["application_uptime_seconds"] < 5.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_and_busy_ports_are_errors() {
    for bad in ["", "blue green", "ünicode", &"x".repeat(64)] {
        let err = DemoService::start(bad, any_port()).await.unwrap_err();
        assert!(
            matches!(err, DemoError::InvalidDeployment { .. }),
            "{bad:?}: {err}"
        );
    }
    let zero = DemoConfig {
        max_connections: 0,
        ..DemoConfig::new("blue")
    };
    assert!(matches!(
        DemoService::start_with(zero, any_port()).await,
        Err(DemoError::InvalidConfig {
            field: "max_connections",
            ..
        })
    ));
    let taken = DemoService::start("blue", any_port()).await.unwrap();
    let err = DemoService::start("green", taken.local_addr())
        .await
        .unwrap_err();
    assert!(
        matches!(err, DemoError::Bind { addr, .. } if addr == taken.local_addr()),
        "{err}"
    );
    assert!(err.to_string().contains(&taken.local_addr().to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exposition_passes_promtool_check_metrics() {
    let Some(promtool) = peer_tool("promtool") else {
        return;
    };
    let handle = DemoService::start("blue", any_port()).await.unwrap();
    let (_, _, body) = http_get(handle.local_addr(), "/metrics").await.unwrap();
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), body.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
