//! Alertmanager-only template functions (`template/template.go`'s
//! `DefaultFuncs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{SafeKind, Value};

use crate::engine::Ctx;
use crate::fields::duration_value;
use crate::funcs::{FnError, FnImpl, FnResult, call_err, nargs, string_arg, sv};
use crate::gofmt::{go_float, go_type_name};
use crate::gotime::GoTime;

fn trim_space(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("trimSpace", a, 1)?;
    Ok(sv(string_arg(&a[0])?.trim()))
}

fn strings_arg(v: &Value) -> Result<Vec<String>, FnError> {
    match v {
        Value::List(items) => items.iter().map(string_arg).collect(),
        Value::Nil => Ok(Vec::new()),
        other => Err(FnError::Arg(format!(
            "wrong type for value; expected []string; got {}",
            go_type_name(other)
        ))),
    }
}

fn join(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("join", a, 2)?;
    let sep = string_arg(&a[0])?;
    Ok(sv(strings_arg(&a[1])?.join(&sep)))
}

fn safe_url(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("safeUrl", a, 1)?;
    Ok(Value::Safe {
        kind: SafeKind::Url,
        s: string_arg(&a[0])?.into(),
    })
}

/// Go's `url.QueryUnescape`.
fn url_unescape(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("urlUnescape", a, 1)?;
    let s = string_arg(&a[0])?;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
                let Some(h) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) else {
                    let bad: String = s[i..].chars().take(3).collect();
                    return Err(call_err(format!("invalid URL escape {bad:?}")));
                };
                out.push(h);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(sv(String::from_utf8_lossy(&out).into_owned()))
}

fn string_slice(_: &Ctx, a: &[Value]) -> FnResult {
    let v: Result<Vec<Value>, FnError> = a.iter().map(|x| string_arg(x).map(sv)).collect();
    Ok(Value::List(v?.into()))
}

fn route_labels(_: &Ctx, a: &[Value]) -> FnResult {
    // Placeholder like Alertmanager's own: route labels are not modelled.
    nargs("routeLabels", a, 1)?;
    Ok(sv(""))
}

fn time_arg(v: &Value) -> Result<GoTime, FnError> {
    match v {
        Value::String(s) => GoTime::parse_go(s).ok_or_else(|| {
            FnError::Arg("wrong type for value; expected time.Time; got string".into())
        }),
        other => Err(FnError::Arg(format!(
            "wrong type for value; expected time.Time; got {}",
            go_type_name(other)
        ))),
    }
}

fn date(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("date", a, 2)?;
    let layout = string_arg(&a[0])?;
    Ok(sv(time_arg(&a[1])?.format(&layout)))
}

fn tz(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("tz", a, 2)?;
    let name = string_arg(&a[0])?;
    let t = time_arg(&a[1])?;
    Ok(sv(t.in_zone(&name).map_err(call_err)?.to_go_string()))
}

fn since(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("since", a, 1)?;
    let t = time_arg(&a[0])?;
    let now = jiff::Timestamp::now().as_nanosecond();
    let ns = now - t.ts.as_nanosecond();
    Ok(duration_value(
        ns.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    ))
}

/// Go struct field order and JSON names for the template data types, so
/// `toJson` of an alert or of the whole data renders like `json.Marshal`.
const ALERT_JSON: &[(&str, &str)] = &[
    ("Status", "status"),
    ("Labels", "labels"),
    ("Annotations", "annotations"),
    ("StartsAt", "startsAt"),
    ("EndsAt", "endsAt"),
    ("GeneratorURL", "generatorURL"),
    ("Fingerprint", "fingerprint"),
];
const DATA_JSON: &[(&str, &str)] = &[
    ("Receiver", "receiver"),
    ("Status", "status"),
    ("Alerts", "alerts"),
    ("GroupLabels", "groupLabels"),
    ("CommonLabels", "commonLabels"),
    ("CommonAnnotations", "commonAnnotations"),
    ("ExternalURL", "externalURL"),
];

fn struct_layout(m: &BTreeMap<Arc<str>, Value>) -> Option<&'static [(&'static str, &'static str)]> {
    if ALERT_JSON.iter().all(|(k, _)| m.contains_key(*k)) && m.len() == ALERT_JSON.len() {
        Some(ALERT_JSON)
    } else if DATA_JSON.iter().all(|(k, _)| m.contains_key(*k)) {
        Some(DATA_JSON)
    } else {
        None
    }
}

