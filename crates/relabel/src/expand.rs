//! Go `regexp.Expand` template expansion.
//!
//! Prometheus expands `replacement` and `target_label` with Go's rules, which differ
//! from the `regex` crate's `Captures::expand` in corner cases (leading zeros, Unicode
//! letters in names, malformed `${`), so they are reimplemented here.

use crate::config::Regex;

impl Regex {
    /// Expands `template` for a match of this regex on `text`: `$n`/`${n}` is group
    /// `n`, `$name`/`${name}` the named group, `$$` a literal `$`. A reference to a
    /// group that does not exist or did not participate expands to nothing; a `$` that
    /// starts no valid reference is kept literally. Names take the longest run of
    /// letters, digits and `_`, so `$1x` means the group named `1x`.
    pub fn expand(&self, template: &str, caps: &regex::Captures<'_>) -> String {
        let mut out = String::with_capacity(template.len());
        self.expand_into(&mut out, template, caps);
        out
    }

    pub(crate) fn expand_into(&self, out: &mut String, template: &str, caps: &regex::Captures<'_>) {
        let mut rest = template;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            rest = &rest[pos + 1..];
            if let Some(after) = rest.strip_prefix('$') {
                out.push('$');
                rest = after;
                continue;
            }
            let Some((name, after)) = extract(rest) else {
                // Malformed reference: Go keeps the `$` as text.
                out.push('$');
                continue;
            };
            rest = after;
            match group_number(name) {
                Some(n) => {
                    if let Some(m) = caps.get(n) {
                        out.push_str(m.as_str());
                    }
                }
                None => {
                    let names = self.compiled().capture_names();
                    for (i, group) in names.enumerate() {
                        if group == Some(name)
                            && let Some(m) = caps.get(i)
                        {
                            out.push_str(m.as_str());
                            break;
                        }
                    }
                }
            }
        }
        out.push_str(rest);
    }
}

/// Splits a reference (the text after `$`) into its name and the remaining template.
fn extract(s: &str) -> Option<(&str, &str)> {
    let (body, brace) = match s.strip_prefix('{') {
        Some(b) => (b, true),
        None => (s, false),
    };
    let len: usize = body
        .chars()
        .take_while(|c| c.is_alphabetic() || c.is_numeric() || *c == '_')
        .map(char::len_utf8)
        .sum();
    if len == 0 {
        return None;
    }
    let name = &body[..len];
    let mut rest = &body[len..];
    if brace {
        rest = rest.strip_prefix('}')?;
    }
    Some((name, rest))
}

/// The group number a name denotes: ASCII digits without a leading zero and below
/// 10^8 (Go's limit); anything else is a group name.
fn group_number(name: &str) -> Option<usize> {
    if !name.bytes().all(|b| b.is_ascii_digit()) || (name.len() > 1 && name.starts_with('0')) {
        return None;
    }
    let n: usize = name.parse().ok()?;
    (n < 100_000_000).then_some(n)
}
