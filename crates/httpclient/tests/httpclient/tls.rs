//! A token endpoint over HTTPS with certificates made by the `openssl` CLI
//! (skipped when it is missing): the token client trusts the configured CA,
//! checks `server_name`, and refuses an unknown issuer.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use watchfire_httpclient::{OAuth2Config, Pem, TlsSettings, TokenSource, token_client};

fn openssl(dir: &Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A CA and a server certificate valid only for DNS name `tokens.test`.
fn make_certs(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let run = |cmd: &str| openssl(dir, &cmd.split(' ').collect::<Vec<_>>());
    let ok = run(&format!(
        "req -x509 {ec} -keyout ca.key -out ca.crt -days 1 -subj /CN=httpclient-test-ca"
    )) && run(&format!(
        "req {ec} -keyout srv.key -out srv.csr -subj /CN=tokens.test"
    )) && std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:tokens.test\n").is_ok()
        && run(
            "x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 1 -extfile ext.cnf",
        );
    ok.then(|| (dir.join("ca.crt"), dir.join("srv.crt"), dir.join("srv.key")))
}

/// Answers every HTTPS request with a token, from a background thread.
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
        // Bounded: a handful of connections is all the test makes.
        for stream in listener.incoming().take(20) {
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
                let body = r#"{"access_token":"tls-tok","token_type":"bearer"}"#;
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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
async fn token_endpoint_over_https_uses_the_oauth2_tls_config() {
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
    let source = |tls: TlsSettings| {
        let client = token_client(&tls, None, "test").unwrap();
        TokenSource::new(
            OAuth2Config {
                token_url: format!("https://{addr}/token"),
                client_id: "c".into(),
                ..OAuth2Config::default()
            },
            client,
        )
        .unwrap()
    };
    let trusted = source(TlsSettings {
        ca: Some(Pem::File(ca.clone())),
        server_name: Some("tokens.test".into()),
        ..TlsSettings::default()
    });
    assert_eq!(
        trusted.authorization().await.unwrap().to_str().unwrap(),
        "Bearer tls-tok"
    );
    // Inline PEM works the same as the file.
    let inline = source(TlsSettings {
        ca: Some(Pem::Inline(std::fs::read_to_string(&ca).unwrap())),
        server_name: Some("tokens.test".into()),
        ..TlsSettings::default()
    });
    assert_eq!(inline.token().await.unwrap().access_token, "tls-tok");
    // The certificate does not name 127.0.0.1.
    let wrong_name = source(TlsSettings {
        ca: Some(Pem::File(ca)),
        ..TlsSettings::default()
    });
    let e = wrong_name.token().await.unwrap_err().to_string();
    assert!(e.contains("certificate"), "{e}");
    let unknown_ca = source(TlsSettings::default());
    let e = unknown_ca.token().await.unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "oauth2: cannot fetch token from https://{addr}/token: "
        )),
        "{e}"
    );
    assert!(e.contains("certificate"), "{e}");
    let skip = source(TlsSettings {
        insecure_skip_verify: true,
        ..TlsSettings::default()
    });
    assert_eq!(skip.token().await.unwrap().access_token, "tls-tok");
}
