//! Discord: a webhook message with one embed.

use crate::http::{HttpSender, read_secret_file};
use crate::util::{group_key, is_firing, truncate_runes};
use crate::{Notifier, NotifyError};
use serde::Serialize;
use std::sync::Arc;
use watchfire_alertmanager_config::DiscordConfig;
use watchfire_template::{NotificationData, NotificationTemplates};

/// Discord's limits, in characters.
const MAX_TITLE_RUNES: usize = 256;
const MAX_DESCRIPTION_RUNES: usize = 4096;
const MAX_CONTENT_RUNES: usize = 2000;

const COLOR_RED: u32 = 0x992D22;
const COLOR_GREEN: u32 = 0x2ECC71;

pub(crate) struct Discord {
    conf: DiscordConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
}

#[derive(Serialize)]
struct Webhook {
    content: String,
    embeds: Vec<Embed>,
    #[serde(skip_serializing_if = "String::is_empty")]
    username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    avatar_url: String,
}

#[derive(Serialize)]
struct Embed {
    title: String,
    description: String,
    color: u32,
}

impl Discord {
    pub fn new(
        c: &DiscordConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        if c.webhook_url.is_none() && c.webhook_url_file.is_none() {
            return Err(NotifyError::permanent(
                "no discord webhook URL or URLFile provided",
            ));
        }
        Ok(Discord {
            conf: c.clone(),
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
        })
    }
}

impl Notifier for Discord {
    const KIND: &'static str = "discord";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        group_key(data)?;
        let t = |s: &str| self.templates.execute_text(s, data);
        let (title, _) = truncate_runes(&t(&self.conf.title)?, MAX_TITLE_RUNES);
        let (description, _) = truncate_runes(&t(&self.conf.message)?, MAX_DESCRIPTION_RUNES);
        let (content, _) = truncate_runes(&t(&self.conf.content)?, MAX_CONTENT_RUNES);
        let msg = Webhook {
            content,
            embeds: vec![Embed {
                title,
                description,
                color: if is_firing(data) {
                    COLOR_RED
                } else {
                    COLOR_GREEN
                },
            }],
            username: self.conf.username.clone(),
            avatar_url: self.conf.avatar_url.clone(),
        };
        let url = match (&self.conf.webhook_url, &self.conf.webhook_url_file) {
            (Some(u), _) => u.expose().to_string(),
            (None, Some(f)) => read_secret_file(f, "webhook_url_file")?,
            (None, None) => String::new(),
        };
        self.http.post_json(&url, &msg, None, &[]).await?;
        Ok(())
    }
}
