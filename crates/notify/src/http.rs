//! HTTP plumbing shared by the HTTP notifiers: building reqwest clients from
//! Prometheus' `http_config` (rustls with ring, proxies, redirects), applying
//! authentication per request (so `*_file` credentials are re-read like
//! Prometheus does, and `oauth2` tokens come from a cached
//! [`TokenSource`]), and classifying responses like Alertmanager's `Retrier`.

use crate::NotifyError;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::sync::Arc;
use std::time::Duration;
use watchfire_alertmanager_config::{HttpClientConfig, OAuth2, TlsConfig};
use watchfire_httpclient::encode::{base64, error_chain as chain};
use watchfire_httpclient::{ClientSecret, OAuth2Config, Pem, TlsSettings, TokenSource};

/// The `User-Agent` of every notification request (Alertmanager sends
/// `Alertmanager/<version>`).
pub const USER_AGENT: &str = concat!("Watchfire/", env!("CARGO_PKG_VERSION"));

/// The `Content-Type` of JSON bodies.
pub(crate) const JSON: &str = "application/json";

/// Where a request goes: a URL parsed once when the notifier was built, or text
/// (from a file, or one that does not parse) parsed per request.
pub(crate) enum Target {
    Parsed(reqwest::Url),
    Text(String),
}

/// How much of an error response body goes into the error message.
const MAX_ERROR_BODY: usize = 1024;

/// Builds a reqwest client for `cfg` (or defaults): rustls with the ring provider
/// (installed process-wide if nothing was), `tls_config`, `proxy_url`/`no_proxy`/
/// `proxy_from_environment`/`proxy_connect_header`, `follow_redirects`,
/// `enable_http2`, and the static authentication headers of `cfg`
/// (`basic_auth`, `authorization`, `bearer_token`, `http_headers`; files are read
/// now). Notifiers built by [`crate::build_integrations`] instead apply
/// authentication per request; `oauth2` only works that way (its tokens expire),
/// so it is refused here.
pub fn default_http_client(cfg: Option<&HttpClientConfig>) -> Result<reqwest::Client, NotifyError> {
    watchfire_httpclient::install_crypto_provider();
    let default = HttpClientConfig::default();
    let cfg = cfg.unwrap_or(&default);
    if cfg.oauth2.is_some() {
        return Err(NotifyError::permanent(
            "http_config: oauth2 tokens are applied per request; build the notifier with build_integrations",
        ));
    }
    let auth = auth_headers(cfg)?;
    let extra = static_headers(cfg)?;
    let mut headers = HeaderMap::new();
    for (k, v) in auth.into_iter().chain(extra) {
        headers.append(k, v);
    }
    client_builder(cfg)?
        .default_headers(headers)
        .build()
        .map_err(|e| NotifyError::permanent(format!("building HTTP client: {}", chain(&e))))
}

/// Whether `cfg` changes the transport (so a shared client cannot be used).
pub(crate) fn needs_own_client(cfg: &HttpClientConfig) -> bool {
    cfg.tls_config != TlsConfig::default()
        || !cfg.proxy_url.is_empty()
        || !cfg.no_proxy.is_empty()
        || cfg.proxy_from_environment
        || !cfg.proxy_connect_header.is_empty()
        || !cfg.follow_redirects
        || !cfg.enable_http2
}

fn client_builder(cfg: &HttpClientConfig) -> Result<reqwest::ClientBuilder, NotifyError> {
    let http2 = cfg.enable_http2;
    let tls = rustls_config(Some(&cfg.tls_config), http2)?;
    let mut b = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(30));
    if !http2 {
        b = b.http1_only();
    }
    if !cfg.follow_redirects {
        b = b.redirect(reqwest::redirect::Policy::none());
    }
    if !cfg.proxy_url.is_empty() {
        let mut proxy = reqwest::Proxy::all(cfg.proxy_url.as_str())
            .map_err(|e| NotifyError::permanent(format!("http_config.proxy_url: {e}")))?;
        if !cfg.no_proxy.is_empty() {
            proxy = proxy.no_proxy(reqwest::NoProxy::from_string(&cfg.no_proxy));
        }
        if !cfg.proxy_connect_header.is_empty() {
            let mut map = HeaderMap::new();
            for (name, values) in &cfg.proxy_connect_header {
                let name = header_name(name)?;
                for v in values {
                    map.append(name.clone(), header_value(name.as_str(), v.expose())?);
                }
            }
            proxy = proxy.headers(map);
        }
        b = b.proxy(proxy);
    } else if !cfg.proxy_from_environment {
        // Prometheus ignores HTTP(S)_PROXY unless proxy_from_environment is set.
        b = b.no_proxy();
    }
    Ok(b)
}

