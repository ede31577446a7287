//! Chat and paging notifier configurations: Teams Workflows, Webex, Rocket.Chat and
//! Mattermost; VictorOps, Pushover and incident.io, with their Alertmanager checks and
//! global defaults.
//!
//! Alertmanager checks these in two places: while decoding one entry (its
//! `UnmarshalYAML`, before any global value is known) and later while copying
//! global defaults in. [`fill`] runs both in that order, so a check that only
//! sees the entry as written (Webex's `http_config.authorization`, incident.io's
//! token rules) ignores what the global section would have provided, as in
//! Alertmanager.

use crate::config::GlobalConfig;
use crate::receivers::Receiver;
use crate::receivers::{is_false, tpl, yes};
use crate::values::{HttpClientConfig, Secret, SecretUrl, Url};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// A duration in Go's `time.ParseDuration` grammar (`1m30s`, `1.5h`, `300ms`; no
/// days), which Alertmanager uses for Pushover's `retry`/`expire`/`ttl` and
/// incident.io's `timeout`. Kept in nanoseconds; serialised as Go prints it (`1m0s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct GoDuration(pub i64);

impl GoDuration {
    /// From seconds.
    pub const fn from_secs(s: i64) -> Self {
        GoDuration(s * 1_000_000_000)
    }

    /// Whole seconds, truncated toward zero (Go's `int64(d.Seconds())`).
    pub const fn whole_seconds(self) -> i64 {
        self.0 / 1_000_000_000
    }

    /// As a standard duration (negative values clamp to zero).
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_nanos(u64::try_from(self.0).unwrap_or(0))
    }

    /// Parses like Go's `time.ParseDuration`, with its error messages.
    pub fn parse(s: &str) -> Result<Self, String> {
        let invalid = || format!("time: invalid duration {s:?}");
        let (neg, mut rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if rest == "0" {
            return Ok(GoDuration(0));
        }
        if rest.is_empty() {
            return Err(invalid());
        }
        let mut total: u128 = 0;
        while !rest.is_empty() {
            let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let int_part = &rest[..int_len];
            rest = &rest[int_len..];
            let mut frac_part = "";
            if let Some(r) = rest.strip_prefix('.') {
                let n = r.bytes().take_while(u8::is_ascii_digit).count();
                frac_part = &r[..n];
                rest = &r[n..];
            }
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(invalid());
            }
            let unit_len = rest
                .find(|c: char| c == '.' || c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let scale: u128 = match unit {
                "" => return Err(format!("time: missing unit in duration {s:?}")),
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                _ => return Err(format!("time: unknown unit {unit:?} in duration {s:?}")),
            };
            let whole: u128 = if int_part.is_empty() {
                0
            } else {
                int_part.parse().map_err(|_| invalid())?
            };
            let mut value = whole.checked_mul(scale).ok_or_else(invalid)?;
            // The fraction scaled to the unit, digit by digit (sub-nanosecond cut).
            let mut div = scale;
            for d in frac_part.bytes() {
                div /= 10;
                if div == 0 {
                    break;
                }
                value += u128::from(d - b'0') * div;
            }
            total = total.checked_add(value).ok_or_else(invalid)?;
            if total > i64::MAX as u128 + u128::from(neg) {
                return Err(invalid());
            }
        }
        let v = if neg {
            (total as i128).wrapping_neg() as i64
        } else {
            total as i64
        };
        Ok(GoDuration(v))
    }
}

