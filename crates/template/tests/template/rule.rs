//! Prometheus rule-template semantics.

use std::collections::BTreeMap;

use watchfire_template::{QueryFn, QuerySample, RuleTemplateData, expand_rule_template};

/// Prometheus' test timestamp (model.Time(1353755652000)).
const TS: i64 = 1_353_755_652_000;

struct FixedQuery(Vec<QuerySample>);

impl QueryFn for FixedQuery {
    fn query(&self, _expr: &str) -> Result<Vec<QuerySample>, String> {
        Ok(self.0.clone())
    }
}

fn sample(labels: &[(&str, &str)], value: f64) -> QuerySample {
    QuerySample {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        value,
    }
}

fn data() -> RuleTemplateData {
    RuleTemplateData {
        labels: BTreeMap::from([
            ("alertname".to_string(), "HighLoad".to_string()),
            ("instance".to_string(), "node1:9100".to_string()),
        ]),
        external_labels: BTreeMap::from([("cluster".to_string(), "eu1".to_string())]),
        external_url: "http://testhost:9090/path/prefix".into(),
        value: 1234567.891,
    }
}

pub(crate) fn exp(text: &str) -> String {
    expand_rule_template("test", text, &data(), None, TS).unwrap()
}

fn expq(text: &str, q: Vec<QuerySample>) -> String {
    let f = FixedQuery(q);
    expand_rule_template("test", text, &data(), Some(&f), TS).unwrap()
}

