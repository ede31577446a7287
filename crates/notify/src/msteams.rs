//! Microsoft Teams (legacy Office 365 connector): a `MessageCard`.

use crate::http::{HttpSender, read_secret_file};
use crate::util::{group_key, is_firing};
use crate::{Notifier, NotifyError};
use serde::Serialize;
use std::sync::Arc;
use watchfire_alertmanager_config::MsTeamsConfig;
use watchfire_template::{NotificationData, NotificationTemplates};

const COLOR_RED: &str = "8C1A1A";
const COLOR_GREEN: &str = "2DC72D";

pub(crate) struct MsTeams {
    conf: MsTeamsConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
}

#[derive(Serialize)]
struct Card {
    #[serde(rename = "@context")]
    context: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    title: String,
    summary: String,
    text: String,
    #[serde(rename = "themeColor")]
    theme_color: &'static str,
}

impl MsTeams {
    pub fn new(
        c: &MsTeamsConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        if c.webhook_url.is_none() && c.webhook_url_file.is_none() {
            return Err(NotifyError::permanent(
                "no msteams webhook URL or URLFile provided",
            ));
        }
        Ok(MsTeams {
            conf: c.clone(),
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
        })
    }
}

impl Notifier for MsTeams {
    const KIND: &'static str = "msteams";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        group_key(data)?;
        let t = |s: &str| self.templates.execute_text(s, data);
        let card = Card {
            context: "http://schema.org/extensions",
            kind: "MessageCard",
            title: t(&self.conf.title)?,
            summary: t(&self.conf.summary)?,
            text: t(&self.conf.text)?,
            theme_color: if is_firing(data) {
                COLOR_RED
            } else {
                COLOR_GREEN
            },
        };
        let url = match (&self.conf.webhook_url, &self.conf.webhook_url_file) {
            (Some(u), _) => u.expose().to_string(),
            (None, Some(f)) => read_secret_file(f, "webhook_url_file")?,
            (None, None) => String::new(),
        };
        self.http.post_json(&url, &card, None, &[]).await?;
        Ok(())
    }
}
