//! End-to-end: manager, loops, HTTP against loopback exporters.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use watchfire_model::is_stale_nan;
use watchfire_scrape::{
    ScrapeManager, ScrapeManagerOptions, ScrapePoolOptions, ScrapeProtocol, TargetGroup,
    TargetHealth,
};

use crate::harness::{Exporter, MemStore, Reply, eventually, relabel};

fn pool(job: &str, interval_ms: u64) -> ScrapePoolOptions {
    let mut o = ScrapePoolOptions::new(job);
    o.scrape_interval = Duration::from_millis(interval_ms);
    o.scrape_timeout = Duration::from_millis(interval_ms);
    o
}

fn groups(exporters: &[&Exporter]) -> Vec<TargetGroup> {
    vec![TargetGroup {
        targets: exporters.iter().map(|e| e.target()).collect(),
        labels: Default::default(),
        source: "static".to_owned(),
    }]
}

fn manager(store: &Arc<MemStore>) -> ScrapeManager {
    ScrapeManager::new(
        store.clone(),
        ScrapeManagerOptions {
            immediate_end_of_run_staleness: true,
            ..Default::default()
        },
    )
}

async fn wait_health(m: &ScrapeManager, health: TargetHealth) -> bool {
    eventually(5, || {
        let t = m.active_targets();
        !t.is_empty() && t.iter().all(|t| t.health == health)
    })
    .await
}

#[tokio::test]
async fn scrapes_report_series_and_headers() {
    let exp = Exporter::start(Reply::text("# TYPE a gauge\na{x=\"1\"} 1\nb 2\n")).await;
    let store = MemStore::new();
    let m = manager(&store);
    m.apply_config(vec![(pool("job1", 100), groups(&[&exp]))])
        .await;
    assert!(wait_health(&m, TargetHealth::Up).await);
    let inst = exp.target();
    let f = [("job", "job1"), ("instance", inst.as_str())];
    assert!(eventually(5, || store.last("up", &f) == Some(1.0)).await);
    assert_eq!(store.last("scrape_samples_scraped", &f), Some(2.0));
    assert_eq!(
        store.last("scrape_samples_post_metric_relabeling", &f),
        Some(2.0)
    );
    assert!(
        store
            .series("scrape_series_added", &f)
            .iter()
            .any(|s| s.v == 2.0)
    );
    assert!(store.last("scrape_duration_seconds", &f).unwrap() >= 0.0);
    let a = store.series("a", &f);
    assert_eq!(a[0].labels.get("x"), Some("1"));
    // Report series and samples share the scrape timestamp.
    let up = store.series("up", &f);
    assert_eq!(up[0].t, a[0].t);

    let req = &exp.requests()[0];
    assert_eq!(
        req["accept"],
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
    );
    assert_eq!(req["accept-encoding"], "gzip");
    assert_eq!(req["x-prometheus-scrape-timeout-seconds"], "0.1");

    let t = &m.active_targets()[0];
    assert_eq!(t.scrape_pool, "job1");
    assert_eq!(t.scrape_url, format!("http://{inst}/metrics"));
    assert_eq!(t.labels.get("instance"), Some(inst.as_str()));
    assert!(t.last_scrape.is_some());
    assert_eq!(t.last_error, "");
    let md = m.target_metadata(&|_| true, Some("a"), None);
    assert_eq!(md.len(), 1);
    assert_eq!(md[0].metadata.kind, "gauge");
    assert_eq!(m.scrape_pools(), vec!["job1".to_owned()]);
    assert!(m.metrics().scrapes_total >= 1);
    assert!(store.commits() >= 1);
    m.stop().await;
}

#[tokio::test]
async fn vanished_series_and_removed_targets_go_stale() {
    let exp = Exporter::start(Reply::text("a 1\nb 2\n")).await;
    let store = MemStore::new();
    let m = manager(&store);
    m.apply_config(vec![(pool("j", 100), groups(&[&exp]))])
        .await;
    assert!(eventually(5, || !store.series("b", &[]).is_empty()).await);
    exp.set_body("a 1\n");
    assert!(eventually(5, || store.stale_count("b") == 1).await);
    assert_eq!(store.stale_count("a"), 0);
    // Removing the target: its series and report series go stale.
    m.apply_config(vec![(pool("j", 100), vec![])]).await;
    m.wait_retired().await;
    assert!(is_stale_nan(store.last("a", &[]).unwrap()));
    assert!(is_stale_nan(store.last("up", &[]).unwrap()));
    assert!(m.active_targets().is_empty());
    m.stop().await;
}

