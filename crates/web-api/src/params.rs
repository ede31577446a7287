//! Request parameters: collection (query string and form body) and parsing of
//! times, durations, limits and series selectors, worded like Prometheus.

use crate::error::{ApiError, go_quote};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};
use watchfire_model::Matcher;
use watchfire_promql::ast::Expr;

/// Earliest time of open ranges (Prometheus' `MinTime`), in ms.
pub const MIN_TIME_MS: i64 = (i64::MIN / 1000 + 62_135_596_801) * 1000;
/// Latest time of open ranges (Prometheus' `MaxTime`), in ms.
pub const MAX_TIME_MS: i64 = (i64::MAX / 1000 - 62_135_596_801) * 1000 + 999;

const NANOS_PER_MS: i128 = 1_000_000;
const NANOS_PER_SEC: i128 = 1_000_000_000;

/// The parameters of a request, like Go's `Request.Form`: values from a
/// form-encoded body (POST, PUT, PATCH) first, then those of the query string.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parameters from a query string and an optional form body.
    pub fn from_parts(query: Option<&str>, form_body: Option<&[u8]>) -> Self {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(body) = form_body {
            pairs.extend(form_urlencoded::parse(body).into_owned());
        }
        if let Some(q) = query {
            pairs.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        Params { pairs }
    }

    /// The first value of `name`, or `""` (Go's `FormValue`).
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let query = req.uri().query().map(str::to_owned);
        let is_form = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH)
            && req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|v| {
                    v.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                });
        let body = if is_form {
            Some(
                Bytes::from_request(req, state)
                    .await
                    .map_err(|e| ApiError::BadData(format!("error parsing form values: {e}")))?,
            )
        } else {
            None
        };
        Ok(Params::from_parts(query.as_deref(), body.as_deref()))
    }
}

/// Parses a timestamp, RFC 3339 or Unix seconds (a float, rounded to the
/// millisecond), into milliseconds.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(t) = s.parse::<f64>()
        && t.is_finite()
    {
        let secs = t.trunc();
        let frac = ((t - secs) * 1000.0).round() / 1000.0;
        let nanos = (frac * 1e9) as i128;
        return Ok(nanos_to_ms(secs as i128 * NANOS_PER_SEC + nanos));
    }
    if let Some(ns) = parse_rfc3339(s) {
        return Ok(nanos_to_ms(ns));
    }
    if s == format_rfc3339(MIN_TIME_MS.div_euclid(1000) as i128 * NANOS_PER_SEC) {
        return Ok(MIN_TIME_MS);
    }
    if s == format_rfc3339(MAX_TIME_MS.div_euclid(1000) as i128 * NANOS_PER_SEC + 999_999_999) {
        return Ok(MAX_TIME_MS);
    }
    Err(format!("cannot parse {} to a valid timestamp", go_quote(s)))
}

/// A time parameter with a default when absent or empty.
pub fn time_param(p: &Params, name: &str, default: i64) -> Result<i64, ApiError> {
    let v = p.get(name);
    if v.is_empty() {
        return Ok(default);
    }
    parse_time(v)
        .map_err(|e| ApiError::invalid_param(name, format!("invalid time value for '{name}': {e}")))
}

