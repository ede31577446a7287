//! WeChat Work and Amazon SNS notifier configurations, with Alertmanager's checks
//! and global defaults.
//!
//! As in `receivers_chat_paging.rs`, each entry's own checks (Alertmanager's
//! `UnmarshalYAML`) run first and the global fill second. SNS has no global
//! settings besides `http_config`; its credentials live in the `sigv4` block,
//! whose checks are those of `prometheus/sigv4`.

use crate::config::GlobalConfig;
use crate::receivers::Receiver;
use crate::receivers::{is_false, tpl, yes};
use crate::receivers_chat_paging::{FillErr, add_trailing_slash};
use crate::values::{HttpClientConfig, Secret, Url};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn err(f: &str, m: impl Into<String>) -> FillErr {
    (f.to_string(), m.into())
}

/// `wechat_configs` entry (WeChat Work application messages).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WechatConfig {
    /// Notify about resolved alerts (default false).
    #[serde(default)]
    pub send_resolved: bool,
    /// HTTP client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Corp secret (global `wechat_api_secret` when neither it nor the file is set;
    /// a template).
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub api_secret: Secret,
    /// File holding the corp secret, read at every token refresh.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_secret_file: String,
    /// Corp id (global `wechat_api_corp_id` when empty; a template).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub corp_id: String,
    /// Message (template).
    #[serde(default = "d_wechat_message")]
    pub message: String,
    /// API base (global `wechat_api_url` when absent); ends in `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    /// Recipient users (template).
    #[serde(default = "d_wechat_to_user")]
    pub to_user: String,
    /// Recipient departments (template).
    #[serde(default = "d_wechat_to_party")]
    pub to_party: String,
    /// Recipient tags (template).
    #[serde(default = "d_wechat_to_tag")]
    pub to_tag: String,
    /// Application id (template).
    #[serde(default = "d_wechat_agent_id")]
    pub agent_id: String,
    /// `text` (the default when empty) or `markdown`.
    #[serde(default)]
    pub message_type: String,
}
fn d_wechat_message() -> String {
    tpl("wechat.default.message")
}
fn d_wechat_to_user() -> String {
    tpl("wechat.default.to_user")
}
fn d_wechat_to_party() -> String {
    tpl("wechat.default.to_party")
}
fn d_wechat_to_tag() -> String {
    tpl("wechat.default.to_tag")
}
fn d_wechat_agent_id() -> String {
    tpl("wechat.default.agent_id")
}

/// The `sigv4` block of an SNS entry (`prometheus/sigv4`'s settings). Empty
/// credentials are looked up in the environment when sending.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SigV4Config {
    /// AWS region (else `AWS_REGION` / `AWS_DEFAULT_REGION`, then the profile's).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// Access key id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub access_key: String,
    /// Secret access key.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub secret_key: Secret,
    /// Profile of the shared credentials/config files.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub profile: String,
    /// Role to assume through STS (not supported by Watchfire: sending fails).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub role_arn: String,
    /// External id for the role (requires `role_arn`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub external_id: String,
    /// Use the FIPS STS endpoint (only meaningful with `role_arn`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub use_fips_sts_endpoint: bool,
}

/// `sns_configs` entry (Amazon SNS `Publish`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SnsConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Endpoint override (template); empty means the region's SNS endpoint.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_url: String,
    /// Signing settings and credentials.
    #[serde(default)]
    pub sigv4: SigV4Config,
    /// Topic to publish to (template); a `.fifo` topic gets group/dedup ids.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub topic_arn: String,
    /// Phone number for an SMS (template).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone_number: String,
    /// Mobile endpoint (template).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target_arn: String,
    /// Subject (template).
    #[serde(default = "d_sns_subject")]
    pub subject: String,
    /// Message (template).
    #[serde(default = "d_sns_message")]
    pub message: String,
    /// String message attributes (keys and values are templates).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Alertmanager switch for the AWS SDK's own HTTP client; Watchfire always
    /// uses `http_config`, so it is accepted and has no effect.
    #[serde(default, skip_serializing_if = "is_false")]
    pub use_aws_http_client: bool,
}
fn d_sns_subject() -> String {
    tpl("sns.default.subject")
}
fn d_sns_message() -> String {
    tpl("sns.default.message")
}

