//! Error positions and messages.

use std::collections::BTreeMap;

use watchfire_template::{
    NotificationData, NotificationTemplates, RuleTemplateData, TemplateError, expand_rule_template,
    validate_rule_template,
};

fn verr(text: &str) -> String {
    validate_rule_template("__alert_A", text)
        .unwrap_err()
        .to_string()
}

fn eerr(text: &str) -> String {
    let d = RuleTemplateData::default();
    expand_rule_template("test", text, &d, None, 0)
        .unwrap_err()
        .to_string()
}

#[test]
fn validate_rejects_like_promtool() {
    // Strings from `promtool check rules` (Prometheus 2.42) on the same texts.
    assert_eq!(
        verr("{{ humanize2 $value }}"),
        r#"template: __alert_A:1: function "humanize2" not defined"#
    );
    assert_eq!(
        verr("x\n{{ $value "),
        "template: __alert_A:2: unclosed action"
    );
    // Go's parser messages (text/template/parse).
    assert_eq!(
        verr("a{{ end }}b"),
        "template: __alert_A:1: unexpected {{end}}"
    );
    assert_eq!(
        verr("{{ if 1 }}x\ny"),
        "template: __alert_A:2: unexpected EOF"
    );
    assert_eq!(
        verr("{{ else }}"),
        "template: __alert_A:1: unexpected {{else}}"
    );
    assert_eq!(
        verr("\n\n{{ $nope }}"),
        r#"template: __alert_A:3: undefined variable "$nope""#
    );
    assert_eq!(
        verr("{{ $x = 1 }}"),
        r#"template: __alert_A:1: undefined variable "$x""#
    );
    assert_eq!(
        verr("{{ break }}"),
        "template: __alert_A:1: {{break}} outside {{range}}"
    );
    // Functions of the other engine are unknown here.
    assert_eq!(
        verr("{{ trimSpace $value }}"),
        r#"template: __alert_A:1: function "trimSpace" not defined"#
    );
    // Valid templates pass, including all preamble variables and defines.
    for ok in [
        "{{ $labels.x }}{{ $externalLabels.y }}{{ $externalURL }}{{ $value }}",
        "{{ define \"a\" }}{{ . }}{{ end }}{{ template \"a\" $value }}",
        "{{ range $i, $x := query \"up\" }}{{ $i }}{{ break }}{{ end }}",
        "{{ $x := 1 }}{{ $x = 2 }}{{ if $x }}{{ $y := $x }}{{ $y }}{{ end }}",
        "no template at all",
    ] {
        validate_rule_template("t", ok).unwrap();
    }
    let e = validate_rule_template("t", "a\n  {{ nope }}").unwrap_err();
    assert!(
        matches!(
            e,
            TemplateError::Parse {
                line: 2,
                col: 6,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn execution_errors_carry_go_positions() {
    // Prometheus' template_test.go messages; columns on line 1 include the
    // 112-byte variable preamble Prometheus prepends to rule templates.
    assert_eq!(
        eerr(r#"{{ humanize "one" }}"#),
        r#"error executing template test: template: test:1:115: executing "test" at <humanize "one">: error calling humanize: strconv.ParseFloat: parsing "one": invalid syntax"#
    );
    assert_eq!(
        eerr(r#"{{ "one" | humanizePercentage }}"#),
        r#"error executing template test: template: test:1:123: executing "test" at <humanizePercentage>: error calling humanizePercentage: strconv.ParseFloat: parsing "one": invalid syntax"#
    );
    assert_eq!(
        eerr("x\n  {{ humanizeTimestamp 1e300 }}"),
        r#"error executing template test: template: test:2:5: executing "test" at <humanizeTimestamp 1e+300>: error calling humanizeTimestamp: 1e+300 cannot be represented as a nanoseconds timestamp since it overflows int64"#
    );
    assert_eq!(
        eerr("{{ define \"d\" }}\n{{ toUpper 1 }}{{ end }}{{ template \"d\" }}"),
        r#"error executing template test: template: test:2:3: executing "d" at <toUpper 1>: wrong type for value; expected string; got int"#
    );
    assert!(eerr("{{ {{").starts_with("error parsing template test: template: test:1: "));
}

#[test]
fn notification_errors() {
    let t = NotificationTemplates::new(&[], std::path::Path::new(".")).unwrap();
    let d = NotificationData {
        receiver: "r".into(),
        common_labels: BTreeMap::new(),
        ..Default::default()
    };
    let e = t
        .execute_text("{{ .Receiver.Foo }}", &d)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        r#"template: :1:3: executing "" at <.Receiver.Foo>: can't evaluate field Foo in type string"#
    );
    let e = t
        .execute_text("{{ template \"nope\" . }}", &d)
        .unwrap_err()
        .to_string();
    assert!(e.contains(r#"template "nope" not defined"#), "{e}");
    let e = t
        .execute_text("{{ humanize 1 }}", &d)
        .unwrap_err()
        .to_string();
    assert_eq!(e, r#"template: :1: function "humanize" not defined"#);
    let e = t
        .execute_text("{{ urlUnescape \"%zz\" }}", &d)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with(r#"error calling urlUnescape: invalid URL escape "%zz""#),
        "{e}"
    );
}
