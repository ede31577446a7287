//! Prometheus duration strings (`1h30m`, `15d`, `500ms`).

/// Units in the order they must appear, with their length in milliseconds.
const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 86_400_000),
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Prints milliseconds the way Prometheus' `model.Duration` prints a duration: largest
/// units first (`1h30m`, `1s500ms`), `0s` for zero, a leading `-` when negative; years
/// and weeks only when they divide the rest exactly (`90d`, not `12w6d`).
pub fn format_duration_ms(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    for (unit, len) in UNITS {
        let len = len.unsigned_abs();
        if matches!(unit, "y" | "w") && !rest.is_multiple_of(len) {
            continue;
        }
        let n = rest / len;
        if n > 0 {
            out.push_str(&n.to_string());
            out.push_str(unit);
            rest -= n * len;
        }
    }
    out
}

/// Parses Prometheus' duration grammar into milliseconds: `0`, or one or more
/// `<digits><unit>` with units `y w d h m s ms`, each at most once and in that order.
/// `None` when the text is not a duration or overflows.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut next_unit = 0;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let idx = UNITS.iter().position(|(u, _)| *u == unit)?;
        if idx < next_unit {
            return None;
        }
        next_unit = idx + 1;
        total = total.checked_add(n.checked_mul(UNITS[idx].1)?)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_like_model_duration() {
        for (ms, text) in [
            (0, "0s"),
            (5_400_000, "1h30m"),
            (1_500, "1s500ms"),
            (90 * 86_400_000, "90d"),
            (14 * 86_400_000, "2w"),
            (365 * 86_400_000, "1y"),
            (-60_000, "-1m"),
        ] {
            assert_eq!(super::format_duration_ms(ms), text);
        }
    }

    use super::parse_duration_ms as p;

    #[test]
    fn prometheus_grammar() {
        assert_eq!(p("1h30m"), Some(5_400_000));
        assert_eq!(p("15d"), Some(15 * 86_400_000));
        assert_eq!(p("500ms"), Some(500));
        assert_eq!(p("1m30s500ms"), Some(90_500));
        assert_eq!(p("0"), Some(0));
        assert_eq!(p(""), None);
        assert_eq!(p("5x"), None);
        assert_eq!(p("5m1h"), None, "units out of order");
        assert_eq!(p("1m1m"), None, "unit repeated");
        assert_eq!(p("m"), None);
        assert_eq!(p("99999999999999999y"), None, "overflow");
    }
}
