//! `http_config.oauth2`: notifiers fetch a client-credentials token from a
//! local endpoint and send it as a Bearer header to a receiver that checks it.

use crate::common::*;
use axum::http::{HeaderMap, StatusCode};
use std::sync::{Arc, Mutex};

/// A receiver that accepts only `Authorization: Bearer tok-abc` and records
/// every `Authorization` it saw.
async fn guarded_receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let s = s.clone();
        async move {
            let auth = headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let ok = auth == "Bearer tok-abc";
            s.lock().unwrap().push(auth);
            // Slack wants the body `ok`; the webhook ignores it.
            if ok {
                (StatusCode::OK, "ok")
            } else {
                (StatusCode::UNAUTHORIZED, "")
            }
        }
    });
    let addr = watchfire_testkit::serve(app).await;
    (format!("http://{addr}"), seen)
}

fn oauth2_yaml(token_url: &str, secret_file: &str) -> String {
    format!(
        "      oauth2:\n        client_id: watchfire\n        client_secret_file: {secret_file}\n        token_url: {token_url}/oauth/token\n        scopes: [alerts.write, alerts.read]\n        endpoint_params: {{audience: am}}\n"
    )
}

#[tokio::test]
async fn webhook_sends_oauth2_bearer_token_and_reuses_it() {
    let tokens = serve(
        200,
        "application/json",
        r#"{"access_token":"tok-abc","token_type":"bearer","expires_in":3600}"#,
    )
    .await;
    let (hook, seen) = guarded_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let r = receiver(
        "",
        &format!(
            "- name: r\n  webhook_configs:\n  - url: {hook}/hook\n    http_config:\n{}",
            oauth2_yaml(&tokens.url, &secret.display().to_string())
        ),
    );
    let ints = build(&r);
    ints[0].notify(&firing_data()).await.unwrap();
    ints[0].notify(&resolved_data()).await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["Bearer tok-abc".to_string(), "Bearer tok-abc".to_string()]
    );
    // One token request for both notifications.
    let reqs = tokens.take();
    assert_eq!(reqs.len(), 1);
    let t = &reqs[0];
    assert_eq!(t.method, "POST");
    assert_eq!(t.path, "/oauth/token");
    assert_eq!(
        t.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    // base64("watchfire:s3cret")
    assert_eq!(t.header("authorization"), "Basic d2F0Y2hmaXJlOnMzY3JldA==");
    assert_eq!(
        std::str::from_utf8(&t.body).unwrap(),
        "audience=am&grant_type=client_credentials&scope=alerts.write+alerts.read"
    );
}

#[tokio::test]
async fn slack_uses_oauth2_too() {
    let tokens = serve(200, "application/json", r#"{"access_token":"tok-abc"}"#).await;
    let (hook, seen) = guarded_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "x").unwrap();
    let r = receiver(
        "",
        &format!(
            "- name: r\n  slack_configs:\n  - api_url: {hook}/slack\n    channel: '#c'\n    http_config:\n{}",
            oauth2_yaml(&tokens.url, &secret.display().to_string())
        ),
    );
    build(&r)[0].notify(&firing_data()).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), vec!["Bearer tok-abc".to_string()]);
    assert_eq!(tokens.take().len(), 1);
}

#[tokio::test]
async fn token_endpoint_failure_is_retryable_and_sends_nothing() {
    let tokens = serve(400, "application/json", r#"{"error":"invalid_client"}"#).await;
    let (hook, seen) = guarded_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "x").unwrap();
    let r = receiver(
        "",
        &format!(
            "- name: r\n  webhook_configs:\n  - url: {hook}/hook\n    http_config:\n{}",
            oauth2_yaml(&tokens.url, &secret.display().to_string())
        ),
    );
    let e = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(e.retry);
    assert!(
        e.message.contains(&format!(
            "oauth2: cannot fetch token from {}/oauth/token: 400 Bad Request; response: {{\"error\":\"invalid_client\"}}",
            tokens.url
        )),
        "{}",
        e.message
    );
    assert!(seen.lock().unwrap().is_empty());
    // Basic auth first, then the credentials as form fields.
    let reqs = tokens.take();
    assert_eq!(reqs.len(), 2);
    assert!(
        std::str::from_utf8(&reqs[1].body)
            .unwrap()
            .contains("client_id=watchfire&client_secret=x")
    );
}