impl fmt::Display for GoDuration {
    /// Go's `time.Duration.String`: `1h2m3.5s`, `1.5ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let u = self.0.unsigned_abs();
        let sign = if neg { "-" } else { "" };
        if u == 0 {
            return f.write_str("0s");
        }
        // Integer part plus the fraction without trailing zeros.
        let frac = |v: u64, digits: u32| -> String {
            let p = 10u64.pow(digits);
            let (w, r) = (v / p, v % p);
            if r == 0 {
                return w.to_string();
            }
            let s = format!("{r:0width$}", width = digits as usize);
            format!("{w}.{}", s.trim_end_matches('0'))
        };
        if u < 1_000 {
            return write!(f, "{sign}{u}ns");
        }
        if u < 1_000_000 {
            return write!(f, "{sign}{}µs", frac(u, 3));
        }
        if u < 1_000_000_000 {
            return write!(f, "{sign}{}ms", frac(u, 6));
        }
        let secs_ns = u % 60_000_000_000;
        let mins = u / 60_000_000_000;
        let s = frac(secs_ns, 9);
        if mins == 0 {
            return write!(f, "{sign}{s}s");
        }
        let (h, m) = (mins / 60, mins % 60);
        if h == 0 {
            return write!(f, "{sign}{m}m{s}s");
        }
        write!(f, "{sign}{h}h{m}m{s}s")
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        if s.is_empty() {
            return Ok(GoDuration(0));
        }
        GoDuration::parse(&s).map_err(D::Error::custom)
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn is_zero_duration(d: &GoDuration) -> bool {
    d.0 == 0
}

/// `msteamsv2_configs` entry: a Teams Workflows (Power Automate) webhook that
/// receives an Adaptive Card (Alertmanager 0.28+).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MsTeamsV2Config {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client (global `http_config` when absent; a partial one inherits the
    /// global `proxy_url` when it sets none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Workflow webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<SecretUrl>,
    /// File holding the webhook URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webhook_url_file: String,
    /// Card title.
    #[serde(default = "d_msteamsv2_title")]
    pub title: String,
    /// Card text.
    #[serde(default = "d_msteamsv2_text")]
    pub text: String,
}
fn d_msteamsv2_title() -> String {
    tpl("msteamsv2.default.title")
}
fn d_msteamsv2_text() -> String {
    tpl("msteamsv2.default.text")
}

/// `victorops_configs` entry (Splunk On-Call REST endpoint).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VictorOpsConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// API key (global `victorops_api_key` when empty).
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub api_key: Secret,
    /// File holding the API key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_key_file: String,
    /// REST endpoint base (global `victorops_api_url` when absent); ends in `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    /// Routing key (template).
    #[serde(default)]
    pub routing_key: String,
    /// Message type while firing: `CRITICAL`, `WARNING` or `INFO` (template).
    #[serde(default = "d_vo_message_type")]
    pub message_type: String,
    /// State message (template).
    #[serde(default = "d_vo_state_message")]
    pub state_message: String,
    /// Entity display name (template).
    #[serde(default = "d_vo_entity_display_name")]
    pub entity_display_name: String,
    /// Monitoring tool (template).
    #[serde(default = "d_vo_monitoring_tool")]
    pub monitoring_tool: String,
    /// Extra payload fields (templates).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_fields: BTreeMap<String, String>,
}
fn d_vo_message_type() -> String {
    "CRITICAL".into()
}
fn d_vo_state_message() -> String {
    tpl("victorops.default.state_message")
}
fn d_vo_entity_display_name() -> String {
    tpl("victorops.default.entity_display_name")
}
fn d_vo_monitoring_tool() -> String {
    tpl("victorops.default.monitoring_tool")
}

/// `pushover_configs` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PushoverConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Recipient user key (template).
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub user_key: Secret,
    /// File holding the user key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_key_file: String,
    /// Application token (template).
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub token: Secret,
    /// File holding the application token.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_file: String,
    /// Title.
    #[serde(default = "d_po_title")]
    pub title: String,
    /// Message.
    #[serde(default = "d_po_message")]
    pub message: String,
    /// Supplementary URL.
    #[serde(default = "d_po_url")]
    pub url: String,
    /// Title of the supplementary URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url_title: String,
    /// Device name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub device: String,
    /// Sound name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sound: String,
    /// Priority (template; default 2 = emergency while firing, 0 when resolved).
    #[serde(default = "d_po_priority")]
    pub priority: String,
    /// How often Pushover re-sends an emergency notification (default 1m).
    #[serde(default = "d_po_retry")]
    pub retry: GoDuration,
    /// How long Pushover keeps re-sending (default 1h).
    #[serde(default = "d_po_expire")]
    pub expire: GoDuration,
    /// Message lifetime on the device; 0 = Pushover's default.
    #[serde(default, skip_serializing_if = "is_zero_duration")]
    pub ttl: GoDuration,
    /// Message is HTML.
    #[serde(default, skip_serializing_if = "is_false")]
    pub html: bool,
    /// Message is shown in a monospace font.
    #[serde(default, skip_serializing_if = "is_false")]
    pub monospace: bool,
}
fn d_po_title() -> String {
    tpl("pushover.default.title")
}
fn d_po_message() -> String {
    tpl("pushover.default.message")
}
fn d_po_url() -> String {
    tpl("pushover.default.url")
}
fn d_po_priority() -> String {
    r#"{{ if eq .Status "firing" }}2{{ else }}0{{ end }}"#.into()
}
fn d_po_retry() -> GoDuration {
    GoDuration::from_secs(60)
}
fn d_po_expire() -> GoDuration {
    GoDuration::from_secs(3600)
}

