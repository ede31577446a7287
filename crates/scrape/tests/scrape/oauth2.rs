//! `oauth2` scrape authentication: a token endpoint and a target on loopback;
//! the target answers only to the Bearer token the endpoint issued.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use watchfire_httpclient::{ClientSecret, OAuth2Config};
use watchfire_scrape::{OAuth2Options, ScrapeClient, ScrapeError, ScrapePoolOptions};

/// Serves `app` on an ephemeral loopback port; returns `http://addr`.
async fn serve(app: axum::Router) -> String {
    let addr = watchfire_testkit::serve(app).await;
    format!("http://{addr}")
}

/// A token endpoint answering with `status` and `body`; returns its base URL
/// and the `(Authorization, form body)` of each request.
async fn token_endpoint(
    status: u16,
    body: &'static str,
) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/token",
        axum::routing::post(move |headers: HeaderMap, form: String| {
            let s = s.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                s.lock().unwrap().push((auth, form));
                (
                    StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    body,
                )
            }
        }),
    );
    (serve(app).await, seen)
}

/// A target exposing one metric to `Bearer tok-1` only.
async fn guarded_target() -> String {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(|headers: HeaderMap| async move {
            let ok = headers
                .get("authorization")
                .is_some_and(|v| v.as_bytes() == b"Bearer tok-1");
            if ok {
                (StatusCode::OK, "up_metric 1\n")
            } else {
                (StatusCode::UNAUTHORIZED, "")
            }
        }),
    );
    serve(app).await
}

fn options(token_base: &str, secret_file: &std::path::Path) -> ScrapePoolOptions {
    let mut o = ScrapePoolOptions::new("oauth");
    o.oauth2 = Some(OAuth2Options {
        config: OAuth2Config {
            token_url: format!("{token_base}/token"),
            client_id: "scraper".into(),
            client_secret: ClientSecret::File(secret_file.to_path_buf()),
            scopes: vec!["metrics".into()],
            endpoint_params: BTreeMap::new(),
        },
        tls: Default::default(),
        proxy_url: None,
    });
    o
}

#[tokio::test]
async fn scrapes_carry_the_oauth2_token() {
    let (tokens, seen) = token_endpoint(
        200,
        r#"{"access_token":"tok-1","token_type":"Bearer","expires_in":3600}"#,
    )
    .await;
    let target = guarded_target().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "pw\n").unwrap();
    let client = ScrapeClient::new(&options(&tokens, &secret)).unwrap();
    let mut buf = Vec::new();
    for _ in 0..2 {
        client
            .fetch(
                &format!("{target}/metrics"),
                Duration::from_secs(5),
                &mut buf,
            )
            .await
            .unwrap();
        assert_eq!(buf, b"up_metric 1\n");
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "the token is reused");
    // base64("scraper:pw")
    assert_eq!(seen[0].0, "Basic c2NyYXBlcjpwdw==");
    assert_eq!(seen[0].1, "grant_type=client_credentials&scope=metrics");
}

#[tokio::test]
async fn token_failures_fail_the_scrape() {
    let (tokens, _) = token_endpoint(401, r#"{"error":"invalid_client"}"#).await;
    let target = guarded_target().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "pw").unwrap();
    let client = ScrapeClient::new(&options(&tokens, &secret)).unwrap();
    let url = format!("{target}/metrics");
    let e = client
        .fetch(&url, Duration::from_secs(5), &mut Vec::new())
        .await
        .unwrap_err();
    assert_eq!(
        e,
        ScrapeError::Http(format!(
            "Get {url:?}: oauth2: cannot fetch token from {tokens}/token: 401 Unauthorized; response: {{\"error\":\"invalid_client\"}}"
        ))
    );
}
