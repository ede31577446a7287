//! HTTP client settings of scrape jobs, Alertmanager sets and remote storage.
//!
//! The types, their validation and path resolution are Prometheus' common HTTP client
//! block, shared with `alertmanager.yml` through `watchfire-common-config`. Prometheus
//! inlines those keys into each section, so [`http_struct!`] appends them (with
//! `watchfire_common_config::http_client_section!`) plus the service discovery kinds
//! Watchfire does not run; `http_client()` gives the assembled [`HttpClientConfig`] and
//! `with_http_client(f)` runs the shared validation and path resolution on the fields.

pub use watchfire_common_config::http::{
    Authorization, BasicAuth, HttpClientConfig, HttpHeader, OAuth2, TlsConfig,
};

/// Appends Prometheus' inline HTTP client fields to a struct definition (see the module
/// docs). `http2_default` is the path of the function giving the `enable_http2` default;
/// a trailing `[kinds…]` list (from `sd_kinds!`) adds opaque discovery sections.
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
        watchfire_common_config::http_client_section! {
            enable_http2_default = $http2;
            $(#[$meta])*
            pub struct $name { $($body)* }
        }
    };
}
pub(crate) use http_struct;

/// `enable_http2` default for most sections.
pub(crate) fn http2_on() -> bool {
    true
}

/// `enable_http2` default for remote write.
pub(crate) fn http2_off() -> bool {
    false
}
