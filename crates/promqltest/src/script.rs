//! Parsing a script into commands.
//!
//! A script is a list of commands separated by blank lines; `#` starts a comment
//! line. Commands are `load <step>` (or `load_with_nhcb <step>`) followed by series
//! lines, `clear`, and `eval` (instant or range) followed by expectation lines.

use crate::notation::{SeqValue, parse_duration, parse_number, parse_quoted, parse_series};
use watchfire_model::Labels;

/// One series of a `load` command.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSeries {
    /// Series labels.
    pub labels: Labels,
    /// Values at positions 0, 1, 2, ... (timestamps `i * step`).
    pub values: Vec<SeqValue>,
}

/// `load <step>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// 1-based line of the command.
    pub line: usize,
    /// Interval between positions (ms).
    pub step_ms: i64,
    /// `load_with_nhcb`: classic histograms are also loaded as native histograms.
    pub with_nhcb: bool,
    /// The series, in file order (a repeated series replaces the earlier one).
    pub series: Vec<LoadSeries>,
    /// Whether the command sets start timestamps (`metric@st ...` lines).
    pub start_timestamps: bool,
}

/// Which annotation or error an `expect` line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectKind {
    /// `expect fail`.
    Fail,
    /// `expect warn`.
    Warn,
    /// `expect no_warn`.
    NoWarn,
    /// `expect info`.
    Info,
    /// `expect no_info`.
    NoInfo,
    /// `expect ordered`.
    Ordered,
}

/// How an `expect` line matches a message.
#[derive(Debug, Clone)]
pub enum MessageMatch {
    /// No `msg:`/`regex:` part: anything matches.
    Any,
    /// `msg: text`: exact match.
    Exact(String),
    /// `regex: pattern`: unanchored regular-expression match.
    Regex(regex::Regex),
}

impl MessageMatch {
    /// Whether `message` satisfies this matcher.
    pub fn matches(&self, message: &str) -> bool {
        match self {
            MessageMatch::Any => true,
            MessageMatch::Exact(m) => m == message,
            MessageMatch::Regex(r) => r.is_match(message),
        }
    }
}

impl std::fmt::Display for MessageMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MessageMatch::Any => f.write_str("anything"),
            MessageMatch::Exact(m) => write!(f, "message {m:?}"),
            MessageMatch::Regex(r) => write!(f, "pattern {:?}", r.as_str()),
        }
    }
}

/// One `expect` line.
#[derive(Debug, Clone)]
pub struct Expect {
    /// What it is about.
    pub kind: ExpectKind,
    /// How it matches messages.
    pub matcher: MessageMatch,
}

/// An expected series of an `eval`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedSeries {
    /// 1-based position among the expected series (for `expect ordered`).
    pub pos: usize,
    /// Labels.
    pub labels: Labels,
    /// Values: one for instant queries, one per step for range results.
    pub values: Vec<SeqValue>,
}

/// What an `eval` expects as its value.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// Series (possibly none: an empty result).
    Series(Vec<ExpectedSeries>),
    /// A bare number line: a scalar.
    Scalar(f64),
    /// `expect string "..."`.
    String(String),
}

/// Evaluation times of an `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalKind {
    /// `eval instant at <t>`.
    Instant {
        /// Evaluation time (ms).
        at: i64,
    },
    /// `eval range from <start> to <end> step <step>`.
    Range {
        /// First step (ms).
        start: i64,
        /// Last step (ms, inclusive).
        end: i64,
        /// Step (ms).
        step: i64,
    },
}

/// An `eval` command.
#[derive(Debug, Clone)]
pub struct Eval {
    /// 1-based line of the command.
    pub line: usize,
    /// The query.
    pub expr: String,
    /// Instant or range.
    pub kind: EvalKind,
    /// `expect ...` lines (old-style `eval_*` variants are translated into these).
    pub expects: Vec<Expect>,
    /// Old-style `eval_warn`/`eval_info`: at least one such annotation is required.
    pub require_warn: bool,
    /// See [`Eval::require_warn`].
    pub require_info: bool,
    /// The expected value.
    pub expected: Expected,
    /// `expect range vector from <s> to <e> step <st>`: the instant query returns a
    /// range vector with points at `s + i*st`; `(start, end, step)` in ms.
    pub range_vector: Option<(i64, i64, i64)>,
}

