//! Webex: a Markdown message posted to the Messages API with the bot token from
//! `http_config.authorization`.

use crate::http::HttpSender;
use crate::util::{group_key, truncate_bytes};
use crate::{Notifier, NotifyError};
use serde::Serialize;
use std::sync::Arc;
use watchfire_alertmanager_config::WebexConfig;
use watchfire_template::{NotificationData, NotificationTemplates};

/// Webex's limit on a message, in bytes.
const MAX_MESSAGE_BYTES: usize = 7439;

pub(crate) struct Webex {
    conf: WebexConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
}

#[derive(Serialize)]
struct Message {
    markdown: String,
    #[serde(rename = "roomId", skip_serializing_if = "String::is_empty")]
    room_id: String,
}

impl Webex {
    pub fn new(
        c: &WebexConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        if c.api_url.is_none() {
            return Err(NotifyError::permanent("no global Webex URL set"));
        }
        Ok(Webex {
            conf: c.clone(),
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
        })
    }
}

impl Notifier for Webex {
    const KIND: &'static str = "webex";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        group_key(data)?;
        let t = |s: &str| self.templates.execute_text(s, data);
        let (markdown, cut) = truncate_bytes(&t(&self.conf.message)?, MAX_MESSAGE_BYTES);
        if cut {
            tracing::debug!(max_bytes = MAX_MESSAGE_BYTES, "truncated Webex message");
        }
        let msg = Message {
            markdown,
            room_id: t(&self.conf.room_id)?,
        };
        let url = self
            .conf
            .api_url
            .as_ref()
            .map(|u| u.as_str())
            .unwrap_or_default();
        self.http.post_json(url, &msg, None, &[]).await?;
        Ok(())
    }
}
