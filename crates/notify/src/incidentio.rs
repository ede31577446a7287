//! incident.io: the webhook message (version 1) posted to an HTTP alert source,
//! authenticated by the alert source token or by `http_config`.

use crate::http::{HttpSender, JSON, Reply, encode_json, read_secret_file, truncate_body};
use crate::webhook::message;
use crate::{Notifier, NotifyError};
use std::sync::Arc;
use watchfire_alertmanager_config::IncidentioConfig;
use watchfire_template::{NotificationData, NotificationTemplates};

/// The largest payload incident.io accepts, in bytes.
const MAX_PAYLOAD_BYTES: usize = 512 * 1024;

pub(crate) struct Incidentio {
    conf: IncidentioConfig,
    http: HttpSender,
}

impl Incidentio {
    pub fn new(
        c: &IncidentioConfig,
        _templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        if c.url.is_none() && c.url_file.is_empty() {
            return Err(NotifyError::permanent(
                "one of url or url_file must be configured",
            ));
        }
        Ok(Incidentio {
            conf: c.clone(),
            http: HttpSender::new(c.http_config.as_ref(), client)?,
        })
    }

    /// The encoded message; when it is too large for incident.io, only the first
    /// alert is kept (one incident.io alert is made per group anyway).
    fn body(&self, data: &NotificationData) -> Result<Vec<u8>, NotifyError> {
        let mut msg = message(data, self.conf.max_alerts, "1")?;
        let body = encode_json(&msg)?;
        if body.len() <= MAX_PAYLOAD_BYTES || msg.alerts.len() <= 1 {
            return Ok(body);
        }
        msg.alerts.truncate(1);
        let smaller = encode_json(&msg)?;
        if smaller.len() <= MAX_PAYLOAD_BYTES {
            tracing::warn!(
                original_size = body.len(),
                final_size = smaller.len(),
                "kept only the first alert of an incident.io payload over its size limit"
            );
        } else {
            tracing::error!(
                original_size = body.len(),
                final_size = smaller.len(),
                "incident.io payload is over its size limit even with one alert; sending anyway"
            );
        }
        Ok(smaller)
    }

    async fn post(&self, url: &str, body: Vec<u8>) -> Result<Reply, NotifyError> {
        let c = &self.conf;
        let token = if !c.alert_source_token_file.is_empty() {
            read_secret_file(&c.alert_source_token_file, "alert_source_token_file")?
        } else {
            c.alert_source_token.expose().to_string()
        };
        if token.is_empty() {
            self.http
                .send(reqwest::Method::POST, url, JSON, body, None)
                .await
        } else {
            // The alert source token replaces any configured authorization.
            self.http
                .send_with_auth(reqwest::Method::POST, url, body, &format!("Bearer {token}"))
                .await
        }
    }
}

/// Alertmanager's check for incident.io: 2xx is success, 5xx and 429 are
/// retried; the details are the `message`, `error` and `errors` of a JSON error
/// body (nothing when the body is not JSON).
fn check(reply: &Reply) -> Result<(), NotifyError> {
    let code = reply.status;
    if (200..300).contains(&code) {
        return Ok(());
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct ErrorBody {
        message: String,
        error: String,
        errors: Vec<String>,
    }
    let mut message = format!("unexpected status code {code}");
    if let Ok(e) = serde_json::from_slice::<ErrorBody>(&reply.body) {
        let mut parts: Vec<String> = Vec::new();
        if !e.message.is_empty() {
            parts.push(e.message);
        }
        if !e.error.is_empty() {
            parts.push(e.error);
        }
        if !e.errors.is_empty() {
            parts.push(e.errors.join(", "));
        }
        if !parts.is_empty() {
            message.push_str(": ");
            message.push_str(&truncate_body(parts.join(": ").as_bytes()));
        }
    }
    Err(NotifyError {
        retry: code / 100 == 5 || code == 429,
        message,
    })
}

impl Notifier for Incidentio {
    const KIND: &'static str = "incidentio";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        let body = self.body(data)?;
        let url = match &self.conf.url {
            Some(u) => u.as_str().to_string(),
            None => read_secret_file(&self.conf.url_file, "url_file")?,
        };
        let timeout = self.conf.timeout;
        let reply = if timeout.0 > 0 {
            tokio::time::timeout(timeout.to_std(), self.post(&url, body))
                .await
                .map_err(|_| {
                    NotifyError::transient(format!(
                        "configured incident.io timeout reached ({timeout})"
                    ))
                })??
        } else {
            self.post(&url, body).await?
        };
        check(&reply)
    }
}
