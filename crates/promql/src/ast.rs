//! Watchfire's own PromQL syntax tree, independent of the parser that builds it.

use watchfire_model::Matcher;

/// A place in the query text, 1-based, as Prometheus prints it in annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column (byte offset in the line), from 1.
    pub col: usize,
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Where a call or aggregation and its arguments start in the query text, when
/// known (used to place annotations as Prometheus does: `... (1:6)`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Positions {
    /// Start of the call (its name).
    pub start: Option<Pos>,
    /// Start of each argument in source order (for an aggregation: the parameter,
    /// if any, then the aggregated expression).
    pub args: Vec<Pos>,
}

impl Positions {
    /// Start of argument `i`, if known.
    pub fn arg(&self, i: usize) -> Option<Pos> {
        self.args.get(i).copied()
    }
}

/// A `@` modifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AtModifier {
    /// `@ start()`: the query's start time.
    Start,
    /// `@ end()`: the query's end time.
    End,
    /// `@ <timestamp>`, in milliseconds.
    Timestamp(i64),
}

/// An instant vector selector such as `http_requests_total{job="api"} offset 5m`.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSelector {
    /// The metric name as written before the braces, if any.
    pub name: Option<String>,
    /// All matchers, including `__name__="..."` for a written name.
    pub matchers: Vec<Matcher>,
    /// `offset` in milliseconds (negative for `offset -5m`), 0 when absent.
    pub offset_ms: i64,
    /// The `@` modifier, if any.
    pub at: Option<AtModifier>,
    /// `offset` written as a duration expression (`offset (1h * 2)`), resolved into
    /// `offset_ms` before evaluation.
    pub offset_expr: Option<DurationExpr>,
    /// The experimental `anchored` modifier of a range selector.
    pub anchored: bool,
    /// The experimental `smoothed` modifier of a range selector.
    pub smoothed: bool,
}

/// A duration expression (experimental syntax): `[5m + 1m]`, `offset (step() * 2)`.
///
/// Values are in seconds; `step()` and `range()` are the query's step and range,
/// so expressions using them are resolved per query ([`Expr::resolve_durations`]).
#[derive(Debug, Clone, PartialEq)]
pub enum DurationExpr {
    /// A number (seconds) or a duration literal (`5m`, printed as a duration).
    Number {
        /// Seconds.
        secs: f64,
        /// Whether it was written as a duration (`5m`) rather than a number.
        duration: bool,
    },
    /// `step()`.
    Step,
    /// `range()`.
    Range,
    /// `min_of(a, b)`.
    MinOf(Box<DurationExpr>, Box<DurationExpr>),
    /// `max_of(a, b)`.
    MaxOf(Box<DurationExpr>, Box<DurationExpr>),
    /// Unary minus.
    Neg(Box<DurationExpr>),
    /// `( ... )`.
    Paren(Box<DurationExpr>),
    /// `a <op> b` with `+ - * / % ^`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<DurationExpr>,
        /// Right operand.
        rhs: Box<DurationExpr>,
    },
}

impl DurationExpr {
    /// Evaluates to seconds given the query's step and range (ms).
    pub fn eval_secs(&self, step_ms: i64, range_ms: i64) -> Result<f64, String> {
        Ok(match self {
            DurationExpr::Number { secs, .. } => *secs,
            DurationExpr::Step => step_ms as f64 / 1000.0,
            DurationExpr::Range => range_ms as f64 / 1000.0,
            DurationExpr::MinOf(a, b) => a
                .eval_secs(step_ms, range_ms)?
                .min(b.eval_secs(step_ms, range_ms)?),
            DurationExpr::MaxOf(a, b) => a
                .eval_secs(step_ms, range_ms)?
                .max(b.eval_secs(step_ms, range_ms)?),
            DurationExpr::Neg(e) => -e.eval_secs(step_ms, range_ms)?,
            DurationExpr::Paren(e) => e.eval_secs(step_ms, range_ms)?,
            DurationExpr::Binary { op, lhs, rhs } => {
                let l = lhs.eval_secs(step_ms, range_ms)?;
                let r = rhs.eval_secs(step_ms, range_ms)?;
                match op {
                    BinaryOp::Add => l + r,
                    BinaryOp::Sub => l - r,
                    BinaryOp::Mul => l * r,
                    BinaryOp::Div if r == 0.0 => return Err("division by zero".into()),
                    BinaryOp::Div => l / r,
                    BinaryOp::Mod if r == 0.0 => return Err("modulo by zero".into()),
                    BinaryOp::Mod => l % r,
                    BinaryOp::Pow => l.powf(r),
                    other => {
                        return Err(format!(
                            "unexpected duration expression operator {:?}",
                            other.as_str()
                        ));
                    }
                }
            }
        })
    }

