//! The function table and the type checks of calls and aggregations.

use super::lexer::{Token, go_quote};
use super::{Node, PResult, Parser};
use crate::ast::{AggregateOp, Expr, Grouping, ValueType};

use ValueType::{Matrix as M, Scalar as S, String as Str, Vector as V};

/// A function's signature: argument types, how many more of the last argument
/// may follow (`-1`: any number), result type, and whether it is experimental.
pub(crate) struct Function {
    pub args: &'static [ValueType],
    pub variadic: i32,
    pub ret: ValueType,
    pub experimental: bool,
}

const fn f(
    args: &'static [ValueType],
    variadic: i32,
    ret: ValueType,
    experimental: bool,
) -> Function {
    Function {
        args,
        variadic,
        ret,
        experimental,
    }
}

/// Looks a function up by its exact (case-sensitive) name.
pub(crate) fn lookup(name: &str) -> Option<Function> {
    Some(match name {
        "abs" | "acos" | "acosh" | "asin" | "asinh" | "atan" | "atanh" | "ceil" | "cos"
        | "cosh" | "deg" | "exp" | "floor" | "histogram_avg" | "histogram_count"
        | "histogram_sum" | "histogram_stddev" | "histogram_stdvar" | "ln" | "log10" | "log2"
        | "rad" | "sgn" | "sin" | "sinh" | "sort" | "sort_desc" | "sqrt" | "tan" | "tanh"
        | "timestamp" | "absent" => f(&[V], 0, V, false),
        "absent_over_time" | "avg_over_time" | "changes" | "count_over_time" | "delta"
        | "deriv" | "idelta" | "increase" | "irate" | "last_over_time" | "max_over_time"
        | "min_over_time" | "present_over_time" | "rate" | "resets" | "stddev_over_time"
        | "stdvar_over_time" | "sum_over_time" => f(&[M], 0, V, false),
        "first_over_time"
        | "mad_over_time"
        | "ts_of_first_over_time"
        | "ts_of_max_over_time"
        | "ts_of_min_over_time"
        | "ts_of_last_over_time" => f(&[M], 0, V, true),
        "clamp" => f(&[V, S, S], 0, V, false),
        "clamp_max" | "clamp_min" => f(&[V, S], 0, V, false),
        "days_in_month" | "day_of_month" | "day_of_week" | "day_of_year" | "hour" | "minute"
        | "month" | "year" => f(&[V], 1, V, false),
        "start" | "end" | "step" | "range" => f(&[], 0, S, true),
        "histogram_fraction" => f(&[S, S, V], 0, V, false),
        "histogram_quantile" => f(&[S, V], 0, V, false),
        "histogram_quantiles" => f(&[V, Str, S, S], 9, V, true),
        "double_exponential_smoothing" => f(&[M, S, S], 0, V, true),
        "info" => f(&[V, V], 1, V, true),
        "label_replace" => f(&[V, Str, Str, Str, Str], 0, V, false),
        "label_join" => f(&[V, Str, Str, Str], -1, V, false),
        "max_of" | "min_of" => f(&[S, S], 0, S, true),
        "pi" | "time" => f(&[], 0, S, false),
        "predict_linear" => f(&[M, S], 0, V, false),
        "quantile_over_time" => f(&[S, M], 0, V, false),
        "round" => f(&[V, S], 1, V, false),
        "scalar" => f(&[V], 0, S, false),
        "sort_by_label" | "sort_by_label_desc" => f(&[V, Str], -1, V, true),
        "start_timestamp" => f(&[V], 0, V, true),
        "vector" => f(&[S], 0, V, false),
        _ => return None,
    })
}

/// The result type of a call to `name` ([`ValueType::Vector`] if unknown).
pub fn function_return_type(name: &str) -> ValueType {
    lookup(name).map_or(ValueType::Vector, |f| f.ret)
}

/// Prometheus' documented type names (`instant vector`, `range vector`, ...).
pub(crate) fn documented_type(t: ValueType) -> &'static str {
    match t {
        S => "scalar",
        Str => "string",
        V => "instant vector",
        M => "range vector",
    }
}

/// Prometheus' internal type names (`vector`, `matrix`, ...).
pub(crate) fn type_name(t: ValueType) -> &'static str {
    match t {
        S => "scalar",
        Str => "string",
        V => "vector",
        M => "matrix",
    }
}

/// Go's `%f` of a float.
pub(crate) fn go_float_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v:.6}")
    }
}

fn expect_type(
    p: &Parser<'_>,
    node: &Node,
    want: ValueType,
    context: &str,
    out: &mut Vec<super::ParseError>,
) {
    let got = node.ty();
    if got != want {
        out.push(p.error_at(
            node.start,
            node.end,
            format!(
                "expected type {} in {context}, got {}",
                documented_type(want),
                documented_type(got)
            ),
        ));
    }
}

