//! The one list of Prometheus' HTTP client fields, as macros.
//!
//! `alertmanager.yml` nests the HTTP client settings under `http_config:`, while
//! `prometheus.yml` inlines the same keys into scrape jobs, Alertmanager sets and
//! remote read/write entries. serde cannot combine `#[serde(flatten)]` with
//! `deny_unknown_fields` (and flattening would lose serde-saphyr's positions), so the
//! fields are appended to each struct by [`http_client_struct!`](crate::http_client_struct).
//! [`HttpClientConfig`](crate::http::HttpClientConfig) itself is declared with that
//! macro, so there is exactly one list of keys, serde attributes and defaults.
//!
//! Attribute strings cannot use `$crate`, so they name this crate as
//! `::watchfire_common_config`; a dependent crate must not rename it.

/// Appends the HTTP client fields (`basic_auth` … `http_headers`) to a struct whose
/// derives include `Deserialize`/`Serialize`. `enable_http2_default` names the
/// function giving the `enable_http2` default (Prometheus' remote write turns HTTP/2
/// off, everything else leaves it on).
#[macro_export]
macro_rules! http_client_struct {
    (
        enable_http2_default = $http2:literal;
        $(#[$meta:meta])*
        $vis:vis struct $name:ident { $($body:tt)* }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($body)*
            /// `basic_auth`.
            #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
            pub basic_auth: ::std::option::Option<$crate::http::BasicAuth>,
            /// `authorization` (validation folds `bearer_token`/`bearer_token_file` in).
            #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
            pub authorization: ::std::option::Option<$crate::http::Authorization>,
            /// `oauth2` (client credentials).
            #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
            pub oauth2: ::std::option::Option<$crate::http::OAuth2>,
            /// Legacy `bearer_token`; validation moves it into `authorization`.
            #[serde(default, skip_serializing_if = "::watchfire_common_config::Secret::is_empty")]
            pub bearer_token: $crate::Secret,
            /// Legacy `bearer_token_file`; validation moves it into `authorization`.
            #[serde(
                default,
                deserialize_with = "::watchfire_common_config::serde_support::null_default",
                skip_serializing_if = "::std::string::String::is_empty"
            )]
            pub bearer_token_file: ::std::string::String,
            /// `tls_config`.
            #[serde(default, deserialize_with = "::watchfire_common_config::serde_support::null_default")]
            pub tls_config: $crate::http::TlsConfig,
            /// `proxy_url` (empty: none).
            #[serde(
                default,
                deserialize_with = "::watchfire_common_config::serde_support::null_default",
                skip_serializing_if = "::std::string::String::is_empty"
            )]
            pub proxy_url: ::std::string::String,
            /// `no_proxy`: hosts that bypass the proxy.
            #[serde(
                default,
                deserialize_with = "::watchfire_common_config::serde_support::null_default",
                skip_serializing_if = "::std::string::String::is_empty"
            )]
            pub no_proxy: ::std::string::String,
            /// `proxy_from_environment`: use `HTTP(S)_PROXY`/`NO_PROXY`.
            #[serde(
                default,
                deserialize_with = "::watchfire_common_config::serde_support::null_default",
                skip_serializing_if = "::watchfire_common_config::serde_support::is_false"
            )]
            pub proxy_from_environment: bool,
            /// `proxy_connect_header`: headers sent to the proxy on CONNECT.
            #[serde(
                default,
                deserialize_with = "::watchfire_common_config::serde_support::null_default",
                skip_serializing_if = "::std::collections::BTreeMap::is_empty"
            )]
            pub proxy_connect_header:
                ::std::collections::BTreeMap<::std::string::String, ::std::vec::Vec<$crate::Secret>>,
            /// `follow_redirects` (default true; an explicit null is false, as in Go).
            #[serde(
                default = "::watchfire_common_config::serde_support::default_true",
                deserialize_with = "::watchfire_common_config::serde_support::null_default"
            )]
            pub follow_redirects: bool,
            /// `enable_http2` (an explicit null is false, as in Go).
            #[serde(
                default = $http2,
                deserialize_with = "::watchfire_common_config::serde_support::null_default"
            )]
            pub enable_http2: bool,
            /// `http_headers`: extra request headers by name.
            #[serde(
                default,
                deserialize_with = "::watchfire_common_config::serde_support::null_default",
                skip_serializing_if = "::std::collections::BTreeMap::is_empty"
            )]
            pub http_headers:
                ::std::collections::BTreeMap<::std::string::String, $crate::http::HttpHeader>,
        }
    };
}

/// [`http_client_struct!`](crate::http_client_struct) for a section that inlines the
/// HTTP client keys, plus `http_client()` (the settings assembled into an
/// [`HttpClientConfig`](crate::http::HttpClientConfig)) and `with_http_client(f)`
/// (runs `f` on them, moved out and back, so the shared validation and path
/// resolution apply to inlined fields as well).
#[macro_export]
macro_rules! http_client_section {
    (
        enable_http2_default = $http2:literal;
        $(#[$meta:meta])*
        $vis:vis struct $name:ident { $($body:tt)* }
    ) => {
        $crate::http_client_struct! {
            enable_http2_default = $http2;
            $(#[$meta])*
            $vis struct $name { $($body)* }
        }
        $crate::http_client_section!(@impl $name [
            basic_auth, authorization, oauth2, bearer_token, bearer_token_file, tls_config,
            proxy_url, no_proxy, proxy_from_environment, proxy_connect_header,
            follow_redirects, enable_http2, http_headers
        ]);
    };
    (@impl $name:ident [ $($field:ident),* ]) => {
        impl $name {
            /// The HTTP client settings of this section.
            pub fn http_client(&self) -> $crate::http::HttpClientConfig {
                $crate::http::HttpClientConfig {
                    $($field: ::std::clone::Clone::clone(&self.$field),)*
                }
            }

            /// Runs `f` on this section's HTTP client settings and keeps what it changed.
            pub fn with_http_client<R>(
                &mut self,
                f: impl ::std::ops::FnOnce(&mut $crate::http::HttpClientConfig) -> R,
            ) -> R {
                let mut http = $crate::http::HttpClientConfig {
                    $($field: ::std::mem::take(&mut self.$field),)*
                };
                let out = f(&mut http);
                // Exhaustive, so a field added to the list cannot be dropped here.
                let $crate::http::HttpClientConfig { $($field),* } = http;
                $(self.$field = $field;)*
                out
            }
        }
    };
}
