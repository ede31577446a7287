//! Golden cases for the Prometheus text format 0.0.4.

use std::borrow::Cow;

use watchfire_textparse::{Entry, Format, MetricType, Parser, SampleEntry};

fn parse(input: &str) -> Vec<Entry<'_>> {
    crate::common::parse(input, Format::PrometheusText)
}

fn samples(input: &str) -> Vec<SampleEntry<'_>> {
    crate::common::samples(input, Format::PrometheusText)
}

fn one(input: &str) -> SampleEntry<'_> {
    let mut all = samples(input);
    assert_eq!(all.len(), 1, "{input:?}");
    all.remove(0)
}

fn labels<'a>(s: &'a SampleEntry<'_>) -> Vec<(&'a str, &'a str)> {
    s.labels
        .iter()
        .map(|(n, v)| (n.as_ref(), v.as_ref()))
        .collect()
}

#[test]
fn full_exposition() {
    let input = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_count 2693
"#;
    let entries = parse(input);
    assert_eq!(
        entries[0],
        Entry::Help {
            family: "http_requests_total",
            text: Cow::Borrowed("The total number of HTTP requests.")
        }
    );
    assert_eq!(
        entries[1],
        Entry::Type {
            family: "http_requests_total",
            kind: MetricType::Counter
        }
    );
    let Entry::Sample(s) = &entries[2] else {
        panic!("expected a sample")
    };
    assert_eq!(
        s.series,
        br#"http_requests_total{method="post",code="200"}"#
    );
    assert_eq!(s.name, "http_requests_total");
    assert_eq!(labels(s), [("method", "post"), ("code", "200")]);
    assert_eq!(s.value, 1027.0);
    assert_eq!(s.timestamp_ms, Some(1395066363000));
    assert_eq!(s.line, 3);
    assert!(matches!(s.labels[0].1, Cow::Borrowed(_)));

    let all = samples(input);
    assert_eq!(all.len(), 11);
    assert_eq!(all[1].value, 3.0);
    assert_eq!(all[1].line, 4);
    assert_eq!(
        labels(&all[2]),
        [
            ("path", r"C:\DIR\FILE.TXT"),
            ("error", "Cannot find file:\n\"FILE.TXT\"")
        ]
    );
    assert!(matches!(all[2].labels[0].1, Cow::Owned(_)));
    assert_eq!(all[2].value, 1.458255915e9);
    assert_eq!(all[3].name, "metric_without_timestamp_and_labels");
    assert_eq!(all[3].series, b"metric_without_timestamp_and_labels");
    assert!(all[3].labels.is_empty());
    assert_eq!(all[3].timestamp_ms, None);
    assert_eq!(all[4].value, f64::INFINITY);
    assert_eq!(all[4].timestamp_ms, Some(-3982045));
    assert_eq!(labels(&all[6]), [("le", "+Inf")]);
    assert_eq!(all[9].line, 24);
    assert!(entries.contains(&Entry::Type {
        family: "rpc_duration_seconds",
        kind: MetricType::Summary
    }));
}

#[test]
fn special_values() {
    let all = samples("a NaN\nb +Inf\nc -Inf\nd Inf\ne inf\nf 1e3\ng -0.5e-3\nh .5\ni 1.\n");
    assert!(all[0].value.is_nan());
    assert_eq!(all[0].value.to_bits(), f64::NAN.to_bits());
    assert_eq!(all[1].value, f64::INFINITY);
    assert_eq!(all[2].value, f64::NEG_INFINITY);
    assert_eq!(all[3].value, f64::INFINITY);
    assert_eq!(all[4].value, f64::INFINITY);
    assert_eq!(all[5].value, 1000.0);
    assert_eq!(all[6].value, -0.0005);
    assert_eq!(all[7].value, 0.5);
    assert_eq!(all[8].value, 1.0);
}

