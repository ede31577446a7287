//! The HTTP side of a scrape: one reqwest client per pool (rustls with ring, our own
//! `ClientConfig` for the TLS options), the request headers Prometheus sends, and a
//! body reader that enforces `body_size_limit` on the decompressed stream.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use watchfire_textparse::Format;

use crate::error::ScrapeError;
use crate::options::{HttpClientOptions, ScrapePoolOptions, ScrapeProtocol, TlsOptions};

/// Installs ring as rustls' process-wide provider; a provider installed earlier
/// (by us or by another part of the binary) is fine.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
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
        Ok(ScrapeClient {
            client,
            headers,
            body_size_limit: opts.body_size_limit,
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

/// The error and its sources, joined like Go's wrapped errors.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
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
        HeaderValue::from_static(concat!("Watchfire/", env!("CARGO_PKG_VERSION"))),
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

/// Standard base64 with padding (for basic auth).
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn read_pem(path: &std::path::Path) -> Result<Vec<u8>, ScrapeError> {
    std::fs::read(path)
        .map_err(|e| ScrapeError::Client(format!("unable to read {}: {e}", path.display())))
}

/// Builds the rustls configuration: the CA file or the system roots (webpki roots
/// when the system has none), an optional client certificate, and a verifier that
/// honours `server_name` and `insecure_skip_verify`.
fn tls_config(tls: &TlsOptions, http2: bool) -> Result<rustls::ClientConfig, ScrapeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = &tls.ca_file {
        let pem = read_pem(ca)?;
        let mut n = 0;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| {
                ScrapeError::Client(format!("unable to parse CA file {}: {e}", ca.display()))
            })?;
            roots.add(cert).map_err(|e| {
                ScrapeError::Client(format!("unable to use CA cert {}: {e}", ca.display()))
            })?;
            n += 1;
        }
        if n == 0 {
            return Err(ScrapeError::Client(format!(
                "unable to use specified CA cert {}",
                ca.display()
            )));
        }
    } else {
        let native = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(native.certs);
        if added == 0 {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ScrapeError::Client(e.to_string()))?;
    let roots = Arc::new(roots);
    let webpki =
        rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| ScrapeError::Client(e.to_string()))?;
    let verifier = Arc::new(Verifier {
        inner: webpki,
        server_name: match &tls.server_name {
            Some(n) if !n.is_empty() => Some(
                ServerName::try_from(n.clone())
                    .map_err(|e| ScrapeError::Client(format!("invalid server_name {n:?}: {e}")))?,
            ),
            _ => None,
        },
        insecure: tls.insecure_skip_verify,
        provider,
    });
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => {
            let cert_pem = read_pem(cert)?;
            let certs: Vec<CertificateDer<'static>> =
                rustls_pemfile::certs(&mut cert_pem.as_slice())
                    .collect::<Result<_, _>>()
                    .map_err(|e| {
                        ScrapeError::Client(format!("unable to parse {}: {e}", cert.display()))
                    })?;
            let key_pem = read_pem(key)?;
            let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_slice())
                .map_err(|e| {
                    ScrapeError::Client(format!("unable to parse {}: {e}", key.display()))
                })?
                .ok_or_else(|| {
                    ScrapeError::Client(format!("no private key in {}", key.display()))
                })?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| ScrapeError::Client(e.to_string()))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(ScrapeError::Client(
                "client cert file and key file must both be specified".to_owned(),
            ));
        }
    };
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(config)
}

/// Certificate verification with Prometheus' `server_name` and
/// `insecure_skip_verify` semantics on top of webpki.
#[derive(Debug)]
struct Verifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    server_name: Option<ServerName<'static>>,
    insecure: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.insecure {
            return Ok(ServerCertVerified::assertion());
        }
        let name = self.server_name.as_ref().unwrap_or(server_name);
        self.inner
            .verify_server_cert(end_entity, intermediates, name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
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
