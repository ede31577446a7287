//! The PromQL lexer: the whole query is tokenized up front.
//!
//! Like Prometheus' lexer it has modes (statements, inside `{...}`, inside `[...]`),
//! and a lexical error becomes an [`Kind::Error`] token that ends the stream, so the
//! parser reports it only when it gets there (a syntax error before it wins).

use crate::ast::AggregateOp;

/// Token kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Eof,
    /// A lexical error; the message is in [`Token::error`].
    Error,
    Identifier,
    MetricIdentifier,
    Number,
    Duration,
    String,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    /// `=`
    Eql,
    // Operators.
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eqlc,
    Neq,
    Lte,
    Lss,
    Gte,
    Gtr,
    EqlRegex,
    NeqRegex,
    At,
    Land,
    Lor,
    Lunless,
    Atan2,
    Agg(AggregateOp),
    // Keywords.
    Bool,
    By,
    GroupLeft,
    GroupRight,
    Fill,
    FillLeft,
    FillRight,
    Ignoring,
    Offset,
    Smoothed,
    Anchored,
    On,
    Without,
    // Preprocessors.
    Start,
    End,
    Step,
    Range,
    MaxOf,
    MinOf,
}

impl Kind {
    pub(crate) fn is_operator(self) -> bool {
        use Kind::*;
        matches!(
            self,
            Add | Sub
                | Mul
                | Div
                | Mod
                | Pow
                | Eqlc
                | Neq
                | Lte
                | Lss
                | Gte
                | Gtr
                | EqlRegex
                | NeqRegex
                | At
                | Land
                | Lor
                | Lunless
                | Atan2
        )
    }

    pub(crate) fn is_keyword(self) -> bool {
        use Kind::*;
        matches!(
            self,
            Bool | By
                | GroupLeft
                | GroupRight
                | Fill
                | FillLeft
                | FillRight
                | Ignoring
                | Offset
                | Smoothed
                | Anchored
                | On
                | Without
        )
    }

    /// Tokens that may name a metric (Prometheus' `metric_identifier`).
    pub(crate) fn is_metric_identifier(self) -> bool {
        use Kind::*;
        matches!(
            self,
            Identifier
                | MetricIdentifier
                | Agg(_)
                | By
                | Fill
                | FillLeft
                | FillRight
                | Land
                | Lor
                | Lunless
                | Offset
                | Without
                | Start
                | End
                | Step
                | Range
                | Anchored
                | Smoothed
                | MaxOf
                | MinOf
        )
    }

    /// Tokens usable as a label name in grouping lists (`maybe_label`).
    pub(crate) fn is_maybe_label(self) -> bool {
        use Kind::*;
        self.is_metric_identifier()
            || matches!(self, Bool | GroupLeft | GroupRight | Ignoring | On | Atan2)
    }
}

/// A token: its kind and where it is in the input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Kind,
    /// Byte offset of the start.
    pub pos: usize,
    /// Byte offset just past the end.
    pub end: usize,
    /// The message of an [`Kind::Error`] token.
    pub error: Option<String>,
}

fn keyword(word: &str) -> Option<Kind> {
    let lower = word.to_ascii_lowercase();
    if let Some(op) = AggregateOp::from_name(&lower) {
        return Some(Kind::Agg(op));
    }
    Some(match lower.as_str() {
        "and" => Kind::Land,
        "or" => Kind::Lor,
        "unless" => Kind::Lunless,
        "atan2" => Kind::Atan2,
        "offset" => Kind::Offset,
        "smoothed" => Kind::Smoothed,
        "anchored" => Kind::Anchored,
        "by" => Kind::By,
        "without" => Kind::Without,
        "on" => Kind::On,
        "ignoring" => Kind::Ignoring,
        "group_left" => Kind::GroupLeft,
        "group_right" => Kind::GroupRight,
        "fill" => Kind::Fill,
        "fill_left" => Kind::FillLeft,
        "fill_right" => Kind::FillRight,
        "bool" => Kind::Bool,
        "start" => Kind::Start,
        "end" => Kind::End,
        "step" => Kind::Step,
        "range" => Kind::Range,
        "max_of" => Kind::MaxOf,
        "min_of" => Kind::MinOf,
        "inf" | "nan" => Kind::Number,
        _ => return None,
    })
}

fn duration_keyword(word: &str) -> Option<Kind> {
    match word.to_ascii_lowercase().as_str() {
        "step" => Some(Kind::Step),
        "range" => Some(Kind::Range),
        "max_of" => Some(Kind::MaxOf),
        "min_of" => Some(Kind::MinOf),
        _ => None,
    }
}

pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_alpha(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_alnum(c: char) -> bool {
    is_alpha(c) || c.is_ascii_digit()
}

/// Which state the lexer is in (mirrors Prometheus' state functions).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Statements,
    Braces,
    /// Right after `[` or an operator inside brackets.
    DurationExpr,
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    tokens: Vec<Token>,
    mode: Mode,
    paren_depth: i64,
    bracket_open: bool,
    got_colon: bool,
    got_duration: bool,
    string_open: char,
}

/// Tokenizes `input`. The last token is [`Kind::Eof`] or [`Kind::Error`];
/// comments are dropped.
pub(crate) fn lex(input: &str) -> Vec<Token> {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        tokens: Vec::new(),
        mode: Mode::Statements,
        paren_depth: 0,
        bracket_open: false,
        got_colon: false,
        got_duration: false,
        string_open: '"',
    };
    loop {
        let step = match l.mode {
            Mode::Statements => l.statements(),
            Mode::Braces => l.braces(),
            Mode::DurationExpr => l.duration_expr(),
        };
        if let Err(msg) = step {
            l.tokens.push(Token {
                kind: Kind::Error,
                pos: l.start,
                end: input.len(),
                error: Some(msg),
            });
            break;
        }
        if l.tokens.last().is_some_and(|t| t.kind == Kind::Eof) {
            break;
        }
    }
    l.tokens
}

type Step = Result<(), String>;

