//! The rule type, its YAML/JSON form and its validation.

use crate::RelabelError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The pattern Prometheus uses when `regex` is omitted.
const DEFAULT_REGEX: &str = "(.*)";
/// The separator Prometheus uses when `separator` is omitted.
const DEFAULT_SEPARATOR: &str = ";";
/// The replacement Prometheus uses when `replacement` is omitted.
const DEFAULT_REPLACEMENT: &str = "$1";

/// A fully anchored regular expression (`^(?s:PATTERN)$`) that remembers the pattern
/// as written; it (de)serialises as that pattern string.
#[derive(Clone)]
pub struct Regex {
    pattern: String,
    re: regex::Regex,
}

impl Regex {
    /// Compiles `pattern` anchored at both ends, with `.` matching newlines.
    pub fn new(pattern: &str) -> Result<Regex, RelabelError> {
        let re =
            regex::Regex::new(&format!("^(?s:{pattern})$")).map_err(|e| RelabelError::Regex {
                pattern: pattern.to_owned(),
                source: Box::new(e),
            })?;
        Ok(Regex {
            pattern: pattern.to_owned(),
            re,
        })
    }

    /// The pattern as written, without the anchors.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        self.re.is_match(text)
    }

    /// The compiled, anchored expression.
    pub fn compiled(&self) -> &regex::Regex {
        &self.re
    }
}

impl Default for Regex {
    fn default() -> Self {
        // A constant pattern, not input: it always compiles.
        #[allow(clippy::expect_used)]
        Regex::new(DEFAULT_REGEX).expect("the default relabel regex compiles")
    }
}

impl PartialEq for Regex {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

impl Eq for Regex {}

impl fmt::Debug for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Regex({:?})", self.pattern)
    }
}

impl fmt::Display for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

impl<'de> Deserialize<'de> for Regex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // `regex:` with a null value means the empty pattern in Prometheus, not the
        // default; a missing key is handled by the struct default.
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        Regex::new(&s).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Regex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.pattern)
    }
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Action {
    /// Writes the expanded replacement to the (expanded) target label when the regex
    /// matches the joined source values.
    #[default]
    Replace,
    /// Drops the set unless the regex matches the joined source values.
    Keep,
    /// Drops the set when the regex matches the joined source values.
    Drop,
    /// Drops the set unless the joined source values equal the target label's value.
    KeepEqual,
    /// Drops the set when the joined source values equal the target label's value.
    DropEqual,
    /// Sets the target label to md5(joined source values) modulo `modulus`.
    HashMod,
    /// Copies every label whose name matches the regex to the expanded replacement name.
    LabelMap,
    /// Removes every label whose name matches the regex.
    LabelDrop,
    /// Removes every label whose name does not match the regex.
    LabelKeep,
    /// Sets the target label to the lower-cased joined source values.
    Lowercase,
    /// Sets the target label to the upper-cased joined source values.
    Uppercase,
}

impl Action {
    /// The name used in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    /// Parses a YAML action name; like Prometheus, case does not matter.
    pub fn parse(s: &str) -> Option<Action> {
        const ALL: [Action; 11] = [
            Action::Replace,
            Action::Keep,
            Action::Drop,
            Action::KeepEqual,
            Action::DropEqual,
            Action::HashMod,
            Action::LabelMap,
            Action::LabelDrop,
            Action::LabelKeep,
            Action::Lowercase,
            Action::Uppercase,
        ];
        let lower = s.to_lowercase();
        ALL.into_iter().find(|a| a.as_str() == lower)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Err(serde::de::Error::custom("relabel action cannot be empty")),
            Some(s) if s.is_empty() => {
                Err(serde::de::Error::custom("relabel action cannot be empty"))
            }
            Some(s) => Action::parse(&s)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown relabel action {s:?}"))),
        }
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Which label names count as valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameValidation {
    /// Prometheus 3's default: any non-empty UTF-8 string.
    #[default]
    Utf8,
    /// `metric_name_validation_scheme: legacy`: `[a-zA-Z_][a-zA-Z0-9_]*`.
    Legacy,
}

impl NameValidation {
    /// Whether `name` is a valid label name under this scheme.
    pub fn is_valid_label_name(self, name: &str) -> bool {
        match self {
            NameValidation::Utf8 => !name.is_empty(),
            NameValidation::Legacy => is_legacy_label_name(name),
        }
    }
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn is_legacy_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A legacy-charset label name that may contain `$var` / `${var}` references, as
/// Prometheus accepts for `replace` targets and `labelmap` replacements.
fn is_legacy_name_with_vars(s: &str) -> bool {
    // Equivalent to Prometheus' `^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$`: the
    // string is a sequence of name characters and variable references, starting with
    // a letter, underscore or reference.
    let b = s.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    let mut first = true;
    while i < b.len() {
        if b[i] == b'$' {
            i += 1;
            if i < b.len() && b[i] == b'{' {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && word(b[j]) {
                    j += 1;
                }
                if j == start || j >= b.len() || b[j] != b'}' {
                    return false;
                }
                i = j + 1;
            } else {
                let start = i;
                while i < b.len() && word(b[i]) {
                    i += 1;
                }
                if i == start {
                    return false;
                }
            }
        } else if !word(b[i]) || (first && b[i].is_ascii_digit()) {
            return false;
        } else {
            i += 1;
        }
        first = false;
    }
    !b.is_empty()
}

/// One relabeling rule, as written under `relabel_configs` and friends.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator` to form the input.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub source_labels: Vec<String>,
    /// Joins the source values.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub separator: String,
    /// The label written by `replace`, `hashmod`, `lowercase`, `uppercase`, or compared
    /// by `keepequal`/`dropequal`.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub target_label: String,
    /// Anchored expression matched against the input (or label names).
    #[serde(skip_serializing_if = "regex_is_empty")]
    pub regex: Regex,
    /// Divisor for `hashmod`.
    #[serde(deserialize_with = "null_as_default", skip_serializing_if = "is_zero")]
    pub modulus: u64,
    /// Template expanded with the regex's capture groups.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub replacement: String,
    /// What the rule does.
    pub action: Action,
}

fn regex_is_empty(r: &Regex) -> bool {
    r.as_str().is_empty()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A YAML `null` reads as the type's zero value, as Go's YAML decoder does.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: DEFAULT_SEPARATOR.to_owned(),
            target_label: String::new(),
            regex: Regex::default(),
            modulus: 0,
            replacement: DEFAULT_REPLACEMENT.to_owned(),
            action: Action::Replace,
        }
    }
}

