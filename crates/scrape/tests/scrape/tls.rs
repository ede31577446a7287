//! HTTPS scraping against a loopback rustls server with certificates made by the
//! `openssl` CLI (skipped when it is missing).

use std::time::Duration;

use watchfire_scrape::{
    ScrapeManager, ScrapeManagerOptions, ScrapePoolOptions, TargetGroup, TargetHealth,
};
use watchfire_testkit::tls::{TestCerts, serve_https};

use crate::harness::{MemStore, eventually};

#[tokio::test]
async fn https_with_ca_file_server_name_and_skip_verify() {
    let dir = tempfile::tempdir().unwrap();
    let Some(certs) = TestCerts::make_or_skip(dir.path(), "watchfire.test") else {
        return;
    };
    let ca = certs.ca.clone();
    // Bounded: enough connections for the test's scrapes.
    let addr = serve_https(&certs, "text/plain; version=0.0.4", "a 1\n", 200);
    let job = |name: &str, f: &dyn Fn(&mut ScrapePoolOptions)| {
        let mut o = ScrapePoolOptions::new(name);
        o.scheme = "https".into();
        o.scrape_interval = Duration::from_millis(200);
        o.scrape_timeout = Duration::from_millis(200);
        f(&mut o);
        let g = TargetGroup {
            targets: vec![addr.to_string()],
            labels: Default::default(),
            source: "s".into(),
        };
        (o, vec![g])
    };
    let store = MemStore::new();
    let m = ScrapeManager::new(store.clone(), ScrapeManagerOptions::default());
    m.apply_config(vec![
        job("ca_and_name", &|o| {
            o.http.tls.ca_file = Some(ca.clone());
            o.http.tls.server_name = Some("watchfire.test".into());
        }),
        job("ca_wrong_name", &|o| o.http.tls.ca_file = Some(ca.clone())),
        job("skip_verify", &|o| o.http.tls.insecure_skip_verify = true),
        job("system_roots", &|_| {}),
    ])
    .await;
    let health = |job: &str| {
        m.active_targets()
            .into_iter()
            .find(|t| t.scrape_pool == job)
            .map(|t| (t.health, t.last_error))
    };
    assert!(
        eventually(10, || m
            .active_targets()
            .iter()
            .all(|t| t.health != TargetHealth::Unknown))
        .await
    );
    assert_eq!(
        health("ca_and_name").unwrap(),
        (TargetHealth::Up, String::new())
    );
    assert_eq!(health("skip_verify").unwrap().0, TargetHealth::Up);
    let (h, err) = health("ca_wrong_name").unwrap();
    assert_eq!(h, TargetHealth::Down);
    assert!(err.contains("certificate"), "{err}");
    let (h, err) = health("system_roots").unwrap();
    assert_eq!(h, TargetHealth::Down);
    assert!(err.contains("certificate"), "{err}");
    assert_eq!(store.last("a", &[("job", "ca_and_name")]), Some(1.0));
    m.stop().await;
}
