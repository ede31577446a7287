//! Template functions shared by both engines and Prometheus' rule-template
//! set. Semantics follow Prometheus' `template/template.go` and
//! `prometheus/common/helpers/templates`.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{SafeKind, Value};

use crate::engine::{Ctx, Mode};
use crate::gofmt::{
    MapStyle, format_float, go_float, go_type_name, is_string_map, sprint, sprintf, sprintln,
};
use crate::gotime::{GoTime, duration_string, parse_go_duration};

/// Why a function call failed. Go words argument-type problems differently
/// from errors the function itself returns (`error calling f: ...`).
#[derive(Debug)]
pub(crate) enum FnError {
    /// Bad arity or argument type.
    Arg(String),
    /// The function returned an error.
    Call(String),
}

pub(crate) type FnResult = Result<Value, FnError>;
/// Signature of every built-in function implementation.
pub(crate) type FnImpl = fn(&Ctx, &[Value]) -> FnResult;

pub(crate) fn sv(v: impl Into<Arc<str>>) -> Value {
    Value::String(v.into())
}

pub(crate) fn call_err(msg: impl Into<String>) -> FnError {
    FnError::Call(msg.into())
}

pub(crate) fn nargs(name: &str, args: &[Value], n: usize) -> Result<(), FnError> {
    if args.len() != n {
        return Err(FnError::Arg(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        )));
    }
    Ok(())
}

/// A string argument. A nil (missing value) reads as "", which is what Go's
/// `missingkey=zero` gives for label maps.
pub(crate) fn string_arg(v: &Value) -> Result<String, FnError> {
    match v {
        Value::String(s) | Value::Safe { s, .. } => Ok(s.to_string()),
        Value::Nil => Ok(String::new()),
        other => Err(FnError::Arg(format!(
            "wrong type for value; expected string; got {}",
            go_type_name(other)
        ))),
    }
}

/// Prometheus' `ConvertToFloat`: floats, integers and numeric strings. Go
/// duration strings (our `time.Duration` values) count as seconds.
pub(crate) fn to_float(v: &Value) -> Result<f64, FnError> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Uint(u) => Ok(*u as f64),
        Value::String(s) => parse_go_float(s)
            .or_else(|| {
                s.bytes()
                    .any(|b| b.is_ascii_alphabetic())
                    .then(|| parse_go_duration(s))
                    .flatten()
                    .map(|ns| ns as f64 / 1e9)
            })
            .ok_or_else(|| call_err(format!("strconv.ParseFloat: parsing {s:?}: invalid syntax"))),
        other => Err(call_err(format!(
            "can't convert {} to float",
            go_type_name(other)
        ))),
    }
}

/// Go's `strconv.ParseFloat` for the common spellings (`1.5`, `1e3`, `+Inf`, `NaN`).
pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan") {
        return s.parse().ok().or(match body {
            "nan" => Some(f64::NAN),
            _ if lower.starts_with('-') => Some(f64::NEG_INFINITY),
            _ => Some(f64::INFINITY),
        });
    }
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE_".contains(&b))
    {
        return None;
    }
    s.replace('_', "").parse().ok()
}

fn g4(v: f64) -> String {
    format_float(v, 'g', Some(4))
}

