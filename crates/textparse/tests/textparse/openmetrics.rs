//! Golden cases for OpenMetrics 1.0 text.

use std::borrow::Cow;

use watchfire_textparse::{Entry, Exemplar, Format, MetricType, Parser, SampleEntry};

fn parse(input: &str) -> Vec<Entry<'_>> {
    crate::common::parse(input, Format::OpenMetrics)
}

fn samples(input: &str) -> Vec<SampleEntry<'_>> {
    crate::common::samples(input, Format::OpenMetrics)
}

fn labels<'a>(pairs: &'a [(Cow<'_, str>, Cow<'_, str>)]) -> Vec<(&'a str, &'a str)> {
    pairs
        .iter()
        .map(|(n, v)| (n.as_ref(), v.as_ref()))
        .collect()
}

#[test]
fn full_exposition() {
    let input = r#"# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
# TYPE go_goroutines gauge
go_goroutines 69
# TYPE foo counter
foo_total 17.0 1520879607.789 # {id="counter-test"} 5
foo_created 1520872607.123
# TYPE hist histogram
hist_bucket{le="0.01"} 0
hist_bucket{le="+Inf"} 17 # {trace_id="KOO5S4vxi0o"} 0.67 1520879602.5
hist_count 17
hist_sum 324789.3
# TYPE build info
build_info{version="1.2",escaped="a\"b\\c\nd"} 1
# TYPE state stateset
state{state="a"} 1
# TYPE gh gaugehistogram
gh_bucket{le="+Inf"} 3
gh_gcount 3
gh_gsum 2
# TYPE x unknown
x NaN
# EOF
"#;
    let entries = parse(input);
    assert_eq!(
        &entries[..3],
        [
            Entry::Type {
                family: "acme_http_router_request_seconds",
                kind: MetricType::Summary
            },
            Entry::Unit {
                family: "acme_http_router_request_seconds",
                unit: "seconds"
            },
            Entry::Help {
                family: "acme_http_router_request_seconds",
                text: Cow::Borrowed("Latency though all of ACME's HTTP request router.")
            },
        ]
    );
    assert_eq!(entries.last(), Some(&Entry::Eof));
    let kinds: Vec<MetricType> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Type { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            MetricType::Summary,
            MetricType::Gauge,
            MetricType::Counter,
            MetricType::Histogram,
            MetricType::Info,
            MetricType::StateSet,
            MetricType::GaugeHistogram,
            MetricType::Unknown
        ]
    );

    let all = samples(input);
    assert_eq!(all.len(), 16);
    assert_eq!(all[0].name, "acme_http_router_request_seconds_sum");
    assert_eq!(all[0].value, 9036.32);
    assert_eq!(all[0].line, 4);
    assert_eq!(all[2].name, "acme_http_router_request_seconds_created");

    let foo = &all[4];
    assert_eq!(foo.name, "foo_total");
    assert_eq!(foo.series, b"foo_total");
    assert_eq!(foo.timestamp_ms, Some(1_520_879_607_789));
    assert_eq!(
        foo.exemplar,
        Some(Exemplar {
            labels: vec![(Cow::Borrowed("id"), Cow::Borrowed("counter-test"))],
            value: 5.0,
            timestamp_ms: None
        })
    );
    assert_eq!(all[5].name, "foo_created");
    assert_eq!(all[5].timestamp_ms, None);
    assert_eq!(all[5].value, 1520872607.123);

    let bucket = &all[7];
    assert_eq!(bucket.series, br#"hist_bucket{le="+Inf"}"#);
    let ex = bucket.exemplar.as_ref().expect("exemplar");
    assert_eq!(labels(&ex.labels), [("trace_id", "KOO5S4vxi0o")]);
    assert_eq!(ex.value, 0.67);
    assert_eq!(ex.timestamp_ms, Some(1_520_879_602_500));
    assert_eq!(ex.to_labels().to_string(), r#"{trace_id="KOO5S4vxi0o"}"#);

    assert_eq!(
        labels(&all[10].labels),
        [("version", "1.2"), ("escaped", "a\"b\\c\nd")]
    );
    assert!(all[15].value.is_nan());
}

#[test]
fn eof_handling() {
    assert_eq!(parse("# EOF"), [Entry::Eof]);
    assert_eq!(parse("# EOF\n"), [Entry::Eof]);
    let mut p = Parser::new(b"m 1\n# EOF\n", Format::OpenMetrics);
    assert!(matches!(p.next(), Some(Ok(Entry::Sample(_)))));
    assert_eq!(p.next(), Some(Ok(Entry::Eof)));
    assert_eq!(p.next(), None);
}

#[test]
fn timestamps_are_seconds() {
    let all =
        samples("a 1 0\nb 1 1.5\nc 1 -1.25\nd 1 1e3\ne 1 1520879607.7895\nf 1 0.0004\n# EOF\n");
    let ts: Vec<Option<i64>> = all.iter().map(|s| s.timestamp_ms).collect();
    assert_eq!(
        ts,
        [
            Some(0),
            Some(1500),
            Some(-1250),
            Some(1_000_000),
            Some(1_520_879_607_790),
            Some(0)
        ]
    );
}

#[test]
fn labels_edge_cases() {
    let all = samples(
        "m{} 1\nm{a=\"1\",} 2\n{\"my.metric\",\"my.label\"=\"x\"} 3\n{\"other.metric\", a=\"b\"} 4\n# EOF\n",
    );
    assert!(all[0].labels.is_empty());
    assert_eq!(labels(&all[1].labels), [("a", "1")]);
    assert_eq!(all[2].name, "my.metric");
    assert_eq!(labels(&all[2].labels), [("my.label", "x")]);
    assert_eq!(all[3].name, "other.metric");
    assert_eq!(all[3].series, b"{\"other.metric\", a=\"b\"}");
}

#[test]
fn exemplar_forms() {
    let all = samples(
        "a_total 1 # {} 2\nb_total 1 # {x=\"y\",} 2 3\nc_total 1 5 # {x=\"y\"} NaN 1.001\n# EOF\n",
    );
    let ex: Vec<&Exemplar<'_>> = all.iter().filter_map(|s| s.exemplar.as_ref()).collect();
    assert!(ex[0].labels.is_empty());
    assert_eq!((ex[0].value, ex[0].timestamp_ms), (2.0, None));
    assert_eq!((ex[1].value, ex[1].timestamp_ms), (2.0, Some(3000)));
    assert_eq!(all[2].timestamp_ms, Some(5000));
    assert!(ex[2].value.is_nan());
    assert_eq!(ex[2].timestamp_ms, Some(1001));
}

#[test]
fn metadata_forms() {
    let entries = parse(
        "# HELP a \\\"quoted\\\" and \\\\ and\\nnewline\n# HELP b\n# UNIT c_bytes \n# UNIT d\n# EOF\n",
    );
    assert_eq!(
        entries,
        [
            Entry::Help {
                family: "a",
                text: Cow::Owned("\"quoted\" and \\ and\nnewline".into())
            },
            Entry::Help {
                family: "b",
                text: Cow::Borrowed("")
            },
            Entry::Unit {
                family: "c_bytes",
                unit: ""
            },
            Entry::Unit {
                family: "d",
                unit: ""
            },
            Entry::Eof
        ]
    );
}

#[test]
fn metadata_then_samples_of_other_families() {
    // A family without samples, then a new family: both fine.
    let entries = parse("# TYPE a gauge\n# TYPE b counter\nb_total 1\nb_created 2\nc 3\n# EOF\n");
    assert_eq!(entries.len(), 6);
}

#[test]
fn quoted_names() {
    let input = "# TYPE \"my.counter\" counter\n# HELP \"my.counter\" Dotted.\n\
                 {\"my.counter_total\",\"my.label\"=\"v\"} 1 # {\"trace.id\"=\"abc\"} 2\n# EOF\n";
    let entries = parse(input);
    assert_eq!(
        entries[0],
        Entry::Type {
            family: "my.counter",
            kind: MetricType::Counter
        }
    );
    let Entry::Sample(s) = &entries[2] else {
        panic!("expected a sample")
    };
    assert_eq!(s.name, "my.counter_total");
    assert_eq!(labels(&s.labels), [("my.label", "v")]);
    let ex = s.exemplar.as_ref().expect("exemplar");
    assert_eq!(labels(&ex.labels), [("trace.id", "abc")]);
    assert_eq!(
        s.to_labels().to_string(),
        r#"{__name__="my.counter_total", my.label="v"}"#
    );
}

#[test]
fn content_type_selects_openmetrics() {
    let format = Format::from_content_type("application/openmetrics-text; version=1.0.0");
    assert_eq!(format, Format::OpenMetrics);
    assert_eq!(
        Parser::new(b"# EOF\n", format).collect::<Vec<_>>(),
        [Ok(Entry::Eof)]
    );
}
