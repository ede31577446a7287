//! PagerDuty: Events API v2 (`routing_key`) and the v1 generic events API
//! (`service_key`).

use crate::http::{HttpSender, encode_json, read_secret_file};
use crate::util::{group_key, hash_key, is_firing, truncate_runes};
use crate::{Notifier, NotifyError};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use watchfire_alertmanager_config::PagerdutyConfig;
use watchfire_template::{NotificationData, NotificationTemplates};

/// PagerDuty rejects events above 512 KB; custom details are dropped then.
const MAX_EVENT_SIZE: usize = 512_000;
/// v1 `description` and v2 `summary` limit, in characters.
const MAX_SUMMARY_RUNES: usize = 1024;
/// Alertmanager's v1 endpoint (v1 ignores the configured v2 URL).
const V1_URL: &str = "https://events.pagerduty.com/generic/2010-04-15/create_event.json";
/// The global default `pagerduty_url`.
const V2_DEFAULT_URL: &str = "https://events.pagerduty.com/v2/enqueue";

pub(crate) struct Pagerduty {
    conf: PagerdutyConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
}

/// Alertmanager's `pagerDutyMessage`, shared by both API versions (so v1 events
/// carry an empty `event_action` and a null `payload`, as Alertmanager's do).
#[derive(Serialize)]
struct Message {
    #[serde(skip_serializing_if = "String::is_empty")]
    routing_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    service_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    dedup_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    incident_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    event_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    event_action: String,
    payload: Option<Payload>,
    #[serde(skip_serializing_if = "String::is_empty")]
    client: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    client_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<Image>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<Link>,
}

#[derive(Serialize)]
struct Payload {
    summary: String,
    source: String,
    severity: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    class: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    component: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    group: String,
    #[serde(skip_serializing_if = "Map::is_empty")]
    custom_details: Map<String, Value>,
}

#[derive(Serialize)]
struct Image {
    src: String,
    alt: String,
    href: String,
}

#[derive(Serialize)]
struct Link {
    href: String,
    text: String,
}

/// Alertmanager's default details, merged in for keys the user did not set.
const DEFAULT_DETAILS: [(&str, &str); 4] = [
    (
        "firing",
        r#"{{ template "pagerduty.default.instances" .Alerts.Firing }}"#,
    ),
    (
        "resolved",
        r#"{{ template "pagerduty.default.instances" .Alerts.Resolved }}"#,
    ),
    ("num_firing", "{{ .Alerts.Firing | len }}"),
    ("num_resolved", "{{ .Alerts.Resolved | len }}"),
];

impl Pagerduty {
    pub fn new(
        c: &PagerdutyConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        let mut conf = c.clone();
        for (k, v) in DEFAULT_DETAILS {
            conf.details
                .entry(k.to_string())
                .or_insert_with(|| Value::String(v.to_string()));
        }
        if conf.source.is_empty() {
            conf.source = conf.client.clone();
        }
        if conf.severity.is_empty() {
            conf.severity = "error".into();
        }
        Ok(Pagerduty {
            conf,
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
        })
    }

    fn is_v1(&self) -> bool {
        self.conf.service_key.is_some() || self.conf.service_key_file.is_some()
    }