impl Lexer<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.input[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn is(&self, valid: &str) -> bool {
        self.peek().is_some_and(|c| valid.contains(c))
    }

    fn emit(&mut self, kind: Kind) {
        self.tokens.push(Token {
            kind,
            pos: self.start,
            end: self.pos,
            error: None,
        });
        self.start = self.pos;
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.next();
        }
        self.start = self.pos;
    }

    fn line_comment(&mut self) {
        while self.peek().is_some_and(|c| c != '\n' && c != '\r') {
            self.next();
        }
        self.start = self.pos;
    }

    fn statements(&mut self) -> Step {
        if self.input[self.pos..].starts_with('#') {
            self.line_comment();
            return Ok(());
        }
        let Some(r) = self.next() else {
            if self.paren_depth != 0 {
                return Err("unclosed left parenthesis".into());
            }
            if self.bracket_open {
                return Err("unclosed left bracket".into());
            }
            self.emit(Kind::Eof);
            return Ok(());
        };
        match r {
            ',' => self.emit(Kind::Comma),
            c if is_space(c) => self.skip_spaces(),
            '*' => self.emit(Kind::Mul),
            '/' => self.emit(Kind::Div),
            '%' => self.emit(Kind::Mod),
            '+' => self.emit(Kind::Add),
            '-' => self.emit(Kind::Sub),
            '^' => self.emit(Kind::Pow),
            '=' => match self.peek() {
                Some('=') => {
                    self.next();
                    self.emit(Kind::Eqlc);
                }
                Some('~') => return Err("unexpected character after '=': '~'".into()),
                _ => self.emit(Kind::Eql),
            },
            '!' => match self.next() {
                Some('=') => self.emit(Kind::Neq),
                other => {
                    return Err(format!(
                        "unexpected character after '!': {}",
                        go_quote_rune(other)
                    ));
                }
            },
            '<' => {
                if self.accept("=") {
                    self.emit(Kind::Lte);
                } else {
                    self.emit(Kind::Lss);
                }
            }
            '>' => {
                if self.accept("=") {
                    self.emit(Kind::Gte);
                } else {
                    self.emit(Kind::Gtr);
                }
            }
            c if c.is_ascii_digit()
                || (c == '.' && self.peek().is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.pos = self.start;
                return self.number_or_duration();
            }
            '"' | '\'' => {
                self.string_open = r;
                return self.string();
            }
            '`' => {
                self.string_open = r;
                return self.raw_string();
            }
            c if is_alpha(c) || c == ':' => {
                if !self.bracket_open {
                    self.pos = self.start;
                    self.keyword_or_identifier();
                    return Ok(());
                }
                if c == ':' {
                    if self.got_colon {
                        return Err("unexpected colon ':'".into());
                    }
                    self.emit(Kind::Colon);
                    self.got_colon = true;
                    return Ok(());
                }
                if self.duration_keyword() {
                    return Ok(());
                }
                return Err(format!(
                    "unexpected character: {}, expected ':'",
                    go_quote_rune(Some(c))
                ));
            }
            '(' => {
                self.emit(Kind::LParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.emit(Kind::RParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    // Prometheus reports this instead of the `)` token.
                    self.tokens.pop();
                    return Err("unexpected right parenthesis ')'".into());
                }
            }
            '{' => {
                self.emit(Kind::LBrace);
                self.mode = Mode::Braces;
            }
            '[' => {
                if self.bracket_open {
                    return Err("unexpected left bracket '['".into());
                }
                self.got_colon = false;
                self.emit(Kind::LBracket);
                self.skip_spaces();
                self.bracket_open = true;
                self.mode = Mode::DurationExpr;
            }
            ']' => {
                if !self.bracket_open {
                    return Err("unexpected right bracket ']'".into());
                }
                self.emit(Kind::RBracket);
                self.bracket_open = false;
            }
            '@' => self.emit(Kind::At),
            other => {
                return Err(format!(
                    "unexpected character: {}",
                    go_quote_rune(Some(other))
                ));
            }
        }
        Ok(())
    }

    fn braces(&mut self) -> Step {
        if self.input[self.pos..].starts_with('#') {
            self.line_comment();
            return Ok(());
        }
        let Some(r) = self.next() else {
            return Err("unexpected end of input inside braces".into());
        };
        match r {
            c if is_space(c) => self.skip_spaces(),
            c if is_alpha(c) => {
                while self.peek().is_some_and(is_alnum) {
                    self.next();
                }
                self.emit(Kind::Identifier);
            }
            ',' => self.emit(Kind::Comma),
            '"' | '\'' => {
                self.string_open = r;
                return self.string();
            }
            '`' => {
                self.string_open = r;
                return self.raw_string();
            }
            '=' => {
                if self.accept("~") {
                    self.emit(Kind::EqlRegex);
                } else {
                    self.emit(Kind::Eql);
                }
            }
            '!' => match self.next() {
                Some('~') => self.emit(Kind::NeqRegex),
                Some('=') => self.emit(Kind::Neq),
                other => {
                    return Err(format!(
                        "unexpected character after '!' inside braces: {}",
                        go_quote_rune(other)
                    ));
                }
            },
            '{' => return Err("unexpected left brace '{'".into()),
            '}' => {
                self.emit(Kind::RBrace);
                self.mode = Mode::Statements;
            }
            other => {
                return Err(format!(
                    "unexpected character inside braces: {}",
                    go_quote_rune(Some(other))
                ));
            }
        }
        Ok(())
    }

    fn duration_expr(&mut self) -> Step {
        let Some(r) = self.next() else {
            return Err("unexpected end of input in duration expression".into());
        };
        match r {
            ']' => {
                self.emit(Kind::RBracket);
                self.bracket_open = false;
                self.got_colon = false;
                self.mode = Mode::Statements;
            }
            ':' => {
                self.emit(Kind::Colon);
                if !self.got_duration || self.got_colon {
                    self.tokens.pop();
                }
                if !self.got_duration {
                    return Err("unexpected colon before duration in duration expression".into());
                }
                if self.got_colon {
                    return Err("unexpected repeated colon in duration expression".into());
                }
                self.got_colon = true;
            }
            '(' => {
                self.emit(Kind::LParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.emit(Kind::RParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    // Prometheus reports this instead of the `)` token.
                    self.tokens.pop();
                    return Err("unexpected right parenthesis ')'".into());
                }
            }
            c if is_space(c) => self.skip_spaces(),
            '+' => self.emit(Kind::Add),
            '-' => self.emit(Kind::Sub),
            '*' => self.emit(Kind::Mul),
            '/' => self.emit(Kind::Div),
            '%' => self.emit(Kind::Mod),
            '^' => self.emit(Kind::Pow),
            ',' => self.emit(Kind::Comma),
            c if matches!(c.to_ascii_lowercase(), 's' | 'r' | 'm') => {
                if !self.duration_keyword() {
                    return Err(format!(
                        "unexpected character in duration expression: {}",
                        go_quote_rune(Some(c))
                    ));
                }
            }
            c if c.is_ascii_digit()
                || (c == '.' && self.peek().is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.pos = self.start;
                self.got_duration = true;
                self.number_or_duration()?;
                // Prometheus goes back to the statement state after a number.
                self.mode = Mode::Statements;
            }
            other => {
                return Err(format!(
                    "unexpected character in duration expression: {}",
                    go_quote_rune(Some(other))
                ));
            }
        }
        Ok(())
    }

    /// Scans `step`, `range`, `min_of`, `max_of` (the first letter is consumed).
    fn duration_keyword(&mut self) -> bool {
        while self.peek().is_some_and(is_alpha) {
            self.next();
        }
        match duration_keyword(&self.input[self.start..self.pos]) {
            Some(k) => {
                self.emit(k);
                true
            }
            None => false,
        }
    }

    fn keyword_or_identifier(&mut self) {
        while self.peek().is_some_and(|c| is_alnum(c) || c == ':') {
            self.next();
        }
        let word = &self.input[self.start..self.pos];
        match keyword(word) {
            Some(k @ (Kind::Fill | Kind::FillLeft | Kind::FillRight)) => {
                // Only a keyword when a `(` follows, so `fill` stays a metric name.
                let rest = self.input[self.pos..].trim_start_matches(is_space);
                if rest.starts_with('(') {
                    self.emit(k);
                } else {
                    self.emit(Kind::Identifier);
                }
            }
            Some(k) => self.emit(k),
            None if word.contains(':') => self.emit(Kind::MetricIdentifier),
            None => self.emit(Kind::Identifier),
        }
    }

    fn number_or_duration(&mut self) -> Step {
        if self.scan_number() {
            self.emit(Kind::Number);
            return Ok(());
        }
        if self.accept_remaining_duration() {
            self.emit(Kind::Duration);
            return Ok(());
        }
        Err(format!(
            "bad number or duration syntax: {}",
            go_quote(&self.input[self.start..self.pos])
        ))
    }

    fn accept_remaining_duration(&mut self) -> bool {
        if !self.accept("smhdwy") {
            return false;
        }
        self.accept("s");
        while self.accept("0123456789") {
            while self.accept("0123456789") {}
            if !self.accept("smhdw") {
                return false;
            }
            self.accept("s");
        }
        match self.peek() {
            Some(c) if is_alnum(c) => {
                self.next();
                false
            }
            _ => true,
        }
    }

    /// Scans a number (decimal, hex, with `_` separators); false if what follows
    /// makes it something else (the position is left where scanning stopped).
    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut digits = "0123456789";
        if self.accept("0") && self.accept("xX") {
            self.accept("_");
            digits = "0123456789abcdefABCDEF";
        }
        self.accept(".");
        self.accept(digits);
        let mut dot = false;
        let mut exp = false;
        let all = |d: &str| format!("{d}._eE");
        let set = all(digits);
        while self.is(&set) {
            if self.is(".") && dot {
                self.accept(".");
                return false;
            }
            if self.is("eE") && exp && digits.len() == 10 {
                self.accept("eE");
                return false;
            }
            if self.accept(".") {
                dot = true;
                if self.accept("_.") || digits.len() > 10 {
                    return false;
                }
                continue;
            }
            if digits.len() == 10 && self.accept("eE") {
                exp = true;
                self.accept("+-");
                if self.accept("._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            if self.accept("_") {
                if self.accept("._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            while self.accept(digits) {}
        }
        if self.pos == initial {
            return false;
        }
        !self.peek().is_some_and(is_alnum)
    }

    fn string(&mut self) -> Step {
        loop {
            match self.next() {
                Some('\\') => self.escape()?,
                None | Some('\n') => return Err("unterminated quoted string".into()),
                Some(c) if c == self.string_open => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::String);
        Ok(())
    }

    fn escape(&mut self) -> Step {
        let ch = self.next();
        let (mut n, base, max): (u32, u32, u32) = match ch {
            Some(c) if "abfnrtv\\".contains(c) || c == self.string_open => return Ok(()),
            Some('0'..='7') => {
                self.pos -= 1;
                (3, 8, 255)
            }
            Some('x') => (2, 16, 255),
            Some('u') => (4, 16, char::MAX as u32),
            Some('U') => (8, 16, char::MAX as u32),
            None => return Err("escape sequence not terminated".into()),
            Some(c) => return Err(format!("unknown escape sequence {}", go_unicode(c))),
        };
        let mut x: u32 = 0;
        while n > 0 {
            let c = self.next();
            let d = c.and_then(|c| c.to_digit(16)).unwrap_or(16);
            if d >= base {
                return Err(match c {
                    None => "escape sequence not terminated".into(),
                    Some(c) => format!("illegal character {} in escape sequence", go_unicode(c)),
                });
            }
            x = x.wrapping_mul(base).wrapping_add(d);
            n -= 1;
        }
        if x > max || (0xD800..0xE000).contains(&x) {
            return Err("escape sequence is an invalid Unicode code point".into());
        }
        Ok(())
    }

    fn raw_string(&mut self) -> Step {
        loop {
            match self.next() {
                None => return Err("unterminated raw string".into()),
                Some(c) if c == self.string_open => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::String);
        Ok(())
    }
}

/// Go's `%q` of a string (`strconv.Quote`).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%q` of a rune (`'x'`).
fn go_quote_rune(c: Option<char>) -> String {
    match c {
        None => "'\\uffff'".into(), // Go prints eof (-1) this way
        Some('\'') => "'\\''".into(),
        Some(c) => {
            let q = go_quote(&c.to_string());
            let inner = &q[1..q.len() - 1];
            let inner = if inner == "\\\"" { "\"" } else { inner };
            format!("'{inner}'")
        }
    }
}

/// Go's `%#U` of a rune: `U+0067 'g'`.
fn go_unicode(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}
