//! Prometheus' common HTTP client configuration (`HTTPClientConfig` in
//! `prometheus/common/config`): authentication, TLS, proxies, redirects, HTTP/2 and
//! extra headers, with its validation and relative-path resolution.
//!
//! Values follow the Go model: an empty string is "not set", `Secret`s hide their
//! value, and nested blocks that only matter when present (`basic_auth`,
//! `authorization`, `oauth2`) are `Option`s. Validation is a separate step so each
//! configuration crate can report its errors with its own positions and field paths.
//!
//! Messages are prometheus/common's: the authentication conflicts as every release
//! since 2021 words them (promtool and amtool print these), the rest in their
//! wording from before secret references (`*_ref`) existed, which Watchfire does not
//! accept. Path resolution takes the joining rule from the caller: `prometheus.yml`
//! and `alertmanager.yml` resolve relative to their own file in their own ways.

use crate::Secret;
use crate::serde_support::{is_false, null_default};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `basic_auth`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub username: String,
    /// File holding the user name.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub username_file: String,
    /// Password.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub password: Secret,
    /// File holding the password.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub password_file: String,
}

impl BasicAuth {
    /// At most one of each inline value and its file.
    pub fn validate(&self) -> Result<(), String> {
        if !self.username.is_empty() && !self.username_file.is_empty() {
            return Err(
                "at most one of basic_auth username & username_file must be configured".into(),
            );
        }
        if !self.password.is_empty() && !self.password_file.is_empty() {
            return Err(
                "at most one of basic_auth password & password_file must be configured".into(),
            );
        }
        Ok(())
    }
}

/// `authorization`: an `Authorization: <type> <credentials>` header.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// Scheme; validation trims it and sets `Bearer` when empty.
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub kind: String,
    /// Credentials.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub credentials: Secret,
    /// File holding the credentials.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub credentials_file: String,
}

/// `tls_config`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// CA certificate PEM text.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub ca: String,
    /// CA certificate file.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub ca_file: String,
    /// Client certificate PEM text.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub cert: String,
    /// Client certificate file.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub cert_file: String,
    /// Client key PEM text.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub key: Secret,
    /// Client key file.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub key_file: String,
    /// Server name for SNI and certificate verification.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub server_name: String,
    /// Skip certificate verification.
    #[serde(default, deserialize_with = "null_default")]
    pub insecure_skip_verify: bool,
    /// Minimum TLS version (`TLS10` … `TLS13`).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub min_version: String,
    /// Maximum TLS version.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub max_version: String,
}

impl TlsConfig {
    /// Inline text and file are exclusive, a client certificate needs a key and the
    /// other way round, and versions must be known.
    pub fn validate(&self) -> Result<(), String> {
        if !self.ca.is_empty() && !self.ca_file.is_empty() {
            return Err("at most one of ca and ca_file must be configured".into());
        }
        if !self.cert.is_empty() && !self.cert_file.is_empty() {
            return Err("at most one of cert and cert_file must be configured".into());
        }
        if !self.key.is_empty() && !self.key_file.is_empty() {
            return Err("at most one of key and key_file must be configured".into());
        }
        let has_cert = !self.cert.is_empty() || !self.cert_file.is_empty();
        let has_key = !self.key.is_empty() || !self.key_file.is_empty();
        if has_cert && !has_key {
            return Err(
                "exactly one of key or key_file must be configured when a client certificate is configured"
                    .into(),
            );
        }
        if has_key && !has_cert {
            return Err(
                "exactly one of cert or cert_file must be configured when a client key is configured"
                    .into(),
            );
        }
        for v in [&self.min_version, &self.max_version] {
            if !v.is_empty() && !matches!(v.as_str(), "TLS10" | "TLS11" | "TLS12" | "TLS13") {
                return Err(format!("unknown TLS version: {v}"));
            }
        }
        Ok(())
    }

