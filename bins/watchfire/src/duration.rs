//! Prometheus-style durations (`1h30m`, `15d`, `1y`) and byte sizes (`512MB`).

use std::time::Duration;

/// Parses a Prometheus duration: one or more `<number><unit>` with units
/// `y w d h m s ms` in decreasing order, or `0`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let units: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("ms", 1),
        ("m", 60_000),
        ("s", 1_000),
    ];
    let order = |u: &str| {
        ["y", "w", "d", "h", "m", "s", "ms"]
            .iter()
            .position(|x| *x == u)
    };
    let mut rest = s;
    let mut total: u64 = 0;
    let mut last_rank: Option<usize> = None;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "invalid duration {s:?}: expected a number at {rest:?}"
            ));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid duration {s:?}"))?;
        rest = &rest[digits..];
        let (unit, mult) = units
            .iter()
            .find(|(u, _)| rest.starts_with(u))
            .ok_or_else(|| {
                format!(
                    "invalid duration {s:?}: unknown unit at {rest:?} (use y, w, d, h, m, s, ms)"
                )
            })?;
        let rank = order(unit).unwrap_or(0);
        if last_rank.is_some_and(|r| r >= rank) {
            return Err(format!(
                "invalid duration {s:?}: units must be in decreasing order"
            ));
        }
        last_rank = Some(rank);
        rest = &rest[unit.len()..];
        total = n
            .checked_mul(*mult)
            .and_then(|x| total.checked_add(x))
            .ok_or_else(|| format!("duration {s:?} is too large"))?;
    }
    Ok(Duration::from_millis(total))
}

/// Parses a byte size with Prometheus' units (`B KB MB GB TB PB EB`, powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let n: u64 = s[..digits]
        .parse()
        .map_err(|_| format!("invalid size {s:?}: expected e.g. 512MB"))?;
    let mult: u64 = match &s[digits..] {
        "" | "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        "PB" => 1 << 50,
        "EB" => 1 << 60,
        u => {
            return Err(format!(
                "invalid size {s:?}: unknown unit {u:?} (use B, KB, MB, GB, TB, PB, EB)"
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(
            parse_duration("15d").unwrap(),
            Duration::from_secs(15 * 86400)
        );
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("5m1h").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512MB").unwrap(), 512 << 20);
        assert_eq!(parse_size("0").unwrap(), 0);
        assert!(parse_size("10XB").is_err());
    }
}
