//! E-mail over SMTP, driven step by step like Alertmanager: connect (implicit TLS
//! on port 465), EHLO, STARTTLS when `require_tls`, AUTH (PLAIN or LOGIN) only
//! when the server offers it and a user name is set, then MAIL/RCPT/DATA with a
//! `multipart/alternative` message (text part first, HTML last).

use crate::mime::{q_encode, quoted_printable};
use crate::util::group_key;
use crate::{Notifier, NotifyError};
use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, Identity, TlsParameters};
use lettre::transport::smtp::extension::{ClientId, Extension};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;
use watchfire_alertmanager_config::{EmailConfig, TlsConfig};
use watchfire_template::{NotificationData, NotificationTemplates};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Email {
    conf: EmailConfig,
    /// Canonical header name → template, with Subject/To/From defaulted.
    headers: BTreeMap<String, String>,
    templates: Arc<NotificationTemplates>,
    hostname: String,
}

/// Go's `textproto.CanonicalMIMEHeaderKey` for ASCII names.
fn canonical_header(k: &str) -> String {
    let mut up = true;
    k.chars()
        .map(|c| {
            let o = if up {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            up = c == '-';
            o
        })
        .collect()
}

/// The bare addresses of an RFC 5322 address list (`A <a@x>, b@y`).
fn parse_address_list(s: &str) -> Result<Vec<Address>, String> {
    let mut parts = Vec::new();
    let (mut cur, mut quoted, mut angle) = (String::new(), false, false);
    for c in s.chars() {
        match c {
            '"' if !angle => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    let mut out = Vec::new();
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let addr = match (p.rfind('<'), p.rfind('>')) {
            (Some(a), Some(b)) if a < b => &p[a + 1..b],
            _ => p,
        };
        out.push(
            addr.trim()
                .parse::<Address>()
                .map_err(|e| format!("mail: invalid address {addr:?}: {e}"))?,
        );
    }
    if out.is_empty() {
        return Err("mail: no address".into());
    }
    Ok(out)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost.localdomain".into())
}

fn random_hex(n: usize) -> String {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; n];
    if ring::rand::SystemRandom::new().fill(&mut buf).is_err() {
        // Uniqueness, not secrecy, is what matters for boundaries and ids.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (t >> ((i % 16) * 8)) as u8 ^ (i as u8);
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// lettre TLS parameters from a `tls_config`, verifying against `server_name`
/// or the smarthost's host.
fn tls_parameters(tls: Option<&TlsConfig>, host: &str) -> Result<TlsParameters, NotifyError> {
    let default = TlsConfig::default();
    let tls = tls.unwrap_or(&default);
    let err = |m: String| NotifyError::permanent(format!("parse TLS configuration: {m}"));
    let read = |inline: Option<&str>, file: Option<&str>| -> Result<Option<Vec<u8>>, NotifyError> {
        match (inline, file) {
            (Some(t), _) if !t.is_empty() => Ok(Some(t.as_bytes().to_vec())),
            (_, Some(f)) if !f.is_empty() => std::fs::read(f)
                .map(Some)
                .map_err(|e| err(format!("reading {f:?}: {e}"))),
            _ => Ok(None),
        }
    };
    let domain = if tls.server_name.is_empty() {
        host.to_string()
    } else {
        tls.server_name.clone()
    };
    let mut b = TlsParameters::builder(domain);
    if let Some(ca) = read(Some(&tls.ca), Some(&tls.ca_file))? {
        b = b
            .add_root_certificate(Certificate::from_pem(&ca).map_err(|e| err(format!("CA: {e}")))?);
    }
    let cert = read(Some(&tls.cert), Some(&tls.cert_file))?;
    let key = read(Some(tls.key.expose()), Some(&tls.key_file))?;
    if let (Some(cert), Some(key)) = (cert, key) {
        b = b.identify_with(
            Identity::from_pem(&cert, &key).map_err(|e| err(format!("client certificate: {e}")))?,
        );
    }
    if tls.insecure_skip_verify {
        b = b.dangerous_accept_invalid_certs(true);
    }
    b.build_rustls().map_err(|e| err(e.to_string()))
}

impl Email {
    pub fn new(
        c: &EmailConfig,
        templates: Arc<NotificationTemplates>,
    ) -> Result<Self, NotifyError> {
        if c.smarthost.is_empty() {
            return Err(NotifyError::permanent("no SMTP smarthost set"));
        }
        let mut headers: BTreeMap<String, String> = c
            .headers
            .iter()
            .map(|(k, v)| (canonical_header(k), v.clone()))
            .collect();
        headers
            .entry("Subject".into())
            .or_insert_with(|| r#"{{ template "email.default.subject" . }}"#.into());
        headers.entry("To".into()).or_insert_with(|| c.to.clone());
        headers
            .entry("From".into())
            .or_insert_with(|| c.from.clone());
        Ok(Email {
            conf: c.clone(),
            headers,
            templates,
            hostname: hostname(),
        })
    }

    fn password(&self) -> Result<String, NotifyError> {
        if !self.conf.auth_password_file.is_empty() {
            return crate::http::read_secret_file(&self.conf.auth_password_file, "auth_password");
        }
        Ok(self.conf.auth_password.expose().to_string())
    }

    /// The whole message: headers, then the multipart body.
    fn message(&self, data: &NotificationData) -> Result<String, NotifyError> {
        let mut out = String::new();
        for (name, tmpl) in &self.headers {
            let v = self.templates.execute_text(tmpl, data).map_err(|e| {
                NotifyError::from(e).context(format!("execute {name:?} header template"))
            })?;
            // A template may not smuggle in further headers.
            let v = v.replace(['\r', '\n'], " ");
            let _ = write!(out, "{name}: {}\r\n", q_encode(&v));
        }
        if !self.headers.contains_key("Message-Id") {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let _ = write!(
                out,
                "Message-Id: <{nanos}.{}@{}>\r\n",
                u64::from_str_radix(&random_hex(8), 16).unwrap_or(0),
                self.hostname
            );
        }
        let boundary = random_hex(30);
        let date = jiff::Zoned::now().strftime("%a, %d %b %Y %H:%M:%S %z");
        let _ = write!(out, "Date: {date}\r\n");
        let _ = write!(
            out,
            "Content-Type: multipart/alternative;  boundary={boundary}\r\n"
        );
        out.push_str("MIME-Version: 1.0\r\n\r\n");
        let mut parts = Vec::new();
        if !self.conf.text.is_empty() {
            let body = self
                .templates
                .execute_text(&self.conf.text, data)
                .map_err(|e| NotifyError::from(e).context("execute text template"))?;
            parts.push(("text/plain; charset=UTF-8", body));
        }
        if !self.conf.html.is_empty() {
            let body = self
                .templates
                .execute_html(&self.conf.html, data)
                .map_err(|e| NotifyError::from(e).context("execute html template"))?;
            parts.push(("text/html; charset=UTF-8", body));
        }
        for (i, (ct, body)) in parts.iter().enumerate() {
            if i > 0 {
                out.push_str("\r\n");
            }
            let _ = write!(
                out,
                "--{boundary}\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: {ct}\r\n\r\n{}",
                quoted_printable(body)
            );
        }
        if parts.is_empty() {
            let _ = write!(out, "--{boundary}--\r\n");
        } else {
            let _ = write!(out, "\r\n--{boundary}--\r\n");
        }
        Ok(out)
    }

    async fn deliver(
        &self,
        conn: &mut AsyncSmtpConnection,
        hello: &ClientId,
        data: &NotificationData,
    ) -> Result<(), NotifyError> {
        let c = &self.conf;
        let host = &c.smarthost.host;
        if c.require_tls.unwrap_or(true) && !conn.is_encrypted() {
            if !conn.server_info().supports_feature(Extension::StartTls) {
                return Err(NotifyError::transient(format!(
                    "'require_tls' is true (default) but {:?} does not advertise the STARTTLS extension",
                    c.smarthost.to_string()
                )));
            }
            let params = tls_parameters(c.tls_config.as_ref(), host)?;
            conn.starttls(params, hello)
                .await
                .map_err(|e| NotifyError::transient(format!("send STARTTLS command: {e}")))?;
        }
        if !c.auth_username.is_empty() {
            let info = conn.server_info();
            let mech = [Mechanism::Plain, Mechanism::Login]
                .into_iter()
                .find(|m| info.supports_auth_mechanism(*m));
            match mech {
                Some(m) => {
                    let password = self.password()?;
                    if password.is_empty() {
                        return Err(NotifyError::transient(format!(
                            "find auth mechanism: missing password for {m} auth mechanism"
                        )));
                    }
                    let creds = Credentials::new(c.auth_username.clone(), password);
                    conn.auth(&[m], &creds)
                        .await
                        .map_err(|e| NotifyError::transient(format!("{m} auth: {e}")))?;
                }
                None if !c.auth_secret.is_empty() || !c.auth_secret_file.is_empty() => {
                    return Err(NotifyError::permanent(
                        "find auth mechanism: CRAM-MD5 is not supported by Watchfire and the server offers neither PLAIN nor LOGIN",
                    ));
                }
                // Like Alertmanager, no offered mechanism means no authentication.
                None => {}
            }
        }
        let t = |s: &str| self.templates.execute_text(s, data);
        let from =
            t(&c.from).map_err(|e| NotifyError::from(e).context("execute 'from' template"))?;
        let to = t(&c.to).map_err(|e| NotifyError::from(e).context("execute 'to' template"))?;
        let from = parse_address_list(&from)
            .map_err(|e| NotifyError::permanent(format!("parse 'from' addresses: {e}")))?;
        if from.len() != 1 {
            return Err(NotifyError::permanent(format!(
                "must be exactly one 'from' address (got: {})",
                from.len()
            )));
        }
        let to = parse_address_list(&to)
            .map_err(|e| NotifyError::permanent(format!("parse 'to' addresses: {e}")))?;
        let envelope = Envelope::new(from.into_iter().next(), to)
            .map_err(|e| NotifyError::permanent(format!("envelope: {e}")))?;
        let message = self.message(data)?;
        conn.send(&envelope, message.as_bytes())
            .await
            .map_err(|e| NotifyError::transient(format!("send message: {e}")))?;
        Ok(())
    }
}

impl Notifier for Email {
    const KIND: &'static str = "email";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        group_key(data)?;
        let c = &self.conf;
        let host = c.smarthost.host.clone();
        let port: u16 = c.smarthost.port.parse().map_err(|_| {
            NotifyError::permanent(format!("invalid smarthost port {:?}", c.smarthost.port))
        })?;
        let implicit = c.force_implicit_tls.unwrap_or(port == 465);
        let tls = if implicit {
            Some(tls_parameters(c.tls_config.as_ref(), &host)?)
        } else {
            None
        };
        let hello_name = if c.hello.is_empty() {
            "localhost"
        } else {
            &c.hello
        };
        let hello = ClientId::Domain(hello_name.to_string());
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (host.as_str(), port),
            Some(CONNECT_TIMEOUT),
            &hello,
            tls,
            None,
        )
        .await
        .map_err(|e| NotifyError::transient(format!("establish connection to server: {e}")))?;
        let result = self.deliver(&mut conn, &hello, data).await;
        if result.is_ok() {
            if let Err(e) = conn.quit().await {
                tracing::warn!(error = %e, "failed to close SMTP connection");
            }
        } else {
            conn.abort().await;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lists() {
        let l = parse_address_list(r#""Ops, Team" <ops@example.org>, dev@example.org"#);
        let l: Vec<String> = l
            .unwrap_or_default()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(l, vec!["ops@example.org", "dev@example.org"]);
        assert!(parse_address_list("").is_err());
        assert!(parse_address_list("not an address").is_err());
    }

    #[test]
    fn canonical_names() {
        assert_eq!(canonical_header("x-custom-HEADER"), "X-Custom-Header");
        assert_eq!(canonical_header("subject"), "Subject");
    }
}
