//! Receivers and the notifier configurations Watchfire implements (the kinds added
//! later live in `receivers_chat_paging.rs`, `receivers_wechat_sns.rs` and
//! `receivers_jira.rs`). Every notifier kind of Alertmanager is implemented.

use crate::receivers_chat_paging::{
    IncidentioConfig, MattermostConfig, MsTeamsV2Config, PushoverConfig, RocketchatConfig,
    VictorOpsConfig, WebexConfig,
};
use crate::receivers_jira::JiraConfig;
use crate::receivers_wechat_sns::{SnsConfig, WechatConfig};
use crate::values::{HostPort, HttpClientConfig, Secret, SecretUrl, TlsConfig, Url};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(crate) fn yes() -> bool {
    true
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// Where a node sits in the YAML file (1-based; 0 when built in code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line.
    pub line: u64,
    /// Column.
    pub column: u64,
}

/// A named set of notifier configurations.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    /// Unique name referenced by routes.
    pub name: String,
    /// Receiver labels (0.29+); `name` is always set to the receiver's name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Watchfire extension (Alertmanager rejects the field): when true, an alert that was
    /// notified as firing and is then silenced is sent to this receiver once more, as
    /// resolved, so a downstream incident closes instead of staying open while nobody gets
    /// notified about it. Resolved alerts that are silenced also still reach it. Delivery
    /// follows each integration's `send_resolved`. Default false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub send_resolved_when_silenced: bool,
    /// Webhooks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_configs: Vec<WebhookConfig>,
    /// Slack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slack_configs: Vec<SlackConfig>,
    /// PagerDuty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pagerduty_configs: Vec<PagerdutyConfig>,
    /// E-mail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_configs: Vec<EmailConfig>,
    /// Microsoft Teams (legacy connector).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub msteams_configs: Vec<MsTeamsConfig>,
    /// Discord.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discord_configs: Vec<DiscordConfig>,
    /// Telegram.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telegram_configs: Vec<TelegramConfig>,
    /// Opsgenie.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opsgenie_configs: Vec<OpsgenieConfig>,
    /// WeChat Work.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wechat_configs: Vec<WechatConfig>,
    /// Pushover.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pushover_configs: Vec<PushoverConfig>,
    /// Amazon SNS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sns_configs: Vec<SnsConfig>,
    /// VictorOps (Splunk On-Call).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub victorops_configs: Vec<VictorOpsConfig>,
    /// Webex.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webex_configs: Vec<WebexConfig>,
    /// Microsoft Teams Workflows (Adaptive Cards).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub msteamsv2_configs: Vec<MsTeamsV2Config>,
    /// Jira.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jira_configs: Vec<JiraConfig>,
    /// Rocket.Chat.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rocketchat_configs: Vec<RocketchatConfig>,
    /// Mattermost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mattermost_configs: Vec<MattermostConfig>,
    /// incident.io.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidentio_configs: Vec<IncidentioConfig>,
    /// Position in the file.
    #[serde(skip)]
    pub pos: Pos,
}

impl Receiver {
    /// Number of notifier configurations Watchfire will actually run.
    pub fn integration_count(&self) -> usize {
        self.webhook_configs.len()
            + self.slack_configs.len()
            + self.pagerduty_configs.len()
            + self.email_configs.len()
            + self.msteams_configs.len()
            + self.discord_configs.len()
            + self.telegram_configs.len()
            + self.opsgenie_configs.len()
            + self.msteamsv2_configs.len()
            + self.victorops_configs.len()
            + self.pushover_configs.len()
            + self.webex_configs.len()
            + self.incidentio_configs.len()
            + self.rocketchat_configs.len()
            + self.mattermost_configs.len()
            + self.wechat_configs.len()
            + self.sns_configs.len()
            + self.jira_configs.len()
    }
}

/// `webhook_configs` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client settings (global `http_config` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Target URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<SecretUrl>,
    /// File holding the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_file: Option<String>,
    /// Cap on alerts per message (0 = all).
    #[serde(default)]
    pub max_alerts: u64,
    /// Request timeout (0 = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<crate::Duration>,
}

/// Slack attachment field.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackField {
    /// Title.
    pub title: String,
    /// Value.
    pub value: String,
    /// Short layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<bool>,
}

/// Slack action confirmation.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfirmationField {
    /// Text.
    pub text: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// OK text.
    #[serde(default)]
    pub ok_text: String,
    /// Dismiss text.
    #[serde(default)]
    pub dismiss_text: String,
}

/// Slack attachment action (button).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackAction {
    /// Kind, `button`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Label text.
    pub text: String,
    /// Link.
    #[serde(default)]
    pub url: String,
    /// Style.
    #[serde(default)]
    pub style: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Value.
    #[serde(default)]
    pub value: String,
    /// Confirmation dialog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<SlackConfirmationField>,
}