/// The token source of an `oauth2` block. Token requests get their own client:
/// the block has its own `tls_config` and `proxy_url`, and must not inherit
/// the notifier's authentication headers.
fn token_source(o: &OAuth2) -> Result<TokenSource, NotifyError> {
    let client = watchfire_httpclient::token_client(
        &tls_settings(Some(&o.tls_config)),
        (!o.proxy_url.is_empty()).then_some(o.proxy_url.as_str()),
        USER_AGENT,
    )
    .map_err(|e| NotifyError::permanent(format!("http_config.oauth2: {e}")))?;
    let client_secret = if !o.client_secret_file.is_empty() {
        ClientSecret::File(o.client_secret_file.as_str().into())
    } else if !o.client_secret.is_empty() {
        ClientSecret::Value(o.client_secret.expose().to_string())
    } else {
        ClientSecret::None
    };
    let cfg = OAuth2Config {
        token_url: o.token_url.clone(),
        client_id: o.client_id.clone(),
        client_secret,
        scopes: o.scopes.clone(),
        endpoint_params: o.endpoint_params.clone(),
    };
    TokenSource::new(cfg, client).map_err(|e| NotifyError::permanent(format!("http_config: {e}")))
}

/// A client plus the per-request parts of an `http_config`.
#[derive(Clone)]
pub(crate) struct HttpSender {
    client: reqwest::Client,
    cfg: HttpClientConfig,
    /// Set for `oauth2`; shared by the clones of one notifier.
    oauth2: Option<Arc<TokenSource>>,
}

/// Per-request settings besides the body.
#[derive(Default)]
struct Extras<'a> {
    timeout: Option<Duration>,
    /// Replaces the configured authentication.
    authorization: Option<&'a str>,
    /// Added after the configured headers.
    headers: &'a [(HeaderName, HeaderValue)],
}

/// A response already read in full.
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl HttpSender {
    /// Uses `shared` unless `cfg` needs its own transport.
    pub fn new(
        cfg: Option<&HttpClientConfig>,
        shared: &reqwest::Client,
    ) -> Result<HttpSender, NotifyError> {
        let cfg = cfg.cloned().unwrap_or_default();
        watchfire_httpclient::install_crypto_provider();
        let oauth2 = match &cfg.oauth2 {
            Some(o) => Some(Arc::new(token_source(o)?)),
            None => None,
        };
        let client = if needs_own_client(&cfg) {
            client_builder(&cfg)?.build().map_err(|e| {
                NotifyError::permanent(format!("building HTTP client: {}", chain(&e)))
            })?
        } else {
            shared.clone()
        };
        Ok(HttpSender {
            client,
            cfg,
            oauth2,
        })
    }

    /// Sends `body` and reads the whole response. Transport failures are
    /// retryable; the URL is never part of the message (it may hold a token).
    pub async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<Reply, NotifyError> {
        self.send_inner(method, url, content_type, body, timeout, None)
            .await
    }

    /// `send` of a JSON body with this `Authorization` header instead of the
    /// configured one (an explicit header wins in Prometheus' client too).
    pub async fn send_with_auth(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Vec<u8>,
        authorization: &str,
    ) -> Result<Reply, NotifyError> {
        self.send_inner(
            method,
            url,
            "application/json",
            body,
            None,
            Some(authorization),
        )
        .await
    }

    /// `send` to a [`Target`].
    pub async fn send_to(
        &self,
        method: reqwest::Method,
        target: Target,
        content_type: &str,
        body: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<Reply, NotifyError> {
        let url = match target {
            Target::Parsed(u) => u,
            Target::Text(t) => parse_url(&t)?,
        };
        let opts = Extras {
            timeout,
            ..Extras::default()
        };
        self.send_url(method, url, content_type, body, opts).await
    }

    /// `send` with extra request headers (after the configured ones). An
    /// `authorization` among them replaces the configured authentication.
    pub async fn send_with_headers(
        &self,
        method: reqwest::Method,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&'static str, String)],
    ) -> Result<Reply, NotifyError> {
        let url = parse_url(url)?;
        let authorization = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.as_str());
        let extra = headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
            .map(|(k, v)| Ok((header_name(k)?, header_value(k, v)?)))
            .collect::<Result<Vec<_>, NotifyError>>()?;
        let opts = Extras {
            authorization,
            headers: &extra,
            ..Extras::default()
        };
        self.send_url(method, url, content_type, body, opts).await
    }

    async fn send_inner(
        &self,
        method: reqwest::Method,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
        timeout: Option<Duration>,
        authorization: Option<&str>,
    ) -> Result<Reply, NotifyError> {
        let url = parse_url(url)?;
        let opts = Extras {
            timeout,
            authorization,
            headers: &[],
        };
        self.send_url(method, url, content_type, body, opts).await
    }

    async fn send_url(
        &self,
        method: reqwest::Method,
        url: reqwest::Url,
        content_type: &str,
        body: Vec<u8>,
        opts: Extras<'_>,
    ) -> Result<Reply, NotifyError> {
        let Extras {
            timeout,
            authorization,
            headers: extra,
        } = opts;
        let mut req = self
            .client
            .request(method, url)
            .header(
                reqwest::header::USER_AGENT,
                HeaderValue::from_static(USER_AGENT),
            )
            .body(body);
        // Static header values need no validation per request; an empty one
        // means the request has no body type (a GET).
        if content_type == JSON {
            req = req.header(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static(JSON),
            );
        } else if !content_type.is_empty() {
            let v = HeaderValue::from_str(content_type).map_err(|_| {
                NotifyError::permanent(format!("invalid Content-Type {content_type:?}"))
            })?;
            req = req.header(reqwest::header::CONTENT_TYPE, v);
        }
        let auth = match authorization {
            Some(a) => vec![(
                reqwest::header::AUTHORIZATION,
                header_value("Authorization", a)?,
            )],
            None => match &self.oauth2 {
                // A token endpoint that fails now may answer on a retry, as
                // with Alertmanager's round tripper errors.
                Some(ts) => vec![(
                    reqwest::header::AUTHORIZATION,
                    ts.authorization()
                        .await
                        .map_err(|e| NotifyError::transient(e.to_string()))?,
                )],
                None => auth_headers(&self.cfg)?,
            },
        };
        for (k, v) in auth.into_iter().chain(static_headers(&self.cfg)?) {
            req = req.header(k, v);
        }
        for (k, v) in extra {
            req = req.header(k.clone(), v.clone());
        }
        if let Some(t) = timeout.filter(|t| !t.is_zero()) {
            req = req.timeout(t);
        }
        let resp = req.send().await.map_err(transport_error)?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp.bytes().await.map_err(transport_error)?.to_vec();
        Ok(Reply {
            status,
            content_type,
            body,
        })
    }

    /// `send` with a JSON body, then [`check_status`].
    pub async fn post_json(
        &self,
        url: &str,
        body: &impl serde::Serialize,
        timeout: Option<Duration>,
        extra_retry: &[u16],
    ) -> Result<Reply, NotifyError> {
        let body = encode_json(body)?;
        let reply = self
            .send(
                reqwest::Method::POST,
                url,
                "application/json",
                body,
                timeout,
            )
            .await?;
        check_status(&reply, extra_retry)?;
        Ok(reply)
    }
}

