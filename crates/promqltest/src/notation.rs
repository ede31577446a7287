//! The small languages inside a script: durations, numbers, quoted strings, series
//! descriptors (`metric{label="value"}`) and the expanding value notation
//! (`1+2x3 _ stale {{histogram}}`).

use watchfire_model::{Labels, LabelsBuilder, METRIC_NAME};

/// One position of an expanded value sequence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeqValue {
    /// No sample at this position (`_`).
    Omitted,
    /// A float sample (the staleness marker for `stale`).
    Float(f64),
    /// A native histogram literal (`{{...}}`), which Watchfire cannot store yet.
    Histogram,
}

/// Parses a Prometheus duration (`1m30s`, `20s500ms`, `0`) into milliseconds.
///
/// Units are `y`, `w`, `d`, `h`, `m`, `s`, `ms`. A bare integer is taken as
/// seconds, which Prometheus' tools accept in most places.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = s
            .parse()
            .map_err(|e| format!("invalid duration {s:?}: {e}"))?;
        return secs
            .checked_mul(1000)
            .ok_or_else(|| format!("duration {s:?} out of range"));
    }
    watchfire_model::parse_duration_ms(s).ok_or_else(|| format!("invalid duration {s:?}"))
}

/// Parses a float the way Go's `strconv.ParseFloat` does for the spellings used in
/// scripts: decimals, exponents, `Inf`, `+Inf`, `-Inf`, `NaN` (any case).
pub fn parse_float(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let unsigned = t.trim_start_matches(['+', '-']);
    let lower = unsigned.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" || lower == "nan" {
        // Rust accepts these spellings too, with a sign.
        return t
            .parse::<f64>()
            .map_err(|e| format!("invalid number {s:?}: {e}"));
    }
    if unsigned.is_empty()
        || !unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return Err(format!("invalid number {s:?}"));
    }
    t.parse::<f64>()
        .map_err(|e| format!("invalid number {s:?}: {e}"))
}

/// Parses a bare number line of an `eval` (an expected scalar): an integer with an
/// optional `0x`/`0o`/`0b` prefix, or a float.
pub fn parse_number(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = body.to_ascii_lowercase();
    let radix = [("0x", 16), ("0o", 8), ("0b", 2)]
        .into_iter()
        .find(|(p, _)| lower.starts_with(p));
    if let Some((p, radix)) = radix {
        let digits = lower[p.len()..].replace('_', "");
        let n = i64::from_str_radix(&digits, radix)
            .map_err(|e| format!("invalid number {s:?}: {e}"))?;
        let v = n as f64;
        return Ok(if neg { -v } else { v });
    }
    parse_float(t)
}

/// Reads a Go-style quoted string (`"..."` or `'...'` with escapes, or a raw
/// backtick string) at the start of `s`. Returns the value and the rest of `s`.
pub fn parse_quoted(s: &str) -> Result<(String, &str), String> {
    let mut chars = s.char_indices();
    let quote = match chars.next() {
        Some((_, q @ ('"' | '\'' | '`'))) => q,
        _ => return Err(format!("expected a quoted string at {s:?}")),
    };
    let mut out: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4];
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Ok((String::from_utf8_lossy(&out).into_owned(), &s[i + 1..]));
        }
        if c != '\\' || quote == '`' {
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let Some((_, e)) = chars.next() else { break };
        let simple = match e {
            'n' => Some(b'\n'),
            't' => Some(b'\t'),
            'r' => Some(b'\r'),
            'a' => Some(7),
            'b' => Some(8),
            'f' => Some(12),
            'v' => Some(11),
            '\\' => Some(b'\\'),
            '"' => Some(b'"'),
            '\'' => Some(b'\''),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            continue;
        }
        let (len, radix) = match e {
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            '0'..='7' => (2, 8),
            _ => return Err(format!("unknown escape \\{e} in {s:?}")),
        };
        let mut digits = String::new();
        if radix == 8 {
            digits.push(e);
        }
        for _ in 0..len {
            match chars.next() {
                Some((_, d)) => digits.push(d),
                None => return Err(format!("unterminated escape in {s:?}")),
            }
        }
        let code =
            u32::from_str_radix(&digits, radix).map_err(|_| format!("bad escape in {s:?}"))?;
        if e == 'u' || e == 'U' {
            let ch = char::from_u32(code).ok_or_else(|| format!("bad escape in {s:?}"))?;
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        } else {
            out.push(u8::try_from(code).map_err(|_| format!("bad escape in {s:?}"))?);
        }
    }
    Err(format!("unterminated string in {s:?}"))
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Splits a leading identifier off `s`.
fn take_ident(s: &str) -> (&str, &str) {
    match s.char_indices().find(|&(_, c)| !is_ident_char(c)) {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    }
}

