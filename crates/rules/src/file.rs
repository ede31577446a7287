//! Rule files: decoding (`groups:` → rules) and Prometheus' validation, with
//! errors placed at `line:column` of the offending YAML node.

use crate::RuleError;
use crate::yamlerr::go_yaml_error;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use watchfire_promql::ParseOptions;

/// Whether a rule records a series or raises alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RuleKind {
    /// `record:`
    Recording,
    /// `alert:`
    Alerting,
}

/// One rule as written in a file (group labels not merged yet).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDef {
    /// Recording or alerting.
    pub kind: RuleKind,
    /// The `record` or `alert` name.
    pub name: String,
    /// The PromQL expression as written.
    pub expr: String,
    /// `for` in ms (alerting rules).
    pub for_ms: i64,
    /// `keep_firing_for` in ms (alerting rules).
    pub keep_firing_for_ms: i64,
    /// `labels` (may hold templates for alerting rules).
    pub labels: BTreeMap<String, String>,
    /// `annotations` (alerting rules).
    pub annotations: BTreeMap<String, String>,
}

impl RuleDef {
    /// The rule's labels with the group's labels underneath (rule labels win), as
    /// Prometheus merges them.
    pub fn merged_labels(&self, group: &RuleGroup) -> BTreeMap<String, String> {
        let mut m = group.labels.clone();
        m.extend(self.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        m
    }
}

/// A group of rules evaluated in order, as written in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroup {
    /// Group name, unique within its file.
    pub name: String,
    /// The file it came from, as given to the loader.
    pub file: String,
    /// `interval` in ms; `None` means the global evaluation interval.
    pub interval_ms: Option<i64>,
    /// `limit` (0 = none).
    pub limit: usize,
    /// `query_offset` in ms; `None` means the global default.
    pub query_offset_ms: Option<i64>,
    /// Group `labels`, added to every rule.
    pub labels: BTreeMap<String, String>,
    /// The rules in evaluation order.
    pub rules: Vec<RuleDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    groups: Option<Vec<Spanned<RawGroup>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    query_offset: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    rules: Option<Vec<RawRule>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    record: Option<Spanned<String>>,
    #[serde(default)]
    alert: Option<Spanned<String>>,
    #[serde(default)]
    expr: Option<Spanned<String>>,
    #[serde(default, rename = "for")]
    for_: Option<String>,
    #[serde(default)]
    keep_firing_for: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

/// `line:column` of a node; `0:0` when the node is absent, as yaml.v3 prints it.
fn pos(s: &Option<Spanned<String>>) -> String {
    match s {
        Some(s) => format!("{}:{}", s.referenced.line(), s.referenced.column()),
        None => "0:0".into(),
    }
}

fn value(s: &Option<Spanned<String>>) -> &str {
    s.as_ref().map(|s| s.value.as_str()).unwrap_or("")
}

fn parse_dur(field: &str, s: &Option<String>) -> Result<i64, String> {
    match s.as_deref() {
        None | Some("") => Ok(0),
        Some(t) => watchfire_model::parse_duration_ms(t)
            .ok_or_else(|| format!("{field}: not a valid duration string: {t:?}")),
    }
}

/// A label name valid under Prometheus 3's UTF-8 name validation.
pub(crate) fn valid_label_name(n: &str) -> bool {
    !n.is_empty()
}

/// Parses and validates the text of one rule file. `file` is used in messages.
/// Errors are worded like Prometheus' `rulefmt` (without the `file: ` prefix).
/// Expressions are checked without experimental PromQL; see [`parse_rules_with`].
pub fn parse_rules(file: &str, text: &str) -> Result<Vec<RuleGroup>, Vec<String>> {
    parse_rules_with(file, text, &ParseOptions::default())
}

/// [`parse_rules`], checking expressions with the PromQL features the engine that will
/// evaluate them has turned on (`--enable-feature=promql-experimental-functions`, ...).
pub fn parse_rules_with(
    file: &str,
    text: &str,
    promql: &ParseOptions,
) -> Result<Vec<RuleGroup>, Vec<String>> {
    let raw: RawFile = serde_saphyr::from_str(text).map_err(|e| vec![go_yaml_error(&e)])?;
    let mut errs = Vec::new();
    let mut groups = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for g in raw.groups.unwrap_or_default() {
        let gpos = format!("{}:{}", g.referenced.line(), g.referenced.column());
        let g = g.value;
        let name = g.name.unwrap_or_default();
        if name.is_empty() {
            errs.push(format!("{gpos}: Groupname must not be empty"));
        }
        if !seen.insert(name.clone()) {
            errs.push(format!(
                "{gpos}: groupname: \"{name}\" is repeated in the same file"
            ));
        }
        let labels = g.labels.unwrap_or_default();
        for k in labels.keys() {
            if !valid_label_name(k) || k == "__name__" {
                errs.push(format!("invalid label name: {k}"));
            }
        }
        let interval_ms = match parse_dur("interval", &g.interval) {
            Ok(0) => None,
            Ok(v) => Some(v),
            Err(e) => {
                errs.push(e);
                None
            }
        };
        let query_offset_ms = match g.query_offset {
            None => None,
            Some(ref s) => match parse_dur("query_offset", &Some(s.clone())) {
                Ok(v) => Some(v),
                Err(e) => {
                    errs.push(e);
                    None
                }
            },
        };
        let limit = match g.limit {
            Some(l) if l < 0 => {
                errs.push(format!("limit: must not be negative, got {l}"));
                0
            }
            Some(l) => l as usize,
            None => 0,
        };
        let mut rules = Vec::new();
        for (i, r) in g.rules.unwrap_or_default().into_iter().enumerate() {
            let rule_name = if !value(&r.alert).is_empty() {
                value(&r.alert)
            } else {
                value(&r.record)
            }
            .to_string();
            let prefix = |p: Option<String>, msg: String| match p {
                Some(p) => format!("{p}: group {name:?}, rule {}, {rule_name:?}: {msg}", i + 1),
                None => format!("group {name:?}, rule {}, {rule_name:?}: {msg}", i + 1),
            };
            match validate_rule(&r, promql) {
                Ok(def) => rules.push(def),
                Err(list) => errs.extend(list.into_iter().map(|(p, m)| prefix(p, m))),
            }
        }
        groups.push(RuleGroup {
            name,
            file: file.to_string(),
            interval_ms,
            limit,
            query_offset_ms,
            labels,
            rules,
        });
    }
    if errs.is_empty() {
        Ok(groups)
    } else {
        Err(errs)
    }
}

type Problems = Vec<(Option<String>, String)>;

/// Checks one rule as Prometheus does, in its order; each problem carries the
/// position to print (if any).
fn validate_rule(r: &RawRule, promql: &ParseOptions) -> Result<RuleDef, Problems> {
    let mut p: Problems = Vec::new();
    let record = value(&r.record);
    let alert = value(&r.alert);
    let both = format!("{}: {}", pos(&r.record), pos(&r.alert));
    if !record.is_empty() && !alert.is_empty() {
        p.push((
            Some(both.clone()),
            "only one of 'record' and 'alert' must be set".into(),
        ));
    }
    if record.is_empty() && alert.is_empty() {
        p.push((Some(both), "one of 'record' or 'alert' must be set".into()));
    }
    let expr = value(&r.expr);
    if expr.is_empty() {
        p.push((
            Some(pos(&r.expr)),
            "field 'expr' must be set in rule".into(),
        ));
    } else if let Err(e) = watchfire_promql::parse_with_options(expr, promql) {
        p.push((
            Some(pos(&r.expr)),
            format!("could not parse expression: {e}"),
        ));
    }
    let for_ms = parse_dur("for", &r.for_).unwrap_or_else(|e| {
        p.push((None, e));
        0
    });
    let keep_ms = parse_dur("keep_firing_for", &r.keep_firing_for).unwrap_or_else(|e| {
        p.push((None, e));
        0
    });
    let labels = r.labels.clone().unwrap_or_default();
    let annotations = r.annotations.clone().unwrap_or_default();
    if !record.is_empty() {
        let at = Some(pos(&r.record));
        if !annotations.is_empty() {
            p.push((
                at.clone(),
                "invalid field 'annotations' in recording rule".into(),
            ));
        }
        if for_ms != 0 {
            p.push((at.clone(), "invalid field 'for' in recording rule".into()));
        }
        if keep_ms != 0 {
            p.push((
                at.clone(),
                "invalid field 'keep_firing_for' in recording rule".into(),
            ));
        }
        if !valid_label_name(record) {
            p.push((at.clone(), format!("invalid recording rule name: {record}")));
        }
        if record.contains(['{', '}']) {
            p.push((
                at,
                format!(
                    "braces present in the recording rule name; should it be in expr?: {record}"
                ),
            ));
        }
    }
    for k in labels.keys() {
        if !valid_label_name(k) || k == "__name__" {
            p.push((None, format!("invalid label name: {k}")));
        }
    }
    for k in annotations.keys() {
        if !valid_label_name(k) {
            p.push((None, format!("invalid annotation name: {k}")));
        }
    }
    if !alert.is_empty() {
        let tmpl_name = format!("__alert_{alert}");
        for (k, v) in &labels {
            if let Err(e) = watchfire_template::validate_rule_template(&tmpl_name, v) {
                p.push((None, format!("label {k:?}: {e}")));
            }
        }
        for (k, v) in &annotations {
            if let Err(e) = watchfire_template::validate_rule_template(&tmpl_name, v) {
                p.push((None, format!("annotation {k:?}: {e}")));
            }
        }
    }
    if !p.is_empty() {
        return Err(p);
    }
    let (kind, name) = if alert.is_empty() {
        (RuleKind::Recording, record.to_string())
    } else {
        (RuleKind::Alerting, alert.to_string())
    };
    Ok(RuleDef {
        kind,
        name,
        expr: expr.to_string(),
        for_ms,
        keep_firing_for_ms: keep_ms,
        labels,
        annotations,
    })
}

/// Reads and validates one rule file; errors are prefixed with the path.
pub fn load_rule_file(
    path: &Path,
    promql: &ParseOptions,
) -> Result<Vec<RuleGroup>, Vec<RuleError>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![RuleError::File {
            file: file.clone(),
            message: format!("open {file}: {}", crate::go_io_error(&e)),
        }]
    })?;
    parse_rules_with(&file, &text, promql).map_err(|errs| {
        errs.into_iter()
            .map(|message| RuleError::File {
                file: file.clone(),
                message,
            })
            .collect()
    })
}

/// Loads every file, reporting the problems of all of them (Prometheus stops at the
/// first broken file; listing all is friendlier and prints the same lines).
/// Expressions are checked without experimental PromQL; see [`load_rule_files_with`].
pub fn load_rule_files(paths: &[PathBuf]) -> Result<Vec<RuleGroup>, Vec<RuleError>> {
    load_rule_files_with(paths, &ParseOptions::default())
}

/// [`load_rule_files`] with the PromQL features of the engine that evaluates the rules.
pub fn load_rule_files_with(
    paths: &[PathBuf],
    promql: &ParseOptions,
) -> Result<Vec<RuleGroup>, Vec<RuleError>> {
    let mut groups = Vec::new();
    let mut errs = Vec::new();
    for p in paths {
        match load_rule_file(p, promql) {
            Ok(g) => groups.extend(g),
            Err(e) => errs.extend(e),
        }
    }
    if errs.is_empty() {
        Ok(groups)
    } else {
        Err(errs)
    }
}
