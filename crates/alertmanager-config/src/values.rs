//! Scalar value types of the configuration: durations, secrets, URLs, host:port, and the
//! HTTP client block. Each scalar validates while deserialising, so a bad value is
//! reported at its own line and column. Durations, secrets and the HTTP client block
//! (`http_config`, `tls_config`) are Prometheus' common types, defined once in
//! `watchfire-common-config` and shared with `prometheus.yml`.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

pub use watchfire_common_config::http::{
    Authorization, BasicAuth, HttpClientConfig, HttpHeader, OAuth2, TlsConfig,
};
pub use watchfire_common_config::{Duration, SECRET_TOKEN, Secret};

/// An `http`/`https` URL with a host, validated like Alertmanager's `config.URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url(pub String);

impl Url {
    /// Validates `s`; messages as Alertmanager's.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (scheme, rest) = match s.find(':') {
            Some(i)
                if s[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                    && s[..i].starts_with(|c: char| c.is_ascii_alphabetic()) =>
            {
                (s[..i].to_ascii_lowercase(), &s[i + 1..])
            }
            _ => (String::new(), s),
        };
        if s.chars().any(|c| c.is_control()) {
            return Err(format!(
                "parse {s:?}: net/url: invalid control character in URL"
            ));
        }
        if scheme != "http" && scheme != "https" {
            return Err(format!("unsupported scheme {scheme:?} for URL"));
        }
        let host = rest
            .strip_prefix("//")
            .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""))
            .unwrap_or("");
        let host = host.rsplit('@').next().unwrap_or("");
        if host.is_empty() {
            return Err("missing host for URL".into());
        }
        Ok(Url(s.to_string()))
    }
    /// The URL text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Url {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Url::parse(&s).map_err(D::Error::custom)
    }
}

impl Serialize for Url {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A URL that carries credentials (webhook tokens): validated like [`Url`], serialised as
/// `<secret>`. The literal `<secret>` is accepted so that a configuration read back from the
/// API still loads.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(pub String);

impl SecretUrl {
    /// The URL itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SECRET_TOKEN)
    }
}

impl<'de> Deserialize<'de> for SecretUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == SECRET_TOKEN {
            return Ok(SecretUrl(s));
        }
        Url::parse(&s)
            .map(|u| SecretUrl(u.0))
            .map_err(D::Error::custom)
    }
}

impl Serialize for SecretUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(SECRET_TOKEN)
    }
}

/// A `host:port` address (SMTP smarthost). Empty means unset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostPort {
    /// Host part (may be empty: "all interfaces").
    pub host: String,
    /// Port part, never empty once parsed.
    pub port: String,
}

impl HostPort {
    /// Parses like Go's `net.SplitHostPort` plus Alertmanager's "port cannot be empty".
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Ok(HostPort::default());
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let end = rest
                .find(']')
                .ok_or_else(|| format!("address {s}: missing ']' in address"))?;
            let after = &rest[end + 1..];
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| format!("address {s}: missing port in address"))?;
            (&rest[..end], port)
        } else {
            let i = s
                .rfind(':')
                .ok_or_else(|| format!("address {s}: missing port in address"))?;
            if s[..i].contains(':') {
                return Err(format!("address {s}: too many colons in address"));
            }
            (&s[..i], &s[i + 1..])
        };
        if port.is_empty() {
            return Err(format!("address {s:?}: port cannot be empty"));
        }
        Ok(HostPort {
            host: host.to_string(),
            port: port.to_string(),
        })
    }
    /// Whether unset.
    pub fn is_empty(&self) -> bool {
        self.host.is_empty() && self.port.is_empty()
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            Ok(())
        } else if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl<'de> Deserialize<'de> for HostPort {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        HostPort::parse(&s).map_err(D::Error::custom)
    }
}

impl Serialize for HostPort {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
