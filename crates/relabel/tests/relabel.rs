//! Table-driven tests of every relabel action and of Prometheus' validation rules.
#![allow(clippy::unwrap_used, missing_docs)]

use watchfire_model::{Labels, LabelsBuilder};
use watchfire_relabel::{
    Action, NameValidation, Regex, RelabelConfig, RelabelError, process, process_builder,
};

/// Parses a YAML list of rules and validates each, as the config loader does.
fn rules(yaml: &str) -> Vec<RelabelConfig> {
    let v: Vec<RelabelConfig> = serde_saphyr::from_str(yaml).unwrap();
    for r in &v {
        r.validate().unwrap();
    }
    v
}

fn ls(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

struct Case {
    name: &'static str,
    input: &'static [(&'static str, &'static str)],
    rules: &'static str,
    /// `None`: dropped.
    output: Option<&'static [(&'static str, &'static str)]>,
}

const CASES: &[Case] = &[
    Case {
        name: "replace with capture groups",
        input: &[("a", "foo"), ("b", "bar"), ("c", "baz")],
        rules: r#"
- source_labels: [a]
  regex: "f(.*)"
  target_label: d
  replacement: "ch${1}-ch${1}"
"#,
        output: Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "choo-choo")]),
    },
    Case {
        name: "replace joins multiple sources with separator",
        input: &[("a", "foo"), ("b", "bar"), ("c", "baz")],
        rules: r#"
- source_labels: [a, b]
  regex: "f(.*);(.*)r"
  target_label: a
  replacement: "b${1}${2}m"
- source_labels: [c, a]
  regex: "(b).*b(.*)ba(.*)"
  target_label: d
  replacement: "$1$2$2$3"
"#,
        output: Some(&[("a", "boobam"), ("b", "bar"), ("c", "baz"), ("d", "boooom")]),
    },
    Case {
        name: "replace without match leaves labels alone",
        input: &[("a", "foo")],
        rules: r#"
- source_labels: [a]
  regex: "bar"
  target_label: a
  replacement: "x"
"#,
        output: Some(&[("a", "foo")]),
    },
    Case {
        name: "regex is anchored",
        input: &[("a", "foo")],
        rules: r#"
- source_labels: [a]
  regex: "o"
  target_label: b
  replacement: "x"
"#,
        output: Some(&[("a", "foo")]),
    },
    Case {
        name: "dot matches newline",
        input: &[("a", "line1\nline2")],
        rules: r#"
- source_labels: [a]
  regex: "line1.(.*)"
  target_label: b
"#,
        output: Some(&[("a", "line1\nline2"), ("b", "line2")]),
    },
    Case {
        name: "empty replacement deletes target",
        input: &[("a", "foo"), ("b", "bar")],
        rules: r#"
- source_labels: [a]
  regex: "foo"
  target_label: b
  replacement: ""
"#,
        output: Some(&[("a", "foo")]),
    },
    Case {
        name: "missing source label reads as empty (default regex sets the literal)",
        input: &[("a", "foo")],
        rules: r#"
- source_labels: [missing]
  target_label: b
  replacement: "static"
"#,
        output: Some(&[("a", "foo"), ("b", "static")]),
    },
    Case {
        name: "no source labels: input is empty string",
        input: &[("a", "foo")],
        rules: r#"
- target_label: env
  replacement: prod
"#,
        output: Some(&[("a", "foo"), ("env", "prod")]),
    },
    Case {
        name: "default replace copies a label",
        input: &[("__address__", "host:9100")],
        rules: r#"
- source_labels: [__address__]
  target_label: instance
"#,
        output: Some(&[("__address__", "host:9100"), ("instance", "host:9100")]),
    },
    Case {
        name: "$1x is the group named 1x, which is empty",
        input: &[("a", "foo")],
        rules: r#"
- source_labels: [a]
  regex: "(f)oo"
  target_label: b
  replacement: "$1x-${1}x-$$1"
"#,
        output: Some(&[("a", "foo"), ("b", "-fx-$1")]),
    },
    Case {
        name: "named groups and malformed references",
        input: &[("a", "foo-bar")],
        rules: r#"
- source_labels: [a]
  regex: "(?P<first>[a-z]+)-(?P<second>[a-z]+)"
  target_label: b
  replacement: "$second/${first}/${oops/$-/$"
"#,
        output: Some(&[("a", "foo-bar"), ("b", "bar/foo/${oops/$-/$")]),
    },
    Case {
        name: "leading zero group is a name, out of range group is empty",
        input: &[("a", "xy")],
        rules: r#"
- source_labels: [a]
  regex: "(x)(y)"
  target_label: b
  replacement: "[$01][$9][$0][$2]"
"#,
        output: Some(&[("a", "xy"), ("b", "[][][xy][y]")]),
    },
    Case {
        name: "target label with references",
        input: &[("__meta_kind", "pod"), ("__meta_value", "v1")],
        rules: r#"
- source_labels: [__meta_kind, __meta_value]
  regex: "(.*);(.*)"
  target_label: "kind_${1}"
  replacement: "$2"
"#,
        output: Some(&[
            ("__meta_kind", "pod"),
            ("__meta_value", "v1"),
            ("kind_pod", "v1"),
        ]),
    },
    Case {
        name: "target expanding to empty name is skipped",
        input: &[("a", "")],
        rules: r#"
- source_labels: [a]
  regex: "(.*)"
  target_label: "${1}"
  replacement: "x"
"#,
        output: Some(&[]),
    },
    Case {
        name: "utf-8 values and names",
        input: &[("ünï", "cødé ✓")],
        rules: r#"
- source_labels: [ünï]
  regex: "cødé (.)"
  target_label: "ok.label"
  replacement: "«$1»"
"#,
        output: Some(&[("ok.label", "«✓»"), ("ünï", "cødé ✓")]),
    },
    Case {
        name: "keep matching",
        input: &[("a", "foo")],
        rules: "- {source_labels: [a], regex: 'f.*', action: keep}\n",
        output: Some(&[("a", "foo")]),
    },
    Case {
        name: "keep not matching drops",
        input: &[("a", "foo")],
        rules: "- {source_labels: [a], regex: 'f', action: keep}\n",
        output: None,
    },
    Case {
        name: "keep with missing label and empty-matching regex keeps",
        input: &[("a", "foo")],
        rules: "- {source_labels: [nope], regex: '', action: keep}\n",
        output: Some(&[("a", "foo")]),
    },
    Case {
        name: "drop matching",
        input: &[("a", "foo")],
        rules: "- {source_labels: [a], regex: 'f.*', action: DROP}\n",
        output: None,
    },
    Case {
        name: "drop not matching keeps",
        input: &[("a", "foo")],
        rules: "- {source_labels: [a], regex: 'bar', action: drop}\n",
        output: Some(&[("a", "foo")]),
    },
    Case {
        name: "drop with default regex always drops",
        input: &[("a", "foo")],
        rules: "- {action: drop}\n",
        output: None,
    },
    Case {
        name: "keepequal equal",
        input: &[("a", "foo"), ("b", "foo")],
        rules: "- {source_labels: [a], target_label: b, action: keepequal}\n",
        output: Some(&[("a", "foo"), ("b", "foo")]),
    },
    Case {
        name: "keepequal different drops",
        input: &[("a", "foo"), ("b", "bar")],
        rules: "- {source_labels: [a], target_label: b, action: keepequal}\n",
        output: None,
    },
    Case {
        name: "keepequal both missing keeps",
        input: &[("a", "foo")],
        rules: "- {source_labels: [x], target_label: y, action: keepequal}\n",
        output: Some(&[("a", "foo")]),
    },
    Case {
        name: "dropequal equal drops",
        input: &[("a", "foo"), ("b", "foo")],
        rules: "- {source_labels: [a], target_label: b, action: dropequal}\n",
        output: None,
    },
    Case {
        name: "dropequal different keeps",
        input: &[("a", "foo"), ("b", "bar")],
        rules: "- {source_labels: [a], target_label: b, action: dropequal}\n",
        output: Some(&[("a", "foo"), ("b", "bar")]),
    },
    Case {
        name: "hashmod like Prometheus (md5, last 8 bytes big endian)",
        input: &[("a", "foo"), ("c", "baz")],
        rules: "- {source_labels: [c], target_label: d, modulus: 1000, action: hashmod}\n",
        output: Some(&[("a", "foo"), ("c", "baz"), ("d", "976")]),
    },
    Case {
        name: "hashmod of joined values",
        input: &[("a", "a"), ("b", "b")],
        rules: "- {source_labels: [a, b], target_label: h, modulus: 1000, action: hashmod}\n",
        output: Some(&[("a", "a"), ("b", "b"), ("h", "74")]),
    },
    Case {
        name: "hashmod of empty input",
        input: &[],
        rules: "- {target_label: h, modulus: 10, action: hashmod}\n",
        output: Some(&[("h", "8")]),
    },
    Case {
        name: "labelmap copies matching names",
        input: &[
            ("__meta_my_bar", "aaa"),
            ("__meta_my_baz", "bbb"),
            ("__meta_other", "ccc"),
        ],
        rules: r#"
- regex: "__meta_my_(.+)"
  action: labelmap
"#,
        output: Some(&[
            ("__meta_my_bar", "aaa"),
            ("__meta_my_baz", "bbb"),
            ("__meta_other", "ccc"),
            ("bar", "aaa"),
            ("baz", "bbb"),
        ]),
    },
    Case {
        name: "labelmap with replacement template",
        input: &[("a", "foo"), ("__meta_my_bar", "aaa")],
        rules: r#"
- regex: "__meta_(my)_(.+)"
  replacement: "${1}_x_${2}"
  action: labelmap
"#,
        output: Some(&[("__meta_my_bar", "aaa"), ("a", "foo"), ("my_x_bar", "aaa")]),
    },
    Case {
        name: "labelmap visits base labels before added ones",
        input: &[("__tmp_z", "base")],
        rules: r#"
- {target_label: __tmp_a, replacement: added}
- {regex: "__tmp_.", replacement: out, action: labelmap}
"#,
        // Base `__tmp_z` is visited first, then the added `__tmp_a`, which wins.
        output: Some(&[("__tmp_a", "added"), ("__tmp_z", "base"), ("out", "added")]),
    },
    Case {
        name: "labeldrop",
        input: &[("a", "foo"), ("b", "bar"), ("__tmp_x", "t")],
        rules: "- {regex: '__tmp.*|b', action: labeldrop}\n",
        output: Some(&[("a", "foo")]),
    },
    Case {
        name: "labelkeep",
        input: &[("a", "foo"), ("b", "bar"), ("c", "baz")],
        rules: "- {regex: '[ab]', action: labelkeep}\n",
        output: Some(&[("a", "foo"), ("b", "bar")]),
    },
    Case {
        name: "labelkeep matches whole names only",
        input: &[("ab", "1"), ("a", "2")],
        rules: "- {regex: 'a', action: labelkeep}\n",
        output: Some(&[("a", "2")]),
    },
    Case {
        name: "lowercase",
        input: &[("a", "FooBAR Σ İ")],
        rules: "- {source_labels: [a], target_label: l, action: lowercase}\n",
        output: Some(&[("a", "FooBAR Σ İ"), ("l", "foobar σ i")]),
    },
    Case {
        name: "uppercase keeps characters without a one-character mapping",
        input: &[("a", "foo ß é")],
        rules: "- {source_labels: [a], target_label: u, action: uppercase}\n",
        output: Some(&[("a", "foo ß é"), ("u", "FOO ß É")]),
    },
    Case {
        name: "lowercase of missing label deletes target",
        input: &[("t", "x")],
        rules: "- {source_labels: [missing], target_label: t, action: lowercase}\n",
        output: Some(&[]),
    },
    Case {
        name: "later rules see earlier results; __tmp labels can carry state",
        input: &[("__address__", "h:1")],
        rules: r#"
- {source_labels: [__address__], regex: '(.*):.*', target_label: __tmp_host}
- {source_labels: [__tmp_host], target_label: host}
- {regex: '__tmp_.*', action: labeldrop}
- {source_labels: [host], regex: 'h', action: keep}
"#,
        output: Some(&[("__address__", "h:1"), ("host", "h")]),
    },
    Case {
        name: "deleted then re-added label",
        input: &[("a", "1")],
        rules: r#"
- {regex: a, action: labeldrop}
- {source_labels: [a], target_label: was, replacement: "[$1]"}
- {target_label: a, replacement: "2"}
"#,
        output: Some(&[("a", "2"), ("was", "[]")]),
    },
];

