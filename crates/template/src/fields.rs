//! Field access and Go method emulation behind `__wf_field`.
//!
//! Data reaches templates as gotmpl maps and lists, so the Go methods that
//! Alertmanager's types carry are recognised by shape: a string-valued map
//! is a `KV`, a list of maps with a `Status` key is `Alerts`, a list of
//! `{Name, Value}` maps is `Pairs`, a list of strings is `Strings`, and a
//! string in `Time.String()` form is a `time.Time`. Prometheus' rule data
//! has plain maps, so only the time/duration methods apply there.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;

use crate::engine::Mode;
use crate::gofmt::{
    MapStyle, go_type_name, is_pair_list, is_string_map, kv_sorted_keys, sprint_value,
};
use crate::gotime::{GoTime, duration_string, parse_go_duration};

fn s(v: impl Into<Arc<str>>) -> Value {
    Value::String(v.into())
}

/// Walks `names` from `recv`; the last name receives `args` (method
/// arguments, including a piped value).
pub(crate) fn field_chain(
    mode: Mode,
    recv: Value,
    names: &[&str],
    args: &[Value],
) -> Result<Value, String> {
    let mut v = recv;
    for (i, name) in names.iter().enumerate() {
        let margs: &[Value] = if i + 1 == names.len() { args } else { &[] };
        v = access(mode, &v, name, margs)?;
    }
    Ok(v)
}

fn access(mode: Mode, v: &Value, name: &str, args: &[Value]) -> Result<Value, String> {
    if let Some(r) = method(mode, v, name, args) {
        return r;
    }
    match v {
        Value::Map(m) => {
            if !args.is_empty() {
                return Err(format!("{name} is not a method but has arguments"));
            }
            Ok(match m.get(name) {
                Some(x) => x.clone(),
                // missingkey=zero: a string map yields "", others nil.
                None if is_string_map(v) => s(""),
                None => Value::Nil,
            })
        }
        Value::Nil => Ok(Value::Nil),
        other => Err(format!(
            "can't evaluate field {name} in type {}",
            go_type_name(other)
        )),
    }
}

fn want(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ));
    }
    Ok(())
}

