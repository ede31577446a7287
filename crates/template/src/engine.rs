//! Shared machinery: function registry, parse → check → rewrite, building
//! gotmpl templates from rewritten trees, and mapping execution errors back
//! to source positions.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use gotmpl::parse::{ListNode, Parser};
use gotmpl::{FuncMap, Value};

use crate::check::{Validator, check_structure};
use crate::fields::field_chain;
use crate::funcs::{COMMON, FnError, FnImpl, RULE, SHARED_WITH_NOTIFY};
use crate::gofmt::{MapStyle, sprint_value};
use crate::notify_funcs::NOTIFY;
use crate::rewrite::{CALL_FN, FIELD_FN, Rewriter, STR_FN, Site};
use crate::{QuerySample, TemplateError};

/// Which product's semantics a template follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Prometheus alerting-rule labels/annotations.
    Rule,
    /// Alertmanager notifications.
    Notify,
}

/// gotmpl's own builtins that we keep.
const GOTMPL_BUILTINS: &[&str] = &[
    "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "len", "slice", "call", "html", "js",
    "urlquery",
];

/// Name the top-level tree is stored under inside gotmpl.
pub(crate) const ROOT: &str = "\u{1}root";

/// Prefix of error messages produced by our functions: carries the site id.
const MARK: &str = "\u{1}wf";

type QueryReply = Result<Vec<QuerySample>, String>;
pub(crate) type QueryRequest = (String, mpsc::Sender<QueryReply>);

/// Per-execution state our functions can see.
pub(crate) struct Ctx {
    pub(crate) mode: Mode,
    /// HTML mode prints a missing value as "" (Go's html/template does).
    pub(crate) html: bool,
    pub(crate) timestamp_ms: i64,
    pub(crate) external_url: String,
    /// Requests to the thread that owns the caller's `QueryFn`.
    pub(crate) query: Option<Mutex<mpsc::Sender<QueryRequest>>>,
}

impl Ctx {
    pub(crate) fn run_query(&self, q: &str) -> Result<Vec<QuerySample>, String> {
        let Some(tx) = &self.query else {
            return Err("no query engine available".into());
        };
        let (reply_tx, reply_rx) = mpsc::channel();
        tx.lock()
            .map_err(|_| "query channel poisoned".to_string())?
            .send((q.to_string(), reply_tx))
            .map_err(|_| "query engine gone".to_string())?;
        reply_rx
            .recv()
            .map_err(|_| "query engine gone".to_string())?
    }
}

pub(crate) fn lookup(mode: Mode, name: &str) -> Option<FnImpl> {
    let tables: &[&[(&str, FnImpl)]] = match mode {
        Mode::Rule => &[COMMON, RULE],
        Mode::Notify => &[COMMON, SHARED_WITH_NOTIFY, NOTIFY],
    };
    tables
        .iter()
        .flat_map(|t| t.iter())
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
}

/// Names of all functions a template in `mode` may call.
pub(crate) fn function_names(mode: Mode) -> Vec<&'static str> {
    let tables: &[&[(&str, FnImpl)]] = match mode {
        Mode::Rule => &[COMMON, RULE],
        Mode::Notify => &[COMMON, SHARED_WITH_NOTIFY, NOTIFY],
    };
    let mut v: Vec<&str> = tables
        .iter()
        .flat_map(|t| t.iter().map(|(n, _)| *n))
        .collect();
    v.extend(GOTMPL_BUILTINS);
    v.sort_unstable();
    v.dedup();
    v
}

fn is_known(mode: Mode, name: &str) -> bool {
    lookup(mode, name).is_some() || GOTMPL_BUILTINS.contains(&name)
}

fn fail(site: i64, msg: String) -> gotmpl::TemplateError {
    gotmpl::TemplateError::Exec(format!("{MARK}{site}:{msg}"))
}

fn site_of(args: &[Value]) -> i64 {
    match args.first() {
        Some(Value::Int(i)) => *i,
        _ => -1,
    }
}

/// The gotmpl functions our rewritten trees call.
pub(crate) fn func_map(ctx: Arc<Ctx>) -> FuncMap {
    let mut m = FuncMap::new();
    let c = ctx.clone();
    m.insert(
        CALL_FN.into(),
        Arc::new(move |args: &[Value]| {
            let site = site_of(args);
            let name = args.get(1).and_then(Value::as_str).unwrap_or("");
            let Some(f) = lookup(c.mode, name) else {
                return Err(fail(site, format!("function {name:?} not defined")));
            };
            match f(&c, args.get(2..).unwrap_or(&[])) {
                Ok(v) => Ok(v),
                Err(FnError::Arg(msg)) => Err(fail(site, msg)),
                Err(FnError::Call(msg)) => Err(fail(site, format!("error calling {name}: {msg}"))),
            }
        }),
    );
    let mode = ctx.mode;
    m.insert(
        FIELD_FN.into(),
        Arc::new(move |args: &[Value]| {
            let site = site_of(args);
            let recv = args.get(1).cloned().unwrap_or(Value::Nil);
            let n = match args.get(2) {
                Some(Value::Int(n)) => *n as usize,
                _ => 0,
            };
            let names: Vec<&str> = args
                .iter()
                .skip(3)
                .take(n)
                .map(|a| a.as_str().unwrap_or(""))
                .collect();
            let rest = args.get(3 + n..).unwrap_or(&[]);
            field_chain(mode, recv, &names, rest).map_err(|e| fail(site, e))
        }),
    );
    let html = ctx.html;
    let style = match ctx.mode {
        Mode::Rule => MapStyle::Go,
        Mode::Notify => MapStyle::Kv,
    };
    m.insert(
        STR_FN.into(),
        Arc::new(move |args: &[Value]| {
            Ok(match args.last() {
                Some(v @ (Value::String(_) | Value::Safe { .. })) => v.clone(),
                Some(Value::Nil) | None => {
                    Value::String(if html { "" } else { "<no value>" }.into())
                }
                Some(v) => Value::String(sprint_value(v, style).into()),
            })
        }),
    );
    m
}