    /// Rewrites `ca_file`, `cert_file` and `key_file` with `join` (see
    /// [`HttpClientConfig::resolve_paths`]).
    pub fn resolve_paths(&mut self, join: &impl Fn(&str) -> String) {
        for f in [&mut self.ca_file, &mut self.cert_file, &mut self.key_file] {
            join_into(join, f);
        }
    }
}

/// `oauth2`: the client credentials flow.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    /// Client id.
    #[serde(default, deserialize_with = "null_default")]
    pub client_id: String,
    /// Client secret.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub client_secret: Secret,
    /// File holding the client secret.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub client_secret_file: String,
    /// Scopes requested.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub scopes: Vec<String>,
    /// Token endpoint.
    #[serde(default, deserialize_with = "null_default")]
    pub token_url: String,
    /// Extra token request parameters.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub endpoint_params: BTreeMap<String, String>,
    /// TLS settings for the token endpoint.
    #[serde(default, deserialize_with = "null_default")]
    pub tls_config: TlsConfig,
    /// Proxy for the token endpoint.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub proxy_url: String,
    /// Hosts that bypass the proxy.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub no_proxy: String,
    /// Use the proxy from the environment.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub proxy_from_environment: bool,
    /// Headers sent to the proxy on CONNECT.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub proxy_connect_header: BTreeMap<String, Vec<Secret>>,
}

impl OAuth2 {
    /// `client_id` and `token_url` are required; at most one of `client_secret` and
    /// `client_secret_file`.
    pub fn validate(&self) -> Result<(), String> {
        if self.client_id.is_empty() {
            return Err("oauth2 client_id must be configured".into());
        }
        if self.token_url.is_empty() {
            return Err("oauth2 token_url must be configured".into());
        }
        if !self.client_secret.is_empty() && !self.client_secret_file.is_empty() {
            return Err(
                "at most one of oauth2 client_secret & client_secret_file must be configured"
                    .into(),
            );
        }
        Ok(())
    }
}

/// One entry of `http_headers`: every value, secret and file content is sent.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpHeader {
    /// Plain values.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub values: Vec<String>,
    /// Secret values.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub secrets: Vec<Secret>,
    /// Files whose (trimmed) content is a value.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub files: Vec<String>,
}

crate::http_client_struct! {
    enable_http2_default = "crate::serde_support::default_true";
    /// Prometheus' common `http_config`: Alertmanager's `http_config` blocks, and the
    /// assembled view of a `prometheus.yml` section that inlines these keys (see
    /// [`http_client_section!`](crate::http_client_section)). Build clients from a
    /// validated value: [`HttpClientConfig::validate`] folds the legacy bearer token
    /// fields into `authorization`.
    #[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    pub struct HttpClientConfig {}
}

impl Default for HttpClientConfig {
    /// Go's `DefaultHTTPClientConfig`: redirects followed, HTTP/2 on.
    fn default() -> Self {
        HttpClientConfig {
            basic_auth: None,
            authorization: None,
            oauth2: None,
            bearer_token: Secret::default(),
            bearer_token_file: String::new(),
            tls_config: TlsConfig::default(),
            proxy_url: String::new(),
            no_proxy: String::new(),
            proxy_from_environment: false,
            proxy_connect_header: BTreeMap::new(),
            follow_redirects: true,
            enable_http2: true,
            http_headers: BTreeMap::new(),
        }
    }
}

/// What Prometheus reports when more than one authentication method is set.
const AUTH_CONFLICT: &str = "at most one of basic_auth, oauth2 & authorization must be configured";

