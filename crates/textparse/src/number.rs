//! Number parsing: sample values (Go `strconv.ParseFloat` rules), integer millisecond
//! timestamps (text format) and float-second timestamps (OpenMetrics).
//!
//! Accepted float syntax, as Go's `ParseFloat(s, 64)` minus hexadecimal floats and
//! underscores (which Prometheus rejects too):
//!
//! ```text
//! [+-]? ( digits [ "." digits? ] | "." digits ) ( [eE] [+-]? digits )?
//! [+-]? ( "inf" | "infinity" )      case-insensitive
//! "nan"                             case-insensitive, no sign
//! ```
//!
//! A finite literal too large for an `f64` is an error (Go's `ErrRange`); one too small
//! rounds to zero like in Go.

/// Powers of ten exactly representable as `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Largest integer below which every integer is exact in an `f64`.
const MAX_EXACT_INT: u64 = 1 << 53;

/// The decomposition of a syntactically valid decimal literal.
struct Decimal {
    negative: bool,
    /// The significant digits as an integer, valid when `exact_digits` holds.
    mantissa: u64,
    /// Whether all digits fitted in `mantissa` (19 digits at most).
    exact_digits: bool,
    /// Power of ten to apply to `mantissa`, saturated far outside the `f64` range.
    exp10: i64,
}

/// Validates `s` against the decimal grammar and extracts its digits.
fn scan_decimal(s: &[u8]) -> Option<Decimal> {
    let mut i = 0;
    let negative = match s.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let mut mantissa: u64 = 0;
    let mut ndigits = 0usize;
    let mut saw_digit = false;
    let mut frac_digits: i64 = 0;
    while let Some(&c) = s.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        saw_digit = true;
        if mantissa != 0 || c != b'0' {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            ndigits += 1;
        }
        i += 1;
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        while let Some(&c) = s.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            saw_digit = true;
            if mantissa != 0 || c != b'0' {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                ndigits += 1;
            }
            frac_digits += 1;
            i += 1;
        }
    }
    if !saw_digit {
        return None;
    }
    let mut exp: i64 = 0;
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        let exp_negative = match s.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        while let Some(&c) = s.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            // Saturate: anything this large is far outside the f64 range anyway.
            if exp < 1_000_000 {
                exp = exp * 10 + i64::from(c - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        if exp_negative {
            exp = -exp;
        }
    }
    if i != s.len() {
        return None;
    }
    Some(Decimal {
        negative,
        mantissa,
        exact_digits: ndigits <= 19,
        exp10: exp - frac_digits,
    })
}

/// Parses `inf`, `infinity` (optionally signed) and `nan`, case-insensitively.
fn parse_special(s: &[u8]) -> Option<f64> {
    let (negative, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if body.len() == s.len() && s.eq_ignore_ascii_case(b"nan") {
        return Some(f64::NAN);
    }
    None
}

/// Why a number did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumError {
    /// Not a number at all.
    Syntax,
    /// Well-formed, but outside the representable range.
    Range,
}

/// Parses a float following Go's `strconv.ParseFloat(s, 64)` (see the module docs).
///
/// Every NaN comes back as [`f64::NAN`], so an exposed NaN can never alias
/// Prometheus' staleness marker.
pub(crate) fn parse_float(s: &[u8]) -> Result<f64, NumError> {
    let Some(d) = scan_decimal(s) else {
        return parse_special(s).ok_or(NumError::Syntax);
    };
    if d.exact_digits {
        if d.mantissa == 0 {
            return Ok(if d.negative { -0.0 } else { 0.0 });
        }
        // Clinger's fast path: both operands exact, so one IEEE operation rounds
        // correctly.
        if d.mantissa <= MAX_EXACT_INT && (-22..=22).contains(&d.exp10) {
            let m = d.mantissa as f64;
            let e = d.exp10.unsigned_abs() as usize;
            let v = if d.exp10 >= 0 {
                m * POW10[e]
            } else {
                m / POW10[e]
            };
            return Ok(if d.negative { -v } else { v });
        }
    }
    // Slow but correctly rounded; the grammar was validated above, and it is the
    // grammar the standard library accepts.
    let text = std::str::from_utf8(s).map_err(|_| NumError::Syntax)?;
    let v: f64 = text.parse().map_err(|_| NumError::Syntax)?;
    if v.is_infinite() {
        return Err(NumError::Range);
    }
    Ok(v)
}

/// Parses a base-10 `i64` with an optional sign (Go `strconv.ParseInt(s, 10, 64)`).
pub(crate) fn parse_int(s: &[u8]) -> Result<i64, NumError> {
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(NumError::Syntax);
    }
    // Accumulate negatively so that i64::MIN parses.
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(NumError::Syntax);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_sub(i64::from(c - b'0')))
            .ok_or(NumError::Range)?;
    }
    if negative {
        Ok(v)
    } else {
        v.checked_neg().ok_or(NumError::Range)
    }
}

/// Parses an OpenMetrics timestamp (float seconds) into milliseconds, rounded to the
/// nearest millisecond (halves away from zero).
///
/// Plain decimals (`1520879607.789`) are converted exactly, without going through
/// binary floating point; other forms (exponents) go through `f64`.
pub(crate) fn parse_seconds_as_ms(s: &[u8]) -> Result<i64, NumError> {
    if let Some(ms) = exact_decimal_seconds(s) {
        return Ok(ms);
    }
    let v = parse_float(s)?;
    if !v.is_finite() {
        return Err(if v.is_nan() {
            NumError::Syntax
        } else {
            NumError::Range
        });
    }
    let ms = (v * 1000.0).round();
    // i64::MAX is not representable; 2^63 is the first value out of range.
    if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&ms) {
        return Err(NumError::Range);
    }
    Ok(ms as i64)
}

