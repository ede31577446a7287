//! Scraping as configured in prometheus.yml, end to end.

use crate::harness::{Server, enc};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A loopback server with an OAuth2 token endpoint (`POST /token`, client credentials
/// `wf:s3cret` as basic auth) and a `/metrics` that answers 401 without its token.
/// Returns its address and the number of tokens handed out.
fn guarded_target() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let tokens = Arc::new(AtomicUsize::new(0));
    let issued = tokens.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let (mut auth, mut len) = (String::new(), 0usize);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap_or((&h, ""));
                match k.to_ascii_lowercase().as_str() {
                    "authorization" => auth = v.trim().to_string(),
                    "content-length" => len = v.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let body = String::from_utf8_lossy(&body);
            let metrics = line.starts_with("GET /metrics ");
            let (status, reply) = if line.starts_with("POST /token ") {
                // base64("wf:s3cret")
                if auth == "Basic d2Y6czNjcmV0" && body.contains("grant_type=client_credentials") {
                    issued.fetch_add(1, Ordering::SeqCst);
                    (
                        "200 OK",
                        r#"{"access_token":"tok-1","token_type":"bearer","expires_in":3600}"#,
                    )
                } else {
                    ("401 Unauthorized", "{}")
                }
            } else if metrics && auth == "Bearer tok-1" {
                ("200 OK", "# TYPE guarded_value gauge\nguarded_value 42\n")
            } else {
                ("401 Unauthorized", "")
            };
            let kind = if metrics {
                "text/plain; version=0.0.4"
            } else {
                "application/json"
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (addr, tokens)
}

/// `oauth2` in a scrape config: the token is fetched with the client credentials and
/// sent as a Bearer token on every scrape; without it the target would answer 401.
#[test]
fn oauth2_scrape_configs_fetch_and_send_a_token() {
    let (target, tokens) = guarded_target();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: guarded\n    oauth2:\n      client_id: wf\n      client_secret: s3cret\n      token_url: http://{target}/token\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let s = Server::start(
        &dir.path().join("data"),
        &[&format!("--config.file={}", cfg.display())],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = s
            .request(
                "GET",
                &format!("/api/v1/query?query={}", enc("guarded_value")),
                b"",
            )
            .unwrap();
        if body.contains("\"42\"") {
            break;
        }
        assert!(Instant::now() < deadline, "no scraped sample: {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Several scrapes later, still the one token (it is valid for an hour).
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(tokens.load(Ordering::SeqCst), 1);
}