/// Parses a series descriptor (`name`, `name{a="b"}`, `{a="b"}`, `{"utf8.name"}`) at
/// the start of `s`; returns its labels and the rest of the line.
pub fn parse_metric(s: &str) -> Result<(Labels, &str), String> {
    let s = s.trim_start();
    let mut b = LabelsBuilder::new();
    let mut rest = s;
    if s.starts_with(is_ident_start) {
        let (name, r) = take_ident(s);
        b.set(METRIC_NAME, name);
        rest = r;
    }
    if let Some(inner) = rest.strip_prefix('{') {
        rest = inner;
        loop {
            rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let name;
            if rest.starts_with(['"', '\'', '`']) {
                let (n, r) = parse_quoted(rest)?;
                name = n;
                rest = r.trim_start();
                if !rest.starts_with('=') {
                    // A lone quoted string is the metric name.
                    b.set(METRIC_NAME, name);
                    rest = rest.strip_prefix(',').unwrap_or(rest);
                    continue;
                }
            } else if rest.starts_with(is_ident_start) {
                let (n, r) = take_ident(rest);
                name = n.to_string();
                rest = r.trim_start();
            } else {
                return Err(format!("unexpected {rest:?} in label set of {s:?}"));
            }
            rest = rest
                .strip_prefix('=')
                .ok_or_else(|| format!("expected '=' after label {name:?} in {s:?}"))?
                .trim_start();
            let (value, r) = parse_quoted(rest)?;
            b.set(name, value);
            rest = r.trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    } else if rest.len() == s.len() {
        return Err(format!("expected a series descriptor at {s:?}"));
    }
    Ok((b.build(), rest))
}

/// Splits a value list into tokens at whitespace outside `{{ ... }}`.
fn value_tokens(s: &str) -> Result<Vec<&str>, String> {
    let mut tokens = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        let mut depth = 0usize;
        while i < bytes.len() {
            if bytes[i..].starts_with(b"{{") {
                depth += 1;
                i += 2;
            } else if depth > 0 && bytes[i..].starts_with(b"}}") {
                depth -= 1;
                i += 2;
            } else if depth == 0 && bytes[i].is_ascii_whitespace() {
                break;
            } else {
                i += 1;
            }
        }
        if depth > 0 {
            return Err(format!("unterminated histogram literal in {s:?}"));
        }
        tokens.push(&s[start..i]);
    }
    Ok(tokens)
}

fn parse_count(s: &str, token: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .map_err(|_| format!("invalid repetition count in {token:?}"))
}

/// Index of the `+`/`-` separating start and increment in `a+b` / `a-b`, skipping a
/// leading sign and exponent signs.
fn increment_sign(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    (1..bytes.len()).find(|&i| {
        matches!(bytes[i], b'+' | b'-') && !matches!(bytes[i - 1], b'e' | b'E' | b'+' | b'-')
    })
}

/// Expands one value token into its positions.
fn expand_token(token: &str, out: &mut Vec<SeqValue>) -> Result<(), String> {
    if token.contains("{{") {
        // Histograms: `{{..}}`, `{{..}}xN`, `{{..}}+{{..}}xN` (N+1 positions).
        let tail = token.rsplit("}}").next().unwrap_or("");
        let n = match tail.strip_prefix('x') {
            Some(c) => parse_count(c, token)? + 1,
            None if tail.is_empty() => 1,
            None => return Err(format!("invalid histogram sequence {token:?}")),
        };
        out.extend(std::iter::repeat_n(SeqValue::Histogram, n));
        return Ok(());
    }
    let (head, times) = match token.split_once('x') {
        Some((h, c)) => (h, Some(parse_count(c, token)?)),
        None => (token, None),
    };
    match head {
        "_" => {
            out.extend(std::iter::repeat_n(SeqValue::Omitted, times.unwrap_or(1)));
            return Ok(());
        }
        "stale" => {
            let v = SeqValue::Float(watchfire_model::STALE_NAN);
            out.extend(std::iter::repeat_n(v, times.map_or(1, |n| n + 1)));
            return Ok(());
        }
        _ => {}
    }
    let (start, inc) = match increment_sign(head) {
        Some(i) if times.is_some() => {
            let inc = parse_float(&head[i + 1..])?;
            (
                parse_float(&head[..i])?,
                if &head[i..=i] == "-" { -inc } else { inc },
            )
        }
        Some(_) => return Err(format!("increment without repetition count in {token:?}")),
        None => (parse_float(head)?, 0.0),
    };
    let mut v = start;
    out.push(SeqValue::Float(v));
    for _ in 0..times.unwrap_or(0) {
        v += inc;
        out.push(SeqValue::Float(v));
    }
    Ok(())
}

