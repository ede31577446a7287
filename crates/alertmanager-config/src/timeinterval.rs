//! Time intervals (`time_intervals`, legacy `mute_time_intervals`) and their membership
//! test. Semantics follow Alertmanager: every non-empty field must match; end times are
//! exclusive; negative days of month count from the month's end; `location` converts the
//! instant to that IANA zone first (UTC otherwise).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

/// An inclusive range of integers (weekday 0=Sunday, day of month, month 1-12, year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Range {
    /// First value.
    pub begin: i32,
    /// Last value (inclusive).
    pub end: i32,
}

/// `start_time`/`end_time` as minutes since midnight; the end is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    /// Start minute.
    pub start_minute: u32,
    /// End minute (exclusive, up to 1440).
    pub end_minute: u32,
}

/// One time interval: all of its non-empty constraints must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TimeInterval {
    /// Times of day.
    pub times: Vec<TimeRange>,
    /// Weekdays (0 = Sunday).
    pub weekdays: Vec<Range>,
    /// Days of month (negative = from the end).
    pub days_of_month: Vec<Range>,
    /// Months 1-12.
    pub months: Vec<Range>,
    /// Years.
    pub years: Vec<Range>,
    /// IANA zone name (UTC when absent).
    pub location: Option<String>,
    #[serde(skip)]
    tz: Option<jiff::tz::TimeZone>,
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn split_range(s: &str) -> Result<(String, String), String> {
    let l = s.to_lowercase();
    let parts: Vec<&str> = l.split(':').collect();
    match parts.as_slice() {
        [one] => Ok((one.to_string(), one.to_string())),
        [a, b] => Ok((a.to_string(), b.to_string())),
        _ => Err(format!("couldn't parse range {l}, invalid format")),
    }
}

fn parse_int(s: &str) -> Result<i32, String> {
    s.parse::<i32>()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: invalid syntax"))
}

/// Parses a weekday range like `monday:friday`.
pub fn parse_weekday_range(s: &str) -> Result<Range, String> {
    let (a, b) = split_range(s)?;
    let day = |d: &str| {
        WEEKDAYS
            .iter()
            .position(|w| *w == d)
            .map(|i| i as i32)
            .ok_or_else(|| format!("{d} is not a valid weekday"))
    };
    let r = Range {
        begin: day(&a)?,
        end: day(&b)?,
    };
    if r.begin > r.end {
        return Err("start day cannot be before end day".into());
    }
    Ok(r)
}

/// Parses a day-of-month range like `1:7` or `-3:-1`.
pub fn parse_day_of_month_range(s: &str) -> Result<Range, String> {
    let (a, b) = split_range(s)?;
    let r = Range {
        begin: parse_int(&a)?,
        end: parse_int(&b)?,
    };
    for v in [r.begin, r.end] {
        if v == 0 || !(-31..=31).contains(&v) {
            return Err(format!("{v} is not a valid day of the month: out of range"));
        }
    }
    if r.begin < 0 && r.end > 0 {
        return Err("end day must be negative if start day is negative".into());
    }
    let norm = |v: i32| if v < 0 { 28 + v } else { v };
    if norm(r.begin) > norm(r.end) {
        return Err(format!(
            "end day {} is always before start day {}",
            r.end, r.begin
        ));
    }
    Ok(r)
}

/// Parses a month range by name or number, like `march:may` or `1:3`.
pub fn parse_month_range(s: &str) -> Result<Range, String> {
    let (a, b) = split_range(s)?;
    let month = |m: &str| -> Result<i32, String> {
        if let Some(i) = MONTHS.iter().position(|n| *n == m) {
            return Ok(i as i32 + 1);
        }
        match m.parse::<i32>() {
            Ok(n) if (1..=12).contains(&n) => Ok(n),
            _ => Err(format!("{m} is not a valid month")),
        }
    };
    let r = Range {
        begin: month(&a)?,
        end: month(&b)?,
    };
    if r.begin > r.end {
        return Err(format!(
            "end month {} is before start month {}",
            MONTHS[(r.end - 1) as usize],
            MONTHS[(r.begin - 1) as usize]
        ));
    }
    Ok(r)
}

/// Parses a year range like `2024:2026`.
pub fn parse_year_range(s: &str) -> Result<Range, String> {
    let (a, b) = split_range(s)?;
    let r = Range {
        begin: parse_int(&a)?,
        end: parse_int(&b)?,
    };
    if r.begin > r.end {
        return Err(format!(
            "end year {} is before start year {}",
            r.end, r.begin
        ));
    }
    Ok(r)
}

fn parse_hhmm(s: &str) -> Result<u32, String> {
    let ok = s == "24:00" || {
        let b = s.as_bytes();
        b.len() == 5
            && b[2] == b':'
            && b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit)
            && (&s[..2] <= "23")
            && b[3] <= b'5'
    };
    if !ok {
        return Err(format!("couldn't parse timestamp {s}, invalid format"));
    }
    let h: u32 = s[..2]
        .parse()
        .map_err(|_| format!("invalid timestamp format: {s}"))?;
    let m: u32 = s[3..]
        .parse()
        .map_err(|_| format!("invalid timestamp format: {s}"))?;
    Ok(h * 60 + m)
}