impl Eval {
    /// The `expect` lines of one kind.
    pub fn expects_of(&self, kind: ExpectKind) -> impl Iterator<Item = &Expect> {
        self.expects.iter().filter(move |e| e.kind == kind)
    }

    /// Whether the query must fail.
    pub fn expects_fail(&self) -> bool {
        self.expects_of(ExpectKind::Fail).next().is_some()
    }

    /// Whether result order matters.
    pub fn ordered(&self) -> bool {
        self.expects_of(ExpectKind::Ordered).next().is_some()
    }

    /// Whether any expected value is a native histogram.
    pub fn expects_histograms(&self) -> bool {
        match &self.expected {
            Expected::Series(s) => s
                .iter()
                .any(|s| s.values.iter().any(|v| matches!(v, SeqValue::Histogram))),
            _ => false,
        }
    }
}

/// A script command.
#[derive(Debug, Clone)]
pub enum Command {
    /// Add samples.
    Load(Load),
    /// Drop all data.
    Clear {
        /// 1-based line.
        line: usize,
    },
    /// Run a query and check it.
    Eval(Box<Eval>),
    /// A command that could not be parsed; the rest of the script still runs.
    Invalid {
        /// 1-based line.
        line: usize,
        /// The offending line.
        text: String,
        /// What is wrong.
        error: String,
    },
}

/// Parses a script. Malformed commands become [`Command::Invalid`] so one bad
/// command does not hide the results of the others.
pub fn parse_script(text: &str) -> Vec<Command> {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| {
            let t = l.trim();
            if t.starts_with('#') { "" } else { t }
        })
        .collect();
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].is_empty() {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i + 1;
        while end < lines.len() && !lines[end].is_empty() {
            end += 1;
        }
        let block = &lines[start..end];
        let word = block[0]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let parsed = if word == "clear" {
            Ok(Command::Clear { line: start + 1 })
        } else if word.starts_with("load") {
            parse_load(block, start).map(Command::Load)
        } else if word.starts_with("eval") {
            parse_eval(block, start).map(|e| Command::Eval(Box::new(e)))
        } else {
            Err((start, format!("unknown command {word:?}")))
        };
        cmds.push(parsed.unwrap_or_else(|(at, error)| Command::Invalid {
            line: at + 1,
            text: lines[at].to_string(),
            error,
        }));
        // `clear` takes one line; anything after it in the block is a new command.
        i = if word == "clear" { start + 1 } else { end };
    }
    cmds
}

type ParseResult<T> = Result<T, (usize, String)>;

fn parse_load(block: &[&str], first: usize) -> ParseResult<Load> {
    let mut words = block[0].split_whitespace();
    let cmd = words.next().unwrap_or("");
    let with_nhcb = match cmd {
        "load" => false,
        "load_with_nhcb" => true,
        _ => return Err((first, format!("unknown load variant {cmd:?}"))),
    };
    let step = words
        .next()
        .ok_or((first, "load needs a step".to_string()))?;
    let step_ms = parse_duration(step).map_err(|e| (first, e))?;
    let mut load = Load {
        line: first + 1,
        step_ms,
        with_nhcb,
        series: Vec::new(),
        start_timestamps: false,
    };
    for (k, line) in block.iter().enumerate().skip(1) {
        let head = line.split_whitespace().next().unwrap_or("");
        if head.ends_with("@st") {
            load.start_timestamps = true;
            continue;
        }
        let (labels, values) = parse_series(line).map_err(|e| (first + k, e))?;
        load.series.retain(|s| s.labels != labels);
        load.series.push(LoadSeries { labels, values });
    }
    Ok(load)
}

/// Splits `s` at the first run of whitespace.
fn split_word(s: &str) -> (&str, &str) {
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

/// Splits `s` at the first occurrence of the keyword `kw` surrounded by whitespace.
fn split_keyword<'a>(s: &'a str, kw: &str) -> Option<(&'a str, &'a str)> {
    let words: Vec<(usize, &str)> = s
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - s.as_ptr() as usize, w))
        .collect();
    let (idx, w) = words.iter().find(|(_, w)| *w == kw)?;
    Some((s[..*idx].trim(), s[idx + w.len()..].trim_start()))
}