/// Go's `json.Marshal` string escaping (HTML-safe).
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `encoding/json` float format: `%f`-like unless the exponent is
/// below -6 or at least 21.
fn json_float(f: f64) -> Result<String, FnError> {
    if !f.is_finite() {
        return Err(call_err(format!(
            "json: unsupported value: {}",
            go_float(f)
        )));
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let s = format!("{f:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        let ea = e.unsigned_abs();
        return Ok(if ea < 10 {
            format!("{m}e{sign}0{ea}")
        } else {
            format!("{m}e{sign}{ea}")
        });
    }
    Ok(crate::gofmt::format_float(f, 'f', None))
}

fn write_json(out: &mut String, v: &Value) -> Result<(), FnError> {
    match v {
        Value::Nil | Value::Function(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f)?),
        Value::String(s) | Value::Safe { s, .. } => match GoTime::parse_go(s) {
            // A time.Time marshals as RFC 3339 with nanoseconds.
            Some(t) => json_string(out, &t.format("2006-01-02T15:04:05.999999999Z07:00")),
            None => json_string(out, s),
        },
        Value::List(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, x)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            let mut first = true;
            let mut field = |out: &mut String, k: &str, x: &Value| -> Result<(), FnError> {
                if !first {
                    out.push(',');
                }
                first = false;
                json_string(out, k);
                out.push(':');
                write_json(out, x)
            };
            match struct_layout(m) {
                Some(layout) => {
                    for (go, js) in layout {
                        if let Some(x) = m.get(*go) {
                            field(out, js, x)?;
                        }
                    }
                }
                None => {
                    for (k, x) in m.iter() {
                        field(out, k, x)?;
                    }
                }
            }
            out.push('}');
        }
    }
    Ok(())
}

fn to_json(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("toJson", a, 1)?;
    let mut out = String::new();
    write_json(&mut out, &a[0])?;
    Ok(sv(out))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Go's `base64.URLEncoding` (URL alphabet, padded).
fn base64_encode(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("base64encode", a, 1)?;
    let s = string_arg(&a[0])?;
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (chunk.get(1).copied().unwrap_or(0) as u32) << 8
            | chunk.get(2).copied().unwrap_or(0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    Ok(sv(out))
}

fn base64_decode(_: &Ctx, a: &[Value]) -> FnResult {
    nargs("base64decode", a, 1)?;
    let s = string_arg(&a[0])?;
    let bytes = s.as_bytes();
    if bytes.len() % 4 != 0 {
        return Err(call_err(format!(
            "illegal base64 data at input byte {}",
            bytes.len() / 4 * 4
        )));
    }
    let mut out = Vec::new();
    for (ci, chunk) in bytes.chunks(4).enumerate() {
        let mut n = 0u32;
        let mut pads = 0;
        for (i, c) in chunk.iter().enumerate() {
            let v = if *c == b'=' && i >= 2 && ci * 4 + 4 == bytes.len() {
                pads += 1;
                0
            } else if pads > 0 {
                return Err(call_err(format!(
                    "illegal base64 data at input byte {}",
                    ci * 4 + i
                )));
            } else {
                B64.iter().position(|b| b == c).ok_or_else(|| {
                    call_err(format!("illegal base64 data at input byte {}", ci * 4 + i))
                })? as u32
            };
            n = n << 6 | v;
        }
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - pads]);
    }
    Ok(sv(String::from_utf8_lossy(&out).into_owned()))
}

fn list(_: &Ctx, a: &[Value]) -> FnResult {
    Ok(Value::List(a.to_vec().into()))
}

fn append(_: &Ctx, a: &[Value]) -> FnResult {
    let Some(first) = a.first() else {
        return Err(FnError::Arg(
            "wrong number of args for append: want at least 1 got 0".into(),
        ));
    };
    let mut v: Vec<Value> = match first {
        Value::List(l) => l.to_vec(),
        Value::Nil => Vec::new(),
        other => {
            return Err(FnError::Arg(format!(
                "wrong type for value; expected []interface {{}}; got {}",
                go_type_name(other)
            )));
        }
    };
    v.extend_from_slice(&a[1..]);
    Ok(Value::List(v.into()))
}

fn dict(_: &Ctx, a: &[Value]) -> FnResult {
    if !a.len().is_multiple_of(2) {
        return Err(call_err("dict requires an even number of arguments"));
    }
    let mut m = BTreeMap::new();
    for kv in a.chunks(2) {
        let Value::String(k) = &kv[0] else {
            return Err(call_err("dict keys must be strings"));
        };
        m.insert(k.clone(), kv[1].clone());
    }
    Ok(Value::Map(Arc::new(m)))
}

/// Alertmanager-only functions.
pub(crate) const NOTIFY: &[(&str, FnImpl)] = &[
    ("trimSpace", trim_space),
    ("join", join),
    ("safeUrl", safe_url),
    ("urlUnescape", url_unescape),
    ("stringSlice", string_slice),
    ("routeLabels", route_labels),
    ("date", date),
    ("tz", tz),
    ("since", since),
    ("toJson", to_json),
    ("base64encode", base64_encode),
    ("base64decode", base64_decode),
    ("list", list),
    ("append", append),
    ("dict", dict),
];