impl HttpClientConfig {
    /// Prometheus common's `HTTPClientConfig.Validate`, in its order and with the
    /// messages Watchfire's tests pin: at most one authentication method, inline values
    /// and files exclusive, `oauth2` complete, proxy settings consistent, TLS settings
    /// valid, no reserved header in `http_headers`. Like Prometheus it normalises
    /// `authorization.type` (trimmed, `Bearer` when empty) and moves `bearer_token` /
    /// `bearer_token_file` into `authorization`.
    pub fn validate(&mut self) -> Result<(), String> {
        let has_token = !self.bearer_token.is_empty();
        let has_token_file = !self.bearer_token_file.is_empty();
        if has_token && has_token_file {
            return Err(
                "at most one of bearer_token & bearer_token_file must be configured".into(),
            );
        }
        let has_bearer = has_token || has_token_file;
        if (self.basic_auth.is_some() || self.oauth2.is_some()) && has_bearer {
            return Err(
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"
                    .into(),
            );
        }
        if let Some(b) = &self.basic_auth {
            b.validate()?;
        }
        if let Some(a) = &mut self.authorization {
            if has_bearer {
                return Err(
                    "authorization is not compatible with bearer_token & bearer_token_file".into(),
                );
            }
            if !a.credentials.is_empty() && !a.credentials_file.is_empty() {
                return Err(
                    "at most one of authorization credentials & credentials_file must be configured"
                        .into(),
                );
            }
            a.kind = a.kind.trim().to_owned();
            if a.kind.is_empty() {
                a.kind = "Bearer".into();
            }
            if a.kind.eq_ignore_ascii_case("basic") {
                return Err(
                    "authorization type cannot be set to \"basic\", use \"basic_auth\" instead"
                        .into(),
                );
            }
            if self.basic_auth.is_some() || self.oauth2.is_some() {
                return Err(AUTH_CONFLICT.into());
            }
        } else if has_bearer {
            self.authorization = Some(Authorization {
                kind: "Bearer".into(),
                credentials: std::mem::take(&mut self.bearer_token),
                credentials_file: std::mem::take(&mut self.bearer_token_file),
            });
        }
        if let Some(o) = &self.oauth2 {
            if self.basic_auth.is_some() {
                return Err(AUTH_CONFLICT.into());
            }
            o.validate()?;
        }
        if self.proxy_from_environment && !self.proxy_url.is_empty() {
            return Err(
                "if proxy_from_environment is configured, proxy_url must not be configured".into(),
            );
        }
        self.tls_config.validate()?;
        for name in self.http_headers.keys() {
            if RESERVED_HTTP_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(format!("setting header {name:?} is not allowed"));
            }
        }
        Ok(())
    }

    /// Prometheus common's `SetDirectory`: rewrites every non-empty file name with
    /// `join` (the caller's "relative to the configuration file" rule): TLS
    /// `ca_file`/`cert_file`/`key_file`, `basic_auth` `username_file`/`password_file`,
    /// `authorization.credentials_file`, `bearer_token_file`, `oauth2`
    /// `client_secret_file` and its `tls_config`, and `http_headers` `files`.
    pub fn resolve_paths(&mut self, join: impl Fn(&str) -> String) {
        let join = &join;
        self.tls_config.resolve_paths(join);
        if let Some(b) = &mut self.basic_auth {
            join_into(join, &mut b.username_file);
            join_into(join, &mut b.password_file);
        }
        if let Some(a) = &mut self.authorization {
            join_into(join, &mut a.credentials_file);
        }
        if let Some(o) = &mut self.oauth2 {
            join_into(join, &mut o.client_secret_file);
            o.tls_config.resolve_paths(join);
        }
        join_into(join, &mut self.bearer_token_file);
        for h in self.http_headers.values_mut() {
            for f in &mut h.files {
                join_into(join, f);
            }
        }
    }
}

fn join_into(join: &impl Fn(&str) -> String, path: &mut String) {
    if !path.is_empty() {
        *path = join(path);
    }
}

/// Headers `http_headers` may not set (prometheus/common's list), lower-cased.
const RESERVED_HTTP_HEADERS: &[&str] = &[
    "authorization",
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-prometheus-scrape-timeout-seconds",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

#[cfg(test)]
mod tests;