fn parse_eval(block: &[&str], first: usize) -> ParseResult<Eval> {
    let err = |m: String| (first, m);
    let (cmd, rest) = split_word(block[0]);
    let variant = match cmd {
        "eval" => "",
        "eval_fail" => "fail",
        "eval_warn" => "warn",
        "eval_info" => "info",
        "eval_ordered" => "ordered",
        _ => return Err(err(format!("unknown eval variant {cmd:?}"))),
    };
    let (mode, rest) = split_word(rest);
    let (kind, expr) = match mode {
        "instant" => {
            let rest = rest
                .strip_prefix("at")
                .filter(|r| r.starts_with(char::is_whitespace))
                .ok_or_else(|| err("expected 'at <time>' after 'instant'".into()))?;
            let (at, expr) = split_word(rest.trim_start());
            let at = parse_duration(at).map_err(|e| err(format!("invalid time: {e}")))?;
            (EvalKind::Instant { at }, expr)
        }
        "range" => {
            let rest = rest
                .strip_prefix("from")
                .ok_or_else(|| err("expected 'from' after 'range'".into()))?;
            let (from, rest) =
                split_keyword(rest, "to").ok_or_else(|| err("expected 'to'".into()))?;
            let (to, rest) =
                split_keyword(rest, "step").ok_or_else(|| err("expected 'step'".into()))?;
            let (step, expr) = split_word(rest);
            let start = parse_duration(from).map_err(|e| err(format!("invalid start: {e}")))?;
            let end = parse_duration(to).map_err(|e| err(format!("invalid end: {e}")))?;
            let step = parse_duration(step).map_err(|e| err(format!("invalid step: {e}")))?;
            if end < start {
                return Err(err("end is before start".into()));
            }
            if step <= 0 {
                return Err(err("step must be positive".into()));
            }
            (EvalKind::Range { start, end, step }, expr)
        }
        _ => return Err(err(format!("expected 'instant' or 'range', got {mode:?}"))),
    };
    if expr.is_empty() {
        return Err(err("missing query".into()));
    }
    let mut ev = Eval {
        line: first + 1,
        expr: expr.to_string(),
        kind,
        expects: Vec::new(),
        require_warn: variant == "warn",
        require_info: variant == "info",
        expected: Expected::Series(Vec::new()),
        range_vector: None,
    };
    match variant {
        "fail" => ev.expects.push(Expect {
            kind: ExpectKind::Fail,
            matcher: MessageMatch::Any,
        }),
        "ordered" => ev.expects.push(Expect {
            kind: ExpectKind::Ordered,
            matcher: MessageMatch::Any,
        }),
        _ => {}
    }
    let mut series = Vec::new();
    let mut scalar = None;
    let mut string = None;
    for (k, line) in block.iter().enumerate().skip(1) {
        let at = first + k;
        parse_eval_line(line, &mut ev, &mut series, &mut scalar, &mut string)
            .map_err(|e| (at, e))?;
    }
    ev.expected = match (scalar, string) {
        (Some(v), _) => Expected::Scalar(v),
        (None, Some(s)) => Expected::String(s),
        (None, None) => Expected::Series(series),
    };
    Ok(ev)
}