fn parse_url(url: &str) -> Result<reqwest::Url, NotifyError> {
    reqwest::Url::parse(url)
        .map_err(|e| NotifyError::permanent(format!("invalid URL <redacted>: {e}")))
}

/// Go's `json.Encoder` output: the value plus a trailing newline.
pub(crate) fn encode_json(v: &impl serde::Serialize) -> Result<Vec<u8>, NotifyError> {
    encode_json_with_capacity(v, 256)
}

/// [`encode_json`] into a buffer of `capacity` bytes to start with.
pub(crate) fn encode_json_with_capacity(
    v: &impl serde::Serialize,
    capacity: usize,
) -> Result<Vec<u8>, NotifyError> {
    let mut body = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut body, v)
        .map_err(|e| NotifyError::permanent(format!("encoding JSON: {e}")))?;
    body.push(b'\n');
    Ok(body)
}

fn transport_error(e: reqwest::Error) -> NotifyError {
    let e = e.without_url();
    let what = if e.is_timeout() {
        "request timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    NotifyError::transient(format!("{what}: {}", chain(&e)))
}

/// Alertmanager's `Retrier.Check`: 2xx is success; 5xx, 429 and `extra_retry`
/// codes are retryable; anything else is not. The message carries the status
/// code and the start of the body.
pub(crate) fn check_status(reply: &Reply, extra_retry: &[u16]) -> Result<(), NotifyError> {
    let code = reply.status;
    if (200..300).contains(&code) {
        return Ok(());
    }
    let retry = code / 100 == 5 || code == 429 || extra_retry.contains(&code);
    let mut message = format!("unexpected status code {code}");
    let details = truncate_body(&reply.body);
    if !details.is_empty() {
        message.push_str(": ");
        message.push_str(&details);
    }
    Err(NotifyError { retry, message })
}

/// The body as text, cut at [`MAX_ERROR_BODY`] bytes on a character boundary.
pub(crate) fn truncate_body(body: &[u8]) -> String {
    watchfire_httpclient::encode::truncate_body(body, MAX_ERROR_BODY)
}

/// Reads a credentials file, trimming surrounding whitespace (Prometheus does).
pub(crate) fn read_secret_file(path: &str, what: &str) -> Result<String, NotifyError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| NotifyError::permanent(format!("reading {what} file {path:?}: {e}")))
}

fn header_name(name: &str) -> Result<HeaderName, NotifyError> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| NotifyError::permanent(format!("invalid HTTP header name {name:?}")))
}