/// `webex_configs` entry; the bot token goes in `http_config.authorization`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebexConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client; must carry `authorization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Messages API URL (global `webex_api_url` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    /// Markdown message.
    #[serde(default = "d_webex_message")]
    pub message: String,
    /// Room id (template).
    #[serde(default)]
    pub room_id: String,
}
fn d_webex_message() -> String {
    tpl("webex.default.message")
}

/// `incidentio_configs` entry (Alertmanager 0.29+): the webhook message posted to
/// an incident.io HTTP alert source.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentioConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Alert source URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    /// File holding the URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url_file: String,
    /// Bearer token of the alert source (replaces `http_config` authorization).
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub alert_source_token: Secret,
    /// File holding the token.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alert_source_token_file: String,
    /// Cap on alerts per message (0 = all).
    #[serde(default)]
    pub max_alerts: u64,
    /// Request timeout (0 = none).
    #[serde(default)]
    pub timeout: GoDuration,
}

/// A Rocket.Chat attachment field.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RocketchatField {
    /// Short layout (`short_fields` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<bool>,
    /// Title (template).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Value (template).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
}

/// A Rocket.Chat attachment action (button). Alertmanager's struct has no YAML
/// tags, so its keys are the lower-cased Go field names; only `text`, `url` and
/// `msg` are sent.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RocketchatAction {
    /// Kind (always sent as `button`).
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Button text (template).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Link (template).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// Image URL (not sent).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub imageurl: String,
    /// Open in a web view (not sent).
    #[serde(default, skip_serializing_if = "is_false")]
    pub iswebview: bool,
    /// Web view height (not sent).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webviewheightratio: String,
    /// Message sent by the button (template).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub msg: String,
    /// Show the message in the chat window (not sent).
    #[serde(default, skip_serializing_if = "is_false")]
    pub msginchatwindow: bool,
    /// Message processing type (not sent).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub msgprocessingtype: String,
}

/// `rocketchat_configs` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RocketchatConfig {
    /// Notify about resolved alerts (default false).
    #[serde(default)]
    pub send_resolved: bool,
    /// HTTP client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Server URL (global `rocketchat_api_url` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    /// User id of the token (global `rocketchat_token_id` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<Secret>,
    /// File holding the user id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_id_file: String,
    /// Personal access token (global `rocketchat_token` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// File holding the token.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_file: String,
    /// Channel override (`#channel` or `@user`; template).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel: String,
    /// Attachment colour.
    #[serde(default = "d_rc_color")]
    pub color: String,
    /// Title.
    #[serde(default = "d_rc_title")]
    pub title: String,
    /// Title link.
    #[serde(default = "d_rc_titlelink")]
    pub title_link: String,
    /// Text.
    #[serde(default = "d_rc_text")]
    pub text: String,
    /// Attachment fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<RocketchatField>,
    /// Default `short` of fields.
    #[serde(default)]
    pub short_fields: bool,
    /// Emoji avatar.
    #[serde(default = "d_rc_emoji")]
    pub emoji: String,
    /// Avatar URL.
    #[serde(default = "d_rc_iconurl")]
    pub icon_url: String,
    /// Image URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    /// Thumbnail URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thumb_url: String,
    /// Link names (accepted; Alertmanager does not send it).
    #[serde(default)]
    pub link_names: bool,
    /// Buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<RocketchatAction>,
}
fn d_rc_color() -> String {
    r#"{{ if eq .Status "firing" }}red{{ else }}green{{ end }}"#.into()
}
fn d_rc_title() -> String {
    tpl("rocketchat.default.title")
}
fn d_rc_titlelink() -> String {
    tpl("rocketchat.default.titlelink")
}
fn d_rc_text() -> String {
    tpl("rocketchat.default.text")
}
fn d_rc_emoji() -> String {
    tpl("rocketchat.default.emoji")
}
fn d_rc_iconurl() -> String {
    tpl("rocketchat.default.iconurl")
}

