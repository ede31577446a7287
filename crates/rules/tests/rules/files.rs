use watchfire_rules::{RuleKind, parse_rules};

fn errs(yaml: &str) -> Vec<String> {
    parse_rules("f.yml", yaml).unwrap_err()
}

#[test]
fn valid_file_with_all_fields() {
    let g = parse_rules(
        "f.yml",
        r#"
groups:
  - name: all
    interval: 30s
    query_offset: 1m
    limit: 10
    labels:
      team: a
    rules:
      - record: job:x:sum
        expr: sum(x)
        labels:
          l: v
      - alert: A
        expr: 1
        for: 5m
        keep_firing_for: 1m
        labels:
          severity: page
        annotations:
          summary: "{{ $value }}"
"#,
    )
    .unwrap();
    assert_eq!(g[0].interval_ms, Some(30_000));
    assert_eq!(g[0].query_offset_ms, Some(60_000));
    assert_eq!(g[0].limit, 10);
    assert_eq!(g[0].rules[0].kind, RuleKind::Recording);
    assert_eq!(g[0].rules[1].for_ms, 300_000);
    assert_eq!(g[0].rules[1].keep_firing_for_ms, 60_000);
    assert_eq!(g[0].rules[1].expr, "1");
    assert_eq!(g[0].rules[0].merged_labels(&g[0]).len(), 2);
    assert!(parse_rules("e.yml", "").unwrap().is_empty());
}

#[test]
fn validation_errors_have_positions() {
    let e = errs(
        "groups:\n  - name: g\n    rules:\n      - record: x\n        alert: y\n        expr: 1\n",
    );
    assert_eq!(
        e,
        vec![r#"4:17: 5:16: group "g", rule 1, "y": only one of 'record' and 'alert' must be set"#]
    );
    let e = errs("groups:\n  - name: g\n    rules:\n      - expr: 1\n");
    assert_eq!(
        e,
        vec![r#"0:0: 0:0: group "g", rule 1, "": one of 'record' or 'alert' must be set"#]
    );
    let e = errs("groups:\n  - name: g\n    rules:\n      - record: x\n        expr: 'sum('\n");
    assert!(
        e[0].starts_with(r#"5:15: group "g", rule 1, "x": could not parse expression: "#),
        "{e:?}"
    );
    let e = errs(
        "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: up\n        for: 5m\n",
    );
    assert_eq!(
        e,
        vec![r#"4:17: group "g", rule 1, "x": invalid field 'for' in recording rule"#]
    );
    let e = errs("groups:\n  - name: g\n    rules:\n      - record: 'a{b}'\n        expr: up\n");
    assert_eq!(
        e,
        vec![
            r#"4:17: group "g", rule 1, "a{b}": braces present in the recording rule name; should it be in expr?: a{b}"#
        ]
    );
    let e = errs(
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels:\n          __name__: x\n",
    );
    assert_eq!(
        e,
        vec![r#"group "g", rule 1, "A": invalid label name: __name__"#]
    );
    let e = errs("groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n");
    assert_eq!(
        e,
        vec![r#"4:5: groupname: "g" is repeated in the same file"#]
    );
    let e = errs("groups:\n  - name: g\n    rules:\n      - record: x\n");
    assert_eq!(
        e,
        vec![r#"0:0: group "g", rule 1, "x": field 'expr' must be set in rule"#]
    );
}

#[test]
fn unknown_fields_are_rejected_like_go_yaml() {
    let e = errs("groups:\n  - name: g\n    namespace: x\n    rules: []\n");
    assert_eq!(
        e,
        vec![
            "yaml: unmarshal errors:\n  line 3: field namespace not found in type rulefmt.RuleGroup"
        ]
    );
    let e = errs(
        "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: up\n        bogus: 1\n",
    );
    assert_eq!(
        e,
        vec!["yaml: unmarshal errors:\n  line 6: field bogus not found in type rulefmt.Rule"]
    );
}

#[test]
fn load_rule_files_prefixes_paths() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.yml");
    std::fs::write(
        &p,
        "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: 'up +'\n",
    )
    .unwrap();
    let e = watchfire_rules::load_rule_files(std::slice::from_ref(&p)).unwrap_err();
    assert!(
        e[0].to_string()
            .starts_with(&format!("{}: 5:15: group", p.display()))
    );
    let missing = dir.path().join("missing.yml");
    let e = watchfire_rules::load_rule_files(std::slice::from_ref(&missing)).unwrap_err();
    assert_eq!(
        e[0].to_string(),
        format!(
            "{0}: open {0}: no such file or directory",
            missing.display()
        )
    );
}

/// Rule expressions are checked with the PromQL features of the engine that runs them:
/// experimental functions are refused by default and accepted when turned on.
#[test]
fn experimental_promql_follows_the_engine_features() {
    let yaml = r#"
groups:
  - name: g
    rules:
      - record: job:mad:5m
        expr: mad_over_time(x[5m])
"#;
    let e = errs(yaml);
    assert!(
        e.iter()
            .any(|m| m.contains("could not parse expression") && m.contains("mad_over_time")),
        "{e:?}"
    );
    let opts = watchfire_promql::ParseOptions {
        experimental_functions: true,
        ..Default::default()
    };
    let groups = watchfire_rules::parse_rules_with("f.yml", yaml, &opts).unwrap();
    assert_eq!(groups[0].rules.len(), 1);
}
