//! Label matchers as PromQL selectors use them.

use crate::labels::Labels;
use regex::Regex;
use std::fmt;

/// The comparison a matcher makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~` (fully anchored)
    RegexMatch,
    /// `!~` (fully anchored)
    RegexNoMatch,
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        })
    }
}

/// A matcher could not be built.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    /// The regular expression does not compile.
    #[error("invalid regular expression {pattern:?} for label {name:?}: {source}")]
    Regex {
        /// Label name the matcher applies to.
        name: String,
        /// The pattern as written.
        pattern: String,
        /// The compile error.
        source: regex::Error,
    },
}

/// Selects series whose label `name` compares to `value` under `op`.
///
/// A label that is absent compares as the empty string, as in Prometheus: `{a=""}`
/// matches series without `a`, and `{a!~"x"}` matches them too.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Comparison.
    pub op: MatchOp,
    /// Value or regular expression source as written.
    pub value: String,
    regex: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    /// Builds a matcher, compiling regexes fully anchored (`^(?s:...)$`) as
    /// Prometheus does, so `.` also matches newlines.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let name = name.into();
        let value = value.into();
        let regex = match op {
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => {
                Some(Regex::new(&format!("^(?s:{value})$")).map_err(|source| {
                    MatcherError::Regex {
                        name: name.clone(),
                        pattern: value.clone(),
                        source,
                    }
                })?)
            }
            _ => None,
        };
        Ok(Matcher {
            name,
            op,
            value,
            regex,
        })
    }

    /// Shorthand for an `=` matcher, which cannot fail.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            regex: None,
        }
    }

    /// Whether `value` (empty for an absent label) satisfies the matcher.
    pub fn matches(&self, value: &str) -> bool {
        match self.op {
            MatchOp::Equal => value == self.value,
            MatchOp::NotEqual => value != self.value,
            MatchOp::RegexMatch => self.regex.as_ref().is_some_and(|r| r.is_match(value)),
            MatchOp::RegexNoMatch => !self.regex.as_ref().is_some_and(|r| r.is_match(value)),
        }
    }

    /// Whether the matcher accepts series that lack the label entirely.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// Whether a label set satisfies the matcher.
    pub fn matches_labels(&self, labels: &Labels) -> bool {
        self.matches(labels.get(&self.name).unwrap_or(""))
    }

    /// If the regex is a plain alternation of literals (`a|b|c`), those literals;
    /// lets an index answer with postings lookups instead of scanning values.
    pub fn set_literals(&self) -> Option<Vec<String>> {
        if self.op != MatchOp::RegexMatch {
            return None;
        }
        let parts: Vec<&str> = self.value.split('|').collect();
        let is_literal = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphanumeric() || "_-:/ ".contains(c))
        };
        parts
            .iter()
            .all(|p| is_literal(p))
            .then(|| parts.iter().map(|p| p.to_string()).collect())
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_are_fully_anchored() {
        let m = Matcher::new(MatchOp::RegexMatch, "job", "api").unwrap();
        assert!(m.matches("api"));
        assert!(!m.matches("api-server"));
        assert!(!m.matches("my-api"));
        let m = Matcher::new(MatchOp::RegexMatch, "x", "a.b").unwrap();
        assert!(m.matches("a\nb"), "dot matches newline like Prometheus");
    }

    #[test]
    fn absent_labels_compare_as_empty() {
        let l = Labels::from_pairs([("job", "api")]);
        assert!(Matcher::equal("env", "").matches_labels(&l));
        assert!(
            Matcher::new(MatchOp::RegexNoMatch, "env", "prod")
                .unwrap()
                .matches_labels(&l)
        );
        assert!(
            !Matcher::new(MatchOp::RegexMatch, "env", ".+")
                .unwrap()
                .matches_labels(&l)
        );
    }

    #[test]
    fn bad_regex_names_label_and_pattern() {
        let e = Matcher::new(MatchOp::RegexMatch, "job", "(")
            .unwrap_err()
            .to_string();
        assert!(e.contains("job") && e.contains("\"(\""), "{e}");
    }

    #[test]
    fn literal_alternations_are_recognised() {
        let m = Matcher::new(MatchOp::RegexMatch, "code", "200|404").unwrap();
        assert_eq!(m.set_literals(), Some(vec!["200".into(), "404".into()]));
        let m = Matcher::new(MatchOp::RegexMatch, "code", "2..").unwrap();
        assert_eq!(m.set_literals(), None);
    }
}