#[test]
fn empty_label_set_and_trailing_comma() {
    let s = one("m{} 1\n");
    assert_eq!(s.series, b"m{}");
    assert!(s.labels.is_empty());
    let s = one("m{a=\"1\",b=\"2\",} 1\n");
    assert_eq!(labels(&s), [("a", "1"), ("b", "2")]);
    assert_eq!(s.series, b"m{a=\"1\",b=\"2\",}");
    let s = one("m{a=\"\"} 1\n");
    assert_eq!(labels(&s), [("a", "")]);
    assert_eq!(s.to_labels().to_string(), r#"{__name__="m"}"#);
}

#[test]
fn quoted_utf8_names() {
    let s = one("{\"my.metric\", a=\"b\"} 1\n");
    assert_eq!(s.name, "my.metric");
    assert_eq!(s.series, b"{\"my.metric\", a=\"b\"}");
    assert_eq!(labels(&s), [("a", "b")]);
    let s = one("{a=\"b\", \"my.metric\"} 1\n");
    assert_eq!(s.name, "my.metric");
    let s = one("{\"héllo wörld\"} 2\n");
    assert_eq!(s.name, "héllo wörld");
    assert!(s.labels.is_empty());
    let s = one("m{\"my.label\"=\"v\", \"quo\\\"te\"=\"x\"} 3\n");
    assert_eq!(labels(&s), [("my.label", "v"), ("quo\"te", "x")]);
    let s = one("{\"esc\\\\aped\"} 1\n");
    assert_eq!(s.name, "esc\\aped");
    assert_eq!(s.to_labels().to_string(), r#"{__name__="esc\\aped"}"#);

    let entries = parse("# HELP \"my.metric\" Some help.\n# TYPE \"my.metric\" gauge\n");
    assert_eq!(
        entries,
        [
            Entry::Help {
                family: "my.metric",
                text: Cow::Borrowed("Some help.")
            },
            Entry::Type {
                family: "my.metric",
                kind: MetricType::Gauge
            }
        ]
    );
}

#[test]
fn whitespace_rules() {
    let s = one("  \t m \t { a = \"1\" ,\tb=\"2\" } \t 5 \t 17 \t \n");
    assert_eq!(s.name, "m");
    assert_eq!(s.series, b"m \t { a = \"1\" ,\tb=\"2\" }");
    assert_eq!(labels(&s), [("a", "1"), ("b", "2")]);
    assert_eq!(s.value, 5.0);
    assert_eq!(s.timestamp_ms, Some(17));
    // As in Prometheus: no separator needed after '}', and the comma may be missing.
    let s = one("m{a=\"1\" b=\"2\"}7\n");
    assert_eq!(labels(&s), [("a", "1"), ("b", "2")]);
    assert_eq!(s.value, 7.0);
}

#[test]
fn crlf_and_missing_final_newline() {
    let all = samples("# TYPE m gauge\r\nm 1\r\n\r\nm{a=\"b\"} 2 3\r\nm 4");
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].value, 1.0);
    assert_eq!(
        (all[1].value, all[1].timestamp_ms, all[1].line),
        (2.0, Some(3), 4)
    );
    assert_eq!((all[2].value, all[2].line), (4.0, 5));
    let entries = parse("# HELP m text\r\n# TYPE m gauge\r\n");
    assert_eq!(
        entries[0],
        Entry::Help {
            family: "m",
            text: Cow::Borrowed("text")
        }
    );
    assert_eq!(one("m 1\r").value, 1.0);
}

#[test]
fn comments_and_metadata() {
    let input = "#\n#comment\n# just a comment\n#HELP not metadata\n# HELP\n# EOF\n  # indented comment\n\
                 # HELP m  two  spaces kept \\\\ and \\n and \\\" \n# HELP e\n# TYPE u untyped\n\
                 # TYPE t counter  \n";
    let entries = parse(input);
    assert_eq!(
        entries,
        [
            Entry::Help {
                family: "m",
                text: Cow::Owned(" two  spaces kept \\ and \n and \\\" ".into())
            },
            Entry::Help {
                family: "e",
                text: Cow::Borrowed("")
            },
            Entry::Type {
                family: "u",
                kind: MetricType::Unknown
            },
            Entry::Type {
                family: "t",
                kind: MetricType::Counter
            },
        ]
    );
}

#[test]
fn no_ordering_rules_in_text_format() {
    // Prometheus' text parser accepts metadata anywhere, repeated.
    let entries = parse("m 1\n# TYPE m gauge\n# TYPE m counter\n# HELP m a\n# HELP m b\nm 2\n");
    assert_eq!(entries.len(), 6);
}

#[test]
fn empty_inputs() {
    assert!(parse("").is_empty());
    assert!(parse("\n\n  \n\t\n").is_empty());
    assert!(parse("# only comments\n").is_empty());
}

#[test]
fn escapes_in_label_values() {
    let s = one(r#"m{a="x\\y",b="q\"q",c="n\nn",d="keep\t",e="\\n"} 1"#);
    assert_eq!(
        labels(&s),
        [
            ("a", "x\\y"),
            ("b", "q\"q"),
            ("c", "n\nn"),
            ("d", "keep\\t"),
            ("e", "\\n")
        ]
    );
    let s = one("m{a=\"ünïcödé ✓\"} 1");
    assert_eq!(labels(&s), [("a", "ünïcödé ✓")]);
    assert!(matches!(s.labels[0].1, Cow::Borrowed(_)));
}

#[test]
fn to_labels_includes_name() {
    let s = one("up{job=\"node\",instance=\"a:9100\"} 1\n");
    let l = s.to_labels();
    assert_eq!(l.metric_name(), Some("up"));
    assert_eq!(
        l.to_string(),
        r#"{__name__="up", instance="a:9100", job="node"}"#
    );
}

#[test]
fn timestamps() {
    assert_eq!(one("m 1 0").timestamp_ms, Some(0));
    assert_eq!(one("m 1 -5").timestamp_ms, Some(-5));
    assert_eq!(one("m 1 9223372036854775807").timestamp_ms, Some(i64::MAX));
}

#[test]
fn no_exemplars_or_eof_entries_in_text_format() {
    // `# EOF` is an ordinary comment here.
    assert!(
        parse("m 1\n# EOF\n")
            .iter()
            .all(|e| !matches!(e, Entry::Eof))
    );
}

#[test]
fn iterator_is_fused_after_error() {
    let mut p = Parser::new(b"m 1\nbad line here\nm 2\n", Format::PrometheusText);
    assert!(matches!(p.next(), Some(Ok(Entry::Sample(_)))));
    assert!(matches!(p.next(), Some(Err(_))));
    assert!(p.next().is_none());
    assert!(p.next_entry().is_none());
}
