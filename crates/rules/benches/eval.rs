//! Rule evaluation benchmark: can one core keep up with 10,000 recording rules
//! over 100,000 series at a 15 s interval?
//!
//! `cargo bench -p watchfire-rules --bench eval` (env: `RULES`, default 10,000;
//! `SERIES`, default 100,000, rounded to whole metrics of 100 series;
//! `ITERATIONS`, default 3; `GROUP_SIZE`, default 100; `TOP`, default 10;
//! `HISTORY`, samples per series before the first iteration, default 20).
//!
//! The store is the real TSDB (`Db`, WAL included) in a temporary directory.
//! Series are `SERIES / 100` metrics of 100 series each (labels `job`,
//! `instance`, `code`), half counters and half gauges, with `HISTORY` samples at
//! 15 s spacing before the first iteration (20: the last 5 minutes; 110 gives
//! nearly full 120-sample head chunks, since a window is decoded from its
//! chunk's start). Rules are generated
//! from 20 common recording-rule shapes (aggregated rates, error ratios,
//! `*_over_time`, `topk`, `quantile`, comparisons), in groups of `GROUP_SIZE`
//! with a 15 s interval, each group mixing shapes and metrics.
//!
//! Each iteration first appends one fresh sample to every input series (a
//! scrape, not timed), then evaluates every group once at that timestamp on
//! this thread through `RuleManager::eval_all_at`. The first iteration also
//! creates every output series; later ones are the steady state. Reported per
//! iteration: wall time, this thread's CPU time and the process' CPU time (WAL
//! and other background threads included), and the share of a 15 s interval
//! that one core needs. After the last iteration: per-rule CPU and wall time
//! (median, p99, max) from the rules' own `evaluation_cpu_s` /
//! `evaluation_time_s`, the slowest rules, and the cost by rule shape.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;
use watchfire_model::{Labels, SeriesRef};
use watchfire_promql::{Engine, Value};
use watchfire_rules::{Health, RuleManager, RuleOptions, parse_rules};
use watchfire_storage::Appendable;
use watchfire_tsdb::{Db, Options};

const INTERVAL_MS: i64 = 15_000;
const SERIES_PER_METRIC: usize = 100;
/// First evaluation timestamp: a fixed, interval-aligned instant (Nov 2023).
const T0: i64 = 113_333_333 * INTERVAL_MS;

/// Rule shapes over a counter `{c}`: (record name suffix, expression).
const COUNTER_SHAPES: [(&str, &str); 10] = [
    ("job:{m}:rate5m", "sum by (job) (rate({c}[5m]))"),
    ("job_code:{m}:rate5m", "sum by (job, code) (rate({c}[5m]))"),
    (
        "job:{m}:error_ratio5m",
        "sum by (job) (rate({c}{code=~\"5..\"}[5m])) / sum by (job) (rate({c}[5m]))",
    ),
    (
        "job_code:{m}:increase1m",
        "sum without (instance) (increase({c}[1m]))",
    ),
    (
        "instance:{m}:rate5m_top3",
        "topk(3, sum by (instance) (rate({c}[5m])))",
    ),
    (":{m}:rate5m", "sum(rate({c}[5m]))"),
    ("instance:{m}:rate5m", "sum by (instance) (rate({c}[5m]))"),
    ("job:{m}:irate", "sum by (job) (irate({c}[1m]))"),
    ("code:{m}:rate15m", "sum by (code) (rate({c}[15m]))"),
    (
        "job:{m}:errors_present",
        "count by (job) (rate({c}{code=~\"5..\"}[5m]) > 0)",
    ),
];

/// Rule shapes over a gauge `{g}`.
const GAUGE_SHAPES: [(&str, &str); 10] = [
    ("instance:{m}:avg", "avg by (instance) ({g})"),
    ("job:{m}:max", "max by (job) ({g})"),
    (
        "job:{m}:avg_over_time5m",
        "sum by (job) (avg_over_time({g}[5m]))",
    ),
    ("job:{m}:over50", "count by (job) ({g} > 50)"),
    ("job:{m}:p90", "quantile by (job) (0.9, {g})"),
    ("job:{m}:min", "min by (job) ({g})"),
    ("job:{m}:stddev", "stddev by (job) ({g})"),
    ("job_code:{m}:sum", "sum by (job, code) ({g})"),
    (
        "{m}:max_over_time5m:code500",
        "max_over_time({g}{code=\"500\"}[5m])",
    ),
    ("job:{m}:delta5m", "sum by (job) (delta({g}[5m]))"),
];

