//! Mattermost: an incoming-webhook post with one attachment built from the
//! config's fields, or the configured attachments.

use crate::http::{HttpSender, JSON, check_status, encode_json, read_secret_file};
use crate::util::{group_key, truncate_runes};
use crate::{Notifier, NotifyError};
use serde::Serialize;
use std::sync::Arc;
use watchfire_alertmanager_config::{MattermostAttachment, MattermostConfig, MattermostField};
use watchfire_template::{NotificationData, NotificationTemplates, TemplateError};

/// Mattermost's limit on a post's text, in characters.
const MAX_TEXT_RUNES: usize = 16383;

pub(crate) struct Mattermost {
    conf: MattermostConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
}

#[derive(Serialize)]
struct Post {
    #[serde(skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    channel: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    icon_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    icon_emoji: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<MattermostAttachment>,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    props: Option<Props>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<Priority>,
}

#[derive(Serialize)]
struct Props {
    card: String,
}

#[derive(Serialize)]
struct Priority {
    priority: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    requested_ack: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    persistent_notifications: bool,
}

impl Mattermost {
    pub fn new(
        c: &MattermostConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        if c.webhook_url.is_none() && c.webhook_url_file.is_empty() {
            return Err(NotifyError::permanent(
                "missing webhook_url or webhook_url_file on mattermost_config",
            ));
        }
        Ok(Mattermost {
            conf: c.clone(),
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
        })
    }

    fn post(&self, data: &NotificationData) -> Result<Post, NotifyError> {
        let c = &self.conf;
        let t = |s: &str| self.templates.execute_text(s, data);
        let fields = |fs: &[MattermostField]| -> Result<Vec<MattermostField>, TemplateError> {
            fs.iter()
                .map(|f| {
                    Ok(MattermostField {
                        title: t(&f.title)?,
                        value: t(&f.value)?,
                        short: f.short,
                    })
                })
                .collect()
        };
        let text = t(&c.text)?;
        let mut post = Post {
            text: String::new(),
            channel: t(&c.channel)?,
            username: t(&c.username)?,
            icon_url: t(&c.icon_url)?,
            icon_emoji: t(&c.icon_emoji)?,
            attachments: Vec::new(),
            kind: t(&c.kind)?,
            props: None,
            priority: None,
        };
        if let Some(p) = c.priority.as_ref().filter(|p| !p.priority.is_empty()) {
            post.priority = Some(Priority {
                priority: t(&p.priority)?,
                requested_ack: p.requested_ack,
                persistent_notifications: p.persistent_notifications,
            });
        }
        if let Some(p) = c.props.as_ref().filter(|p| !p.card.is_empty()) {
            post.props = Some(Props { card: t(&p.card)? });
        }
        if c.attachments.is_empty() {
            // One attachment from the top-level fields; the text goes inside it.
            post.attachments.push(MattermostAttachment {
                fallback: t(&c.fallback)?,
                color: t(&c.color)?,
                pretext: t(&c.pretext)?,
                text,
                author_name: t(&c.author_name)?,
                author_link: t(&c.author_link)?,
                author_icon: t(&c.author_icon)?,
                title: t(&c.title)?,
                title_link: t(&c.title_link)?,
                fields: fields(&c.fields)?,
                thumb_url: t(&c.thumb_url)?,
                footer: t(&c.footer)?,
                footer_icon: t(&c.footer_icon)?,
                image_url: t(&c.image_url)?,
            });
        } else {
            for a in &c.attachments {
                post.attachments.push(MattermostAttachment {
                    fallback: t(&a.fallback)?,
                    color: t(&a.color)?,
                    pretext: t(&a.pretext)?,
                    text: t(&a.text)?,
                    author_name: t(&a.author_name)?,
                    author_link: t(&a.author_link)?,
                    author_icon: t(&a.author_icon)?,
                    title: t(&a.title)?,
                    title_link: t(&a.title_link)?,
                    fields: fields(&a.fields)?,
                    thumb_url: t(&a.thumb_url)?,
                    footer: t(&a.footer)?,
                    footer_icon: t(&a.footer_icon)?,
                    image_url: t(&a.image_url)?,
                });
            }
            post.text = text;
        }
        Ok(post)
    }
}

/// Alertmanager's clean-up before sending: the text cut to Mattermost's limit,
/// an unknown priority made `standard`, and the options each priority does not
/// allow switched off.
fn sanitize(post: &mut Post) {
    let (text, cut) = truncate_runes(&post.text, MAX_TEXT_RUNES);
    if cut {
        tracing::warn!(max_runes = MAX_TEXT_RUNES, "truncated Mattermost text");
        post.text = text;
    }
    let Some(p) = &mut post.priority else {
        return;
    };
    let lower = p.priority.to_lowercase();
    p.priority = match lower.as_str() {
        "urgent" | "important" | "standard" => lower,
        _ => {
            tracing::warn!(priority = %p.priority, "unknown Mattermost priority, using standard");
            "standard".into()
        }
    };
    if p.requested_ack && p.priority == "standard" {
        p.requested_ack = false;
    }
    if p.persistent_notifications && p.priority != "urgent" {
        p.persistent_notifications = false;
    }
}

impl Notifier for Mattermost {
    const KIND: &'static str = "mattermost";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        let url = match &self.conf.webhook_url {
            Some(u) => u.expose().to_string(),
            None => read_secret_file(&self.conf.webhook_url_file, "webhook_url_file")?,
        };
        if url.is_empty() {
            return Err(NotifyError::permanent("webhook url missing"));
        }
        let mut post = self.post(data)?;
        group_key(data)?;
        sanitize(&mut post);
        let reply = self
            .http
            .send(reqwest::Method::POST, &url, JSON, encode_json(&post)?, None)
            .await?;
        check_status(&reply, &[]).map_err(|e| e.context(format_args!("channel {:?}", post.channel)))
    }
}
