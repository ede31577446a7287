//! rustls client configuration from Prometheus' `tls_config`: trusted CAs (the
//! configured ones, else the system's, else webpki's bundled roots), an
//! optional client certificate, `server_name`, `insecure_skip_verify` and TLS
//! version bounds. Also builds the client a [`crate::TokenSource`] uses.

use crate::HttpClientError;
use crate::encode::error_chain;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// PEM text given inline or as a file (read when the configuration is built).
#[derive(Clone, PartialEq, Eq)]
pub enum Pem {
    /// Inline PEM (`ca`, `cert`, `key`).
    Inline(String),
    /// A PEM file (`ca_file`, `cert_file`, `key_file`).
    File(PathBuf),
}

impl std::fmt::Debug for Pem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Inline keys are secrets.
            Pem::Inline(_) => f.write_str("Inline(..)"),
            Pem::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

impl Pem {
    /// Prometheus' precedence: non-empty inline text, else a non-empty file
    /// name, else nothing.
    pub fn pick(inline: Option<&str>, file: Option<&str>) -> Option<Pem> {
        match (inline, file) {
            (Some(t), _) if !t.is_empty() => Some(Pem::Inline(t.to_string())),
            (_, Some(f)) if !f.is_empty() => Some(Pem::File(f.into())),
            _ => None,
        }
    }

    fn read(&self, what: &str) -> Result<Vec<u8>, HttpClientError> {
        match self {
            Pem::Inline(t) => Ok(t.as_bytes().to_vec()),
            Pem::File(f) => std::fs::read(f).map_err(|e| {
                HttpClientError::Tls(format!("reading {what} {:?}: {e}", f.display().to_string()))
            }),
        }
    }
}

/// The TLS settings of one client, independent of the configuration crates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// CAs to trust instead of the system roots.
    pub ca: Option<Pem>,
    /// Client certificate chain (with `key`).
    pub cert: Option<Pem>,
    /// Client private key (with `cert`).
    pub key: Option<Pem>,
    /// Name to verify the server certificate against instead of the URL's host.
    pub server_name: Option<String>,
    /// Skip certificate verification (handshake signatures are still checked).
    pub insecure_skip_verify: bool,
    /// `min_version` (`TLS10`…`TLS13`); default TLS 1.2.
    pub min_version: Option<String>,
    /// `max_version`; default TLS 1.3.
    pub max_version: Option<String>,
}

fn tls_err(m: String) -> HttpClientError {
    HttpClientError::Tls(m)
}

fn version(v: Option<&str>) -> Result<Option<u8>, HttpClientError> {
    match v {
        None | Some("") => Ok(None),
        Some("TLS10") => Ok(Some(10)),
        Some("TLS11") => Ok(Some(11)),
        Some("TLS12") => Ok(Some(12)),
        Some("TLS13") => Ok(Some(13)),
        Some(o) => Err(tls_err(format!("unknown TLS version {o:?}"))),
    }
}

