//! Alertmanager notification templates: built-in defaults plus user files,
//! executed against [`NotificationData`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use gotmpl::Value;

use crate::TemplateError;
use crate::engine::{
    Ctx, Mode, ROOT, compile, func_map, html_template, map_exec_error, text_template,
};
use crate::gotime::GoTime;
use crate::rewrite::Site;

/// One alert as notification templates see it (Alertmanager's
/// `template.Alert`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertData {
    /// `firing` or `resolved`.
    pub status: String,
    /// The alert's labels.
    pub labels: BTreeMap<String, String>,
    /// The alert's annotations.
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339 start time (`.StartsAt` prints as Go's `time.Time`).
    pub starts_at: String,
    /// RFC 3339 end time; empty or unparsable means Go's zero time.
    pub ends_at: String,
    /// Link back to the source (`.GeneratorURL`).
    pub generator_url: String,
    /// Alert fingerprint, 16 hex digits.
    pub fingerprint: String,
}

/// Data for one notification (Alertmanager's `template.Data`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotificationData {
    /// Receiver name; templates see it escaped with Go's `regexp.QuoteMeta`,
    /// as Alertmanager does.
    pub receiver: String,
    /// `firing` if any alert fires, else `resolved`.
    pub status: String,
    /// The alerts in the group.
    pub alerts: Vec<AlertData>,
    /// The group-by labels.
    pub group_labels: BTreeMap<String, String>,
    /// Labels shared by all alerts.
    pub common_labels: BTreeMap<String, String>,
    /// Annotations shared by all alerts.
    pub common_annotations: BTreeMap<String, String>,
    /// Alertmanager's external URL.
    pub external_url: String,
    /// The group key (`.GroupKey`; not a field of Alertmanager's template data).
    pub group_key: String,
    /// Alerts left out because of a receiver's `max_alerts` (not exposed to
    /// templates; notifiers put it in webhook payloads).
    pub truncated_alerts: u64,
}

/// Our default templates: same names and similar output as Alertmanager's
/// `default.tmpl` and `email.tmpl`.
const DEFAULT_TEMPLATES: &str = include_str!("default.tmpl");

/// A compiled set of named templates (defaults, then user files) that
/// receiver config strings are executed against.
pub struct NotificationTemplates {
    text: gotmpl::Template,
    html: gotmpl::html::Template,
    sites: Arc<Vec<Site>>,
    names: Vec<String>,
}

impl std::fmt::Debug for NotificationTemplates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationTemplates")
            .field("templates", &self.names)
            .finish()
    }
}