/// Exact conversion for `[+-]?digits[.digits]` with at most 15 integer digits.
fn exact_decimal_seconds(s: &[u8]) -> Option<i64> {
    let (negative, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int_part, frac_part) = match body.iter().position(|&c| c == b'.') {
        Some(dot) => (&body[..dot], &body[dot + 1..]),
        None => (body, &[][..]),
    };
    if int_part.len() > 15
        || (int_part.is_empty() && frac_part.is_empty())
        || !int_part.iter().all(u8::is_ascii_digit)
        || !frac_part.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let mut ms: i64 = 0;
    for &c in int_part {
        ms = ms * 10 + i64::from(c - b'0');
    }
    for k in 0..3 {
        let d = frac_part.get(k).map_or(0, |&c| i64::from(c - b'0'));
        ms = ms * 10 + d;
    }
    // Round half away from zero on the remaining digits.
    if let Some(&first) = frac_part.get(3)
        && first >= b'5'
    {
        ms += 1;
    }
    Some(if negative { -ms } else { ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Result<f64, NumError> {
        parse_float(s.as_bytes())
    }

    #[test]
    fn go_float_syntax() {
        assert_eq!(f("1"), Ok(1.0));
        assert_eq!(f("-1.5"), Ok(-1.5));
        assert_eq!(f("+2"), Ok(2.0));
        assert_eq!(f("1e3"), Ok(1000.0));
        assert_eq!(f("1E-3"), Ok(0.001));
        assert_eq!(f("1."), Ok(1.0));
        assert_eq!(f(".5"), Ok(0.5));
        assert_eq!(f("0001.25"), Ok(1.25));
        assert_eq!(f("1.7976931348623157e308"), Ok(f64::MAX));
        assert_eq!(f("1e-400"), Ok(0.0));
        assert!(f("-0").is_ok_and(|v| v == 0.0 && v.is_sign_negative()));
        assert_eq!(f("+Inf"), Ok(f64::INFINITY));
        assert_eq!(f("-inf"), Ok(f64::NEG_INFINITY));
        assert_eq!(f("Infinity"), Ok(f64::INFINITY));
        assert_eq!(f("INF"), Ok(f64::INFINITY));
        assert!(f("NaN").is_ok_and(|v| v.to_bits() == f64::NAN.to_bits()));
        assert!(f("nan").is_ok_and(f64::is_nan));
        for bad in [
            "", "+", "-", ".", "e5", "1e", "1e+", "1.2.3", "0x10", "0x1p-2", "1_000", "-nan",
            "+NaN", "infin", "1 ", " 1", "1f", "--1", "in",
        ] {
            assert_eq!(f(bad), Err(NumError::Syntax), "{bad:?}");
        }
        assert_eq!(f("1e400"), Err(NumError::Range));
        assert_eq!(f("-1e309"), Err(NumError::Range));
        assert_eq!(f(&"9".repeat(400)), Err(NumError::Range));
    }

    #[test]
    fn fast_path_matches_std() {
        for s in [
            "0.1",
            "123456.789",
            "1.23456789e+06",
            "3.7625e+09",
            "9007199254740993",
            "12345678901234567890",
            "0.30000000000000004",
            "1e22",
            "1e23",
            "4.35e-7",
            "123456789012345678901234567890e-10",
        ] {
            let want: f64 = s.parse().unwrap_or(f64::NAN);
            assert_eq!(f(s).map(f64::to_bits), Ok(want.to_bits()), "{s}");
        }
    }

    #[test]
    fn ints() {
        assert_eq!(parse_int(b"0"), Ok(0));
        assert_eq!(parse_int(b"-12"), Ok(-12));
        assert_eq!(parse_int(b"+12"), Ok(12));
        assert_eq!(parse_int(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_int(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808"), Err(NumError::Range));
        assert_eq!(parse_int(b"1.5"), Err(NumError::Syntax));
        assert_eq!(parse_int(b"-"), Err(NumError::Syntax));
        assert_eq!(parse_int(b""), Err(NumError::Syntax));
    }

    #[test]
    fn seconds_to_ms() {
        let ms = |s: &str| parse_seconds_as_ms(s.as_bytes());
        assert_eq!(ms("1520879607.789"), Ok(1_520_879_607_789));
        assert_eq!(ms("1520879607"), Ok(1_520_879_607_000));
        assert_eq!(ms("1520879607.7895"), Ok(1_520_879_607_790));
        assert_eq!(ms("1520879607.7894999"), Ok(1_520_879_607_789));
        assert_eq!(ms("-1.0005"), Ok(-1001));
        assert_eq!(ms("0.5"), Ok(500));
        assert_eq!(ms(".001"), Ok(1));
        assert_eq!(ms("1.5e9"), Ok(1_500_000_000_000));
        assert_eq!(ms("1.5e-4"), Ok(0));
        assert_eq!(ms("NaN"), Err(NumError::Syntax));
        assert_eq!(ms("+Inf"), Err(NumError::Range));
        assert_eq!(ms("1e17"), Err(NumError::Range));
        assert_eq!(ms("abc"), Err(NumError::Syntax));
        assert_eq!(ms("."), Err(NumError::Syntax));
    }
}
