//! Error cases, with exact positions.

use watchfire_textparse::{Entry, Format, ParseError, Parser};

/// Parses until the first error and returns it, rendered.
fn error(input: &[u8], format: Format) -> String {
    for entry in Parser::new(input, format) {
        if let Err(e) = entry {
            return e.to_string();
        }
    }
    panic!("no error for {:?}", String::from_utf8_lossy(input));
}

fn text_err(input: &str) -> String {
    error(input.as_bytes(), Format::PrometheusText)
}

fn om_err(input: &str) -> String {
    error(input.as_bytes(), Format::OpenMetrics)
}

#[test]
fn error_fields() {
    let e: ParseError = Parser::new(
        b"a 1\nb 2\nup{job=\"x\", inst \"y\"} 1\n",
        Format::PrometheusText,
    )
    .find_map(Result::err)
    .expect("an error");
    assert_eq!(e.line, 3);
    assert_eq!(e.column, 18);
    assert_eq!(e.message, "expected '=' after label name \"inst\"");
}

#[test]
fn text_label_errors() {
    assert_eq!(
        text_err("# c\n\nhttp_requests{job \"x\"} 1\n"),
        "line 3, column 19: expected '=' after label name \"job\""
    );
    assert_eq!(
        text_err("m{a=b} 1"),
        "line 1, column 5: expected '\"' to start the value of label \"a\""
    );
    assert_eq!(
        text_err("m{a=\"1\",a=\"2\"} 1"),
        "line 1, column 9: duplicate label name \"a\""
    );
    assert_eq!(
        text_err("m{__name__=\"x\"} 1"),
        "line 1, column 3: duplicate label name \"__name__\""
    );
    assert_eq!(
        text_err("m{,} 1"),
        "line 1, column 3: expected label name or '}'"
    );
    assert_eq!(
        text_err("m{a=\"1\",,} 1"),
        "line 1, column 9: expected label name or '}'"
    );
    assert_eq!(
        text_err("m{1a=\"1\"} 1"),
        "line 1, column 3: expected label name or '}'"
    );
    assert_eq!(
        text_err("m{a=\"1\"\nm 1"),
        "line 1, column 2: unterminated label set"
    );
    assert_eq!(
        text_err("m{a=\"abc\nm 1"),
        "line 1, column 5: unterminated label value"
    );
    assert_eq!(
        text_err("m{a=\"abc\\"),
        "line 1, column 5: unterminated label value"
    );
    assert_eq!(text_err("{\"\"} 1"), "line 1, column 2: empty metric name");
    assert_eq!(
        text_err("m{\"\"=\"v\"} 1"),
        "line 1, column 3: empty label name"
    );
    assert_eq!(
        text_err("m{\"other\"} 1"),
        "line 1, column 3: metric name already set"
    );
    assert_eq!(
        text_err("{a=\"b\"} 1"),
        "line 1, column 1: missing metric name"
    );
}

#[test]
fn text_value_and_timestamp_errors() {
    assert_eq!(text_err("m\n"), "line 1, column 2: expected value");
    assert_eq!(text_err("m{} \n"), "line 1, column 5: expected value");
    assert_eq!(text_err("m 1x\n"), "line 1, column 3: invalid value \"1x\"");
    assert_eq!(
        text_err("m 1e400\n"),
        "line 1, column 3: value \"1e400\" out of range"
    );
    assert_eq!(
        text_err("m 0x10\n"),
        "line 1, column 3: invalid value \"0x10\""
    );
    assert_eq!(
        text_err("m -NaN\n"),
        "line 1, column 3: invalid value \"-NaN\""
    );
    assert_eq!(
        text_err("m 1 1.5\n"),
        "line 1, column 5: invalid timestamp \"1.5\""
    );
    assert_eq!(
        text_err("m 1 99999999999999999999\n"),
        "line 1, column 5: timestamp \"99999999999999999999\" out of range"
    );
    assert_eq!(
        text_err("m 1 2 3\n"),
        "line 1, column 7: unexpected text after timestamp"
    );
    assert_eq!(
        text_err("m 1 # {a=\"b\"} 1\n"),
        "line 1, column 5: invalid timestamp \"#\""
    );
    assert_eq!(
        text_err("m 1\r2\n"),
        "line 1, column 4: invalid timestamp \"\""
    );
}

