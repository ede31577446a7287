//! The HTTP side of a scrape: one reqwest client per pool (rustls with ring, our own
//! `ClientConfig` for the TLS options, built by `watchfire-httpclient`), the request
//! headers Prometheus sends (with an `oauth2` token when configured), and a body
//! reader that enforces `body_size_limit` on the decompressed stream.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use watchfire_httpclient::encode::{base64, error_chain};
use watchfire_httpclient::{Pem, TlsSettings, TokenSource};
use watchfire_textparse::Format;

use crate::error::ScrapeError;
use crate::options::{HttpClientOptions, ScrapePoolOptions, ScrapeProtocol, TlsOptions};

/// The `User-Agent` of scrapes and token requests.
const USER_AGENT: &str = concat!("Watchfire/", env!("CARGO_PKG_VERSION"));

/// Installs ring as rustls' process-wide provider; a provider installed earlier
/// (by us or by another part of the binary) is fine.
pub fn install_crypto_provider() {
    watchfire_httpclient::install_crypto_provider();
}

/// The `Accept` header for `protocols`, with decreasing `q` weights as Prometheus
/// builds it; protobuf is never advertised since Watchfire does not parse it.
pub fn accept_header(protocols: &[ScrapeProtocol]) -> String {
    let mut vals = Vec::new();
    // Prometheus starts from the number of known protocols plus one.
    let mut weight = 6;
    for &p in protocols {
        if p == ScrapeProtocol::PrometheusProto {
            continue;
        }
        let mut v = p.header_value().to_owned();
        if matches!(
            p,
            ScrapeProtocol::PrometheusText1_0_0 | ScrapeProtocol::OpenMetricsText1_0_0
        ) {
            v.push_str(";escaping=allow-utf-8");
        }
        v.push_str(&format!(";q=0.{weight}"));
        vals.push(v);
        weight -= 1;
    }
    vals.push(format!("*/*;q=0.{weight}"));
    vals.join(",")
}

/// Picks the parser for a response's `Content-Type`, with Prometheus 3's rules and
/// error texts: a blank, unparsable or unknown type fails the scrape unless a
/// fallback protocol is configured.
pub fn format_for_content_type(
    content_type: &str,
    fallback: Option<ScrapeProtocol>,
) -> Result<Format, ScrapeError> {
    let fallback_format = |p: ScrapeProtocol| match p.media_type() {
        "application/openmetrics-text" => Ok(Format::OpenMetrics),
        "text/plain" => Ok(Format::PrometheusText),
        other => Err(ScrapeError::ContentType(format!(
            "unsupported fallback_scrape_protocol media type {other:?}"
        ))),
    };
    if content_type.trim().is_empty() {
        return match fallback {
            Some(p) => fallback_format(p),
            None => Err(ScrapeError::ContentType(
                "non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target".to_owned(),
            )),
        };
    }
    let media = content_type.split(';').next().unwrap_or("").trim();
    let valid = media.split_once('/').is_some_and(|(t, s)| {
        let token = |x: &str| {
            !x.is_empty()
                && x.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        };
        token(t) && token(s)
    });
    if !valid {
        return match fallback {
            Some(p) => fallback_format(p),
            None => Err(ScrapeError::ContentType(format!(
                "cannot parse Content-Type {content_type:?} and no fallback_scrape_protocol for target"
            ))),
        };
    }
    match media.to_ascii_lowercase().as_str() {
        "application/openmetrics-text" => Ok(Format::OpenMetrics),
        "text/plain" => Ok(Format::PrometheusText),
        _ => match fallback {
            Some(p) => fallback_format(p),
            None => Err(ScrapeError::ContentType(format!(
                "received unsupported Content-Type {content_type:?} and no fallback_scrape_protocol specified for target"
            ))),
        },
    }
}

/// A pool's HTTP client and the headers every request carries.
#[derive(Debug, Clone)]
pub struct ScrapeClient {
    client: reqwest::Client,
    headers: HeaderMap,
    body_size_limit: u64,
    /// `oauth2`: the token source, shared by the pool's loops.
    oauth2: Option<Arc<TokenSource>>,
}

impl ScrapeClient {
    /// Builds the client for a pool.
    pub fn new(opts: &ScrapePoolOptions) -> Result<ScrapeClient, ScrapeError> {
        install_crypto_provider();
        let http = &opts.http;
        let tls = tls_config(&http.tls, http.enable_http2)?;
        let mut b = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(if http.follow_redirects {
                reqwest::redirect::Policy::limited(10)
            } else {
                reqwest::redirect::Policy::none()
            })
            .pool_idle_timeout(Duration::from_secs(5 * 60));
        if !http.enable_http2 {
            b = b.http1_only();
        }
        match &http.proxy_url {
            Some(p) => {
                let proxy =
                    reqwest::Proxy::all(p).map_err(|e| ScrapeError::Client(e.to_string()))?;
                b = b.proxy(proxy);
            }
            None => b = b.no_proxy(),
        }
        let client = b
            .build()
            .map_err(|e| ScrapeError::Client(error_chain(&e)))?;
        let headers = request_headers(opts)?;
        let oauth2 = match &opts.oauth2 {
            Some(o) => {
                let token_client = watchfire_httpclient::token_client(
                    &tls_settings(&o.tls),
                    o.proxy_url.as_deref(),
                    USER_AGENT,
                )
                .map_err(|e| ScrapeError::Client(format!("oauth2: {e}")))?;
                let ts = TokenSource::new(o.config.clone(), token_client)
                    .map_err(|e| ScrapeError::Client(e.to_string()))?;
                Some(Arc::new(ts))
            }
            None => None,
        };
        Ok(ScrapeClient {
            client,
            headers,
            body_size_limit: opts.body_size_limit,
            oauth2,
        })
    }