/// Milliseconds of an instant given in nanoseconds, floored like Go's
/// `timestamp.FromTime`, clamped to the i64 range.
fn nanos_to_ms(ns: i128) -> i64 {
    let ms = ns.div_euclid(NANOS_PER_MS);
    ms.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Parses Go's `time.RFC3339Nano` layout (`2015-07-01T20:10:51.781Z`,
/// `2015-07-01T22:10:51+02:00`) into nanoseconds since the epoch.
fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, min, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if matches!(b.get(i), Some(b'.') | Some(b',')) {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        for (k, d) in b[i + 1..i + 1 + digits].iter().enumerate() {
            if k < 9 {
                nanos += i128::from(d - b'0') * 10i128.pow(8 - k as u32);
            }
        }
        i += 1 + digits;
    }
    let offset_secs: i64 = match b.get(i) {
        Some(b'Z') if i + 1 == b.len() => 0,
        Some(&c @ (b'+' | b'-')) if i + 6 == b.len() && sep(i + 3, b':') => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if c == b'-' { -off } else { off }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
    Some(i128::from(secs) * NANOS_PER_SEC + nanos)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Formats nanoseconds since the epoch as Go's `time.RFC3339Nano` in UTC (the
/// form Go's JSON encoder gives `time.Time`): trailing fractional zeros dropped.
pub fn format_rfc3339(ns: i128) -> String {
    let secs = ns.div_euclid(NANOS_PER_SEC) as i64;
    let frac = ns.rem_euclid(NANOS_PER_SEC) as u32;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let year = if y < 0 {
        format!("-{:04}", y.unsigned_abs())
    } else {
        format!("{y:04}")
    };
    let mut out = format!(
        "{year}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
    if frac != 0 {
        let f = format!("{frac:09}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Parses a duration, float seconds or Prometheus' `1h30m` form, into nanoseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if let Ok(d) = s.parse::<f64>()
        && !d.is_nan()
    {
        let ns = d * 1e9;
        if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
            return Err(format!(
                "cannot parse {} to a valid duration. It overflows int64",
                go_quote(s)
            ));
        }
        return Ok(ns as i64);
    }
    parse_prometheus_duration(s)
        .ok_or_else(|| format!("cannot parse {} to a valid duration", go_quote(s)))
}

/// Prometheus' duration grammar, in nanoseconds.
fn parse_prometheus_duration(s: &str) -> Option<i64> {
    watchfire_model::parse_duration_ms(s)?.checked_mul(1_000_000)
}

/// The `limit` parameter: 0 (no limit) when absent.
pub fn parse_limit(p: &Params) -> Result<usize, ApiError> {
    let s = p.get("limit");
    if s.is_empty() {
        return Ok(0);
    }
    let n: i64 = s.parse().map_err(|e: std::num::ParseIntError| {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        ApiError::invalid_param(
            "limit",
            format!("strconv.Atoi: parsing {}: {why}", go_quote(s)),
        )
    })?;
    if n < 0 {
        return Err(ApiError::invalid_param(
            "limit",
            "limit must be non-negative",
        ));
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Parses `match[]` values into one matcher set each. Only plain series
/// selectors are accepted, and each needs a matcher that does not match "".
pub fn parse_match_sets(values: &[&str]) -> Result<Vec<Vec<Matcher>>, String> {
    let mut sets = Vec::with_capacity(values.len());
    for v in values {
        let expr = watchfire_promql::parse(v).map_err(|e| e.to_string())?;
        let sel = match expr {
            Expr::VectorSelector(sel) if sel.offset_ms == 0 && sel.at.is_none() => sel,
            other => {
                let kind = match other {
                    Expr::VectorSelector(_) => "a selector with offset or @",
                    Expr::MatrixSelector { .. } => "a range selector",
                    Expr::Subquery { .. } => "a subquery",
                    Expr::Call { .. } => "a function call",
                    Expr::Aggregate { .. } => "an aggregation",
                    Expr::Binary { .. } => "a binary expression",
                    Expr::Number(_) | Expr::Neg(_) => "a number",
                    Expr::String(_) => "a string",
                    Expr::Paren(_) => "a parenthesized expression",
                };
                return Err(format!(
                    "1:1: parse error: expected a series selector, got {kind}"
                ));
            }
        };
        if sel.matchers.iter().all(Matcher::matches_empty) {
            return Err("match[] must contain at least one non-empty matcher".into());
        }
        sets.push(sel.matchers);
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1435781451.781"), Ok(1_435_781_451_781));
        assert_eq!(parse_time("1435781451"), Ok(1_435_781_451_000));
        assert_eq!(parse_time("0.0005"), Ok(1)); // rounded to the ms, like Prometheus
        assert_eq!(parse_time("-1.5"), Ok(-1500));
        assert_eq!(parse_time("1e3"), Ok(1_000_000));
        assert_eq!(
            parse_time("2015-07-01T20:10:51.781Z"),
            Ok(1_435_781_451_781)
        );
        assert_eq!(parse_time("2015-07-01T20:10:51Z"), Ok(1_435_781_451_000));
        assert_eq!(
            parse_time("2015-07-01T22:10:51.7819+02:00"),
            Ok(1_435_781_451_781)
        );
        assert_eq!(parse_time("1969-12-31T23:59:59.9995Z"), Ok(-1));
        assert_eq!(parse_time("2024-02-29T00:00:00Z"), Ok(1_709_164_800_000));
        assert!(parse_time("2023-02-29T00:00:00Z").is_err());
        assert!(parse_time("2015-07-01T20:10:51").is_err());
        assert!(parse_time("2015-07-01 20:10:51Z").is_err());
        assert_eq!(
            parse_time("x"),
            Err("cannot parse \"x\" to a valid timestamp".into())
        );
        assert_eq!(
            parse_time(""),
            Err("cannot parse \"\" to a valid timestamp".into())
        );
    }

    #[test]
    fn boundary_times_round_trip() {
        // Prometheus' MinTime/MaxTime as Go formats them.
        let min = format_rfc3339(MIN_TIME_MS as i128 * NANOS_PER_MS);
        let max = format_rfc3339((MAX_TIME_MS / 1000) as i128 * NANOS_PER_SEC + 999_999_999);
        assert_eq!(min, "-292273086-05-16T16:47:06Z");
        assert_eq!(max, "292277025-08-18T07:12:54.999999999Z");
        assert_eq!(parse_time(&min), Ok(MIN_TIME_MS));
        assert_eq!(parse_time(&max), Ok(MAX_TIME_MS));
        assert_eq!(
            format_rfc3339(1_435_781_451_781_000_000),
            "2015-07-01T20:10:51.781Z"
        );
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15s"), Ok(15_000_000_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("1h"), Ok(3_600_000_000_000));
        assert_eq!(parse_duration("100ms"), Ok(100_000_000));
        assert_eq!(parse_duration("2d"), Ok(172_800_000_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("1.5"), Ok(1_500_000_000));
        assert_eq!(parse_duration("-1"), Ok(-1_000_000_000));
        assert!(parse_duration("1s1m").is_err());
        assert!(parse_duration("1x").is_err());
        assert_eq!(
            parse_duration("x"),
            Err("cannot parse \"x\" to a valid duration".into())
        );
        assert_eq!(
            parse_duration("1e10"),
            Err("cannot parse \"1e10\" to a valid duration. It overflows int64".into())
        );
    }

    #[test]
    fn params_and_limits() {
        let p = Params::from_parts(
            Some("limit=3&match[]=a&x=%20y"),
            Some(b"match%5B%5D=b&limit=2"),
        );
        assert_eq!(p.get("limit"), "2");
        assert_eq!(p.all("match[]"), vec!["b", "a"]);
        assert_eq!(p.get("x"), " y");
        assert_eq!(p.get("nothing"), "");
        assert_eq!(parse_limit(&p), Ok(2));
        let bad = Params::from_parts(Some("limit=abc"), None);
        assert_eq!(
            parse_limit(&bad).map_err(|e| e.to_string()),
            Err(
                "invalid parameter \"limit\": strconv.Atoi: parsing \"abc\": invalid syntax".into()
            )
        );
        let neg = Params::from_parts(Some("limit=-1"), None);
        assert_eq!(
            parse_limit(&neg).map_err(|e| e.to_string()),
            Err("invalid parameter \"limit\": limit must be non-negative".into())
        );
        let t = Params::from_parts(Some("time=x"), None);
        assert_eq!(
            time_param(&t, "time", 0).map_err(|e| e.to_string()),
            Err("invalid parameter \"time\": invalid time value for 'time': cannot parse \"x\" to a valid timestamp".into())
        );
        assert_eq!(time_param(&t, "start", 7), Ok(7));
    }

    #[test]
    fn match_sets() {
        let sets = parse_match_sets(&["up", "{job=\"a\", instance=~\".+\"}"]).unwrap_or_default();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[1].len(), 2);
        assert!(parse_match_sets(&["rate(up[5m])"]).is_err());
        assert!(parse_match_sets(&["up offset 5m"]).is_err());
        assert!(parse_match_sets(&["up{"]).is_err());
        // The parser already refuses selectors that match everything.
        assert_eq!(
            parse_match_sets(&["{job=~\".*\"}"]),
            Err(
                "1:1: parse error: vector selector must contain at least one non-empty matcher"
                    .into()
            )
        );
    }
}