/// Builds an aggregation, with Prometheus' checks.
pub(crate) fn aggregation(
    p: &mut Parser<'_>,
    op: AggregateOp,
    op_tok: &Token,
    grouping: Grouping,
    mut args: Vec<Node>,
    end: usize,
) -> PResult<Node> {
    let start = op_tok.pos;
    let placeholder = || Node {
        expr: Expr::Number(0.0),
        start,
        end,
        checks: Vec::new(),
    };
    if args.is_empty() {
        p.add_error(start, end, "no arguments for aggregate expression provided");
        return Ok(placeholder());
    }
    let with_param = matches!(
        op,
        AggregateOp::Topk
            | AggregateOp::Bottomk
            | AggregateOp::CountValues
            | AggregateOp::Quantile
            | AggregateOp::Limitk
            | AggregateOp::LimitRatio
    );
    if with_param
        && matches!(op, AggregateOp::Limitk | AggregateOp::LimitRatio)
        && !p.opts().experimental_functions
    {
        p.add_error(
            start,
            end,
            format!(
                "{}() is experimental and must be enabled with --enable-feature=promql-experimental-functions",
                op.as_str()
            ),
        );
        return Ok(placeholder());
    }
    let want = if with_param { 2 } else { 1 };
    if args.len() != want {
        p.add_error(
            start,
            end,
            format!(
                "wrong number of arguments for aggregate expression provided, expected {want}, got {}",
                args.len()
            ),
        );
        return Ok(placeholder());
    }
    let pos = p.positions(start, &args);
    let expr = args.pop().unwrap_or_else(placeholder);
    let param = args.pop();
    let mut checks = expr.checks.clone();
    expect_type(p, &expr, V, "aggregation expression", &mut checks);
    if let Some(param) = &param {
        checks.extend(param.checks.iter().cloned());
        let want = if op == AggregateOp::CountValues {
            Str
        } else {
            S
        };
        expect_type(p, param, want, "aggregation parameter", &mut checks);
    }
    Ok(Node {
        expr: Expr::Aggregate {
            op,
            expr: Box::new(expr.expr),
            param: param.map(|n| Box::new(n.expr)),
            grouping,
            pos,
        },
        start,
        end,
        checks,
    })
}

/// Builds a function call, with Prometheus' checks.
pub(crate) fn call(
    p: &mut Parser<'_>,
    name_tok: &Token,
    mut args: Vec<Node>,
    end: usize,
) -> PResult<Node> {
    let name = p.token_text(name_tok).to_string();
    let start = name_tok.pos;
    let pos = p.positions(start, &args);
    let mut checks = Vec::new();
    match lookup(&name) {
        None => p.add_error(
            start,
            name_tok.end,
            format!("unknown function with name {}", go_quote(&name)),
        ),
        Some(func) => {
            if func.experimental && !p.opts().experimental_functions {
                p.add_error(
                    start,
                    name_tok.end,
                    format!("function {} is not enabled", go_quote(&name)),
                );
            }
            let nargs = func.args.len();
            if func.variadic == 0 {
                if nargs != args.len() {
                    let mut e = p.error_at(
                        start,
                        end,
                        format!(
                            "expected {nargs} argument(s) in call to {}, got {}",
                            go_quote(&name),
                            args.len()
                        ),
                    );
                    e.hint = arg_count_hint(&name, func.args, &args);
                    checks.push(e);
                }
            } else {
                let min = nargs - 1;
                let max = min as i64 + i64::from(func.variadic);
                if min > args.len() {
                    checks.push(p.error_at(
                        start,
                        end,
                        format!(
                            "expected at least {min} argument(s) in call to {}, got {}",
                            go_quote(&name),
                            args.len()
                        ),
                    ));
                } else if func.variadic > 0 && max < args.len() as i64 {
                    checks.push(p.error_at(
                        start,
                        end,
                        format!(
                            "expected at most {max} argument(s) in call to {}, got {}",
                            go_quote(&name),
                            args.len()
                        ),
                    ));
                }
            }
            if name == "info" && args.len() > 1 {
                let a = &args[1];
                if a.ty() != V {
                    checks.push(p.error_at(
                        start,
                        end,
                        format!(
                            "expected type instant vector in call to function \"info\", got {}",
                            documented_type(a.ty())
                        ),
                    ));
                }
                match &a.expr {
                    Expr::VectorSelector(vs) if vs.name.is_some() => checks.push(p.error_at(
                        a.start,
                        a.end,
                        "expected label selectors only, got vector selector instead",
                    )),
                    // Label selectors only: the empty-matcher rule does not apply.
                    Expr::VectorSelector(_) => args[1].checks.clear(),
                    _ => checks.push(p.error_at(a.start, a.end, "expected label selectors only")),
                }
            }
            for (i, arg) in args.iter().enumerate() {
                let idx = if i >= nargs {
                    if func.variadic == 0 {
                        checks.extend(arg.checks.iter().cloned());
                        continue;
                    }
                    nargs - 1
                } else {
                    i
                };
                checks.extend(arg.checks.iter().cloned());
                let want = func.args[idx];
                if arg.ty() != want {
                    let mut e = p.error_at(
                        arg.start,
                        arg.end,
                        format!(
                            "expected type {} in call to function {}, got {}",
                            documented_type(want),
                            go_quote(&name),
                            documented_type(arg.ty())
                        ),
                    );
                    if want == M && arg.ty() == V {
                        let text = p.source(arg.start, arg.end);
                        e.hint = Some(format!("use a range selector like {text}[5m]"));
                    }
                    checks.push(e);
                }
            }
        }
    }
    Ok(Node {
        expr: Expr::Call {
            func: name,
            args: args.into_iter().map(|a| a.expr).collect(),
            pos,
        },
        start,
        end,
        checks,
    })
}

fn arg_count_hint(name: &str, want: &[ValueType], args: &[Node]) -> Option<String> {
    if want.len() > args.len() && want.first() == Some(&M) && args.is_empty() {
        return Some(format!(
            "{name}() takes a range vector, e.g. {name}(metric[5m])"
        ));
    }
    None
}

impl Parser<'_> {
    pub(crate) fn source(&self, start: usize, end: usize) -> &str {
        self.input.get(start..end).unwrap_or("")
    }
}
