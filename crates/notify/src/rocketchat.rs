//! Rocket.Chat: `chat.postMessage` of the REST API with one attachment,
//! authenticated by the `X-Auth-Token` / `X-User-Id` headers.

use crate::http::{HttpSender, JSON, check_status, encode_json, truncate_body};
use crate::util::{group_key, truncate_runes};
use crate::{Notifier, NotifyError};
use serde::Serialize;
use std::sync::Arc;
use watchfire_alertmanager_config::{HttpHeader, RocketchatConfig};
use watchfire_template::{NotificationData, NotificationTemplates};

/// Rocket.Chat's limit on an attachment title, in characters (as Alertmanager).
const MAX_TITLE_RUNES: usize = 1024;

pub(crate) struct Rocketchat {
    conf: RocketchatConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
    url: String,
}

#[derive(Serialize)]
struct PostMessage {
    #[serde(skip_serializing_if = "String::is_empty")]
    channel: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    emoji: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    avatar: String,
    attachments: [Attachment; 1],
}

#[derive(Serialize)]
struct Attachment {
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    title_link: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    image_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    thumb_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    color: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<Field>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    actions: Vec<Action>,
}

#[derive(Serialize)]
struct Field {
    short: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    value: String,
}

/// A button; the two flags are always sent (false), as Alertmanager's struct does.
#[derive(Serialize)]
struct Action {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    url: String,
    is_webview: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    msg: String,
    msg_in_chat_window: bool,
}

/// A header set to exactly this value or the content of this file.
fn header(value: Option<&str>, file: &str) -> HttpHeader {
    let mut h = HttpHeader::default();
    match value {
        Some(v) => h
            .secrets
            .push(watchfire_alertmanager_config::Secret::new(v)),
        None => h.files.push(file.to_string()),
    }
    h
}

impl Rocketchat {
    pub fn new(
        c: &RocketchatConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        let Some(api_url) = &c.api_url else {
            return Err(NotifyError::permanent("no Rocketchat API URL set"));
        };
        if c.token.is_none() && c.token_file.is_empty() {
            return Err(NotifyError::permanent(
                "no global Rocketchat Token set either inline or in a file",
            ));
        }
        if c.token_id.is_none() && c.token_id_file.is_empty() {
            return Err(NotifyError::permanent(
                "no global Rocketchat TokenID set either inline or in a file",
            ));
        }
        // The credentials ride along as headers that replace any configured ones
        // of the same name (files are re-read per request).
        let mut http_config = c.http_config.clone().unwrap_or_default();
        http_config.http_headers.retain(|k, _| {
            !k.eq_ignore_ascii_case("X-Auth-Token") && !k.eq_ignore_ascii_case("X-User-Id")
        });
        http_config.http_headers.insert(
            "X-Auth-Token".into(),
            header(c.token.as_ref().map(|s| s.expose()), &c.token_file),
        );
        http_config.http_headers.insert(
            "X-User-Id".into(),
            header(c.token_id.as_ref().map(|s| s.expose()), &c.token_id_file),
        );
        // Go's `URL.JoinPath`: the endpoint goes below the URL's path.
        let mut url = reqwest::Url::parse(api_url.as_str())
            .map_err(|e| NotifyError::permanent(format!("invalid Rocketchat api_url: {e}")))?;
        let path = format!(
            "{}/api/v1/chat.postMessage",
            url.path().trim_end_matches('/')
        );
        url.set_path(&path);
        Ok(Rocketchat {
            conf: c.clone(),
            templates,
            http: HttpSender::new(Some(&http_config), client)?,
            url: url.to_string(),
        })
    }

    fn message(&self, data: &NotificationData) -> Result<PostMessage, NotifyError> {
        let c = &self.conf;
        let t = |s: &str| self.templates.execute_text(s, data);
        let (title, cut) = truncate_runes(&t(&c.title)?, MAX_TITLE_RUNES);
        if cut {
            tracing::warn!(max_runes = MAX_TITLE_RUNES, "truncated Rocket.Chat title");
        }
        let mut fields = Vec::with_capacity(c.fields.len());
        for f in &c.fields {
            fields.push(Field {
                short: f.short.unwrap_or(c.short_fields),
                title: t(&f.title)?,
                value: t(&f.value)?,
            });
        }
        let mut actions = Vec::with_capacity(c.actions.len());
        for a in &c.actions {
            actions.push(Action {
                // Rocket.Chat only has buttons.
                kind: "button",
                text: t(&a.text)?,
                url: t(&a.url)?,
                is_webview: false,
                msg: t(&a.msg)?,
                msg_in_chat_window: false,
            });
        }
        Ok(PostMessage {
            channel: t(&c.channel)?,
            emoji: t(&c.emoji)?,
            avatar: t(&c.icon_url)?,
            attachments: [Attachment {
                title,
                title_link: t(&c.title_link)?,
                text: t(&c.text)?,
                image_url: t(&c.image_url)?,
                thumb_url: t(&c.thumb_url)?,
                color: t(&c.color)?,
                fields,
                actions,
            }],
        })
    }
}

impl Notifier for Rocketchat {
    const KIND: &'static str = "rocketchat";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        group_key(data)?;
        let msg = self.message(data)?;
        let reply = self
            .http
            .send(
                reqwest::Method::POST,
                &self.url,
                JSON,
                encode_json(&msg)?,
                None,
            )
            .await?;
        let channel = format!("channel {:?}", msg.channel);
        check_status(&reply, &[]).map_err(|e| e.context(&channel))?;
        // A 2xx answer still reports failures in its JSON body.
        #[derive(serde::Deserialize)]
        struct Resp {
            #[serde(default)]
            success: bool,
            #[serde(default)]
            error: String,
        }
        match serde_json::from_slice::<Resp>(&reply.body) {
            Ok(r) if r.success => Ok(()),
            Ok(r) => Err(NotifyError::permanent(format!(
                "{channel}: error response from Rocketchat: {}",
                r.error
            ))),
            Err(e) => Err(NotifyError::transient(format!(
                "{channel}: could not unmarshal JSON response {:?}: {e}",
                truncate_body(&reply.body)
            ))),
        }
    }
}
