//! The load generator against real instances.

use std::time::Duration;

use watchfire_demo::{DemoError, DemoService, LoadOptions, run_load, run_load_with};

use crate::support::scrape;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_spreads_over_targets_and_reports_sane_numbers() {
    let any = "127.0.0.1:0".parse().unwrap();
    let blue = DemoService::start("blue", any).await.unwrap();
    let green = DemoService::start("green", any).await.unwrap();
    let report = run_load(
        vec![blue.ws_url(), green.ws_url()],
        4,
        Duration::from_millis(1500),
        20.0,
    )
    .await
    .unwrap();
    eprintln!("{report}");
    assert_eq!(report.connections_requested, 4);
    assert_eq!(
        (report.connections_opened, report.connection_errors),
        (4, 0)
    );
    // 4 connections x 20/s x 1.5 s = 120; fewer when a busy machine delays ticks.
    assert!((60..=124).contains(&report.messages_sent), "{report:?}");
    assert_eq!(report.messages_received, report.messages_sent);
    assert_eq!(
        (report.errors, report.lost, report.error_replies),
        (0, 0, 0)
    );
    let l = &report.latency;
    assert_eq!(l.samples, report.messages_received);
    // The service simulates 1-20 ms of work per message.
    assert!(
        l.p50_ms >= 1.0 && l.p50_ms <= l.p95_ms && l.p95_ms <= l.p99_ms && l.p99_ms <= l.max_ms,
        "{l:?}"
    );
    assert!(l.mean_ms >= 1.0 && l.max_ms < 2000.0, "{l:?}");
    assert!(report.elapsed_seconds >= 1.5 && report.elapsed_seconds < 5.0);

    // Round-robin: two connections each, and the servers saw every message.
    let (b, g) = (
        scrape(blue.local_addr()).await,
        scrape(green.local_addr()).await,
    );
    assert_eq!(b["websocket_connections_total"], 2.0);
    assert_eq!(g["websocket_connections_total"], 2.0);
    let chats =
        b["websocket_messages_total{type=\"chat\"}"] + g["websocket_messages_total{type=\"chat\"}"];
    assert_eq!(chats as u64, report.messages_sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_messages_come_back_as_error_replies() {
    let blue = DemoService::start("blue", "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let options = LoadOptions {
        invalid_ratio: 0.25,
        ..LoadOptions::new(vec![blue.ws_url()], 2, Duration::from_millis(1000), 20.0)
    };
    let report = run_load_with(options).await.unwrap();
    assert_eq!(report.messages_received, report.messages_sent, "{report:?}");
    // Every 4th message of each connection is invalid.
    let expected = (report.messages_sent / 4) as i64;
    assert!(
        (report.error_replies as i64 - expected).abs() <= 2,
        "{report:?}"
    );
    let m = scrape(blue.local_addr()).await;
    assert_eq!(
        m["app_errors_total{type=\"invalid_message\"}"] as u64,
        report.error_replies
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_targets_and_stopped_servers_are_counted_not_fatal() {
    // Bind then stop to get a port that is certainly closed.
    let mut gone = DemoService::start("blue", "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    gone.stop().await.unwrap();
    let report = run_load(vec![gone.ws_url()], 3, Duration::from_millis(200), 10.0)
        .await
        .unwrap();
    assert_eq!(
        (report.connections_opened, report.connection_errors),
        (0, 3)
    );
    assert_eq!(report.messages_sent, 0);
    assert!(
        report.first_error.as_deref().unwrap().contains("connect"),
        "{report:?}"
    );

    // Stopping a server mid-run shows up as errors on its connections.
    let mut green = DemoService::start("green", "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let run = tokio::spawn(run_load(
        vec![green.ws_url()],
        2,
        Duration::from_millis(1500),
        10.0,
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    green.stop().await.unwrap();
    let report = run.await.unwrap().unwrap();
    assert_eq!(report.connections_opened, 2);
    assert_eq!(report.errors, 2, "{report:?}");
    assert!(report.messages_received > 0 && report.messages_sent >= report.messages_received);
    assert!(report.first_error.unwrap().contains("closed by server"));
}

#[tokio::test]
async fn bad_parameters_are_rejected() {
    let err = run_load(vec![], 1, Duration::from_secs(1), 1.0)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        DemoError::InvalidLoad {
            parameter: "targets",
            ..
        }
    ));
    let err = run_load(
        vec!["ws://127.0.0.1:1/ws".into()],
        1,
        Duration::from_secs(1),
        -1.0,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            DemoError::InvalidLoad {
                parameter: "rate_per_conn",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_hold_open_without_answering_pings() {
    let config = watchfire_demo::DemoConfig {
        heartbeat_interval: Duration::from_millis(50),
        ..watchfire_demo::DemoConfig::new("blue")
    };
    let blue = DemoService::start_with(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = blue.local_addr();
    let options = LoadOptions {
        silent: true,
        ..LoadOptions::new(vec![blue.ws_url()], 2, Duration::from_millis(400), 50.0)
    };
    let run = tokio::spawn(run_load_with(options));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let m = scrape(addr).await;
    assert_eq!(m["websocket_connections_active"], 2.0);
    assert!(m["websocket_heartbeat_pings_total"] >= 4.0, "{m:?}");
    assert_eq!(m["websocket_heartbeat_pongs_total"], 0.0);
    let report = run.await.unwrap().unwrap();
    assert_eq!(
        (
            report.connections_opened,
            report.messages_sent,
            report.errors
        ),
        (2, 0, 0),
        "{report:?}"
    );
}