pub(crate) fn humanize(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("humanize", a, 1)?;
    let mut v = to_float(&a[0])?;
    if v == 0.0 || !v.is_finite() {
        return Ok(sv(g4(v)));
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    Ok(sv(format!("{}{prefix}", g4(v))))
}

pub(crate) fn humanize1024(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("humanize1024", a, 1)?;
    let mut v = to_float(&a[0])?;
    if v.abs() <= 1.0 || !v.is_finite() {
        return Ok(sv(g4(v)));
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    Ok(sv(format!("{}{prefix}", g4(v))))
}

pub(crate) fn humanize_duration(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("humanizeDuration", a, 1)?;
    let mut v = to_float(&a[0])?;
    if !v.is_finite() {
        return Ok(sv(g4(v)));
    }
    if v == 0.0 {
        return Ok(sv(format!("{}s", g4(v))));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        v = v.abs();
        let d = v as i64;
        let (secs, mins, hours, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        let out = if days != 0 {
            format!("{sign}{days}d {hours}h {mins}m {secs}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {mins}m {secs}s")
        } else if mins != 0 {
            format!("{sign}{mins}m {secs}s")
        } else {
            format!("{sign}{}s", g4(v))
        };
        return Ok(sv(out));
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    Ok(sv(format!("{}{prefix}s", g4(v))))
}

fn humanize_percentage(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("humanizePercentage", a, 1)?;
    let v = to_float(&a[0])?;
    Ok(sv(format!("{}%", g4(v * 100.0))))
}

/// Prometheus' float seconds → time conversion (millisecond precision, UTC).
fn float_to_time(v: f64) -> Result<GoTime, FnError> {
    let ns = v * 1e9;
    if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
        return Err(call_err(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            go_float(v)
        )));
    }
    // model.TimeFromUnixNano truncates to milliseconds.
    let ms = (ns as i64) / 1_000_000;
    GoTime::from_unix_millis(ms).ok_or_else(|| call_err("timestamp out of range"))
}

fn humanize_timestamp(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("humanizeTimestamp", a, 1)?;
    let v = to_float(&a[0])?;
    if !v.is_finite() {
        return Ok(sv(g4(v)));
    }
    Ok(sv(float_to_time(v)?.to_go_string()))
}

fn to_time(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("toTime", a, 1)?;
    let v = to_float(&a[0])?;
    if !v.is_finite() {
        return Err(call_err("value is NaN or Inf"));
    }
    Ok(sv(float_to_time(v)?.to_go_string()))
}

fn to_duration(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("toDuration", a, 1)?;
    let v = to_float(&a[0])?;
    Ok(sv(duration_string((v * 1e9) as i64)))
}

fn now(ctx: &Ctx, a: &[Value]) -> FnResult {
    nargs("now", a, 0)?;
    match ctx.mode {
        Mode::Rule => Ok(Value::Float(ctx.timestamp_ms as f64 / 1000.0)),
        Mode::Notify => Ok(sv(GoTime::utc(jiff::Timestamp::now()).to_go_string())),
    }
}

fn parse_duration(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("parseDuration", a, 1)?;
    let s = string_arg(&a[0])?;
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.as_str()),
    };
    if body.is_empty() {
        return Err(call_err("empty duration string"));
    }
    let ms = watchfire_model::parse_duration_ms(body)
        .ok_or_else(|| call_err(format!("not a valid duration string: {body:?}")))?;
    let secs = ms as f64 / 1000.0;
    Ok(Value::Float(if neg { -secs } else { secs }))
}

fn url_query_escape(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("urlQueryEscape", a, 1)?;
    Ok(sv(watchfire_model::go_query_escape(&string_arg(&a[0])?)))
}

fn graph_link(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("graphLink", a, 1)?;
    Ok(sv(format!(
        "/graph?g0.expr={}&g0.tab=0",
        watchfire_model::go_query_escape(&string_arg(&a[0])?)
    )))
}

fn table_link(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("tableLink", a, 1)?;
    Ok(sv(format!(
        "/graph?g0.expr={}&g0.tab=1",
        watchfire_model::go_query_escape(&string_arg(&a[0])?)
    )))
}

fn external_url(ctx: &Ctx, a: &[Value]) -> FnResult {
    nargs("externalURL", a, 0)?;
    Ok(sv(ctx.external_url.as_str()))
}

fn path_prefix(ctx: &Ctx, a: &[Value]) -> FnResult {
    nargs("pathPrefix", a, 0)?;
    let u = ctx.external_url.as_str();
    let after_scheme = u.find("://").map_or(u, |i| &u[i + 3..]);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("");
    Ok(sv(path))
}

/// Go's `net.SplitHostPort`.
fn split_host_port(hp: &str) -> Option<(String, String)> {
    if let Some(rest) = hp.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &rest[..end];
        let port = rest[end + 1..].strip_prefix(':')?;
        if port.contains(':') || port.contains('[') || port.contains(']') {
            return None;
        }
        return Some((host.to_string(), port.to_string()));
    }
    let i = hp.rfind(':')?;
    let (host, port) = (&hp[..i], &hp[i + 1..]);
    if host.contains(':') || host.contains('[') || host.contains(']') || port.contains(']') {
        return None;
    }
    Some((host.to_string(), port.to_string()))
}

fn strip_port(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("stripPort", a, 1)?;
    let hp = string_arg(&a[0])?;
    Ok(sv(split_host_port(&hp).map_or(hp, |(h, _)| h)))
}

fn strip_domain(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("stripDomain", a, 1)?;
    let hp = string_arg(&a[0])?;
    let (host, port) = split_host_port(&hp).unwrap_or_else(|| (hp.clone(), String::new()));
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(sv(hp));
    }
    let host = host.split('.').next().unwrap_or("").to_string();
    if port.is_empty() {
        return Ok(sv(host));
    }
    Ok(sv(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }))
}

