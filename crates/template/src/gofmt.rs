//! Go `fmt` emulation: float formatting with Go's `strconv` rules, `%v` of
//! template values, and the `print`/`printf`/`println` builtins.
//!
//! gotmpl prints floats with Rust's `Display` (`1000000` instead of Go's
//! `1e+06`), so every path that turns a value into text in this crate goes
//! through here instead.

use gotmpl::Value;
use watchfire_model::{format_go_float, go_quote};

/// How maps print. Alertmanager's `KV` type has a `String()` method
/// (`a=b, c=d`, `alertname` first); Prometheus' label maps are plain
/// `map[string]string` (`map[a:b c:d]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MapStyle {
    /// `map[k:v k2:v2]`.
    Go,
    /// Alertmanager's `KV.String()` for string-valued maps.
    Kv,
}

/// Digits of `|v|` and the decimal point position: `v = 0.d1d2.. x 10^dp`.
/// `sig` = number of significant digits to round to, `None` = shortest.
fn digits(v: f64, sig: Option<usize>) -> (Vec<u8>, i32) {
    if v == 0.0 {
        return (Vec::new(), 0);
    }
    let s = match sig {
        Some(n) => format!("{:.*e}", n.saturating_sub(1), v.abs()),
        None => format!("{:e}", v.abs()),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    // Go's decimal rounding trims trailing zeros; 'g' relies on that count.
    while d.last() == Some(&b'0') {
        d.pop();
    }
    (d, exp + 1)
}

fn fmt_e(out: &mut String, d: &[u8], dp: i32, prec: usize, upper: bool) {
    out.push(d.first().map_or('0', |c| *c as char));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(d.get(i).map_or('0', |c| *c as char));
        }
    }
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    out.push(if upper { 'E' } else { 'e' });
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

fn fmt_f(out: &mut String, d: &[u8], dp: i32, prec: usize) {
    if dp > 0 {
        for i in 0..dp as usize {
            out.push(d.get(i).map_or('0', |c| *c as char));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec as i32 {
            let idx = dp + i;
            let c = if idx >= 0 {
                d.get(idx as usize).map_or('0', |c| *c as char)
            } else {
                '0'
            };
            out.push(c);
        }
    }
}

/// Go's `strconv.FormatFloat(v, verb, prec, 64)` for verbs `e E f F g G`
/// (`prec = None` is Go's `-1`, shortest). Infinities are `+Inf`/`-Inf`.
pub(crate) fn format_float(v: f64, verb: char, prec: Option<usize>) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let mut out = String::new();
    if v.is_sign_negative() {
        out.push('-');
    }
    match verb {
        'e' | 'E' => {
            let (d, dp) = match prec {
                Some(p) => digits(v, Some(p + 1)),
                None => digits(v, None),
            };
            let p = prec.unwrap_or(d.len().saturating_sub(1));
            fmt_e(&mut out, &d, dp, p, verb == 'E');
        }
        'f' | 'F' => match prec {
            // Rust's fixed-point formatting rounds exactly, like Go's.
            Some(p) => return format!("{:.*}", p, v),
            None => {
                let (d, dp) = digits(v, None);
                let p = (d.len() as i32 - dp).max(0) as usize;
                fmt_f(&mut out, &d, dp, p);
            }
        },
        _ => {
            let upper = verb == 'G';
            let shortest = prec.is_none();
            let mut p = match prec {
                Some(0) => 1,
                Some(p) => p,
                None => 0,
            };
            let (d, dp) = digits(v, if shortest { None } else { Some(p) });
            if shortest {
                p = d.len().max(1);
            }
            let nd = d.len();
            let mut eprec = p;
            if eprec > nd && nd as i32 >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if !d.is_empty() && (exp < -4 || exp >= eprec as i32) {
                if p > nd {
                    p = nd;
                }
                fmt_e(&mut out, &d, dp, p.saturating_sub(1), upper);
            } else {
                if p as i32 > dp {
                    p = nd;
                }
                fmt_f(&mut out, &d, dp, (p as i32 - dp).max(0) as usize);
            }
        }
    }
    out
}

/// Go's `%v` of a float64 (`1e+06`, `0.1`, `+Inf`, `NaN`).
pub(crate) fn go_float(v: f64) -> String {
    format_go_float(v)
}

/// True for values Go would see as a string kind (matters for `print`'s
/// spacing rule).
fn is_stringish(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Safe { .. })
}

/// A map all of whose values are strings: Alertmanager's `KV`, or a label set.
pub(crate) fn is_string_map(v: &Value) -> bool {
    match v {
        Value::Map(m) => m.values().all(is_stringish),
        _ => false,
    }
}

