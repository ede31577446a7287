//! Go's float formatting, which Prometheus tools and templates print with.

/// Formats `v` as Go's `strconv.FormatFloat(v, 'f', -1, 64)` does: the shortest digits
/// that round-trip, never in exponent form, with `+Inf`, `-Inf` and `NaN` spelled as
/// Prometheus does.
pub fn format_go_float_f(v: f64) -> String {
    if let Some(s) = go_non_finite(v) {
        return s.into();
    }
    // Rust's `Display` for floats prints the shortest round-trip digits without an
    // exponent, and `-0` for negative zero, exactly as Go's 'f' with precision -1.
    format!("{v}")
}

/// Formats `v` as Go's `strconv.FormatFloat(v, 'g', -1, 64)` does (and so as
/// `fmt`'s `%g`/`%v`): the shortest digits that round-trip, in exponent form when
/// the decimal exponent is below -4 or at least 6 (`1e+06`, `1.234e-05`), with
/// `+Inf`, `-Inf` and `NaN` spelled Go's way.
pub fn format_go_float(v: f64) -> String {
    if let Some(s) = go_non_finite(v) {
        return s.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.0483605e7".
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        format!("{sign}{digits}{}", "0".repeat(int_len - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
    }
}

/// Formats `v` as Go's `strconv.FormatFloat(v, 'e', -1, 64)` does: the shortest
/// round-trip digits, always in exponent form with at least two exponent digits
/// (`1.5e+00`, `1e-07`); Prometheus' alerts API prints alert values this way.
pub fn format_go_float_e(v: f64) -> String {
    if let Some(s) = go_non_finite(v) {
        return s.into();
    }
    let s = format!("{v:e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let sign = if e < 0 { '-' } else { '+' };
    format!("{m}e{sign}{:02}", e.abs())
}

/// Go's spelling of NaN and the infinities; `None` for finite values.
fn go_non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v.is_infinite() {
        Some(if v > 0.0 { "+Inf" } else { "-Inf" })
    } else {
        None
    }
}

/// Appends `s` escaped as Go's `url.QueryEscape` does: unreserved bytes stay, a space
/// becomes `+`, every other byte is `%XX` with upper-case hex.
pub fn go_query_escape_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

/// Go's `url.QueryEscape` (see [`go_query_escape_into`]).
pub fn go_query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    go_query_escape_into(&mut out, s);
    out
}

/// Quotes `s` like Go's `%q` (Prometheus prints label values and messages this way).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::format_go_float as g;
    use super::format_go_float_e as e;

    #[test]
    fn e_format_matches_go() {
        // strconv.FormatFloat(v, 'e', -1, 64)
        assert_eq!(e(0.0), "0e+00");
        assert_eq!(e(1.0), "1e+00");
        assert_eq!(e(1.5), "1.5e+00");
        assert_eq!(e(-123456.0), "-1.23456e+05");
        assert_eq!(e(1e-7), "1e-07");
        assert_eq!(e(1e100), "1e+100");
        assert_eq!(e(f64::NAN), "NaN");
        assert_eq!(e(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn matches_go() {
        assert_eq!(g(10483605.0), "1.0483605e+07");
        assert_eq!(g(100000.0), "100000");
        assert_eq!(g(1e6), "1e+06");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.00001234), "1.234e-05");
        assert_eq!(g(123456.7), "123456.7");
        assert_eq!(g(-0.0), "-0");
        assert_eq!(g(0.0), "0");
        assert_eq!(g(2.0), "2");
        assert_eq!(g(-1.5), "-1.5");
        assert_eq!(g(f64::INFINITY), "+Inf");
        assert_eq!(g(f64::NEG_INFINITY), "-Inf");
        assert_eq!(g(f64::NAN), "NaN");
        assert_eq!(g(1e21), "1e+21");
        assert_eq!(g(5e-324), "5e-324");
        assert_eq!(g(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(
            super::go_quote("a\"b\\c\n\u{1}é"),
            "\"a\\\"b\\\\c\\n\\x01é\""
        );
    }

    #[test]
    fn round_trips() {
        for v in [1.0 / 3.0, 123456.789e10, -7.25e-7, 42.0, 1e300] {
            assert_eq!(g(v).parse::<f64>().unwrap().to_bits(), f64::to_bits(v));
        }
    }
}
