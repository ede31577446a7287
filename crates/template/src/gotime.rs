//! Go `time.Time` and `time.Duration` emulation.
//!
//! Templates see times as strings in Go's `Time.String()` form
//! (`2026-01-02 15:04:05.123 +0000 UTC`), because that is what printing a
//! `time.Time` gives in Go and gotmpl has no opaque value type. Functions and
//! methods that take a time (`date`, `tz`, `.Format`, ...) parse that form
//! back; offset and zone abbreviation survive the round trip.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};

/// A point in time plus the zone it is displayed in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GoTime {
    pub(crate) ts: Timestamp,
    pub(crate) offset_secs: i32,
    pub(crate) abbr: String,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Go's layout for `Time.String()`.
const STRING_LAYOUT: &str = "2006-01-02 15:04:05.999999999 -0700 MST";

impl GoTime {
    /// A UTC time.
    pub(crate) fn utc(ts: Timestamp) -> Self {
        GoTime {
            ts,
            offset_secs: 0,
            abbr: "UTC".into(),
        }
    }

    /// From Unix milliseconds, in UTC.
    pub(crate) fn from_unix_millis(ms: i64) -> Option<Self> {
        Timestamp::from_millisecond(ms).ok().map(Self::utc)
    }

    /// Parses an RFC 3339 timestamp; the result is in UTC, as Alertmanager's
    /// alerts usually are.
    pub(crate) fn parse_rfc3339(s: &str) -> Option<Self> {
        s.parse::<Timestamp>().ok().map(Self::utc)
    }

    /// Parses Go's `Time.String()` output back.
    pub(crate) fn parse_go(s: &str) -> Option<Self> {
        let mut parts = s.split(' ');
        let (date, time, off, abbr) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || date.len() != 10 || off.len() != 5 {
            return None;
        }
        let (sign, hhmm) = match off.as_bytes()[0] {
            b'+' => (1, &off[1..]),
            b'-' => (-1, &off[1..]),
            _ => return None,
        };
        let oh: i32 = hhmm.get(0..2)?.parse().ok()?;
        let om: i32 = hhmm.get(2..4)?.parse().ok()?;
        let offset_secs = sign * (oh * 3600 + om * 60);
        let dt: jiff::civil::DateTime = format!("{date}T{time}").parse().ok()?;
        let offset = Offset::from_seconds(offset_secs).ok()?;
        let ts = offset.to_timestamp(dt).ok()?;
        Some(GoTime {
            ts,
            offset_secs,
            abbr: abbr.to_string(),
        })
    }

    /// Go's `Time.String()`.
    pub(crate) fn to_go_string(&self) -> String {
        self.format(STRING_LAYOUT)
    }

    /// Go's `Time.In(LoadLocation(name))`.
    pub(crate) fn in_zone(&self, name: &str) -> Result<GoTime, String> {
        if name.is_empty() || name == "UTC" {
            return Ok(GoTime::utc(self.ts));
        }
        let tz = if name == "Local" {
            TimeZone::system()
        } else {
            TimeZone::get(name).map_err(|_| format!("unknown time zone {name}"))?
        };
        let info = tz.to_offset_info(self.ts);
        let offset_secs = info.offset().seconds();
        let mut abbr = info.abbreviation().to_string();
        if abbr.is_empty() {
            abbr = numeric_zone(offset_secs, false);
        }
        Ok(GoTime {
            ts: self.ts,
            offset_secs,
            abbr,
        })
    }

    /// Adds Go duration nanoseconds.
    pub(crate) fn add_nanos(&self, ns: i64) -> Option<GoTime> {
        let ts = Timestamp::from_nanosecond(self.ts.as_nanosecond() + ns as i128).ok()?;
        Some(GoTime { ts, ..self.clone() })
    }