/// Alertmanager's `KV.SortedPairs` order: `alertname` first, then sorted.
pub(crate) fn kv_sorted_keys(
    m: &std::collections::BTreeMap<std::sync::Arc<str>, Value>,
) -> Vec<&str> {
    let mut keys: Vec<&str> = Vec::with_capacity(m.len());
    if m.contains_key("alertname") {
        keys.push("alertname");
    }
    keys.extend(m.keys().map(|k| &**k).filter(|k| *k != "alertname"));
    keys
}

/// Go's `fmt.Sprint` of one value (`%v`).
pub(crate) fn sprint_value(v: &Value, style: MapStyle) -> String {
    let mut out = String::new();
    write_value(&mut out, v, style);
    out
}

fn write_value(out: &mut String, v: &Value, style: MapStyle) {
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&go_float(*f)),
        Value::String(s) => out.push_str(s),
        Value::Safe { s, .. } => out.push_str(s),
        Value::Function(_) => out.push_str("<func>"),
        Value::List(items) => {
            if style == MapStyle::Kv && is_pair_list(items) {
                // Alertmanager's Pairs.String(): "a=b, c=d".
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if let (Some(n), Some(val)) = (item.field("Name"), item.field("Value")) {
                        write_value(out, n, style);
                        out.push('=');
                        write_value(out, val, style);
                    }
                }
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_value(out, item, style);
            }
            out.push(']');
        }
        Value::Map(m) => {
            if style == MapStyle::Kv && is_string_map(v) {
                for (i, k) in kv_sorted_keys(m).into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push('=');
                    if let Some(val) = m.get(k) {
                        write_value(out, val, style);
                    }
                }
                return;
            }
            out.push_str("map[");
            for (i, (k, val)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_value(out, val, style);
            }
            out.push(']');
        }
    }
}

/// A list of `{Name, Value}` maps: Alertmanager's `Pairs`.
pub(crate) fn is_pair_list(items: &[Value]) -> bool {
    !items.is_empty()
        && items.iter().all(|i| match i {
            Value::Map(m) => m.len() == 2 && m.contains_key("Name") && m.contains_key("Value"),
            _ => false,
        })
}

/// Go's `fmt.Sprint`: operands separated by a space when neither side is a
/// string.
pub(crate) fn sprint(args: &[Value], style: MapStyle) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !is_stringish(a) && !is_stringish(&args[i - 1]) {
            out.push(' ');
        }
        write_value(&mut out, a, style);
    }
    out
}

/// Go's `fmt.Sprintln`: always spaces, trailing newline.
pub(crate) fn sprintln(args: &[Value], style: MapStyle) -> String {
    let parts: Vec<String> = args.iter().map(|a| sprint_value(a, style)).collect();
    let mut s = parts.join(" ");
    s.push('\n');
    s
}

/// Go type names for `%!verb(type=value)` diagnostics and `%T`.
pub(crate) fn go_type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::Safe { .. } => "template.HTML",
        Value::List(_) => "[]interface {}",
        Value::Map(_) => {
            if is_string_map(v) {
                "map[string]string"
            } else {
                "map[string]interface {}"
            }
        }
        Value::Function(_) => "func",
    }
}

#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn pad(out: &mut String, s: &str, f: &Flags, numeric: bool) {
    let len = s.chars().count();
    let w = f.width.unwrap_or(0);
    if len >= w {
        out.push_str(s);
        return;
    }
    let fill = w - len;
    if f.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if f.zero && numeric {
        // Zeros go after the sign.
        let (sign, rest) = match s.chars().next() {
            Some(c @ ('+' | '-' | ' ')) => (Some(c), &s[1..]),
            _ => (None, s),
        };
        if let Some(c) = sign {
            out.push(c);
        }
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(rest);
    } else if f.zero {
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(s);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(s);
    }
}

fn fmt_float_verb(out: &mut String, v: f64, verb: char, f: &Flags) {
    let (fverb, prec) = match verb {
        'v' => ('g', f.prec),
        'e' | 'E' | 'f' | 'F' => (verb, Some(f.prec.unwrap_or(6))),
        _ => (verb, f.prec),
    };
    let mut num = format_float(v, fverb, prec);
    if v.is_nan() {
        if f.plus {
            num = "+NaN".into();
        } else if f.space {
            num = " NaN".into();
        }
        let nf = Flags { zero: false, ..*f };
        pad(out, &num, &nf, false);
        return;
    }
    if v.is_infinite() {
        let nf = Flags { zero: false, ..*f };
        pad(out, &num, &nf, false);
        return;
    }
    if !num.starts_with('-') {
        if f.plus {
            num.insert(0, '+');
        } else if f.space {
            num.insert(0, ' ');
        }
    }
    pad(out, &num, f, true);
}

