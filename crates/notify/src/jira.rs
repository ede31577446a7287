//! Jira (Alertmanager 0.28+): one issue per alert group, labelled
//! `ALERT{<sha256 of the group key>}`.
//!
//! Each notification searches the project for that label with JQL, then creates
//! the issue (firing groups only) or updates it, and finally runs the
//! `reopen_transition` on a done issue of a firing group or the
//! `resolve_transition` on an open issue of a resolved group. The search
//! endpoint depends on `api_type`: Jira Cloud's `/rest/api/3/search/jql` for
//! `cloud` (or `auto` with an `atlassian.net` host), the classic `/search`
//! otherwise. With an API v3 `api_url` the description must render to JSON
//! (Atlassian Document Format) and is sent as is.
//!
//! As in Alertmanager, transport errors are not retried (only 5xx and 429
//! answers are), and string leaves of `fields` that render to YAML data (a
//! number, list, map…) are sent as that data.

use crate::http::{HttpSender, JSON, Reply, check_status, encode_json};
use crate::util::{group_key, hash_key, is_firing, truncate_runes};
use crate::{Notifier, NotifyError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use watchfire_alertmanager_config::JiraConfig;
use watchfire_template::{NotificationData, NotificationTemplates};

/// Jira's limits, in characters.
const MAX_SUMMARY_RUNES: usize = 255;
const MAX_DESCRIPTION_RUNES: usize = 32767;

pub(crate) struct Jira {
    conf: JiraConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
    /// `api_url`.
    base: reqwest::Url,
}

#[derive(Serialize)]
struct Search {
    fields: [&'static str; 1],
    jql: String,
    #[serde(rename = "maxResults")]
    max_results: u32,
}

#[derive(Deserialize, Default)]
struct SearchResult {
    #[serde(default)]
    issues: Vec<Issue>,
}

#[derive(Deserialize, Default)]
struct Issue {
    #[serde(default)]
    key: String,
    #[serde(default)]
    fields: Option<IssueFields>,
}

#[derive(Deserialize, Default)]
struct IssueFields {
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Deserialize, Default)]
struct Status {
    #[serde(default, rename = "statusCategory")]
    category: Category,
}

#[derive(Deserialize, Default)]
struct Category {
    #[serde(default)]
    key: String,
}

#[derive(Deserialize)]
struct Transitions {
    #[serde(default)]
    transitions: Vec<Transition>,
}

#[derive(Deserialize)]
struct Transition {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
}

/// Go's `%q` of a string: double quotes with `"` and `\` escaped, control
/// characters as escapes.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `url` with `elem` appended to its path (Go's `URL.JoinPath`).
fn join_path(url: &reqwest::Url, elem: &str) -> reqwest::Url {
    let mut u = url.clone();
    let p = format!(
        "{}/{}",
        u.path().trim_end_matches('/'),
        elem.trim_start_matches('/')
    );
    u.set_path(&p);
    u
}

/// Alertmanager's `DeepCopyWithTemplate`: string leaves (and map keys) are
/// templates; a rendered leaf that reads as YAML data other than a string
/// becomes that data (`"0"` a number, `""` null).
fn render_value(
    v: &Value,
    t: &dyn Fn(&str) -> Result<String, NotifyError>,
) -> Result<Value, NotifyError> {
    Ok(match v {
        Value::String(s) => {
            let rendered = t(s)?;
            if rendered.trim().is_empty() {
                Value::Null
            } else {
                match serde_saphyr::from_str::<Value>(&rendered) {
                    Ok(Value::String(_)) | Err(_) => Value::String(rendered),
                    Ok(data) => data,
                }
            }
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| render_value(x, t))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                out.insert(t(k)?, render_value(x, t)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

impl Jira {
    pub fn new(
        c: &JiraConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        let Some(api_url) = &c.api_url else {
            return Err(NotifyError::permanent("no global Jira Cloud URL set"));
        };
        let base = reqwest::Url::parse(api_url.as_str())
            .map_err(|e| NotifyError::permanent(format!("invalid Jira api_url: {e}")))?;
        Ok(Jira {
            conf: c.clone(),
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
            base,
        })
    }

    /// One API call: JSON in and out, `Accept-Language: en`, Alertmanager's
    /// retry rules (429 and 5xx; transport errors are final).
    async fn call(
        &self,
        method: reqwest::Method,
        url: &reqwest::Url,
        body: Option<&impl Serialize>,
    ) -> Result<Reply, NotifyError> {
        let body = match body {
            Some(b) => encode_json(b)?,
            None => Vec::new(),
        };
        let reply = self
            .http
            .send_with_headers(
                method,
                url.as_str(),
                JSON,
                body,
                &[("accept-language", "en".to_string())],
            )
            .await
            .map_err(|e| NotifyError::permanent(e.message))?;
        check_status(&reply, &[429])?;
        Ok(reply)
    }

    /// The search URL for `api_type` (see the module docs).
    fn search_url(&self) -> reqwest::Url {
        let c = &self.conf;
        let cloud = c.api_type == "cloud"
            || (c.api_type == "auto"
                && self
                    .base
                    .host_str()
                    .is_some_and(|h| h.ends_with("atlassian.net")));
        if c.api_type != "datacenter" && cloud {
            let u = join_path(&self.base, "/search/jql");
            let text = u.as_str().replacen("/rest/api/2/", "/rest/api/3/", 1);
            return reqwest::Url::parse(&text).unwrap_or(u);
        }
        join_path(&self.base, "/search")
    }

    async fn find_issue(
        &self,
        label: &str,
        project: &str,
        firing: bool,
    ) -> Result<Option<Issue>, NotifyError> {
        let c = &self.conf;
        let mut jql = String::new();
        if !c.wont_fix_resolution.is_empty() {
            // `resolution != X` alone would skip unresolved issues.
            jql.push_str(&format!(
                "(resolution is EMPTY or resolution != {}) and ",
                go_quote(&c.wont_fix_resolution)
            ));
        }
        let reopen_minutes = c.reopen_duration.as_millis() / 60_000;
        if firing && !c.reopen_transition.is_empty() && reopen_minutes > 0 {
            jql.push_str(&format!(
                "(resolutiondate is EMPTY OR resolutiondate >= -{reopen_minutes}m) and "
            ));
        } else {
            jql.push_str("statusCategory != Done and ");
        }
        jql.push_str(&format!(
            "project={} and labels={} order by status ASC,resolutiondate DESC",
            go_quote(project),
            go_quote(label)
        ));
        tracing::debug!(%jql, "searching Jira issues");
        let search = Search {
            fields: ["status"],
            jql,
            max_results: 2,
        };
        let reply = self
            .call(reqwest::Method::POST, &self.search_url(), Some(&search))
            .await
            .map_err(|e| e.context("HTTP request to JIRA API"))?;
        let found: SearchResult = serde_json::from_slice(&reply.body)
            .map_err(|e| NotifyError::permanent(format!("decoding search result: {e}")))?;
        if found.issues.len() > 1 {
            tracing::warn!(
                selected_issue = %found.issues[0].key,
                "more than one Jira issue matched, selecting the most recently resolved"
            );
        }
        Ok(found.issues.into_iter().next())
    }

    /// The issue's `fields` object (keys sorted, as Go encodes a map).
    fn issue_fields(
        &self,
        data: &NotificationData,
        label: &str,
        project: &str,
        update: bool,
    ) -> Result<Map<String, Value>, NotifyError> {
        let c = &self.conf;
        let t = |s: &str, what: &str| {
            self.templates
                .execute_text(s, data)
                .map_err(|e| NotifyError::permanent(format!("{what} template: {e}")))
        };
        let summary = t(&c.summary.template, "summary")?;
        let issue_type = t(&c.issue_type, "issue_type")?;
        let leaf = |s: &str| t(s, "fields");
        let mut custom = Map::new();
        for (k, v) in &c.fields {
            custom.insert(k.clone(), render_value(v, &leaf)?);
        }
        let (summary, cut) = truncate_runes(&summary, MAX_SUMMARY_RUNES);
        if cut {
            tracing::warn!(max_runes = MAX_SUMMARY_RUNES, "truncated Jira summary");
        }
        let description = t(&c.description.template, "description")?;
        let (description, cut) = truncate_runes(&description, MAX_DESCRIPTION_RUNES);
        if cut {
            tracing::warn!(
                max_runes = MAX_DESCRIPTION_RUNES,
                "truncated Jira description"
            );
        }
        let v3 = self.base.path().trim_end_matches('/').ends_with("/3");
        let description = if v3 {
            let d = description.trim();
            if d.is_empty() {
                None
            } else {
                Some(serde_json::from_str::<Value>(d).map_err(|_| {
                    NotifyError::permanent("description template: invalid JSON for API v3")
                })?)
            }
        } else {
            (!description.is_empty()).then_some(Value::String(description))
        };
        let mut labels = Vec::with_capacity(c.labels.len() + 1);
        for (i, l) in c.labels.iter().enumerate() {
            labels.push(t(l, &format!("labels[{i}]"))?);
        }
        labels.push(label.to_string());
        labels.sort();
        let priority = t(&c.priority, "priority")?;

        let mut f = Map::new();
        if !update || c.summary.update_enabled() {
            f.insert("summary".into(), Value::String(summary));
        }
        if let Some(d) = description.filter(|_| !update || c.description.update_enabled()) {
            f.insert("description".into(), d);
        }
        f.insert(
            "issuetype".into(),
            serde_json::json!({ "name": issue_type }),
        );
        f.insert("labels".into(), serde_json::json!(labels));
        if !priority.is_empty() {
            f.insert("priority".into(), serde_json::json!({ "name": priority }));
        }
        f.insert("project".into(), serde_json::json!({ "key": project }));
        // Custom fields may replace any of the above, as in Alertmanager.
        f.extend(custom);
        Ok(f)
    }

    async fn transition(&self, issue: &Issue, firing: bool) -> Result<(), NotifyError> {
        let Some(status) = issue.fields.as_ref().and_then(|f| f.status.as_ref()) else {
            return Ok(());
        };
        if issue.key.is_empty() {
            return Ok(());
        }
        let done = status.category.key == "done";
        let name = match (firing, done) {
            (true, true) => &self.conf.reopen_transition,
            (false, false) => &self.conf.resolve_transition,
            _ => return Ok(()),
        };
        if name.is_empty() {
            return Ok(());
        }
        let url = join_path(&self.base, &format!("issue/{}/transitions", issue.key));
        let reply = self.call(reqwest::Method::GET, &url, None::<&()>).await?;
        let list: Transitions = serde_json::from_slice(&reply.body)
            .map_err(|e| NotifyError::permanent(format!("decoding transitions: {e}")))?;
        let Some(t) = list.transitions.iter().find(|t| t.name == *name) else {
            return Err(NotifyError::permanent(format!(
                "can't find transition {name} for issue {}",
                issue.key
            )));
        };
        tracing::debug!(issue_key = %issue.key, transition = %name, "transitioning Jira issue");
        let body = serde_json::json!({ "transition": { "id": t.id } });
        self.call(reqwest::Method::POST, &url, Some(&body)).await?;
        Ok(())
    }
}

impl Notifier for Jira {
    const KIND: &'static str = "jira";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        let label = format!("ALERT{{{}}}", hash_key(group_key(data)?));
        let firing = is_firing(data);
        let project = self
            .templates
            .execute_text(&self.conf.project, data)
            .map_err(|e| {
                NotifyError::permanent(format!(
                    "failed to look up existing issues: invalid project template or value: {e}"
                ))
            })?;
        let existing = self
            .find_issue(&label, &project, firing)
            .await
            .map_err(|e| e.context("failed to look up existing issues"))?;
        if existing.is_none() && !firing {
            // Nothing to resolve, and no issue is opened for a resolved group.
            return Ok(());
        }
        let (method, path) = match &existing {
            Some(i) => (reqwest::Method::PUT, format!("issue/{}", i.key)),
            None => (reqwest::Method::POST, "issue".to_string()),
        };
        let fields = self.issue_fields(data, &label, &project, existing.is_some())?;
        let url = join_path(&self.base, &path);
        self.call(
            method.clone(),
            &url,
            Some(&serde_json::json!({ "fields": fields })),
        )
        .await
        .map_err(|e| e.context(format!("failed to {method} request to {path:?}")))?;
        match &existing {
            Some(i) => self.transition(i, firing).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_paths() {
        assert_eq!(go_quote("Won't \"fix\"\\"), r#""Won't \"fix\"\\""#);
        assert_eq!(go_quote("ALERT{ab}"), "\"ALERT{ab}\"");
        let base = reqwest::Url::parse("https://x.atlassian.net/rest/api/2/").unwrap();
        assert_eq!(
            join_path(&base, "/search").as_str(),
            "https://x.atlassian.net/rest/api/2/search"
        );
        assert_eq!(
            join_path(&base, "issue/OPS-1").as_str(),
            "https://x.atlassian.net/rest/api/2/issue/OPS-1"
        );
    }

    #[test]
    fn rendered_fields_become_data() {
        let t = |s: &str| -> Result<String, NotifyError> { Ok(s.replace("X", "")) };
        let v = serde_json::json!({
            "a": "0", "b": "red", "c": ["1.5", "true", "x: 1"], "d": "", "e": 3,
            "f": "\"quoted\"", "g": "value1:", "kX": "[1, 2]",
        });
        assert_eq!(
            render_value(&v, &t).unwrap(),
            serde_json::json!({
                "a": 0, "b": "red", "c": [1.5, true, {"x": 1}], "d": null, "e": 3,
                "f": "\"quoted\"", "g": {"value1": null}, "k": [1, 2],
            })
        );
    }
}
