//! String literals: Go escapes in `"..."` and `'...'`, none in backticks.

use super::Parser;
use super::lexer::Token;
use crate::ast::StringLiteral;

impl Parser<'_> {
    /// The value of a string token (the lexer has validated its escapes).
    pub(crate) fn unquote(&mut self, t: &Token) -> String {
        self.unquote_literal(t).value
    }

    /// The value of a string token, remembering whether it was valid UTF-8.
    pub(crate) fn unquote_literal(&mut self, t: &Token) -> StringLiteral {
        let raw = self.token_text(t);
        match unquote(raw) {
            Ok(s) => s,
            Err(e) => {
                self.add_error(
                    t.pos,
                    t.end,
                    format!(
                        "error unquoting string {}: {e}",
                        super::lexer::go_quote(raw)
                    ),
                );
                StringLiteral::from("")
            }
        }
    }
}

/// Unquotes a PromQL string literal including its quotes. Escapes that produce
/// bytes (`\xff`, `\377`) which are not UTF-8 are replaced by U+FFFD.
pub(crate) fn unquote(raw: &str) -> Result<StringLiteral, &'static str> {
    let mut chars = raw.chars();
    let quote = chars.next().ok_or("invalid syntax")?;
    if raw.len() < 2 || !raw.ends_with(quote) {
        return Err("invalid syntax");
    }
    let body = &raw[quote.len_utf8()..raw.len() - quote.len_utf8()];
    if quote == '`' {
        return Ok(body.replace('\r', "").into());
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut it = body.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let e = it.next().ok_or("invalid syntax")?;
        let simple = match e {
            'a' => Some(0x07u8),
            'b' => Some(0x08),
            'f' => Some(0x0c),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(0x0b),
            '\\' => Some(b'\\'),
            '\'' | '"' if e == quote => Some(e as u8),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            continue;
        }
        let (n, base, byte) = match e {
            '0'..='7' => (2, 8, true),
            'x' => (2, 16, true),
            'u' => (4, 16, false),
            'U' => (8, 16, false),
            _ => return Err("invalid syntax"),
        };
        let mut v: u32 = if base == 8 {
            e.to_digit(8).ok_or("invalid syntax")?
        } else {
            0
        };
        for _ in 0..n {
            let d = it
                .next()
                .and_then(|c| c.to_digit(base))
                .ok_or("invalid syntax")?;
            v = v * base + d;
        }
        if byte {
            let b = u8::try_from(v).map_err(|_| "invalid syntax")?;
            out.push(b);
        } else {
            let c = char::from_u32(v).ok_or("invalid syntax")?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    Ok(match String::from_utf8(out) {
        Ok(s) => s.into(),
        Err(e) => StringLiteral {
            value: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            valid_utf8: false,
        },
    })
}
