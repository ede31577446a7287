//! Numbers, durations and (experimental) duration expressions in `[...]` and
//! after `offset`.

use super::lexer::{Kind, Token, go_quote};
use super::{PResult, Parser};
use crate::ast::{BinaryOp, DurationExpr};

/// A parsed duration: a plain literal (seconds) or an expression.
pub(crate) struct Dur {
    pub expr: DurationExpr,
    pub start: usize,
    pub end: usize,
}

impl Dur {
    /// Milliseconds and, when written as an expression, the expression (the
    /// milliseconds are then computed per query).
    pub fn split(self) -> (i64, Option<DurationExpr>) {
        match self.expr {
            DurationExpr::Number { secs, .. } => ((secs * 1000.0).round() as i64, None),
            e => (0, Some(e)),
        }
    }

    fn literal(&self) -> Option<f64> {
        match self.expr {
            DurationExpr::Number { secs, .. } => Some(secs),
            _ => None,
        }
    }
}

/// Whether a token can start a duration expression.
pub(crate) fn starts_duration(k: Kind) -> bool {
    matches!(
        k,
        Kind::Number
            | Kind::Duration
            | Kind::Add
            | Kind::Sub
            | Kind::LParen
            | Kind::Step
            | Kind::Range
            | Kind::MinOf
            | Kind::MaxOf
    )
}

/// The largest duration in seconds (an `int64` of nanoseconds).
const MAX_SECS: f64 = 9_223_372_036.854_775;

fn dur_prec(k: Kind) -> Option<(BinaryOp, u8)> {
    Some(match k {
        Kind::Add => (BinaryOp::Add, 1),
        Kind::Sub => (BinaryOp::Sub, 1),
        Kind::Mul => (BinaryOp::Mul, 2),
        Kind::Div => (BinaryOp::Div, 2),
        Kind::Mod => (BinaryOp::Mod, 2),
        Kind::Pow => (BinaryOp::Pow, 3),
        _ => return None,
    })
}