#[test]
fn actions_table() {
    for case in CASES {
        let cfgs = rules(case.rules);
        let input = ls(case.input);
        let got = process(&cfgs, &input);
        let want = case.output.map(ls);
        assert_eq!(got, want, "case {:?}", case.name);

        // The builder entry point must agree.
        let mut b = input.to_builder();
        let kept = process_builder(&cfgs, &mut b);
        assert_eq!(kept, want.is_some(), "builder keep, case {:?}", case.name);
        if let Some(w) = &want {
            assert_eq!(&b.build(), w, "builder result, case {:?}", case.name);
        }
    }
}

#[test]
fn empty_rule_list_keeps_everything() {
    let l = ls(&[("a", "1")]);
    assert_eq!(process(&[], &l), Some(l.clone()));
    let mut b = LabelsBuilder::new();
    b.set("x", "y");
    assert!(process_builder(&[], &mut b));
    assert_eq!(b.build(), ls(&[("x", "y")]));
}

#[test]
fn yaml_defaults() {
    let r: Vec<RelabelConfig> = serde_saphyr::from_str("- target_label: x\n").unwrap();
    let r = &r[0];
    assert_eq!(r.separator, ";");
    assert_eq!(r.regex.as_str(), "(.*)");
    assert_eq!(r.replacement, "$1");
    assert_eq!(r.action, Action::Replace);
    assert_eq!(r.modulus, 0);
    assert!(r.source_labels.is_empty());
    assert_eq!(
        r,
        &RelabelConfig {
            target_label: "x".into(),
            ..RelabelConfig::default()
        }
    );
}