/// A parsed, checked and rewritten source text.
pub(crate) struct Compiled {
    pub(crate) root: ListNode,
    pub(crate) defines: Vec<(String, ListNode)>,
    pub(crate) sites: Vec<Site>,
}

/// Parses `src` and runs Go's load-time checks.
pub(crate) fn parse_checked(
    mode: Mode,
    parse_name: &str,
    src: &str,
    predeclared: &[&str],
) -> Result<(ListNode, Vec<(String, ListNode)>), TemplateError> {
    let (root, defs) = Parser::with_name(Some(parse_name), src, "{{", "}}")
        .and_then(|p| p.parse())
        .map_err(|e| TemplateError::from_gotmpl_parse(parse_name, e))?;
    check_structure(parse_name, src)?;
    let known = |n: &str| is_known(mode, n);
    let mut v = Validator::new(parse_name, src, &known);
    v.check_tree(&root, predeclared)?;
    let mut defines: Vec<(String, ListNode)> = Vec::new();
    for d in defs {
        v.check_tree(&d.body, &[])?;
        let name = d.name.to_string();
        if let Some(slot) = defines.iter_mut().find(|(n, _)| *n == name) {
            // Go: a second non-empty body in one parse is an error; an empty
            // one never replaces.
            if d.body.is_empty_tree() {
                continue;
            }
            if !slot.1.is_empty_tree() {
                let (line, col) = crate::check::line_col(src, d.pos.offset);
                return Err(TemplateError::Parse {
                    name: parse_name.to_string(),
                    line,
                    col,
                    message: format!("template: multiple definition of template {name:?}"),
                });
            }
            slot.1 = d.body;
        } else {
            defines.push((name, d.body));
        }
    }
    Ok((root, defines))
}

/// Parses, checks and rewrites `src`; sites are numbered from `site_base`.
pub(crate) fn compile(
    mode: Mode,
    parse_name: &str,
    exec_name: &str,
    src: &str,
    predeclared: &[&str],
    line1_shift: usize,
    site_base: usize,
) -> Result<Compiled, TemplateError> {
    let (mut root, mut defines) = parse_checked(mode, parse_name, src, predeclared)?;
    let own = |n: &str| lookup(mode, n).is_some();
    let parse_name: Arc<str> = Arc::from(parse_name);
    let mut rw = Rewriter {
        src,
        parse_name: parse_name.clone(),
        executing: Arc::from(exec_name),
        line1_shift,
        site_base,
        sites: Vec::new(),
        is_own_fn: &own,
    };
    rw.list(&mut root);
    for (name, body) in &mut defines {
        rw.executing = Arc::from(name.as_str());
        rw.list(body);
    }
    Ok(Compiled {
        root,
        defines,
        sites: rw.sites,
    })
}

/// Turns a gotmpl execution error into ours, resolving our site marker.
pub(crate) fn map_exec_error(
    err: gotmpl::TemplateError,
    site: &dyn Fn(usize) -> Option<Site>,
    parse_name: &str,
    exec_name: &str,
) -> TemplateError {
    let generic = |message: String| TemplateError::Exec {
        name: parse_name.to_string(),
        line: 0,
        col: 0,
        executing: exec_name.to_string(),
        context: String::new(),
        message,
    };
    match err {
        gotmpl::TemplateError::Exec(msg) => {
            if let Some(rest) = msg.strip_prefix(MARK)
                && let Some((id, text)) = rest.split_once(':')
                && let Some(s) = id.parse::<usize>().ok().and_then(site)
            {
                return TemplateError::Exec {
                    name: s.parse_name.to_string(),
                    line: s.line,
                    col: s.col,
                    executing: s.executing.to_string(),
                    context: s.node,
                    message: text.to_string(),
                };
            }
            generic(msg)
        }
        gotmpl::TemplateError::UndefinedTemplate(n) => {
            generic(format!("template {n:?} not defined"))
        }
        other => generic(other.to_string()),
    }
}

/// Builds a text template over rewritten trees.
pub(crate) fn text_template<'a>(
    funcs: FuncMap,
    trees: impl IntoIterator<Item = (&'a str, &'a ListNode)>,
) -> gotmpl::Template {
    let mut t = gotmpl::Template::new(ROOT).funcs(funcs);
    for (name, tree) in trees {
        t = t.add_parse_tree(name, tree.clone());
    }
    t
}

/// Builds an HTML (contextually escaping) template over rewritten trees.
pub(crate) fn html_template<'a>(
    funcs: FuncMap,
    trees: impl IntoIterator<Item = (&'a str, &'a ListNode)>,
) -> Result<gotmpl::html::Template, gotmpl::TemplateError> {
    let mut t = gotmpl::html::Template::new(ROOT).funcs(funcs).parse("")?;
    for (name, tree) in trees {
        t = t.add_parse_tree(name, tree.clone())?;
    }
    Ok(t)
}
