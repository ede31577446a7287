//! The parser facade: `promql-parser` underneath, our own [`Expr`] on top.

use crate::QueryError;
use crate::ast::{
    AggregateOp, AtModifier, BinaryOp, Cardinality, Expr, Grouping, Pos, Positions, ValueType,
    VectorMatching, VectorSelector,
};
use promql_parser::parser as pp;
use std::time::{Duration, SystemTime};
use watchfire_model::{METRIC_NAME, MatchOp, Matcher};

/// Parses a PromQL expression into Watchfire's syntax tree.
pub fn parse(query: &str) -> Result<Expr, QueryError> {
    let rewritten = rewrite_backticks(query);
    let parsed = pp::parse(&rewritten).map_err(|message| parse_error(query, message))?;
    let mut sites = CallSites {
        sites: call_sites(query),
        next: 0,
    };
    convert(&parsed, &mut sites).map_err(|message| parse_error(query, message))
}

fn parse_error(query: &str, message: String) -> QueryError {
    // promql-parser reports no positions; point at the end of the input for a
    // generic syntax error (where most of them are noticed) and at 1:1 otherwise.
    let position = if message == "invalid promql query" {
        let line = query.lines().count().max(1);
        let col = query
            .lines()
            .last()
            .map(|l| l.chars().count() + 1)
            .unwrap_or(1);
        format!("{line}:{col}")
    } else {
        "1:1".to_string()
    };
    QueryError::Parse { position, message }
}

/// Backtick strings are raw in PromQL but promql-parser processes escapes in them:
/// rewrite each into an equivalent double-quoted string.
fn rewrite_backticks(q: &str) -> String {
    if !q.contains('`') {
        return q.to_string();
    }
    let mut out = String::with_capacity(q.len() + 8);
    let mut chars = q.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                out.push(c);
                while let Some(d) = chars.next() {
                    out.push(d);
                    if d == '\\' {
                        if let Some(e) = chars.next() {
                            out.push(e);
                        }
                    } else if d == c {
                        break;
                    }
                }
            }
            '#' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '`' => {
                out.push('"');
                for d in chars.by_ref() {
                    match d {
                        '`' => break,
                        '\\' => out.push_str("\\\\"),
                        '"' => out.push_str("\\\""),
                        '\n' => out.push_str("\\n"),
                        other => out.push(other),
                    }
                }
                out.push('"');
            }
            other => out.push(other),
        }
    }
    out
}

fn dur_ms(d: &Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn offset_ms(o: &Option<pp::Offset>) -> i64 {
    match o {
        None => 0,
        Some(pp::Offset::Pos(d)) => dur_ms(d),
        Some(pp::Offset::Neg(d)) => -dur_ms(d),
    }
}

fn at(a: &Option<pp::AtModifier>) -> Option<AtModifier> {
    a.as_ref().map(|a| match a {
        pp::AtModifier::Start => AtModifier::Start,
        pp::AtModifier::End => AtModifier::End,
        pp::AtModifier::At(t) => AtModifier::Timestamp(system_time_ms(t)),
    })
}

fn system_time_ms(t: &SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => dur_ms(&d),
        Err(e) => -dur_ms(&e.duration()),
    }
}

fn matcher(m: &promql_parser::label::Matcher) -> Result<Matcher, String> {
    use promql_parser::label::MatchOp as P;
    let op = match m.op {
        P::Equal => MatchOp::Equal,
        P::NotEqual => MatchOp::NotEqual,
        P::Re(_) => MatchOp::RegexMatch,
        P::NotRe(_) => MatchOp::RegexNoMatch,
    };
    Matcher::new(op, m.name.clone(), m.value.clone()).map_err(|e| e.to_string())
}

fn selector(vs: &pp::VectorSelector) -> Result<VectorSelector, String> {
    if !vs.matchers.or_matchers.is_empty() {
        return Err("'or' in label matchers is not supported".to_string());
    }
    let mut matchers = Vec::new();
    if let Some(name) = &vs.name {
        matchers.push(Matcher::equal(METRIC_NAME, name.clone()));
    }
    for m in &vs.matchers.matchers {
        matchers.push(matcher(m)?);
    }
    Ok(VectorSelector {
        name: vs.name.clone(),
        matchers,
        offset_ms: offset_ms(&vs.offset),
        at: at(&vs.at),
    })
}

fn binary_op(s: &str) -> Result<BinaryOp, String> {
    Ok(match s {
        "+" => BinaryOp::Add,
        "-" => BinaryOp::Sub,
        "*" => BinaryOp::Mul,
        "/" => BinaryOp::Div,
        "%" => BinaryOp::Mod,
        "^" => BinaryOp::Pow,
        "atan2" => BinaryOp::Atan2,
        "==" => BinaryOp::Eql,
        "!=" => BinaryOp::Neq,
        ">" => BinaryOp::Gtr,
        "<" => BinaryOp::Lss,
        ">=" => BinaryOp::Gte,
        "<=" => BinaryOp::Lte,
        "and" => BinaryOp::And,
        "or" => BinaryOp::Or,
        "unless" => BinaryOp::Unless,
        other => return Err(format!("unknown binary operator {other:?}")),
    })
}