    /// Go's `Time.Format(layout)`.
    pub(crate) fn format(&self, layout: &str) -> String {
        let offset = Offset::from_seconds(self.offset_secs).unwrap_or(Offset::UTC);
        let dt = offset.to_datetime(self.ts);
        let year = dt.year() as i64;
        let month = dt.month() as usize;
        let day = dt.day() as i64;
        let hour = dt.hour() as i64;
        let minute = dt.minute() as i64;
        let second = dt.second() as i64;
        let nanos = dt.subsec_nanosecond() as i64;
        let wd = dt.weekday().to_sunday_zero_offset() as usize;
        let yday = dt.day_of_year() as i64;
        let mut out = String::with_capacity(layout.len() + 10);
        let b = layout.as_bytes();
        let mut i = 0;
        let starts = |i: usize, s: &str| layout[i..].starts_with(s);
        let lower_next = |j: usize| b.get(j).is_some_and(|c| c.is_ascii_lowercase());
        while i < b.len() {
            let c = b[i];
            let (text, adv): (String, usize) = match c {
                b'J' if starts(i, "January") => (MONTHS[month - 1].into(), 7),
                b'J' if starts(i, "Jan") && !lower_next(i + 3) => {
                    (MONTHS[month - 1][..3].into(), 3)
                }
                b'M' if starts(i, "Monday") => (DAYS[wd].into(), 6),
                b'M' if starts(i, "Mon") && !lower_next(i + 3) => (DAYS[wd][..3].into(), 3),
                b'M' if starts(i, "MST") => (
                    if self.abbr.is_empty() {
                        numeric_zone(self.offset_secs, false)
                    } else {
                        self.abbr.clone()
                    },
                    3,
                ),
                b'0' if b.get(i + 1).is_some_and(|d| (b'1'..=b'6').contains(d)) => {
                    let v = match b[i + 1] {
                        b'1' => month as i64,
                        b'2' => day,
                        b'3' => twelve(hour),
                        b'4' => minute,
                        b'5' => second,
                        _ => year.rem_euclid(100),
                    };
                    (format!("{v:02}"), 2)
                }
                b'0' if starts(i, "002") => (format!("{yday:03}"), 3),
                b'1' if starts(i, "15") => (format!("{hour:02}"), 2),
                b'1' => (month.to_string(), 1),
                b'2' if starts(i, "2006") => (format!("{year:04}"), 4),
                b'2' => (day.to_string(), 1),
                b'_' if starts(i, "_2006") => ("_".into(), 1),
                b'_' if starts(i, "_2") => (format!("{day:>2}"), 2),
                b'_' if starts(i, "__2") => (format!("{yday:>3}"), 3),
                b'3' => (twelve(hour).to_string(), 1),
                b'4' => (minute.to_string(), 1),
                b'5' => (second.to_string(), 1),
                b'P' if starts(i, "PM") => ((if hour >= 12 { "PM" } else { "AM" }).into(), 2),
                b'p' if starts(i, "pm") => ((if hour >= 12 { "pm" } else { "am" }).into(), 2),
                b'-' | b'Z' => match zone_layout(&layout[i..]) {
                    Some((len, secs, colon)) => {
                        if c == b'Z' && self.offset_secs == 0 {
                            ("Z".into(), len)
                        } else {
                            (
                                zone_text(self.offset_secs, len, secs, colon, c == b'Z'),
                                len,
                            )
                        }
                    }
                    None => ((c as char).to_string(), 1),
                },
                b'.' | b',' if b.get(i + 1).is_some_and(|d| *d == b'0' || *d == b'9') => {
                    let d = b[i + 1];
                    let mut j = i + 1;
                    while j < b.len() && b[j] == d {
                        j += 1;
                    }
                    if b.get(j).is_some_and(u8::is_ascii_digit) {
                        ((c as char).to_string(), 1)
                    } else {
                        let n = j - i - 1;
                        let digits = format!("{nanos:09}");
                        let frac = &digits[..n.min(9)];
                        let text = if d == b'9' {
                            let t = frac.trim_end_matches('0');
                            if t.is_empty() {
                                String::new()
                            } else {
                                format!("{}{t}", c as char)
                            }
                        } else {
                            format!("{}{frac}", c as char)
                        };
                        (text, j - i)
                    }
                }
                _ => {
                    // Copy one whole UTF-8 character.
                    let ch = layout[i..].chars().next().unwrap_or(' ');
                    (ch.to_string(), ch.len_utf8())
                }
            };
            out.push_str(&text);
            i += adv;
        }
        out
    }