/// A Mattermost attachment field.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MattermostField {
    /// Title (template; required).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Value (template; required).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// Short layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<bool>,
}

/// A Mattermost message attachment (all text fields are templates).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MattermostAttachment {
    /// Plain-text summary.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fallback: String,
    /// Colour of the side bar.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub color: String,
    /// Text above the attachment.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pretext: String,
    /// Text.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Author name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author_name: String,
    /// Author link.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author_link: String,
    /// Author icon URL.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author_icon: String,
    /// Title.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Title link.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title_link: String,
    /// Fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<MattermostField>,
    /// Thumbnail URL.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub thumb_url: String,
    /// Footer.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub footer: String,
    /// Footer icon URL.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub footer_icon: String,
    /// Image URL.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_url: String,
}

/// Mattermost message `props`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MattermostProps {
    /// Card shown in the right-hand sidebar (template).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub card: String,
}

/// Mattermost message `priority`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MattermostPriority {
    /// `urgent`, `important` or `standard` (template; anything else is standard).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub priority: String,
    /// Ask for an acknowledgement (not with `standard`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub requested_ack: bool,
    /// Repeat notifications (only with `urgent`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub persistent_notifications: bool,
}

/// `mattermost_configs` entry: an incoming webhook.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MattermostConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Webhook URL (global `mattermost_webhook_url` when neither it nor the file is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<SecretUrl>,
    /// File holding the webhook URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webhook_url_file: String,
    /// Channel override.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel: String,
    /// Bot user name.
    #[serde(default = "d_mm_username")]
    pub username: String,
    /// Text.
    #[serde(default = "d_mm_text")]
    pub text: String,
    /// Fallback text of the attachment.
    #[serde(default = "d_mm_fallback")]
    pub fallback: String,
    /// Attachment colour.
    #[serde(default = "d_mm_color")]
    pub color: String,
    /// Pretext.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pretext: String,
    /// Author name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author_name: String,
    /// Author link.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author_link: String,
    /// Author icon.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author_icon: String,
    /// Title.
    #[serde(default = "d_mm_title")]
    pub title: String,
    /// Title link.
    #[serde(default = "d_mm_titlelink")]
    pub title_link: String,
    /// Attachment fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<MattermostField>,
    /// Thumbnail URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thumb_url: String,
    /// Footer.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub footer: String,
    /// Footer icon.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub footer_icon: String,
    /// Image URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    /// Avatar URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon_url: String,
    /// Avatar emoji.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon_emoji: String,
    /// Explicit attachments; when set, they replace the one built from the fields above
    /// and `text` goes outside them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<MattermostAttachment>,
    /// Post type.
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Post props.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub props: Option<MattermostProps>,
    /// Message priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<MattermostPriority>,
}
fn d_mm_username() -> String {
    tpl("mattermost.default.username")
}
fn d_mm_text() -> String {
    tpl("mattermost.default.text")
}
fn d_mm_fallback() -> String {
    tpl("mattermost.default.fallback")
}
fn d_mm_color() -> String {
    tpl("mattermost.default.color")
}
fn d_mm_title() -> String {
    tpl("mattermost.default.title")
}
fn d_mm_titlelink() -> String {
    tpl("mattermost.default.titlelink")
}

