//! Slack: incoming-webhook or `chat.postMessage` JSON with one attachment.

use crate::http::{HttpSender, Reply, check_status, encode_json, read_secret_file};
use crate::util::truncate_runes;
use crate::{Notifier, NotifyError};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use watchfire_alertmanager_config::SlackConfig;
use watchfire_template::{NotificationData, NotificationTemplates};

/// Slack's limit on attachment titles, in characters.
const MAX_TITLE_RUNES: usize = 1024;

pub(crate) struct Slack {
    conf: SlackConfig,
    templates: Arc<NotificationTemplates>,
    timeout: Option<Duration>,
    http: HttpSender,
}

#[derive(Serialize)]
struct Request {
    #[serde(skip_serializing_if = "String::is_empty")]
    channel: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    icon_emoji: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    icon_url: String,
    #[serde(skip_serializing_if = "is_false")]
    link_names: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    text: String,
    attachments: Vec<Attachment>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Serialize)]
struct Attachment {
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    title_link: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pretext: String,
    text: String,
    fallback: String,
    callback_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<Field>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    actions: Vec<Action>,
    #[serde(skip_serializing_if = "String::is_empty")]
    image_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    thumb_url: String,
    footer: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    color: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mrkdwn_in: Vec<String>,
}

#[derive(Serialize)]
struct Field {
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    value: String,
    short: bool,
}

#[derive(Serialize)]
struct Action {
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    style: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirm: Option<Confirm>,
}

#[derive(Serialize)]
struct Confirm {
    #[serde(skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    ok_text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    dismiss_text: String,
}

impl Slack {
    pub fn new(
        c: &SlackConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        if c.api_url.is_none() && c.api_url_file.is_none() {
            return Err(NotifyError::permanent(
                "no Slack API URL nor App token set either inline or in a file",
            ));
        }
        if c.update_message {
            tracing::warn!("slack update_message is not supported; new messages are posted");
        }
        Ok(Slack {
            conf: c.clone(),
            templates,
            timeout: c.timeout.map(|d| d.to_std()),
            http: HttpSender::new(c.http_config.as_ref(), client)?,
        })
    }

    fn request(&self, data: &NotificationData) -> Result<Request, NotifyError> {
        let t = |s: &str| self.templates.execute_text(s, data);
        let c = &self.conf;
        let (title, cut) = truncate_runes(&t(&c.title)?, MAX_TITLE_RUNES);
        if cut {
            tracing::warn!(max_runes = MAX_TITLE_RUNES, "truncated Slack title");
        }
        let mrkdwn_in = if c.mrkdwn_in.is_empty() {
            vec!["fallback".into(), "pretext".into(), "text".into()]
        } else {
            c.mrkdwn_in.clone()
        };
        let fields = c
            .fields
            .iter()
            .map(|f| {
                Ok(Field {
                    title: t(&f.title)?,
                    value: t(&f.value)?,
                    short: f.short.unwrap_or(c.short_fields),
                })
            })
            .collect::<Result<Vec<_>, NotifyError>>()?;
        let actions = c
            .actions
            .iter()
            .map(|a| {
                Ok(Action {
                    kind: t(&a.kind)?,
                    text: t(&a.text)?,
                    url: t(&a.url)?,
                    style: t(&a.style)?,
                    name: t(&a.name)?,
                    value: t(&a.value)?,
                    confirm: match &a.confirm {
                        Some(cf) => Some(Confirm {
                            text: t(&cf.text)?,
                            title: t(&cf.title)?,
                            ok_text: t(&cf.ok_text)?,
                            dismiss_text: t(&cf.dismiss_text)?,
                        }),
                        None => None,
                    },
                })
            })
            .collect::<Result<Vec<_>, NotifyError>>()?;
        let att = Attachment {
            title,
            title_link: t(&c.title_link)?,
            pretext: t(&c.pretext)?,
            text: t(&c.text)?,
            fallback: t(&c.fallback)?,
            callback_id: t(&c.callback_id)?,
            fields,
            actions,
            image_url: t(&c.image_url)?,
            thumb_url: t(&c.thumb_url)?,
            footer: t(&c.footer)?,
            color: t(&c.color)?,
            mrkdwn_in,
        };
        Ok(Request {
            channel: t(&c.channel)?,
            username: t(&c.username)?,
            icon_emoji: t(&c.icon_emoji)?,
            icon_url: t(&c.icon_url)?,
            link_names: c.link_names,
            text: t(&c.message_text)?,
            attachments: vec![att],
        })
    }
}

/// Slack answers 200 to some failures: a webhook says `ok` in plain text, the
/// Web API `{"ok": true}` in JSON; anything else is an error (not retryable,
/// except an unreadable JSON body).
fn check_slack_body(reply: &Reply) -> Result<(), NotifyError> {
    if reply.content_type.starts_with("application/json") {
        #[derive(serde::Deserialize)]
        struct Resp {
            #[serde(default)]
            ok: bool,
            #[serde(default)]
            error: String,
        }
        let r: Resp = serde_json::from_slice(&reply.body).map_err(|e| {
            NotifyError::transient(format!(
                "could not unmarshal JSON response {:?}: {e}",
                crate::http::truncate_body(&reply.body)
            ))
        })?;
        if !r.ok {
            return Err(NotifyError::permanent(format!(
                "error response from Slack: {}",
                r.error
            )));
        }
        return Ok(());
    }
    if reply.body != b"ok" {
        return Err(NotifyError::permanent(format!(
            "received an error response from Slack: {}",
            crate::http::truncate_body(&reply.body)
        )));
    }
    Ok(())
}

impl Notifier for Slack {
    const KIND: &'static str = "slack";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        let req = self.request(data)?;
        let url = match (&self.conf.api_url, &self.conf.api_url_file) {
            (Some(u), _) => u.expose().to_string(),
            (None, Some(f)) => read_secret_file(f, "api_url_file")?,
            (None, None) => String::new(),
        };
        let body = encode_json(&req)?;
        let reply = self
            .http
            .send(
                reqwest::Method::POST,
                &url,
                "application/json",
                body,
                self.timeout,
            )
            .await?;
        let channel = &req.channel;
        check_status(&reply, &[]).map_err(|e| e.context(format!("channel {channel:?}")))?;
        check_slack_body(&reply).map_err(|e| e.context(format!("channel {channel:?}")))
    }
}
