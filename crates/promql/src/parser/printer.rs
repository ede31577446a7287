//! Prints an [`Expr`] the way Prometheus' `Expr.String()` does (the canonical
//! one-line form `/api/v1/format_query` answers with).

use super::lexer::go_quote;
use crate::ast::{
    AtModifier, Cardinality, DurationExpr, Expr, Grouping, VectorMatching, VectorSelector,
};
use watchfire_model::{METRIC_NAME, MatchOp, Matcher};

/// The canonical text of an expression; parsing it gives the same tree.
pub fn format_expr(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e);
    out
}

fn write_expr(out: &mut String, e: &Expr) {
    match e {
        Expr::Number(v) => out.push_str(&watchfire_model::format_go_float_f(*v)),
        Expr::String(s) => out.push_str(&go_quote(&s.value)),
        Expr::VectorSelector(vs) => write_selector(out, vs, None),
        Expr::MatrixSelector {
            selector,
            range_ms,
            range_expr,
        } => {
            let range = match range_expr {
                Some(d) => format_duration_expr(d),
                None => format_duration(*range_ms),
            };
            write_selector(out, selector, Some(&range));
        }
        Expr::Subquery {
            expr,
            range_ms,
            step_ms,
            offset_ms,
            at,
            exprs,
        } => {
            write_expr(out, expr);
            out.push('[');
            match &exprs.range {
                Some(d) => out.push_str(&format_duration_expr(d)),
                None => out.push_str(&format_duration(*range_ms)),
            }
            out.push(':');
            match (&exprs.step, step_ms) {
                (Some(d), _) => out.push_str(&format_duration_expr(d)),
                (None, Some(s)) if *s != 0 => out.push_str(&format_duration(*s)),
                _ => {}
            }
            out.push(']');
            write_at(out, at.as_ref());
            write_offset(out, *offset_ms, exprs.offset.as_ref());
        }
        Expr::Paren(e) => {
            out.push('(');
            write_expr(out, e);
            out.push(')');
        }
        Expr::Neg(e) => {
            out.push('-');
            write_expr(out, e);
        }
        Expr::Binary {
            op,
            lhs,
            rhs,
            matching,
            return_bool,
        } => {
            write_expr(out, lhs);
            out.push(' ');
            out.push_str(op.as_str());
            if *return_bool {
                out.push_str(" bool");
            }
            if let Some(m) = matching {
                write_matching(out, m);
            }
            out.push(' ');
            write_expr(out, rhs);
        }
        Expr::Aggregate {
            op,
            expr,
            param,
            grouping,
            ..
        } => {
            out.push_str(op.as_str());
            match grouping {
                Grouping::None => {}
                Grouping::By(l) if l.is_empty() => {}
                Grouping::By(l) => {
                    out.push_str(" by (");
                    write_labels(out, l);
                    out.push_str(") ");
                }
                Grouping::Without(l) => {
                    out.push_str(" without (");
                    write_labels(out, l);
                    out.push_str(") ");
                }
            }
            out.push('(');
            if let Some(p) = param {
                write_expr(out, p);
                out.push_str(", ");
            }
            write_expr(out, expr);
            out.push(')');
        }
        Expr::Call { func, args, .. } => {
            out.push_str(func);
            out.push('(');
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, a);
            }
            out.push(')');
        }
    }
}

fn write_matching(out: &mut String, m: &VectorMatching) {
    let grouped = matches!(
        m.card,
        Cardinality::ManyToOne(_) | Cardinality::OneToMany(_)
    );
    if !m.labels.is_empty() || m.on || grouped {
        out.push_str(if m.on { " on (" } else { " ignoring (" });
        write_labels(out, &m.labels);
        out.push(')');
    }
    match &m.card {
        Cardinality::ManyToOne(l) => {
            out.push_str(" group_left (");
            write_labels(out, l);
            out.push(')');
        }
        Cardinality::OneToMany(l) => {
            out.push_str(" group_right (");
            write_labels(out, l);
            out.push(')');
        }
        _ => {}
    }
    match (m.fill_lhs, m.fill_rhs) {
        (Some(l), Some(r)) if l == r || (l.is_nan() && r.is_nan()) => {
            out.push_str(&format!(
                " fill ({})",
                watchfire_model::format_go_float_f(l)
            ));
        }
        (l, r) => {
            if let Some(l) = l {
                out.push_str(&format!(
                    " fill_left ({})",
                    watchfire_model::format_go_float_f(l)
                ));
            }
            if let Some(r) = r {
                out.push_str(&format!(
                    " fill_right ({})",
                    watchfire_model::format_go_float_f(r)
                ));
            }
        }
    }
}

