//! Watchfire's own PromQL parser: a moded lexer ([`lexer`]) and a recursive-descent
//! parser with precedence climbing for binary operators, producing [`Expr`].
//!
//! Errors are reported the way Prometheus' parser reports them: syntax errors stop
//! parsing; errors found while building nodes ("unknown function", "ranges only
//! allowed for vector selectors") are collected and parsing goes on; type checks
//! run only when neither happened. The first error wins. Each node carries its
//! type-check errors in the order Prometheus' `checkAST` would find them.

mod check;
mod durations;
mod json;
mod lexer;
mod printer;
mod strings;
#[cfg(test)]
mod tests;

pub use check::function_return_type;
pub use json::expr_to_json;
pub use printer::format_expr;

use crate::QueryError;
use crate::ast::{
    AggregateOp, AtModifier, BinaryOp, Cardinality, Expr, Grouping, Pos, Positions, ValueType,
    VectorMatching, VectorSelector,
};
use lexer::{Kind, Token, go_quote};
use watchfire_model::{METRIC_NAME, MatchOp, Matcher};

/// Feature flags of the parser; all off by default, as in Prometheus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Experimental functions and aggregations (`limitk`, `info`, `mad_over_time`, ...).
    pub experimental_functions: bool,
    /// Duration expressions (`foo[5m + 1m]`, `offset (step() * 2)`).
    pub experimental_duration_expr: bool,
    /// `anchored` and `smoothed` range selector modifiers.
    pub extended_range_selectors: bool,
    /// `fill(v)`, `fill_left(v)`, `fill_right(v)` binary operator modifiers.
    pub binop_fill_modifiers: bool,
}

impl ParseOptions {
    /// Everything enabled (what Prometheus' promqltest scripts run with).
    pub fn all() -> Self {
        ParseOptions {
            experimental_functions: true,
            experimental_duration_expr: true,
            extended_range_selectors: true,
            binop_fill_modifiers: true,
        }
    }
}

/// A parse error with its place, printed like Prometheus: `1:14: parse error: ...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: parse error: {message}")]
pub struct ParseError {
    /// Byte offset where the problem starts.
    pub pos_start: usize,
    /// Byte offset where it ends.
    pub pos_end: usize,
    /// Line, from 1.
    pub line: usize,
    /// Column (bytes from the line start), from 1.
    pub column: usize,
    /// What is wrong, in Prometheus' words.
    pub message: String,
    /// A short suggestion, when one helps.
    pub hint: Option<String>,
}

impl From<ParseError> for QueryError {
    fn from(e: ParseError) -> Self {
        QueryError::Parse {
            position: format!("{}:{}", e.line, e.column),
            message: e.message,
        }
    }
}

/// Parses a PromQL expression with the default (Prometheus default) options.
pub fn parse(query: &str) -> Result<Expr, QueryError> {
    parse_with_options(query, &ParseOptions::default()).map_err(QueryError::from)
}

/// Parses a PromQL expression.
pub fn parse_with_options(query: &str, opts: &ParseOptions) -> Result<Expr, ParseError> {
    let mut p = Parser {
        input: query,
        toks: lexer::lex(query),
        i: 0,
        opts: *opts,
        errors: Vec::new(),
        depth: 0,
    };
    let first = match p.parse_top() {
        Err(e) => e,
        Ok(node) => match p.errors.into_iter().next() {
            Some(e) => e,
            None => match node.checks.into_iter().next() {
                Some(e) => e,
                None => return Ok(node.expr),
            },
        },
    };
    Err(with_hint(first))
}

/// Adds a short suggestion to errors where one helps.
fn with_hint(mut e: ParseError) -> ParseError {
    if e.hint.is_some() {
        return e;
    }
    let m = e.message.as_str();
    e.hint = if m == "comparisons between scalars must use BOOL modifier" {
        Some("write the comparison with bool, like 1 > bool 0".into())
    } else if m == "vector selector must contain at least one non-empty matcher" {
        Some("add a metric name or a matcher that does not match the empty string, like {job=\"api\"}".into())
    } else if m == "ranges only allowed for vector selectors" {
        Some("to evaluate an expression over a range, use a subquery like (expr)[5m:1m]".into())
    } else if m == "unclosed left parenthesis" {
        Some("add the missing \")\"".into())
    } else if m.contains("experimental") && m.contains("not enabled") {
        Some("this syntax is experimental and turned off by default".into())
    } else {
        None
    };
    e
}

