//! `test rules`: promtool's rule unit-test files, run unchanged, with promtool's
//! output and exit codes.

use super::fmt::{alerts_string, go_duration, indent_lines, model_duration, samples_string};
use crate::file::load_rule_file;
use crate::group::{Group, RuleOptions, rule_query};
use crate::memstore::MemStorage;
use crate::rule::Rule;
use crate::yamlerr::go_yaml_error;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use watchfire_model::{Labels, go_quote};
use watchfire_promql::Engine;
use watchfire_promqltest::{SeqValue, parse_series};
use watchfire_storage::Appendable;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitTestFile {
    #[serde(default)]
    rule_files: Vec<String>,
    #[serde(default)]
    evaluation_interval: Option<String>,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    tests: Vec<TestGroup>,
    #[serde(default)]
    fuzzy_compare: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestGroup {
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    input_series: Vec<SeriesDef>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTestCase>,
    #[serde(default)]
    promql_expr_test: Vec<PromqlTestCase>,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
    #[serde(default)]
    external_url: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    start_timestamp: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesDef {
    #[serde(default)]
    series: String,
    #[serde(default)]
    values: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTestCase {
    #[serde(default)]
    eval_time: Option<String>,
    #[serde(default)]
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpAlert {
    #[serde(default)]
    exp_labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    exp_annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromqlTestCase {
    #[serde(default)]
    expr: String,
    #[serde(default)]
    eval_time: Option<String>,
    #[serde(default)]
    exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSample {
    #[serde(default)]
    labels: String,
    #[serde(default)]
    value: f64,
    #[serde(default)]
    histogram: String,
}

/// Prometheus' `model.Duration` from YAML (absent = 0).
fn dur(s: &Option<String>) -> Result<i64, String> {
    match s.as_deref() {
        None | Some("") => Ok(0),
        Some(t) => watchfire_model::parse_duration_ms(t)
            .ok_or_else(|| format!("not a valid duration string: {t:?}")),
    }
}

/// `start_timestamp`: RFC 3339 or Unix seconds.
fn parse_start(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<f64>() {
        return Ok((secs * 1000.0).round() as i64);
    }
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| format!("cannot parse {s:?} to a valid timestamp"))
}

/// An alert as compared: labels and annotations.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct LabelsAndAnnotations {
    pub labels: Labels,
    pub annotations: Vec<(String, String)>,
}

/// Runs `test rules` over `paths`. `run` selects test groups by name (regexes,
/// any may match). Writes promtool's output to `out`; returns the exit code.
pub fn test_rules_command(paths: &[PathBuf], run: Option<&[String]>, out: &mut dyn Write) -> i32 {
    let run_re = match run {
        Some(r) if !r.is_empty() => match regex::Regex::new(&r.join("|")) {
            Ok(re) => Some(re),
            Err(e) => {
                let _ = writeln!(out, "invalid --run regular expression: {e}");
                return 1;
            }
        },
        _ => None,
    };
    let mut failed = false;
    for p in paths {
        let errs = run_file(p, run_re.as_ref(), out);
        if errs.is_empty() {
            let _ = writeln!(out, "  SUCCESS");
        } else {
            failed = true;
            let _ = writeln!(out, "  FAILED:");
            for e in errs {
                let _ = writeln!(out, "{e}");
                let _ = writeln!(out);
            }
        }
        let _ = writeln!(out);
    }
    i32::from(failed)
}

fn run_file(path: &Path, run: Option<&regex::Regex>, out: &mut dyn Write) -> Vec<String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return vec![format!(
                "open {}: {}",
                path.display(),
                crate::go_io_error(&e)
            )];
        }
    };
    let file: UnitTestFile = match serde_saphyr::from_str(&text) {
        Ok(f) => f,
        Err(e) => return vec![go_yaml_error(&e)],
    };
    let base = path.parent().unwrap_or(Path::new(""));
    let mut rule_files = Vec::new();
    for rf in &file.rule_files {
        let joined = if rf.is_empty() || Path::new(rf).is_absolute() {
            PathBuf::from(rf)
        } else {
            base.join(rf)
        };
        let pattern = joined.display().to_string();
        let matches: Vec<PathBuf> = match glob::glob(&pattern) {
            Ok(m) => m.flatten().collect(),
            Err(e) => return vec![format!("syntax error in pattern: {e}")],
        };
        if matches.is_empty() {
            let _ = writeln!(out, "  WARNING: no file match pattern {pattern}");
        }
        rule_files.extend(matches);
    }
    let eval_interval = match dur(&file.evaluation_interval) {
        Ok(0) => 60_000,
        Ok(v) => v,
        Err(e) => return vec![e],
    };
    let mut order: HashMap<String, usize> = HashMap::new();
    for (i, g) in file.group_eval_order.iter().enumerate() {
        if order.insert(g.clone(), i).is_some() {
            return vec![format!("group name repeated in evaluation order: {g}")];
        }
    }
    let mut errs = Vec::new();
    for (i, tg) in file.tests.iter().enumerate() {
        if let Some(re) = run
            && !re.is_match(&tg.name)
        {
            continue;
        }
        let ctx = FileCtx {
            eval_interval,
            order: &order,
            fuzzy: file.fuzzy_compare,
            rule_files: &rule_files,
        };
        let _ = i;
        errs.extend(run_group(tg, &ctx));
    }
    errs
}

struct FileCtx<'a> {
    eval_interval: i64,
    order: &'a HashMap<String, usize>,
    fuzzy: bool,
    rule_files: &'a [PathBuf],
}