    /// Evaluates to whole milliseconds, checked like Prometheus (finite, in range,
    /// positive unless `allow_negative`).
    pub fn eval_ms(
        &self,
        step_ms: i64,
        range_ms: i64,
        allow_negative: bool,
    ) -> Result<i64, String> {
        let secs = self.eval_secs(step_ms, range_ms)?;
        if !secs.is_finite() {
            return Err("duration is NaN or infinite".into());
        }
        if secs <= 0.0 && !allow_negative {
            return Err("duration must be greater than 0".into());
        }
        if secs.abs() > 9_223_372_036.854_775 {
            return Err("duration is out of range".into());
        }
        Ok((secs * 1000.0).trunc() as i64)
    }
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `atan2`
    Atan2,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    /// `>`
    Gtr,
    /// `<`
    Lss,
    /// `>=`
    Gte,
    /// `<=`
    Lte,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
}

impl BinaryOp {
    /// Whether this is a comparison (`==`, `!=`, `>`, `<`, `>=`, `<=`).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eql
                | BinaryOp::Neq
                | BinaryOp::Gtr
                | BinaryOp::Lss
                | BinaryOp::Gte
                | BinaryOp::Lte
        )
    }

    /// Whether this is a set operator (`and`, `or`, `unless`).
    pub fn is_set(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Eql => "==",
            BinaryOp::Neq => "!=",
            BinaryOp::Gtr => ">",
            BinaryOp::Lss => "<",
            BinaryOp::Gte => ">=",
            BinaryOp::Lte => "<=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Unless => "unless",
        }
    }
}

/// How series of the two sides of a binary operation are paired.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Cardinality {
    /// Each side has at most one series per match group.
    #[default]
    OneToOne,
    /// `group_left(labels)`: many on the left, one on the right.
    ManyToOne(Vec<String>),
    /// `group_right(labels)`: one on the left, many on the right.
    OneToMany(Vec<String>),
    /// Set operators.
    ManyToMany,
}

/// `on(...)` / `ignoring(...)` and grouping of a vector/vector operation.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorMatching {
    /// Pairing cardinality.
    pub card: Cardinality,
    /// `true` for `on(...)`, `false` for `ignoring(...)` (or no clause).
    pub on: bool,
    /// The labels listed in `on`/`ignoring`.
    pub labels: Vec<String>,
    /// `fill(v)` / `fill_left(v)`: value for a missing left-hand series.
    pub fill_lhs: Option<f64>,
    /// `fill(v)` / `fill_right(v)`: value for a missing right-hand series.
    pub fill_rhs: Option<f64>,
}

impl Default for VectorMatching {
    fn default() -> Self {
        VectorMatching {
            card: Cardinality::OneToOne,
            on: false,
            labels: Vec::new(),
            fill_lhs: None,
            fill_rhs: None,
        }
    }
}

