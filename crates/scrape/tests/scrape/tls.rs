//! HTTPS scraping against a loopback rustls server with certificates made by the
//! `openssl` CLI (skipped when it is missing).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use watchfire_scrape::{
    ScrapeManager, ScrapeManagerOptions, ScrapePoolOptions, TargetGroup, TargetHealth,
};

use crate::harness::{MemStore, eventually};

fn openssl(dir: &Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A CA and a server certificate valid only for DNS name `watchfire.test`.
fn make_certs(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let ok = openssl(
        dir,
        &[
            &["req", "-x509"],
            &ec[..],
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "1",
                "-subj",
                "/CN=watchfire-test-ca",
            ],
        ]
        .concat(),
    ) && openssl(
        dir,
        &[
            &["req"],
            &ec[..],
            &[
                "-keyout",
                "srv.key",
                "-out",
                "srv.csr",
                "-subj",
                "/CN=watchfire.test",
            ],
        ]
        .concat(),
    ) && std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:watchfire.test\n")
        .is_ok()
        && openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "srv.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "srv.crt",
                "-days",
                "1",
                "-extfile",
                "ext.cnf",
            ],
        );
    ok.then(|| (dir.join("ca.crt"), dir.join("srv.crt"), dir.join("srv.key")))
}

/// Serves `a 1` over HTTPS/1.1 on a loopback port from a background thread.
fn serve(cert: &Path, key: &Path) -> std::net::SocketAddr {
    let certs: Vec<_> = rustls_pemfile::certs(&mut std::fs::read(cert).unwrap().as_slice())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut std::fs::read(key).unwrap().as_slice())
        .unwrap()
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        // Bounded: enough connections for the test's scrapes.
        for stream in listener.incoming().take(200) {
            let Ok(stream) = stream else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let body = "a 1\n";
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    addr
}

#[tokio::test]
async fn https_with_ca_file_server_name_and_skip_verify() {
    if Command::new("openssl").arg("version").output().is_err() {
        println!("SKIP: openssl CLI not found, cannot make test certificates");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some((ca, cert, key)) = make_certs(dir.path()) else {
        println!("SKIP: openssl could not make test certificates");
        return;
    };
    let addr = serve(&cert, &key);
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
