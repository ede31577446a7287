//! Executing parsed scripts against an engine and a store.

use crate::compare::{compare, render_expected, render_value};
use crate::script::{Command, Eval, EvalKind, ExpectKind, Expected, Load, parse_script};
use crate::{EvalReport, Outcome, ScriptReport, TestStorage};
use std::collections::HashSet;
use watchfire_promql::{Engine, QueryError, QueryResult, Value, VectorSample};
use watchfire_storage::Queryable;

use crate::notation::SeqValue;

/// Functions Prometheus only parses with its experimental-functions flag.
const EXPERIMENTAL_FUNCTIONS: &[&str] = &[
    "double_exponential_smoothing",
    "first_over_time",
    "histogram_quantiles",
    "info",
    "integral",
    "limit_ratio",
    "limitk",
    "mad_over_time",
    "sort_by_label",
    "sort_by_label_desc",
    "ts_of_first_over_time",
    "ts_of_last_over_time",
    "ts_of_max_over_time",
    "ts_of_min_over_time",
];

/// The data loaded since the last `clear`.
struct Session {
    storage: Box<dyn TestStorage>,
    /// Metric names that have native-histogram samples (not stored).
    histogram_metrics: HashSet<String>,
    /// Whether a load set start timestamps (not supported).
    start_timestamps: bool,
}

/// Runs a script; see [`crate::run_script`].
pub fn run(
    text: &str,
    engine: &Engine,
    new_storage: &mut dyn FnMut() -> Box<dyn TestStorage>,
) -> ScriptReport {
    // Prometheus runs its scripts with every experimental parser feature enabled.
    let engine = &engine
        .clone()
        .with_parse_options(watchfire_promql::ParseOptions::all());
    let mut report = ScriptReport::default();
    let mut session: Option<Session> = None;
    for cmd in parse_script(text) {
        match cmd {
            Command::Clear { .. } => session = None,
            Command::Load(load) => {
                let s = session.get_or_insert_with(|| new_session(new_storage));
                if let Err(e) = run_load(s, &load) {
                    report.push(EvalReport {
                        line: load.line,
                        expr: format!("load {}ms", load.step_ms),
                        outcome: Outcome::Failed {
                            expected: "all samples stored".into(),
                            got: e,
                        },
                    });
                }
            }
            Command::Eval(ev) => {
                let s = session.get_or_insert_with(|| new_session(new_storage));
                let outcome = run_eval(engine, s, &ev);
                report.push(EvalReport {
                    line: ev.line,
                    expr: ev.expr.clone(),
                    outcome,
                });
            }
            Command::Invalid { line, text, error } => report.push(EvalReport {
                line,
                expr: text,
                outcome: Outcome::Failed {
                    expected: "a valid script command".into(),
                    got: format!("script error: {error}"),
                },
            }),
        }
    }
    report
}

fn new_session(new_storage: &mut dyn FnMut() -> Box<dyn TestStorage>) -> Session {
    Session {
        storage: new_storage(),
        histogram_metrics: HashSet::new(),
        start_timestamps: false,
    }
}

/// Appends a load's float samples in one transaction; histogram samples are noted
/// and dropped.
fn run_load(s: &mut Session, load: &Load) -> Result<(), String> {
    s.start_timestamps |= load.start_timestamps;
    let mut app = s.storage.appender();
    let mut errors = Vec::new();
    let mut rejected = 0usize;
    for series in &load.series {
        let name = series.labels.metric_name().unwrap_or("");
        if load.with_nhcb {
            for suffix in ["_bucket", "_count", "_sum"] {
                if let Some(base) = name.strip_suffix(suffix) {
                    s.histogram_metrics.insert(base.to_string());
                }
            }
        }
        let mut series_ref = None;
        for (i, v) in series.values.iter().enumerate() {
            let t = i as i64 * load.step_ms;
            match v {
                SeqValue::Omitted => {}
                SeqValue::Histogram => {
                    s.histogram_metrics.insert(name.to_string());
                }
                SeqValue::Float(f) => match app.append(series_ref, &series.labels, t, *f) {
                    Ok(r) => series_ref = Some(r),
                    Err(e) => {
                        rejected += 1;
                        if errors.len() < 3 {
                            errors.push(format!(
                                "{} at {t}ms: {e}",
                                crate::compare::fmt_labels(&series.labels)
                            ));
                        }
                    }
                },
            }
        }
    }
    app.commit().map_err(|e| format!("commit failed: {e}"))?;
    if rejected > 0 {
        return Err(format!(
            "{rejected} sample(s) rejected, e.g. {}",
            errors.join("; ")
        ));
    }
    Ok(())
}

