//! A token source against a token endpoint on 127.0.0.1.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use watchfire_httpclient::encode::{base64, form_decode};
use watchfire_httpclient::{ClientSecret, Clock, OAuth2Config, TokenSource};

/// One token request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    authorization: Option<String>,
    content_type: String,
    form: BTreeMap<String, String>,
}

/// How the fake endpoint answers.
#[derive(Clone, Copy)]
enum Mode {
    /// JSON token with this `expires_in` (0: none); any credentials.
    Json(u64),
    /// Form-encoded token, no expiry.
    Form,
    /// 401 unless the credentials are form fields.
    ParamsOnly,
    /// 400 with an OAuth2 error body.
    Reject,
    /// 200 without an access token.
    Empty,
}

#[derive(Clone)]
struct Endpoint {
    mode: Mode,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn token(State(ep): State<Endpoint>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let get = |n: &str| headers.get(n).map(|v| v.to_str().unwrap().to_string());
    let form = form_decode(std::str::from_utf8(&body).unwrap());
    let seen = Seen {
        authorization: get("authorization"),
        content_type: get("content-type").unwrap_or_default(),
        form: form.clone(),
    };
    let n = {
        let mut s = ep.seen.lock().unwrap();
        s.push(seen);
        s.len()
    };
    let json = "application/json";
    match ep.mode {
        Mode::Json(exp) => {
            let mut v =
                serde_json::json!({"access_token": format!("tok-{n}"), "token_type": "bearer"});
            if exp > 0 {
                v["expires_in"] = exp.into();
            }
            (StatusCode::OK, [("content-type", json)], v.to_string())
        }
        Mode::Form => (
            StatusCode::OK,
            [("content-type", "application/x-www-form-urlencoded")],
            format!("access_token=form-{n}&token_type=bearer&scope=x"),
        ),
        Mode::ParamsOnly if form.contains_key("client_secret") => (
            StatusCode::OK,
            [("content-type", json)],
            format!(r#"{{"access_token":"p-{n}","expires_in":"60"}}"#),
        ),
        Mode::ParamsOnly => (
            StatusCode::UNAUTHORIZED,
            [("content-type", json)],
            r#"{"error":"invalid_client"}"#.to_string(),
        ),
        Mode::Reject => (
            StatusCode::BAD_REQUEST,
            [("content-type", json)],
            r#"{"error":"invalid_scope"}"#.to_string(),
        ),
        Mode::Empty => (
            StatusCode::OK,
            [("content-type", json)],
            r#"{"token_type":"bearer"}"#.to_string(),
        ),
    }
}

/// Starts an endpoint; returns its token URL and what it saw.
async fn endpoint(mode: Mode) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/oauth/token", axum::routing::post(token))
        .with_state(Endpoint {
            mode,
            seen: seen.clone(),
        });
    let addr = watchfire_testkit::serve(app).await;
    (format!("http://{addr}/oauth/token"), seen)
}

fn client() -> reqwest::Client {
    watchfire_httpclient::install_crypto_provider();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn config(url: &str, secret: ClientSecret) -> OAuth2Config {
    OAuth2Config {
        token_url: url.to_string(),
        client_id: "my client".to_string(),
        client_secret: secret,
        scopes: vec!["read".into(), "write".into()],
        endpoint_params: BTreeMap::from([("audience".into(), "https://api/x".into())]),
    }
}

/// A clock the test moves by hand.
fn manual_clock() -> (Clock, Arc<AtomicU64>) {
    let base = Instant::now();
    let offset = Arc::new(AtomicU64::new(0));
    let o = offset.clone();
    (
        Arc::new(move || base + Duration::from_secs(o.load(Ordering::SeqCst))),
        offset,
    )
}

#[tokio::test]
async fn token_is_fetched_once_and_reused() {
    let (url, seen) = endpoint(Mode::Json(0)).await;
    let ts =
        TokenSource::new(config(&url, ClientSecret::Value("s/cret".into())), client()).unwrap();
    for _ in 0..3 {
        let v = ts.authorization().await.unwrap();
        assert_eq!(v.to_str().unwrap(), "Bearer tok-1");
        assert!(v.is_sensitive());
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    // Basic auth first, both halves query-escaped as Go does.
    assert_eq!(
        s.authorization.as_deref(),
        Some(format!("Basic {}", base64(b"my+client:s%2Fcret")).as_str())
    );
    assert_eq!(s.content_type, "application/x-www-form-urlencoded");
    assert_eq!(
        s.form,
        BTreeMap::from([
            ("audience".into(), "https://api/x".into()),
            ("grant_type".into(), "client_credentials".into()),
            ("scope".into(), "read write".into()),
        ])
    );
}

#[tokio::test]
async fn token_is_refetched_near_expiry() {
    let (url, seen) = endpoint(Mode::Json(60)).await;
    let (clock, offset) = manual_clock();
    let ts = TokenSource::new(config(&url, ClientSecret::None), client())
        .unwrap()
        .with_clock(clock);
    assert_eq!(ts.token().await.unwrap().access_token, "tok-1");
    offset.store(49, Ordering::SeqCst);
    assert_eq!(ts.token().await.unwrap().access_token, "tok-1");
    // Within the 10s safety margin of expires_in=60.
    offset.store(50, Ordering::SeqCst);
    assert_eq!(ts.token().await.unwrap().access_token, "tok-2");
    assert_eq!(ts.token().await.unwrap().access_token, "tok-2");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    // No secret: basic auth with an empty password.
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(format!("Basic {}", base64(b"my+client:")).as_str())
    );
}

#[tokio::test]
async fn tiny_expires_in_means_a_fetch_per_use() {
    let (url, seen) = endpoint(Mode::Json(1)).await;
    let ts = TokenSource::new(config(&url, ClientSecret::None), client()).unwrap();
    assert_eq!(ts.token().await.unwrap().access_token, "tok-1");
    assert_eq!(ts.token().await.unwrap().access_token, "tok-2");
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn secret_file_is_reread_and_rotation_drops_the_token() {
    let (url, seen) = endpoint(Mode::Json(0)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, "one\n").unwrap();
    let ts = TokenSource::new(config(&url, ClientSecret::File(path.clone())), client()).unwrap();
    assert_eq!(ts.token().await.unwrap().access_token, "tok-1");
    assert_eq!(ts.token().await.unwrap().access_token, "tok-1");
    std::fs::write(&path, "two").unwrap();
    assert_eq!(ts.token().await.unwrap().access_token, "tok-2");
    let auths: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.authorization.clone().unwrap())
        .collect();
    assert_eq!(
        auths,
        vec![
            format!("Basic {}", base64(b"my+client:one")),
            format!("Basic {}", base64(b"my+client:two")),
        ]
    );
    std::fs::remove_file(&path).unwrap();
    let e = ts.token().await.unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "oauth2: unable to read client secret file {}: ",
            path.display()
        )),
        "{e}"
    );
}