fn strings_of(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::List(items) => items
            .iter()
            .map(|i| match i {
                Value::String(x) | Value::Safe { s: x, .. } => Some(x.to_string()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn is_alert_list(items: &[Value]) -> bool {
    items
        .iter()
        .all(|i| matches!(i, Value::Map(m) if m.contains_key("Status") && m.contains_key("Labels")))
}

fn method(mode: Mode, v: &Value, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
    match v {
        Value::String(text) => string_method(text, name, args),
        Value::Map(m) if mode == Mode::Notify && is_string_map(v) => kv_method(v, m, name, args),
        Value::List(items) if mode == Mode::Notify => list_method(items, name, args),
        _ => None,
    }
}

fn kv_method(
    v: &Value,
    m: &BTreeMap<Arc<str>, Value>,
    name: &str,
    args: &[Value],
) -> Option<Result<Value, String>> {
    let pairs = || -> Vec<Value> {
        kv_sorted_keys(m)
            .into_iter()
            .map(|k| {
                let mut p = BTreeMap::new();
                p.insert(Arc::from("Name"), s(k));
                p.insert(
                    Arc::from("Value"),
                    m.get(k).cloned().unwrap_or_else(|| s("")),
                );
                Value::Map(Arc::new(p))
            })
            .collect()
    };
    let r = match name {
        "SortedPairs" => want(name, args, 0).map(|()| Value::List(pairs().into())),
        "Names" => want(name, args, 0).map(|()| {
            Value::List(
                kv_sorted_keys(m)
                    .into_iter()
                    .map(s)
                    .collect::<Vec<_>>()
                    .into(),
            )
        }),
        "Values" => want(name, args, 0).map(|()| {
            Value::List(
                kv_sorted_keys(m)
                    .into_iter()
                    .map(|k| m.get(k).cloned().unwrap_or_else(|| s("")))
                    .collect::<Vec<_>>()
                    .into(),
            )
        }),
        "Remove" => want(name, args, 1).and_then(|()| {
            let keys = strings_of(&args[0]).ok_or_else(|| {
                format!(
                    "wrong type for value; expected []string; got {}",
                    go_type_name(&args[0])
                )
            })?;
            let out: BTreeMap<Arc<str>, Value> = m
                .iter()
                .filter(|(k, _)| !keys.iter().any(|x| x.as_str() == &***k))
                .map(|(k, x)| (k.clone(), x.clone()))
                .collect();
            Ok(Value::Map(Arc::new(out)))
        }),
        "String" => want(name, args, 0).map(|()| s(sprint_value(v, MapStyle::Kv))),
        _ => return None,
    };
    Some(r)
}

fn list_method(items: &Arc<[Value]>, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
    let r = match name {
        // An empty list has no element type to go by: Go would know it from the
        // static type, so every list method answers an empty result.
        "Firing" | "Resolved" | "Names" | "Values" if items.is_empty() => {
            want(name, args, 0).map(|()| Value::List(Vec::new().into()))
        }
        "Firing" | "Resolved" if is_alert_list(items) => want(name, args, 0).map(|()| {
            let status = if name == "Firing" {
                "firing"
            } else {
                "resolved"
            };
            Value::List(
                items
                    .iter()
                    .filter(|a| a.field("Status").and_then(Value::as_str) == Some(status))
                    .cloned()
                    .collect::<Vec<_>>()
                    .into(),
            )
        }),
        "Names" | "Values" if is_pair_list(items) => want(name, args, 0).map(|()| {
            let key = if name == "Names" { "Name" } else { "Value" };
            Value::List(
                items
                    .iter()
                    .map(|p| p.field(key).cloned().unwrap_or_else(|| s("")))
                    .collect::<Vec<_>>()
                    .into(),
            )
        }),
        "String" if is_pair_list(items) => {
            want(name, args, 0).map(|()| s(sprint_value(&Value::List(items.clone()), MapStyle::Kv)))
        }
        "Join" => {
            let list = Value::List(items.clone());
            let strs = strings_of(&list)?;
            want(name, args, 1).and_then(|()| match &args[0] {
                Value::String(sep) => Ok(s(strs.join(sep))),
                other => Err(format!(
                    "wrong type for value; expected string; got {}",
                    go_type_name(other)
                )),
            })
        }
        _ => return None,
    };
    Some(r)
}

/// Methods of `time.Time` and `time.Duration` values carried as strings.
fn string_method(text: &str, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
    if name == "String" {
        return Some(want(name, args, 0).map(|()| s(text)));
    }
    if let Some(t) = GoTime::parse_go(text) {
        let r = match name {
            "Format" => want(name, args, 1).and_then(|()| match &args[0] {
                Value::String(layout) => Ok(s(t.format(layout))),
                other => Err(format!(
                    "wrong type for value; expected string; got {}",
                    go_type_name(other)
                )),
            }),
            "Unix" => want(name, args, 0).map(|()| Value::Int(t.unix())),
            "UnixMilli" => want(name, args, 0).map(|()| Value::Int(t.unix_milli())),
            "UnixNano" => want(name, args, 0).map(|()| Value::Int(t.unix_nano())),
            "UTC" | "Local" => want(name, args, 0).map(|()| s(GoTime::utc(t.ts).to_go_string())),
            "IsZero" => want(name, args, 0).map(|()| Value::Bool(t.is_zero())),
            "Add" => want(name, args, 1).and_then(|()| {
                let ns = duration_arg(&args[0])?;
                t.add_nanos(ns)
                    .map(|n| s(n.to_go_string()))
                    .ok_or_else(|| "time out of range".to_string())
            }),
            "In" => want(name, args, 1).and_then(|()| match &args[0] {
                Value::String(zone) => t.in_zone(zone).map(|z| s(z.to_go_string())),
                other => Err(format!(
                    "wrong type for value; expected *time.Location; got {}",
                    go_type_name(other)
                )),
            }),
            _ => return None,
        };
        return Some(r);
    }
    if text.bytes().any(|b| b.is_ascii_alphabetic())
        && let Some(ns) = parse_go_duration(text)
    {
        let f = ns as f64;
        let r = match name {
            "Seconds" => Value::Float(f / 1e9),
            "Minutes" => Value::Float(f / 60e9),
            "Hours" => Value::Float(f / 3600e9),
            "Milliseconds" => Value::Int(ns / 1_000_000),
            "Nanoseconds" => Value::Int(ns),
            _ => return None,
        };
        return Some(want(name, args, 0).map(|()| r));
    }
    None
}

/// A `time.Duration` argument: a Go duration string or integer nanoseconds.
pub(crate) fn duration_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::String(x) => {
            parse_go_duration(x).ok_or_else(|| format!("time: invalid duration {x:?}"))
        }
        Value::Int(i) => Ok(*i),
        other => Err(format!(
            "wrong type for value; expected time.Duration; got {}",
            go_type_name(other)
        )),
    }
}

/// Renders nanoseconds as a `time.Duration` value.
pub(crate) fn duration_value(ns: i64) -> Value {
    s(duration_string(ns))
}