/// Runs one eval. Evals expecting native histograms are skipped. Evals that may
/// read data Watchfire cannot store (histogram series, start timestamps) are run,
/// and a failure of theirs counts as skipped rather than failed.
fn run_eval(engine: &Engine, s: &Session, ev: &Eval) -> Outcome {
    if ev.expects_histograms() {
        return Outcome::Skipped {
            reason: "native histograms not supported".into(),
        };
    }
    let tokens = scan(&ev.expr);
    let caveat = if tokens.names.iter().any(|n| s.histogram_metrics.contains(n))
        || (!s.histogram_metrics.is_empty() && tokens.nameless_selector)
    {
        Some("native histograms not supported")
    } else if s.start_timestamps {
        Some("start timestamps (@st) not supported")
    } else {
        None
    };
    match (evaluate(engine, s, ev, &tokens), caveat) {
        (Outcome::Failed { got, .. }, Some(caveat)) => Outcome::Skipped {
            reason: format!(
                "{caveat}; the query may read such data and failed: {}",
                got.lines().next().unwrap_or("")
            ),
        },
        (outcome, _) => outcome,
    }
}

fn evaluate(engine: &Engine, s: &Session, ev: &Eval, tokens: &Scan) -> Outcome {
    let q: &dyn Queryable = &*s.storage;
    let res = match ev.kind {
        EvalKind::Instant { at } => engine.instant_query(q, &ev.expr, at),
        EvalKind::Range { start, end, step } => engine.range_query(q, &ev.expr, start, end, step),
    };
    let expected = render_expected(ev);
    let fail = |got: String| Outcome::Failed {
        expected: expected.clone(),
        got,
    };
    let res = match res {
        Err(QueryError::Unsupported(m)) => {
            return Outcome::Skipped {
                reason: format!("not supported: {m}"),
            };
        }
        Err(e) if ev.expects_fail() => {
            let msg = e.to_string();
            let ok = ev
                .expects_of(ExpectKind::Fail)
                .all(|x| x.matcher.matches(&msg));
            return if ok {
                Outcome::Passed
            } else {
                fail(format!("error: {msg}"))
            };
        }
        Err(e @ QueryError::Parse { .. }) => {
            return match &tokens.experimental {
                Some(feature) => Outcome::Skipped {
                    reason: format!("experimental syntax ({feature}) not supported: {e}"),
                },
                None => fail(format!("error: {e}")),
            };
        }
        Err(e) => return fail(format!("error: {e}")),
        Ok(r) => r,
    };
    if ev.expects_fail() {
        return fail(format!("no error; result:\n{}", render_value(&res.value)));
    }
    if let Err(m) = check_annotations(ev, &res) {
        return fail(format!("{m}\n{}", render_value(&res.value)));
    }
    if let Err(m) = compare(ev, &res.value) {
        return fail(format!("{m}\n{}", render_value(&res.value)));
    }
    match range_mode_check(engine, q, ev, &res.value, tokens) {
        Ok(()) => Outcome::Passed,
        Err(RangeCheck::Unsupported(m)) => Outcome::Skipped {
            reason: format!("instant query passed; range-mode check not supported: {m}"),
        },
        Err(RangeCheck::Failed(m)) => fail(format!("in range mode (t-1m..t+1m step 1m): {m}")),
    }
}

enum RangeCheck {
    Unsupported(String),
    Failed(String),
}

