//! Alertmanager matchers: both input syntaxes and the canonical output form.
//!
//! Alertmanager 0.27+ parses matchers (in `matchers:` config lists, silences and amtool
//! filters) in "fallback" mode: it runs the new UTF-8 parser and the classic regex-based
//! one, keeps the classic result whenever it parses, otherwise the UTF-8 result, and
//! reports the classic error when both fail. [`parse_matchers`] does the same.

use crate::error::ConfigError;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
pub use watchfire_model::{MatchOp, Matcher};

/// Anything labels can be looked up in: a [`watchfire_model::Labels`] or a map.
pub trait LabelSource {
    /// Value of label `name`, if present.
    fn label(&self, name: &str) -> Option<&str>;
}

impl LabelSource for watchfire_model::Labels {
    fn label(&self, name: &str) -> Option<&str> {
        self.get(name)
    }
}

impl LabelSource for BTreeMap<String, String> {
    fn label(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl<S: std::hash::BuildHasher> LabelSource for HashMap<String, String, S> {
    fn label(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

/// A conjunction of matchers, kept sorted as Alertmanager sorts them (name, value, op).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matchers(pub Vec<Matcher>);

fn op_rank(op: MatchOp) -> u8 {
    match op {
        MatchOp::Equal => 0,
        MatchOp::NotEqual => 1,
        MatchOp::RegexMatch => 2,
        MatchOp::RegexNoMatch => 3,
    }
}

impl Matchers {
    /// Wraps and sorts.
    pub fn new(mut v: Vec<Matcher>) -> Self {
        sort_matchers(&mut v);
        Matchers(v)
    }
    /// Parses matcher text (`{a="b", c=~"d"}` or `a=b,c=~d`) in fallback mode.
    pub fn parse(input: &str) -> Result<Self, ConfigError> {
        parse_matchers(input).map(Matchers::new)
    }
    /// Whether every matcher accepts `labels` (absent labels compare as "").
    pub fn matches(&self, labels: &dyn LabelSource) -> bool {
        self.0
            .iter()
            .all(|m| m.matches(labels.label(&m.name).unwrap_or("")))
    }
    /// Number of matchers.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are none (matches everything).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Iterates the matchers.
    pub fn iter(&self) -> std::slice::Iter<'_, Matcher> {
        self.0.iter()
    }
}

/// Sorts like Alertmanager's `labels.Matchers`: by name, then value, then operator.
pub fn sort_matchers(v: &mut [Matcher]) {
    v.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| a.value.cmp(&b.value))
            .then_with(|| op_rank(a.op).cmp(&op_rank(b.op)))
    });
}

impl fmt::Display for Matchers {
    /// `{a="b",c=~"d"}` — no spaces, as in Alertmanager route keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", DisplayMatcher(m))?;
        }
        f.write_str("}")
    }
}

fn is_reserved(c: char) -> bool {
    c.is_whitespace() || "{}!=~,\\\"'`".contains(c)
}

/// Alertmanager's canonical text for one matcher: `name="value"`, the name quoted when
/// it contains reserved characters.
pub struct DisplayMatcher<'a>(pub &'a Matcher);

impl fmt::Display for DisplayMatcher<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        if m.name.contains(is_reserved) {
            write!(
                f,
                "{}{}{}",
                watchfire_model::go_quote(&m.name),
                m.op,
                watchfire_model::go_quote(&m.value)
            )
        } else {
            let v = m
                .value
                .replace('\\', "\\\\")
                .replace('\n', "\\n")
                .replace('"', "\\\"");
            write!(f, "{}{}\"{}\"", m.name, m.op, v)
        }
    }
}

/// Formats one matcher canonically (see [`DisplayMatcher`]).
pub fn matcher_to_string(m: &Matcher) -> String {
    DisplayMatcher(m).to_string()
}

fn build(op: MatchOp, name: &str, value: &str) -> Result<Matcher, ConfigError> {
    // Alertmanager anchors regexes as ^(?:v)$; the model crate's ^(?s:v)$ differs only in
    // whether `.` matches a newline.
    Matcher::new(op, name, value).map_err(|e| match e {
        watchfire_model::MatcherError::Regex { source, .. } => {
            ConfigError::Matcher(format!("error parsing regexp: {source}"))
        }
    })
}