fn convert(e: &pp::Expr, cs: &mut CallSites) -> Result<Expr, String> {
    Ok(match e {
        pp::Expr::NumberLiteral(n) => Expr::Number(n.val),
        pp::Expr::StringLiteral(s) => Expr::String(s.val.clone()),
        pp::Expr::VectorSelector(vs) => Expr::VectorSelector(selector(vs)?),
        pp::Expr::MatrixSelector(ms) => Expr::MatrixSelector {
            selector: selector(&ms.vs)?,
            range_ms: dur_ms(&ms.range),
        },
        pp::Expr::Subquery(sq) => Expr::Subquery {
            expr: Box::new(convert(&sq.expr, cs)?),
            range_ms: dur_ms(&sq.range),
            step_ms: sq.step.as_ref().map(dur_ms),
            offset_ms: offset_ms(&sq.offset),
            at: at(&sq.at),
        },
        pp::Expr::Paren(p) => Expr::Paren(Box::new(convert(&p.expr, cs)?)),
        pp::Expr::Unary(u) => match convert(&u.expr, cs)? {
            Expr::Number(v) => Expr::Number(-v),
            inner => Expr::Neg(Box::new(inner)),
        },
        pp::Expr::Binary(b) => {
            let op = binary_op(&b.op.to_string())?;
            let lhs = convert(&b.lhs, cs)?;
            let rhs = convert(&b.rhs, cs)?;
            let both_vectors =
                lhs.value_type() == ValueType::Vector && rhs.value_type() == ValueType::Vector;
            let mut matching = VectorMatching::default();
            let mut return_bool = false;
            if let Some(m) = &b.modifier {
                return_bool = m.return_bool;
                matching.card = match &m.card {
                    pp::VectorMatchCardinality::OneToOne => Cardinality::OneToOne,
                    pp::VectorMatchCardinality::ManyToMany => Cardinality::ManyToMany,
                    pp::VectorMatchCardinality::ManyToOne(l) => {
                        Cardinality::ManyToOne(l.labels.clone())
                    }
                    pp::VectorMatchCardinality::OneToMany(l) => {
                        Cardinality::OneToMany(l.labels.clone())
                    }
                };
                if let Some(lm) = &m.matching {
                    matching.on = lm.is_include();
                    matching.labels = lm.labels().labels.clone();
                }
            }
            if op.is_set() {
                matching.card = Cardinality::ManyToMany;
            }
            Expr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                matching: both_vectors.then_some(matching),
                return_bool,
            }
        }
        pp::Expr::Aggregate(a) => {
            let name = a.op.to_string().to_lowercase();
            let op = AggregateOp::from_name(&name)
                .ok_or_else(|| format!("unknown aggregation operator {name:?}"))?;
            let grouping = match &a.modifier {
                None => Grouping::None,
                Some(pp::LabelModifier::Include(l)) => Grouping::By(l.labels.clone()),
                Some(pp::LabelModifier::Exclude(l)) => Grouping::Without(l.labels.clone()),
            };
            let pos = cs.take(&name);
            let param = match &a.param {
                Some(p) => Some(Box::new(convert(p, cs)?)),
                None => None,
            };
            Expr::Aggregate {
                op,
                expr: Box::new(convert(&a.expr, cs)?),
                param,
                grouping,
                pos,
            }
        }
        pp::Expr::Call(c) => {
            let pos = cs.take(c.func.name);
            Expr::Call {
                func: c.func.name.to_string(),
                args: c
                    .args
                    .args
                    .iter()
                    .map(|a| convert(a, cs))
                    .collect::<Result<_, _>>()?,
                pos,
            }
        }
        pp::Expr::Extension(_) => return Err("extension expressions are not supported".to_string()),
    })
}

/// Calls and aggregations found in the query text, in source order.
struct CallSites {
    sites: Vec<(String, Positions)>,
    next: usize,
}

impl CallSites {
    /// The positions of the next call named `name` (pre-order traversal of the
    /// tree visits calls in source order).
    fn take(&mut self, name: &str) -> Positions {
        let found = self.sites[self.next..]
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name));
        match found {
            Some(i) => {
                self.next += i + 1;
                self.sites[self.next - 1].1.clone()
            }
            None => Positions::default(),
        }
    }
}

const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "atan2",
    "start",
    "end",
];