/// An aggregation operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateOp {
    /// `sum`
    Sum,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `avg`
    Avg,
    /// `count`
    Count,
    /// `group`
    Group,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk`
    Topk,
    /// `bottomk`
    Bottomk,
    /// `limitk`
    Limitk,
    /// `limit_ratio`
    LimitRatio,
    /// `quantile`
    Quantile,
    /// `count_values`
    CountValues,
}

impl AggregateOp {
    /// Looks an aggregation up by name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "sum" => AggregateOp::Sum,
            "min" => AggregateOp::Min,
            "max" => AggregateOp::Max,
            "avg" => AggregateOp::Avg,
            "count" => AggregateOp::Count,
            "group" => AggregateOp::Group,
            "stddev" => AggregateOp::Stddev,
            "stdvar" => AggregateOp::Stdvar,
            "topk" => AggregateOp::Topk,
            "bottomk" => AggregateOp::Bottomk,
            "limitk" => AggregateOp::Limitk,
            "limit_ratio" => AggregateOp::LimitRatio,
            "quantile" => AggregateOp::Quantile,
            "count_values" => AggregateOp::CountValues,
            _ => return None,
        })
    }

    /// The name as written.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOp::Sum => "sum",
            AggregateOp::Min => "min",
            AggregateOp::Max => "max",
            AggregateOp::Avg => "avg",
            AggregateOp::Count => "count",
            AggregateOp::Group => "group",
            AggregateOp::Stddev => "stddev",
            AggregateOp::Stdvar => "stdvar",
            AggregateOp::Topk => "topk",
            AggregateOp::Bottomk => "bottomk",
            AggregateOp::Limitk => "limitk",
            AggregateOp::LimitRatio => "limit_ratio",
            AggregateOp::Quantile => "quantile",
            AggregateOp::CountValues => "count_values",
        }
    }
}

/// `by (...)` / `without (...)` of an aggregation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grouping {
    /// No clause: everything in one group.
    None,
    /// `by (labels)`.
    By(Vec<String>),
    /// `without (labels)`.
    Without(Vec<String>),
}

/// The type an expression evaluates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A number.
    Scalar,
    /// A string.
    String,
    /// An instant vector.
    Vector,
    /// A range vector.
    Matrix,
}

/// The duration expressions of a subquery, if written as expressions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubqueryDurationExprs {
    /// The range.
    pub range: Option<DurationExpr>,
    /// The step.
    pub step: Option<DurationExpr>,
    /// The offset.
    pub offset: Option<DurationExpr>,
}

/// The value of a string literal.
///
/// Go escapes such as `"\xff"` can spell bytes that are not UTF-8. Rust strings can't hold
/// them, so such bytes become U+FFFD and `valid_utf8` remembers that the literal was not
/// valid: Prometheus rejects such strings where they must be label names.
#[derive(Debug, Clone, PartialEq)]
pub struct StringLiteral {
    /// The unescaped value (invalid bytes replaced by U+FFFD).
    pub value: String,
    /// Whether the escapes spelled valid UTF-8.
    pub valid_utf8: bool,
}

impl From<&str> for StringLiteral {
    fn from(value: &str) -> Self {
        StringLiteral {
            value: value.to_string(),
            valid_utf8: true,
        }
    }
}

impl From<String> for StringLiteral {
    fn from(value: String) -> Self {
        StringLiteral {
            value,
            valid_utf8: true,
        }
    }
}

/// A PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number literal.
    Number(f64),
    /// A string literal (unescaped).
    String(StringLiteral),
    /// An instant vector selector.
    VectorSelector(VectorSelector),
    /// A range vector selector `sel[range]`.
    MatrixSelector {
        /// The selector (with its offset and `@`).
        selector: VectorSelector,
        /// The range in milliseconds.
        range_ms: i64,
        /// The range written as a duration expression, resolved into `range_ms`
        /// before evaluation.
        range_expr: Option<DurationExpr>,
    },
    /// A subquery `expr[range:step]`.
    Subquery {
        /// The inner expression.
        expr: Box<Expr>,
        /// The range in milliseconds.
        range_ms: i64,
        /// The step in milliseconds; `None` for the default evaluation interval.
        step_ms: Option<i64>,
        /// `offset` in milliseconds.
        offset_ms: i64,
        /// `@` modifier.
        at: Option<AtModifier>,
        /// Range, step and offset written as duration expressions (resolved into
        /// the fields above before evaluation).
        exprs: Box<SubqueryDurationExprs>,
    },
    /// `( expr )`.
    Paren(Box<Expr>),
    /// Unary minus (`-expr`); unary plus is dropped by the parser.
    Neg(Box<Expr>),
    /// A binary operation.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
        /// Vector matching; `None` when either side is a scalar.
        matching: Option<VectorMatching>,
        /// The `bool` modifier of a comparison.
        return_bool: bool,
    },
    /// An aggregation.
    Aggregate {
        /// The operator.
        op: AggregateOp,
        /// The aggregated expression.
        expr: Box<Expr>,
        /// The parameter of `topk`, `quantile`, `count_values`, ...
        param: Option<Box<Expr>>,
        /// `by`/`without`.
        grouping: Grouping,
        /// Source positions.
        pos: Positions,
    },
    /// A function call.
    Call {
        /// Function name.
        func: String,
        /// Arguments.
        args: Vec<Expr>,
        /// Source positions.
        pos: Positions,
    },
}

impl Expr {
    /// The type the expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::Number(_) => ValueType::Scalar,
            Expr::String(_) => ValueType::String,
            Expr::VectorSelector(_) | Expr::Aggregate { .. } => ValueType::Vector,
            Expr::MatrixSelector { .. } | Expr::Subquery { .. } => ValueType::Matrix,
            Expr::Paren(e) | Expr::Neg(e) => e.value_type(),
            Expr::Binary { lhs, rhs, .. } => {
                if lhs.value_type() == ValueType::Scalar && rhs.value_type() == ValueType::Scalar {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Call { func, .. } => crate::parser::function_return_type(func),
        }
    }
}

impl Expr {
    /// The direct sub-expressions, in source order.
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Expr::Number(_)
            | Expr::String(_)
            | Expr::VectorSelector(_)
            | Expr::MatrixSelector { .. } => Vec::new(),
            Expr::Subquery { expr, .. } | Expr::Paren(expr) | Expr::Neg(expr) => vec![expr],
            Expr::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            Expr::Aggregate { expr, param, .. } => match param {
                Some(p) => vec![p, expr],
                None => vec![expr],
            },
            Expr::Call { args, .. } => args.iter_mut().collect(),
        }
    }

    /// Whether any offset, range or step is written as a duration expression.
    pub fn has_duration_exprs(&self) -> bool {
        match self {
            Expr::Number(_) | Expr::String(_) => false,
            Expr::VectorSelector(vs) => vs.offset_expr.is_some(),
            Expr::MatrixSelector {
                selector,
                range_expr,
                ..
            } => selector.offset_expr.is_some() || range_expr.is_some(),
            Expr::Subquery { expr, exprs, .. } => {
                exprs.range.is_some()
                    || exprs.step.is_some()
                    || exprs.offset.is_some()
                    || expr.has_duration_exprs()
            }
            Expr::Paren(e) | Expr::Neg(e) => e.has_duration_exprs(),
            Expr::Binary { lhs, rhs, .. } => lhs.has_duration_exprs() || rhs.has_duration_exprs(),
            Expr::Aggregate { expr, param, .. } => {
                expr.has_duration_exprs() || param.as_ref().is_some_and(|p| p.has_duration_exprs())
            }
            Expr::Call { args, .. } => args.iter().any(Expr::has_duration_exprs),
        }
    }

    /// Computes every duration expression for a query with this step and range
    /// (end - start; both 0 for an instant query), as Prometheus does before
    /// evaluation. The expressions are kept, so the tree still prints as written.
    pub fn resolve_durations(&mut self, step_ms: i64, range_ms: i64) -> Result<(), String> {
        match self {
            Expr::VectorSelector(vs) => {
                if let Some(e) = &vs.offset_expr {
                    vs.offset_ms = e.eval_ms(step_ms, range_ms, true)?;
                }
            }
            Expr::MatrixSelector {
                selector,
                range_ms: r,
                range_expr,
            } => {
                if let Some(e) = &selector.offset_expr {
                    selector.offset_ms = e.eval_ms(step_ms, range_ms, true)?;
                }
                if let Some(e) = range_expr {
                    *r = e.eval_ms(step_ms, range_ms, false)?;
                }
            }
            Expr::Subquery {
                range_ms: r,
                step_ms: s,
                offset_ms: o,
                exprs,
                ..
            } => {
                if let Some(e) = &exprs.offset {
                    *o = e.eval_ms(step_ms, range_ms, true)?;
                }
                if let Some(e) = &exprs.step {
                    *s = Some(e.eval_ms(step_ms, range_ms, false)?);
                }
                if let Some(e) = &exprs.range {
                    *r = e.eval_ms(step_ms, range_ms, false)?;
                }
            }
            _ => {}
        }
        for c in self.children_mut() {
            c.resolve_durations(step_ms, range_ms)?;
        }
        Ok(())
    }
}
