//! Microsoft Teams through a Workflows (Power Automate) webhook: a `message`
//! carrying one Adaptive Card with a coloured heading and the text.

use crate::http::{HttpSender, read_secret_file};
use crate::util::{group_key, is_firing};
use crate::{Notifier, NotifyError};
use serde::Serialize;
use std::sync::Arc;
use watchfire_alertmanager_config::MsTeamsV2Config;
use watchfire_template::{NotificationData, NotificationTemplates};

/// Adaptive Card colour names for the heading.
const COLOR_FIRING: &str = "Attention";
const COLOR_RESOLVED: &str = "Good";

pub(crate) struct MsTeamsV2 {
    conf: MsTeamsV2Config,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
}

#[derive(Serialize)]
struct Message<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    attachments: [Attachment<'a>; 1],
}

#[derive(Serialize)]
struct Attachment<'a> {
    #[serde(rename = "contentType")]
    content_type: &'static str,
    /// Always `null`: the card is inline.
    #[serde(rename = "contentUrl")]
    content_url: Option<&'static str>,
    content: Card<'a>,
}

#[derive(Serialize)]
struct Card<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    version: &'static str,
    body: [TextBlock<'a>; 2],
    msteams: Width,
}

#[derive(Serialize)]
struct TextBlock<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    weight: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    size: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    wrap: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    style: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    color: &'static str,
}

#[derive(Serialize)]
struct Width {
    width: &'static str,
}

impl MsTeamsV2 {
    pub fn new(
        c: &MsTeamsV2Config,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        if c.webhook_url.is_none() && c.webhook_url_file.is_empty() {
            return Err(NotifyError::permanent(
                "no msteamsv2 webhook URL or URLFile provided",
            ));
        }
        Ok(MsTeamsV2 {
            conf: c.clone(),
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
        })
    }
}

impl Notifier for MsTeamsV2 {
    const KIND: &'static str = "msteamsv2";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        group_key(data)?;
        let title = self.templates.execute_text(&self.conf.title, data)?;
        let text = self.templates.execute_text(&self.conf.text, data)?;
        let heading = TextBlock {
            kind: "TextBlock",
            text: &title,
            weight: "Bolder",
            size: "Medium",
            wrap: true,
            style: "heading",
            color: if is_firing(data) {
                COLOR_FIRING
            } else {
                COLOR_RESOLVED
            },
        };
        let body = TextBlock {
            kind: "TextBlock",
            text: &text,
            weight: "",
            size: "",
            wrap: true,
            style: "",
            color: "",
        };
        let msg = Message {
            kind: "message",
            attachments: [Attachment {
                content_type: "application/vnd.microsoft.card.adaptive",
                content_url: None,
                content: Card {
                    schema: "http://adaptivecards.io/schemas/adaptive-card.json",
                    kind: "AdaptiveCard",
                    version: "1.2",
                    body: [heading, body],
                    msteams: Width { width: "full" },
                },
            }],
        };
        let url = match &self.conf.webhook_url {
            Some(u) => u.expose().to_string(),
            None => read_secret_file(&self.conf.webhook_url_file, "webhook_url_file")?,
        };
        self.http.post_json(&url, &msg, None, &[]).await?;
        Ok(())
    }
}