#[tokio::test]
async fn removed_target_waits_for_next_slot_before_markers() {
    let exp = Exporter::start(Reply::text("a 1\n")).await;
    let store = MemStore::new();
    let m = ScrapeManager::new(store.clone(), ScrapeManagerOptions::default());
    m.apply_config(vec![(pool("j", 200), groups(&[&exp]))])
        .await;
    assert!(eventually(5, || !store.series("a", &[]).is_empty()).await);
    let last = store.series("a", &[]).last().unwrap().t;
    m.update_targets(
        "j",
        vec![TargetGroup {
            source: "static".into(),
            ..Default::default()
        }],
    )
    .await;
    m.wait_retired().await;
    let a = store.series("a", &[]);
    let marker = a.last().unwrap();
    assert!(is_stale_nan(marker.v));
    assert!(
        marker.t >= last + 150,
        "marker at {} after last sample {}",
        marker.t,
        last
    );
    m.stop().await;
}

#[tokio::test]
async fn stop_writes_staleness_markers() {
    let exp = Exporter::start(Reply::text("a 1\n")).await;
    let store = MemStore::new();
    let m = ScrapeManager::new(store.clone(), ScrapeManagerOptions::default());
    m.apply_config(vec![(pool("j", 100), groups(&[&exp]))])
        .await;
    assert!(eventually(5, || !store.series("a", &[]).is_empty()).await);
    m.stop().await;
    assert!(is_stale_nan(store.last("a", &[]).unwrap()));
    assert!(is_stale_nan(store.last("up", &[]).unwrap()));
}

#[tokio::test]
async fn failed_scrapes_report_down_with_prometheus_errors() {
    let exp = Exporter::start(Reply::text("a 1\n")).await;
    let store = MemStore::new();
    let m = manager(&store);
    m.apply_config(vec![(pool("j", 100), groups(&[&exp]))])
        .await;
    assert!(wait_health(&m, TargetHealth::Up).await);

    let mut r = Reply::text("a 1\n");
    r.status = StatusCode::INTERNAL_SERVER_ERROR;
    exp.set(r);
    assert!(wait_health(&m, TargetHealth::Down).await);
    assert_eq!(
        m.active_targets()[0].last_error,
        "server returned HTTP status 500 Internal Server Error"
    );
    assert_eq!(store.last("up", &[]), Some(0.0));
    assert!(is_stale_nan(store.last("a", &[]).unwrap()));

    let mut r = Reply::text("a 1\n");
    r.content_type = String::new();
    exp.set(r);
    assert!(
        eventually(5, || m.active_targets()[0].last_error
            == "non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target")
        .await
    );
    m.stop().await;
}

#[tokio::test]
async fn timeout_fails_the_scrape() {
    let mut r = Reply::text("a 1\n");
    r.delay = Duration::from_millis(500);
    let exp = Exporter::start(r).await;
    let store = MemStore::new();
    let m = manager(&store);
    let mut o = pool("j", 200);
    o.scrape_timeout = Duration::from_millis(50);
    m.apply_config(vec![(o, groups(&[&exp]))]).await;
    assert!(wait_health(&m, TargetHealth::Down).await);
    assert_eq!(
        m.active_targets()[0].last_error,
        "context deadline exceeded"
    );
    assert!(store.series("a", &[]).is_empty());
    m.stop().await;
}

