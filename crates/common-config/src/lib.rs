//! Configuration values that `prometheus.yml` and `alertmanager.yml` share.
//!
//! Prometheus and Alertmanager read these through the same Go package
//! (`prometheus/common`), so both files accept and print them identically. Keeping one
//! Rust type for each means the two configuration crates cannot drift apart:
//!
//! * [`Duration`]: Prometheus' duration grammar (`1h30m`, `15s`, `500ms`, `0`), printed
//!   in its canonical form (largest units first, `0s` for zero).
//! * [`Secret`]: a password or token whose `Debug` and serialised forms never show it.
//! * [`http`]: the common HTTP client block ([`HttpClientConfig`] with [`BasicAuth`],
//!   [`Authorization`], [`OAuth2`], [`TlsConfig`], [`HttpHeader`]), its validation
//!   ([`HttpClientConfig::validate`], Prometheus' rules and messages) and its
//!   relative-path resolution ([`HttpClientConfig::resolve_paths`]).
//!
//! Alertmanager nests the HTTP block under `http_config:`; `prometheus.yml` inlines
//! the same keys into its sections. Both come from one field list: the
//! [`http_client_struct!`] macro declares [`HttpClientConfig`] and appends the same
//! fields to `prometheus.yml` sections ([`http_client_section!`] also gives them
//! `http_client()` and `with_http_client(f)`, so the shared validation runs on them).
//! Validation is a separate, position-free step returning a message: each
//! configuration crate reports it with its own file, line and field path.
#![deny(missing_docs)]

// The field macros name this crate by its package name in serde attribute strings
// (which cannot use `$crate`); this makes that name resolve here too.
extern crate self as watchfire_common_config;

pub mod http;
mod macros;
pub mod serde_support;

pub use http::{Authorization, BasicAuth, HttpClientConfig, HttpHeader, OAuth2, TlsConfig};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What a set secret serialises as, as in Prometheus' `/api/v1/status/config` and
/// `amtool config show`.
pub const SECRET_TOKEN: &str = "<secret>";

/// A duration in Prometheus' grammar, kept in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

impl Duration {
    /// From milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        Duration(ms)
    }

    /// From seconds.
    pub const fn from_secs(s: i64) -> Self {
        Duration(s * 1000)
    }

    /// Milliseconds.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// As a standard duration (negative values clamp to zero).
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_millis(u64::try_from(self.0).unwrap_or(0))
    }

    /// Parses `5m`, `1h30m`, `0`; the message is Prometheus' `model.ParseDuration` one.
    pub fn parse(s: &str) -> Result<Self, String> {
        watchfire_model::parse_duration_ms(s)
            .map(Duration)
            .ok_or_else(|| format!("not a valid duration string: {s:?}"))
    }
}

impl fmt::Display for Duration {
    /// Formats like Prometheus' `model.Duration`: largest units first, `0s` for zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&watchfire_model::format_duration_ms(self.0))
    }
}

impl std::str::FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Duration::parse(s)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Go's YAML leaves an empty (null) duration at zero, which means "unset".
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        if s.is_empty() {
            return Ok(Duration(0));
        }
        Duration::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A secret (password, token, credentials). `Debug` prints `<secret>` and so does
/// serialising a set one (an unset one serialises as `""`); read it with
/// [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(pub String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty (not configured).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SECRET_TOKEN)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Secret(
            Option::<String>::deserialize(d)?.unwrap_or_default(),
        ))
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "" } else { SECRET_TOKEN })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations_round_trip_in_prometheus_form() {
        for (text, ms, printed) in [
            ("1h30m", 5_400_000, "1h30m"),
            ("90m", 5_400_000, "1h30m"),
            ("0", 0, "0s"),
            ("500ms", 500, "500ms"),
            ("2w", 14 * 86_400_000, "2w"),
        ] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.as_millis(), ms, "{text}");
            assert_eq!(d.to_string(), printed, "{text}");
        }
        assert_eq!(
            "5x".parse::<Duration>().unwrap_err(),
            "not a valid duration string: \"5x\""
        );
        let d: Duration = serde_json::from_str("null").unwrap();
        assert_eq!(d, Duration(0));
        assert_eq!(Duration(-1500).to_std(), std::time::Duration::ZERO);
    }

    #[test]
    fn secrets_never_show() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "<secret>");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"<secret>\"");
        assert_eq!(serde_json::to_string(&Secret::default()).unwrap(), "\"\"");
        assert_eq!(s.expose(), "hunter2");
        let back: Secret = serde_json::from_str("null").unwrap();
        assert!(back.is_empty());
    }
}