#[test]
fn yaml_nulls_are_zero_values() {
    let r: Vec<RelabelConfig> = serde_saphyr::from_str(
        "- {target_label: x, regex: null, separator: null, replacement: null}\n",
    )
    .unwrap();
    assert_eq!(r[0].regex.as_str(), "");
    assert_eq!(r[0].separator, "");
    assert_eq!(r[0].replacement, "");
}

#[test]
fn yaml_errors() {
    let cases = [
        ("- {action: null}\n", "relabel action cannot be empty"),
        (
            "- {action: frobnicate}\n",
            "unknown relabel action \"frobnicate\"",
        ),
        (
            "- {regex: 'abc(def'}\n",
            "invalid regex \"abc(def\": unclosed group",
        ),
        ("- {target_label: x, unknown: 1}\n", "unknown"),
    ];
    for (yaml, want) in cases {
        let err = serde_saphyr::from_str::<Vec<RelabelConfig>>(yaml)
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{yaml:?}: {err}");
    }
}

#[test]
fn serialize_round_trip() {
    let cfgs = rules(
        r#"
- source_labels: [a, b]
  regex: "x(.*)"
  target_label: t
- {regex: '__tmp.*', action: labeldrop}
- {source_labels: [a], target_label: h, modulus: 8, action: hashmod}
"#,
    );
    let json = serde_json::to_value(&cfgs).unwrap();
    assert_eq!(
        json[0],
        serde_json::json!({"source_labels": ["a", "b"], "separator": ";", "target_label": "t",
            "regex": "x(.*)", "replacement": "$1", "action": "replace"})
    );
    assert_eq!(json[2]["modulus"], 8);
    assert_eq!(json[2]["action"], "hashmod");
    let back: Vec<RelabelConfig> = serde_json::from_value(json).unwrap();
    assert_eq!(back, cfgs);
}

