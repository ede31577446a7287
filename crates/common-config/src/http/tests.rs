#![allow(clippy::unwrap_used)]
use super::*;

fn yaml(text: &str) -> Result<HttpClientConfig, String> {
    serde_saphyr::from_str::<HttpClientConfig>(text).map_err(|e| e.to_string())
}

fn validated(text: &str) -> Result<HttpClientConfig, String> {
    let mut h = yaml(text)?;
    h.validate()?;
    Ok(h)
}

#[test]
fn defaults_are_gos() {
    let d = HttpClientConfig::default();
    assert!(d.follow_redirects && d.enable_http2);
    assert_eq!(yaml("{}").unwrap(), d);
    // Go's YAML decoder zeroes a field given as null.
    let h = yaml("follow_redirects:\nenable_http2: null\ntls_config:\nbasic_auth:\n").unwrap();
    assert!(!h.follow_redirects && !h.enable_http2);
    assert_eq!(h.tls_config, TlsConfig::default());
    assert!(h.basic_auth.is_none());
}

#[test]
fn every_key_is_accepted_and_unknown_ones_are_not() {
    let h = validated(
        "basic_auth: {username_file: u, password: p}\n\
         tls_config: {ca: x, cert_file: c, key: k, server_name: s, insecure_skip_verify: true, min_version: TLS12, max_version: TLS13}\n\
         proxy_url: http://proxy:3128\n\
         no_proxy: internal\n\
         proxy_connect_header: {X-P: [s1, s2]}\n\
         follow_redirects: false\n\
         enable_http2: false\n\
         http_headers: {X-A: {values: [v], secrets: [s], files: [f]}}\n",
    )
    .unwrap();
    assert_eq!(h.basic_auth.as_ref().unwrap().username_file, "u");
    assert_eq!(h.tls_config.min_version, "TLS12");
    assert_eq!(h.proxy_connect_header["X-P"].len(), 2);
    assert_eq!(h.http_headers["X-A"].secrets[0].expose(), "s");
    let o = validated(
        "oauth2:\n  client_id: a\n  client_secret: s\n  token_url: t\n  scopes: [x]\n  \
         endpoint_params: {k: v}\n  tls_config: {insecure_skip_verify: true}\n  \
         proxy_url: http://p\n  no_proxy: n\n  proxy_connect_header: {H: [v]}\n",
    )
    .unwrap()
    .oauth2
    .unwrap();
    assert_eq!((o.token_url.as_str(), o.no_proxy.as_str()), ("t", "n"));
    assert!(yaml("oauth2: {proxy_from_environment: true}").is_ok());
    for bad in [
        "bogus: 1",
        "basic_auth: {user: x}",
        "authorization: {kind: x}",
        "tls_config: {ca_ref: x}",
        "oauth2: {bogus: 1}",
        "http_headers: {X: {value: [a]}}",
    ] {
        assert!(yaml(bad).is_err(), "{bad}");
    }
}

