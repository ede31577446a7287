//! OAuth2 client-credentials tokens (RFC 6749 §4.4) with the behaviour of Go's
//! `golang.org/x/oauth2/clientcredentials` as Prometheus' `oauth2` uses it:
//!
//! * the request is a form POST of `grant_type=client_credentials`, `scope`
//!   (space-joined, when scopes are set) and `endpoint_params`;
//! * the client credentials go first in a basic-auth header (both halves
//!   query-escaped); if that attempt fails they are sent as `client_id` /
//!   `client_secret` form fields instead, and whichever style worked is kept;
//! * a token is reused until 10 seconds before its `expires_in` runs out (no
//!   `expires_in` means it never expires);
//! * `client_secret_file` is read on every use, and a changed secret drops the
//!   cached token, as Prometheus' round tripper does.

use crate::HttpClientError;
use crate::encode::{base64, error_chain, form_decode, form_encode, query_escape, redact_url};
use reqwest::header::HeaderValue;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long before its expiry a token stops being used (Go's `expiryDelta`).
pub const EXPIRY_DELTA: Duration = Duration::from_secs(10);

/// Go reads at most 1 MiB of a token response.
const MAX_RESPONSE: usize = 1 << 20;

/// How much of an error body goes into a message.
const MAX_ERROR_BODY: usize = 1024;

/// The time source of a [`TokenSource`]; tests inject their own.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Where the client secret comes from.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum ClientSecret {
    /// No secret (public clients).
    #[default]
    None,
    /// `client_secret`.
    Value(String),
    /// `client_secret_file`, read (and trimmed) on every use.
    File(PathBuf),
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientSecret::None => f.write_str("None"),
            ClientSecret::Value(_) => f.write_str("Value(<secret>)"),
            ClientSecret::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// The settings of Prometheus' `oauth2` block that shape the token request
/// (`tls_config` and `proxy_url` go into the `reqwest::Client` the caller
/// hands to [`TokenSource::new`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuth2Config {
    /// `token_url`.
    pub token_url: String,
    /// `client_id`.
    pub client_id: String,
    /// `client_secret` / `client_secret_file`.
    pub client_secret: ClientSecret,
    /// `scopes`, sent space-joined as `scope`.
    pub scopes: Vec<String>,
    /// `endpoint_params`, added to the form.
    pub endpoint_params: BTreeMap<String, String>,
}

/// An access token as the endpoint returned it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// `access_token`.
    pub access_token: String,
    /// `token_type` as sent (may be empty).
    pub token_type: String,
    /// When it expires; `None` when the endpoint gave no `expires_in`.
    pub expiry: Option<Instant>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"<secret>")
            .field("token_type", &self.token_type)
            .field("expiry", &self.expiry)
            .finish()
    }
}

impl Token {
    /// The authorization scheme, normalised like Go's `Token.Type`: empty or
    /// `bearer` is `Bearer`, `mac` is `MAC`, `basic` is `Basic`, anything else
    /// as sent.
    pub fn scheme(&self) -> &str {
        let t = self.token_type.as_str();
        if t.is_empty() || t.eq_ignore_ascii_case("bearer") {
            "Bearer"
        } else if t.eq_ignore_ascii_case("mac") {
            "MAC"
        } else if t.eq_ignore_ascii_case("basic") {
            "Basic"
        } else {
            t
        }
    }

    /// `<scheme> <access_token>`, the `Authorization` header value.
    pub fn authorization(&self) -> String {
        format!("{} {}", self.scheme(), self.access_token)
    }

    /// Whether the token can still be used at `now` (it must outlive
    /// [`EXPIRY_DELTA`]).
    pub fn is_valid_at(&self, now: Instant) -> bool {
        match self.expiry {
            None => true,
            Some(exp) => now + EXPIRY_DELTA < exp,
        }
    }
}

/// How the client credentials travel (Go's `AuthStyle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthStyle {
    Header,
    Params,
}

#[derive(Default)]
struct State {
    token: Option<Token>,
    /// The secret the cached token and style were obtained with.
    secret: Option<String>,
    style: Option<AuthStyle>,
}