/// An expression being built, with its source range and its type-check errors.
pub(crate) struct Node {
    pub expr: Expr,
    pub start: usize,
    pub end: usize,
    pub checks: Vec<ParseError>,
}

impl Node {
    fn ty(&self) -> ValueType {
        self.expr.value_type()
    }
}

/// Nesting limit, so deep input cannot overflow the stack.
const MAX_DEPTH: usize = 128;

pub(crate) struct Parser<'a> {
    input: &'a str,
    toks: Vec<Token>,
    i: usize,
    opts: ParseOptions,
    /// Errors found while building nodes (parsing went on).
    errors: Vec<ParseError>,
    depth: usize,
}

type PResult<T> = Result<T, ParseError>;

// Binary operator precedences, lowest first.
const PREC_OR: u8 = 1;
const PREC_AND: u8 = 2;
const PREC_CMP: u8 = 3;
const PREC_ADD: u8 = 4;
const PREC_MUL: u8 = 5;
const PREC_POW: u8 = 6;

fn binary_op(kind: Kind) -> Option<(BinaryOp, u8)> {
    Some(match kind {
        Kind::Lor => (BinaryOp::Or, PREC_OR),
        Kind::Land => (BinaryOp::And, PREC_AND),
        Kind::Lunless => (BinaryOp::Unless, PREC_AND),
        Kind::Eqlc => (BinaryOp::Eql, PREC_CMP),
        Kind::Neq => (BinaryOp::Neq, PREC_CMP),
        Kind::Lte => (BinaryOp::Lte, PREC_CMP),
        Kind::Lss => (BinaryOp::Lss, PREC_CMP),
        Kind::Gte => (BinaryOp::Gte, PREC_CMP),
        Kind::Gtr => (BinaryOp::Gtr, PREC_CMP),
        Kind::Add => (BinaryOp::Add, PREC_ADD),
        Kind::Sub => (BinaryOp::Sub, PREC_ADD),
        Kind::Mul => (BinaryOp::Mul, PREC_MUL),
        Kind::Div => (BinaryOp::Div, PREC_MUL),
        Kind::Mod => (BinaryOp::Mod, PREC_MUL),
        Kind::Atan2 => (BinaryOp::Atan2, PREC_MUL),
        Kind::Pow => (BinaryOp::Pow, PREC_POW),
        _ => return None,
    })
}

impl<'a> Parser<'a> {
    // ---- token helpers -------------------------------------------------------

    fn peek(&self) -> &Token {
        // The token list always ends with Eof or Error, and we never move past it.
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn peek_kind(&self) -> Kind {
        self.peek().kind
    }

    fn peek_kind_at(&self, ahead: usize) -> Kind {
        self.toks[(self.i + ahead).min(self.toks.len() - 1)].kind
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if !matches!(t.kind, Kind::Eof | Kind::Error) {
            self.i += 1;
        }
        t
    }

    fn text(&self, t: &Token) -> &'a str {
        &self.input[t.pos..t.end]
    }

