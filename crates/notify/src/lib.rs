//! Alertmanager-compatible notifiers (0.27 through 0.29+ kinds): webhook, Slack,
//! PagerDuty (Events API v1 and v2), e-mail (SMTP), Microsoft Teams (legacy
//! connector MessageCard, and Workflows webhooks with an Adaptive Card:
//! `msteamsv2`), Discord, Telegram, Opsgenie, WeChat Work, VictorOps, Pushover,
//! Amazon SNS, Webex, Jira, incident.io, Rocket.Chat and Mattermost: every kind
//! Alertmanager has.
//!
//! # Design
//!
//! [`build_integrations`] turns one configured [`Receiver`] (global defaults
//! already filled in by `watchfire-alertmanager-config`) into a list of
//! [`Integration`]s, in Alertmanager's order (webhook, email, pagerduty,
//! opsgenie, wechat, slack, victorops, pushover, sns, telegram, discord, webex,
//! msteams, msteamsv2, jira, incidentio, rocketchat, mattermost), each knowing its position
//! within its kind. The dispatcher calls [`Integration::notify`] with the
//! group's [`NotificationData`] and retries while the returned
//! [`NotifyError::retry`] says so.
//!
//! * Payloads are built from typed `serde` structs whose field order, names and
//!   `omitempty` behaviour follow Alertmanager's Go structs, so receivers see the
//!   same JSON. Text fields are executed with [`NotificationTemplates`].
//! * HTTP notifiers share the dispatcher's `reqwest::Client` unless their
//!   `http_config` changes the transport (TLS, proxy, redirects, HTTP/2), in which
//!   case they build their own. Authentication (`basic_auth`, `authorization`,
//!   `bearer_token`, `http_headers`) is added per request so `*_file` credentials
//!   are re-read like Prometheus does; so are `url_file`/`*_key_file` secrets
//!   (Alertmanager reads a few of those once, at start: incident.io's and
//!   Rocket.Chat's tokens).
//! * Pushover puts every parameter in the query string of an empty `text/plain`
//!   POST, as Alertmanager does; SNS posts a form signed with AWS SigV4
//!   (our own implementation on `ring`, in `sigv4.rs`); the other kinds post JSON.
//! * WeChat caches its access token per notifier (two hours, dropped on the
//!   "expired" errcode), like Alertmanager.
//! * Responses are classified like Alertmanager's `Retrier` ([`http`]): 2xx is
//!   success, 5xx and 429 (plus a notifier's own extra codes) are retryable,
//!   other codes are not; connection errors and timeouts are retryable.
//! * E-mail goes through lettre's SMTP connection, driven step by step like
//!   Alertmanager (EHLO, STARTTLS when `require_tls`, AUTH only when the server
//!   offers it, MAIL/RCPT/DATA) with a MIME message we build ourselves.
//! * Secrets never reach logs or error messages: URLs are redacted from
//!   transport errors and credentials are only ever put into headers.
//! * [`Integration::notify_view`] takes the notification borrowed
//!   ([`NotificationView`]): the webhook encodes it as is, the other notifiers
//!   build the template data from it. The dispatcher uses it, so a webhook
//!   delivery copies no labels.
//! * The webhook's `max_alerts` cut is reported in the message's
//!   `truncatedAlerts` and counted, per notifier ([`Integration::alerts_truncated`])
//!   and per process ([`alerts_truncated_total`]), for `/metrics`. Alertmanager
//!   (0.27 through current releases) has no such metric, so the name to export is
//!   ours: [`ALERTS_TRUNCATED_METRIC`].
#![deny(missing_docs)]

mod discord;
mod email;
mod error;
pub mod http;
mod incidentio;
mod jira;
mod mattermost;
mod mime;
mod msteams;
mod msteamsv2;
mod opsgenie;
mod pagerduty;
mod pushover;
mod rocketchat;
mod sigv4;
mod slack;
mod sns;
mod telegram;
mod util;
mod victorops;
mod view;
mod webex;
mod webhook;
mod wechat;