fn is_legacy_label(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn is_legacy_metric(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c == ':' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c == ':' || c.is_ascii_alphanumeric())
}

fn write_labels(out: &mut String, labels: &[String]) {
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if is_legacy_label(l) {
            out.push_str(l);
        } else {
            out.push_str(&go_quote(l));
        }
    }
}

fn matcher_string(m: &Matcher) -> String {
    let name = if is_legacy_label(&m.name) {
        m.name.clone()
    } else {
        go_quote(&m.name)
    };
    let op = match m.op {
        MatchOp::Equal => "=",
        MatchOp::NotEqual => "!=",
        MatchOp::RegexMatch => "=~",
        MatchOp::RegexNoMatch => "!~",
    };
    format!("{name}{op}{}", go_quote(&m.value))
}

fn write_selector(out: &mut String, vs: &VectorSelector, range: Option<&str>) {
    let name = vs.name.as_deref().unwrap_or("");
    let mut labels: Vec<String> = vs
        .matchers
        .iter()
        .filter(|m| {
            !(m.name == METRIC_NAME
                && m.op == MatchOp::Equal
                && m.value == name
                && !name.is_empty())
        })
        .map(matcher_string)
        .collect();
    labels.sort();
    if is_legacy_metric(name) || name.is_empty() {
        out.push_str(name);
    } else {
        // A name that needs quoting goes inside the braces.
        labels.insert(0, go_quote(name));
    }
    if !labels.is_empty() {
        out.push('{');
        out.push_str(&labels.join(","));
        out.push('}');
    }
    if let Some(r) = range {
        out.push('[');
        out.push_str(r);
        out.push(']');
        if vs.anchored {
            out.push_str(" anchored");
        } else if vs.smoothed {
            out.push_str(" smoothed");
        }
        write_at(out, vs.at.as_ref());
        write_offset(out, vs.offset_ms, vs.offset_expr.as_ref());
        return;
    }
    write_at(out, vs.at.as_ref());
    if vs.anchored {
        out.push_str(" anchored");
    } else if vs.smoothed {
        out.push_str(" smoothed");
    }
    write_offset(out, vs.offset_ms, vs.offset_expr.as_ref());
}

fn write_at(out: &mut String, at: Option<&AtModifier>) {
    match at {
        None => {}
        Some(AtModifier::Start) => out.push_str(" @ start()"),
        Some(AtModifier::End) => out.push_str(" @ end()"),
        Some(AtModifier::Timestamp(ms)) => {
            out.push_str(&format!(" @ {:.3}", *ms as f64 / 1000.0));
        }
    }
}

fn write_offset(out: &mut String, ms: i64, expr: Option<&DurationExpr>) {
    if let Some(e) = expr {
        out.push_str(" offset ");
        out.push_str(&format_duration_expr(e));
    } else if ms > 0 {
        out.push_str(" offset ");
        out.push_str(&format_duration(ms));
    } else if ms < 0 {
        out.push_str(" offset -");
        out.push_str(&format_duration(-ms));
    }
}

/// A duration the way Prometheus prints one: `1h30m`, `1s500ms`, `0s`.
pub(crate) fn format_duration(ms: i64) -> String {
    watchfire_model::format_duration_ms(ms)
}

fn format_duration_expr(e: &DurationExpr) -> String {
    match e {
        DurationExpr::Number { secs, duration } => {
            if *duration {
                let ms = (secs * 1000.0).round() as i64;
                format_duration(ms)
            } else {
                watchfire_model::format_go_float_f(*secs)
            }
        }
        DurationExpr::Step => "step()".into(),
        DurationExpr::Range => "range()".into(),
        DurationExpr::MinOf(a, b) => {
            format!(
                "min_of({}, {})",
                format_duration_expr(a),
                format_duration_expr(b)
            )
        }
        DurationExpr::MaxOf(a, b) => {
            format!(
                "max_of({}, {})",
                format_duration_expr(a),
                format_duration_expr(b)
            )
        }
        DurationExpr::Neg(e) => format!("-{}", format_duration_expr(e)),
        DurationExpr::Paren(e) => format!("({})", format_duration_expr(e)),
        DurationExpr::Binary { op, lhs, rhs } => format!(
            "{} {} {}",
            format_duration_expr(lhs),
            op.as_str(),
            format_duration_expr(rhs)
        ),
    }
}
