//! The notifier interface the pipeline drives: `watchfire_notify`'s [`Integration`],
//! produced per receiver by an [`IntegrationFactory`] so tests can inject recording
//! doubles and the binary uses [`notify_factory`].

use std::sync::{Arc, OnceLock};
use watchfire_alertmanager_config::Receiver;
use watchfire_template::NotificationTemplates;

pub use watchfire_notify::{Integration, NotifyError};

/// Builds a receiver's integrations (called on start and on every config reload).
pub type IntegrationFactory = Arc<
    dyn Fn(&Receiver, Arc<NotificationTemplates>) -> Result<Vec<Box<dyn Integration>>, String>
        + Send
        + Sync,
>;

/// The production factory: `watchfire_notify::build_integrations` with one shared HTTP
/// client (notify builds its own for receivers whose `http_config` needs one).
pub fn notify_factory() -> IntegrationFactory {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    Arc::new(|recv, templates| {
        let client = CLIENT
            .get_or_init(|| watchfire_notify::default_http_client(None).map_err(|e| e.message))
            .clone()?;
        watchfire_notify::build_integrations(recv, templates, client).map_err(|e| e.message)
    })
}