/// Prometheus also runs each instant query as a range query from `t-1m` to `t+1m`
/// with a 1m step and checks the middle step against the same expectations.
fn range_mode_check(
    engine: &Engine,
    q: &dyn Queryable,
    ev: &Eval,
    instant: &Value,
    tokens: &Scan,
) -> Result<(), RangeCheck> {
    let EvalKind::Instant { at } = ev.kind else {
        return Ok(());
    };
    if ev.range_vector.is_some()
        || matches!(ev.expected, Expected::String(_))
        || ev.ordered()
        || tokens.query_context_functions
    {
        return Ok(());
    }
    let res = match engine.range_query(q, &ev.expr, at - 60_000, at + 60_000, 60_000) {
        Ok(r) => r,
        Err(QueryError::Unsupported(m)) => return Err(RangeCheck::Unsupported(m)),
        Err(e) => return Err(RangeCheck::Failed(format!("error: {e}"))),
    };
    let Value::Matrix(series) = &res.value else {
        return Err(RangeCheck::Failed(format!(
            "a range query returned a non-matrix: {}",
            render_value(&res.value)
        )));
    };
    if let Some(w) = series.windows(2).find(|w| w[0].labels > w[1].labels) {
        return Err(RangeCheck::Failed(format!(
            "matrix is not sorted: {} before {}",
            w[0].labels, w[1].labels
        )));
    }
    let vector: Vec<VectorSample> = series
        .iter()
        .filter_map(|s| {
            s.points
                .iter()
                .find(|(t, _)| *t == at)
                .map(|&(t, v)| VectorSample {
                    labels: s.labels.clone(),
                    t,
                    v,
                })
        })
        .collect();
    let value = if matches!(instant, Value::Scalar { .. }) {
        match vector.first() {
            Some(s) => Value::Scalar { t: at, v: s.v },
            None => return Err(RangeCheck::Failed("no point at the evaluation time".into())),
        }
    } else {
        Value::Vector(vector)
    };
    compare(ev, &value).map_err(|m| RangeCheck::Failed(format!("{m}\n{}", render_value(&value))))
}

/// Checks warnings and infos against the eval's `expect` lines.
fn check_annotations(ev: &Eval, res: &QueryResult) -> Result<(), String> {
    if ev.require_warn && res.warnings.is_empty() {
        return Err("expected warnings but got none".into());
    }
    if ev.require_info && res.infos.is_empty() {
        return Err("expected info annotations but got none".into());
    }
    for (kind, no_kind, actual, what) in [
        (ExpectKind::Warn, ExpectKind::NoWarn, &res.warnings, "warn"),
        (ExpectKind::Info, ExpectKind::NoInfo, &res.infos, "info"),
    ] {
        let expects: Vec<_> = ev.expects_of(kind).collect();
        if !expects.is_empty() {
            if actual.is_empty() {
                return Err(format!(
                    "expected {what} annotations but none were returned"
                ));
            }
            if let Some(e) = expects
                .iter()
                .find(|e| !actual.iter().any(|a| e.matcher.matches(a)))
            {
                return Err(format!(
                    "expected a {what} annotation matching {} but got {actual:?}",
                    e.matcher
                ));
            }
            if let Some(a) = actual
                .iter()
                .find(|a| !expects.iter().any(|e| e.matcher.matches(a)))
            {
                return Err(format!("unexpected {what} annotation {a:?}"));
            }
        }
        if ev.expects_of(no_kind).next().is_some() && !actual.is_empty() {
            return Err(format!("unexpected {what} annotations {actual:?}"));
        }
    }
    Ok(())
}

/// What a light scan of a query finds, without a PromQL parser.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Identifiers and string-literal contents (possible metric names).
    pub names: Vec<String>,
    /// The first experimental (feature-flagged) construct used, if any.
    pub experimental: Option<String>,
    /// Whether `start()`, `end()`, `range()` or `step()` is called.
    pub query_context_functions: bool,
    /// Whether a selector has no metric name before its braces (`{job="a"}`), so
    /// it may select any metric.
    pub nameless_selector: bool,
}

