//! VictorOps (Splunk On-Call): the REST endpoint's alert JSON, posted to
//! `<api_url><api_key>/<routing_key>`.

use crate::http::{HttpSender, read_secret_file};
use crate::util::{group_key, hash_key, is_firing, truncate_runes};
use crate::{Notifier, NotifyError};
use std::collections::BTreeMap;
use std::sync::Arc;
use watchfire_alertmanager_config::VictorOpsConfig;
use watchfire_template::{NotificationData, NotificationTemplates};

/// VictorOps' limit on `state_message`, in characters.
const MAX_STATE_MESSAGE_RUNES: usize = 20480;

pub(crate) struct VictorOps {
    conf: VictorOpsConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
}

impl VictorOps {
    pub fn new(
        c: &VictorOpsConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        if c.api_url.is_none() {
            return Err(NotifyError::permanent("no global VictorOps URL set"));
        }
        if c.api_key.is_empty() && c.api_key_file.is_empty() {
            return Err(NotifyError::permanent("no global VictorOps API Key set"));
        }
        Ok(VictorOps {
            conf: c.clone(),
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
        })
    }

    /// The alert: fixed fields plus `custom_fields`, every value a string. A map
    /// encodes with sorted keys, as Go's `map[string]string` does.
    fn payload(&self, data: &NotificationData) -> Result<BTreeMap<String, String>, NotifyError> {
        let key = group_key(data)?;
        let c = &self.conf;
        let t = |s: &str| self.templates.execute_text(s, data);
        let message_type = if is_firing(data) {
            let m = t(&c.message_type)?;
            // Anything VictorOps would not take becomes a page.
            if ["INFO", "WARNING", "CRITICAL"].contains(&m.as_str()) {
                m
            } else {
                "CRITICAL".to_string()
            }
        } else {
            "RECOVERY".to_string()
        };
        let (state_message, cut) = truncate_runes(&t(&c.state_message)?, MAX_STATE_MESSAGE_RUNES);
        if cut {
            tracing::warn!(
                max_runes = MAX_STATE_MESSAGE_RUNES,
                "truncated VictorOps state_message"
            );
        }
        let mut msg = BTreeMap::from([
            ("message_type".to_string(), message_type),
            ("entity_id".to_string(), hash_key(key)),
            (
                "entity_display_name".to_string(),
                t(&c.entity_display_name)?,
            ),
            ("state_message".to_string(), state_message),
            ("monitoring_tool".to_string(), t(&c.monitoring_tool)?),
        ]);
        for (k, v) in &c.custom_fields {
            msg.insert(k.clone(), t(v)?);
        }
        Ok(msg)
    }
}

impl Notifier for VictorOps {
    const KIND: &'static str = "victorops";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        let c = &self.conf;
        let api_key = if c.api_key.is_empty() {
            read_secret_file(&c.api_key_file, "api_key_file")?
        } else {
            c.api_key.expose().to_string()
        };
        let routing_key = self.templates.execute_text(&c.routing_key, data)?;
        let base = c.api_url.as_ref().map(|u| u.as_str()).unwrap_or_default();
        // The key and routing key extend the URL's path (a query stays at the end).
        let mut url = reqwest::Url::parse(base)
            .map_err(|e| NotifyError::permanent(format!("invalid VictorOps api_url: {e}")))?;
        let path = format!("{}{api_key}/{routing_key}", url.path());
        url.set_path(&path);
        let payload = self.payload(data)?;
        self.http
            .post_json(url.as_str(), &payload, None, &[])
            .await?;
        Ok(())
    }
}
