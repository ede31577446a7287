//! Wording YAML decoding errors the way Go's yaml packages (and so promtool) do.

use serde_saphyr::Error as YamlError;

/// The Go type name promtool names in "field X not found in type T", picked by a
/// field only that struct has.
fn go_type_name(expected: &[&str]) -> &'static str {
    let has = |f: &str| expected.contains(&f);
    if has("groups") {
        "rulefmt.RuleGroups"
    } else if has("rules") {
        "rulefmt.RuleGroup"
    } else if has("record") {
        "rulefmt.Rule"
    } else if has("rule_files") {
        "main.unitTestFile"
    } else if has("input_series") {
        "main.testGroup"
    } else if has("values") {
        "main.series"
    } else if has("exp_alerts") {
        "main.alertTestCase"
    } else if has("exp_labels") {
        "main.alert"
    } else if has("exp_samples") {
        "main.promqlTestCase"
    } else if has("histogram") {
        "main.sample"
    } else {
        "struct"
    }
}

/// Strips serde-saphyr's trailing " at line L, column C" from a message.
fn bare_message(e: &YamlError) -> String {
    let s = e.without_snippet().to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Renders a decoding error like Go's yaml: unknown fields as
/// `yaml: unmarshal errors:\n  line N: field F not found in type T`, anything
/// else as `yaml: line N: message`.
pub fn go_yaml_error(e: &YamlError) -> String {
    let inner = e.without_snippet();
    if let YamlError::SerdeUnknownField {
        field,
        expected,
        location,
    } = inner
    {
        return format!(
            "yaml: unmarshal errors:\n  line {}: field {} not found in type {}",
            location.line(),
            field,
            go_type_name(expected)
        );
    }
    match e.location() {
        Some(loc) if loc.line() > 0 => format!("yaml: line {}: {}", loc.line(), bare_message(e)),
        _ => format!("yaml: {}", bare_message(e)),
    }
}