/// A failed check: field path within the receiver and Alertmanager's message.
pub(crate) type FillErr = (String, String);

fn err(f: &str, m: impl Into<String>) -> FillErr {
    (f.to_string(), m.into())
}

/// Validates the entry's own `http_config` (if any) and falls back to the global one.
fn inherit_http(
    h: &mut Option<HttpClientConfig>,
    g: &GlobalConfig,
    field: &str,
) -> Result<(), FillErr> {
    match h {
        Some(h) => h
            .validate()
            .map_err(|m| (format!("{field}.http_config"), m)),
        None => {
            *h = Some(g.http_config.clone());
            Ok(())
        }
    }
}

/// Keys VictorOps' payload sets itself; `custom_fields` may not use them.
const VICTOROPS_RESERVED: [&str; 7] = [
    "routing_key",
    "message_type",
    "state_message",
    "entity_display_name",
    "monitoring_tool",
    "entity_id",
    "entity_state",
];

/// Checks the kinds of this module and fills in global defaults, in Alertmanager's
/// order (per kind: the entry's own checks, then the global fill).
pub(crate) fn fill(rcv: &mut Receiver, g: &GlobalConfig) -> Result<(), FillErr> {
    for (i, c) in rcv.pushover_configs.iter_mut().enumerate() {
        let f = format!("pushover_configs[{i}]");
        inherit_http(&mut c.http_config, g, &f)?;
        match (c.user_key.is_empty(), c.user_key_file.is_empty()) {
            (true, true) => {
                return Err(err(
                    &f,
                    "one of user_key or user_key_file must be configured",
                ));
            }
            (false, false) => {
                return Err(err(
                    &f,
                    "at most one of user_key & user_key_file must be configured",
                ));
            }
            _ => {}
        }
        match (c.token.is_empty(), c.token_file.is_empty()) {
            (true, true) => return Err(err(&f, "one of token or token_file must be configured")),
            (false, false) => {
                return Err(err(
                    &f,
                    "at most one of token & token_file must be configured",
                ));
            }
            _ => {}
        }
        if c.html && c.monospace {
            return Err(err(
                &f,
                "at most one of monospace & html must be configured",
            ));
        }
    }
    for (i, c) in rcv.incidentio_configs.iter_mut().enumerate() {
        let f = format!("incidentio_configs[{i}]");
        if let Some(h) = &mut c.http_config {
            h.validate().map_err(|m| (format!("{f}.http_config"), m))?;
        }
        match (&c.url, c.url_file.is_empty()) {
            (None, true) => return Err(err(&f, "one of url or url_file must be configured")),
            (Some(_), false) => {
                return Err(err(&f, "at most one of url & url_file must be configured"));
            }
            _ => {}
        }
        let has_token = !c.alert_source_token.is_empty() || !c.alert_source_token_file.is_empty();
        if !c.alert_source_token.is_empty() && !c.alert_source_token_file.is_empty() {
            return Err(err(
                &f,
                "at most one of alert_source_token & alert_source_token_file must be configured",
            ));
        }
        // As in Alertmanager, only an http_config written on the entry counts here.
        if let Some(h) = &c.http_config {
            if h.authorization.is_some() && has_token {
                return Err(err(
                    &f,
                    "cannot specify alert_source_token or alert_source_token_file when using http_config.authorization",
                ));
            }
            if h.authorization.is_none() && !has_token {
                return Err(err(
                    &f,
                    "at least one of alert_source_token, alert_source_token_file or http_config.authorization must be configured",
                ));
            }
        }
        if c.http_config.is_none() {
            c.http_config = Some(g.http_config.clone());
        }
    }
    for (i, c) in rcv.victorops_configs.iter_mut().enumerate() {
        let f = format!("victorops_configs[{i}]");
        inherit_http(&mut c.http_config, g, &f)?;
        if c.routing_key.is_empty() {
            return Err(err(&f, "missing Routing key in VictorOps config"));
        }
        if !c.api_key.is_empty() && !c.api_key_file.is_empty() {
            return Err(err(
                &f,
                "at most one of api_key & api_key_file must be configured",
            ));
        }
        if let Some(k) = VICTOROPS_RESERVED
            .iter()
            .find(|k| c.custom_fields.contains_key(**k))
        {
            return Err(err(
                &f,
                format!(
                    "victorOps config contains custom field {k} which cannot be used as it conflicts with the fixed/static fields"
                ),
            ));
        }
        if c.api_url.is_none() {
            c.api_url = g.victorops_api_url.clone();
        }
        match &mut c.api_url {
            None => return Err(err(&f, "no global VictorOps URL set")),
            Some(u) => add_trailing_slash(u),
        }
        if c.api_key.is_empty() {
            c.api_key = g.victorops_api_key.clone();
        }
        if c.api_key_file.is_empty() {
            c.api_key_file = g.victorops_api_key_file.clone();
        }
        if c.api_key.is_empty() && c.api_key_file.is_empty() {
            return Err(err(&f, "no global VictorOps API Key set"));
        }
    }
    for (i, c) in rcv.webex_configs.iter_mut().enumerate() {
        let f = format!("webex_configs[{i}]");
        let own = c.http_config.is_some();
        inherit_http(&mut c.http_config, g, &f)?;
        if c.room_id.is_empty() {
            return Err(err(&f, "missing room_id on webex_config"));
        }
        // Checked on the entry as written: a global authorization does not count.
        let has_auth = own
            && c.http_config
                .as_ref()
                .is_some_and(|h| h.authorization.is_some());
        if !has_auth {
            return Err(err(&f, "missing webex_configs.http_config.authorization"));
        }
        if c.api_url.is_none() {
            c.api_url = g.webex_api_url.clone();
        }
        if c.api_url.is_none() {
            return Err(err(&f, "no global Webex URL set"));
        }
    }
    for (i, c) in rcv.msteamsv2_configs.iter_mut().enumerate() {
        let f = format!("msteamsv2_configs[{i}]");
        match &mut c.http_config {
            Some(h) => {
                h.validate().map_err(|m| (format!("{f}.http_config"), m))?;
                // A partial http_config still goes through the global proxy.
                if h.proxy_url.is_empty() {
                    h.proxy_url = g.http_config.proxy_url.clone();
                }
            }
            None => c.http_config = Some(g.http_config.clone()),
        }
        match (&c.webhook_url, c.webhook_url_file.is_empty()) {
            (None, true) => {
                return Err(err(
                    &f,
                    "one of webhook_url or webhook_url_file must be configured",
                ));
            }
            (Some(_), false) => {
                return Err(err(
                    &f,
                    "at most one of webhook_url & webhook_url_file must be configured",
                ));
            }
            _ => {}
        }
    }
    for (i, c) in rcv.rocketchat_configs.iter_mut().enumerate() {
        let f = format!("rocketchat_configs[{i}]");
        inherit_http(&mut c.http_config, g, &f)?;
        if c.token.is_some() && !c.token_file.is_empty() {
            return Err(err(
                &f,
                "at most one of token & token_file must be configured",
            ));
        }
        if c.token_id.is_some() && !c.token_id_file.is_empty() {
            return Err(err(
                &f,
                "at most one of token_id & token_id_file must be configured",
            ));
        }
        if c.api_url.is_none() {
            c.api_url = g.rocketchat_api_url.clone();
        }
        if c.token_id.is_none() {
            c.token_id = g.rocketchat_token_id.clone();
        }
        if c.token_id_file.is_empty() {
            c.token_id_file = g.rocketchat_token_id_file.clone();
        }
        if c.token_id.is_none() && c.token_id_file.is_empty() {
            return Err(err(
                &f,
                "no global Rocketchat TokenID set either inline or in a file",
            ));
        }
        if c.token.is_none() {
            c.token = g.rocketchat_token.clone();
        }
        if c.token_file.is_empty() {
            c.token_file = g.rocketchat_token_file.clone();
        }
        if c.token.is_none() && c.token_file.is_empty() {
            return Err(err(
                &f,
                "no global Rocketchat Token set either inline or in a file",
            ));
        }
    }
    for (i, c) in rcv.mattermost_configs.iter_mut().enumerate() {
        let f = format!("mattermost_configs[{i}]");
        inherit_http(&mut c.http_config, g, &f)?;
        let fields = c
            .fields
            .iter()
            .chain(c.attachments.iter().flat_map(|a| &a.fields));
        for field in fields {
            if field.title.is_empty() {
                return Err(err(&f, "missing title in Mattermost field configuration"));
            }
            if field.value.is_empty() {
                return Err(err(&f, "missing value in Mattermost field configuration"));
            }
        }
        if c.webhook_url.is_some() && !c.webhook_url_file.is_empty() {
            return Err(err(
                &f,
                "at most one of webhook_url & webhook_url_file must be configured",
            ));
        }
        if c.webhook_url.is_none() && c.webhook_url_file.is_empty() {
            if g.mattermost_webhook_url.is_none() && g.mattermost_webhook_url_file.is_empty() {
                return Err(err(
                    &f,
                    "missing webhook_url or webhook_url_file on mattermost_config",
                ));
            }
            c.webhook_url = g.mattermost_webhook_url.clone();
            c.webhook_url_file = g.mattermost_webhook_url_file.clone();
        }
    }
    Ok(())
}

