//! Retry classification of HTTP answers and transport failures.

use crate::common::*;

async fn outcome(status: u16) -> Result<(), watchfire_notify::NotifyError> {
    let srv = serve(status, "text/plain", "server says no").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  webhook_configs:\n  - url: {}/secret-token\n",
            srv.url
        ),
    );
    build(&r)[0].notify(&firing_data()).await
}

#[tokio::test]
async fn status_codes_are_classified_like_alertmanager() {
    assert!(outcome(200).await.is_ok());
    let e = outcome(400).await.unwrap_err();
    assert!(!e.retry);
    assert_eq!(e.message, "unexpected status code 400: server says no");
    let e = outcome(429).await.unwrap_err();
    assert!(e.retry);
    assert!(e.message.starts_with("unexpected status code 429"));
    let e = outcome(500).await.unwrap_err();
    assert!(e.retry);
    assert_eq!(e.message, "unexpected status code 500: server says no");
}

#[tokio::test]
async fn connection_refused_is_retryable_and_redacted() {
    // Bind, learn the port, close: nothing listens there any more.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let r = receiver(
        "",
        &format!("- name: r\n  webhook_configs:\n  - url: http://127.0.0.1:{port}/secret-token\n"),
    );
    let e = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(e.retry, "{e:?}");
    assert!(!e.message.contains("secret-token"), "{}", e.message);
}

#[tokio::test]
async fn timeouts_are_retryable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts and never answers.
    let hold = tokio::spawn(async move {
        let (_s, _) = listener.accept().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    });
    let r = receiver(
        "",
        &format!("- name: r\n  webhook_configs:\n  - url: http://{addr}/\n    timeout: 200ms\n"),
    );
    let e = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(e.retry);
    assert!(e.message.contains("timed out"), "{}", e.message);
    hold.abort();
}

#[tokio::test]
async fn pagerduty_v1_retries_403_and_template_errors_do_not() {
    let srv = serve(403, "application/json", "{}").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  pagerduty_configs:\n  - service_key: k\n    url: {}/\n",
            srv.url
        ),
    );
    assert!(build(&r)[0].notify(&firing_data()).await.unwrap_err().retry);

    let r = receiver(
        "",
        &format!(
            "- name: r\n  msteams_configs:\n  - webhook_url: {}/\n    text: '{{{{ template \"nope\" . }}}}'\n",
            srv.url
        ),
    );
    let e = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(!e.retry);
    assert!(e.message.contains("nope"), "{}", e.message);
}

#[tokio::test]
async fn unusable_oauth2_tls_config_fails_at_build_time() {
    let r = receiver(
        "",
        "- name: r\n  webhook_configs:\n  - url: http://127.0.0.1:1/\n    http_config:\n      oauth2: {client_id: a, client_secret: b, token_url: 'http://127.0.0.1:1/t', tls_config: {ca_file: /nonexistent/ca.pem}}\n",
    );
    let e = watchfire_notify::build_integrations(
        &r,
        templates(),
        watchfire_notify::default_http_client(None).unwrap(),
    )
    .err()
    .unwrap();
    assert!(!e.retry);
    assert!(
        e.message
            .contains("http_config.oauth2: tls_config: reading CA \"/nonexistent/ca.pem\""),
        "{}",
        e.message
    );
    assert!(e.message.starts_with("r/webhook[0]"), "{}", e.message);
}