pub use error::NotifyError;
pub use http::default_http_client;
pub use view::{AlertView, NotificationView};
pub use watchfire_alertmanager_config::HttpClientConfig;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use watchfire_alertmanager_config::Receiver;
use watchfire_template::{NotificationData, NotificationTemplates};

/// One configured notifier of a receiver.
pub trait Integration: Send + Sync {
    /// The notifier kind: `webhook`, `slack`, `pagerduty`, `email`, `msteams`,
    /// `msteamsv2`, `discord`, `telegram`, `opsgenie`, `wechat`, `victorops`,
    /// `pushover`, `sns`, `webex`, `jira`, `incidentio`, `rocketchat` or
    /// `mattermost`.
    fn name(&self) -> &str;
    /// Position within the receiver's list of that kind.
    fn index(&self) -> usize;
    /// Whether resolved notifications are sent.
    fn send_resolved(&self) -> bool;
    /// Sends one notification for the group described by `data`.
    fn notify<'a>(
        &'a self,
        data: &'a NotificationData,
    ) -> Pin<Box<dyn Future<Output = Result<(), NotifyError>> + Send + 'a>>;
    /// Sends one notification for the group described by `view`: the same as
    /// [`Integration::notify`] with [`NotificationView::to_data`], without that
    /// copy for notifiers that need no template data.
    fn notify_view<'a>(
        &'a self,
        view: &'a NotificationView<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<(), NotifyError>> + Send + 'a>> {
        Box::pin(async move {
            let data = view.to_data();
            self.notify(&data).await
        })
    }
    /// Alerts this notifier left out of the messages it sent (webhook
    /// `max_alerts`), counted per attempt; 0 for notifiers without a limit.
    fn alerts_truncated(&self) -> u64 {
        0
    }
}

/// Name of the counter of alerts left out of notifications by `max_alerts`, with
/// an `integration` label (Watchfire's; Alertmanager exports none).
pub const ALERTS_TRUNCATED_METRIC: &str = "watchfire_alertmanager_alerts_truncated_total";

/// Alerts left out of notifications by `max_alerts` since the process started, by
/// integration name (only `webhook` has the setting), for
/// [`ALERTS_TRUNCATED_METRIC`]. Every attempt counts, retries included.
pub fn alerts_truncated_total() -> Vec<(&'static str, u64)> {
    vec![(
        "webhook",
        webhook::TRUNCATED_TOTAL.load(std::sync::atomic::Ordering::Relaxed),
    )]
}

/// What each notifier module implements; [`Wrapped`] adds the bookkeeping.
pub(crate) trait Notifier: Send + Sync + 'static {
    const KIND: &'static str;
    fn send<'a>(
        &'a self,
        data: &'a NotificationData,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send + 'a;
    /// `send` of a borrowed notification; notifiers without templates override it.
    fn send_view<'a>(
        &'a self,
        view: &'a NotificationView<'a>,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send + 'a {
        async move {
            let data = view.to_data();
            self.send(&data).await
        }
    }
    fn alerts_truncated(&self) -> u64 {
        0
    }
}

struct Wrapped<N> {
    inner: N,
    index: usize,
    send_resolved: bool,
}

impl<N: Notifier> Integration for Wrapped<N> {
    fn name(&self) -> &str {
        N::KIND
    }
    fn index(&self) -> usize {
        self.index
    }
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }
    fn notify<'a>(
        &'a self,
        data: &'a NotificationData,
    ) -> Pin<Box<dyn Future<Output = Result<(), NotifyError>> + Send + 'a>> {
        Box::pin(async move {
            tracing::debug!(
                integration = N::KIND,
                index = self.index,
                receiver = %data.receiver,
                alerts = data.alerts.len(),
                "sending notification"
            );
            self.inner.send(data).await
        })
    }
    fn notify_view<'a>(
        &'a self,
        view: &'a NotificationView<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<(), NotifyError>> + Send + 'a>> {
        Box::pin(async move {
            tracing::debug!(
                integration = N::KIND,
                index = self.index,
                receiver = %view.receiver,
                alerts = view.alerts.len(),
                "sending notification"
            );
            self.inner.send_view(view).await
        })
    }
    fn alerts_truncated(&self) -> u64 {
        self.inner.alerts_truncated()
    }
}

