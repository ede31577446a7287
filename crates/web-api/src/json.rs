//! Byte-exact JSON output in Prometheus' formats.
//!
//! Prometheus writes query results with hand-made encoders, and the exact text
//! matters to clients that compare responses (and to our own compatibility tests):
//!
//! * sample values are strings in Go's `strconv.FormatFloat(v, 'f', -1, 64)`
//!   notation, switching to `'e'` notation when `|v| < 1e-6` or `|v| >= 1e21`
//!   (`"1234567.8"`, `"0.0000012345678"`, `"1e-07"`, `"NaN"`, `"+Inf"`);
//! * timestamps of vector and matrix points are JSON numbers, the milliseconds
//!   written as seconds with exactly three decimals when they are not whole
//!   (`1.001`, `1.100`, `-0.001`, `1435781451`);
//! * a scalar result goes through Go's `encoding/json` instead: its value string
//!   always uses `'f'` notation and its timestamp is the float `t / 1000` in
//!   `encoding/json` float style (`1435781451.78`);
//! * strings are escaped like Go's JSON encoders with HTML escaping on (`<` is
//!   written `\u003c`).

use std::fmt::Write as _;
use watchfire_model::Labels;

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest digits that read back
/// as `v`, never in exponent form.
pub fn format_f(v: f64) -> String {
    watchfire_model::format_go_float_f(v)
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`: shortest digits, `d.ddde±dd`.
pub fn format_e(v: f64) -> String {
    if !v.is_finite() {
        return format_f(v);
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// A sample value as Prometheus' JSON encoder writes it (without the quotes).
pub fn format_sample_value(v: f64) -> String {
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        format_e(v)
    } else {
        format_f(v)
    }
}

/// Writes a point timestamp (ms) as seconds with three decimals when fractional.
pub fn write_timestamp(out: &mut String, t: i64) {
    if t < 0 {
        out.push('-');
    }
    let abs = t.unsigned_abs();
    let _ = write!(out, "{}", abs / 1000);
    let frac = abs % 1000;
    if frac != 0 {
        let _ = write!(out, ".{frac:03}");
    }
}

/// Writes a float the way Go's `encoding/json` does (finite values only; others
/// are written as `null`, which Go would refuse to encode at all).
pub fn write_go_json_float(out: &mut String, v: f64) {
    if !v.is_finite() {
        out.push_str("null");
        return;
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format_e(v);
        // encoding/json shortens "e-07" to "e-7" (but keeps "e+21").
        match s.split_once("e-0") {
            Some((m, d)) => {
                let _ = write!(out, "{m}e-{d}");
            }
            None => out.push_str(&s),
        }
    } else {
        out.push_str(&format_f(v));
    }
}

/// Writes `s` as a JSON string, escaped like Go's encoders with HTML escaping.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes a quoted sample value.
pub fn write_sample_value(out: &mut String, v: f64) {
    out.push('"');
    out.push_str(&format_sample_value(v));
    out.push('"');
}

/// Writes `[<timestamp>,"<value>"]`.
pub fn write_point(out: &mut String, t: i64, v: f64) {
    out.push('[');
    write_timestamp(out, t);
    out.push(',');
    write_sample_value(out, v);
    out.push(']');
}

/// Writes labels as a JSON object in label order.
pub fn write_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, &l.name);
        out.push(':');
        write_str(out, &l.value);
    }
    out.push('}');
}

/// Writes a JSON array of strings.
pub fn write_str_array<S: AsRef<str>>(out: &mut String, items: &[S]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, s.as_ref());
    }
    out.push(']');
}

/// A JSON object written field by field, in the order given.
pub struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Opens an object.
    pub fn new(out: &'a mut String) -> Self {
        out.push('{');
        Obj { out, first: true }
    }

    /// Starts a field and returns the buffer to write its value into.
    pub fn key(&mut self, name: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        write_str(self.out, name);
        self.out.push(':');
        self.out
    }

    /// A string field.
    pub fn str(&mut self, name: &str, value: &str) -> &mut Self {
        write_str(self.key(name), value);
        self
    }

    /// A field whose value is already JSON text (numbers, booleans, nested values).
    pub fn raw(&mut self, name: &str, json: &str) -> &mut Self {
        self.key(name).push_str(json);
        self
    }

    /// Closes the object.
    pub fn end(self) {
        self.out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(t: i64) -> String {
        let mut s = String::new();
        write_timestamp(&mut s, t);
        s
    }

    #[test]
    fn sample_values_match_prometheus() {
        // Expected strings from Prometheus' web/api/v1/json_codec_test.go and Go's
        // strconv documentation.
        assert_eq!(format_sample_value(0.0), "0");
        assert_eq!(format_sample_value(20.0), "20");
        assert_eq!(format_sample_value(f64::NAN), "NaN");
        assert_eq!(format_sample_value(f64::INFINITY), "+Inf");
        assert_eq!(format_sample_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_sample_value(1.2345678e6), "1234567.8");
        assert_eq!(format_sample_value(1.2345678e-6), "0.0000012345678");
        assert_eq!(format_sample_value(1.2345678e-67), "1.2345678e-67");
        assert_eq!(format_sample_value(1e6), "1000000");
        assert_eq!(format_sample_value(1e-7), "1e-07");
        assert_eq!(format_sample_value(-1e-7), "-1e-07");
        assert_eq!(format_sample_value(1e21), "1e+21");
        assert_eq!(format_sample_value(1.5e300), "1.5e+300");
        assert_eq!(
            format_sample_value(999999999999999900000.0),
            "999999999999999900000"
        );
        assert_eq!(format_sample_value(-0.0), "-0");
        assert_eq!(format_sample_value(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_sample_value(5e-324), "5e-324");
        assert_eq!(format_sample_value(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(format_sample_value(123456789.0), "123456789");
        assert_eq!(format_sample_value(-2.5), "-2.5");
    }

    #[test]
    fn scalar_values_never_use_exponents() {
        assert_eq!(format_f(1e21), "1000000000000000000000");
        assert_eq!(format_f(1e-7), "0.0000001");
    }

    #[test]
    fn timestamps_match_prometheus() {
        // From Prometheus' json_codec_test.go.
        assert_eq!(ts(0), "0");
        assert_eq!(ts(1), "0.001");
        assert_eq!(ts(10), "0.010");
        assert_eq!(ts(100), "0.100");
        assert_eq!(ts(1001), "1.001");
        assert_eq!(ts(1010), "1.010");
        assert_eq!(ts(1100), "1.100");
        assert_eq!(ts(12345678123456555), "12345678123456.555");
        assert_eq!(ts(-1), "-0.001");
        assert_eq!(ts(1435781451781), "1435781451.781");
        assert_eq!(ts(1435781451000), "1435781451");
        assert_eq!(ts(i64::MIN), "-9223372036854775.808");
    }

    #[test]
    fn go_json_floats() {
        let f = |v: f64| {
            let mut s = String::new();
            write_go_json_float(&mut s, v);
            s
        };
        assert_eq!(f(1435781451.78), "1435781451.78");
        assert_eq!(f(1.0), "1");
        assert_eq!(f(-0.001), "-0.001");
        assert_eq!(f(1e-7), "1e-7");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1.5e-10), "1.5e-10");
    }

    #[test]
    fn strings_escape_like_go() {
        let mut s = String::new();
        write_str(&mut s, "a\"b\\c\nd<e>&\u{1}\u{2028}é");
        assert_eq!(s, r#""a\"b\\c\nd\u003ce\u003e\u0026\u0001\u2028é""#);
    }

    #[test]
    fn objects_keep_field_order() {
        let mut s = String::new();
        let mut o = Obj::new(&mut s);
        o.str("status", "success").raw("data", "[]");
        o.end();
        assert_eq!(s, r#"{"status":"success","data":[]}"#);
        let mut l = String::new();
        write_labels(
            &mut l,
            &Labels::from_pairs([("job", "a"), ("__name__", "up")]),
        );
        assert_eq!(l, r#"{"__name__":"up","job":"a"}"#);
    }
}
