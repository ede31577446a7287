//! Prometheus alerting-rule templates (labels and annotations).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, mpsc};

use gotmpl::Value;

use crate::TemplateError;
use crate::engine::{
    Compiled, Ctx, Mode, ROOT, compile, func_map, map_exec_error, parse_checked, text_template,
};

/// A sample returned by the `query` template function.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySample {
    /// The series' labels, including `__name__` when present.
    pub labels: BTreeMap<String, String>,
    /// The sample value.
    pub value: f64,
}

/// Runs a PromQL instant query for the `query` function. The rules engine
/// implements it (this crate does not depend on the PromQL engine); it is
/// called at the evaluation time given to [`expand_rule_template`].
pub trait QueryFn: Send + Sync {
    /// Evaluates `expr`; the error text becomes part of the template error.
    fn query(&self, expr: &str) -> Result<Vec<QuerySample>, String>;
}

/// Data for alerting-rule label/annotation templates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleTemplateData {
    /// The alert's labels (`$labels`, `.Labels`).
    pub labels: BTreeMap<String, String>,
    /// The server's external labels (`$externalLabels`).
    pub external_labels: BTreeMap<String, String>,
    /// The server's external URL (`$externalURL`).
    pub external_url: String,
    /// The alert's sample value (`$value`).
    pub value: f64,
}

/// Prometheus prepends these definitions to every rule template, on the same
/// line, so Go's error columns on line 1 include its length.
const PREAMBLE: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";
const PREAMBLE_VARS: &[&str] = &["$labels", "$externalLabels", "$externalURL", "$value"];

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(Arc::new(
        m.iter()
            .map(|(k, v)| (Arc::from(k.as_str()), Value::String(Arc::from(v.as_str()))))
            .collect(),
    ))
}

fn data_value(d: &RuleTemplateData) -> Value {
    let mut m = BTreeMap::new();
    m.insert(Arc::from("Labels"), string_map(&d.labels));
    m.insert(Arc::from("ExternalLabels"), string_map(&d.external_labels));
    m.insert(
        Arc::from("ExternalURL"),
        Value::String(Arc::from(d.external_url.as_str())),
    );
    m.insert(Arc::from("Value"), Value::Float(d.value));
    Value::Map(Arc::new(m))
}

/// Load-time check of a rule template (syntax, unknown functions, undefined
/// variables), as Prometheus does when loading rule files. Errors display
/// like Go's: `template: __alert_X:1: function "foo" not defined`.
pub fn validate_rule_template(name: &str, text: &str) -> Result<(), TemplateError> {
    parse_checked(Mode::Rule, name, text, PREAMBLE_VARS).map(|_| ())
}

/// Expands one alerting-rule template the way Prometheus does: the preamble
/// defines `$labels`, `$externalLabels`, `$externalURL` and `$value`, and the
/// fields `.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value` work too.
/// `name` appears in error messages (Prometheus uses `__alert_<alertname>`);
/// `timestamp_ms` is the evaluation time (`now`, and the time `query` runs
/// at, which is the `QueryFn`'s business).
///
/// Errors are [`TemplateError::Expansion`], displaying like Prometheus'
/// `error executing template NAME: template: NAME:1:120: executing ...`.
pub fn expand_rule_template(
    name: &str,
    text: &str,
    data: &RuleTemplateData,
    query: Option<&dyn QueryFn>,
    timestamp_ms: i64,
) -> Result<String, TemplateError> {
    let wrap = |parsing: bool| {
        move |e: TemplateError| TemplateError::Expansion {
            template: name.to_string(),
            parsing,
            source: Box::new(e),
        }
    };
    // Fast path: plain text needs no engine.
    if !text.contains("{{") {
        return Ok(text.to_string());
    }
    let pre = compile(Mode::Rule, name, name, PREAMBLE, &[], 0, 0).map_err(wrap(true))?;
    let user = compile(
        Mode::Rule,
        name,
        name,
        text,
        PREAMBLE_VARS,
        PREAMBLE.len(),
        pre.sites.len(),
    )
    .map_err(wrap(true))?;
    let run = |ctx: Ctx| execute(name, &pre, &user, ctx, data).map_err(wrap(false));
    let ctx = |q: Option<Mutex<mpsc::Sender<crate::engine::QueryRequest>>>| Ctx {
        mode: Mode::Rule,
        html: false,
        timestamp_ms,
        external_url: data.external_url.clone(),
        query: q,
    };
    match query {
        Some(q) if text.contains("query") => {
            // gotmpl functions must be 'static, so the borrowed QueryFn is
            // served from a scoped thread over a channel.
            std::thread::scope(|s| {
                let (tx, rx) = mpsc::channel::<crate::engine::QueryRequest>();
                s.spawn(move || {
                    for (expr, reply) in rx {
                        let _ = reply.send(q.query(&expr));
                    }
                });
                // The context (and so the sender) is dropped before the scope
                // joins, which ends the serving loop.
                run(ctx(Some(Mutex::new(tx))))
            })
        }
        _ => run(ctx(None)),
    }
}

fn execute(
    name: &str,
    pre: &Compiled,
    user: &Compiled,
    ctx: Ctx,
    data: &RuleTemplateData,
) -> Result<String, TemplateError> {
    let mut root = pre.root.clone();
    root.nodes.extend(user.root.nodes.iter().cloned());
    let trees =
        std::iter::once((ROOT, &root)).chain(user.defines.iter().map(|(n, t)| (n.as_str(), t)));
    let tmpl = text_template(func_map(Arc::new(ctx)), trees);
    let site = |i: usize| {
        pre.sites
            .get(i)
            .or_else(|| user.sites.get(i.wrapping_sub(pre.sites.len())))
            .cloned()
    };
    tmpl.execute_template_to_string(ROOT, &data_value(data))
        .map_err(|e| map_exec_error(e, &site, name, name))
}
