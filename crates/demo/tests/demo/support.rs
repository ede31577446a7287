//! Small helpers: a raw HTTP/1.0 GET and a metrics-text reader.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// GETs `path` with HTTP/1.0 (no chunking, server closes) and returns status, headers
/// (lower-cased names) and body.
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    Ok((status, head.to_ascii_lowercase(), body.to_owned()))
}

/// Scrapes `/metrics` into `series text -> value` (e.g. `app_errors_total{type="capacity"}`).
pub async fn scrape(addr: SocketAddr) -> BTreeMap<String, f64> {
    let (status, head, body) = http_get(addr, "/metrics").await.unwrap();
    assert_eq!(status, 200);
    assert!(
        head.contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    parse_samples(&body)
}

pub fn parse_samples(body: &str) -> BTreeMap<String, f64> {
    body.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            let value = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap(),
            };
            (series.to_owned(), value)
        })
        .collect()
}

/// Names of all samples in an exposition (`foo_bucket`, `foo_sum`, ... included).
pub fn sample_names(body: &str) -> std::collections::BTreeSet<String> {
    parse_samples(body)
        .keys()
        .map(|s| s.split('{').next().unwrap().to_owned())
        .collect()
}

pub async fn connect(addr: SocketAddr) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    ws
}

/// Reads text frames until one parses as JSON (skipping control frames).
pub async fn next_json(ws: &mut Ws) -> serde_json::Value {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
            .await
            .expect("no frame within 5 s")
            .expect("stream ended")
            .unwrap();
        if let Message::Text(t) = frame {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::Text(text.into())).await.unwrap();
}

/// Whether the env asks to skip tests that need the real Prometheus tools.
pub fn peer_tool(name: &str) -> Option<std::path::PathBuf> {
    if std::env::var("WATCHFIRE_SKIP_PEERS").as_deref() == Ok("1") {
        eprintln!("SKIP: WATCHFIRE_SKIP_PEERS=1, not running {name}");
        return None;
    }
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        eprintln!("SKIP: {name} is not on PATH");
    }
    found
}