fn float_eq(a: f64, b: f64, fuzzy: bool) -> bool {
    a == b || (fuzzy && (a.next_down() == b || a.next_up() == b))
}

fn run_group(tg: &TestGroup, ctx: &FileCtx<'_>) -> Vec<String> {
    let interval = match dur(&tg.interval) {
        Ok(0) => ctx.eval_interval,
        Ok(v) => v,
        Err(e) => return vec![e],
    };
    let mint = match tg.start_timestamp.as_deref() {
        None | Some("") => 0,
        Some(s) => match parse_start(s) {
            Ok(v) => v,
            Err(e) => return vec![e],
        },
    };
    // Input series, loaded lazily up to each evaluation time.
    let mut input: Vec<(Labels, Vec<(i64, f64)>)> = Vec::new();
    for s in &tg.input_series {
        let line = format!("{} {}", s.series, s.values);
        let (labels, values) = match parse_series(&line) {
            Ok(v) => v,
            Err(e) => return vec![e],
        };
        let mut pts = Vec::new();
        for (i, v) in values.into_iter().enumerate() {
            match v {
                SeqValue::Omitted => {}
                SeqValue::Float(f) => pts.push((mint + i as i64 * interval, f)),
                SeqValue::Histogram => {
                    return vec![format!(
                        "native histogram samples are not supported (series {})",
                        s.series
                    )];
                }
            }
        }
        input.push((labels, pts));
    }
    let store = Arc::new(MemStorage::new());
    let mut opts = RuleOptions::new(Engine::default(), store.clone(), store.clone());
    opts.external_labels = tg.external_labels.clone();
    opts.external_url = tg.external_url.clone();
    opts.default_interval_ms = interval;
    let mut groups: Vec<Group> = Vec::new();
    for f in ctx.rule_files {
        match load_rule_file(f, &watchfire_promql::ParseOptions::default()) {
            Ok(defs) => groups.extend(defs.iter().map(|d| Group::new(d, &opts, false))),
            Err(e) => return e.into_iter().map(|e| e.to_string()).collect(),
        }
    }
    groups.sort_by_key(|g| ctx.order.get(&g.name).copied().unwrap_or(0));

    let max_eval = tg
        .alert_rule_test
        .iter()
        .map(|a| dur(&a.eval_time))
        .chain(tg.promql_expr_test.iter().map(|p| dur(&p.eval_time)))
        .collect::<Result<Vec<i64>, String>>();
    let eval_times = match max_eval {
        Ok(v) => v,
        Err(e) => return vec![e],
    };
    let maxt = mint + eval_times.into_iter().max().unwrap_or(0);

    let mut alert_tests: BTreeMap<i64, Vec<&AlertTestCase>> = BTreeMap::new();
    for a in &tg.alert_rule_test {
        let t = dur(&a.eval_time).unwrap_or(0);
        if a.alertname.is_empty() {
            let in_group = if tg.name.is_empty() {
                String::new()
            } else {
                format!(" (in TestGroup {})", tg.name)
            };
            return vec![format!(
                "an item under alert_rule_test misses required attribute alertname at eval_time {}{in_group}",
                model_duration(t)
            )];
        }
        alert_tests.entry(t).or_default().push(a);
    }
    let alert_times: Vec<i64> = alert_tests.keys().copied().collect();
    let mut curr = 0;
    let mut errs = Vec::new();
    let mut loaded = vec![0usize; input.len()];
    let mut ts = mint;
    while ts <= maxt {
        // Load input samples up to `ts`.
        let mut app = store.appender();
        for (i, (labels, pts)) in input.iter().enumerate() {
            while loaded[i] < pts.len() && pts[loaded[i]].0 <= ts {
                let (t, v) = pts[loaded[i]];
                if let Err(e) = app.append(None, labels, t, v) {
                    errs.push(e.to_string());
                }
                loaded[i] += 1;
            }
        }
        if let Err(e) = app.commit() {
            errs.push(e.to_string());
        }
        drop(app);
        let mut eval_errs = Vec::new();
        for g in &mut groups {
            g.eval(ts, &opts);
            for r in &g.rules {
                if let Some(e) = &r.status().last_error {
                    eval_errs.push(format!(
                        "    rule: {}, time: {}, err: {e}",
                        r.name(),
                        go_duration(ts)
                    ));
                }
            }
        }
        let had_eval_errs = !eval_errs.is_empty();
        errs.extend(eval_errs);
        if had_eval_errs {
            return errs;
        }
        while curr < alert_times.len()
            && ts - mint <= alert_times[curr]
            && alert_times[curr] < ts + ctx.eval_interval - mint
        {
            let t = alert_times[curr];
            check_alerts(tg, &groups, &alert_tests[&t], &mut errs);
            curr += 1;
        }
        ts += ctx.eval_interval;
    }

    'cases: for tc in &tg.promql_expr_test {
        let et = dur(&tc.eval_time).unwrap_or(0);
        let got = match rule_query(&opts.engine, store.as_ref(), &tc.expr, mint + et) {
            Ok(v) => v,
            Err(e) => {
                errs.push(format!(
                    "    expr: {}, time: {}, err: {e}",
                    go_quote(&tc.expr),
                    model_duration(et)
                ));
                continue;
            }
        };
        let mut exp: Vec<(Labels, f64)> = Vec::new();
        for s in &tc.exp_samples {
            let parsed = if s.labels.trim().is_empty() {
                Ok(Labels::empty())
            } else {
                parse_series(&format!("{} 0", s.labels)).map(|(l, _)| l)
            };
            let parsed = parsed.and_then(|l| {
                if s.histogram.is_empty() {
                    Ok(l)
                } else {
                    Err("native histograms are not supported".to_string())
                }
            });
            match parsed {
                Ok(l) => exp.push((l, s.value)),
                Err(e) => {
                    errs.push(format!(
                        "    expr: {}, time: {}, err: labels {}: {e}",
                        go_quote(&tc.expr),
                        model_duration(et),
                        go_quote(&s.labels)
                    ));
                    continue 'cases;
                }
            }
        }
        let mut got = got;
        exp.sort_by(|a, b| a.0.cmp(&b.0));
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let equal = exp.len() == got.len()
            && exp
                .iter()
                .zip(&got)
                .all(|(e, g)| e.0 == g.0 && float_eq(e.1, g.1, ctx.fuzzy));
        if !equal {
            errs.push(format!(
                "    expr: {}, time: {},\n        exp: {}\n        got: {}",
                go_quote(&tc.expr),
                model_duration(et),
                samples_string(&exp),
                samples_string(&got)
            ));
        }
    }
    errs
}