#[test]
fn preamble_variables_and_fields() {
    assert_eq!(
        exp("{{ $labels.instance }} of {{ $externalLabels.cluster }} has {{ $value | humanize }}"),
        "node1:9100 of eu1 has 1.235M"
    );
    assert_eq!(
        exp("{{ .Labels.alertname }} {{ .ExternalURL }}"),
        "HighLoad http://testhost:9090/path/prefix"
    );
    assert_eq!(
        exp("{{ $externalURL }}"),
        "http://testhost:9090/path/prefix"
    );
    assert_eq!(exp("plain text"), "plain text");
    // Prometheus runs with missingkey=zero: a missing label is "".
    assert_eq!(exp("[{{ $labels.nope }}]"), "[]");
    assert_eq!(exp(r#"{{ if eq $labels.nope "" }}empty{{ end }}"#), "empty");
    assert_eq!(exp(r#"[{{ index $labels "nope" }}]"#), "[]");
}

#[test]
fn value_prints_like_go_percent_v() {
    // Go's %v of float64 is strconv 'g' shortest: 1.234567891e+06.
    assert_eq!(exp("{{ $value }}"), "1.234567891e+06");
    assert_eq!(exp("{{ .Value }}"), "1.234567891e+06");
    let mut d = data();
    for (v, want) in [
        (1e6, "1e+06"),
        (123456.0, "123456"),
        (0.5, "0.5"),
        (1e-7, "1e-07"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (f64::NAN, "NaN"),
        (3.0, "3"),
    ] {
        d.value = v;
        assert_eq!(
            expand_rule_template("t", "{{ $value }}", &d, None, TS).unwrap(),
            want
        );
    }
    // Literals too: Prometheus' "{{ 1 }}" -> "1"; Go prints 1e6 as 1e+06.
    assert_eq!(exp("{{ 1 }}"), "1");
    assert_eq!(exp("{{ 1e6 }}"), "1e+06");
    assert_eq!(exp("{{ print 1e6 2 }}"), "1e+06 2");
    assert_eq!(
        exp(r#"{{ printf "%v|%.2f|%g" $value $value 0.1 }}"#),
        "1.234567891e+06|1234567.89|0.1"
    );
    assert_eq!(exp(r#"{{ if gt $value 1000.0 }}big{{ end }}"#), "big");
}

#[test]
fn humanize_family() {
    // Prometheus template_test.go "Humanize - float64/string/int/uint".
    assert_eq!(
        exp("{{ humanize 0.0 }}:{{ humanize 1.0 }}:{{ humanize 1234567.0 }}:{{ humanize .12 }}:"),
        "0:1:1.235M:120m:"
    );
    assert_eq!(
        exp(
            r#"{{ humanize "0.0" }}:{{ humanize "1.0" }}:{{ humanize "1234567.0" }}:{{ humanize ".12" }}:"#
        ),
        "0:1:1.235M:120m:"
    );
    assert_eq!(
        exp(
            "{{ humanize 0 }}:{{ humanize -1 }}:{{ humanize 1 }}:{{ humanize 1234567 }}:{{ humanize 9223372036854775807 }}:"
        ),
        "0:-1:1:1.235M:9.223E:"
    );
    // Humanize1024.
    assert_eq!(
        exp(
            "{{ humanize1024 0.0 }}:{{ humanize1024 1.0 }}:{{ humanize1024 1048576.0 }}:{{ humanize1024 .12 }}:"
        ),
        "0:1:1Mi:0.12:"
    );
    assert_eq!(
        exp("{{ humanize1024 1234567 }}:{{ humanize1024 9223372036854775807 }}"),
        "1.177Mi:8Ei"
    );
    // Prometheus "HumanizeDuration - seconds - float64" (args keeps the order: arg0..arg7).
    assert_eq!(
        exp(
            "{{ range args 0 1 60 3600 86400 90000 -183845 899.99 }}{{ humanizeDuration . }}:{{ end }}"
        ),
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:"
    );
    // "HumanizeDuration - subsecond and fractional seconds".
    assert_eq!(
        exp(
            "{{ range args .1 .0001 .12345 60.1 60.5 1.2345 12.345 }}{{ humanizeDuration . }}:{{ end }}"
        ),
        "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:"
    );
    assert_eq!(exp(r#"{{ humanizeDuration "86400" }}"#), "1d 0h 0m 0s");
    assert_eq!(exp("{{ humanizeDuration 1234567 }}"), "14d 6h 56m 7s");
    // "Humanize* Inf and NaN".
    assert_eq!(
        exp(
            r#"{{ range args "+Inf" "-Inf" "NaN" }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{ humanizeTimestamp . }}:{{ end }}"#
        ),
        "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:"
    );
    // "HumanizePercentage".
    assert_eq!(
        exp(
            "{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}"
        ),
        "-22.22%:0%:12.35%:123.5%"
    );
    assert_eq!(exp("{{ 1234567 | humanizePercentage }}"), "1.235e+08%");
    // "HumanizeTimestamp".
    assert_eq!(
        exp("{{ range args 0 -1 1 1234567 9223372036 }}{{ humanizeTimestamp . }}:{{ end }}"),
        "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:"
    );
    assert_eq!(
        exp("{{ 1435065584.128 | humanizeTimestamp }}"),
        "2015-06-23 13:19:44.128 +0000 UTC"
    );
    assert_eq!(
        exp(r#"{{ "1435065584.128" | humanizeTimestamp }}"#),
        "2015-06-23 13:19:44.128 +0000 UTC"
    );
}

#[test]
fn time_functions_and_methods() {
    // Prometheus "ToTime", "toDuration", "now" cases.
    assert_eq!(
        exp(r#"{{ (1435065584.128 | toTime).Format "2006" }}"#),
        "2015"
    );
    assert_eq!(
        exp(r#"{{ ("1435065584.128" | toTime).Format "2006" }}"#),
        "2015"
    );
    assert_eq!(
        exp("{{ 1435065584.128 | toTime }}"),
        "2015-06-23 13:19:44.128 +0000 UTC"
    );
    assert_eq!(exp("{{ (1800 | toDuration).String }}"), "30m0s");
    assert_eq!(exp(r#"{{ ("1800" | toDuration).String }}"#), "30m0s");
    assert_eq!(exp("{{ now }}"), "1.353755652e+09");
    assert_eq!(
        exp(r#"{{ (now | toTime).Format "Mon Jan 2 15:04:05 2006" }}"#),
        "Sat Nov 24 11:14:12 2012"
    );
    assert_eq!(
        exp(r#"{{ ("-30m" | parseDuration | toDuration | (now | toTime).Add).UnixMilli }}"#),
        "1353753852000"
    );
    // "parseDuration".
    assert_eq!(
        exp(r#"{{ printf "%0.2f" (parseDuration "1h2m10ms") }}"#),
        "3720.01"
    );
    assert_eq!(
        exp(r#"{{ printf "%0.2f" (parseDuration "-1h2m10ms") }}"#),
        "-3720.01"
    );
}

#[test]
fn string_and_url_functions() {
    // Prometheus "Title", "toUpper", "toLower", "Match", "Regex replacement".
    assert_eq!(exp(r#"{{ "aa bb CC" | title }}"#), "Aa Bb CC");
    assert_eq!(exp(r#"{{ "aa bb CC" | toUpper }}"#), "AA BB CC");
    assert_eq!(exp(r#"{{ "aA bB CC" | toLower }}"#), "aa bb cc");
    assert_eq!(
        exp(r#"{{ match "a+" "aa" }} {{ match "a+" "b" }}"#),
        "true false"
    );
    assert_eq!(exp(r#"{{ reReplaceAll "(a)b" "x$1" "ab" }}"#), "xa");
    assert_eq!(
        exp(r#"{{ reReplaceAll ":.*" "" $labels.instance }}"#),
        "node1"
    );
    // "graphLink", "tableLink", "pathPrefix", "externalURL".
    assert_eq!(exp(r#"{{ graphLink "up" }}"#), "/graph?g0.expr=up&g0.tab=0");
    assert_eq!(exp(r#"{{ tableLink "up" }}"#), "/graph?g0.expr=up&g0.tab=1");
    assert_eq!(exp("{{ pathPrefix }}"), "/path/prefix");
    assert_eq!(exp("{{ externalURL }}"), "http://testhost:9090/path/prefix");
    assert_eq!(exp(r#"{{ urlQueryEscape "a b&c" }}"#), "a+b%26c");
    assert_eq!(exp(r#"{{ "<b>" }}|{{ "<b>" | safeHtml }}"#), "<b>|<b>");
}

#[test]
fn strip_port_and_domain() {
    // Prometheus "stripPort" / "stripDomain" cases.
    let cases = [
        ("foo.example.com", "foo.example.com", "foo"),
        ("foo.example.com:12345", "foo.example.com", "foo:12345"),
        ("192.0.2.1", "192.0.2.1", "192.0.2.1"),
        ("192.0.2.1:12345", "192.0.2.1", "192.0.2.1:12345"),
        ("2001:0DB8::1", "2001:0DB8::1", "2001:0DB8::1"),
        (
            "[2001:0DB8::1]:12345",
            "2001:0DB8::1",
            "[2001:0DB8::1]:12345",
        ),
        (
            "[2001:0DB8::1]::12345",
            "[2001:0DB8::1]::12345",
            "[2001:0DB8::1]::12345",
        ),
    ];
    for (input, port, domain) in cases {
        assert_eq!(
            exp(&format!("{{{{ {input:?} | stripPort }}}}")),
            port,
            "stripPort {input}"
        );
        assert_eq!(
            exp(&format!("{{{{ {input:?} | stripDomain }}}}")),
            domain,
            "stripDomain {input}"
        );
    }
}

#[test]
fn query_functions() {
    let m = |inst: &str, v: f64| sample(&[("__name__", "metric"), ("instance", inst)], v);
    // Prometheus "Get value from query", "Get label from query".
    assert_eq!(
        expq(
            r#"{{ query "metric{instance='a'}" | first | value }}"#,
            vec![m("a", 11.0)]
        ),
        "11"
    );
    assert_eq!(
        expq(
            r#"{{ query "metric" | first | label "instance" }}"#,
            vec![m("a", 11.0)]
        ),
        "a"
    );
    assert_eq!(
        expq(
            r#"{{ query "metric" | first | label "foo" }}"#,
            vec![m("a", 11.0)]
        ),
        ""
    );
    assert_eq!(
        expq(
            r#"{{ $x := query "metric" | first }}{{ $x.Labels.foo }}"#,
            vec![m("a", 11.0)]
        ),
        ""
    );
    assert_eq!(
        expq(
            r#"{{ query "m" | first | strvalue }}"#,
            vec![sample(&[("__value__", "a")], 11.0)]
        ),
        "a"
    );
    assert_eq!(
        expq(
            r#"{{ query "1.5" | first | value }}"#,
            vec![sample(&[], 1.5)]
        ),
        "1.5"
    );
    // "Range over query and sort by label".
    assert_eq!(
        expq(
            r#"{{ range query "metric" | sortByLabel "instance" }}{{.Labels.instance}}:{{.Value}}: {{end}}"#,
            vec![m("b", 21.0), m("a", 11.0)]
        ),
        "a:11: b:21: "
    );
    assert_eq!(
        expq(
            r#"{{ with query "up" }}{{ len . }}{{ end }}"#,
            vec![m("a", 1.0), m("b", 1.0)]
        ),
        "2"
    );
}

#[test]
fn define_template_args_and_control_flow() {
    // Prometheus "Pass multiple arguments to templates".
    assert_eq!(
        exp(r#"{{define "x"}}{{.arg0}} {{.arg1}}{{end}}{{template "x" (args 1 "2")}}"#),
        "1 2"
    );
    assert_eq!(
        exp(r#"{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}"#),
        "alertname=HighLoad;instance=node1:9100;"
    );
    assert_eq!(
        exp(r#"{{ with $labels.instance }}{{ . }}{{ else }}none{{ end }}"#),
        "node1:9100"
    );
    assert_eq!(
        exp(r#"{{ if and $labels.x $labels.y }}a{{ else if $labels.alertname }}b{{ end }}"#),
        "b"
    );
    assert_eq!(exp("{{- /* comment */ -}}  {{ len $labels }}  "), "2  ");
    assert_eq!(
        exp(
            r#"{{ range $i, $k := args "a" "b" "c" }}{{ if eq $k "b" }}{{ continue }}{{ end }}{{ $k }}{{ end }}"#
        ),
        "ac"
    );
}