/// `slack_configs` entry. Template fields default to Alertmanager's `slack.default.*`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// Notify about resolved alerts (default false).
    #[serde(default)]
    pub send_resolved: bool,
    /// HTTP client; a bot token goes in `authorization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Webhook URL (global `slack_api_url` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<SecretUrl>,
    /// File holding the webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url_file: Option<String>,
    /// Bot token (0.30+); mutually exclusive with `api_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_token: Option<Secret>,
    /// File holding the bot token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_token_file: Option<String>,
    /// `chat.postMessage` URL for app tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_url: Option<Url>,
    /// Channel override.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel: String,
    /// Bot user name.
    #[serde(default = "d_slack_username")]
    pub username: String,
    /// Attachment colour.
    #[serde(default = "d_slack_color")]
    pub color: String,
    /// Title.
    #[serde(default = "d_slack_title")]
    pub title: String,
    /// Title link.
    #[serde(default = "d_slack_titlelink")]
    pub title_link: String,
    /// Pretext.
    #[serde(default = "d_slack_pretext")]
    pub pretext: String,
    /// Text.
    #[serde(default = "d_slack_text")]
    pub text: String,
    /// Attachment fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<SlackField>,
    /// Default `short` for fields.
    #[serde(default)]
    pub short_fields: bool,
    /// Footer.
    #[serde(default = "d_slack_footer")]
    pub footer: String,
    /// Fallback text.
    #[serde(default = "d_slack_fallback")]
    pub fallback: String,
    /// Callback id.
    #[serde(default = "d_slack_callbackid")]
    pub callback_id: String,
    /// Emoji icon.
    #[serde(default = "d_slack_iconemoji")]
    pub icon_emoji: String,
    /// Icon URL.
    #[serde(default = "d_slack_iconurl")]
    pub icon_url: String,
    /// Image URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    /// Thumbnail URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thumb_url: String,
    /// Link channel names.
    #[serde(default)]
    pub link_names: bool,
    /// Fields rendered as markdown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mrkdwn_in: Vec<String>,
    /// Buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<SlackAction>,
    /// Message text outside the attachment.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message_text: String,
    /// Update the message in place (bot tokens only).
    #[serde(default)]
    pub update_message: bool,
    /// Request timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<crate::Duration>,
}

pub(crate) fn tpl(name: &str) -> String {
    format!("{{{{ template \"{name}\" . }}}}")
}
fn d_slack_username() -> String {
    tpl("slack.default.username")
}
fn d_slack_color() -> String {
    tpl("slack.default.color")
}
fn d_slack_title() -> String {
    tpl("slack.default.title")
}
fn d_slack_titlelink() -> String {
    tpl("slack.default.titlelink")
}
fn d_slack_pretext() -> String {
    tpl("slack.default.pretext")
}
fn d_slack_text() -> String {
    tpl("slack.default.text")
}
fn d_slack_footer() -> String {
    tpl("slack.default.footer")
}
fn d_slack_fallback() -> String {
    tpl("slack.default.fallback")
}
fn d_slack_callbackid() -> String {
    tpl("slack.default.callbackid")
}
fn d_slack_iconemoji() -> String {
    tpl("slack.default.iconemoji")
}
fn d_slack_iconurl() -> String {
    tpl("slack.default.iconurl")
}

/// PagerDuty image.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyImage {
    /// Source URL.
    #[serde(default)]
    pub src: String,
    /// Alt text.
    #[serde(default)]
    pub alt: String,
    /// Link.
    #[serde(default)]
    pub href: String,
}

/// PagerDuty link.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyLink {
    /// Target.
    #[serde(default)]
    pub href: String,
    /// Text.
    #[serde(default)]
    pub text: String,
}

/// `pagerduty_configs` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Events API v2 routing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<Secret>,
    /// File holding the routing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key_file: Option<String>,
    /// Events API v1 service key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_key: Option<Secret>,
    /// File holding the service key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_key_file: Option<String>,
    /// API URL (global `pagerduty_url` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    /// Client name.
    #[serde(default = "d_pd_client")]
    pub client: String,
    /// Client URL.
    #[serde(default = "d_pd_client_url")]
    pub client_url: String,
    /// Description.
    #[serde(default = "d_pd_description")]
    pub description: String,
    /// Custom details.
    #[serde(default = "d_pd_details")]
    pub details: BTreeMap<String, serde_json::Value>,
    /// Severity.
    #[serde(default = "d_pd_severity")]
    pub severity: String,
    /// Class.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub class: String,
    /// Component.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub component: String,
    /// Group.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// Source.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// Images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<PagerdutyImage>,
    /// Links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<PagerdutyLink>,
    /// Request timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<crate::Duration>,
}