/// Parses a list of matchers in Alertmanager's fallback mode (classic first, UTF-8 second).
pub fn parse_matchers(input: &str) -> Result<Vec<Matcher>, ConfigError> {
    match parse_classic_matchers(input) {
        Ok(v) => Ok(v),
        Err(classic) => parse_utf8_matchers(input).map_err(|_| classic),
    }
}

/// Parses exactly one matcher (amtool's `label=value` arguments); braces are rejected.
pub fn parse_matcher(input: &str) -> Result<Matcher, ConfigError> {
    if input.starts_with('{') || input.ends_with('}') {
        return Err(ConfigError::Matcher(format!(
            "unexpected open or close brace: {input}"
        )));
    }
    let one = |v: Vec<Matcher>| -> Result<Matcher, ConfigError> {
        let n = v.len();
        let mut it = v.into_iter();
        match (it.next(), n) {
            (Some(m), 1) => Ok(m),
            (_, 0) => Err(ConfigError::Matcher("no matchers".into())),
            _ => Err(ConfigError::Matcher(format!(
                "expected 1 matcher, found {n}"
            ))),
        }
    };
    match parse_classic_matcher(input) {
        Ok(m) => Ok(m),
        Err(classic) => parse_utf8_matchers(input)
            .and_then(one)
            .map_err(|_| classic),
    }
}

/// The classic (pre-0.27) parser: optional braces, comma split outside quotes.
pub fn parse_classic_matchers(input: &str) -> Result<Vec<Matcher>, ConfigError> {
    let s = input.strip_prefix('{').unwrap_or(input);
    let s = s.strip_suffix('}').unwrap_or(s);
    let mut tokens = Vec::new();
    let mut tok = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in s.chars() {
        match c {
            ',' if !quoted => {
                tokens.push(std::mem::take(&mut tok));
                continue;
            }
            '"' => {
                if escaped {
                    escaped = false;
                } else {
                    quoted = !quoted;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        tok.push(c);
    }
    if !tok.trim().is_empty() {
        tokens.push(tok.trim().to_string());
    }
    tokens.iter().map(|t| parse_classic_matcher(t)).collect()
}

fn classic_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$")
            .unwrap_or_else(|_| unreachable_regex())
    })
}

#[cold]
fn unreachable_regex() -> regex::Regex {
    // The pattern above is a constant known to compile; this only satisfies the no-panic
    // rule with a regex that never matches.
    regex::Regex::new("$^").unwrap_or_else(|_| unreachable_regex())
}

fn parse_op(s: &str) -> MatchOp {
    match s {
        "!=" => MatchOp::NotEqual,
        "=~" => MatchOp::RegexMatch,
        "!~" => MatchOp::RegexNoMatch,
        _ => MatchOp::Equal,
    }
}

/// One classic matcher: `name op value`, value optionally double-quoted.
pub fn parse_classic_matcher(s: &str) -> Result<Matcher, ConfigError> {
    let caps = classic_re()
        .captures(s)
        .ok_or_else(|| ConfigError::Matcher(format!("bad matcher format: {s}")))?;
    let (name, op, raw_all) = (&caps[1], &caps[2], &caps[3]);
    let mut raw = raw_all;
    let mut expect_quote = false;
    if let Some(r) = raw.strip_prefix('"') {
        raw = r;
        expect_quote = true;
    }
    let unescaped_quote = || {
        ConfigError::Matcher(format!(
            "matcher value contains unescaped double quote: {raw_all}"
        ))
    };
    let mut value = String::new();
    let mut escaped = false;
    let chars: Vec<(usize, char)> = raw.char_indices().collect();
    for (i, c) in chars.iter().copied() {
        let last = i + c.len_utf8() == raw.len();
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                _ => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        match c {
            '\\' if !last => escaped = true,
            '\\' => value.push('\\'),
            '"' => {
                if !expect_quote || !last {
                    return Err(unescaped_quote());
                }
                expect_quote = false;
            }
            _ => value.push(c),
        }
    }
    if expect_quote {
        return Err(unescaped_quote());
    }
    build(parse_op(op), name, &value)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Comma,
    Op(MatchOp),
    Quoted(String),
    Unquoted(String),
}