fn check_alerts(
    tg: &TestGroup,
    groups: &[Group],
    cases: &[&AlertTestCase],
    errs: &mut Vec<String>,
) {
    let present: BTreeSet<&str> = cases.iter().map(|c| c.alertname.as_str()).collect();
    let mut got: HashMap<&str, Vec<LabelsAndAnnotations>> = HashMap::new();
    for g in groups {
        for r in &g.rules {
            let Rule::Alerting(a) = r else { continue };
            if !present.contains(a.name.as_str()) {
                continue;
            }
            let entry = got.entry(a.name.as_str()).or_default();
            for al in a.active_alerts() {
                if al.state == crate::AlertState::Firing {
                    entry.push(LabelsAndAnnotations {
                        labels: al.labels.clone(),
                        annotations: al
                            .annotations
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    });
                }
            }
        }
    }
    for tc in cases {
        let mut got_alerts = got.get(tc.alertname.as_str()).cloned().unwrap_or_default();
        let mut exp_alerts: Vec<LabelsAndAnnotations> = tc
            .exp_alerts
            .iter()
            .map(|a| {
                let mut l = a.exp_labels.clone().unwrap_or_default();
                l.insert("alertname".into(), tc.alertname.clone());
                LabelsAndAnnotations {
                    labels: Labels::from_pairs(l.iter()),
                    annotations: a
                        .exp_annotations
                        .clone()
                        .unwrap_or_default()
                        .into_iter()
                        .collect(),
                }
            })
            .collect();
        got_alerts.sort();
        exp_alerts.sort();
        if got_alerts != exp_alerts {
            let name = if tg.name.is_empty() {
                String::new()
            } else {
                format!("    name: {},\n", tg.name)
            };
            let t = dur(&tc.eval_time).unwrap_or(0);
            errs.push(format!(
                "{name}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
                tc.alertname,
                model_duration(t),
                indent_lines(&alerts_string(&exp_alerts), "            "),
                indent_lines(&alerts_string(&got_alerts), "            ")
            ));
        }
    }
}