/// Checks WeChat and SNS entries and fills in global defaults.
pub(crate) fn fill(rcv: &mut Receiver, g: &GlobalConfig) -> Result<(), FillErr> {
    for (i, c) in rcv.wechat_configs.iter_mut().enumerate() {
        let f = format!("wechat_configs[{i}]");
        if let Some(h) = &mut c.http_config {
            h.validate().map_err(|m| (format!("{f}.http_config"), m))?;
        }
        if c.message_type.is_empty() {
            c.message_type = "text".into();
        }
        if c.message_type != "text" && c.message_type != "markdown" {
            return Err(err(
                &f,
                format!(
                    "weChat message type {:?} does not match valid options ^(text|markdown)$",
                    c.message_type
                ),
            ));
        }
        if !c.api_secret.is_empty() && !c.api_secret_file.is_empty() {
            return Err(err(
                &f,
                "at most one of api_secret & api_secret_file must be configured",
            ));
        }
        if c.http_config.is_none() {
            c.http_config = Some(g.http_config.clone());
        }
        if c.api_url.is_none() {
            c.api_url = g.wechat_api_url.clone();
        }
        let Some(u) = &mut c.api_url else {
            return Err(err(&f, "no global Wechat URL set"));
        };
        add_trailing_slash(u);
        if c.api_secret.is_empty() && c.api_secret_file.is_empty() {
            if g.wechat_api_secret.is_empty() && g.wechat_api_secret_file.is_empty() {
                return Err(err(
                    &f,
                    "no global Wechat Api Secret set either inline or in a file",
                ));
            }
            c.api_secret = g.wechat_api_secret.clone();
            c.api_secret_file = g.wechat_api_secret_file.clone();
        }
        if c.corp_id.is_empty() {
            c.corp_id = g.wechat_api_corp_id.clone();
        }
        if c.corp_id.is_empty() {
            return Err(err(&f, "no global Wechat CorpID set"));
        }
    }
    for (i, c) in rcv.sns_configs.iter_mut().enumerate() {
        let f = format!("sns_configs[{i}]");
        if let Some(h) = &mut c.http_config {
            h.validate().map_err(|m| (format!("{f}.http_config"), m))?;
        }
        let s = &c.sigv4;
        if s.access_key.is_empty() != s.secret_key.is_empty() {
            return Err(err(
                &format!("{f}.sigv4"),
                "must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config",
            ));
        }
        if !s.external_id.is_empty() && s.role_arn.is_empty() {
            return Err(err(
                &format!("{f}.sigv4"),
                "external_id can only be used with role_arn",
            ));
        }
        // Alertmanager's check is an exclusive-or of the three "is empty" flags, so
        // it accepts exactly one target, and also all three at once.
        let empties = [&c.target_arn, &c.topic_arn, &c.phone_number]
            .iter()
            .filter(|s| s.is_empty())
            .count();
        if empties % 2 == 1 {
            return Err(err(
                &f,
                "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config",
            ));
        }
        if c.http_config.is_none() {
            c.http_config = Some(g.http_config.clone());
        }
    }
    Ok(())
}

/// Warnings for settings these kinds accept but Watchfire does not act on.
pub(crate) fn warnings(rcv: &Receiver) -> Vec<String> {
    rcv.sns_configs
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.sigv4.role_arn.is_empty())
        .map(|(i, _)| {
            format!(
                "receiver {:?}: sns_configs[{i}].sigv4.role_arn: assuming a role through STS is not supported by Watchfire; notifications will fail",
                rcv.name
            )
        })
        .collect()
}

/// Resolves the `http_config` paths of these kinds (see `paths.rs`).
pub(crate) fn resolve_http_paths(rcv: &mut Receiver, join: &impl Fn(&str) -> String) {
    let lists = rcv
        .wechat_configs
        .iter_mut()
        .map(|c| &mut c.http_config)
        .chain(rcv.sns_configs.iter_mut().map(|c| &mut c.http_config));
    for h in lists.flatten() {
        h.resolve_paths(join);
    }
}