#[test]
fn validation_follows_prometheus() {
    let conflict = "at most one of basic_auth, oauth2 & authorization must be configured";
    let bearer_conflict =
        "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured";
    let cases = [
        (
            "bearer_token: a\nbearer_token_file: b",
            "at most one of bearer_token & bearer_token_file must be configured",
        ),
        (
            "basic_auth: {username: u}\nbearer_token: t",
            bearer_conflict,
        ),
        (
            "oauth2: {client_id: a, token_url: t}\nbearer_token_file: t",
            bearer_conflict,
        ),
        (
            "basic_auth: {username: u, username_file: f}",
            "at most one of basic_auth username & username_file must be configured",
        ),
        (
            "basic_auth: {password: p, password_file: f}",
            "at most one of basic_auth password & password_file must be configured",
        ),
        (
            "authorization: {credentials: c}\nbearer_token: t",
            "authorization is not compatible with bearer_token & bearer_token_file",
        ),
        (
            "authorization: {credentials: c, credentials_file: f}",
            "at most one of authorization credentials & credentials_file must be configured",
        ),
        (
            "authorization: {type: ' basic '}",
            "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
        ),
        ("authorization: {}\nbasic_auth: {}", conflict),
        ("authorization: {}\noauth2: {}", conflict),
        // The conflict is reported before oauth2's own omissions, as in Go.
        ("basic_auth: {}\noauth2: {}", conflict),
        (
            "oauth2: {token_url: t}",
            "oauth2 client_id must be configured",
        ),
        (
            "oauth2: {client_id: a}",
            "oauth2 token_url must be configured",
        ),
        (
            "oauth2: {client_id: a, token_url: t, client_secret: s, client_secret_file: f}",
            "at most one of oauth2 client_secret & client_secret_file must be configured",
        ),
        (
            "proxy_url: http://p\nproxy_from_environment: true",
            "if proxy_from_environment is configured, proxy_url must not be configured",
        ),
        (
            "tls_config: {ca: a, ca_file: b}",
            "at most one of ca and ca_file must be configured",
        ),
        (
            "tls_config: {cert: a, cert_file: b, key: k}",
            "at most one of cert and cert_file must be configured",
        ),
        (
            "tls_config: {key: a, key_file: b, cert: c}",
            "at most one of key and key_file must be configured",
        ),
        (
            "tls_config: {cert_file: c}",
            "exactly one of key or key_file must be configured when a client certificate is configured",
        ),
        (
            "tls_config: {key: k}",
            "exactly one of cert or cert_file must be configured when a client key is configured",
        ),
        (
            "tls_config: {max_version: TLS14}",
            "unknown TLS version: TLS14",
        ),
        (
            "http_headers: {user-agent: {values: [x]}}",
            "setting header \"user-agent\" is not allowed",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(validated(text).unwrap_err(), want, "{text}");
    }
}

#[test]
fn validation_normalises_authorization() {
    let h = validated("bearer_token: tok").unwrap();
    let a = h.authorization.as_ref().unwrap();
    assert_eq!((a.kind.as_str(), a.credentials.expose()), ("Bearer", "tok"));
    assert!(h.bearer_token.is_empty());
    let h = validated("bearer_token_file: /t").unwrap();
    let a = h.authorization.unwrap();
    assert_eq!(
        (a.kind.as_str(), a.credentials_file.as_str()),
        ("Bearer", "/t")
    );
    assert!(h.bearer_token_file.is_empty());
    let a = validated("authorization: {type: ' Custom ', credentials: c}")
        .unwrap()
        .authorization
        .unwrap();
    assert_eq!(a.kind, "Custom");
    let a = validated("authorization: {credentials: c}")
        .unwrap()
        .authorization
        .unwrap();
    assert_eq!(a.kind, "Bearer");
}

#[test]
fn resolve_paths_rewrites_every_file_name() {
    let mut h = yaml(
        "basic_auth: {username_file: u, password_file: p}\n\
         tls_config: {ca_file: ca, cert_file: c, key_file: k, ca: inline}\n\
         bearer_token_file: b\n\
         oauth2: {client_id: a, token_url: t, client_secret_file: s, tls_config: {ca_file: oca}}\n\
         http_headers: {X: {files: [h1, h2], values: [v]}}\n",
    )
    .unwrap();
    h.authorization = Some(Authorization {
        credentials_file: "cred".into(),
        ..Authorization::default()
    });
    h.resolve_paths(|p| format!("/d/{p}"));
    let b = h.basic_auth.as_ref().unwrap();
    assert_eq!(
        (b.username_file.as_str(), b.password_file.as_str()),
        ("/d/u", "/d/p")
    );
    let t = &h.tls_config;
    assert_eq!(
        [
            t.ca_file.as_str(),
            t.cert_file.as_str(),
            t.key_file.as_str(),
            t.ca.as_str()
        ],
        ["/d/ca", "/d/c", "/d/k", "inline"]
    );
    assert_eq!(h.bearer_token_file, "/d/b");
    assert_eq!(h.authorization.unwrap().credentials_file, "/d/cred");
    let o = h.oauth2.unwrap();
    assert_eq!(o.client_secret_file, "/d/s");
    assert_eq!(o.tls_config.ca_file, "/d/oca");
    assert_eq!(h.http_headers["X"].files, ["/d/h1", "/d/h2"]);
    assert_eq!(h.http_headers["X"].values, ["v"]);
    // Unset names stay unset.
    let mut empty = HttpClientConfig::default();
    empty.resolve_paths(|p| format!("/d/{p}"));
    assert_eq!(empty, HttpClientConfig::default());
}

#[test]
fn serialisation_hides_secrets_and_prints_go_fields() {
    let h = validated(
        "basic_auth: {username: u, password: pw}\n\
         tls_config: {key: keypem, cert: certpem}\n\
         proxy_url: http://p\nproxy_connect_header: {X: [hdr]}\n\
         http_headers: {X-S: {secrets: [sec]}}\n",
    )
    .unwrap();
    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "basic_auth": {"username": "u", "password": "<secret>"},
            "tls_config": {"cert": "certpem", "key": "<secret>", "insecure_skip_verify": false},
            "proxy_url": "http://p",
            "proxy_connect_header": {"X": ["<secret>"]},
            "follow_redirects": true,
            "enable_http2": true,
            "http_headers": {"X-S": {"secrets": ["<secret>"]}},
        })
    );
}

fn http2_off() -> bool {
    false
}

crate::http_client_section! {
    enable_http2_default = "http2_off";
    /// A section that inlines the HTTP keys next to its own.
    #[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    pub struct Section {
        /// Its own key.
        pub url: String,
    }
}

#[test]
fn sections_inline_the_same_fields() {
    let mut s: Section =
        serde_saphyr::from_str("url: http://x\nbearer_token: t\nproxy_url: http://p\n").unwrap();
    assert!(!s.enable_http2, "the section's own default");
    assert!(s.follow_redirects);
    assert!(serde_saphyr::from_str::<Section>("url: u\nbogus: 1\n").is_err());
    s.with_http_client(HttpClientConfig::validate).unwrap();
    assert!(s.bearer_token.is_empty());
    assert_eq!(s.authorization.as_ref().unwrap().credentials.expose(), "t");
    assert_eq!(s.proxy_url, "http://p", "fields are put back");
    let h = s.http_client();
    assert_eq!(h.authorization, s.authorization);
    assert!(!h.enable_http2);
    s.with_http_client(|h| h.resolve_paths(|p| format!("/d/{p}")));
    let mut bad: Section =
        serde_saphyr::from_str("url: u\nbasic_auth: {}\nbearer_token: t\n").unwrap();
    assert!(bad.with_http_client(HttpClientConfig::validate).is_err());
}