/// The rustls configuration for `tls`, advertising `h2` through ALPN when
/// `http2` is set. rustls has no TLS 1.0/1.1, so bounds below 1.2 are clamped
/// up and a range entirely below 1.2 is an error.
pub fn rustls_client_config(
    tls: &TlsSettings,
    http2: bool,
) -> Result<rustls::ClientConfig, HttpClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = &tls.ca {
        let pem = ca.read("CA")?;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| tls_err(format!("parsing CA certificate: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| tls_err(format!("adding CA certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(tls_err("no certificate found in CA".into()));
        }
    } else {
        let native = rustls_native_certs::load_native_certs();
        let (_, _) = roots.add_parsable_certificates(native.certs);
        if roots.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
    }
    let min = version(tls.min_version.as_deref())?.unwrap_or(12);
    let max = version(tls.max_version.as_deref())?.unwrap_or(13);
    if max < 12 {
        return Err(tls_err("TLS versions below 1.2 are not supported".into()));
    }
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if min <= 12 {
        versions.push(&rustls::version::TLS12);
    }
    if min <= 13 && max >= 13 {
        versions.push(&rustls::version::TLS13);
    }
    if versions.is_empty() || min > max {
        return Err(tls_err("min_version is above max_version".into()));
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| tls_err(e.to_string()))?;
    let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| tls_err(e.to_string()))?;
    let server_name = match tls.server_name.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            ServerName::try_from(s.to_string())
                .map_err(|_| tls_err(format!("invalid server_name {s:?}")))?,
        ),
        None => None,
    };
    let verifier = Arc::new(Verifier {
        inner,
        insecure: tls.insecure_skip_verify,
        server_name,
        provider,
    });
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            let cert = cert.read("certificate")?;
            let key = key.read("key")?;
            let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert.as_slice())
                .collect::<Result<_, _>>()
                .map_err(|e| tls_err(format!("parsing client certificate: {e}")))?;
            let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key.as_slice())
                .map_err(|e| tls_err(format!("parsing client key: {e}")))?
                .ok_or_else(|| tls_err("no private key found".into()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls_err(format!("client certificate: {e}")))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(tls_err(
                "client certificate and key must be configured together".into(),
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

/// The client for an `oauth2` block's token requests: its own `tls_config`
/// and `proxy_url` (no proxy otherwise; Prometheus ignores the environment
/// unless asked), HTTP/2 allowed, `user_agent` on every request.
pub fn token_client(
    tls: &TlsSettings,
    proxy_url: Option<&str>,
    user_agent: &str,
) -> Result<reqwest::Client, HttpClientError> {
    crate::install_crypto_provider();
    let config = rustls_client_config(tls, true)?;
    let mut b = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .user_agent(user_agent)
        .connect_timeout(Duration::from_secs(30));
    b = match proxy_url.filter(|p| !p.is_empty()) {
        Some(p) => b.proxy(
            reqwest::Proxy::all(p)
                .map_err(|e| HttpClientError::Client(format!("proxy_url: {e}")))?,
        ),
        None => b.no_proxy(),
    };
    b.build()
        .map_err(|e| HttpClientError::Client(error_chain(&e)))
}

/// WebPKI verification against `server_name` when set, or none at all with
/// `insecure_skip_verify`; handshake signatures are always checked.
#[derive(Debug)]
struct Verifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    insecure: bool,
    server_name: Option<ServerName<'static>>,
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
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(t: &TlsSettings) -> String {
        rustls_client_config(t, true).unwrap_err().to_string()
    }

    #[test]
    fn defaults_build_with_alpn() {
        let c = rustls_client_config(&TlsSettings::default(), true).unwrap();
        assert_eq!(c.alpn_protocols, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        let c = rustls_client_config(&TlsSettings::default(), false).unwrap();
        assert_eq!(c.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn bad_settings_are_explained() {
        let e = err(&TlsSettings {
            ca: Some(Pem::File("/nonexistent/ca.pem".into())),
            ..TlsSettings::default()
        });
        assert!(
            e.starts_with("tls_config: reading CA \"/nonexistent/ca.pem\": "),
            "{e}"
        );
        assert_eq!(
            err(&TlsSettings {
                ca: Some(Pem::Inline("not pem".into())),
                ..TlsSettings::default()
            }),
            "tls_config: no certificate found in CA"
        );
        assert_eq!(
            err(&TlsSettings {
                cert: Some(Pem::Inline("x".into())),
                ..TlsSettings::default()
            }),
            "tls_config: client certificate and key must be configured together"
        );
        let v = |min: &str, max: &str| TlsSettings {
            min_version: Some(min.into()),
            max_version: Some(max.into()),
            ..TlsSettings::default()
        };
        assert_eq!(
            err(&v("TLS14", "")),
            "tls_config: unknown TLS version \"TLS14\""
        );
        assert_eq!(
            err(&v("TLS10", "TLS11")),
            "tls_config: TLS versions below 1.2 are not supported"
        );
        assert_eq!(
            err(&v("TLS13", "TLS12")),
            "tls_config: min_version is above max_version"
        );
        assert!(rustls_client_config(&v("TLS13", ""), true).is_ok());
        assert!(rustls_client_config(&v("TLS10", "TLS12"), true).is_ok());
    }

    #[test]
    fn pem_precedence_and_debug() {
        assert_eq!(
            Pem::pick(Some("x"), Some("f")),
            Some(Pem::Inline("x".into()))
        );
        assert_eq!(Pem::pick(Some(""), Some("f")), Some(Pem::File("f".into())));
        assert_eq!(Pem::pick(None, Some("")), None);
        assert_eq!(format!("{:?}", Pem::Inline("KEY".into())), "Inline(..)");
    }
}
