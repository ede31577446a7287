//! Prometheus-style durations (`1h30m`, `15d`, `1y`) and byte sizes (`512MB`).

use std::time::Duration;

/// Parses a Prometheus duration (`1h30m`, `15d`, `0`) for a flag.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let ms = watchfire_model::parse_duration_ms(s).ok_or_else(|| {
        format!("invalid duration {s:?}: use units y, w, d, h, m, s, ms in that order, e.g. 1h30m")
    })?;
    Ok(Duration::from_millis(ms.unsigned_abs()))
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