#[test]
fn validation_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "{action: hashmod, target_label: x}",
            "relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            "{action: hashmod, modulus: 2}",
            "relabel configuration for hashmod action requires 'target_label' value",
        ),
        (
            "{action: replace}",
            "relabel configuration for replace action requires 'target_label' value",
        ),
        (
            "{action: lowercase}",
            "relabel configuration for lowercase action requires 'target_label' value",
        ),
        (
            "{action: uppercase}",
            "relabel configuration for uppercase action requires 'target_label' value",
        ),
        (
            "{action: keepequal, source_labels: [a]}",
            "relabel configuration for keepequal action requires 'target_label' value",
        ),
        (
            "{action: dropequal, source_labels: [a]}",
            "relabel configuration for dropequal action requires 'target_label' value",
        ),
        (
            "{action: lowercase, target_label: x, replacement: y}",
            "'replacement' can not be set for lowercase action",
        ),
        (
            "{action: uppercase, target_label: x, replacement: y}",
            "'replacement' can not be set for uppercase action",
        ),
        (
            "{action: labelmap, replacement: ''}",
            "\"\" is invalid 'replacement' for labelmap action",
        ),
        (
            "{action: keepequal, target_label: x, regex: a}",
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "{action: dropequal, target_label: x, separator: ','}",
            "dropequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "{action: keepequal, target_label: x, modulus: 3}",
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "{action: labeldrop, source_labels: [a]}",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "{action: labeldrop, target_label: a}",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "{action: labelkeep, separator: ','}",
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            "{action: labelkeep, replacement: x}",
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            "{action: labelkeep, modulus: 2}",
            "labelkeep action requires only 'regex', and no other fields",
        ),
    ];
    for (yaml, want) in cases {
        let r: RelabelConfig = serde_saphyr::from_str(yaml).unwrap();
        let err = r.validate().unwrap_err();
        assert!(matches!(err, RelabelError::Invalid(_)));
        assert_eq!(err.to_string(), *want, "{yaml}");
    }
}

