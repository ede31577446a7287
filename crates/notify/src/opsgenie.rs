//! Opsgenie: Alert API v2 (create, close, and optional message/description
//! updates), keyed by the hashed group key as alias.

use crate::http::{HttpSender, check_status, encode_json, read_secret_file};
use crate::util::{group_key, hash_key, is_firing, truncate_runes};
use crate::{Notifier, NotifyError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use watchfire_alertmanager_config::OpsgenieConfig;
use watchfire_template::{NotificationData, NotificationTemplates};

/// Opsgenie's limit on alert messages, in characters.
const MAX_MESSAGE_RUNES: usize = 130;

pub(crate) struct Opsgenie {
    conf: OpsgenieConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
}

#[derive(Serialize)]
struct Create {
    alias: String,
    message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    details: BTreeMap<String, String>,
    source: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    responders: Vec<Responder>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    note: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    priority: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    entity: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    actions: Vec<String>,
}

#[derive(Serialize, PartialEq)]
struct Responder {
    #[serde(skip_serializing_if = "String::is_empty")]
    id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    username: String,
    #[serde(rename = "type")]
    kind: String,
}

/// Splits on `sep`, dropping empty parts (Alertmanager's `safeSplit`).
fn safe_split(s: &str, sep: char) -> Vec<String> {
    s.trim()
        .split(sep)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// One request to make: method, path below the API URL, JSON body.
type Call = (reqwest::Method, String, Vec<u8>);

impl Opsgenie {
    pub fn new(
        c: &OpsgenieConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        if c.api_key.is_none() && c.api_key_file.is_none() {
            return Err(NotifyError::permanent(
                "no global OpsGenie API Key set either inline or in a file",
            ));
        }
        Ok(Opsgenie {
            conf: c.clone(),
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
        })
    }

    fn calls(&self, data: &NotificationData) -> Result<Vec<Call>, NotifyError> {
        let key = group_key(data)?;
        let t = |s: &str| self.templates.execute_text(s, data);
        let c = &self.conf;
        let alias = hash_key(key);
        if !is_firing(data) {
            #[derive(Serialize)]
            struct Close {
                source: String,
            }
            let body = encode_json(&Close {
                source: t(&c.source)?,
            })?;
            return Ok(vec![(
                reqwest::Method::POST,
                format!("v2/alerts/{alias}/close?identifierType=alias"),
                body,
            )]);
        }
        let mut details = data.common_labels.clone();
        for (k, v) in &c.details {
            details.insert(k.clone(), t(v)?);
        }
        let (message, cut) = truncate_runes(&t(&c.message)?, MAX_MESSAGE_RUNES);
        if cut {
            tracing::warn!(max_runes = MAX_MESSAGE_RUNES, "truncated Opsgenie message");
        }
        let mut responders = Vec::new();
        for r in &c.responders {
            let r = Responder {
                id: t(&r.id)?,
                name: t(&r.name)?,
                username: t(&r.username)?,
                kind: t(&r.kind)?,
            };
            if r.id.is_empty() && r.name.is_empty() && r.username.is_empty() && r.kind.is_empty() {
                // Empty after templating: lets responders come from labels.
                continue;
            }
            if r.kind == "teams" {
                for team in safe_split(&r.name, ',') {
                    responders.push(Responder {
                        id: String::new(),
                        name: team,
                        username: String::new(),
                        kind: "team".into(),
                    });
                }
                continue;
            }
            responders.push(r);
        }
        let create = Create {
            alias: alias.clone(),
            message,
            description: t(&c.description)?,
            details,
            source: t(&c.source)?,
            responders,
            tags: safe_split(&t(&c.tags)?, ','),
            note: t(&c.note)?,
            priority: t(&c.priority)?,
            entity: t(&c.entity)?,
            actions: safe_split(&t(&c.actions)?, ','),
        };
        let mut calls = vec![(
            reqwest::Method::POST,
            "v2/alerts".to_string(),
            encode_json(&create)?,
        )];
        if c.update_alerts {
            #[derive(Serialize)]
            struct UpdateMessage<'a> {
                #[serde(skip_serializing_if = "str::is_empty")]
                message: &'a str,
            }
            #[derive(Serialize)]
            struct UpdateDescription<'a> {
                #[serde(skip_serializing_if = "str::is_empty")]
                description: &'a str,
            }
            calls.push((
                reqwest::Method::PUT,
                format!("v2/alerts/{alias}/message?identifierType=alias"),
                encode_json(&UpdateMessage {
                    message: &create.message,
                })?,
            ));
            calls.push((
                reqwest::Method::PUT,
                format!("v2/alerts/{alias}/description?identifierType=alias"),
                encode_json(&UpdateDescription {
                    description: &create.description,
                })?,
            ));
        }
        Ok(calls)
    }
}

impl Notifier for Opsgenie {
    const KIND: &'static str = "opsgenie";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        let calls = self.calls(data)?;
        let key = match (&self.conf.api_key, &self.conf.api_key_file) {
            (Some(k), _) => k.expose().to_string(),
            (None, Some(f)) => read_secret_file(f, "api_key_file")?,
            (None, None) => String::new(),
        };
        let key = self.templates.execute_text(&key, data)?;
        let base = self
            .conf
            .api_url
            .as_ref()
            .map(|u| u.as_str())
            .unwrap_or("https://api.opsgenie.com/");
        let base = if base.ends_with('/') {
            base.to_string()
        } else {
            format!("{base}/")
        };
        // The key goes in as a header of its own, so the shared sender's
        // http_config authentication would clash; Opsgenie uses GenieKey only.
        let auth = format!("GenieKey {key}");
        for (method, path, body) in calls {
            let reply = self
                .http
                .send_with_auth(method, &format!("{base}{path}"), body, &auth)
                .await?;
            check_status(&reply, &[])?;
        }
        Ok(())
    }
}