fn lex(input: &str) -> Result<Vec<(Tok, usize)>, String> {
    let cs: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        let start = i;
        match c {
            '{' => out.push((Tok::Open, start)),
            '}' => out.push((Tok::Close, start)),
            ',' => out.push((Tok::Comma, start)),
            '=' | '!' => {
                let op = match (c, cs.get(i + 1)) {
                    ('=', Some('~')) => {
                        i += 1;
                        MatchOp::RegexMatch
                    }
                    ('=', _) => MatchOp::Equal,
                    ('!', Some('=')) => {
                        i += 1;
                        MatchOp::NotEqual
                    }
                    ('!', Some('~')) => {
                        i += 1;
                        MatchOp::RegexNoMatch
                    }
                    _ => return Err(format!("{start}:{}: expected one of '=~'", start + 1)),
                };
                out.push((Tok::Op(op), start));
            }
            '"' => {
                let mut j = i + 1;
                let mut esc = false;
                loop {
                    match cs.get(j) {
                        None => return Err(format!("{start}:{j}: missing end \"")),
                        Some('\\') if !esc => esc = true,
                        Some('"') if !esc => break,
                        Some(_) => esc = false,
                    }
                    j += 1;
                }
                let lit: String = cs[i..=j].iter().collect();
                out.push((Tok::Quoted(go_unquote(&lit)?), start));
                i = j;
            }
            c if c.is_whitespace() => {}
            c if !is_reserved(c) => {
                let mut j = i;
                while j < cs.len() && !is_reserved(cs[j]) {
                    j += 1;
                }
                out.push((Tok::Unquoted(cs[i..j].iter().collect()), start));
                i = j - 1;
            }
            _ => return Err(format!("{start}:{}: {c}: invalid input", start + 1)),
        }
        i += 1;
    }
    Ok(out)
}

/// Undoes Go's `strconv.Quote` for a double-quoted literal.
fn go_unquote(lit: &str) -> Result<String, String> {
    let inner = &lit[1..lit.len() - 1];
    let mut out = String::new();
    let mut it = inner.chars();
    let bad = || format!("{lit}: invalid input");
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next().ok_or_else(bad)? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'x' | 'u' | 'U' => {
                return Err(bad());
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// The UTF-8 (0.27+) parser: `{a="b", c=~d}`; braces optional; values quoted or bare.
pub fn parse_utf8_matchers(input: &str) -> Result<Vec<Matcher>, ConfigError> {
    let toks = lex(input).map_err(ConfigError::Matcher)?;
    let err = |m: String| ConfigError::Matcher(m);
    let mut i = 0;
    let open = matches!(toks.first(), Some((Tok::Open, _)));
    if open {
        i += 1;
    }
    let mut out = Vec::new();
    loop {
        match toks.get(i) {
            None => {
                if open {
                    return Err(err("expected close brace".into()));
                }
                break;
            }
            Some((Tok::Close, p)) => {
                if !open {
                    return Err(err(format!("0:{}: }}: expected opening brace", p + 1)));
                }
                i += 1;
                if let Some((t, p)) = toks.get(i) {
                    return Err(err(format!("{p}:{}: {t:?}: expected end of input", p + 1)));
                }
                break;
            }
            Some((Tok::Quoted(n) | Tok::Unquoted(n), _)) => {
                let name = n.clone();
                let op = match toks.get(i + 1) {
                    Some((Tok::Op(op), _)) => *op,
                    _ => {
                        return Err(err(
                            "expected an operator such as '=', '!=', '=~' or '!~'".into()
                        ));
                    }
                };
                let value = match toks.get(i + 2) {
                    Some((Tok::Quoted(v) | Tok::Unquoted(v), _)) => v.clone(),
                    _ => return Err(err("expected label value".into())),
                };
                out.push(build(op, &name, &value)?);
                i += 3;
                match toks.get(i) {
                    Some((Tok::Comma, _)) => i += 1,
                    Some((Tok::Close, _)) | None => {}
                    Some((t, p)) => {
                        return Err(err(format!(
                            "{p}:{}: {t:?}: expected a comma or close brace",
                            p + 1
                        )));
                    }
                }
            }
            Some((t, p)) => {
                return Err(err(format!("{p}:{}: {t:?}: expected label name", p + 1)));
            }
        }
    }
    Ok(out)
}