    /// Unix seconds (floor, like Go).
    pub(crate) fn unix(&self) -> i64 {
        self.ts.as_second()
    }

    /// Unix milliseconds.
    pub(crate) fn unix_milli(&self) -> i64 {
        self.ts.as_millisecond()
    }

    /// Unix nanoseconds (saturating).
    pub(crate) fn unix_nano(&self) -> i64 {
        i64::try_from(self.ts.as_nanosecond()).unwrap_or(i64::MAX)
    }

    /// Go's `Time.IsZero` (January 1, year 1, 00:00:00 UTC).
    pub(crate) fn is_zero(&self) -> bool {
        self.ts.as_second() == -62_135_596_800 && self.ts.subsec_nanosecond() == 0
    }
}

fn twelve(hour: i64) -> i64 {
    match hour % 12 {
        0 => 12,
        h => h,
    }
}

/// Recognises Go's numeric zone layouts at the start of `s`:
/// returns (layout length, with seconds, with colons).
fn zone_layout(s: &str) -> Option<(usize, bool, bool)> {
    let body = &s[1..];
    for (pat, secs, colon) in [
        ("07:00:00", true, true),
        ("070000", true, false),
        ("07:00", false, true),
        ("0700", false, false),
    ] {
        if body.starts_with(pat) {
            return Some((pat.len() + 1, secs, colon));
        }
    }
    if body.starts_with("07") {
        return Some((3, false, false));
    }
    None
}

fn zone_text(offset: i32, len: usize, secs: bool, colon: bool, _iso: bool) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    let (h, m, s) = (a / 3600, (a / 60) % 60, a % 60);
    if len == 3 {
        return format!("{sign}{h:02}");
    }
    let sep = if colon { ":" } else { "" };
    let mut out = format!("{sign}{h:02}{sep}{m:02}");
    if secs {
        out.push_str(&format!("{sep}{s:02}"));
    }
    out
}

/// `-0700`-style zone text used when a zone has no abbreviation.
fn numeric_zone(offset: i32, colon: bool) -> String {
    zone_text(offset, 5, false, colon, false)
}

/// Go's `Duration.String()` (`1h2m3.5s`, `1.5ms`, `0s`).
pub(crate) fn duration_string(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&frac(u, div));
        out.push_str(unit);
    } else {
        let h = u / 3_600_000_000_000;
        let m = (u / 60_000_000_000) % 60;
        let s_ns = u % 60_000_000_000;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&frac(s_ns, 1_000_000_000));
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `v / div` with the remainder as trimmed decimal digits.
fn frac(v: u64, div: u64) -> String {
    let whole = v / div;
    let rem = v % div;
    if rem == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let digits = format!("{rem:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Go's `time.ParseDuration` (`1h30m`, `-1.5s`, `300ms`, `0`), in nanoseconds.
pub(crate) fn parse_go_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * mult;
    }
    if total > i64::MAX as f64 {
        return None;
    }
    let v = total.round() as i64;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_string_round_trip() {
        let t = GoTime::from_unix_millis(1_435_065_584_128).unwrap();
        // Prometheus' humanizeTimestamp test: 1435065584.128 prints like this.
        assert_eq!(t.to_go_string(), "2015-06-23 13:19:44.128 +0000 UTC");
        assert_eq!(GoTime::parse_go(&t.to_go_string()), Some(t.clone()));
        let p = t.in_zone("Europe/Paris").unwrap();
        assert_eq!(p.to_go_string(), "2015-06-23 15:19:44.128 +0200 CEST");
        assert_eq!(GoTime::parse_go(&p.to_go_string()), Some(p));
    }

    #[test]
    fn durations_like_go() {
        // Expected values from Go's time.Duration.String documentation.
        assert_eq!(duration_string(1_800_000_000_000), "30m0s");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(
            duration_string(72 * 3_600_000_000_000 + 180_500_000_000),
            "72h3m0.5s"
        );
        assert_eq!(duration_string(-1_000_000_000), "-1s");
        assert_eq!(parse_go_duration("1h2m"), Some(3_720_000_000_000));
        assert_eq!(parse_go_duration("-30m0s"), Some(-1_800_000_000_000));
        assert_eq!(parse_go_duration("abc"), None);
    }
}