fn header_value(name: &str, v: &str) -> Result<HeaderValue, NotifyError> {
    let mut hv = HeaderValue::from_str(v)
        .map_err(|_| NotifyError::permanent(format!("invalid value for HTTP header {name:?}")))?;
    hv.set_sensitive(true);
    Ok(hv)
}

/// The `Authorization` header of `basic_auth`, `authorization` or `bearer_token`.
fn auth_headers(cfg: &HttpClientConfig) -> Result<Vec<(HeaderName, HeaderValue)>, NotifyError> {
    let auth = reqwest::header::AUTHORIZATION;
    if let Some(b) = &cfg.basic_auth {
        let user = match b.username_file.as_str() {
            "" => b.username.clone(),
            f => read_secret_file(f, "basic_auth username")?,
        };
        let pass = match b.password_file.as_str() {
            "" => b.password.expose().to_string(),
            f => read_secret_file(f, "basic_auth password")?,
        };
        let token = base64(format!("{user}:{pass}").as_bytes());
        let v = header_value("Authorization", &format!("Basic {token}"))?;
        return Ok(vec![(auth, v)]);
    }
    if let Some(a) = &cfg.authorization {
        let kind = if a.kind.is_empty() { "Bearer" } else { &a.kind };
        let cred = match a.credentials_file.as_str() {
            "" => a.credentials.expose().to_string(),
            f => read_secret_file(f, "authorization credentials")?,
        };
        let v = header_value("Authorization", &format!("{kind} {cred}"))?;
        return Ok(vec![(auth, v)]);
    }
    // Validation folds these into `authorization`; an unvalidated value may still
    // carry them.
    let bearer = match cfg.bearer_token_file.as_str() {
        "" if cfg.bearer_token.is_empty() => None,
        "" => Some(cfg.bearer_token.expose().to_string()),
        f => Some(read_secret_file(f, "bearer_token")?),
    };
    if let Some(t) = bearer {
        let v = header_value("Authorization", &format!("Bearer {t}"))?;
        return Ok(vec![(auth, v)]);
    }
    Ok(Vec::new())
}

/// `http_headers`: `{Name: {values: [...], secrets: [...], files: [...]}}`.
fn static_headers(cfg: &HttpClientConfig) -> Result<Vec<(HeaderName, HeaderValue)>, NotifyError> {
    let mut out = Vec::new();
    for (name, spec) in &cfg.http_headers {
        let hn = header_name(name)?;
        let inline = spec.values.iter().map(String::as_str);
        for v in inline.chain(spec.secrets.iter().map(|s| s.expose())) {
            out.push((hn.clone(), header_value(name, v)?));
        }
        for f in &spec.files {
            let v = read_secret_file(f, "http_headers")?;
            out.push((hn.clone(), header_value(name, &v)?));
        }
    }
    Ok(out)
}

/// The neutral TLS settings of an Alertmanager `tls_config`.
fn tls_settings(tls: Option<&TlsConfig>) -> TlsSettings {
    let default = TlsConfig::default();
    let tls = tls.unwrap_or(&default);
    let set = |s: &String| (!s.is_empty()).then(|| s.clone());
    TlsSettings {
        ca: Pem::pick(Some(&tls.ca), Some(&tls.ca_file)),
        cert: Pem::pick(Some(&tls.cert), Some(&tls.cert_file)),
        key: Pem::pick(Some(tls.key.expose()), Some(&tls.key_file)),
        server_name: set(&tls.server_name),
        insecure_skip_verify: tls.insecure_skip_verify,
        min_version: set(&tls.min_version),
        max_version: set(&tls.max_version),
    }
}

/// The rustls configuration of a `tls_config` (see
/// [`watchfire_httpclient::rustls_client_config`]).
pub(crate) fn rustls_config(
    tls: Option<&TlsConfig>,
    http2: bool,
) -> Result<rustls::ClientConfig, NotifyError> {
    watchfire_httpclient::rustls_client_config(&tls_settings(tls), http2)
        .map_err(|e| NotifyError::permanent(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_classification() {
        let r = |status: u16| Reply {
            status,
            content_type: String::new(),
            body: b"nope".to_vec(),
        };
        assert!(check_status(&r(204), &[]).is_ok());
        assert!(check_status(&r(500), &[]).err().is_some_and(|e| e.retry));
        assert!(check_status(&r(429), &[]).err().is_some_and(|e| e.retry));
        assert!(check_status(&r(400), &[]).err().is_some_and(|e| !e.retry));
        assert!(check_status(&r(403), &[403]).err().is_some_and(|e| e.retry));
        let e = check_status(&r(404), &[]).err();
        assert_eq!(
            e.map(|e| e.message),
            Some("unexpected status code 404: nope".to_string())
        );
    }
}