/// Builds a [`TimeRange`] from `HH:MM` texts.
pub fn parse_time_range(start: &str, end: &str) -> Result<TimeRange, String> {
    if start.is_empty() || end.is_empty() {
        return Err("both start and end times must be provided".into());
    }
    let (s, e) = (parse_hhmm(start)?, parse_hhmm(end)?);
    if s >= e {
        return Err("start time cannot be equal or greater than end time".into());
    }
    Ok(TimeRange {
        start_minute: s,
        end_minute: e,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeRange {
    #[serde(default)]
    start_time: String,
    #[serde(default)]
    end_time: String,
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawTimeRange::deserialize(d)?;
        parse_time_range(&r.start_time, &r.end_time).map_err(D::Error::custom)
    }
}

fn ranges<'de, D: Deserializer<'de>>(
    d: D,
    f: fn(&str) -> Result<Range, String>,
) -> Result<Vec<Range>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    v.iter().map(|s| f(s).map_err(D::Error::custom)).collect()
}
fn de_weekdays<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Range>, D::Error> {
    ranges(d, parse_weekday_range)
}
fn de_days<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Range>, D::Error> {
    ranges(d, parse_day_of_month_range)
}
fn de_months<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Range>, D::Error> {
    ranges(d, parse_month_range)
}
fn de_years<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Range>, D::Error> {
    ranges(d, parse_year_range)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInterval {
    #[serde(default)]
    times: Vec<TimeRange>,
    #[serde(default, deserialize_with = "de_weekdays")]
    weekdays: Vec<Range>,
    #[serde(default, deserialize_with = "de_days")]
    days_of_month: Vec<Range>,
    #[serde(default, deserialize_with = "de_months")]
    months: Vec<Range>,
    #[serde(default, deserialize_with = "de_years")]
    years: Vec<Range>,
    #[serde(default)]
    location: Option<String>,
}

impl<'de> Deserialize<'de> for TimeInterval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawInterval::deserialize(d)?;
        let mut ti = TimeInterval {
            times: r.times,
            weekdays: r.weekdays,
            days_of_month: r.days_of_month,
            months: r.months,
            years: r.years,
            location: None,
            tz: None,
        };
        if let Some(loc) = r.location {
            ti.set_location(&loc).map_err(D::Error::custom)?;
        }
        Ok(ti)
    }
}

impl TimeInterval {
    /// Sets the IANA location (`Local` means the system zone, as in Go).
    pub fn set_location(&mut self, name: &str) -> Result<(), String> {
        let tz = if name == "Local" {
            jiff::tz::TimeZone::system()
        } else if name == "UTC" || name.is_empty() {
            jiff::tz::TimeZone::UTC
        } else {
            jiff::tz::TimeZone::get(name).map_err(|_| format!("unknown time zone {name}"))?
        };
        self.location = Some(name.to_string());
        self.tz = Some(tz);
        Ok(())
    }

    /// Whether the instant falls inside this interval.
    pub fn contains(&self, t: jiff::Timestamp) -> bool {
        let tz = self.tz.clone().unwrap_or(jiff::tz::TimeZone::UTC);
        let z = t.to_zoned(tz);
        self.contains_civil(&z)
    }

    /// Like [`contains`](Self::contains) for a zoned time: only its instant matters, as
    /// Alertmanager evaluates in the interval's `location` (UTC when unset).
    pub fn contains_zoned(&self, z: &jiff::Zoned) -> bool {
        self.contains(z.timestamp())
    }

    fn contains_civil(&self, z: &jiff::Zoned) -> bool {
        let minute = z.hour() as u32 * 60 + z.minute() as u32;
        if !self.times.is_empty()
            && !self
                .times
                .iter()
                .any(|r| minute >= r.start_minute && minute < r.end_minute)
        {
            return false;
        }
        if !self.days_of_month.is_empty() {
            let dim = i32::from(z.date().days_in_month());
            let day = i32::from(z.day());
            let hit = self.days_of_month.iter().any(|r| {
                let b = if r.begin < 0 {
                    dim + r.begin + 1
                } else {
                    r.begin
                };
                let e = if r.end < 0 { dim + r.end + 1 } else { r.end };
                if b > dim {
                    return false;
                }
                let e = e.clamp(-dim, dim);
                day >= b && day <= e
            });
            if !hit {
                return false;
            }
        }
        let in_any =
            |rs: &[Range], v: i32| rs.is_empty() || rs.iter().any(|r| v >= r.begin && v <= r.end);
        in_any(&self.months, i32::from(z.month()))
            && in_any(
                &self.weekdays,
                i32::from(z.weekday().to_sunday_zero_offset()),
            )
            && in_any(&self.years, i32::from(z.year()))
    }
}

/// A named list of intervals; a time is "in" it when any interval contains it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NamedTimeInterval {
    /// Name routes refer to.
    #[serde(default)]
    pub name: String,
    /// Intervals (OR).
    #[serde(default)]
    pub time_intervals: Vec<TimeInterval>,
}

impl NamedTimeInterval {
    /// Whether any interval contains `t`.
    pub fn contains(&self, t: jiff::Timestamp) -> bool {
        self.time_intervals.iter().any(|ti| ti.contains(t))
    }
}