fn fmt_int_verb(out: &mut String, neg: bool, mag: u128, verb: char, f: &Flags) -> bool {
    let body = match verb {
        'd' | 'v' => mag.to_string(),
        'x' => format!("{mag:x}"),
        'X' => format!("{mag:X}"),
        'o' | 'O' => format!("{mag:o}"),
        'b' => format!("{mag:b}"),
        'c' => {
            let c = u32::try_from(mag)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            pad(out, &c.to_string(), f, false);
            return true;
        }
        'q' => {
            let c = u32::try_from(mag)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            let q = match c {
                '\'' => "'\\''".to_string(),
                '"' => "'\"'".to_string(),
                _ => {
                    let inner = go_quote(&c.to_string());
                    format!("'{}'", &inner[1..inner.len() - 1])
                }
            };
            pad(out, &q, f, false);
            return true;
        }
        'U' => {
            pad(out, &format!("U+{mag:04X}"), f, false);
            return true;
        }
        _ => return false,
    };
    let mut body = match f.prec {
        Some(p) if body.len() < p => format!("{}{}", "0".repeat(p - body.len()), body),
        _ => body,
    };
    if f.sharp {
        match verb {
            'x' => body.insert_str(0, "0x"),
            'X' => body.insert_str(0, "0X"),
            'o' => body.insert(0, '0'),
            'b' => body.insert_str(0, "0b"),
            _ => {}
        }
    }
    if verb == 'O' {
        body.insert_str(0, "0o");
    }
    if neg {
        body.insert(0, '-');
    } else if f.plus {
        body.insert(0, '+');
    } else if f.space {
        body.insert(0, ' ');
    }
    // Go ignores the zero flag when a precision is given.
    let nf = Flags {
        zero: f.zero && f.prec.is_none(),
        ..*f
    };
    pad(out, &body, &nf, true);
    true
}

fn fmt_str_verb(out: &mut String, s: &str, verb: char, f: &Flags) -> bool {
    let s: String = match f.prec {
        Some(p) if matches!(verb, 's' | 'v') => s.chars().take(p).collect(),
        _ => s.to_string(),
    };
    match verb {
        's' | 'v' => pad(out, &s, f, false),
        'q' => pad(out, &go_quote(&s), f, false),
        'x' => pad(
            out,
            &s.bytes().map(|b| format!("{b:02x}")).collect::<String>(),
            f,
            false,
        ),
        'X' => pad(
            out,
            &s.bytes().map(|b| format!("{b:02X}")).collect::<String>(),
            f,
            false,
        ),
        _ => return false,
    }
    true
}

/// Formats one operand for one verb; false when the verb does not apply.
fn fmt_arg(out: &mut String, v: &Value, verb: char, f: &Flags, style: MapStyle) -> bool {
    if verb == 'T' {
        pad(out, go_type_name(v), f, false);
        return true;
    }
    match v {
        Value::Float(x) => match verb {
            'v' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                fmt_float_verb(out, *x, verb, f);
                true
            }
            _ => false,
        },
        Value::Int(i) => fmt_int_verb(out, *i < 0, i.unsigned_abs() as u128, verb, f),
        Value::Uint(u) => fmt_int_verb(out, false, *u as u128, verb, f),
        Value::String(s) | Value::Safe { s, .. } => fmt_str_verb(out, s, verb, f),
        Value::Bool(b) => match verb {
            't' | 'v' => {
                pad(out, if *b { "true" } else { "false" }, f, false);
                true
            }
            _ => false,
        },
        Value::Nil => {
            if verb == 'v' {
                pad(out, "<nil>", f, false);
                true
            } else {
                false
            }
        }
        Value::List(_) | Value::Map(_) | Value::Function(_) => {
            if matches!(verb, 'v' | 's') {
                pad(out, &sprint_value(v, style), f, false);
                true
            } else {
                false
            }
        }
    }
}

fn bad_verb(out: &mut String, verb: char, v: &Value, style: MapStyle) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    if matches!(v, Value::Nil) {
        out.push_str("<nil>");
    } else {
        out.push_str(go_type_name(v));
        out.push('=');
        out.push_str(&sprint_value(v, style));
    }
    out.push(')');
}

