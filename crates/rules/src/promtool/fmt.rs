//! Go and Prometheus formatting used in promtool's messages.

use super::unittest::LabelsAndAnnotations;
use watchfire_model::{Labels, go_quote};

/// Go's `time.Duration.String()` for a millisecond duration (`0s`, `500ms`,
/// `1m0s`, `24h0m0s`, `1.5s`).
pub fn go_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    if abs < 1000 {
        return format!("{sign}{abs}ms");
    }
    let h = abs / 3_600_000;
    let m = (abs / 60_000) % 60;
    let s = (abs / 1000) % 60;
    let frac = abs % 1000;
    let secs = if frac == 0 {
        s.to_string()
    } else {
        format!("{s}.{}", format!("{frac:03}").trim_end_matches('0'))
    };
    if h > 0 {
        format!("{sign}{h}h{m}m{secs}s")
    } else if m > 0 {
        format!("{sign}{m}m{secs}s")
    } else {
        format!("{sign}{secs}s")
    }
}

/// Prometheus' `model.Duration.String()` (`0s`, `5m`, `1d`, `2m59s999ms`; years
/// and weeks only when exact).
pub fn model_duration(ms: i64) -> String {
    watchfire_model::format_duration_ms(ms)
}

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`.
pub(crate) fn format_float_upper_e(v: f64) -> String {
    watchfire_model::format_go_float_e(v).replace('e', "E")
}

/// promtool's rendering of a sample list (`nil` when empty).
pub(crate) fn samples_string(s: &[(Labels, f64)]) -> String {
    if s.is_empty() {
        return "nil".into();
    }
    s.iter()
        .map(|(l, v)| format!("{l} {}", format_float_upper_e(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prefixes every line but the first with `indent`.
pub(crate) fn indent_lines(lines: &str, indent: &str) -> String {
    lines
        .split('\n')
        .enumerate()
        .map(|(i, l)| {
            if i > 0 {
                format!("{indent}{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn pairs_string(p: &[(String, String)]) -> String {
    let inner: Vec<String> = p
        .iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

fn one_alert(a: &LabelsAndAnnotations) -> String {
    format!(
        "Labels:{}\nAnnotations:{}",
        a.labels,
        pairs_string(&a.annotations)
    )
}

/// promtool's rendering of an alert list.
pub(crate) fn alerts_string(list: &[LabelsAndAnnotations]) -> String {
    if list.is_empty() {
        return "[]".into();
    }
    let mut s = format!(
        "[\n0:{}",
        indent_lines(&format!("\n{}", one_alert(&list[0])), "  ")
    );
    for (i, a) in list.iter().enumerate().skip(1) {
        s.push_str(&format!(
            ",\n{i}:{}",
            indent_lines(&format!("\n{}", one_alert(a)), "  ")
        ));
    }
    s.push_str("\n]");
    s
}