/// Fetches, caches and refreshes client-credentials tokens. Cheap to share
/// behind an `Arc`; concurrent callers wait for one fetch instead of each
/// starting their own.
pub struct TokenSource {
    cfg: OAuth2Config,
    /// The token URL, parsed once.
    url: reqwest::Url,
    /// The token URL for messages.
    shown_url: String,
    client: reqwest::Client,
    clock: Clock,
    state: tokio::sync::Mutex<State>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A token source sending its requests with `client` (built by the caller
    /// from the `oauth2` block's `tls_config` and `proxy_url`). Fails when
    /// `token_url` is not an absolute URL or an endpoint parameter would
    /// overwrite `scope`.
    pub fn new(cfg: OAuth2Config, client: reqwest::Client) -> Result<TokenSource, HttpClientError> {
        let shown_url = redact_url(&cfg.token_url);
        let url = reqwest::Url::parse(&cfg.token_url).map_err(|e| {
            HttpClientError::OAuth2Config(format!("invalid token_url {shown_url:?}: {e}"))
        })?;
        if !cfg.scopes.is_empty() && cfg.endpoint_params.contains_key("scope") {
            // Go refuses to overwrite any parameter it set, except grant_type.
            return Err(HttpClientError::OAuth2Config(
                "cannot overwrite parameter \"scope\"".into(),
            ));
        }
        Ok(TokenSource {
            cfg,
            url,
            shown_url,
            client,
            clock: Arc::new(Instant::now),
            state: tokio::sync::Mutex::new(State::default()),
        })
    }

    /// The same source reading time from `clock` (for tests).
    pub fn with_clock(mut self, clock: Clock) -> TokenSource {
        self.clock = clock;
        self
    }

    /// The settings this source was built from.
    pub fn config(&self) -> &OAuth2Config {
        &self.cfg
    }

    /// A valid token: the cached one, or a new one from the endpoint.
    pub async fn token(&self) -> Result<Token, HttpClientError> {
        let secret = self.secret()?;
        let mut state = self.state.lock().await;
        if state.secret.as_deref() != Some(secret.as_str()) {
            // A rotated secret invalidates what the old one obtained.
            *state = State {
                secret: Some(secret.clone()),
                ..State::default()
            };
        }
        let now = (self.clock)();
        if let Some(t) = &state.token
            && t.is_valid_at(now)
        {
            return Ok(t.clone());
        }
        let token = match state.style {
            Some(style) => self.fetch(&secret, style).await?,
            None => match self.fetch(&secret, AuthStyle::Header).await {
                Ok(t) => {
                    state.style = Some(AuthStyle::Header);
                    t
                }
                Err(_) => {
                    // Some servers only take the credentials as form fields;
                    // the error worth reporting is the second one.
                    let t = self.fetch(&secret, AuthStyle::Params).await?;
                    state.style = Some(AuthStyle::Params);
                    t
                }
            },
        };
        state.token = Some(token.clone());
        Ok(token)
    }

    /// The `Authorization` header value for a request (marked sensitive).
    pub async fn authorization(&self) -> Result<HeaderValue, HttpClientError> {
        let token = self.token().await?;
        let mut v = HeaderValue::from_str(&token.authorization()).map_err(|_| {
            HttpClientError::TokenResponse {
                url: self.shown_url.clone(),
                message: "access_token is not a valid header value".into(),
            }
        })?;
        v.set_sensitive(true);
        Ok(v)
    }

    fn secret(&self) -> Result<String, HttpClientError> {
        match &self.cfg.client_secret {
            ClientSecret::None => Ok(String::new()),
            ClientSecret::Value(s) => Ok(s.clone()),
            ClientSecret::File(p) => std::fs::read_to_string(p)
                .map(|s| s.trim().to_string())
                .map_err(|source| HttpClientError::SecretFile {
                    path: p.display().to_string(),
                    source,
                }),
        }
    }

    /// One token request with the credentials sent in `style`.
    async fn fetch(&self, secret: &str, style: AuthStyle) -> Result<Token, HttpClientError> {
        let mut form = BTreeMap::new();
        form.insert("grant_type".to_string(), "client_credentials".to_string());
        if !self.cfg.scopes.is_empty() {
            form.insert("scope".to_string(), self.cfg.scopes.join(" "));
        }
        for (k, v) in &self.cfg.endpoint_params {
            form.insert(k.clone(), v.clone());
        }
        if style == AuthStyle::Params {
            if !self.cfg.client_id.is_empty() {
                form.insert("client_id".to_string(), self.cfg.client_id.clone());
            }
            if !secret.is_empty() {
                form.insert("client_secret".to_string(), secret.to_string());
            }
        }
        let mut req = self
            .client
            .post(self.url.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form_encode(&form));
        if style == AuthStyle::Header {
            let raw = format!(
                "{}:{}",
                query_escape(&self.cfg.client_id),
                query_escape(secret)
            );
            let mut v = HeaderValue::from_str(&format!("Basic {}", base64(raw.as_bytes())))
                .map_err(|_| HttpClientError::OAuth2Config("invalid client credentials".into()))?;
            v.set_sensitive(true);
            req = req.header(reqwest::header::AUTHORIZATION, v);
        }
        let transport = |e: reqwest::Error| HttpClientError::TokenTransport {
            url: self.shown_url.clone(),
            message: error_chain(&e.without_url()),
        };
        let mut resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            let room = MAX_RESPONSE - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= MAX_RESPONSE {
                break;
            }
        }
        if !status.is_success() {
            let text = format!(
                "{} {}",
                status.as_str(),
                status.canonical_reason().unwrap_or("")
            );
            return Err(HttpClientError::TokenStatus {
                url: self.shown_url.clone(),
                status: text.trim_end().to_string(),
                body: crate::encode::truncate_body(&body, MAX_ERROR_BODY),
            });
        }
        self.parse(&content_type, &body)
    }

