//! The Jira notifier configuration (Alertmanager 0.28+), with its checks and the
//! global `jira_api_url` default.

use crate::config::GlobalConfig;
use crate::receivers::Receiver;
use crate::receivers::{tpl, yes};
use crate::receivers_chat_paging::FillErr;
use crate::values::{Duration, HttpClientConfig, Url};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// A templated issue field that can be left alone when an existing issue is
/// updated. Written either as the template itself or as
/// `{template: ..., enable_update: false}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JiraFieldConfig {
    /// The template.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub template: String,
    /// Whether an update of an existing issue sets the field (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_update: Option<bool>,
}

impl JiraFieldConfig {
    /// `enable_update`, true when unset.
    pub fn update_enabled(&self) -> bool {
        self.enable_update.unwrap_or(true)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FieldForm {
    Text(String),
    Object(FieldObject),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldObject {
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    enable_update: Option<bool>,
}

/// Decodes either form; an object without `template` keeps the default, as
/// Alertmanager decodes over its defaults.
fn field_with_default<'de, D: Deserializer<'de>>(
    d: D,
    default: &str,
) -> Result<JiraFieldConfig, D::Error> {
    Ok(match FieldForm::deserialize(d)? {
        FieldForm::Text(template) => JiraFieldConfig {
            template,
            enable_update: None,
        },
        FieldForm::Object(o) => JiraFieldConfig {
            template: o.template.unwrap_or_else(|| tpl(default)),
            enable_update: o.enable_update,
        },
    })
}

fn de_summary<'de, D: Deserializer<'de>>(d: D) -> Result<JiraFieldConfig, D::Error> {
    field_with_default(d, "jira.default.summary")
}
fn de_description<'de, D: Deserializer<'de>>(d: D) -> Result<JiraFieldConfig, D::Error> {
    field_with_default(d, "jira.default.description")
}
fn d_summary() -> JiraFieldConfig {
    JiraFieldConfig {
        template: tpl("jira.default.summary"),
        enable_update: None,
    }
}
fn d_description() -> JiraFieldConfig {
    JiraFieldConfig {
        template: tpl("jira.default.description"),
        enable_update: None,
    }
}
fn d_priority() -> String {
    tpl("jira.default.priority")
}
fn d_api_type() -> String {
    "auto".into()
}
fn is_zero(d: &Duration) -> bool {
    d.0 == 0
}

/// `jira_configs` entry: one issue per alert group, found again through the
/// `ALERT{<group key hash>}` label.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JiraConfig {
    /// Notify about resolved alerts (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// HTTP client; carries the credentials (`basic_auth`, `authorization`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// REST API base, such as `https://x.atlassian.net/rest/api/2` (global
    /// `jira_api_url` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    /// `auto` (default), `cloud` or `datacenter`: picks the search endpoint.
    #[serde(default = "d_api_type")]
    pub api_type: String,
    /// Project key (template).
    #[serde(default)]
    pub project: String,
    /// Summary (template).
    #[serde(default = "d_summary", deserialize_with = "de_summary")]
    pub summary: JiraFieldConfig,
    /// Description (template); JSON (Atlassian Document Format) for API v3.
    #[serde(default = "d_description", deserialize_with = "de_description")]
    pub description: JiraFieldConfig,
    /// Labels (templates), besides the group's `ALERT{...}` label.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Priority name (template); none is set when it renders empty.
    #[serde(default = "d_priority")]
    pub priority: String,
    /// Issue type name (template).
    #[serde(default)]
    pub issue_type: String,
    /// Transition that reopens a done issue when the group fires again.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reopen_transition: String,
    /// Transition that resolves the issue when the group resolves.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resolve_transition: String,
    /// Resolution of issues never to reopen or reuse.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub wont_fix_resolution: String,
    /// How long after resolution an issue is reopened instead of a new one made.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reopen_duration: Duration,
    /// Other issue fields (`customfield_...`); string leaves are templates.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, serde_json::Value>,
}

fn err(f: &str, m: &str) -> FillErr {
    (f.to_string(), m.to_string())
}

/// Checks Jira entries and fills in global defaults.
pub(crate) fn fill(rcv: &mut Receiver, g: &GlobalConfig) -> Result<(), FillErr> {
    for (i, c) in rcv.jira_configs.iter_mut().enumerate() {
        let f = format!("jira_configs[{i}]");
        if let Some(h) = &mut c.http_config {
            h.validate().map_err(|m| (format!("{f}.http_config"), m))?;
        }
        if c.project.is_empty() {
            return Err(err(&f, "missing project in jira_config"));
        }
        if c.issue_type.is_empty() {
            return Err(err(&f, "missing issue_type in jira_config"));
        }
        if !["auto", "cloud", "datacenter"].contains(&c.api_type.as_str()) {
            return Err(err(
                &f,
                "unknown api_type on jira_config, must be auto, cloud or datacenter",
            ));
        }
        if c.http_config.is_none() {
            c.http_config = Some(g.http_config.clone());
        }
        if c.api_url.is_none() {
            c.api_url = g.jira_api_url.clone();
        }
        if c.api_url.is_none() {
            return Err(err(&f, "no global Jira Cloud URL set"));
        }
    }
    Ok(())
}

/// Resolves the `http_config` paths of Jira entries (see `paths.rs`).
pub(crate) fn resolve_http_paths(rcv: &mut Receiver, join: &impl Fn(&str) -> String) {
    for h in rcv
        .jira_configs
        .iter_mut()
        .filter_map(|c| c.http_config.as_mut())
    {
        h.resolve_paths(join);
    }
}