impl RelabelConfig {
    /// Checks the rule the way Prometheus 3 does with its default UTF-8 name
    /// validation.
    pub fn validate(&self) -> Result<(), RelabelError> {
        self.validate_with(NameValidation::Utf8)
    }

    /// Checks the rule under the given label name scheme (Prometheus validates with
    /// the legacy scheme when `metric_name_validation_scheme: legacy` is configured).
    pub fn validate_with(&self, scheme: NameValidation) -> Result<(), RelabelError> {
        use Action::*;
        let a = self.action;
        let err = |m: String| Err(RelabelError::Invalid(m));
        if a == HashMod && self.modulus == 0 {
            return err("relabel configuration for hashmod requires non-zero modulus".into());
        }
        let needs_target = matches!(
            a,
            Replace | HashMod | Lowercase | Uppercase | KeepEqual | DropEqual
        );
        if needs_target && self.target_label.is_empty() {
            return err(format!(
                "relabel configuration for {a} action requires 'target_label' value"
            ));
        }
        let invalid_target = || {
            err(format!(
                "{:?} is invalid 'target_label' for {a} action",
                self.target_label
            ))
        };
        let name_with_vars_ok = |s: &str| match scheme {
            NameValidation::Utf8 => scheme.is_valid_label_name(s),
            NameValidation::Legacy => is_legacy_name_with_vars(s),
        };
        if a == Replace {
            let ok = if self.target_label.contains('$') {
                name_with_vars_ok(&self.target_label)
            } else {
                scheme.is_valid_label_name(&self.target_label)
            };
            if !ok {
                return invalid_target();
            }
        }
        let simple = matches!(a, Lowercase | Uppercase | KeepEqual | DropEqual);
        if simple && !scheme.is_valid_label_name(&self.target_label) {
            return invalid_target();
        }
        if simple && self.replacement != DEFAULT_REPLACEMENT {
            return err(format!("'replacement' can not be set for {a} action"));
        }
        if a == LabelMap && !name_with_vars_ok(&self.replacement) {
            return err(format!(
                "{:?} is invalid 'replacement' for {a} action",
                self.replacement
            ));
        }
        if a == HashMod && !scheme.is_valid_label_name(&self.target_label) {
            return invalid_target();
        }
        if matches!(a, KeepEqual | DropEqual)
            && (self.regex.as_str() != DEFAULT_REGEX
                || self.modulus != 0
                || self.separator != DEFAULT_SEPARATOR
                || self.replacement != DEFAULT_REPLACEMENT)
        {
            return err(format!(
                "{a} action requires only 'source_labels' and `target_label`, and no other fields"
            ));
        }
        if matches!(a, LabelDrop | LabelKeep)
            && (!self.source_labels.is_empty()
                || !self.target_label.is_empty()
                || self.modulus != 0
                || self.separator != DEFAULT_SEPARATOR
                || self.replacement != DEFAULT_REPLACEMENT)
        {
            return err(format!(
                "{a} action requires only 'regex', and no other fields"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_name_with_vars_matches_prometheus_pattern() {
        let re = regex::Regex::new(r"^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$").unwrap();
        for s in [
            "", "a", "$1", "${1}", "${1}_x", "a$1", "1a", "a-b", "$", "${", "${}", "${a", "_$x_",
            "$1$2", "a${b}c", "${a}}", "$-", "9", "é",
        ] {
            // `\w` in Go is ASCII-only, which the plain `regex` crate is not; the
            // samples above avoid non-ASCII word characters except `é`.
            let expected = re.is_match(s) && s.is_ascii();
            assert_eq!(is_legacy_name_with_vars(s), expected, "{s:?}");
        }
    }
}