    pub(crate) fn error_at(
        &self,
        start: usize,
        end: usize,
        message: impl Into<String>,
    ) -> ParseError {
        let start = start.min(self.input.len());
        let before = &self.input[..start];
        let line = before.matches('\n').count() + 1;
        let column = start - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        ParseError {
            pos_start: start,
            pos_end: end.max(start),
            line,
            column,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn pos_of(&self, off: usize) -> Pos {
        let e = self.error_at(off, off, "");
        Pos {
            line: e.line,
            col: e.column,
        }
    }

    /// Records an error found while building a node; parsing goes on.
    pub(crate) fn add_error(&mut self, start: usize, end: usize, message: impl Into<String>) {
        let e = self.error_at(start, end, message);
        self.errors.push(e);
    }

    /// The current token as Prometheus names it in "unexpected ..." messages.
    fn describe(&self, t: &Token) -> String {
        let val = self.text(t);
        let quoted = || {
            if val.chars().count() > 10 {
                let short: String = val.chars().take(10).collect();
                format!("{}...", go_quote(&short))
            } else {
                go_quote(val)
            }
        };
        match t.kind {
            Kind::Eof => "end of input".into(),
            Kind::Error => t.error.clone().unwrap_or_default(),
            Kind::Identifier => format!("identifier {}", go_quote(val)),
            Kind::MetricIdentifier => format!("metric identifier {}", go_quote(val)),
            Kind::Number => format!("number {}", quoted()),
            Kind::Duration => format!("duration {}", quoted()),
            Kind::String => format!("string {}", quoted()),
            Kind::Agg(_) => format!("<aggr:{val}>"),
            k if k.is_operator() => format!("<op:{val}>"),
            k if k.is_keyword() => format!("<{val}>"),
            _ => go_quote(val),
        }
    }

    /// A syntax error at the current token: `unexpected <token> in <context>,
    /// expected <what>`; a lexical error there is reported as itself.
    pub(crate) fn unexpected(&self, context: &str, expected: &str) -> ParseError {
        let t = self.peek();
        if t.kind == Kind::Error {
            return self.error_at(t.pos, t.end, t.error.clone().unwrap_or_default());
        }
        let mut msg = format!("unexpected {}", self.describe(t));
        if !context.is_empty() {
            msg.push_str(" in ");
            msg.push_str(context);
        }
        if !expected.is_empty() {
            msg.push_str(", expected ");
            msg.push_str(expected);
        }
        self.error_at(t.pos, t.end, msg)
    }

    fn expect(&mut self, kind: Kind, context: &str, expected: &str) -> PResult<Token> {
        if self.peek_kind() == kind {
            Ok(self.advance())
        } else {
            Err(self.unexpected(context, expected))
        }
    }

    // ---- expressions ---------------------------------------------------------

    fn parse_top(&mut self) -> PResult<Node> {
        if self.peek_kind() == Kind::Eof {
            return Err(self.error_at(0, 0, "no expression found in input"));
        }
        let node = self.parse_expr(0)?;
        match self.peek_kind() {
            Kind::Eof => Ok(node),
            _ => Err(self.unexpected("", "")),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.peek();
            return Err(self.error_at(t.pos, t.end, "expression nested too deeply"));
        }
        Ok(())
    }

    pub(crate) fn parse_expr(&mut self, min_prec: u8) -> PResult<Node> {
        self.enter()?;
        let mut lhs = self.parse_unary()?;
        while let Some((op, prec)) = binary_op(self.peek_kind()) {
            if prec < min_prec {
                break;
            }
            let op_tok = self.advance();
            let modifiers = self.parse_bin_modifiers()?;
            let next_min = if op == BinaryOp::Pow { prec } else { prec + 1 };
            let rhs = self.parse_expr(next_min)?;
            lhs = self.binary(op, &op_tok, modifiers, lhs, rhs);
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn parse_unary(&mut self) -> PResult<Node> {
        let kind = self.peek_kind();
        if matches!(kind, Kind::Add | Kind::Sub) {
            let op = self.advance();
            let inner = self.parse_expr(PREC_POW)?;
            let start = op.pos;
            let end = inner.end;
            if let Expr::Number(v) = inner.expr {
                let v = if kind == Kind::Sub { -v } else { v };
                return Ok(Node {
                    expr: Expr::Number(v),
                    start,
                    end,
                    checks: inner.checks,
                });
            }
            let mut checks = inner.checks;
            let ty = inner.expr.value_type();
            if !matches!(ty, ValueType::Scalar | ValueType::Vector) {
                checks.push(self.error_at(
                    start,
                    end,
                    format!(
                        "unary expression only allowed on expressions of type scalar or instant vector, got {}",
                        go_quote(check::documented_type(ty))
                    ),
                ));
            }
            let expr = if kind == Kind::Sub {
                Expr::Neg(Box::new(inner.expr))
            } else {
                inner.expr
            };
            return Ok(Node {
                expr,
                start,
                end,
                checks,
            });
        }
        let primary = self.parse_primary()?;
        self.parse_postfix(primary)
    }

    fn parse_primary(&mut self) -> PResult<Node> {
        let t = self.peek().clone();
        match t.kind {
            Kind::Number => {
                self.advance();
                let v = self.number(&t);
                Ok(self.leaf(Expr::Number(v), &t))
            }
            Kind::Duration => {
                self.advance();
                let secs = self.duration_secs(&t);
                Ok(self.leaf(Expr::Number(secs), &t))
            }
            Kind::String => {
                self.advance();
                let s = self.unquote_literal(&t);
                Ok(self.leaf(Expr::String(s), &t))
            }
            Kind::LParen => {
                self.advance();
                let inner = self.parse_expr(0)?;
                let close = self.expect(Kind::RParen, "", "")?;
                Ok(Node {
                    expr: Expr::Paren(Box::new(inner.expr)),
                    start: t.pos,
                    end: close.end,
                    checks: inner.checks,
                })
            }
            Kind::LBrace => self.parse_vector_selector(None),
            Kind::Agg(op)
                if matches!(
                    self.peek_kind_at(1),
                    Kind::LParen | Kind::By | Kind::Without
                ) =>
            {
                self.parse_aggregation(op)
            }
            Kind::Identifier
            | Kind::Start
            | Kind::End
            | Kind::Step
            | Kind::Range
            | Kind::MaxOf
            | Kind::MinOf
                if self.peek_kind_at(1) == Kind::LParen =>
            {
                self.parse_call()
            }
            k if k.is_metric_identifier() => {
                self.advance();
                self.parse_vector_selector(Some(t))
            }
            _ => Err(self.unexpected("", "")),
        }
    }

    fn leaf(&self, expr: Expr, t: &Token) -> Node {
        Node {
            expr,
            start: t.pos,
            end: t.end,
            checks: Vec::new(),
        }
    }

    // ---- selectors -----------------------------------------------------------

    fn parse_vector_selector(&mut self, name_tok: Option<Token>) -> PResult<Node> {
        let name = name_tok.as_ref().map(|t| self.text(t).to_string());
        let start = name_tok.as_ref().map_or(self.peek().pos, |t| t.pos);
        let mut end = name_tok.as_ref().map_or(start, |t| t.end);
        let mut matchers: Vec<Matcher> = Vec::new();
        if let Some(n) = &name {
            matchers.push(Matcher::equal(METRIC_NAME, n.clone()));
        }
        if self.peek_kind() == Kind::LBrace {
            self.advance();
            loop {
                if self.peek_kind() == Kind::RBrace {
                    break;
                }
                if let Some(m) = self.parse_matcher()? {
                    matchers.push(m);
                }
                match self.peek_kind() {
                    Kind::Comma => {
                        self.advance();
                    }
                    Kind::RBrace => break,
                    _ => return Err(self.unexpected("label matching", "\",\" or \"}\"")),
                }
            }
            end = self.advance().end;
        }
        let mut checks = Vec::new();
        match &name {
            Some(n) => {
                for m in matchers.iter().skip(1) {
                    if m.name == METRIC_NAME {
                        checks.push(self.error_at(
                            start,
                            end,
                            format!(
                                "metric name must not be set twice: {} or {}",
                                go_quote(n),
                                go_quote(&m.value)
                            ),
                        ));
                    }
                }
            }
            None => {
                if matchers.iter().all(|m| m.matches("")) {
                    checks.push(self.error_at(
                        start,
                        end,
                        "vector selector must contain at least one non-empty matcher",
                    ));
                }
            }
        }
        Ok(Node {
            expr: Expr::VectorSelector(VectorSelector {
                name,
                matchers,
                offset_ms: 0,
                at: None,
                offset_expr: None,
                anchored: false,
                smoothed: false,
            }),
            start,
            end,
            checks,
        })
    }

    fn parse_matcher(&mut self) -> PResult<Option<Matcher>> {
        let t = self.peek().clone();
        let label = match t.kind {
            Kind::Identifier => self.text(&t).to_string(),
            Kind::String => self.unquote(&t),
            _ => return Err(self.unexpected("label matching", "identifier or \"}\"")),
        };
        self.advance();
        let op = match self.peek_kind() {
            Kind::Eql => MatchOp::Equal,
            Kind::Neq => MatchOp::NotEqual,
            Kind::EqlRegex => MatchOp::RegexMatch,
            Kind::NeqRegex => MatchOp::RegexNoMatch,
            _ if t.kind == Kind::String => {
                // A lone quoted name: `{"metric.name"}`.
                return Ok(Some(Matcher::equal(METRIC_NAME, label)));
            }
            _ => return Err(self.unexpected("label matching", "label matching operator")),
        };
        self.advance();
        let v = self.peek().clone();
        if v.kind != Kind::String {
            return Err(self.unexpected("label matching", "string"));
        }
        self.advance();
        let value = self.unquote(&v);
        match Matcher::new(op, label, value) {
            Ok(m) => Ok(Some(m)),
            Err(e) => {
                self.add_error(t.pos, v.end, e.to_string());
                Ok(None)
            }
        }
    }

    // ---- postfix modifiers ---------------------------------------------------

    fn parse_postfix(&mut self, mut node: Node) -> PResult<Node> {
        loop {
            node = match self.peek_kind() {
                Kind::LBracket => self.parse_range(node)?,
                Kind::Offset => self.parse_offset(node)?,
                Kind::At => self.parse_at(node)?,
                Kind::Anchored | Kind::Smoothed => self.parse_extended(node),
                _ => return Ok(node),
            };
        }
    }

    fn parse_range(&mut self, node: Node) -> PResult<Node> {
        let open = self.advance();
        if matches!(self.peek_kind(), Kind::Step | Kind::Range)
            && self.peek_kind_at(1) != Kind::LParen
        {
            self.advance();
            return Err(self.unexpected(
                "subquery or range selector",
                "number, duration, step(), or range()",
            ));
        }
        if !durations::starts_duration(self.peek_kind()) {
            return Err(self.unexpected(
                "subquery or range selector",
                "number, duration, step(), or range()",
            ));
        }
        let range = self.parse_positive_duration()?;
        match self.peek_kind() {
            Kind::RBracket => {
                let close = self.advance();
                Ok(self.matrix(node, range, &open, &close))
            }
            Kind::Colon => {
                self.advance();
                let step = match self.peek_kind() {
                    Kind::RBracket => None,
                    k if durations::starts_duration(k) => {
                        let s = self.parse_positive_duration()?;
                        if self.peek_kind() != Kind::RBracket {
                            return Err(self.unexpected("subquery selector", "\"]\""));
                        }
                        Some(s)
                    }
                    _ => {
                        return Err(self.unexpected(
                            "subquery selector",
                            "number, duration, step(), range(), or \"]\"",
                        ));
                    }
                };
                let close = self.advance();
                let mut checks = node.checks;
                let ty = node.expr.value_type();
                if ty != ValueType::Vector {
                    checks.push(self.error_at(
                        node.start,
                        close.end,
                        format!(
                            "subquery is only allowed on instant vector, got {} instead",
                            check::type_name(ty)
                        ),
                    ));
                }
                let mut exprs = crate::ast::SubqueryDurationExprs::default();
                let (range_ms, re) = range.split();
                exprs.range = re;
                let step_ms = match step {
                    Some(s) => {
                        let (ms, se) = s.split();
                        exprs.step = se;
                        Some(ms)
                    }
                    None => None,
                };
                Ok(Node {
                    expr: Expr::Subquery {
                        expr: Box::new(node.expr),
                        range_ms,
                        step_ms,
                        offset_ms: 0,
                        at: None,
                        exprs: Box::new(exprs),
                    },
                    start: node.start,
                    end: close.end,
                    checks,
                })
            }
            _ => Err(self.unexpected("subquery or range", "\":\" or \"]\"")),
        }
    }

    fn matrix(&mut self, node: Node, range: durations::Dur, open: &Token, close: &Token) -> Node {
        let msg = match &node.expr {
            Expr::VectorSelector(vs) if vs.offset_ms != 0 || vs.offset_expr.is_some() => {
                Some("no offset modifiers allowed before range")
            }
            Expr::VectorSelector(vs) if vs.at.is_some() => {
                Some("no @ modifiers allowed before range")
            }
            Expr::VectorSelector(_) => None,
            _ => Some("ranges only allowed for vector selectors"),
        };
        if let Some(m) = msg {
            self.add_error(open.pos, close.end, m);
        }
        let Expr::VectorSelector(selector) = node.expr else {
            return Node {
                end: close.end,
                ..node
            };
        };
        let (range_ms, range_expr) = range.split();
        Node {
            expr: Expr::MatrixSelector {
                selector,
                range_ms,
                range_expr,
            },
            start: node.start,
            end: close.end,
            checks: node.checks,
        }
    }

    fn parse_offset(&mut self, mut node: Node) -> PResult<Node> {
        self.advance();
        let d = self.parse_offset_duration()?;
        let end = self.toks[self.i.saturating_sub(1)].end;
        let (ms, expr) = d.split();
        let target: Option<(&mut i64, &mut Option<crate::ast::DurationExpr>)> = match &mut node.expr
        {
            Expr::VectorSelector(vs) => Some((&mut vs.offset_ms, &mut vs.offset_expr)),
            Expr::MatrixSelector { selector, .. } => {
                Some((&mut selector.offset_ms, &mut selector.offset_expr))
            }
            Expr::Subquery {
                offset_ms, exprs, ..
            } => Some((offset_ms, &mut exprs.offset)),
            _ => None,
        };
        match target {
            None => self.add_error(
                node.start,
                node.end,
                "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
            ),
            Some((o, oe)) => {
                if *o != 0 || oe.is_some() {
                    let (s, e) = (node.start, node.end);
                    self.add_error(s, e, "offset may not be set multiple times");
                } else {
                    *o = ms;
                    *oe = expr;
                }
            }
        }
        node.end = end;
        Ok(node)
    }

    fn parse_at(&mut self, mut node: Node) -> PResult<Node> {
        self.advance();
        let at = match self.peek_kind() {
            Kind::Start | Kind::End => {
                let kw = self.advance();
                self.expect(Kind::LParen, "@", "timestamp")?;
                self.expect(Kind::RParen, "@", "timestamp")?;
                if kw.kind == Kind::Start {
                    AtModifier::Start
                } else {
                    AtModifier::End
                }
            }
            _ => {
                let neg = match self.peek_kind() {
                    Kind::Add => {
                        self.advance();
                        false
                    }
                    Kind::Sub => {
                        self.advance();
                        true
                    }
                    _ => false,
                };
                let t = self.peek().clone();
                let v = match t.kind {
                    Kind::Number => self.number(&t),
                    Kind::Duration => self.duration_secs(&t),
                    _ => return Err(self.unexpected("@", "timestamp")),
                };
                self.advance();
                let v = if neg { -v } else { v };
                if !v.is_finite() || v >= i64::MAX as f64 || v <= i64::MIN as f64 {
                    self.add_error(
                        node.start,
                        node.end,
                        format!(
                            "timestamp out of bounds for @ modifier: {}",
                            check::go_float_f(v)
                        ),
                    );
                }
                AtModifier::Timestamp((v * 1000.0).round() as i64)
            }
        };
        let end = self.toks[self.i.saturating_sub(1)].end;
        let slot = match &mut node.expr {
            Expr::VectorSelector(vs) => Some(&mut vs.at),
            Expr::MatrixSelector { selector, .. } => Some(&mut selector.at),
            Expr::Subquery { at, .. } => Some(at),
            _ => None,
        };
        match slot {
            None => self.add_error(
                node.start,
                node.end,
                "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
            ),
            Some(slot) if slot.is_some() => {
                let (s, e) = (node.start, node.end);
                self.add_error(s, e, "@ <timestamp> may not be set multiple times");
            }
            Some(slot) => *slot = Some(at),
        }
        node.end = end;
        Ok(node)
    }

    fn parse_extended(&mut self, mut node: Node) -> Node {
        let t = self.advance();
        let anchored = t.kind == Kind::Anchored;
        let name = if anchored { "anchored" } else { "smoothed" };
        let (s, e) = (node.start, node.end);
        node.end = t.end;
        if !self.opts.extended_range_selectors {
            self.add_error(
                s,
                e,
                format!("{name} modifier is experimental and not enabled"),
            );
            return node;
        }
        let vs = match &mut node.expr {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector { selector, .. } => selector,
            Expr::Subquery { .. } => {
                self.add_error(
                    s,
                    e,
                    format!("{name} modifier is not supported for subqueries"),
                );
                return node;
            }
            _ => {
                self.add_error(s, e, format!("{name} modifier not implemented"));
                return node;
            }
        };
        if anchored {
            vs.anchored = true;
        } else {
            vs.smoothed = true;
        }
        if vs.anchored && vs.smoothed {
            self.add_error(
                s,
                e,
                "anchored and smoothed modifiers cannot be used together",
            );
        }
        node
    }

    // ---- binary expressions ------------------------------------------------

    fn parse_bin_modifiers(&mut self) -> PResult<BinModifiers> {
        let mut m = BinModifiers::default();
        if self.peek_kind() == Kind::Bool {
            self.advance();
            m.return_bool = true;
        }
        if matches!(self.peek_kind(), Kind::On | Kind::Ignoring) {
            m.on = self.advance().kind == Kind::On;
            m.matching = Some(self.parse_grouping_labels()?);
            if let k @ (Kind::GroupLeft | Kind::GroupRight) = self.peek_kind() {
                self.advance();
                let include = if self.peek_kind() == Kind::LParen {
                    self.parse_grouping_labels()?
                } else {
                    Vec::new()
                };
                m.card = if k == Kind::GroupLeft {
                    Cardinality::ManyToOne(include)
                } else {
                    Cardinality::OneToMany(include)
                };
            }
        }
        // `fill(v)`, or `fill_left(v)` and/or `fill_right(v)` in either order.
        match self.peek_kind() {
            Kind::Fill => {
                self.advance();
                let v = self.parse_fill_value()?;
                m.fill_lhs = Some(v);
                m.fill_rhs = Some(v);
            }
            first @ (Kind::FillLeft | Kind::FillRight) => {
                for kind in [first, other_side(first)] {
                    if self.peek_kind() != kind {
                        break;
                    }
                    self.advance();
                    let v = Some(self.parse_fill_value()?);
                    if kind == Kind::FillLeft {
                        m.fill_lhs = v;
                    } else {
                        m.fill_rhs = v;
                    }
                }
            }
            _ => {}
        }
        Ok(m)
    }

    fn parse_fill_value(&mut self) -> PResult<f64> {
        self.expect(Kind::LParen, "", "")?;
        let neg = match self.peek_kind() {
            Kind::Sub => {
                self.advance();
                true
            }
            Kind::Add => {
                self.advance();
                false
            }
            _ => false,
        };
        let t = self.peek().clone();
        let v = match t.kind {
            Kind::Number => self.number(&t),
            Kind::Duration => self.duration_secs(&t),
            _ => return Err(self.unexpected("", "")),
        };
        self.advance();
        self.expect(Kind::RParen, "", "")?;
        Ok(if neg { -v } else { v })
    }

    pub(crate) fn parse_grouping_labels(&mut self) -> PResult<Vec<String>> {
        if self.peek_kind() != Kind::LParen {
            return Err(self.unexpected("grouping opts", "\"(\""));
        }
        self.advance();
        let mut labels = Vec::new();
        loop {
            let t = self.peek().clone();
            match t.kind {
                Kind::RParen => break,
                Kind::String => {
                    self.advance();
                    let v = self.unquote(&t);
                    if v.is_empty() {
                        self.add_error(
                            t.pos,
                            t.end,
                            format!("invalid label name for grouping: {}", go_quote(&v)),
                        );
                    }
                    labels.push(v);
                }
                k if k.is_maybe_label() => {
                    self.advance();
                    labels.push(self.text(&t).to_string());
                }
                _ => return Err(self.unexpected("grouping opts", "label")),
            }
            match self.peek_kind() {
                Kind::Comma => {
                    self.advance();
                }
                Kind::RParen => break,
                _ => return Err(self.unexpected("grouping opts", "\",\" or \")\"")),
            }
        }
        self.advance();
        Ok(labels)
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        op_tok: &Token,
        m: BinModifiers,
        lhs: Node,
        rhs: Node,
    ) -> Node {
        let start = lhs.start;
        let end = rhs.end;
        let has_fill = m.fill_lhs.is_some() || m.fill_rhs.is_some();
        if has_fill && !self.opts.binop_fill_modifiers {
            self.add_error(
                start,
                end,
                "binop fill modifiers are experimental and not enabled",
            );
        }
        let (lt, rt) = (lhs.ty(), rhs.ty());
        let mut checks = lhs.checks;
        checks.extend(rhs.checks);
        let op_range = (op_tok.pos, rhs.start);
        let err = |p: &Self, s: usize, e: usize, msg: String| p.error_at(s, e, msg);
        if m.return_bool && !op.is_comparison() {
            checks.push(err(
                self,
                op_range.0,
                op_range.1,
                "bool modifier can only be used on comparison operators".into(),
            ));
        }
        if op.is_comparison()
            && !m.return_bool
            && lt == ValueType::Scalar
            && rt == ValueType::Scalar
        {
            checks.push(err(
                self,
                op_range.0,
                op_range.1,
                "comparisons between scalars must use BOOL modifier".into(),
            ));
        }
        let mut card = m.card.clone();
        if op.is_set() && card == Cardinality::OneToOne {
            card = Cardinality::ManyToMany;
        }
        let labels = m.matching.clone().unwrap_or_default();
        if m.on {
            let include = match &card {
                Cardinality::ManyToOne(l) | Cardinality::OneToMany(l) => l.as_slice(),
                _ => &[],
            };
            for l in &labels {
                if include.contains(l) {
                    checks.push(err(
                        self,
                        op_range.0,
                        op_range.1,
                        format!(
                            "label {} must not occur in ON and GROUP clause at once",
                            go_quote(l)
                        ),
                    ));
                }
            }
        }
        let ok_type = |t: ValueType| matches!(t, ValueType::Scalar | ValueType::Vector);
        if !ok_type(lt) {
            checks.push(err(
                self,
                lhs.start,
                lhs.end,
                "binary expression must contain only scalar and instant vector types".into(),
            ));
        }
        if !ok_type(rt) {
            checks.push(err(
                self,
                rhs.start,
                rhs.end,
                "binary expression must contain only scalar and instant vector types".into(),
            ));
        }
        let both_vectors = lt == ValueType::Vector && rt == ValueType::Vector;
        if !both_vectors {
            if !labels.is_empty() {
                checks.push(err(
                    self,
                    start,
                    end,
                    "vector matching only allowed between instant vectors".into(),
                ));
            }
            if has_fill {
                checks.push(err(
                    self,
                    start,
                    end,
                    "filling in missing series only allowed between instant vectors".into(),
                ));
            }
        } else if op.is_set() {
            if matches!(card, Cardinality::ManyToOne(_) | Cardinality::OneToMany(_)) {
                checks.push(err(
                    self,
                    start,
                    end,
                    format!(
                        "no grouping allowed for {} operation",
                        go_quote(op.as_str())
                    ),
                ));
            }
            if has_fill {
                checks.push(err(
                    self,
                    start,
                    end,
                    "filling in missing series not allowed for set operators".into(),
                ));
            }
        }
        if (lt == ValueType::Scalar || rt == ValueType::Scalar) && op.is_set() {
            checks.push(err(
                self,
                start,
                end,
                format!(
                    "set operator {} not allowed in binary scalar expression",
                    go_quote(op.as_str())
                ),
            ));
        }
        let matching = both_vectors.then_some(VectorMatching {
            card,
            on: m.on,
            labels,
            fill_lhs: m.fill_lhs,
            fill_rhs: m.fill_rhs,
        });
        Node {
            expr: Expr::Binary {
                op,
                lhs: Box::new(lhs.expr),
                rhs: Box::new(rhs.expr),
                matching,
                return_bool: m.return_bool,
            },
            start,
            end,
            checks,
        }
    }

    // ---- calls and aggregations ---------------------------------------------

    /// `( args )`; returns the arguments and the closing parenthesis.
    fn parse_call_body(&mut self) -> PResult<(Vec<Node>, Token)> {
        self.expect(Kind::LParen, "", "")?;
        let mut args = Vec::new();
        if self.peek_kind() == Kind::RParen {
            return Ok((args, self.advance()));
        }
        loop {
            args.push(self.parse_expr(0)?);
            match self.peek_kind() {
                Kind::Comma => {
                    let comma = self.advance();
                    if self.peek_kind() == Kind::RParen {
                        self.add_error(
                            comma.pos,
                            comma.end,
                            "trailing commas not allowed in function call args",
                        );
                        return Ok((args, self.advance()));
                    }
                }
                Kind::RParen => return Ok((args, self.advance())),
                _ => return Err(self.unexpected("", "")),
            }
        }
    }

    fn parse_aggregation(&mut self, op: AggregateOp) -> PResult<Node> {
        let op_tok = self.advance();
        let mut grouping = Grouping::None;
        let by_first = matches!(self.peek_kind(), Kind::By | Kind::Without);
        if by_first {
            grouping = self.parse_agg_modifier()?;
        }
        let (args, close) = self.parse_call_body()?;
        let mut end = close.end;
        if !by_first && matches!(self.peek_kind(), Kind::By | Kind::Without) {
            grouping = self.parse_agg_modifier()?;
            end = self.toks[self.i.saturating_sub(1)].end;
        }
        check::aggregation(self, op, &op_tok, grouping, args, end)
    }

    fn parse_agg_modifier(&mut self) -> PResult<Grouping> {
        let without = self.advance().kind == Kind::Without;
        let labels = self.parse_grouping_labels()?;
        Ok(if without {
            Grouping::Without(labels)
        } else {
            Grouping::By(labels)
        })
    }

    fn parse_call(&mut self) -> PResult<Node> {
        let name_tok = self.advance();
        let (args, close) = self.parse_call_body()?;
        check::call(self, &name_tok, args, close.end)
    }

    pub(crate) fn positions(&self, start: usize, args: &[Node]) -> Positions {
        Positions {
            start: Some(self.pos_of(start)),
            args: args.iter().map(|a| self.pos_of(a.start)).collect(),
        }
    }

    pub(crate) fn opts(&self) -> &ParseOptions {
        &self.opts
    }

    pub(crate) fn token_text(&self, t: &Token) -> &'a str {
        self.text(t)
    }
}

fn other_side(k: Kind) -> Kind {
    if k == Kind::FillLeft {
        Kind::FillRight
    } else {
        Kind::FillLeft
    }
}

/// Modifiers between a binary operator and its right operand.
#[derive(Default)]
struct BinModifiers {
    return_bool: bool,
    on: bool,
    matching: Option<Vec<String>>,
    card: Cardinality,
    fill_lhs: Option<f64>,
    fill_rhs: Option<f64>,
}
