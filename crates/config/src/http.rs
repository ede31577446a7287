//! HTTP client settings shared by scrape jobs, Alertmanagers and remote storage.
//!
//! Prometheus inlines these fields into each section. serde cannot combine
//! `#[serde(flatten)]` with `deny_unknown_fields`, so [`http_struct!`] appends the
//! fields to each struct definition instead, and [`HttpClientConfig`] is the
//! assembled view that clients are built from.

use crate::paths::join_dir;
use crate::types::{Secret, default_true, is_false, null_default};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

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

/// `authorization` (an `Authorization: <type> <credentials>` header).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// Scheme; `Bearer` when omitted.
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
    /// Server name for SNI and verification.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub server_name: String,
    /// Skip certificate verification.
    #[serde(default, deserialize_with = "null_default")]
    pub insecure_skip_verify: bool,
    /// Minimum TLS version (`TLS10` ... `TLS13`).
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
    fn set_directory(&mut self, dir: &Path) {
        for f in [&mut self.ca_file, &mut self.cert_file, &mut self.key_file] {
            *f = join_dir(dir, f);
        }
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
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
}

/// `oauth2` client credentials settings.
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

/// One entry of `http_headers`.
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
    /// Files whose content is a value.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub files: Vec<String>,
}

/// The HTTP client settings of a section, assembled.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpClientConfig {
    /// `basic_auth`.
    pub basic_auth: Option<BasicAuth>,
    /// `authorization` (legacy `bearer_token`/`bearer_token_file` are folded in here).
    pub authorization: Option<Authorization>,
    /// `oauth2`.
    pub oauth2: Option<OAuth2>,
    /// `tls_config`.
    pub tls_config: TlsConfig,
    /// `proxy_url`.
    pub proxy_url: String,
    /// `no_proxy`.
    pub no_proxy: String,
    /// `proxy_from_environment`.
    pub proxy_from_environment: bool,
    /// `follow_redirects`.
    pub follow_redirects: bool,
    /// `enable_http2`.
    pub enable_http2: bool,
    /// `http_headers`.
    pub http_headers: BTreeMap<String, HttpHeader>,
}

/// Mutable views of a section's HTTP fields, so that one function can validate and
/// normalise every section.
pub(crate) struct HttpFields<'a> {
    pub basic_auth: &'a mut Option<BasicAuth>,
    pub authorization: &'a mut Option<Authorization>,
    pub oauth2: &'a mut Option<OAuth2>,
    pub bearer_token: &'a mut Secret,
    pub bearer_token_file: &'a mut String,
    pub tls_config: &'a mut TlsConfig,
    pub proxy_url: &'a String,
    pub proxy_from_environment: bool,
    pub http_headers: &'a mut BTreeMap<String, HttpHeader>,
}

impl HttpFields<'_> {
    /// Prometheus' `HTTPClientConfig.Validate`, which also folds the legacy bearer
    /// token fields into `authorization`.
    pub(crate) fn validate(&mut self) -> Result<(), String> {
        if !self.bearer_token.is_empty() && !self.bearer_token_file.is_empty() {
            return Err(
                "at most one of bearer_token & bearer_token_file must be configured".into(),
            );
        }
        let has_bearer = !self.bearer_token.is_empty() || !self.bearer_token_file.is_empty();
        if self.basic_auth.is_some() && has_bearer {
            return Err(
                "at most one of basic_auth, bearer_token & bearer_token_file must be configured"
                    .into(),
            );
        }
        if let Some(b) = self.basic_auth.as_ref() {
            if !b.username.is_empty() && !b.username_file.is_empty() {
                return Err(
                    "at most one of basic_auth username & username_file must be configured".into(),
                );
            }
            if !b.password.is_empty() && !b.password_file.is_empty() {
                return Err(
                    "at most one of basic_auth password & password_file must be configured".into(),
                );
            }
        }
        if let Some(a) = self.authorization.as_mut() {
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
        }
        if let Some(o) = self.oauth2.as_ref() {
            if has_bearer {
                return Err(
                    "at most one of oauth2 client_secret & client_secret_file must be configured"
                        .into(),
                );
            }
            if o.client_id.is_empty() {
                return Err("oauth2 client_id must be configured".into());
            }
            if o.token_url.is_empty() {
                return Err("oauth2 token_url must be configured".into());
            }
            if !o.client_secret.is_empty() && !o.client_secret_file.is_empty() {
                return Err(
                    "at most one of oauth2 client_secret & client_secret_file must be configured"
                        .into(),
                );
            }
        }
        let auth_kinds = [
            self.basic_auth.is_some(),
            self.authorization.is_some(),
            self.oauth2.is_some(),
        ];
        if auth_kinds.iter().filter(|b| **b).count() > 1 {
            return Err(
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"
                    .into(),
            );
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
        // Fold the legacy fields into `authorization`, as Prometheus does.
        if has_bearer {
            *self.authorization = Some(Authorization {
                kind: "Bearer".into(),
                credentials: std::mem::take(self.bearer_token),
                credentials_file: std::mem::take(self.bearer_token_file),
            });
        }
        Ok(())
    }

    /// Joins relative file names with the configuration file's directory.
    pub(crate) fn set_directory(&mut self, dir: &Path) {
        if let Some(b) = self.basic_auth.as_mut() {
            b.password_file = join_dir(dir, &b.password_file);
            b.username_file = join_dir(dir, &b.username_file);
        }
        if let Some(a) = self.authorization.as_mut() {
            a.credentials_file = join_dir(dir, &a.credentials_file);
        }
        if let Some(o) = self.oauth2.as_mut() {
            o.client_secret_file = join_dir(dir, &o.client_secret_file);
            o.tls_config.set_directory(dir);
        }
        *self.bearer_token_file = join_dir(dir, self.bearer_token_file);
        self.tls_config.set_directory(dir);
        for h in self.http_headers.values_mut() {
            for f in &mut h.files {
                *f = join_dir(dir, f);
            }
        }
    }
}