fn env(k: &str, d: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(d)
}

fn is_counter(m: usize) -> bool {
    m.is_multiple_of(2)
}

fn metric_name(m: usize) -> String {
    if is_counter(m) {
        format!("http_requests_{m}_total")
    } else {
        format!("queue_depth_{m}")
    }
}

/// Series `k` (0..100) of metric `m`: 4 jobs x 5 instances x 5 codes.
fn series_labels(m: usize, k: usize) -> Labels {
    let job = k / 25;
    let inst = (k / 5) % 5;
    let code = ["200", "201", "404", "500", "503"][k % 5];
    Labels::from_pairs([
        ("__name__", metric_name(m)),
        ("job", format!("svc-{job}")),
        ("instance", format!("10.0.{job}.{inst}:8080")),
        ("code", code.to_string()),
    ])
}

/// Value of series `k` of metric `m` at scrape `step`: counters grow at a
/// per-series rate (code 5xx slower), gauges wander in 0..100.
fn value(m: usize, k: usize, step: i64) -> f64 {
    let seed = (m * 131 + k * 17) as i64;
    if is_counter(m) {
        let per_scrape = if k % 5 >= 3 {
            1 + seed % 3
        } else {
            10 + seed % 90
        };
        (1_000 + seed * 7 + per_scrape * step) as f64
    } else {
        ((seed * 13 + step * 7) % 100) as f64 + 0.5
    }
}

/// The rules file: `rules` rules in groups of `group_size`, mixing shapes.
fn rules_yaml(rules: usize, metrics: usize, group_size: usize) -> (String, Vec<usize>) {
    let groups = rules.div_ceil(group_size).max(1);
    let mut per_group: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for i in 0..rules {
        per_group[i % groups].push(i);
    }
    let mut shape_of = vec![0; rules];
    let mut y = String::from("groups:\n");
    for (g, ids) in per_group.iter().enumerate() {
        let _ = writeln!(y, "  - name: bench-{g:06}\n    interval: 15s\n    rules:");
        for &i in ids {
            let m = i % metrics;
            let round = i / metrics;
            let shape = round % 10;
            let (rec, expr) = if is_counter(m) {
                COUNTER_SHAPES[shape]
            } else {
                GAUGE_SHAPES[shape]
            };
            shape_of[i] = if is_counter(m) { shape } else { 10 + shape };
            let base = metric_name(m);
            let short = base.trim_end_matches("_total");
            let mut rec = rec.replace("{m}", short);
            if round >= 10 {
                // More rules than shapes x metrics: keep names unique.
                let _ = write!(rec, "_r{}", round / 10);
            }
            let expr = expr.replace("{c}", &base).replace("{g}", &base);
            let _ = writeln!(y, "      - record: {rec}\n        expr: '{expr}'");
        }
    }
    (y, shape_of)
}

/// Appends one sample at `step` to every input series.
fn scrape(db: &Db, refs: &mut [Option<SeriesRef>], metrics: usize, step: i64) {
    let t = T0 + step * INTERVAL_MS;
    for m in 0..metrics {
        let mut app = db.appender();
        for k in 0..SERIES_PER_METRIC {
            let r = &mut refs[m * SERIES_PER_METRIC + k];
            *r = Some(
                app.append(*r, &series_labels(m, k), t, value(m, k, step))
                    .expect("append"),
            );
        }
        app.commit().expect("commit");
    }
}

fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn process_cpu_s() -> f64 {
    // SAFETY: an all-zero rusage is valid and getrusage only writes to it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid out-pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The `q`-quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

fn ms(s: f64) -> String {
    format!("{:.3} ms", s * 1e3)
}

fn us(s: f64) -> String {
    format!("{:.1} µs", s * 1e6)
}

struct RuleTiming {
    group: String,
    name: String,
    expr: String,
    wall: f64,
    cpu: f64,
}

fn main() {
    let n_rules = env("RULES", 10_000);
    let metrics = env("SERIES", 100_000).div_ceil(SERIES_PER_METRIC).max(1);
    let n_series = metrics * SERIES_PER_METRIC;
    let iterations = env("ITERATIONS", 3).max(1);
    let group_size = env("GROUP_SIZE", 100).max(1);
    let top = env("TOP", 10);
    let history = env("HISTORY", 20) as i64;

    let dir = tempfile::tempdir().expect("tempdir");
    let (db, _) = Db::open(dir.path(), Options::default()).expect("open tsdb");
    let db = Arc::new(db);

    let t = Instant::now();
    let mut refs = vec![None; n_series];
    for step in -history..0 {
        scrape(&db, &mut refs, metrics, step);
    }
    println!(
        "input: {metrics} metrics x {SERIES_PER_METRIC} = {n_series} series, {history} samples each at 15s, written in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let (yaml, shape_of) = rules_yaml(n_rules, metrics, group_size);
    let defs = parse_rules("bench.yml", &yaml).unwrap_or_else(|e| panic!("rules: {e:?}"));
    let opts = RuleOptions::new(Engine::default(), db.clone(), db.clone());
    let mgr = RuleManager::new(opts.clone());
    mgr.update(&defs);
    println!(
        "rules: {n_rules} recording rules in {} groups of <= {group_size}, interval 15s (parsed and loaded in {:.1}s)",
        defs.len(),
        t.elapsed().as_secs_f64()
    );
    println!();
    println!(
        "{:>4}  {:>10}  {:>10}  {:>12}  {:>14}  {:>8}",
        "iter", "wall", "thread CPU", "process CPU", "CPU/interval", "RSS"
    );

    let mut steady = Vec::new();
    for it in 0..iterations {
        let step = it as i64;
        scrape(&db, &mut refs, metrics, step);
        let ts = T0 + step * INTERVAL_MS;
        let (w0, c0, p0) = (Instant::now(), thread_cpu_s(), process_cpu_s());
        mgr.eval_all_at(ts);
        let wall = w0.elapsed().as_secs_f64();
        let cpu = thread_cpu_s() - c0;
        let pcpu = process_cpu_s() - p0;
        let ratio = cpu / (INTERVAL_MS as f64 / 1e3);
        println!(
            "{:>4}  {:>9.2}s  {:>9.2}s  {:>11.2}s  {:>13.1}%  {:>5.0}MiB{}",
            it,
            wall,
            cpu,
            pcpu,
            ratio * 100.0,
            rss_mib(),
            if it == 0 {
                "  (creates output series)"
            } else {
                ""
            }
        );
        if it > 0 || iterations == 1 {
            steady.push((wall, cpu, pcpu));
        }
    }

    // Per-rule timings of the last iteration, as the rules recorded them.
    let mut bad = Vec::new();
    let mut rules: Vec<RuleTiming> = Vec::with_capacity(n_rules);
    mgr.with_groups(|gs| {
        for g in gs {
            for r in &g.rules {
                let st = r.status();
                if st.health != Health::Good {
                    bad.push(format!(
                        "{}: {}",
                        r.name(),
                        st.last_error.clone().unwrap_or_default()
                    ));
                }
                rules.push(RuleTiming {
                    group: g.name.clone(),
                    name: r.name().to_string(),
                    expr: r.expr().to_string(),
                    wall: st.evaluation_time_s,
                    cpu: st.evaluation_cpu_s,
                });
            }
        }
    });
    assert!(
        bad.is_empty(),
        "{} rules failed, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(3)]
    );
    let outputs = Engine::default()
        .instant_query(
            db.as_ref(),
            "count({__name__=~\".+:.+\"})",
            T0 + (iterations as i64 - 1) * INTERVAL_MS,
        )
        .ok()
        .and_then(|r| match r.value {
            Value::Vector(v) => v.first().map(|s| s.v),
            _ => None,
        })
        .unwrap_or(0.0);

    let n = steady.len() as f64;
    let (wall, cpu, pcpu) = steady.iter().fold((0.0, 0.0, 0.0), |a, s| {
        (a.0 + s.0 / n, a.1 + s.1 / n, a.2 + s.2 / n)
    });
    let interval_s = INTERVAL_MS as f64 / 1e3;
    println!();
    println!(
        "steady state (mean of {} iteration(s)): wall {wall:.2}s, thread CPU {cpu:.2}s, process CPU {pcpu:.2}s",
        steady.len()
    );
    println!(
        "one core at a 15s interval: {:.1}% busy -> {} (headroom x{:.2})",
        cpu / interval_s * 100.0,
        if cpu <= interval_s {
            "KEEPS UP"
        } else {
            "DOES NOT KEEP UP"
        },
        interval_s / cpu.max(1e-9)
    );
    println!(
        "rules: {} evaluated, all healthy; {outputs} output series",
        rules.len()
    );

    let mut cpus: Vec<f64> = rules.iter().map(|r| r.cpu).collect();
    let mut walls: Vec<f64> = rules.iter().map(|r| r.wall).collect();
    cpus.sort_by(f64::total_cmp);
    walls.sort_by(f64::total_cmp);
    println!();
    println!(
        "per rule (last iteration)   {:>10}  {:>10}  {:>10}  {:>10}  {:>10}",
        "mean", "median", "p99", "max", "sum"
    );
    for (label, v) in [("CPU", &cpus), ("wall", &walls)] {
        let sum: f64 = v.iter().sum();
        println!(
            "  {label:<25} {:>10}  {:>10}  {:>10}  {:>10}  {:>10}",
            us(sum / v.len().max(1) as f64),
            us(quantile(v, 0.5)),
            us(quantile(v, 0.99)),
            us(quantile(v, 1.0)),
            ms(sum)
        );
    }

    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by(|&a, &b| rules[b].cpu.total_cmp(&rules[a].cpu));
    println!();
    println!("top {top} rules by CPU (last iteration):");
    println!("  {:>10}  {:>10}  {:<13}  rule", "CPU", "wall", "group");
    for &i in order.iter().take(top) {
        let r = &rules[i];
        println!(
            "  {:>10}  {:>10}  {:<13}  {} = {}",
            us(r.cpu),
            us(r.wall),
            r.group,
            r.name,
            r.expr
        );
    }

    // Cost by shape: where the time goes.
    let mut by_shape = vec![(0usize, 0.0f64, Vec::new()); 20];
    let mut idx = 0;
    // Rules come back in group order; map them to their generated index the same
    // way `rules_yaml` distributed them.
    let groups = n_rules.div_ceil(group_size).max(1);
    let mut per_group: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for i in 0..n_rules {
        per_group[i % groups].push(i);
    }
    for ids in &per_group {
        for &i in ids {
            let s = &mut by_shape[shape_of[i]];
            s.0 += 1;
            s.1 += rules[idx].cpu;
            s.2.push(rules[idx].cpu);
            idx += 1;
        }
    }
    let total_cpu: f64 = cpus.iter().sum();
    println!();
    println!("CPU by rule shape (last iteration):");
    println!(
        "  {:>6}  {:>10}  {:>10}  {:>10}  {:>6}  shape",
        "rules", "mean", "p99", "total", "share"
    );
    let mut shapes: Vec<_> = by_shape.iter().enumerate().filter(|s| s.1.0 > 0).collect();
    shapes.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
    for (s, (count, sum, v)) in shapes {
        let mut v = v.clone();
        v.sort_by(f64::total_cmp);
        let expr = if s < 10 {
            COUNTER_SHAPES[s].1
        } else {
            GAUGE_SHAPES[s - 10].1
        };
        println!(
            "  {count:>6}  {:>10}  {:>10}  {:>10}  {:>5.1}%  {expr}",
            us(sum / *count as f64),
            us(quantile(&v, 0.99)),
            ms(*sum),
            sum / total_cpu.max(1e-12) * 100.0
        );
    }
    drop(mgr);
    drop(opts);
    if let Ok(db) = Arc::try_unwrap(db) {
        let _ = db.close();
    }
}