#[tokio::test]
async fn credentials_fall_back_to_form_fields() {
    let (url, seen) = endpoint(Mode::ParamsOnly).await;
    let (clock, offset) = manual_clock();
    let ts = TokenSource::new(config(&url, ClientSecret::Value("sec".into())), client())
        .unwrap()
        .with_clock(clock);
    assert_eq!(ts.authorization().await.unwrap(), "Bearer p-2");
    offset.store(100, Ordering::SeqCst);
    // The style that worked is remembered: one request, no header attempt.
    assert_eq!(ts.authorization().await.unwrap(), "Bearer p-3");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert!(seen[0].authorization.is_some());
    assert!(!seen[0].form.contains_key("client_secret"));
    for s in &seen[1..] {
        assert_eq!(s.authorization, None);
        assert_eq!(s.form["client_id"], "my client");
        assert_eq!(s.form["client_secret"], "sec");
        assert_eq!(s.form["grant_type"], "client_credentials");
    }
}

#[tokio::test]
async fn form_encoded_responses_are_understood() {
    let (url, _) = endpoint(Mode::Form).await;
    let ts = TokenSource::new(config(&url, ClientSecret::None), client()).unwrap();
    let t = ts.token().await.unwrap();
    assert_eq!(t.access_token, "form-1");
    assert_eq!(t.expiry, None);
}

#[tokio::test]
async fn errors_name_the_url_status_and_body() {
    let (url, seen) = endpoint(Mode::Reject).await;
    let ts = TokenSource::new(config(&url, ClientSecret::Value("x".into())), client()).unwrap();
    let e = ts.authorization().await.unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "oauth2: cannot fetch token from {url}: 400 Bad Request; response: {{\"error\":\"invalid_scope\"}}"
        )
    );
    // Both credential styles were tried; nothing is cached after a failure.
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert!(ts.token().await.is_err());
    assert_eq!(seen.lock().unwrap().len(), 4);

    let (url, _) = endpoint(Mode::Empty).await;
    let ts = TokenSource::new(config(&url, ClientSecret::None), client()).unwrap();
    assert_eq!(
        ts.token().await.unwrap_err().to_string(),
        format!(
            "oauth2: cannot parse token response from {url}: server response missing access_token"
        )
    );

    // Nothing listens on a port we just released.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let url = format!("http://u:pw@127.0.0.1:{port}/token");
    let ts = TokenSource::new(config(&url, ClientSecret::None), client()).unwrap();
    let e = ts.token().await.unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "oauth2: cannot fetch token from http://u:xxxxx@127.0.0.1:{port}/token: "
        )),
        "{e}"
    );
    assert!(!e.contains("pw"), "{e}");
}