/// Expands a value list (`1 2+3x2 _x2 stale`) into positions.
pub fn parse_values(s: &str) -> Result<Vec<SeqValue>, String> {
    let mut out = Vec::new();
    for token in value_tokens(s)? {
        expand_token(token, &mut out)?;
    }
    Ok(out)
}

/// Parses a whole series line: descriptor and value list.
pub fn parse_series(line: &str) -> Result<(Labels, Vec<SeqValue>), String> {
    let (labels, rest) = parse_metric(line)?;
    Ok((labels, parse_values(rest)?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn floats(s: &str) -> Vec<f64> {
        parse_values(s)
            .unwrap()
            .into_iter()
            .map(|v| match v {
                SeqValue::Float(f) => f,
                SeqValue::Omitted => -999.0,
                SeqValue::Histogram => -777.0,
            })
            .collect()
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1m30s").unwrap(), 90_000);
        assert_eq!(parse_duration("20s500ms").unwrap(), 20_500);
        assert_eq!(parse_duration("0").unwrap(), 0);
        assert_eq!(parse_duration("10000s").unwrap(), 10_000_000);
        assert_eq!(parse_duration("1h").unwrap(), 3_600_000);
        assert_eq!(parse_duration("2d").unwrap(), 172_800_000);
        assert!(parse_duration("1x").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("m").is_err());
    }

    #[test]
    fn value_notation_expands() {
        assert_eq!(floats("1+2x3"), [1.0, 3.0, 5.0, 7.0]);
        assert_eq!(floats("10-2x2"), [10.0, 8.0, 6.0]);
        assert_eq!(floats("-1-1x2"), [-1.0, -2.0, -3.0]);
        assert_eq!(floats("1x3"), [1.0; 4]);
        assert_eq!(floats("0x59").len(), 60);
        assert_eq!(
            floats("_ 1 _x3 2"),
            [-999.0, 1.0, -999.0, -999.0, -999.0, 2.0]
        );
        assert_eq!(floats("1e-3+1e+0x1"), [0.001, 1.001]);
        let v = floats("Inf -Inf +Inf NaN");
        assert_eq!(v[..3], [f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY]);
        assert!(v[3].is_nan());
        let s = parse_values("stale").unwrap();
        assert!(matches!(s[0], SeqValue::Float(f) if watchfire_model::is_stale_nan(f)));
        assert!(parse_values("1+2").is_err());
        assert!(parse_values("abc").is_err());
    }

    #[test]
    fn histogram_literals_count_positions() {
        let v = parse_values("1 {{schema:0 sum:1 count:1}}x2 {{count:1}}+{{count:2}}x1 3").unwrap();
        assert_eq!(v.len(), 7);
        assert_eq!(v[1], SeqValue::Histogram);
        assert_eq!(v[5], SeqValue::Histogram);
        assert_eq!(v[6], SeqValue::Float(3.0));
    }

    #[test]
    fn series_descriptors() {
        let (l, v) = parse_series(r#"http_requests{job="api", instance="0"}	1 2"#).unwrap();
        assert_eq!(
            l.to_string(),
            r#"{__name__="http_requests", instance="0", job="api"}"#
        );
        assert_eq!(v.len(), 2);
        let (l, _) = parse_series(r#"{} 1"#).unwrap();
        assert!(l.is_empty());
        let (l, _) = parse_series(r#"{"my.metric", "a.b"='x\"y', c=`r\n`,} 1"#).unwrap();
        assert_eq!(l.metric_name(), Some("my.metric"));
        assert_eq!(l.get("a.b"), Some("x\"y"));
        assert_eq!(l.get("c"), Some("r\\n"));
        let (l, _) = parse_series(r#"{a="\xc5\x9b"} 1"#).unwrap();
        assert_eq!(l.get("a"), Some("ś"));
        assert!(parse_series("1 2").is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("0x10").unwrap(), 16.0);
        assert_eq!(parse_number("-3.5").unwrap(), -3.5);
        assert_eq!(parse_number("1e3").unwrap(), 1000.0);
        assert_eq!(parse_number("-Inf").unwrap(), f64::NEG_INFINITY);
        assert!(parse_number("{a=\"b\"} 1").is_err());
    }
}
