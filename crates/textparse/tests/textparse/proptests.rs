//! Property tests: no input panics, and rendered samples parse back unchanged.

use std::collections::BTreeMap;

use proptest::prelude::*;
use watchfire_textparse::{Entry, Format, Parser};

/// Runs a parser to completion, checking the invariants every entry must hold.
fn run(input: &[u8], format: Format) {
    let range = input.as_ptr_range();
    let mut last_line = 0;
    let mut count = 0usize;
    for entry in Parser::new(input, format) {
        count += 1;
        assert!(count <= input.len() + 1, "more entries than lines");
        let Ok(entry) = entry else { continue };
        if let Entry::Sample(s) = entry {
            assert!(s.line > last_line);
            last_line = s.line;
            let series = s.series.as_ptr_range();
            assert!(range.start <= series.start && series.end <= range.end);
            assert!(!s.name.is_empty());
            let _ = s.to_labels();
        }
    }
}

/// Bytes biased towards the characters the grammar cares about.
fn exposition_like() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop::sample::select(vec![
        &b"m"[..],
        b"metric_name",
        b"_total",
        b"{",
        b"}",
        b"=",
        b",",
        b"\"",
        b"\\",
        b"\\n",
        b" ",
        b"\t",
        b"\n",
        b"\r\n",
        b"#",
        b"# ",
        b"# HELP ",
        b"# TYPE ",
        b"# UNIT ",
        b"# EOF",
        b"counter",
        b"histogram",
        b"le",
        b"1",
        b"-0.5",
        b"1e3",
        b"NaN",
        b"+Inf",
        b".",
        b"e",
        b"\xc3\xa9",
        b"\xff",
        b"\0",
        b"# {",
    ]);
    prop::collection::vec(atoms, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..300)) {
        run(&input, Format::PrometheusText);
        run(&input, Format::OpenMetrics);
    }

    #[test]
    fn exposition_like_bytes_never_panic(input in exposition_like()) {
        run(&input, Format::PrometheusText);
        run(&input, Format::OpenMetrics);
    }
}

// ---- round trip -------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
    timestamp_ms: Option<i64>,
}

fn metric_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}",
        1 => "\\PC{1,12}",
    ]
}

fn label_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z_][a-zA-Z0-9_]{0,12}",
        1 => "\\PC{1,8}",
    ]
    .prop_filter("reserved", |n| n != "__name__")
}

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9./:-]{0,12}",
        "[\\\\\"\\na-z\u{e9}\u{2713}\r\t ]{0,12}",
        any::<String>(),
    ]
}

fn sample_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        (-1_000_000i64..1_000_000).prop_map(|v| v as f64),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
    ]
}

fn sample() -> impl Strategy<Value = Sample> {
    (
        metric_name(),
        prop::collection::btree_map(label_name(), label_value(), 0..6),
        sample_value(),
        prop::option::of(any::<i64>()),
    )
        .prop_map(|(name, labels, value, timestamp_ms)| Sample {
            name,
            labels,
            value,
            timestamp_ms,
        })
}

fn is_metric_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b':')
        && bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

fn is_label_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Renders `s`; `sep` is the separator between tokens, `exp` picks `{:e}` for values.
fn render(s: &Sample, sep: &str, exp: bool, om: bool) -> String {
    let mut parts = Vec::new();
    let quoted_name = !is_metric_name(&s.name);
    if quoted_name {
        parts.push(quote(&s.name));
    }
    for (n, v) in &s.labels {
        let n = if is_label_name(n) {
            n.clone()
        } else {
            quote(n)
        };
        parts.push(format!("{n}={}", quote(v)));
    }
    let mut line = String::new();
    if !quoted_name {
        line.push_str(&s.name);
    }
    if quoted_name || !s.labels.is_empty() {
        line.push('{');
        line.push_str(&parts.join(","));
        line.push('}');
    }
    line.push_str(sep);
    if exp && s.value.is_finite() {
        line.push_str(&format!("{:e}", s.value));
    } else {
        line.push_str(&format!("{}", s.value));
    }
    if let Some(ts) = s.timestamp_ms {
        line.push_str(sep);
        if om {
            let sign = if ts < 0 { "-" } else { "" };
            let abs = ts.unsigned_abs();
            line.push_str(&format!("{sign}{}.{:03}", abs / 1000, abs % 1000));
        } else {
            line.push_str(&ts.to_string());
        }
    }
    line.push('\n');
    line
}

fn check_round_trip(input: &str, samples: &[Sample], format: Format) -> Result<(), TestCaseError> {
    let parsed: Vec<_> = Parser::new(input.as_bytes(), format)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TestCaseError::fail(format!("{e}\n{input}")))?;
    let parsed: Vec<_> = parsed
        .into_iter()
        .filter_map(|e| match e {
            Entry::Sample(s) => Some(s),
            _ => None,
        })
        .collect();
    prop_assert_eq!(parsed.len(), samples.len());
    for (i, (got, want)) in parsed.iter().zip(samples).enumerate() {
        prop_assert_eq!(got.name.as_ref(), want.name.as_str());
        let got_labels: BTreeMap<String, String> = got
            .labels
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        prop_assert_eq!(&got_labels, &want.labels);
        prop_assert_eq!(got.labels.len(), want.labels.len());
        if want.value.is_nan() {
            prop_assert!(got.value.is_nan());
        } else {
            prop_assert_eq!(got.value.to_bits(), want.value.to_bits());
        }
        prop_assert_eq!(got.timestamp_ms, want.timestamp_ms);
        prop_assert_eq!(got.line, i + 1);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn text_round_trip(
        samples in prop::collection::vec(sample(), 0..8),
        sep in "[ \t]{1,3}",
        exp in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let mut input: String = samples.iter().map(|s| render(s, &sep, exp, false)).collect();
        if crlf {
            input = input.replace('\n', "\r\n");
        }
        check_round_trip(&input, &samples, Format::PrometheusText)?;
    }

    #[test]
    fn openmetrics_round_trip(
        samples in prop::collection::vec(sample(), 0..8),
        exp in any::<bool>(),
    ) {
        // OpenMetrics timestamps are float seconds: keep them in the exact range.
        let samples: Vec<Sample> = samples
            .into_iter()
            .map(|mut s| {
                s.timestamp_ms = s.timestamp_ms.map(|t| t % 1_000_000_000_000_000);
                s
            })
            .collect();
        let mut input: String = samples.iter().map(|s| render(s, " ", exp, true)).collect();
        input.push_str("# EOF\n");
        check_round_trip(&input, &samples, Format::OpenMetrics)?;
    }
}