#[test]
fn text_line_start_and_metadata_errors() {
    assert_eq!(
        text_err("m 1\n9m 1\n"),
        "line 2, column 1: expected metric name, '{' or comment"
    );
    assert_eq!(
        text_err("# TYPE m countr\n"),
        "line 1, column 10: invalid metric type \"countr\""
    );
    assert_eq!(
        text_err("# TYPE m\n"),
        "line 1, column 9: invalid metric type \"\""
    );
    assert_eq!(
        text_err("# TYPE m gaugehistogram\n"),
        "line 1, column 10: invalid metric type \"gaugehistogram\""
    );
    assert_eq!(
        text_err("# HELP 1m x\n"),
        "line 1, column 8: expected metric name after HELP"
    );
    assert_eq!(
        text_err("# HELP m.x y\n"),
        "line 1, column 9: unexpected character after metric family name \"m\""
    );
    assert_eq!(
        text_err("# HELP \"m x\n"),
        "line 1, column 8: unterminated quoted metric name"
    );
}

#[test]
fn invalid_utf8() {
    assert_eq!(
        error(b"m 1\nm{a=\"\xff\"} 1\n", Format::PrometheusText),
        "line 2, column 6: invalid UTF-8"
    );
    // Also in a comment, and in OpenMetrics.
    assert_eq!(
        error(b"# caf\xc3\n", Format::PrometheusText),
        "line 1, column 6: invalid UTF-8"
    );
    assert_eq!(
        error(b"# HELP m x\n\xe2\x82 1\n# EOF\n", Format::OpenMetrics),
        "line 2, column 1: invalid UTF-8"
    );
    // Lines before the bad one still parse.
    let entries: Vec<_> = Parser::new(b"a 1\nb 2\n\xc0", Format::PrometheusText).collect();
    assert_eq!(entries.len(), 3);
    assert!(
        entries[..2]
            .iter()
            .all(|e| matches!(e, Ok(Entry::Sample(_))))
    );
}

#[test]
fn openmetrics_eof_errors() {
    assert_eq!(om_err(""), "line 1, column 1: missing # EOF");
    assert_eq!(om_err("m 1\n"), "line 2, column 1: missing # EOF");
    assert_eq!(om_err("m 1"), "line 1, column 4: missing # EOF");
    assert_eq!(om_err("# HELP m x"), "line 1, column 11: missing # EOF");
    assert_eq!(
        om_err("# EOF\nm 1\n"),
        "line 2, column 1: unexpected data after # EOF"
    );
    assert_eq!(
        om_err("# EOF\n\n"),
        "line 2, column 1: unexpected data after # EOF"
    );
    assert_eq!(
        om_err("# EOF \n"),
        "line 1, column 6: unexpected data after # EOF"
    );
}