/// Alertmanager appends `/` to the URL's path (not to its query).
pub(crate) fn add_trailing_slash(u: &mut Url) {
    let (base, rest) = match u.0.find(['?', '#']) {
        Some(i) => u.0.split_at(i),
        None => (u.0.as_str(), ""),
    };
    if !base.ends_with('/') {
        u.0 = format!("{base}/{rest}");
    }
}

/// Resolves the `http_config` paths of these kinds (see `paths.rs`).
pub(crate) fn resolve_http_paths(rcv: &mut Receiver, join: &impl Fn(&str) -> String) {
    let lists = rcv
        .msteamsv2_configs
        .iter_mut()
        .map(|c| &mut c.http_config)
        .chain(rcv.victorops_configs.iter_mut().map(|c| &mut c.http_config))
        .chain(rcv.pushover_configs.iter_mut().map(|c| &mut c.http_config))
        .chain(rcv.webex_configs.iter_mut().map(|c| &mut c.http_config))
        .chain(
            rcv.incidentio_configs
                .iter_mut()
                .map(|c| &mut c.http_config),
        )
        .chain(
            rcv.rocketchat_configs
                .iter_mut()
                .map(|c| &mut c.http_config),
        )
        .chain(
            rcv.mattermost_configs
                .iter_mut()
                .map(|c| &mut c.http_config),
        );
    for h in lists.flatten() {
        h.resolve_paths(join);
    }
}