#[test]
fn validation_by_name_scheme() {
    let parse = |y: &str| serde_saphyr::from_str::<RelabelConfig>(y).unwrap();
    // Prometheus 3 accepts UTF-8 target names; the legacy scheme does not.
    let utf8 = parse("{target_label: 'my.label', replacement: x}");
    utf8.validate().unwrap();
    let err = utf8.validate_with(NameValidation::Legacy).unwrap_err();
    assert_eq!(
        err.to_string(),
        "\"my.label\" is invalid 'target_label' for replace action"
    );

    let vars = parse("{target_label: 'label_${1}', source_labels: [a]}");
    vars.validate_with(NameValidation::Legacy).unwrap();
    let bad_vars = parse("{target_label: '1${1}', source_labels: [a]}");
    assert!(bad_vars.validate_with(NameValidation::Legacy).is_err());
    bad_vars.validate().unwrap();

    let lm = parse("{action: labelmap, replacement: 'l-$1'}");
    lm.validate().unwrap();
    assert_eq!(
        lm.validate_with(NameValidation::Legacy)
            .unwrap_err()
            .to_string(),
        "\"l-$1\" is invalid 'replacement' for labelmap action"
    );
    let hm = parse("{action: hashmod, modulus: 2, target_label: 'a-b'}");
    hm.validate().unwrap();
    assert!(hm.validate_with(NameValidation::Legacy).is_err());
}

#[test]
fn valid_rules_pass() {
    for y in [
        "{target_label: x}",
        "{action: keep, regex: a}",
        "{action: labelmap, regex: '__meta_(.*)'}",
        "{action: labeldrop, regex: x}",
        "{action: keepequal, source_labels: [a], target_label: b}",
        "{action: hashmod, modulus: 1, target_label: b}",
        "{action: Lowercase, target_label: b}",
    ] {
        let r: RelabelConfig = serde_saphyr::from_str(y).unwrap();
        r.validate().unwrap_or_else(|e| panic!("{y}: {e}"));
    }
}

#[test]
fn regex_wrapper() {
    let r = Regex::new("a|b").unwrap();
    assert!(r.is_match("a") && r.is_match("b") && !r.is_match("ab"));
    assert_eq!(r.as_str(), "a|b");
    assert_eq!(r.to_string(), "a|b");
    assert!(matches!(Regex::new("("), Err(RelabelError::Regex { .. })));
    let r = Regex::new("(?P<x>a)(b)").unwrap();
    let caps = r.compiled().captures("ab").unwrap();
    assert_eq!(r.expand("$x$2${x}$$ $ ${2", &caps), "aba$ $ ${2");
}
