//! Unescaping of quoted strings and HELP text.
//!
//! Both formats escape label values as `\\`, `\"` and `\n`. Text-format HELP lines
//! know only `\\` and `\n`; OpenMetrics HELP uses the label-value escapes. An unknown
//! escape such as `\t` is kept verbatim (backslash included), as Prometheus does.
//! Escapes are resolved left to right, so `\\n` is a backslash followed by `n`.

use std::borrow::Cow;

/// Unescapes `raw` if it holds a backslash, borrowing it otherwise.
pub(crate) fn unescape(raw: &str, quotes: bool) -> Cow<'_, str> {
    if raw.as_bytes().contains(&b'\\') {
        Cow::Owned(unescape_owned(raw, quotes))
    } else {
        Cow::Borrowed(raw)
    }
}

/// Resolves `\\`, `\n` and (when `quotes`) `\"` in `raw`.
pub(crate) fn unescape_owned(raw: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.as_bytes().first() {
            Some(b'\\') => out.push('\\'),
            Some(b'n') => out.push('\n'),
            Some(b'"') if quotes => out.push('"'),
            _ => {
                out.push('\\');
                rest = after;
                continue;
            }
        }
        // The escaped character is ASCII, so index 1 is a char boundary.
        rest = &after[1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_escapes() {
        assert!(matches!(unescape("plain", true), Cow::Borrowed("plain")));
        assert_eq!(unescape(r#"a\"b"#, true), "a\"b");
        assert_eq!(unescape(r"a\\b", true), "a\\b");
        assert_eq!(unescape(r"a\nb", true), "a\nb");
        assert_eq!(unescape(r"a\\nb", true), "a\\nb");
        assert_eq!(unescape(r"\t\é", true), "\\t\\é");
        assert_eq!(unescape(r"end\", true), "end\\");
    }

    #[test]
    fn help_escapes_keep_quotes() {
        assert_eq!(unescape(r#"say \"hi\"\n"#, false), "say \\\"hi\\\"\n");
    }
}