    /// GETs `url`, reading the body into `buf` (cleared first). Returns the
    /// `Content-Type`. The caller bounds the whole call with the scrape timeout.
    pub async fn fetch(
        &self,
        url: &str,
        timeout: Duration,
        buf: &mut Vec<u8>,
    ) -> Result<String, ScrapeError> {
        buf.clear();
        let mut headers = self.headers.clone();
        if let Ok(v) = HeaderValue::from_str(&format_seconds(timeout)) {
            headers.insert("X-Prometheus-Scrape-Timeout-Seconds", v);
        }
        if let Some(ts) = &self.oauth2 {
            // Go reports a token failure as the request's error.
            let v = ts
                .authorization()
                .await
                .map_err(|e| ScrapeError::Http(format!("Get {url:?}: {e}")))?;
            headers.insert(reqwest::header::AUTHORIZATION, v);
        }
        let mut resp = self
            .client
            .get(url)
            .headers(headers)
            .send()
            .await
            .map_err(|e| ScrapeError::Http(format!("Get {url:?}: {}", error_chain(&e))))?;
        let status = resp.status();
        if status != reqwest::StatusCode::OK {
            let text = format!(
                "{} {}",
                status.as_str(),
                status.canonical_reason().unwrap_or("")
            );
            return Err(ScrapeError::Status(text.trim_end().to_owned()));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let limit = if self.body_size_limit == 0 {
            u64::MAX
        } else {
            self.body_size_limit
        };
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| ScrapeError::Http(error_chain(&e)))?
        {
            buf.extend_from_slice(&chunk);
            if buf.len() as u64 >= limit {
                return Err(ScrapeError::BodySizeLimit);
            }
        }
        Ok(content_type)
    }
}

/// Go's `strconv.FormatFloat(seconds, 'f', -1, 64)` for a duration.
fn format_seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    let mut out = format!("{s}");
    if out.ends_with(".0") {
        out.truncate(out.len() - 2);
    }
    out
}

fn request_headers(opts: &ScrapePoolOptions) -> Result<HeaderMap, ScrapeError> {
    let http: &HttpClientOptions = &opts.http;
    let mut h = HeaderMap::new();
    let bad = |what: &str| ScrapeError::Client(format!("invalid {what} header value"));
    h.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_str(&accept_header(&opts.scrape_protocols)).map_err(|_| bad("Accept"))?,
    );
    h.insert(
        reqwest::header::ACCEPT_ENCODING,
        HeaderValue::from_static(if http.enable_compression {
            "gzip"
        } else {
            "identity"
        }),
    );
    h.insert(
        reqwest::header::USER_AGENT,
        HeaderValue::from_static(USER_AGENT),
    );
    if let Some(auth) = &http.authorization {
        let kind = if auth.kind.is_empty() {
            "Bearer"
        } else {
            &auth.kind
        };
        let v = HeaderValue::from_str(&format!("{kind} {}", auth.credentials))
            .map_err(|_| bad("Authorization"))?;
        h.insert(reqwest::header::AUTHORIZATION, v);
    } else if let Some(basic) = &http.basic_auth {
        let raw = format!("{}:{}", basic.username, basic.password);
        let v = HeaderValue::from_str(&format!("Basic {}", base64(raw.as_bytes())))
            .map_err(|_| bad("Authorization"))?;
        h.insert(reqwest::header::AUTHORIZATION, v);
    }
    Ok(h)
}

/// The neutral TLS settings of a scrape `tls_config`.
fn tls_settings(tls: &TlsOptions) -> TlsSettings {
    TlsSettings {
        ca: tls.ca_file.clone().map(Pem::File),
        cert: tls.cert_file.clone().map(Pem::File),
        key: tls.key_file.clone().map(Pem::File),
        server_name: tls.server_name.clone(),
        insecure_skip_verify: tls.insecure_skip_verify,
        min_version: None,
        max_version: None,
    }
}

/// The rustls configuration of a scrape `tls_config` (see
/// [`watchfire_httpclient::rustls_client_config`]).
fn tls_config(tls: &TlsOptions, http2: bool) -> Result<rustls::ClientConfig, ScrapeError> {
    watchfire_httpclient::rustls_client_config(&tls_settings(tls), http2)
        .map_err(|e| ScrapeError::Client(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_matches_prometheus() {
        assert_eq!(
            accept_header(&ScrapeProtocol::DEFAULT),
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
             application/openmetrics-text;version=0.0.1;q=0.5,\
             text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,\
             text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
        );
    }

    #[test]
    fn content_types() {
        assert_eq!(
            format_for_content_type("text/plain; version=0.0.4", None),
            Ok(Format::PrometheusText)
        );
        assert_eq!(
            format_for_content_type("application/openmetrics-text; version=1.0.0", None),
            Ok(Format::OpenMetrics)
        );
        assert!(format_for_content_type("", None).is_err());
        assert_eq!(
            format_for_content_type("", Some(ScrapeProtocol::PrometheusText0_0_4)),
            Ok(Format::PrometheusText)
        );
        assert_eq!(
            format_for_content_type("application/json", None)
                .unwrap_err()
                .to_string(),
            "received unsupported Content-Type \"application/json\" and no fallback_scrape_protocol specified for target"
        );
    }

    #[test]
    fn base64_and_seconds() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(format_seconds(Duration::from_secs(10)), "10");
        assert_eq!(format_seconds(Duration::from_millis(1500)), "1.5");
    }
}
