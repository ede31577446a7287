//! Selector benchmark: PromQL queries over persisted blocks, so that every series'
//! samples come through the TSDB's chunk iterators chained across blocks.
//!
//! `cargo bench -p watchfire-promql --bench select` (env: `SERIES`, default 400;
//! `HOURS`, default 6; `ROUNDS`, default 10; `ONLY`, run only this query, or those
//! containing this text). The series (counters, gauges and constants, plus 160
//! histogram bucket counters, at a 15 s interval) are imported into 2 h blocks,
//! then each query runs as a range query over the whole span at a 60 s step.
//! Prints the best time over the rounds and the points it returned.
#![allow(missing_docs, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::time::Instant;
use watchfire_promql::{Engine, EngineOptions, Value};
use watchfire_tsdb::{Db, Options};

const HOUR_MS: i64 = 3_600_000;
const STEP_S: i64 = 15;
const T0_S: i64 = 1_700_000_000;

fn openmetrics(series: usize, hours: i64) -> String {
    let steps = hours * 3600 / STEP_S;
    let mut text = String::from("# TYPE bench gauge\n");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut state = vec![0.0f64; series];
    for step in 0..steps {
        let t = T0_S + step * STEP_S;
        for (i, v) in state.iter_mut().enumerate() {
            // xorshift64*: deterministic and cheap.
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            let r = seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
            let x = match i % 3 {
                0 => {
                    *v += (r % 40) as f64;
                    format!("{v}")
                }
                1 => format!("{:.1}", 55.0 + 15.0 * ((step as f64) / 200.0).sin()),
                _ => "1".to_string(),
            };
            let _ = writeln!(text, "bench{{job=\"bench\",id=\"{i}\"}} {x} {t}");
        }
    }
    // Classic histograms: per handler, cumulative bucket counters.
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
    ];
    text.push_str("# TYPE lat_bucket gauge\n");
    let mut counts = vec![0.0f64; HANDLERS * les.len()];
    for step in 0..steps {
        let t = T0_S + step * STEP_S;
        for h in 0..HANDLERS {
            let mut below = 0.0;
            for (k, le) in les.iter().enumerate() {
                seed ^= seed >> 12;
                seed ^= seed << 25;
                seed ^= seed >> 27;
                let r = seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
                below += (r % 7) as f64;
                let c = &mut counts[h * les.len() + k];
                *c += below;
                let _ = writeln!(text, "lat_bucket{{handler=\"h{h}\",le=\"{le}\"}} {c} {t}");
            }
        }
    }
    text.push_str("# EOF\n");
    text
}

/// Handlers of the `lat_bucket` histograms (10 buckets each).
const HANDLERS: usize = 16;

fn main() {
    let env = |k: &str, d: i64| {
        std::env::var(k)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    let (series, hours, rounds) = (
        env("SERIES", 400) as usize,
        env("HOURS", 6),
        env("ROUNDS", 10),
    );
    let dir = tempfile::tempdir().unwrap();
    let text = openmetrics(series, hours);
    watchfire_tsdb::import_openmetrics(text.as_bytes(), dir.path(), 2 * HOUR_MS).unwrap();
    drop(text);
    let (db, _) = Db::open(dir.path(), Options::default()).unwrap();
    let engine = Engine::new(EngineOptions::default());
    let start = T0_S * 1000;
    let end = start + hours * HOUR_MS;
    println!(
        "{series} series x {hours} h at {STEP_S} s in {} blocks",
        db.blocks().len()
    );
    let queries = [
        "bench",
        "bench offset 10m",
        "rate(bench[5m])",
        "rate(bench[1m])",
        "sum by (job) (rate(bench[1m]))",
        "sum(rate(bench[5m])) / sum(rate(bench[5m] offset 5m))",
        "max_over_time(bench[10m])",
        "max_over_time(bench[1h])",
        "avg_over_time(bench[10m])",
        "max_over_time(rate(bench[5m])[30m:1m])",
        "histogram_quantile(0.99, sum by (le, handler) (rate(lat_bucket[1m])))",
    ];
    let only = std::env::var("ONLY").unwrap_or_default();
    let exact = queries.contains(&only.as_str());
    let picked = queries
        .into_iter()
        .filter(|q| if exact { *q == only } else { q.contains(&only) });
    for q in picked {
        let mut best = f64::MAX;
        let mut points = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            let r = engine.range_query(&db, q, start, end, 60_000).unwrap();
            best = best.min(t.elapsed().as_secs_f64());
            points = match r.value {
                Value::Matrix(m) => m.iter().map(|s| s.points.len()).sum::<usize>(),
                _ => 0,
            };
        }
        println!("{q:<42} {points:>8} points  {:>8.2} ms", best * 1e3);
    }
    db.close().unwrap();
}