fn parse_eval_line(
    line: &str,
    ev: &mut Eval,
    series: &mut Vec<ExpectedSeries>,
    scalar: &mut Option<f64>,
    string: &mut Option<String>,
) -> Result<(), String> {
    let (first_word, rest) = split_word(line);
    if let Some(kind) = ["expected_fail_message", "expected_fail_regexp"]
        .into_iter()
        .find(|k| *k == first_word)
    {
        let matcher = if kind == "expected_fail_message" {
            MessageMatch::Exact(rest.trim().to_string())
        } else {
            MessageMatch::Regex(regex::Regex::new(rest.trim()).map_err(|e| e.to_string())?)
        };
        ev.expects.retain(|e| e.kind != ExpectKind::Fail);
        ev.expects.push(Expect {
            kind: ExpectKind::Fail,
            matcher,
        });
        return Ok(());
    }
    if first_word == "expect" {
        let (what, rest) = split_word(rest);
        match what {
            "range" => {
                let rest = rest
                    .strip_prefix("vector")
                    .map(str::trim_start)
                    .and_then(|r| r.strip_prefix("from"))
                    .ok_or("expected 'expect range vector from <s> to <e> step <st>'")?;
                let (from, rest) = split_keyword(rest, "to").ok_or("expected 'to'")?;
                let (to, step) = split_keyword(rest, "step").ok_or("expected 'step'")?;
                let (s, e, st) = (
                    parse_duration(from)?,
                    parse_duration(to)?,
                    parse_duration(step)?,
                );
                if e < s {
                    return Err("range vector end is before its start".into());
                }
                ev.range_vector = Some((s, e, st));
                return Ok(());
            }
            "string" => {
                let rest = rest.trim();
                let (s, tail) = parse_quoted(rest).map_err(|e| format!("expect string: {e}"))?;
                if !tail.trim().is_empty() {
                    return Err(format!("unexpected {tail:?} after expected string"));
                }
                *string = Some(s);
                return Ok(());
            }
            _ => {}
        }
        let kind = match what {
            "fail" => ExpectKind::Fail,
            "warn" => ExpectKind::Warn,
            "no_warn" => ExpectKind::NoWarn,
            "info" => ExpectKind::Info,
            "no_info" => ExpectKind::NoInfo,
            "ordered" => ExpectKind::Ordered,
            _ => return Err(format!("unknown expectation {what:?}")),
        };
        let rest = rest.trim();
        let matcher = if rest.is_empty() {
            MessageMatch::Any
        } else if let Some(m) = rest.strip_prefix("msg:") {
            MessageMatch::Exact(m.trim().to_string())
        } else if let Some(p) = rest.strip_prefix("regex:") {
            let p = p.trim();
            MessageMatch::Regex(
                regex::Regex::new(p).map_err(|e| format!("invalid regex {p:?}: {e}"))?,
            )
        } else {
            return Err(format!("expected 'msg:' or 'regex:' after 'expect {what}'"));
        };
        if matches!(
            kind,
            ExpectKind::Ordered | ExpectKind::NoWarn | ExpectKind::NoInfo
        ) && !matches!(matcher, MessageMatch::Any)
        {
            return Err(format!("'expect {what}' takes no message"));
        }
        ev.expects.push(Expect { kind, matcher });
        let has = |k| ev.expects.iter().any(|e| e.kind == k);
        if has(ExpectKind::Warn) && has(ExpectKind::NoWarn) {
            return Err("warn and no_warn cannot be used together".into());
        }
        if has(ExpectKind::Info) && has(ExpectKind::NoInfo) {
            return Err("info and no_info cannot be used together".into());
        }
        if ev.expects_of(ExpectKind::Fail).count() > 1 {
            return Err("only one 'expect fail' line is allowed".into());
        }
        return Ok(());
    }
    if let Ok(v) = parse_number(line) {
        *scalar = Some(v);
        return Ok(());
    }
    let (labels, values) = parse_series(line)?;
    if values.is_empty() {
        return Err(format!("expected series {labels} has no value"));
    }
    if values.len() > 1 && matches!(ev.kind, EvalKind::Instant { .. }) && ev.range_vector.is_none()
    {
        return Err(
            "an instant query expects one value per series unless 'expect range vector' is given"
                .into(),
        );
    }
    series.retain(|s: &ExpectedSeries| s.labels != labels);
    let pos = series.len() + 1;
    series.push(ExpectedSeries {
        pos,
        labels,
        values,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn only_eval(text: &str) -> Eval {
        match parse_script(text).into_iter().next().unwrap() {
            Command::Eval(e) => *e,
            other => panic!("not an eval: {other:?}"),
        }
    }

    #[test]
    fn commands_are_split_by_blank_lines_and_comments_dropped() {
        let cmds = parse_script(
            "# comment\nload 5m\n  a{x=\"1\"} 1+1x3\n  b 1 2\n  a{x=\"1\"} 7\n\neval instant at 10m a\n  {x=\"1\"} 3\n\nclear\neval instant at 0 b\n\nbogus line\n",
        );
        assert_eq!(cmds.len(), 5, "{cmds:?}");
        let Command::Load(l) = &cmds[0] else { panic!() };
        assert_eq!((l.line, l.step_ms, l.series.len()), (2, 300_000, 2));
        assert_eq!(l.series[1].values, vec![SeqValue::Float(7.0)]);
        let Command::Eval(e) = &cmds[1] else { panic!() };
        assert_eq!(e.line, 7);
        assert!(matches!(cmds[2], Command::Clear { line: 10 }));
        assert!(matches!(&cmds[3], Command::Eval(e) if e.line == 11));
        assert!(matches!(cmds[4], Command::Invalid { line: 13, .. }));
    }

    #[test]
    fn eval_headers() {
        let e = only_eval("eval instant at 1m30s sum by (job) (rate(x[5m]))\n");
        assert_eq!(e.kind, EvalKind::Instant { at: 90_000 });
        assert_eq!(e.expr, "sum by (job) (rate(x[5m]))");
        assert_eq!(e.expected, Expected::Series(vec![]));
        let e = only_eval("eval range from 0 to 10m step 5m foo offset 1m\n  foo 1 2 3\n");
        assert_eq!(
            e.kind,
            EvalKind::Range {
                start: 0,
                end: 600_000,
                step: 300_000
            }
        );
        assert_eq!(e.expr, "foo offset 1m");
        let Expected::Series(s) = &e.expected else {
            panic!()
        };
        assert_eq!(s[0].values.len(), 3);
        let e = only_eval("eval_fail instant at 0 -{job=\"api\"}\n");
        assert!(e.expects_fail());
        let e = only_eval("eval_ordered instant at 0 sort(x)\n  x{a=\"2\"} 1\n  x{a=\"1\"} 2\n");
        assert!(e.ordered());
        let Expected::Series(s) = &e.expected else {
            panic!()
        };
        assert_eq!((s[0].pos, s[1].pos), (1, 2));
        let e = only_eval("eval_warn instant at 0 x\n");
        assert!(e.require_warn);
        assert!(
            parse_script("eval range from 10m to 0 step 1m x\n")[0]
                .clone()
                .is_invalid()
        );
    }

    #[test]
    fn expect_lines() {
        let e = only_eval(
            "eval instant at 0 x\n  expect no_warn\n  expect info msg: PromQL info: foo (1:1)\n  expect info regex: bar.*\n  expect ordered\n  3\n",
        );
        assert_eq!(e.expects.len(), 4);
        let infos: Vec<_> = e.expects_of(ExpectKind::Info).collect();
        assert!(infos[0].matcher.matches("PromQL info: foo (1:1)"));
        assert!(!infos[0].matcher.matches("PromQL info: foo"));
        assert!(infos[1].matcher.matches("xx bar yy"));
        assert_eq!(e.expected, Expected::Scalar(3.0));

        let e = only_eval("eval instant at 0 x\n  expect fail msg: bad thing\n");
        assert!(
            e.expects_of(ExpectKind::Fail)
                .next()
                .unwrap()
                .matcher
                .matches("bad thing")
        );
        let e = only_eval("eval instant at 0 \"a\"\n  expect string \" Foo \"\n");
        assert_eq!(e.expected, Expected::String(" Foo ".into()));
        let e = only_eval("eval instant at 0 `a`\n  expect string `Foo`\n");
        assert_eq!(e.expected, Expected::String("Foo".into()));
        let e = only_eval(
            "eval instant at 1m x[1m]\n  expect range vector from 0 to 1m step 30s\n  x 1 2 3\n",
        );
        assert_eq!(e.range_vector, Some((0, 60_000, 30_000)));
        assert!(
            parse_script("eval instant at 0 x\n  x 1 2\n")[0]
                .clone()
                .is_invalid()
        );
        assert!(
            parse_script("eval instant at 0 x\n  expect warn\n  expect no_warn\n")[0]
                .clone()
                .is_invalid()
        );
        assert!(
            parse_script("eval instant at 0 x\n  expect sometimes\n")[0]
                .clone()
                .is_invalid()
        );
    }

    impl Command {
        fn is_invalid(&self) -> bool {
            matches!(self, Command::Invalid { .. })
        }
    }
}