#[tokio::test]
async fn gzip_openmetrics_and_body_size_limit() {
    let mut r = Reply::text("# TYPE c counter\n# HELP c Things.\nc_total 7\n# EOF\n");
    r.content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8".to_owned();
    r.gzip = true;
    let exp = Exporter::start(r).await;
    let store = MemStore::new();
    let m = manager(&store);
    m.apply_config(vec![(pool("j", 100), groups(&[&exp]))])
        .await;
    assert!(eventually(5, || store.last("c_total", &[]) == Some(7.0)).await);
    let md = m.target_metadata(&|_| true, None, None);
    assert_eq!(md[0].metadata.metric, "c");
    assert_eq!(md[0].metadata.help, "Things.");
    m.stop().await;

    // The limit applies to the decompressed body.
    let big: String = (0..200).map(|i| format!("m{i} {i}\n")).collect();
    let mut r = Reply::text(&big);
    r.gzip = true;
    exp.set(r);
    let store = MemStore::new();
    let m = manager(&store);
    let mut o = pool("j", 100);
    o.body_size_limit = 1000;
    m.apply_config(vec![(o, groups(&[&exp]))]).await;
    assert!(wait_health(&m, TargetHealth::Down).await);
    assert_eq!(m.active_targets()[0].last_error, "body size limit exceeded");
    assert!(store.series("m1", &[]).is_empty());
    assert!(m.metrics().body_size_limit_exceeded_total >= 1);
    m.stop().await;
}

#[tokio::test]
async fn protocols_and_compression_options_shape_headers() {
    let exp = Exporter::start(Reply::text("a 1\n")).await;
    let store = MemStore::new();
    let m = manager(&store);
    let mut o = pool("j", 100);
    o.scrape_protocols = vec![ScrapeProtocol::PrometheusText0_0_4];
    o.http.enable_compression = false;
    o.http.basic_auth = Some(watchfire_scrape::BasicAuth {
        username: "user".into(),
        password: "pass".into(),
    });
    o.params.insert("module".into(), vec!["a b".into()]);
    o.metrics_path = "/other".into();
    m.apply_config(vec![(o, groups(&[&exp]))]).await;
    assert!(wait_health(&m, TargetHealth::Up).await);
    let req = &exp.requests()[0];
    assert_eq!(req["accept"], "text/plain;version=0.0.4;q=0.6,*/*;q=0.5");
    assert_eq!(req["accept-encoding"], "identity");
    assert_eq!(req["authorization"], "Basic dXNlcjpwYXNz");
    assert_eq!(
        m.active_targets()[0].scrape_url,
        format!("http://{}/other?module=a+b", exp.target())
    );
    m.stop().await;
}

#[tokio::test]
async fn sample_limit_reports_down() {
    let exp = Exporter::start(Reply::text("a 1\nb 2\nc 3\n")).await;
    let store = MemStore::new();
    let m = manager(&store);
    let mut o = pool("j", 100);
    o.sample_limit = 2;
    m.apply_config(vec![(o, groups(&[&exp]))]).await;
    assert!(wait_health(&m, TargetHealth::Down).await);
    assert_eq!(m.active_targets()[0].last_error, "sample limit exceeded");
    assert!(store.series("a", &[]).is_empty());
    assert_eq!(store.last("up", &[]), Some(0.0));
    assert_eq!(store.last("scrape_samples_scraped", &[]), Some(3.0));
    let metrics = m.metrics();
    assert!(metrics.limit_exceeded_total >= 1);
    assert!(metrics.samples_dropped_by_limits_total >= 3);
    assert!(metrics.scrapes_failed_total >= 1);
    m.stop().await;
}

#[tokio::test]
async fn reload_keeps_unchanged_loops_and_target_limit() {
    let e1 = Exporter::start(Reply::text("a 1\n")).await;
    let e2 = Exporter::start(Reply::text("b 1\n")).await;
    let store = MemStore::new();
    let m = manager(&store);
    let cfg = || vec![(pool("j", 100), groups(&[&e1, &e2]))];
    m.apply_config(cfg()).await;
    assert!(wait_health(&m, TargetHealth::Up).await);
    let before: Vec<_> = m.active_targets().iter().map(|t| t.last_scrape).collect();
    // Same config: loops keep their state (no health reset to unknown).
    m.apply_config(cfg()).await;
    let after = m.active_targets();
    assert!(after.iter().all(|t| t.health == TargetHealth::Up));
    assert!(after.iter().zip(&before).all(|(t, b)| t.last_scrape >= *b));
    // A reload with changed options hands caches over: no series re-added, no
    // staleness markers in between.
    let mut o = pool("j", 100);
    o.sample_limit = 100;
    m.apply_config(vec![(o, groups(&[&e1, &e2]))]).await;
    let n = store.series("scrape_series_added", &[]).len();
    assert!(
        eventually(5, || store.series("scrape_series_added", &[]).len()
            >= n + 2)
        .await
    );
    let added = store.series("scrape_series_added", &[]);
    assert!(added[n..].iter().all(|s| s.v == 0.0));
    assert_eq!(store.stale_count("a"), 0);

    // Metric relabeling changes: the old series goes stale, the new one appears.
    let mut o = pool("j", 100);
    o.metric_relabel_configs = relabel("- target_label: env\n  replacement: prod\n");
    m.apply_config(vec![(o, groups(&[&e1, &e2]))]).await;
    assert!(eventually(5, || store.stale_count("a") == 1).await);
    assert!(eventually(5, || store.last("a", &[("env", "prod")]) == Some(1.0)).await);

    // target_limit: every target fails.
    let mut o = pool("j", 100);
    o.target_limit = 1;
    m.apply_config(vec![(o, groups(&[&e1, &e2]))]).await;
    assert!(
        eventually(5, || m.active_targets().iter().all(
            |t| t.last_error == "target_limit exceeded (number of targets: 2, limit: 1)"
        ))
        .await
    );
    // Removing the job stops it.
    m.apply_config(vec![]).await;
    assert!(m.scrape_pools().is_empty());
    m.stop().await;
}