/// Scans a query for names, experimental syntax and query-context functions.
pub(crate) fn scan(expr: &str) -> Scan {
    let mut out = Scan::default();
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut prev_sig: Option<char> = None; // last non-space character
    let mut prev_word = String::new();
    let flag = |out: &mut Scan, what: String| {
        if out.experimental.is_none() {
            out.experimental = Some(what);
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            let mut j = i + 1;
            let mut s = String::new();
            while j < chars.len() && chars[j] != c {
                if chars[j] == '\\' && c != '`' {
                    j += 1;
                }
                if let Some(&ch) = chars.get(j) {
                    s.push(ch);
                }
                j += 1;
            }
            out.names.push(s);
            i = j + 1;
            prev_sig = Some(c);
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_ascii_alphanumeric() || chars[j] == '_' || chars[j] == ':')
            {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            let mut k = j;
            while k < chars.len() && chars[k].is_whitespace() {
                k += 1;
            }
            let call = chars.get(k) == Some(&'(');
            let after_at = prev_sig == Some('@');
            if call {
                if matches!(word.as_str(), "fill" | "fill_left" | "fill_right") {
                    flag(&mut out, "fill modifiers".into());
                } else if EXPERIMENTAL_FUNCTIONS.contains(&word.as_str()) {
                    flag(&mut out, format!("experimental function {word}"));
                }
                if matches!(word.as_str(), "start" | "end" | "range" | "step") {
                    out.query_context_functions = true;
                    if !after_at {
                        flag(&mut out, "duration expressions".into());
                    }
                }
            }
            if matches!(word.as_str(), "anchored" | "smoothed") {
                flag(&mut out, format!("{word} selectors"));
            }
            if prev_word == "offset" && call {
                flag(&mut out, "duration expressions".into());
            }
            out.names.push(word.clone());
            prev_word = word;
            prev_sig = chars[..j].last().copied();
            i = j;
            continue;
        }
        if c == '[' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != ']' {
                j += 1;
            }
            let inner: String = chars[i + 1..j.min(chars.len())].iter().collect();
            if inner.contains(['+', '*', '/', '%', '^', '(']) || inner.trim_start().starts_with('-')
            {
                flag(&mut out, "duration expressions".into());
            }
            // Scan the inside too (for step() and friends).
            let inner_scan = scan(&inner);
            out.query_context_functions |= inner_scan.query_context_functions;
            if let Some(x) = inner_scan.experimental {
                flag(&mut out, x);
            }
            i = j + 1;
            prev_sig = Some(']');
            prev_word.clear();
            continue;
        }
        if c == '{' && !prev_sig.is_some_and(|p| p.is_ascii_alphanumeric() || p == '_' || p == ':')
        {
            out.nameless_selector = true;
        }
        if c == '(' && prev_word == "offset" {
            flag(&mut out, "duration expressions".into());
        }
        if !c.is_whitespace() {
            prev_sig = Some(c);
            if c != '-' {
                prev_word.clear();
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scan_finds_experimental_syntax() {
        let x = |e: &str| scan(e).experimental;
        assert_eq!(x("rate(foo[5m])"), None);
        assert_eq!(x("foo offset -5m"), None);
        assert_eq!(x("foo @ start()"), None);
        assert_eq!(x("sum_over_time(foo[5m:1m] offset 1m)"), None);
        assert_eq!(
            x("label_replace(foo, \"a\", \"fill(\", \"b\", \".*\")"),
            None
        );
        assert_eq!(x("changes(foo[26m+4m])").unwrap(), "duration expressions");
        assert_eq!(x("foo offset (2 * 2)").unwrap(), "duration expressions");
        assert_eq!(x("foo offset -(2 * 2)").unwrap(), "duration expressions");
        assert_eq!(
            x("count_over_time(foo[step()])").unwrap(),
            "duration expressions"
        );
        assert_eq!(x("a + fill(0) b").unwrap(), "fill modifiers");
        assert_eq!(
            x("increase(foo[1m] anchored)").unwrap(),
            "anchored selectors"
        );
        assert_eq!(
            x("info(foo, {a=\"b\"})").unwrap(),
            "experimental function info"
        );
        assert!(scan("foo @ end()").query_context_functions);
        assert!(scan("count_over_time(foo[step()])").query_context_functions);
    }

    #[test]
    fn scan_collects_names() {
        let s = scan("sum(rate(http_requests{job=\"api\"}[5m])) by (job)");
        assert!(s.names.iter().any(|n| n == "http_requests"));
        assert!(s.names.iter().any(|n| n == "api"));
        assert!(!s.nameless_selector);
        assert!(scan("sum({job=\"a\"})").nameless_selector);
        assert!(scan("count_over_time({__name__=~\"x.*\"}[1m])").nameless_selector);
    }
}