fn d_pd_client() -> String {
    tpl("pagerduty.default.client")
}
fn d_pd_client_url() -> String {
    tpl("pagerduty.default.clientURL")
}
fn d_pd_description() -> String {
    tpl("pagerduty.default.description")
}
fn d_pd_severity() -> String {
    "error".into()
}
fn d_pd_details() -> BTreeMap<String, serde_json::Value> {
    [
        ("firing", tpl("pagerduty.default.instances") + ""),
        ("num_firing", "{{ .Alerts.Firing | len }}".into()),
        ("num_resolved", "{{ .Alerts.Resolved | len }}".into()),
        ("resolved", tpl("pagerduty.default.instances") + ""),
    ]
    .into_iter()
    .map(|(k, v)| {
        let v = if k == "firing" {
            "{{ .Alerts.Firing | toJson }}".to_string()
        } else if k == "resolved" {
            "{{ .Alerts.Resolved | toJson }}".to_string()
        } else {
            v
        };
        (k.to_string(), serde_json::Value::String(v))
    })
    .collect()
}

/// `email_configs` entry. Unset SMTP fields are filled from `global` at load time.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Notify about resolved alerts (default false).
    #[serde(default)]
    pub send_resolved: bool,
    /// Recipients.
    #[serde(default)]
    pub to: String,
    /// Sender (global `smtp_from` when empty).
    #[serde(default)]
    pub from: String,
    /// HELO name.
    #[serde(default)]
    pub hello: String,
    /// Relay.
    #[serde(default)]
    pub smarthost: HostPort,
    /// SMTP user.
    #[serde(default)]
    pub auth_username: String,
    /// SMTP password.
    #[serde(default)]
    pub auth_password: Secret,
    /// File holding the password.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_password_file: String,
    /// CRAM-MD5 secret.
    #[serde(default)]
    pub auth_secret: Secret,
    /// File holding the secret.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_secret_file: String,
    /// PLAIN identity.
    #[serde(default)]
    pub auth_identity: String,
    /// Extra headers (Subject, To, From defaulted by the notifier).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// HTML body.
    #[serde(default = "d_email_html")]
    pub html: String,
    /// Text body.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Require STARTTLS (global `smtp_require_tls` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_tls: Option<bool>,
    /// TLS settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    /// Implicit TLS override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_implicit_tls: Option<bool>,
}

fn d_email_html() -> String {
    tpl("email.default.html")
}

/// `msteams_configs` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MsTeamsConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Incoming webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<SecretUrl>,
    /// File holding the webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url_file: Option<String>,
    /// Title.
    #[serde(default = "d_teams_title")]
    pub title: String,
    /// Summary.
    #[serde(default = "d_teams_summary")]
    pub summary: String,
    /// Text.
    #[serde(default = "d_teams_text")]
    pub text: String,
}
fn d_teams_title() -> String {
    tpl("msteams.default.title")
}
fn d_teams_summary() -> String {
    tpl("msteams.default.summary")
}
fn d_teams_text() -> String {
    tpl("msteams.default.text")
}

/// `discord_configs` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<SecretUrl>,
    /// File holding the webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url_file: Option<String>,
    /// Title.
    #[serde(default = "d_discord_title")]
    pub title: String,
    /// Message.
    #[serde(default = "d_discord_message")]
    pub message: String,
    /// Plain content above the embed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    /// Bot user name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// Avatar URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub avatar_url: String,
}
fn d_discord_title() -> String {
    tpl("discord.default.title")
}
fn d_discord_message() -> String {
    tpl("discord.default.message")
}

/// `telegram_configs` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Bot API URL (global `telegram_api_url` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    /// Bot token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_token: Option<Secret>,
    /// File holding the bot token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_token_file: Option<String>,
    /// Chat id.
    #[serde(default)]
    pub chat_id: i64,
    /// Forum topic id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_thread_id: Option<i64>,
    /// Message.
    #[serde(default = "d_telegram_message")]
    pub message: String,
    /// Disable link previews.
    #[serde(default)]
    pub disable_notifications: bool,
    /// Parse mode (default HTML).
    #[serde(default = "d_telegram_parse_mode")]
    pub parse_mode: String,
}
fn d_telegram_message() -> String {
    tpl("telegram.default.message")
}
fn d_telegram_parse_mode() -> String {
    "HTML".into()
}

/// Opsgenie responder.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OpsgenieResponder {
    /// Id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// User name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// `team`, `teams`, `user`, `escalation` or `schedule`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `opsgenie_configs` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OpsgenieConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// API key (global `opsgenie_api_key` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// File holding the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<String>,
    /// API URL (global `opsgenie_api_url` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    /// Message.
    #[serde(default = "d_og_message")]
    pub message: String,
    /// Description.
    #[serde(default = "d_og_description")]
    pub description: String,
    /// Source.
    #[serde(default = "d_og_source")]
    pub source: String,
    /// Details.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    /// Entity.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub entity: String,
    /// Responders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responders: Vec<OpsgenieResponder>,
    /// Actions.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actions: String,
    /// Tags.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tags: String,
    /// Note.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Priority.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub priority: String,
    /// Update alerts in place.
    #[serde(default)]
    pub update_alerts: bool,
}
fn d_og_message() -> String {
    tpl("opsgenie.default.message")
}
fn d_og_description() -> String {
    tpl("opsgenie.default.description")
}
fn d_og_source() -> String {
    tpl("opsgenie.default.source")
}