    /// Reads a 2xx token response: form-encoded when the server says so (Go
    /// accepts `text/plain` as form too, for old GitHub), JSON otherwise.
    fn parse(&self, content_type: &str, body: &[u8]) -> Result<Token, HttpClientError> {
        let bad = |message: String| HttpClientError::TokenResponse {
            url: self.shown_url.clone(),
            message,
        };
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let (access_token, token_type, expires_in) =
            if media == "application/x-www-form-urlencoded" || media == "text/plain" {
                let text = String::from_utf8_lossy(body);
                let mut form = form_decode(&text);
                let expires = match form.get("expires_in").map(|s| s.trim()) {
                    None | Some("") => 0,
                    Some(s) => s
                        .parse::<i64>()
                        .map_err(|_| bad(format!("invalid expires_in {s:?}")))?,
                };
                (
                    form.remove("access_token").unwrap_or_default(),
                    form.remove("token_type").unwrap_or_default(),
                    expires,
                )
            } else {
                let v: TokenJson = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
                (
                    v.access_token.unwrap_or_default(),
                    v.token_type.unwrap_or_default(),
                    v.expires_in.map(|e| e.0).unwrap_or(0),
                )
            };
        if access_token.is_empty() {
            return Err(bad("server response missing access_token".into()));
        }
        let expiry = u64::try_from(expires_in)
            .ok()
            .filter(|&s| s > 0)
            .and_then(|s| (self.clock)().checked_add(Duration::from_secs(s)));
        Ok(Token {
            access_token,
            token_type,
            expiry,
        })
    }
}

#[derive(serde::Deserialize)]
struct TokenJson {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<ExpiresIn>,
}

/// `expires_in` as a number or a numeric string (some providers quote it).
struct ExpiresIn(i64);

impl<'de> serde::Deserialize<'de> for ExpiresIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let n = match &v {
            serde_json::Value::Null => Some(0),
            serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            serde_json::Value::String(s) if s.is_empty() => Some(0),
            serde_json::Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        n.map(ExpiresIn)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid expires_in {v}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(t: &str, expiry: Option<Instant>) -> Token {
        Token {
            access_token: "abc".into(),
            token_type: t.into(),
            expiry,
        }
    }

    #[test]
    fn scheme_normalisation() {
        assert_eq!(tok("", None).authorization(), "Bearer abc");
        assert_eq!(tok("bearer", None).authorization(), "Bearer abc");
        assert_eq!(tok("MAC", None).scheme(), "MAC");
        assert_eq!(tok("basic", None).scheme(), "Basic");
        assert_eq!(tok("DPoP", None).scheme(), "DPoP");
    }

    #[test]
    fn validity_keeps_a_safety_margin() {
        let now = Instant::now();
        assert!(tok("", None).is_valid_at(now));
        assert!(tok("", Some(now + Duration::from_secs(11))).is_valid_at(now));
        assert!(!tok("", Some(now + Duration::from_secs(10))).is_valid_at(now));
    }

    #[test]
    fn bad_configs_are_refused() {
        crate::install_crypto_provider();
        let c = reqwest::Client::new();
        let e = TokenSource::new(
            OAuth2Config {
                token_url: "not a url".into(),
                ..OAuth2Config::default()
            },
            c.clone(),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("oauth2: invalid token_url \"not a url\"")
        );
        let e = TokenSource::new(
            OAuth2Config {
                token_url: "http://127.0.0.1/t".into(),
                scopes: vec!["a".into()],
                endpoint_params: BTreeMap::from([("scope".into(), "b".into())]),
                ..OAuth2Config::default()
            },
            c,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "oauth2: cannot overwrite parameter \"scope\""
        );
    }

    #[test]
    fn secret_never_in_debug() {
        let c = OAuth2Config {
            client_secret: ClientSecret::Value("hunter2".into()),
            ..OAuth2Config::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!format!("{:?}", tok("", None)).contains("abc"));
    }
}
