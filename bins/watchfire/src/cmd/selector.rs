//! A series selector (`name{label="value", ...}`) for the tools' `--match` flags.

use watchfire_model::{METRIC_NAME, MatchOp, Matcher};

/// Parses `metric`, `{matchers}` or `metric{matchers}`.
pub fn parse_selector(s: &str) -> Result<Vec<Matcher>, String> {
    let s = s.trim();
    let (name, rest) = match s.find('{') {
        Some(i) => (s[..i].trim(), &s[i..]),
        None => (s, ""),
    };
    let mut out = Vec::new();
    if !name.is_empty() {
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            return Err(format!("invalid metric name {name:?} in selector {s:?}"));
        }
        out.push(Matcher::equal(METRIC_NAME, name));
    }
    if !rest.is_empty() {
        let inner = rest
            .strip_prefix('{')
            .and_then(|r| r.strip_suffix('}'))
            .ok_or_else(|| format!("selector {s:?}: unbalanced braces"))?;
        let mut chars = inner.char_indices().peekable();
        loop {
            while chars
                .next_if(|(_, c)| c.is_whitespace() || *c == ',')
                .is_some()
            {}
            let Some(&(start, _)) = chars.peek() else {
                break;
            };
            let mut end = start;
            while let Some((i, c)) = chars.next_if(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
            {
                end = i + c.len_utf8();
            }
            let label = &inner[start..end];
            if label.is_empty() {
                return Err(format!(
                    "selector {s:?}: expected a label name at offset {start}"
                ));
            }
            while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
            let mut op = String::new();
            while let Some((_, c)) = chars.next_if(|(_, c)| "=!~".contains(*c)) {
                op.push(c);
            }
            let op = match op.as_str() {
                "=" => MatchOp::Equal,
                "!=" => MatchOp::NotEqual,
                "=~" => MatchOp::RegexMatch,
                "!~" => MatchOp::RegexNoMatch,
                other => {
                    return Err(format!(
                        "selector {s:?}: unknown operator {other:?} after {label:?}"
                    ));
                }
            };
            while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
            let quote = match chars.next() {
                Some((_, q @ ('"' | '\''))) => q,
                _ => {
                    return Err(format!(
                        "selector {s:?}: expected a quoted value for {label:?}"
                    ));
                }
            };
            let mut value = String::new();
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, e)) => value.push(e),
                        None => break,
                    },
                    c if c == quote => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return Err(format!("selector {s:?}: unterminated value for {label:?}"));
            }
            out.push(Matcher::new(op, label, value).map_err(|e| e.to_string())?);
        }
    }
    if out.is_empty() {
        return Err(format!(
            "selector {s:?} selects nothing: give a metric name or a matcher"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_selectors() {
        let m = parse_selector(r#"up{job="api", code=~"2..", x!='y'}"#).unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m[2].op, MatchOp::RegexMatch);
        assert!(parse_selector("{job=}").is_err());
        assert!(parse_selector("up{job=\"a\"").is_err());
    }
}