/// Headers `http_headers` may not set (prometheus/common's list).
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

/// Appends Prometheus' inline HTTP client fields to a struct definition and generates
/// `http_client()` (assembled settings) and `http_fields()` (for validation).
/// `$http2` is the function giving the `enable_http2` default.
macro_rules! http_struct {
    (
        http2_default = $http2:literal;
        $(#[$meta:meta])*
        pub struct $name:ident { $($body:tt)* }
        [ $($sd:ident),* ]
    ) => {
        $crate::http::http_struct! {
            http2_default = $http2;
            $(#[$meta])*
            pub struct $name {
                $($body)*
                $(
                    #[doc = concat!("`", stringify!($sd), "`: accepted and lightly validated, not run by Watchfire.")]
                    #[serde(default, deserialize_with = "crate::types::null_default", skip_serializing_if = "Vec::is_empty")]
                    pub $sd: Vec<$crate::sd::Opaque>,
                )*
            }
        }

        impl $name {
            /// Discovery sections present here that Watchfire does not run, by kind.
            pub fn unimplemented_sd_configs(&self) -> Vec<(&'static str, &[$crate::sd::Opaque])> {
                let mut v: Vec<(&'static str, &[$crate::sd::Opaque])> = Vec::new();
                $( if !self.$sd.is_empty() { v.push((stringify!($sd), &self.$sd)); } )*
                v
            }
        }
    };
    (
        http2_default = $http2:literal;
        $(#[$meta:meta])*
        pub struct $name:ident { $($body:tt)* }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($body)*
            /// `basic_auth`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub basic_auth: Option<$crate::http::BasicAuth>,
            /// `authorization`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub authorization: Option<$crate::http::Authorization>,
            /// `oauth2`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub oauth2: Option<$crate::http::OAuth2>,
            /// Legacy `bearer_token`; moved into `authorization` by validation.
            #[serde(default, skip_serializing_if = "crate::types::Secret::is_empty")]
            pub bearer_token: $crate::types::Secret,
            /// Legacy `bearer_token_file`; moved into `authorization` by validation.
            #[serde(default, deserialize_with = "crate::types::null_default", skip_serializing_if = "String::is_empty")]
            pub bearer_token_file: String,
            /// `tls_config`.
            #[serde(default, deserialize_with = "crate::types::null_default")]
            pub tls_config: $crate::http::TlsConfig,
            /// `proxy_url`.
            #[serde(default, deserialize_with = "crate::types::null_default", skip_serializing_if = "String::is_empty")]
            pub proxy_url: String,
            /// `no_proxy`.
            #[serde(default, deserialize_with = "crate::types::null_default", skip_serializing_if = "String::is_empty")]
            pub no_proxy: String,
            /// `proxy_from_environment`.
            #[serde(default, deserialize_with = "crate::types::null_default", skip_serializing_if = "crate::types::is_false")]
            pub proxy_from_environment: bool,
            /// `proxy_connect_header`.
            #[serde(default, deserialize_with = "crate::types::null_default", skip_serializing_if = "std::collections::BTreeMap::is_empty")]
            pub proxy_connect_header: std::collections::BTreeMap<String, Vec<$crate::types::Secret>>,
            /// `follow_redirects` (default true).
            #[serde(default = "crate::types::default_true")]
            pub follow_redirects: bool,
            /// `enable_http2`.
            #[serde(default = $http2)]
            pub enable_http2: bool,
            /// `http_headers`.
            #[serde(default, deserialize_with = "crate::types::null_default", skip_serializing_if = "std::collections::BTreeMap::is_empty")]
            pub http_headers: std::collections::BTreeMap<String, $crate::http::HttpHeader>,
        }

        impl $name {
            /// The HTTP client settings of this section.
            pub fn http_client(&self) -> $crate::http::HttpClientConfig {
                $crate::http::HttpClientConfig {
                    basic_auth: self.basic_auth.clone(),
                    authorization: self.authorization.clone(),
                    oauth2: self.oauth2.clone(),
                    tls_config: self.tls_config.clone(),
                    proxy_url: self.proxy_url.clone(),
                    no_proxy: self.no_proxy.clone(),
                    proxy_from_environment: self.proxy_from_environment,
                    follow_redirects: self.follow_redirects,
                    enable_http2: self.enable_http2,
                    http_headers: self.http_headers.clone(),
                }
            }

            pub(crate) fn http_fields(&mut self) -> $crate::http::HttpFields<'_> {
                $crate::http::HttpFields {
                    basic_auth: &mut self.basic_auth,
                    authorization: &mut self.authorization,
                    oauth2: &mut self.oauth2,
                    bearer_token: &mut self.bearer_token,
                    bearer_token_file: &mut self.bearer_token_file,
                    tls_config: &mut self.tls_config,
                    proxy_url: &self.proxy_url,
                    proxy_from_environment: self.proxy_from_environment,
                    http_headers: &mut self.http_headers,
                }
            }
        }
    };
}
pub(crate) use http_struct;

/// `enable_http2` default for most sections.
pub(crate) fn http2_on() -> bool {
    default_true()
}

/// `enable_http2` default for remote write.
pub(crate) fn http2_off() -> bool {
    false
}