/// Finds `name (` call sites (and `agg by (...) (` aggregations) with the start of
/// each argument, skipping strings and comments.
fn call_sites(q: &str) -> Vec<(String, Positions)> {
    let b = q.as_bytes();
    let pos_of = |off: usize| {
        let before = &q[..off];
        let line = before.matches('\n').count() + 1;
        let col = off - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        Pos { line, col }
    };
    // Which bytes are code (not inside a string or comment).
    let mut code = vec![true; b.len()];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            quote @ (b'"' | b'\'' | b'`') => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != quote {
                    if b[i] == b'\\' && quote != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                let end = (i + 1).min(b.len());
                code[start..end].iter_mut().for_each(|c| *c = false);
                i = end;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    code[i] = false;
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b':';
    let skip_ws = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        j
    };
    let ident_end = |mut j: usize| {
        while j < b.len() && is_ident(b[j]) {
            j += 1;
        }
        j
    };
    // The offset just past the bracket matching the one at `open`.
    let close_of = |open: usize| {
        let mut depth = 0usize;
        for (j, &c) in b.iter().enumerate().skip(open) {
            if !code[j] {
                continue;
            }
            match c {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return j + 1;
                    }
                }
                _ => {}
            }
        }
        b.len()
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts_ident = code[i]
            && (b[i].is_ascii_alphabetic() || b[i] == b'_')
            && (i == 0 || !is_ident(b[i - 1]));
        if !starts_ident {
            i += 1;
            continue;
        }
        let end = ident_end(i);
        let name = &q[i..end];
        if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(name)) {
            i = end;
            continue;
        }
        let mut j = skip_ws(end);
        // `sum by (a) (x)` / `sum without (a) (x)`.
        if AggregateOp::from_name(&name.to_ascii_lowercase()).is_some() {
            let k = ident_end(j);
            let word = &q[j..k];
            if word.eq_ignore_ascii_case("by") || word.eq_ignore_ascii_case("without") {
                let g = skip_ws(k);
                if g < b.len() && b[g] == b'(' {
                    j = skip_ws(close_of(g));
                }
            }
        }
        if j < b.len() && b[j] == b'(' && code[j] {
            let close = close_of(j);
            let mut args = Vec::new();
            let mut depth = 0usize;
            let mut expect_arg = true;
            for k in j..close {
                let c = b[k];
                if depth == 1 && expect_arg && !c.is_ascii_whitespace() && !(code[k] && c == b')') {
                    args.push(pos_of(k));
                    expect_arg = false;
                }
                if !code[k] {
                    continue;
                }
                match c {
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                    b',' if depth == 1 => expect_arg = true,
                    _ => {}
                }
            }
            out.push((
                name.to_string(),
                Positions {
                    start: Some(pos_of(i)),
                    args,
                },
            ));
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_are_raw() {
        assert_eq!(
            rewrite_backticks(r#"x{a=~`foo\.bar`}"#),
            r#"x{a=~"foo\\.bar"}"#
        );
        assert_eq!(rewrite_backticks(r#"x{a="`"}"#), r#"x{a="`"}"#);
        let e = parse(r#"label_replace(x, "a", `$1`, "b", `(\d+)`)"#).unwrap();
        match e {
            Expr::Call { args, .. } => assert_eq!(args[4], Expr::String(r"(\d+)".into())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn positions() {
        let e = parse("sum by (job) (rate(x[5m])) + label_join(y, \"a\", \",\", \"b\", \"c\")")
            .unwrap();
        let Expr::Binary { lhs, .. } = &e else {
            panic!()
        };
        let Expr::Aggregate { pos, expr, .. } = lhs.as_ref() else {
            panic!()
        };
        assert_eq!(pos.start, Some(Pos { line: 1, col: 1 }));
        assert_eq!(pos.arg(0), Some(Pos { line: 1, col: 15 }));
        let Expr::Call { pos, .. } = expr.as_ref() else {
            panic!()
        };
        assert_eq!(pos.arg(0), Some(Pos { line: 1, col: 20 }));
        let Expr::Binary { rhs, .. } = &e else {
            panic!()
        };
        let Expr::Call { pos, .. } = rhs.as_ref() else {
            panic!()
        };
        assert_eq!(pos.arg(3), Some(Pos { line: 1, col: 54 }));
        let sites = call_sites("histogram_quantile(0.8, series)");
        assert_eq!(sites[0].1.arg(1), Some(Pos { line: 1, col: 25 }));
        let sites = call_sites("quantile without(point)(NaN, data)");
        assert_eq!(sites[0].1.arg(0), Some(Pos { line: 1, col: 25 }));
    }

    #[test]
    fn selectors_convert() {
        let e = parse("foo{a=\"b\"} offset -5m @ 10").unwrap();
        match e {
            Expr::VectorSelector(vs) => {
                assert_eq!(vs.matchers.len(), 2);
                assert_eq!(vs.offset_ms, -300_000);
                assert_eq!(vs.at, Some(AtModifier::Timestamp(10_000)));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse("1 +"), Err(QueryError::Parse { .. })));
    }
}