fn compile(pattern: &str) -> Result<regex::Regex, FnError> {
    regex::Regex::new(pattern).map_err(|e| call_err(format!("error parsing regexp: {e}")))
}

fn re_replace_all(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("reReplaceAll", a, 3)?;
    let (p, repl, text) = (string_arg(&a[0])?, string_arg(&a[1])?, string_arg(&a[2])?);
    let re = compile(&p)?;
    Ok(sv(re.replace_all(&text, repl.as_str()).into_owned()))
}

fn match_fn(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("match", a, 2)?;
    let re = compile(&string_arg(&a[0])?)?;
    Ok(Value::Bool(re.is_match(&string_arg(&a[1])?)))
}

/// `cases.Title`: upper-cases the first letter of each word. Alertmanager's
/// variant also lower-cases the rest; Prometheus' keeps it (`cases.NoLower`).
fn title(ctx: &Ctx, a: &[Value]) -> FnResult {
    nargs("title", a, 1)?;
    let s = string_arg(&a[0])?;
    let mut out = String::with_capacity(s.len());
    let mut prev: Option<char> = None;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        // Apostrophes and dots between letters do not start a new word.
        let joined = |p: char| {
            p.is_alphanumeric()
                || p == '_'
                || ((p == '\'' || p == '.' || p == ':')
                    && i >= 2
                    && chars[i - 2].is_alphanumeric()
                    && c.is_alphanumeric())
        };
        let word_start = prev.is_none_or(|p| !joined(p));
        if word_start {
            out.extend(c.to_uppercase());
        } else if ctx.mode == Mode::Notify {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    Ok(sv(out))
}

fn to_upper(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("toUpper", a, 1)?;
    Ok(sv(string_arg(&a[0])?.to_uppercase()))
}

fn to_lower(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("toLower", a, 1)?;
    Ok(sv(string_arg(&a[0])?.to_lowercase()))
}

fn safe_html(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("safeHtml", a, 1)?;
    Ok(Value::Safe {
        kind: SafeKind::Html,
        s: string_arg(&a[0])?.into(),
    })
}

fn query(ctx: &Ctx, a: &[Value]) -> FnResult {
    nargs("query", a, 1)?;
    let q = string_arg(&a[0])?;
    let samples = ctx.run_query(&q).map_err(call_err)?;
    let list: Vec<Value> = samples
        .into_iter()
        .map(|smp| {
            let labels: BTreeMap<Arc<str>, Value> = smp
                .labels
                .iter()
                .map(|(k, v)| (Arc::from(k.as_str()), sv(v.as_str())))
                .collect();
            let mut m = BTreeMap::new();
            m.insert(Arc::from("Labels"), Value::Map(Arc::new(labels)));
            m.insert(Arc::from("Value"), Value::Float(smp.value));
            Value::Map(Arc::new(m))
        })
        .collect();
    Ok(Value::List(list.into()))
}

fn sample_arg(v: &Value) -> Result<&Value, FnError> {
    match v {
        Value::Map(_) => Ok(v),
        other => Err(FnError::Arg(format!(
            "wrong type for value; expected *template.sample; got {}",
            go_type_name(other)
        ))),
    }
}

fn first(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("first", a, 1)?;
    match &a[0] {
        Value::List(l) => l
            .first()
            .cloned()
            .ok_or_else(|| call_err("first() called on vector with no elements")),
        Value::Nil => Err(call_err("first() called on vector with no elements")),
        other => Err(FnError::Arg(format!(
            "wrong type for value; expected template.queryResult; got {}",
            go_type_name(other)
        ))),
    }
}

fn sample_label(smp: &Value, name: &str) -> Value {
    smp.field("Labels")
        .and_then(|l| l.field(name))
        .cloned()
        .unwrap_or_else(|| sv(""))
}

fn label(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("label", a, 2)?;
    let name = string_arg(&a[0])?;
    Ok(sample_label(sample_arg(&a[1])?, &name))
}

fn value(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("value", a, 1)?;
    Ok(sample_arg(&a[0])?
        .field("Value")
        .cloned()
        .unwrap_or(Value::Nil))
}

fn strvalue(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("strvalue", a, 1)?;
    Ok(sample_label(sample_arg(&a[0])?, "__value__"))
}

fn sort_by_label(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("sortByLabel", a, 2)?;
    let name = string_arg(&a[0])?;
    let Value::List(l) = &a[1] else {
        return Err(FnError::Arg(format!(
            "wrong type for value; expected template.queryResult; got {}",
            go_type_name(&a[1])
        )));
    };
    let mut v: Vec<Value> = l.to_vec();
    let key = |x: &Value| sample_label(x, &name).as_str().unwrap_or("").to_string();
    v.sort_by_key(key);
    Ok(Value::List(v.into()))
}

fn args_fn(_: &Ctx, a: &[Value]) -> FnResult {
    let m: BTreeMap<Arc<str>, Value> = a
        .iter()
        .enumerate()
        .map(|(i, v)| (Arc::from(format!("arg{i}")), v.clone()))
        .collect();
    Ok(Value::Map(Arc::new(m)))
}

fn style(ctx: &Ctx) -> MapStyle {
    match ctx.mode {
        Mode::Rule => MapStyle::Go,
        Mode::Notify => MapStyle::Kv,
    }
}

fn print_fn(ctx: &Ctx, a: &[Value]) -> FnResult {
    Ok(sv(sprint(a, style(ctx))))
}

fn println_fn(ctx: &Ctx, a: &[Value]) -> FnResult {
    Ok(sv(sprintln(a, style(ctx))))
}

fn printf_fn(ctx: &Ctx, a: &[Value]) -> FnResult {
    let Some(f) = a.first() else {
        return Err(FnError::Arg(
            "wrong number of args for printf: want at least 1 got 0".into(),
        ));
    };
    Ok(sv(sprintf(&string_arg(f)?, &a[1..], style(ctx))))
}

/// Go's `index`, with `missingkey=zero` semantics for string maps.
fn index_fn(_: &Ctx, a: &[Value]) -> FnResult {
    let Some(mut v) = a.first().cloned() else {
        return Err(FnError::Arg(
            "wrong number of args for index: want at least 1 got 0".into(),
        ));
    };
    for idx in &a[1..] {
        v = match (&v, idx) {
            (Value::Map(m), Value::String(k)) => match m.get(&**k) {
                Some(x) => x.clone(),
                None if is_string_map(&v) => sv(""),
                None => Value::Nil,
            },
            (Value::List(l), Value::Int(i)) => usize::try_from(*i)
                .ok()
                .and_then(|i| l.get(i).cloned())
                .ok_or_else(|| call_err(format!("error calling index: index out of range: {i}")))?,
            (Value::Nil, _) => return Err(call_err("error calling index: index of untyped nil")),
            (other, k) => {
                return Err(call_err(format!(
                    "error calling index: cannot index {} with {}",
                    go_type_name(other),
                    go_type_name(k)
                )));
            }
        };
    }
    Ok(v)
}

/// Functions every engine has (our replacements for gotmpl builtins that
/// format values or look up map keys).
pub(crate) const COMMON: &[(&str, FnImpl)] = &[
    ("print", print_fn),
    ("printf", printf_fn),
    ("println", println_fn),
    ("index", index_fn),
];

/// Prometheus' rule-template functions.
pub(crate) const RULE: &[(&str, FnImpl)] = &[
    ("query", query),
    ("first", first),
    ("label", label),
    ("value", value),
    ("strvalue", strvalue),
    ("args", args_fn),
    ("reReplaceAll", re_replace_all),
    ("safeHtml", safe_html),
    ("match", match_fn),
    ("title", title),
    ("toUpper", to_upper),
    ("toLower", to_lower),
    ("graphLink", graph_link),
    ("tableLink", table_link),
    ("sortByLabel", sort_by_label),
    ("stripPort", strip_port),
    ("stripDomain", strip_domain),
    ("humanize", humanize),
    ("humanize1024", humanize1024),
    ("humanizeDuration", humanize_duration),
    ("humanizePercentage", humanize_percentage),
    ("humanizeTimestamp", humanize_timestamp),
    ("toTime", to_time),
    ("toDuration", to_duration),
    ("now", now),
    ("pathPrefix", path_prefix),
    ("externalURL", external_url),
    ("parseDuration", parse_duration),
    ("urlQueryEscape", url_query_escape),
];

/// Alertmanager's template functions (see `notify_funcs.rs` for the rest).
pub(crate) const SHARED_WITH_NOTIFY: &[(&str, FnImpl)] = &[
    ("toUpper", to_upper),
    ("toLower", to_lower),
    ("title", title),
    ("match", match_fn),
    ("safeHtml", safe_html),
    ("reReplaceAll", re_replace_all),
    ("humanizeDuration", humanize_duration),
    ("now", now),
];
