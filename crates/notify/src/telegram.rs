//! Telegram: the Bot API's `sendMessage`.

use crate::http::{HttpSender, check_status, encode_json, read_secret_file, truncate_body};
use crate::util::{group_key, truncate_runes};
use crate::{Notifier, NotifyError};
use serde::Serialize;
use std::sync::Arc;
use watchfire_alertmanager_config::TelegramConfig;
use watchfire_template::{NotificationData, NotificationTemplates};

/// Telegram's message limit, in characters.
const MAX_MESSAGE_RUNES: usize = 4096;

pub(crate) struct Telegram {
    conf: TelegramConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
}

#[derive(Serialize)]
struct SendMessage {
    chat_id: i64,
    text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    parse_mode: String,
    disable_web_page_preview: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    disable_notification: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_thread_id: Option<i64>,
}

impl Telegram {
    pub fn new(
        c: &TelegramConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        if c.bot_token.is_none() && c.bot_token_file.is_none() {
            return Err(NotifyError::permanent(
                "missing bot_token or bot_token_file on telegram_config",
            ));
        }
        Ok(Telegram {
            conf: c.clone(),
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
        })
    }
}

impl Notifier for Telegram {
    const KIND: &'static str = "telegram";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        group_key(data)?;
        let c = &self.conf;
        // HTML parse mode gets html/template escaping, like Alertmanager.
        let text = if c.parse_mode == "HTML" {
            self.templates.execute_html(&c.message, data)?
        } else {
            self.templates.execute_text(&c.message, data)?
        };
        let (text, cut) = truncate_runes(&text, MAX_MESSAGE_RUNES);
        if cut {
            tracing::warn!(max_runes = MAX_MESSAGE_RUNES, "truncated Telegram message");
        }
        let token = match (&c.bot_token_file, &c.bot_token) {
            (Some(f), _) => read_secret_file(f, "bot_token_file")?,
            (None, Some(t)) => t.expose().to_string(),
            (None, None) => String::new(),
        };
        let base = c
            .api_url
            .as_ref()
            .map(|u| u.as_str())
            .unwrap_or("https://api.telegram.org");
        let url = format!("{}/bot{token}/sendMessage", base.trim_end_matches('/'));
        let msg = SendMessage {
            chat_id: c.chat_id,
            text,
            parse_mode: c.parse_mode.clone(),
            disable_web_page_preview: true,
            disable_notification: c.disable_notifications,
            message_thread_id: c.message_thread_id,
        };
        let reply = self
            .http
            .send(
                reqwest::Method::POST,
                &url,
                "application/json",
                encode_json(&msg)?,
                None,
            )
            .await?;
        check_status(&reply, &[])?;
        #[derive(serde::Deserialize)]
        struct Resp {
            #[serde(default)]
            ok: bool,
            #[serde(default)]
            description: String,
        }
        match serde_json::from_slice::<Resp>(&reply.body) {
            Ok(r) if r.ok => Ok(()),
            Ok(r) => Err(NotifyError::permanent(format!(
                "telegram: {}",
                r.description
            ))),
            Err(_) => Err(NotifyError::transient(format!(
                "telegram: unexpected response {:?}",
                truncate_body(&reply.body)
            ))),
        }
    }
}