fn wrap<N: Notifier>(inner: N, index: usize, send_resolved: bool) -> Box<dyn Integration> {
    Box::new(Wrapped {
        inner,
        index,
        send_resolved,
    })
}

/// Builds the integrations of `receiver`, in Alertmanager's order. `client` is
/// used by every HTTP notifier whose `http_config` does not need its own
/// transport; `oauth2` tokens are fetched on first use and cached per notifier.
/// Fails (not retryable) on settings Watchfire cannot honour, such as unreadable
/// TLS files.
pub fn build_integrations(
    receiver: &Receiver,
    templates: Arc<NotificationTemplates>,
    client: reqwest::Client,
) -> Result<Vec<Box<dyn Integration>>, NotifyError> {
    let t = &templates;
    let mut out: Vec<Box<dyn Integration>> = Vec::new();
    let ctx = |kind: &str, i: usize| format!("{}/{kind}[{i}]", receiver.name);
    for (i, c) in receiver.webhook_configs.iter().enumerate() {
        let n = webhook::Webhook::new(c, t.clone(), &client)
            .map_err(|e| e.context(ctx("webhook", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.email_configs.iter().enumerate() {
        let n = email::Email::new(c, t.clone()).map_err(|e| e.context(ctx("email", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.pagerduty_configs.iter().enumerate() {
        let n = pagerduty::Pagerduty::new(c, t.clone(), &client)
            .map_err(|e| e.context(ctx("pagerduty", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.opsgenie_configs.iter().enumerate() {
        let n = opsgenie::Opsgenie::new(c, t.clone(), &client)
            .map_err(|e| e.context(ctx("opsgenie", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.wechat_configs.iter().enumerate() {
        let n =
            wechat::Wechat::new(c, t.clone(), &client).map_err(|e| e.context(ctx("wechat", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.slack_configs.iter().enumerate() {
        let n = slack::Slack::new(c, t.clone(), &client).map_err(|e| e.context(ctx("slack", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.victorops_configs.iter().enumerate() {
        let n = victorops::VictorOps::new(c, t.clone(), &client)
            .map_err(|e| e.context(ctx("victorops", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.pushover_configs.iter().enumerate() {
        let n = pushover::Pushover::new(c, t.clone(), &client)
            .map_err(|e| e.context(ctx("pushover", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.sns_configs.iter().enumerate() {
        let n = sns::Sns::new(c, t.clone(), &client).map_err(|e| e.context(ctx("sns", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.telegram_configs.iter().enumerate() {
        let n = telegram::Telegram::new(c, t.clone(), &client)
            .map_err(|e| e.context(ctx("telegram", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.discord_configs.iter().enumerate() {
        let n = discord::Discord::new(c, t.clone(), &client)
            .map_err(|e| e.context(ctx("discord", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.webex_configs.iter().enumerate() {
        let n = webex::Webex::new(c, t.clone(), &client).map_err(|e| e.context(ctx("webex", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.msteams_configs.iter().enumerate() {
        let n = msteams::MsTeams::new(c, t.clone(), &client)
            .map_err(|e| e.context(ctx("msteams", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.msteamsv2_configs.iter().enumerate() {
        let n = msteamsv2::MsTeamsV2::new(c, t.clone(), &client)
            .map_err(|e| e.context(ctx("msteamsv2", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.jira_configs.iter().enumerate() {
        let n = jira::Jira::new(c, t.clone(), &client).map_err(|e| e.context(ctx("jira", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.incidentio_configs.iter().enumerate() {
        let n = incidentio::Incidentio::new(c, t.clone(), &client)
            .map_err(|e| e.context(ctx("incidentio", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.rocketchat_configs.iter().enumerate() {
        let n = rocketchat::Rocketchat::new(c, t.clone(), &client)
            .map_err(|e| e.context(ctx("rocketchat", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    for (i, c) in receiver.mattermost_configs.iter().enumerate() {
        let n = mattermost::Mattermost::new(c, t.clone(), &client)
            .map_err(|e| e.context(ctx("mattermost", i)))?;
        out.push(wrap(n, i, c.send_resolved));
    }
    Ok(out)
}