#[test]
fn openmetrics_syntax_errors() {
    assert_eq!(
        om_err("m 1\n\n# EOF\n"),
        "line 2, column 1: empty line (not allowed in OpenMetrics)"
    );
    assert_eq!(
        om_err("# a comment\n# EOF\n"),
        "line 1, column 1: invalid comment: OpenMetrics allows only # HELP, # TYPE, # UNIT and # EOF"
    );
    assert_eq!(om_err("m  1\n# EOF\n"), "line 1, column 3: expected value");
    assert_eq!(
        om_err("m\t1\n# EOF\n"),
        "line 1, column 2: expected ' ' before value"
    );
    assert_eq!(
        om_err("m{a=\"1\"b=\"2\"} 1\n# EOF\n"),
        "line 1, column 8: expected ',' or '}' after label value"
    );
    assert_eq!(
        om_err("m 1 \n# EOF\n"),
        "line 1, column 5: expected timestamp"
    );
    assert_eq!(
        om_err("m 1 NaN\n# EOF\n"),
        "line 1, column 5: invalid timestamp \"NaN\""
    );
    assert_eq!(
        om_err("m 1 1e300\n# EOF\n"),
        "line 1, column 5: timestamp \"1e300\" out of range"
    );
    assert_eq!(
        om_err("m 1 2 3\n# EOF\n"),
        "line 1, column 7: expected exemplar ('# {') or end of line"
    );
    assert_eq!(
        om_err("m_total 1 # {\"name.only\"} 1\n# EOF\n"),
        "line 1, column 25: expected '=' after label name \"name.only\""
    );
    assert_eq!(
        om_err("m_total 1 # {a=\"1\",a=\"2\"} 1\n# EOF\n"),
        "line 1, column 20: duplicate label name \"a\""
    );
    assert_eq!(
        om_err("m_total 1 # {a=\"1\"}\n# EOF\n"),
        "line 1, column 20: expected ' ' before exemplar value"
    );
    assert_eq!(
        om_err("m_total 1 # {a=\"1\"} 1 2 3\n# EOF\n"),
        "line 1, column 24: expected end of line"
    );
    assert_eq!(
        om_err("m 1 \r\n# EOF\n"),
        "line 1, column 5: invalid timestamp \"\r\""
    );
}

#[test]
fn openmetrics_metadata_errors() {
    assert_eq!(
        om_err("# TYPE m untyped\n# EOF\n"),
        "line 1, column 10: invalid metric type \"untyped\""
    );
    assert_eq!(
        om_err("# TYPE m  gauge\n# EOF\n"),
        "line 1, column 10: invalid metric type \" gauge\""
    );
    assert_eq!(
        om_err("# UNIT m_seconds bytes\n# EOF\n"),
        "line 1, column 18: unit \"bytes\" is not a suffix of metric family \"m_seconds\""
    );
    assert_eq!(
        om_err("# UNIT m_seconds seconds\n# UNIT xseconds seconds\n# EOF\n"),
        "line 2, column 17: unit \"seconds\" is not a suffix of metric family \"xseconds\""
    );
    assert_eq!(
        om_err("# UNIT m_s s.x\n# EOF\n"),
        "line 1, column 13: invalid unit \"s.x\""
    );
    assert_eq!(
        om_err("# TYPE m counter\nm_total 1\n# HELP m late\n# EOF\n"),
        "line 3, column 8: # HELP for metric family \"m\" must come before its samples"
    );
    assert_eq!(
        om_err("# TYPE m gauge\n# HELP m a\n# TYPE m gauge\n# EOF\n"),
        "line 3, column 8: duplicate # TYPE for metric family \"m\""
    );
    assert_eq!(
        om_err("m 1\n# TYPE m gauge\n# EOF\n"),
        "line 2, column 8: # TYPE for metric family \"m\" must come before its samples"
    );
    assert_eq!(
        om_err("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n# UNIT h seconds\n# EOF\n"),
        "line 4, column 10: unit \"seconds\" is not a suffix of metric family \"h\""
    );
    assert_eq!(
        om_err("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n# HELP h x\n# EOF\n"),
        "line 4, column 8: # HELP for metric family \"h\" must come before its samples"
    );
    assert_eq!(
        om_err("# HELP m.x y\n# EOF\n"),
        "line 1, column 9: expected ' ' after metric family name \"m\""
    );
}

#[test]
fn huge_inputs_do_not_panic() {
    let long_number = format!("m {}\n", "9".repeat(100_000));
    assert_eq!(
        text_err(&long_number).split(':').next(),
        Some("line 1, column 3")
    );
    let many_labels: String = (0..2000)
        .map(|i| format!("l{i}=\"v\","))
        .collect::<String>();
    let line = format!("m{{{many_labels}l7=\"dup\"}} 1\n");
    assert!(text_err(&line).ends_with("duplicate label name \"l7\""));
    let ok = format!("m{{{many_labels}}} 1\n");
    let entries: Vec<_> = Parser::new(ok.as_bytes(), Format::PrometheusText).collect();
    assert!(matches!(&entries[..], [Ok(Entry::Sample(s))] if s.labels.len() == 2000));
}
