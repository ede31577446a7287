//! The JSON form of a syntax tree that Prometheus' `/api/v1/parse_query` returns
//! (its UI draws the tree view from it).

use super::check::{lookup, type_name};
use crate::ast::{
    AtModifier, Cardinality, DurationExpr, Expr, Grouping, VectorMatching, VectorSelector,
};
use serde_json::{Value, json};
use watchfire_model::{METRIC_NAME, MatchOp, Matcher};

/// The tree as `/api/v1/parse_query` answers it.
pub fn expr_to_json(e: &Expr) -> Value {
    match e {
        Expr::Number(v) => {
            json!({"type": "numberLiteral", "val": watchfire_model::format_go_float_f(*v)})
        }
        Expr::String(s) => json!({"type": "stringLiteral", "val": s.value}),
        Expr::Paren(e) => json!({"type": "parenExpr", "expr": expr_to_json(e)}),
        Expr::Neg(e) => json!({"type": "unaryExpr", "op": "-", "expr": expr_to_json(e)}),
        Expr::VectorSelector(vs) => json!({
            "type": "vectorSelector",
            "name": vs.name.as_deref().unwrap_or(""),
            "offset": vs.offset_ms,
            "offsetExpr": duration_opt(vs.offset_expr.as_ref()),
            "matchers": matchers(vs),
            "timestamp": timestamp(vs.at.as_ref()),
            "startOrEnd": start_or_end(vs.at.as_ref()),
            "anchored": vs.anchored,
            "smoothed": vs.smoothed,
        }),
        Expr::MatrixSelector {
            selector: vs,
            range_ms,
            range_expr,
        } => json!({
            "type": "matrixSelector",
            "name": vs.name.as_deref().unwrap_or(""),
            "range": range_ms,
            "rangeExpr": duration_opt(range_expr.as_ref()),
            "offset": vs.offset_ms,
            "offsetExpr": duration_opt(vs.offset_expr.as_ref()),
            "matchers": matchers(vs),
            "timestamp": timestamp(vs.at.as_ref()),
            "startOrEnd": start_or_end(vs.at.as_ref()),
            "anchored": vs.anchored,
            "smoothed": vs.smoothed,
        }),
        Expr::Subquery {
            expr,
            range_ms,
            step_ms,
            offset_ms,
            at,
            exprs,
        } => json!({
            "type": "subquery",
            "expr": expr_to_json(expr),
            "range": range_ms,
            "rangeExpr": duration_opt(exprs.range.as_ref()),
            "offset": offset_ms,
            "offsetExpr": duration_opt(exprs.offset.as_ref()),
            "step": step_ms.unwrap_or(0),
            "stepExpr": duration_opt(exprs.step.as_ref()),
            "timestamp": timestamp(at.as_ref()),
            "startOrEnd": start_or_end(at.as_ref()),
        }),
        Expr::Binary {
            op,
            lhs,
            rhs,
            matching,
            return_bool,
        } => json!({
            "type": "binaryExpr",
            "op": op.as_str(),
            "lhs": expr_to_json(lhs),
            "rhs": expr_to_json(rhs),
            "matching": matching.as_ref().map(vector_matching),
            "bool": return_bool,
        }),
        Expr::Aggregate {
            op,
            expr,
            param,
            grouping,
            ..
        } => {
            let (labels, without) = match grouping {
                Grouping::None => (&[][..], false),
                Grouping::By(l) => (l.as_slice(), false),
                Grouping::Without(l) => (l.as_slice(), true),
            };
            json!({
                "type": "aggregation",
                "op": op.as_str(),
                "expr": expr_to_json(expr),
                "param": param.as_deref().map(expr_to_json),
                "grouping": labels,
                "without": without,
            })
        }
        Expr::Call { func, args, .. } => {
            let (arg_types, variadic, ret) = match lookup(func) {
                Some(f) => (
                    f.args.iter().map(|t| type_name(*t)).collect::<Vec<_>>(),
                    f.variadic,
                    type_name(f.ret),
                ),
                None => (Vec::new(), 0, "vector"),
            };
            json!({
                "type": "call",
                "func": {
                    "name": func,
                    "argTypes": arg_types,
                    "variadic": variadic,
                    "returnType": ret,
                },
                "args": args.iter().map(expr_to_json).collect::<Vec<_>>(),
            })
        }
    }
}

fn matchers(vs: &VectorSelector) -> Vec<Value> {
    let m = |m: &Matcher| {
        let t = match m.op {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        };
        json!({"name": m.name, "value": m.value, "type": t})
    };
    // Prometheus lists the matcher of a name written before the braces last.
    let (named, rest) = match (&vs.name, vs.matchers.split_first()) {
        (Some(_), Some((first, rest))) if first.name == METRIC_NAME => (Some(first), rest),
        _ => (None, vs.matchers.as_slice()),
    };
    rest.iter().chain(named).map(m).collect()
}

fn timestamp(at: Option<&AtModifier>) -> Value {
    match at {
        Some(AtModifier::Timestamp(t)) => json!(t),
        _ => Value::Null,
    }
}

fn start_or_end(at: Option<&AtModifier>) -> Value {
    match at {
        Some(AtModifier::Start) => json!("start"),
        Some(AtModifier::End) => json!("end"),
        _ => Value::Null,
    }
}

fn vector_matching(m: &VectorMatching) -> Value {
    let (card, include): (&str, &[String]) = match &m.card {
        Cardinality::OneToOne => ("one-to-one", &[]),
        Cardinality::ManyToOne(l) => ("many-to-one", l),
        Cardinality::OneToMany(l) => ("one-to-many", l),
        Cardinality::ManyToMany => ("many-to-many", &[]),
    };
    json!({
        "card": card,
        "labels": m.labels,
        "on": m.on,
        "include": include,
        "fillValues": {"lhs": m.fill_lhs, "rhs": m.fill_rhs},
    })
}

fn duration_opt(d: Option<&DurationExpr>) -> Value {
    d.map_or(Value::Null, |d| duration(d, false))
}

fn duration(d: &DurationExpr, wrapped: bool) -> Value {
    let node = |op: &str, lhs: Value, rhs: Value| json!({"type": "durationExpr", "op": op, "lhs": lhs, "rhs": rhs, "wrapped": wrapped});
    match d {
        DurationExpr::Number {
            secs,
            duration: is_dur,
        } if !wrapped => {
            json!({"type": "numberLiteral", "val": watchfire_model::format_go_float_f(*secs), "duration": is_dur})
        }
        // A parenthesized literal is a wrapped unary plus, as in Prometheus.
        DurationExpr::Number { .. } => node("+", Value::Null, duration(d, false)),
        DurationExpr::Step => node("step", Value::Null, Value::Null),
        DurationExpr::Range => node("range", Value::Null, Value::Null),
        DurationExpr::MinOf(a, b) => node("min_of", duration(a, false), duration(b, false)),
        DurationExpr::MaxOf(a, b) => node("max_of", duration(a, false), duration(b, false)),
        DurationExpr::Neg(e) => node("-", Value::Null, duration(e, false)),
        DurationExpr::Paren(e) => duration(e, true),
        DurationExpr::Binary { op, lhs, rhs } => {
            node(op.as_str(), duration(lhs, false), duration(rhs, false))
        }
    }
}
