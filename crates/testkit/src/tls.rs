//! Throwaway certificates and a minimal HTTPS server for TLS client tests.
//!
//! The certificates come from the `openssl` CLI, so tests that use them skip (with a
//! printed reason) where it is missing: see [`TestCerts::make_or_skip`].

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// A CA certificate and a server certificate (with its key) signed by it.
#[derive(Debug, Clone)]
pub struct TestCerts {
    /// The CA certificate (PEM file).
    pub ca: PathBuf,
    /// The server certificate (PEM file), valid only for the DNS name it was made for.
    pub cert: PathBuf,
    /// The server's private key (PEM file).
    pub key: PathBuf,
}

impl TestCerts {
    /// Makes a CA and a server certificate valid for `dns_name` only (not for
    /// 127.0.0.1) in `dir`, or prints why not and returns `None` (no `openssl`
    /// CLI, or it failed).
    pub fn make_or_skip(dir: &Path, dns_name: &str) -> Option<TestCerts> {
        if Command::new("openssl").arg("version").output().is_err() {
            println!("SKIP: openssl CLI not found, cannot make test certificates");
            return None;
        }
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        let run = |cmd: &str| {
            Command::new("openssl")
                .args(cmd.split(' '))
                .current_dir(dir)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        let ok = run(&format!(
            "req -x509 {ec} -keyout ca.key -out ca.crt -days 1 -subj /CN=watchfire-test-ca"
        )) && run(&format!(
            "req {ec} -keyout srv.key -out srv.csr -subj /CN={dns_name}"
        )) && std::fs::write(
            dir.join("ext.cnf"),
            format!("subjectAltName=DNS:{dns_name}\n"),
        )
        .is_ok()
            && run(
                "x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 1 -extfile ext.cnf",
            );
        if !ok {
            println!("SKIP: openssl could not make test certificates");
            return None;
        }
        Some(TestCerts {
            ca: dir.join("ca.crt"),
            cert: dir.join("srv.crt"),
            key: dir.join("srv.key"),
        })
    }
}

/// Serves HTTPS/1.1 on a loopback port from background threads with `certs`'
/// server certificate, answering every request with `200 OK`, `content_type` and
/// `body`, then closing the connection. Accepts at most `max_connections`
/// connections, so the threads end by themselves.
pub fn serve_https(
    certs: &TestCerts,
    content_type: &'static str,
    body: &'static str,
    max_connections: usize,
) -> SocketAddr {
    let chain: Vec<_> = rustls_pemfile::certs(&mut std::fs::read(&certs.cert).unwrap().as_slice())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut std::fs::read(&certs.key).unwrap().as_slice())
        .unwrap()
        .expect("a private key in the key file");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max_connections) {
            let Ok(stream) = stream else { continue };
            let config = config.clone();
            std::thread::spawn(move || respond(stream, config, content_type, body));
        }
    });
    addr
}

fn respond(
    stream: std::net::TcpStream,
    config: Arc<rustls::ServerConfig>,
    content_type: &str,
    body: &str,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let _ = write!(
        tls,
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tls.flush();
    tls.conn.send_close_notify();
    let _ = tls.flush();
}