#[tokio::test]
async fn dropped_targets_are_kept_for_the_api() {
    let e1 = Exporter::start(Reply::text("a 1\n")).await;
    let store = MemStore::new();
    let m = manager(&store);
    let mut o = pool("j", 100);
    o.relabel_configs =
        relabel("- source_labels: [__address__]\n  regex: \"nope.*\"\n  action: drop\n");
    o.keep_dropped_targets = 1;
    let g = vec![TargetGroup {
        targets: vec![e1.target(), "nope1:1".into(), "nope2:1".into()],
        labels: Default::default(),
        source: "s".into(),
    }];
    m.apply_config(vec![(o, g)]).await;
    assert_eq!(m.active_targets().len(), 1);
    let dropped = m.dropped_targets();
    assert_eq!(dropped.len(), 1);
    assert_eq!(
        dropped[0].discovered_labels.get("__address__"),
        Some("nope1:1")
    );
    assert_eq!(m.dropped_target_counts()["j"], 2);
    m.stop().await;
}

#[tokio::test]
async fn bearer_token_header() {
    let exp = Exporter::start(Reply::text("a 1\n")).await;
    let store = MemStore::new();
    let m = manager(&store);
    let mut o = pool("j", 100);
    o.http.authorization = Some(watchfire_scrape::Authorization {
        kind: String::new(),
        credentials: "secret".into(),
    });
    m.apply_config(vec![(o, groups(&[&exp]))]).await;
    assert!(wait_health(&m, TargetHealth::Up).await);
    assert_eq!(exp.requests()[0]["authorization"], "Bearer secret");
    m.stop().await;
}

#[tokio::test]
async fn file_sd_watcher_feeds_the_manager() {
    let e1 = Exporter::start(Reply::text("a 1\n")).await;
    let e2 = Exporter::start(Reply::text("b 1\n")).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.json");
    std::fs::write(
        &file,
        format!(
            r#"[{{"targets": ["{}"], "labels": {{"team": "x"}}}}]"#,
            e1.target()
        ),
    )
    .unwrap();
    let store = MemStore::new();
    let m = manager(&store);
    m.apply_config(vec![(pool("fs", 100), vec![])]).await;
    let watcher = watchfire_scrape::watch_file_sd(
        m.clone(),
        "fs".into(),
        vec![format!("{}/*.json", dir.path().display())],
        Duration::from_millis(50),
    );
    assert!(eventually(5, || store.last("a", &[("team", "x")]) == Some(1.0)).await);
    let t = &m.active_targets()[0];
    assert_eq!(
        t.discovered_labels.get("__meta_filepath"),
        Some(file.display().to_string().as_str())
    );
    std::fs::write(&file, format!(r#"[{{"targets": ["{}"]}}]"#, e2.target())).unwrap();
    assert!(eventually(5, || store.last("b", &[]) == Some(1.0)).await);
    assert!(eventually(5, || m.active_targets().len() == 1).await);
    m.wait_retired().await;
    assert!(is_stale_nan(store.last("a", &[("team", "x")]).unwrap()));
    watcher.abort();
    m.stop().await;
}