    /// Templates every string (keys too) of a details value. A rendered string
    /// that is JSON other than a string (say `toJson` output, or a number)
    /// becomes that structured value, like Alertmanager's `DeepCopyWithTemplate`.
    fn render(&self, v: &Value, data: &NotificationData) -> Result<Value, NotifyError> {
        Ok(match v {
            Value::String(s) => {
                let out = self.templates.execute_text(s, data)?;
                match serde_json::from_str::<Value>(out.trim()) {
                    Ok(parsed) if !parsed.is_string() && !out.trim().is_empty() => parsed,
                    _ => Value::String(out),
                }
            }
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.render(x, data))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    out.insert(self.templates.execute_text(k, data)?, self.render(x, data)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    fn details(&self, data: &NotificationData) -> Result<Map<String, Value>, NotifyError> {
        let mut out = Map::new();
        for (k, v) in &self.conf.details {
            let r = self
                .render(v, data)
                .map_err(|e| e.context(format!("details {k:?}")))?;
            out.insert(k.clone(), r);
        }
        Ok(out)
    }

    fn key(
        &self,
        inline: Option<&str>,
        file: Option<&str>,
        what: &str,
    ) -> Result<String, NotifyError> {
        match (inline, file) {
            (Some(k), _) if !k.is_empty() => Ok(k.to_string()),
            (_, Some(f)) => read_secret_file(f, what),
            _ => Ok(String::new()),
        }
    }

    fn message(&self, data: &NotificationData) -> Result<Message, NotifyError> {
        let key = group_key(data)?;
        let t = |s: &str| self.templates.execute_text(s, data);
        let c = &self.conf;
        let trigger = is_firing(data);
        let details = self.details(data)?;
        let (summary, cut) = truncate_runes(&t(&c.description)?, MAX_SUMMARY_RUNES);
        if cut {
            tracing::warn!(max_runes = MAX_SUMMARY_RUNES, "truncated PagerDuty summary");
        }
        let mut msg = Message {
            routing_key: String::new(),
            service_key: String::new(),
            dedup_key: String::new(),
            incident_key: String::new(),
            event_type: String::new(),
            description: String::new(),
            event_action: String::new(),
            payload: None,
            client: String::new(),
            client_url: String::new(),
            details: None,
            images: Vec::new(),
            links: Vec::new(),
        };
        if self.is_v1() {
            let sk = self.key(
                c.service_key.as_ref().map(|s| s.expose()),
                c.service_key_file.as_deref(),
                "service_key",
            )?;
            msg.service_key = t(&sk)?;
            if msg.service_key.is_empty() {
                return Err(NotifyError::permanent("service key cannot be empty"));
            }
            msg.event_type = if trigger { "trigger" } else { "resolve" }.into();
            msg.incident_key = hash_key(key);
            msg.description = summary;
            msg.details = Some(details);
            if trigger {
                msg.client = t(&c.client)?;
                msg.client_url = t(&c.client_url)?;
            }
        } else {
            let rk = self.key(
                c.routing_key.as_ref().map(|s| s.expose()),
                c.routing_key_file.as_deref(),
                "routing_key",
            )?;
            msg.routing_key = t(&rk)?;
            if msg.routing_key.is_empty() {
                return Err(NotifyError::permanent("routing key cannot be empty"));
            }
            msg.client = t(&c.client)?;
            msg.client_url = t(&c.client_url)?;
            msg.event_action = if trigger { "trigger" } else { "resolve" }.into();
            msg.dedup_key = hash_key(key);
            msg.payload = Some(Payload {
                summary,
                source: t(&c.source)?,
                severity: t(&c.severity)?,
                class: t(&c.class)?,
                component: t(&c.component)?,
                group: t(&c.group)?,
                custom_details: details,
            });
            for i in &c.images {
                let img = Image {
                    src: t(&i.src)?,
                    alt: t(&i.alt)?,
                    href: t(&i.href)?,
                };
                if !img.src.is_empty() {
                    msg.images.push(img);
                }
            }
            for l in &c.links {
                let link = Link {
                    href: t(&l.href)?,
                    text: t(&l.text)?,
                };
                if !link.href.is_empty() {
                    msg.links.push(link);
                }
            }
        }
        Ok(msg)
    }
}

/// The encoded event; when over PagerDuty's size limit the custom details are
/// replaced by an explanation, as Alertmanager does.
fn encode(mut msg: Message) -> Result<Vec<u8>, NotifyError> {
    let body = encode_json(&msg)?;
    if body.len() <= MAX_EVENT_SIZE {
        return Ok(body);
    }
    tracing::warn!(
        size = body.len(),
        limit = MAX_EVENT_SIZE,
        "PagerDuty event too large; custom details removed"
    );
    let mut note = Map::new();
    note.insert(
        "error".into(),
        Value::String(
            "Custom details have been removed because the original event exceeds the maximum size of 512kB"
                .into(),
        ),
    );
    match &mut msg.payload {
        Some(p) => p.custom_details = note,
        None => msg.details = Some(note),
    }
    encode_json(&msg)
}

impl Notifier for Pagerduty {
    const KIND: &'static str = "pagerduty";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        let v1 = self.is_v1();
        let body = encode(self.message(data)?)?;
        let url = self.conf.url.as_ref().map(|u| u.as_str()).unwrap_or("");
        let url = if v1 && (url.is_empty() || url == V2_DEFAULT_URL) {
            V1_URL
        } else if url.is_empty() {
            V2_DEFAULT_URL
        } else {
            url
        };
        let reply = self
            .http
            .send(reqwest::Method::POST, url, "application/json", body, None)
            .await
            .map_err(|e| e.context("failed to post message to PagerDuty"))?;
        // v1 signals rate limiting with 403, v2 with 429 (retried everywhere).
        let extra: &[u16] = if v1 { &[403] } else { &[] };
        crate::http::check_status(&reply, extra).map_err(|mut e| {
            if reply.status == 400
                && let Some(d) = error_details(&reply.body)
            {
                e.message = format!("unexpected status code 400: {d}");
            }
            e
        })
    }
}

/// PagerDuty's 400 answers carry `{"message": ..., "errors": [...]}`.
fn error_details(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct R {
        #[serde(default)]
        message: String,
        #[serde(default)]
        errors: Vec<String>,
    }
    let r: R = serde_json::from_slice(body).ok()?;
    Some(format!("{}: {}", r.message, r.errors.join(",")))
}
