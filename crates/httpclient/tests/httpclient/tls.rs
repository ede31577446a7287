//! A token endpoint over HTTPS with certificates made by the `openssl` CLI
//! (skipped when it is missing): the token client trusts the configured CA,
//! checks `server_name`, and refuses an unknown issuer.

use watchfire_httpclient::{OAuth2Config, Pem, TlsSettings, TokenSource, token_client};
use watchfire_testkit::tls::{TestCerts, serve_https};

#[tokio::test]
async fn token_endpoint_over_https_uses_the_oauth2_tls_config() {
    let dir = tempfile::tempdir().unwrap();
    let Some(certs) = TestCerts::make_or_skip(dir.path(), "tokens.test") else {
        return;
    };
    let ca = certs.ca.clone();
    let addr = serve_https(
        &certs,
        "application/json",
        r#"{"access_token":"tls-tok","token_type":"bearer"}"#,
        20,
    );
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