#[cfg(test)]
mod tests {
    use super::GoDuration;

    #[test]
    fn go_durations() {
        let p = |s: &str| GoDuration::parse(s).map(|d| d.0);
        assert_eq!(p("0"), Ok(0));
        assert_eq!(p("1m"), Ok(60_000_000_000));
        assert_eq!(p("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(p("1.5s"), Ok(1_500_000_000));
        assert_eq!(p(".5ms"), Ok(500_000));
        assert_eq!(p("-2us"), Ok(-2_000));
        assert_eq!(p("300µs"), Ok(300_000));
        assert_eq!(
            p("30"),
            Err("time: missing unit in duration \"30\"".to_string())
        );
        assert_eq!(
            p("1d"),
            Err("time: unknown unit \"d\" in duration \"1d\"".to_string())
        );
        assert_eq!(p(""), Err("time: invalid duration \"\"".to_string()));
        assert_eq!(p("."), Err("time: invalid duration \".\"".to_string()));
        let s = |n: i64| GoDuration(n).to_string();
        assert_eq!(s(0), "0s");
        assert_eq!(s(60_000_000_000), "1m0s");
        assert_eq!(s(3_600_000_000_000), "1h0m0s");
        assert_eq!(s(5_430_500_000_000), "1h30m30.5s");
        assert_eq!(s(1_500_000), "1.5ms");
        assert_eq!(s(-2_000), "-2µs");
        assert_eq!(s(999), "999ns");
        assert_eq!(GoDuration(90_500_000_000).whole_seconds(), 90);
    }
}
