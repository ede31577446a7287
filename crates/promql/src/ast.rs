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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cardinality {
    /// Each side has at most one series per match group.
    OneToOne,
    /// `group_left(labels)`: many on the left, one on the right.
    ManyToOne(Vec<String>),
    /// `group_right(labels)`: one on the left, many on the right.
    OneToMany(Vec<String>),
    /// Set operators.
    ManyToMany,
}

/// `on(...)` / `ignoring(...)` and grouping of a vector/vector operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorMatching {
    /// Pairing cardinality.
    pub card: Cardinality,
    /// `true` for `on(...)`, `false` for `ignoring(...)` (or no clause).
    pub on: bool,
    /// The labels listed in `on`/`ignoring`.
    pub labels: Vec<String>,
}

impl Default for VectorMatching {
    fn default() -> Self {
        VectorMatching {
            card: Cardinality::OneToOne,
            on: false,
            labels: Vec::new(),
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

/// A PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number literal.
    Number(f64),
    /// A string literal (unescaped).
    String(String),
    /// An instant vector selector.
    VectorSelector(VectorSelector),
    /// A range vector selector `sel[range]`.
    MatrixSelector {
        /// The selector (with its offset and `@`).
        selector: VectorSelector,
        /// The range in milliseconds.
        range_ms: i64,
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
            Expr::Call { func, .. } => match func.as_str() {
                "time" | "scalar" | "pi" => ValueType::Scalar,
                _ => ValueType::Vector,
            },
        }
    }
}