fn ctx(html: bool) -> Arc<Ctx> {
    Arc::new(Ctx {
        mode: Mode::Notify,
        html,
        timestamp_ms: 0,
        external_url: String::new(),
        query: None,
    })
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn kv(m: &BTreeMap<String, String>) -> Value {
    Value::Map(Arc::new(
        m.iter()
            .map(|(k, v)| (Arc::from(k.as_str()), Value::String(Arc::from(v.as_str()))))
            .collect(),
    ))
}

fn time_value(rfc3339: &str) -> Value {
    let t = GoTime::parse_rfc3339(rfc3339)
        .or_else(|| GoTime::parse_rfc3339("0001-01-01T00:00:00Z"))
        .map(|t| t.to_go_string())
        .unwrap_or_else(|| "0001-01-01 00:00:00 +0000 UTC".into());
    Value::String(t.into())
}

fn s(v: &str) -> Value {
    Value::String(Arc::from(v))
}

impl AlertData {
    fn to_value(&self) -> Value {
        let mut m = BTreeMap::new();
        m.insert(Arc::from("Status"), s(&self.status));
        m.insert(Arc::from("Labels"), kv(&self.labels));
        m.insert(Arc::from("Annotations"), kv(&self.annotations));
        m.insert(Arc::from("StartsAt"), time_value(&self.starts_at));
        m.insert(Arc::from("EndsAt"), time_value(&self.ends_at));
        m.insert(Arc::from("GeneratorURL"), s(&self.generator_url));
        m.insert(Arc::from("Fingerprint"), s(&self.fingerprint));
        Value::Map(Arc::new(m))
    }
}

impl NotificationData {
    /// The template data value (Go field names).
    pub(crate) fn to_value(&self) -> Value {
        let mut m = BTreeMap::new();
        m.insert(Arc::from("Receiver"), s(&quote_meta(&self.receiver)));
        m.insert(Arc::from("Status"), s(&self.status));
        let alerts: Vec<Value> = self.alerts.iter().map(AlertData::to_value).collect();
        m.insert(Arc::from("Alerts"), Value::List(alerts.into()));
        m.insert(Arc::from("GroupLabels"), kv(&self.group_labels));
        m.insert(Arc::from("CommonLabels"), kv(&self.common_labels));
        m.insert(Arc::from("CommonAnnotations"), kv(&self.common_annotations));
        m.insert(Arc::from("ExternalURL"), s(&self.external_url));
        m.insert(Arc::from("GroupKey"), s(&self.group_key));
        Value::Map(Arc::new(m))
    }
}

/// Expands one `templates:` glob relative to `base_dir`, sorted like Go's
/// `filepath.Glob`. No match is not an error (Alertmanager allows it).
fn expand_glob(pattern: &str, base_dir: &Path) -> Result<Vec<std::path::PathBuf>, TemplateError> {
    let full = if Path::new(pattern).is_absolute() {
        pattern.to_string()
    } else {
        base_dir.join(pattern).to_string_lossy().into_owned()
    };
    let paths = glob::glob(&full).map_err(|e| TemplateError::Glob {
        pattern: pattern.to_string(),
        message: e.msg.to_string(),
    })?;
    let mut out: Vec<_> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    Ok(out)
}

impl NotificationTemplates {
    /// Built-in default templates plus user files from `templates:` globs
    /// (relative globs resolve against `base_dir`, the config file's
    /// directory). Later definitions replace earlier ones, so user files can
    /// override defaults.
    pub fn new(user_template_globs: &[String], base_dir: &Path) -> Result<Self, TemplateError> {
        let mut sources: Vec<(String, String)> =
            vec![("default.tmpl".into(), DEFAULT_TEMPLATES.into())];
        for g in user_template_globs {
            for path in expand_glob(g, base_dir)? {
                let text = std::fs::read_to_string(&path).map_err(|e| TemplateError::Io {
                    path: path.display().to_string(),
                    source: e,
                })?;
                // Go names a parsed file by its base name.
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                sources.push((name, text));
            }
        }
        let mut sites: Vec<Site> = Vec::new();
        let mut defines: BTreeMap<String, gotmpl::parse::ListNode> = BTreeMap::new();
        for (name, text) in &sources {
            let c = compile(Mode::Notify, name, name, text, &[], 0, sites.len())?;
            sites.extend(c.sites);
            for (n, body) in c.defines {
                // An empty body never replaces an existing definition (Go).
                if body.is_empty_tree() && defines.contains_key(&n) {
                    continue;
                }
                defines.insert(n, body);
            }
            // A non-empty top level of a file becomes a template named after it.
            if !c.root.is_empty_tree() {
                defines.insert(name.clone(), c.root);
            }
        }
        let trees = || defines.iter().map(|(n, t)| (n.as_str(), t));
        let text = text_template(func_map(ctx(false)), trees());
        let html =
            html_template(func_map(ctx(true)), trees()).map_err(|e| TemplateError::Parse {
                name: String::new(),
                line: 1,
                col: 1,
                message: e.to_string(),
            })?;
        Ok(NotificationTemplates {
            text,
            html,
            sites: Arc::new(sites),
            names: defines.keys().cloned().collect(),
        })
    }

    /// Names of all defined templates, sorted.
    pub fn template_names(&self) -> &[String] {
        &self.names
    }

    fn site_lookup<'a>(&'a self, extra: &'a [Site]) -> impl Fn(usize) -> Option<Site> + 'a {
        move |i| {
            self.sites
                .get(i)
                .or_else(|| extra.get(i.wrapping_sub(self.sites.len())))
                .cloned()
        }
    }

    /// Executes a template *string* from a receiver config (for example
    /// `{{ template "slack.default.title" . }}`) against the data. An empty
    /// string gives an empty result, as in Alertmanager.
    pub fn execute_text(
        &self,
        text: &str,
        data: &NotificationData,
    ) -> Result<String, TemplateError> {
        if text.is_empty() {
            return Ok(String::new());
        }
        let c = compile(Mode::Notify, "", "", text, &[], 0, self.sites.len())?;
        let mut t = self.text.clone();
        for (n, body) in &c.defines {
            t = t.add_parse_tree(n, body.clone());
        }
        t = t.add_parse_tree(ROOT, c.root.clone());
        t.execute_template_to_string(ROOT, &data.to_value())
            .map_err(|e| map_exec_error(e, &self.site_lookup(&c.sites), "", ""))
    }

    /// Like [`execute_text`](Self::execute_text) with Go `html/template`
    /// contextual escaping (email HTML bodies); `safeHtml`/`safeUrl` values
    /// are not escaped.
    pub fn execute_html(
        &self,
        text: &str,
        data: &NotificationData,
    ) -> Result<String, TemplateError> {
        if text.is_empty() {
            return Ok(String::new());
        }
        let c = compile(Mode::Notify, "", "", text, &[], 0, self.sites.len())?;
        let exec_err = |e| map_exec_error(e, &self.site_lookup(&c.sites), "", "");
        let mut t = self.html.clone();
        for (n, body) in &c.defines {
            t = t.add_parse_tree(n, body.clone()).map_err(exec_err)?;
        }
        t = t.add_parse_tree(ROOT, c.root.clone()).map_err(exec_err)?;
        t.execute_to_string(&data.to_value()).map_err(exec_err)
    }
}
