//! Parser tests: canonical printing round trips, Prometheus' error messages and
//! positions, options, and a property test that no input makes the parser panic.
#![allow(clippy::unwrap_used)]
use super::*;
use crate::ast::{AtModifier, BinaryOp, DurationExpr};
use proptest::prelude::*;

/// Queries and their canonical printed form (Prometheus' `String()`).
const ROUND_TRIP: &[(&str, &str)] = &[
    (
        r#"sum by() (task:errors:rate10s{job="s"})"#,
        r#"sum(task:errors:rate10s{job="s"})"#,
    ),
    (
        r#"sum without() (task:errors:rate10s{job="s"})"#,
        r#"sum without () (task:errors:rate10s{job="s"})"#,
    ),
    (
        r#"sum by("foo.bar") (task:errors:rate10s{job="s"})"#,
        r#"sum by ("foo.bar") (task:errors:rate10s{job="s"})"#,
    ),
    (
        r#"topk(5, task:errors:rate10s{job="s"})"#,
        r#"topk(5, task:errors:rate10s{job="s"})"#,
    ),
    ("a - on() c", "a - on () c"),
    ("a - on(b) group_left(x) c", "a - on (b) group_left (x) c"),
    ("a - on(b) group_left c", "a - on (b) group_left () c"),
    ("a - ignoring(b) c", "a - ignoring (b) c"),
    (
        "a - ignoring() group_left c",
        "a - ignoring () group_left () c",
    ),
    ("a + fill_left(-23) b", "a + fill_left (-23) b"),
    (
        "a + fill_left(-23) fill_right(42) b",
        "a + fill_left (-23) fill_right (42) b",
    ),
    (
        "a + on(b) group_left fill(-23) c",
        "a + on (b) group_left () fill (-23) c",
    ),
    ("a offset 1m", "a offset 1m"),
    (r#"a{c="d"}[5m] offset 1m"#, r#"a{c="d"}[5m] offset 1m"#),
    ("a[12m] offset -3m", "a[12m] offset -3m"),
    ("a anchored", "a anchored"),
    (r#"a{b="c"}[5m] anchored"#, r#"a{b="c"}[5m] anchored"#),
    (
        r#"a{b="c"}[5m] anchored @ start() offset 1m"#,
        r#"a{b="c"}[5m] anchored @ start() offset 1m"#,
    ),
    ("a[5m] smoothed", "a[5m] smoothed"),
    (
        r#"a{b="c"}[5m] smoothed offset 1m"#,
        r#"a{b="c"}[5m] smoothed offset 1m"#,
    ),
    (r#"{__name__="a"}"#, r#"{__name__="a"}"#),
    (r#"a{b=~"c"}[1m]"#, r#"a{b=~"c"}[1m]"#),
    ("a @ 10", "a @ 10.000"),
    ("a @ start()", "a @ start()"),
    ("a[1m] @ start()", "a[1m] @ start()"),
    (r#"{__name__="",a="x"}"#, r#"{__name__="",a="x"}"#),
    (r#"{"0"="1"}"#, r#"{"0"="1"}"#),
    (r#"{""="0"}"#, r#"{""="0"}"#),
    ("1048576", "1048576"),
    ("foo[-step()]", "foo[-step()]"),
    ("foo[-(step())]", "foo[-(step())]"),
    ("foo offset -step()", "foo offset -step()"),
    ("foo offset -(step())", "foo offset -(step())"),
    ("foo offset -(5)", "foo offset -(5)"),
    ("foo offset (5m)", "foo offset (5m)"),
    ("foo[(5m):(1m)]", "foo[(5m):(1m)]"),
    (
        "foo offset -min_of(10s, 20s)",
        "foo offset -min_of(10s, 20s)",
    ),
    (
        "foo[200-min_of(-step()^+step(),1)]",
        "foo[200 - min_of(-step() ^ step(), 1)]",
    ),
    ("foo[range()]", "foo[range()]"),
    ("foo offset range()", "foo offset range()"),
    ("foo[max_of(range(), 5s)]", "foo[max_of(range(), 5s)]"),
    (r#"sum by("üüü") (foo)"#, r#"sum by ("üüü") (foo)"#),
    (
        r#"count by("ööö", job) (foo)"#,
        r#"count by ("ööö", job) (foo)"#,
    ),
];

/// Invalid queries (all features on): byte offset and Prometheus' message.
const INVALID: &[(&str, usize, &str)] = &[
    ("", 0, "no expression found in input"),
    (".", 0, "unexpected character: '.'"),
    ("0deadbeef", 0, r#"bad number or duration syntax: "0de""#),
    ("(1))", 4, "unexpected right parenthesis ')'"),
    ("(", 1, "unclosed left parenthesis"),
    (
        "1 or 1",
        0,
        r#"set operator "or" not allowed in binary scalar expression"#,
    ),
    ("1 =~ 1", 2, "unexpected character after '=': '~'"),
    ("*test", 0, "unexpected <op:*>"),
    (
        "foo offset 1s offset 2s",
        0,
        "offset may not be set multiple times",
    ),
    (
        "1 and foo",
        0,
        r#"set operator "and" not allowed in binary scalar expression"#,
    ),
    (
        "foo unless 1",
        0,
        r#"set operator "unless" not allowed in binary scalar expression"#,
    ),
    (
        "foo == on(bar) 10",
        0,
        "vector matching only allowed between instant vectors",
    ),
    (
        "foo and on(bar) group_right(baz) bar",
        0,
        r#"no grouping allowed for "and" operation"#,
    ),
    (
        "foo unless on(bar) group_left(baz) bar",
        0,
        r#"no grouping allowed for "unless" operation"#,
    ),
    (
        "foo + bool bar",
        4,
        "bool modifier can only be used on comparison operators",
    ),
    (
        r#"http_requests{group="production"} + on(instance) group_left(job,instance) cpu_count{type="smp"}"#,
        34,
        r#"label "instance" must not occur in ON and GROUP clause at once"#,
    ),
    (
        "foo @ NaN",
        0,
        "timestamp out of bounds for @ modifier: NaN",
    ),
    ("some{", 5, "unexpected end of input inside braces"),
    (
        r#"some_metric{a:b="b"}"#,
        13,
        "unexpected character inside braces: ':'",
    ),
    ("foo{1}", 4, "unexpected character inside braces: '1'"),
    (
        r#"{x=~".*"}"#,
        0,
        "vector selector must contain at least one non-empty matcher",
    ),
    (
        r#"foo{__name__="bar"}"#,
        0,
        r#"metric name must not be set twice: "foo" or "bar""#,
    ),
    (
        r#"foo{__name__ == "bar"}"#,
        14,
        r#"unexpected "=" in label matching, expected string"#,
    ),
    ("foo[5mm]", 4, r#"bad number or duration syntax: "5mm""#),
    ("foo[5y1hs]", 4, r#"unknown unit "hs" in duration "5y1hs""#),
    ("foo[0m]", 4, "duration must be greater than 0"),
    (
        "some_metric[5m] OFFSET 1mm",
        23,
        r#"bad number or duration syntax: "1mm""#,
    ),
    (
        "some_metric[5m] @",
        17,
        "unexpected end of input in @, expected timestamp",
    ),
    (
        "some_metric @ end()[5m]",
        19,
        "no @ modifiers allowed before range",
    ),
    (
        r#"sum by ("foo)(some_metric{})"#,
        8,
        "unterminated quoted string",
    ),
    (
        "sum without(foo,,)(some_metric)",
        16,
        r#"unexpected "," in grouping opts, expected label"#,
    ),
    (
        "sum () by (test)",
        0,
        "no arguments for aggregate expression provided",
    ),
    (
        "sum (some_metric) without (test) by (test)",
        33,
        "unexpected <by>",
    ),
    (
        "topk(some_metric,)",
        16,
        "trailing commas not allowed in function call args",
    ),
    (
        "rate(some_metric[5m]) @ 1234",
        0,
        "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
    ),
    (
        "floor(some_metric, 1)",
        0,
        r#"expected 1 argument(s) in call to "floor", got 2"#,
    ),
    (
        "time(some_metric)",
        0,
        r#"expected 0 argument(s) in call to "time", got 1"#,
    ),
    ("*1", 0, "unexpected <op:*>"),
    ("e-+=/(0)", 3, r#"unexpected "=""#),
    (r#"`\``"#, 3, "unterminated raw string"),
    (
        r#""\x.""#,
        0,
        "illegal character U+002E '.' in escape sequence",
    ),
    (
        r#"(foo + bar{nm="val"})[5m:][10m:5s]"#,
        0,
        "subquery is only allowed on instant vector, got matrix instead",
    ),
    (
        r#"info(rate(http_request_counter_total{}[5m]), target_info{foo="bar"})"#,
        45,
        "expected label selectors only, got vector selector instead",
    ),
    ("foo[step()/0d]", 10, "division by zero"),
    ("foo[5s%0d]", 6, "modulo by zero"),
    ("sum(", 4, "unclosed left parenthesis"),
    ("foo[5s s 5s]", 7, "unexpected character: 's', expected ':'"),
];

/// Our own cases: more printing, durations, modifiers and unusual spellings.
const ROUND_TRIP_OWN: &[(&str, &str)] = &[
    ("1 + 2 * 3", "1 + 2 * 3"),
    ("(1 + 2) * 3", "(1 + 2) * 3"),
    ("2 ^ 3 ^ 2", "2 ^ 3 ^ 2"),
    ("-foo", "-foo"),
    ("+foo", "foo"),
    ("- 1", "-1"),
    ("0x1F", "31"),
    ("1_000", "1000"),
    ("010", "8"),
    ("1e3", "1000"),
    (".5", "0.5"),
    ("Inf", "+Inf"),
    ("-inf", "-Inf"),
    ("NaN", "NaN"),
    ("1h30m", "5400"),
    (r#""a\tb""#, r#""a\tb""#),
    (r#"'it\'s'"#, r#""it's""#),
    (r#"`C:\path`"#, r#""C:\\path""#),
    (r#""\x41\101\u0041\U00000041""#, r#""AAAA""#),
    (r#"foo{"foo.bar"="x"}"#, r#"foo{"foo.bar"="x"}"#),
    (r#"{"foo.bar"}"#, r#"{__name__="foo.bar"}"#),
    (r#"{__name__=~"a|b"}"#, r#"{__name__=~"a|b"}"#),
    ("rate(foo[1h30m])", "rate(foo[1h30m])"),
    ("foo[1.5]", "foo[1s500ms]"),
    ("foo[90s]", "foo[1m30s]"),
    ("foo offset -5m", "foo offset -5m"),
    ("foo @ 1.5", "foo @ 1.500"),
    ("foo @ -10", "foo @ -10.000"),
    ("foo @ end() offset 5m", "foo @ end() offset 5m"),
    ("rate(foo[5m])[30m:1m]", "rate(foo[5m])[30m:1m]"),
    ("foo[5m:] offset 1m", "foo[5m:] offset 1m"),
    ("foo[5m:1m] @ start()", "foo[5m:1m] @ start()"),
    ("a > bool on(x) b", "a > bool on (x) b"),
    ("a * on(x) group_right(y) b", "a * on (x) group_right (y) b"),
    ("a and ignoring(x) b", "a and ignoring (x) b"),
    ("a or b unless c", "a or b unless c"),
    ("a atan2 b", "a atan2 b"),
    ("sum(foo) by (a, b)", "sum by (a, b) (foo)"),
    ("SUM(foo)", "sum(foo)"),
    ("topk(3, foo)", "topk(3, foo)"),
    (
        "quantile without (a) (0.9, foo)",
        "quantile without (a) (0.9, foo)",
    ),
    (r#"count_values("v", foo)"#, r#"count_values("v", foo)"#),
    ("limitk(2, foo)", "limitk(2, foo)"),
    ("limit_ratio(0.5, foo)", "limit_ratio(0.5, foo)"),
    (
        r#"label_join(foo, "a", ",", "b", "c")"#,
        r#"label_join(foo, "a", ",", "b", "c")"#,
    ),
    ("round(foo)", "round(foo)"),
    ("time()", "time()"),
    ("foo[5m+1m]", "foo[5m + 1m]"),
    ("foo offset (1h*2)", "foo offset (1h * 2)"),
    ("foo offset 100 + 2", "foo offset 1m40s + 2"),
    ("foo offset -2 ^ 2", "foo offset -2s ^ 2"),
    ("foo[step()+1]", "foo[step() + 1]"),
    ("fill + fill", "fill + fill"),
    ("a + fill_right(1) b", "a + fill_right (1) b"),
    ("sum # comment\n(foo)", "sum(foo)"),
    ("by + offset", "by + offset"),
];

fn all() -> ParseOptions {
    ParseOptions::all()
}

#[test]
fn round_trips() {
    for (input, want) in ROUND_TRIP.iter().chain(ROUND_TRIP_OWN) {
        let e = parse_with_options(input, &all()).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        let got = format_expr(&e);
        assert_eq!(&got, want, "printing {input:?}");
        // The printed form parses to a tree that prints the same.
        let again = parse_with_options(&got, &all()).unwrap_or_else(|e| panic!("{got:?}: {e}"));
        assert_eq!(format_expr(&again), got, "re-printing {got:?}");
    }
}

/// Our own invalid cases, with default (non-experimental) options.
const INVALID_DEFAULT: &[(&str, &str)] = &[
    (
        "rate(foo)",
        r#"1:6: parse error: expected type range vector in call to function "rate", got instant vector"#,
    ),
    ("foo + ", "1:7: parse error: unexpected end of input"),
    ("sum(foo", "1:8: parse error: unclosed left parenthesis"),
    (
        "{}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    ),
    (
        r#"{a=~".*"}"#,
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    ),
    (
        "sum(foo)[5m]",
        "1:9: parse error: ranges only allowed for vector selectors",
    ),
    (
        "sum()",
        "1:1: parse error: no arguments for aggregate expression provided",
    ),
    (
        "1 > 2",
        "1:3: parse error: comparisons between scalars must use BOOL modifier",
    ),
    (
        "foo + bool bar",
        "1:5: parse error: bool modifier can only be used on comparison operators",
    ),
    (
        "1 and 2",
        r#"1:1: parse error: set operator "and" not allowed in binary scalar expression"#,
    ),
    (
        "foo[5m] + 1",
        "1:1: parse error: binary expression must contain only scalar and instant vector types",
    ),
    (
        "1 + on(a) foo",
        "1:1: parse error: vector matching only allowed between instant vectors",
    ),
    (
        "foo and on(a) group_left bar",
        r#"1:1: parse error: no grouping allowed for "and" operation"#,
    ),
    (
        "nosuch(foo)",
        r#"1:1: parse error: unknown function with name "nosuch""#,
    ),
    (
        "limitk(1, foo)",
        "1:1: parse error: limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions",
    ),
    (
        "mad_over_time(foo[5m])",
        r#"1:1: parse error: function "mad_over_time" is not enabled"#,
    ),
    (
        "foo[5m+1m]",
        "1:5: parse error: experimental duration expression is not enabled",
    ),
    (
        "foo[1m] anchored",
        "1:1: parse error: anchored modifier is experimental and not enabled",
    ),
    (
        "a + fill(0) b",
        "1:1: parse error: binop fill modifiers are experimental and not enabled",
    ),
    (
        "foo offset",
        "1:11: parse error: unexpected end of input in offset, expected number, duration, step(), or range()",
    ),
    (
        "foo @ bar",
        r#"1:7: parse error: unexpected identifier "bar" in @, expected timestamp"#,
    ),
    ("foo[5m", "1:7: parse error: unclosed left bracket"),
    (
        "foo{a=}",
        r#"1:7: parse error: unexpected "}" in label matching, expected string"#,
    ),
    (
        "foo{a b}",
        r#"1:7: parse error: unexpected identifier "b" in label matching, expected label matching operator"#,
    ),
    (
        "sum by (a b) (foo)",
        r#"1:11: parse error: unexpected identifier "b" in grouping opts, expected "," or ")""#,
    ),
    (
        "sum(1, 2,)",
        "1:9: parse error: trailing commas not allowed in function call args",
    ),
    (
        "foo\n  + rate(bar)",
        r#"2:10: parse error: expected type range vector in call to function "rate", got instant vector"#,
    ),
    (
        r#""\q""#,
        "1:1: parse error: unknown escape sequence U+0071 'q'",
    ),
    (
        "foo[0s]",
        "1:5: parse error: duration must be greater than 0",
    ),
    (
        "foo[5y1hs]",
        r#"1:5: parse error: unknown unit "hs" in duration "5y1hs""#,
    ),
    (
        "-foo[5m]",
        r#"1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector""#,
    ),
    (
        "(1)[5m:]",
        "1:1: parse error: subquery is only allowed on instant vector, got scalar instead",
    ),
];

#[test]
fn invalid_queries() {
    for (input, pos, msg) in INVALID {
        let e = parse_with_options(input, &all()).expect_err(input);
        assert_eq!((&e.message.as_str(), e.pos_start), (msg, *pos), "{input:?}");
    }
    for (input, want) in INVALID_DEFAULT {
        let e = parse_with_options(input, &ParseOptions::default()).expect_err(input);
        assert_eq!(e.to_string(), *want, "{input:?}");
    }
}

#[test]
fn errors_carry_positions_and_hints() {
    let e = parse_with_options("sum(rate(http_requests))", &ParseOptions::default()).unwrap_err();
    assert_eq!((e.pos_start, e.pos_end, e.line, e.column), (9, 22, 1, 10));
    assert_eq!(
        e.hint.as_deref(),
        Some("use a range selector like http_requests[5m]")
    );
    let hint = |q: &str| {
        parse(q).err().and_then(|_| {
            parse_with_options(q, &ParseOptions::default())
                .unwrap_err()
                .hint
        })
    };
    assert_eq!(
        hint("1 > 2").as_deref(),
        Some("write the comparison with bool, like 1 > bool 0")
    );
    assert!(hint("sum(x)[5m]").unwrap().contains("subquery"));
    assert_eq!(hint("foo + bar"), None);
    let q: QueryError = e.into();
    assert_eq!(
        q.to_string(),
        r#"1:10: parse error: expected type range vector in call to function "rate", got instant vector"#
    );
}

#[test]
fn tree_shapes() {
    // `^` is right-associative and binds tighter than unary minus.
    let e = parse("-2 ^ 2").unwrap();
    assert_eq!(format_expr(&e), "-2 ^ 2");
    let Expr::Binary { op, lhs, .. } = parse("2 ^ 3 ^ 2").unwrap() else {
        panic!()
    };
    assert_eq!((op, *lhs), (BinaryOp::Pow, Expr::Number(2.0)));
    let Expr::Neg(inner) = parse("-foo ^ 2").unwrap() else {
        panic!()
    };
    assert!(matches!(
        *inner,
        Expr::Binary {
            op: BinaryOp::Pow,
            ..
        }
    ));
    // Offsets and `@` on selectors.
    let Expr::VectorSelector(vs) = parse("foo{a=\"b\"} offset -5m @ 10").unwrap() else {
        panic!()
    };
    assert_eq!((vs.matchers.len(), vs.offset_ms), (2, -300_000));
    assert_eq!(vs.at, Some(AtModifier::Timestamp(10_000)));
    // Backticks are raw.
    let Expr::Call { args, pos, .. } =
        parse(r#"label_replace(x, "a", `$1`, "b", `(\d+)`)"#).unwrap()
    else {
        panic!()
    };
    assert_eq!(args[4], Expr::String(r"(\d+)".into()));
    assert_eq!(pos.arg(4).map(|p| p.col), Some(34));
}

#[test]
fn positions_of_calls_and_aggregations() {
    let e =
        parse("sum by (job) (rate(x[5m])) + label_join(y, \"a\", \",\", \"b\", \"c\")").unwrap();
    let Expr::Binary { lhs, rhs, .. } = &e else {
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
    let Expr::Call { pos, .. } = rhs.as_ref() else {
        panic!()
    };
    assert_eq!(pos.arg(3), Some(Pos { line: 1, col: 54 }));
    let Expr::Aggregate { pos, .. } = parse("quantile without(point)(NaN, data)").unwrap() else {
        panic!()
    };
    assert_eq!(pos.arg(0), Some(Pos { line: 1, col: 25 }));
}

#[test]
fn duration_expressions_resolve_per_query() {
    let mut e = parse_with_options("foo[step() * 2] offset -min_of(range(), 1m)", &all()).unwrap();
    let Expr::MatrixSelector { range_expr, .. } = &e else {
        panic!()
    };
    assert!(matches!(range_expr, Some(DurationExpr::Binary { .. })));
    assert!(e.has_duration_exprs());
    e.resolve_durations(15_000, 600_000).unwrap();
    let Expr::MatrixSelector {
        range_ms, selector, ..
    } = &e
    else {
        panic!()
    };
    assert_eq!((*range_ms, selector.offset_ms), (30_000, -60_000));
    // An instant query has step 0: the range is not positive.
    let mut e = parse_with_options("foo[step()]", &all()).unwrap();
    assert_eq!(
        e.resolve_durations(0, 0).unwrap_err(),
        "duration must be greater than 0"
    );
    // Constant expressions need no query.
    let mut e = parse_with_options("foo[26m+4m]", &all()).unwrap();
    e.resolve_durations(0, 0).unwrap();
    assert!(matches!(
        e,
        Expr::MatrixSelector {
            range_ms: 1_800_000,
            ..
        }
    ));
}

#[test]
fn fill_modifiers_parse() {
    let Expr::Binary { matching, .. } =
        parse_with_options("a + fill_left(5) fill_right(-7) b", &all()).unwrap()
    else {
        panic!()
    };
    let m = matching.unwrap();
    assert_eq!((m.fill_lhs, m.fill_rhs), (Some(5.0), Some(-7.0)));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for (open, close) in [
        ("(", ")"),
        ("sum(", ")"),
        ("-", ""),
        ("label_replace(a + ", ", \"a\", \"b\", \"c\", \"d\")"),
        ("foo offset (", ")"),
        ("foo[(", ")]"),
    ] {
        let q = match open.strip_suffix('(') {
            Some(head @ ("foo offset " | "foo[")) => format!(
                "{head}{}1{}{}",
                "(".repeat(5000),
                ")".repeat(5000),
                &close[1..]
            ),
            _ => format!("{}1{}", open.repeat(5000), close.repeat(5000)),
        };
        let e = parse_with_options(&q, &all()).unwrap_err();
        assert!(e.to_string().contains("nested too deeply"), "{open}: {e}");
    }
    // Reasonable nesting is fine.
    let q = format!("{}1{}", "sum(".repeat(100), ")".repeat(100));
    assert!(parse(&q).is_err_and(|e| !e.to_string().contains("nested")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_input(s in "\\PC{0,40}") {
        let _ = parse_with_options(&s, &all());
    }

    #[test]
    fn never_panics_on_promql_like_input(
        s in "[a-z_:0-9(){}\\[\\]\"'`,.=~!<>+*/%^@ \\-\n#]{0,40}"
    ) {
        if let Ok(e) = parse_with_options(&s, &all()) {
            // Whatever parses prints to something that parses again.
            let printed = format_expr(&e);
            prop_assert!(parse_with_options(&printed, &all()).is_ok(), "{s:?} -> {printed:?}");
        }
    }
}

#[test]
fn json_tree_like_parse_query() {
    let e = parse_with_options(
        r#"sum by (job) (rate(foo{a="b"}[5m] offset 1m)) > bool on (job) group_left fill(0) bar"#,
        &all(),
    )
    .unwrap();
    let j = expr_to_json(&e);
    assert_eq!(j["type"], "binaryExpr");
    assert_eq!(j["op"], ">");
    assert_eq!(j["bool"], true);
    assert_eq!(j["matching"]["card"], "many-to-one");
    assert_eq!(j["matching"]["labels"], serde_json::json!(["job"]));
    assert_eq!(
        j["matching"]["fillValues"],
        serde_json::json!({"lhs": 0.0, "rhs": 0.0})
    );
    let agg = &j["lhs"];
    assert_eq!(
        (agg["type"].as_str(), agg["op"].as_str()),
        (Some("aggregation"), Some("sum"))
    );
    assert_eq!(agg["grouping"], serde_json::json!(["job"]));
    assert_eq!(agg["param"], serde_json::Value::Null);
    let call = &agg["expr"];
    assert_eq!(call["func"]["name"], "rate");
    assert_eq!(call["func"]["argTypes"], serde_json::json!(["matrix"]));
    assert_eq!(call["func"]["returnType"], "vector");
    let ms = &call["args"][0];
    assert_eq!(ms["type"], "matrixSelector");
    assert_eq!(
        (ms["range"].as_i64(), ms["offset"].as_i64()),
        (Some(300_000), Some(60_000))
    );
    // The name matcher comes last, as in Prometheus.
    assert_eq!(
        ms["matchers"],
        serde_json::json!([
            {"name": "a", "value": "b", "type": "="},
            {"name": "__name__", "value": "foo", "type": "="}
        ])
    );
    let d = expr_to_json(&parse_with_options("foo[(5m) + step()]", &all()).unwrap());
    assert_eq!(d["range"], 0);
    assert_eq!(d["rangeExpr"]["op"], "+");
    assert_eq!(d["rangeExpr"]["lhs"]["wrapped"], true);
    assert_eq!(d["rangeExpr"]["rhs"]["op"], "step");
}