impl Parser<'_> {
    /// A number literal's value, as Go's `ParseInt(s, 0, 64)` then `ParseFloat`.
    pub(crate) fn number(&mut self, t: &Token) -> f64 {
        let s = self.token_text(t);
        match parse_go_number(s) {
            Some(v) if v.is_infinite() && !s.to_ascii_lowercase().contains("inf") => {
                self.add_error(
                    t.pos,
                    t.end,
                    format!(
                        "error parsing number: strconv.ParseFloat: parsing {}: value out of range",
                        go_quote(s)
                    ),
                );
                v
            }
            Some(v) => v,
            None => {
                self.add_error(
                    t.pos,
                    t.end,
                    format!(
                        "error parsing number: strconv.ParseFloat: parsing {}: invalid syntax",
                        go_quote(s)
                    ),
                );
                0.0
            }
        }
    }

    /// A duration literal's value in seconds.
    pub(crate) fn duration_secs(&mut self, t: &Token) -> f64 {
        let s = self.token_text(t);
        match watchfire_model::parse_duration_ms(s) {
            Some(ms) => ms as f64 / 1000.0,
            None => {
                self.add_error(t.pos, t.end, duration_error(s));
                0.0
            }
        }
    }

    fn experimental(&mut self, start: usize, end: usize) {
        if !self.opts().experimental_duration_expr {
            self.add_error(
                start,
                end,
                "experimental duration expression is not enabled",
            );
        }
    }

    /// A range or step: must be positive when it is a literal.
    pub(crate) fn parse_positive_duration(&mut self) -> PResult<Dur> {
        let d = self.parse_duration_expr(0)?;
        if let Some(v) = d.literal()
            && v <= 0.0
        {
            self.add_error(d.start, d.end, "duration must be greater than 0");
            return Ok(Dur {
                expr: DurationExpr::Number {
                    secs: 0.0,
                    duration: false,
                },
                ..d
            });
        }
        Ok(d)
    }

    /// What follows `offset`: a signed literal, `step()`, `range()`, `min_of`/`max_of`
    /// or a parenthesized expression; `foo offset 1m + 1` adds 1 to the result.
    pub(crate) fn parse_offset_duration(&mut self) -> PResult<Dur> {
        let sign = match self.peek_kind() {
            k @ (Kind::Add | Kind::Sub) => Some((k, self.advance())),
            _ => None,
        };
        let t = self.peek().clone();
        let atom = match t.kind {
            Kind::Number
            | Kind::Duration
            | Kind::Step
            | Kind::Range
            | Kind::MinOf
            | Kind::MaxOf
            | Kind::LParen => self.parse_duration_atom()?,
            _ => {
                return Err(self.unexpected("offset", "number, duration, step(), or range()"));
            }
        };
        Ok(match sign {
            None => atom,
            Some((k, op)) => self.apply_sign(k == Kind::Sub, op.pos, atom),
        })
    }

    fn apply_sign(&mut self, neg: bool, pos: usize, d: Dur) -> Dur {
        match d.expr {
            DurationExpr::Number { secs, duration } => {
                let secs = if neg { -secs } else { secs };
                if secs.abs() > MAX_SECS {
                    self.add_error(pos, pos + 1, "duration out of range");
                }
                Dur {
                    expr: DurationExpr::Number { secs, duration },
                    start: pos,
                    end: d.end,
                }
            }
            e if neg => Dur {
                expr: DurationExpr::Neg(Box::new(e)),
                start: pos,
                end: d.end,
            },
            e => Dur {
                expr: e,
                start: pos,
                end: d.end,
            },
        }
    }

    pub(crate) fn parse_duration_expr(&mut self, min_prec: u8) -> PResult<Dur> {
        self.enter()?;
        let mut lhs = match self.peek_kind() {
            k @ (Kind::Add | Kind::Sub) => {
                let op = self.advance();
                let inner = self.parse_duration_expr(3)?;
                self.apply_sign(k == Kind::Sub, op.pos, inner)
            }
            _ => self.parse_duration_atom()?,
        };
        while let Some((op, prec)) = dur_prec(self.peek_kind()) {
            if prec < min_prec {
                break;
            }
            let op_tok = self.advance();
            let next = if op == BinaryOp::Pow { prec } else { prec + 1 };
            let rhs = self.parse_duration_expr(next)?;
            self.experimental(lhs.start, lhs.end);
            if matches!(op, BinaryOp::Div | BinaryOp::Mod) && rhs.literal() == Some(0.0) {
                let msg = if op == BinaryOp::Div {
                    "division by zero"
                } else {
                    "modulo by zero"
                };
                self.add_error(op_tok.pos, op_tok.end, msg);
            }
            lhs = Dur {
                start: lhs.start,
                end: rhs.end,
                expr: DurationExpr::Binary {
                    op,
                    lhs: Box::new(lhs.expr),
                    rhs: Box::new(rhs.expr),
                },
            };
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn parse_duration_atom(&mut self) -> PResult<Dur> {
        let t = self.peek().clone();
        match t.kind {
            Kind::Number | Kind::Duration => {
                self.advance();
                let (secs, duration) = if t.kind == Kind::Number {
                    (self.number(&t), false)
                } else {
                    (self.duration_secs(&t), true)
                };
                if secs.abs() > MAX_SECS {
                    self.add_error(t.pos, t.end, "duration out of range");
                }
                Ok(Dur {
                    expr: DurationExpr::Number { secs, duration },
                    start: t.pos,
                    end: t.end,
                })
            }
            Kind::Step | Kind::Range => {
                self.advance();
                self.expect(Kind::LParen, "", "")?;
                let close = self.expect(Kind::RParen, "", "")?;
                self.experimental(t.pos, close.end);
                Ok(Dur {
                    expr: if t.kind == Kind::Step {
                        DurationExpr::Step
                    } else {
                        DurationExpr::Range
                    },
                    start: t.pos,
                    end: close.end,
                })
            }
            Kind::MinOf | Kind::MaxOf => {
                self.advance();
                self.expect(Kind::LParen, "", "")?;
                let a = self.parse_duration_expr(0)?;
                self.expect(Kind::Comma, "", "")?;
                let b = self.parse_duration_expr(0)?;
                let close = self.expect(Kind::RParen, "", "")?;
                self.experimental(t.pos, close.end);
                let (a, b) = (Box::new(a.expr), Box::new(b.expr));
                Ok(Dur {
                    expr: if t.kind == Kind::MinOf {
                        DurationExpr::MinOf(a, b)
                    } else {
                        DurationExpr::MaxOf(a, b)
                    },
                    start: t.pos,
                    end: close.end,
                })
            }
            Kind::LParen => {
                self.advance();
                let inner = self.parse_duration_expr(0)?;
                let close = self.expect(Kind::RParen, "", "")?;
                self.experimental(inner.start, inner.end);
                Ok(Dur {
                    expr: DurationExpr::Paren(Box::new(inner.expr)),
                    start: t.pos,
                    end: close.end,
                })
            }
            _ => Err(self.unexpected("", "")),
        }
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseFloat(s, 64)`.
pub(crate) fn parse_go_number(s: &str) -> Option<f64> {
    if s.contains('_') && !underscores_ok(s) {
        return None;
    }
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        if let Ok(v) = i64::from_str_radix(hex, 16) {
            return Some(v as f64);
        }
        // Too big for an int64: Go's ParseFloat reads hex only with a `p` exponent.
        return u128::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    if lower.len() > 1
        && lower.starts_with('0')
        && lower.bytes().all(|b| b.is_ascii_digit())
        && let Ok(v) = i64::from_str_radix(&lower[1..], 8)
    {
        return Some(v as f64);
    }
    if let Ok(v) = lower.parse::<i64>() {
        return Some(v as f64);
    }
    match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if lower.bytes().any(|b| b.is_ascii_alphabetic() && b != b'e') {
        return None;
    }
    lower.parse::<f64>().ok()
}

/// Go's rule: `_` only between digits (or after a base prefix).
fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut saw = b'^';
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1], b'x' | b'X') {
        i = 2;
        saw = b'0';
    }
    let hex = i == 2;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Prometheus' message for a duration that does not parse.
fn duration_error(s: &str) -> String {
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        if digits == 0 || unit_len == 0 {
            break;
        }
        if !matches!(unit, "y" | "w" | "d" | "h" | "m" | "s" | "ms") {
            return format!(
                "unknown unit {} in duration {}",
                go_quote(unit),
                go_quote(s)
            );
        }
        rest = &rest[unit_len..];
    }
    format!("not a valid duration string: {}", go_quote(s))
}