/// Go's `fmt.Sprintf` over template values, including its in-band error
/// notation (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA ...)`).
pub(crate) fn sprintf(format: &str, args: &[Value], style: MapStyle) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let mut argi = 0usize;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut f = Flags::default();
        while let Some(&fc) = chars.peek() {
            match fc {
                '+' => f.plus = true,
                '-' => f.minus = true,
                '#' => f.sharp = true,
                ' ' => f.space = true,
                '0' => f.zero = !f.minus,
                _ => break,
            }
            chars.next();
        }
        if f.minus {
            f.zero = false;
        }
        // Width: digits or '*'.
        if chars.peek() == Some(&'*') {
            chars.next();
            if let Some(Value::Int(w)) = args.get(argi) {
                if *w < 0 {
                    f.minus = true;
                }
                f.width = Some(w.unsigned_abs() as usize);
            } else {
                out.push_str("%!(BADWIDTH)");
            }
            argi += 1;
        } else {
            let mut w = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                w.push(d);
                chars.next();
            }
            if !w.is_empty() {
                f.width = w.parse().ok();
            }
        }
        if chars.peek() == Some(&'.') {
            chars.next();
            if chars.peek() == Some(&'*') {
                chars.next();
                if let Some(Value::Int(p)) = args.get(argi) {
                    f.prec = usize::try_from(*p).ok();
                } else {
                    out.push_str("%!(BADPREC)");
                }
                argi += 1;
            } else {
                let mut p = String::new();
                while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    p.push(d);
                    chars.next();
                }
                f.prec = Some(p.parse().unwrap_or(0));
            }
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(argi) else {
            out.push_str("%!");
            out.push(verb);
            out.push_str("(MISSING)");
            continue;
        };
        argi += 1;
        if !fmt_arg(&mut out, arg, verb, &f, style) {
            bad_verb(&mut out, verb, arg, style);
        }
    }
    if argi < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[argi..]
            .iter()
            .map(|a| {
                if matches!(a, Value::Nil) {
                    "<nil>".to_string()
                } else {
                    format!("{}={}", go_type_name(a), sprint_value(a, style))
                }
            })
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_formats_match_go_strconv() {
        // Expected strings follow Go's strconv.FormatFloat documentation and
        // Prometheus' humanize tests (1.235M etc.).
        assert_eq!(format_float(1234567.0, 'g', Some(4)), "1.235e+06");
        assert_eq!(format_float(1.234567, 'g', Some(4)), "1.235");
        assert_eq!(format_float(120.0, 'g', Some(4)), "120");
        assert_eq!(format_float(1e6, 'g', Some(4)), "1e+06");
        assert_eq!(format_float(0.0, 'g', Some(4)), "0");
        assert_eq!(format_float(100.0, 'g', Some(4)), "100");
        assert_eq!(format_float(12.345, 'g', Some(4)), "12.35");
        assert_eq!(format_float(0.0001, 'g', Some(4)), "0.0001");
        assert_eq!(format_float(0.00001, 'g', Some(4)), "1e-05");
        assert_eq!(format_float(3720.01, 'f', Some(2)), "3720.01");
        assert_eq!(format_float(1.5, 'e', Some(3)), "1.500e+00");
        assert_eq!(format_float(1e6, 'g', None), "1e+06");
        assert_eq!(format_float(123456.0, 'g', None), "123456");
        assert_eq!(format_float(-0.5, 'f', None), "-0.5");
        assert_eq!(format_float(f64::INFINITY, 'g', Some(4)), "+Inf");
    }

    #[test]
    fn sprintf_basics() {
        let s = |f: &str, a: &[Value]| sprintf(f, a, MapStyle::Go);
        assert_eq!(s("%.4g", &[Value::Float(1234567.0)]), "1.235e+06");
        assert_eq!(s("%5.1f%%", &[Value::Float(12.34)]), " 12.3%");
        assert_eq!(s("%d items", &[Value::Int(3)]), "3 items");
        assert_eq!(s("%v", &[Value::Float(1e6)]), "1e+06");
        assert_eq!(s("%q", &[Value::String("a\"b".into())]), "\"a\\\"b\"");
        assert_eq!(s("%05d", &[Value::Int(-42)]), "-0042");
        assert_eq!(s("%-4s|", &[Value::String("ab".into())]), "ab  |");
        assert_eq!(s("%d", &[Value::String("x".into())]), "%!d(string=x)");
        assert_eq!(s("%s %s", &[Value::String("x".into())]), "x %!s(MISSING)");
        assert_eq!(s("x", &[Value::Int(1)]), "x%!(EXTRA int=1)");
        assert_eq!(s("%x", &[Value::Int(255)]), "ff");
        assert_eq!(s("%t", &[Value::Bool(true)]), "true");
        assert_eq!(s("%+.2f", &[Value::Float(2.0)]), "+2.00");
    }
}
