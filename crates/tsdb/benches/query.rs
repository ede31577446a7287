//! Read-path benchmark: decoding persisted blocks through the querier, as PromQL's
//! selectors do (`seek` to the window start, then `next_batch` until past the window
//! end), and for comparison with a `next` call per sample.
//!
//! `cargo bench -p watchfire-tsdb --bench query` (env: `SERIES`, default 400;
//! `HOURS`, default 6; `ROUNDS`, default 30). The series are imported from generated
//! OpenMetrics text into 2 h blocks (fleet-like shapes: integer counters, one-decimal
//! gauges, arbitrary-float gauges, histogram buckets, constants) and read back three
//! ways: the full range, a 4 h window from the middle of the first block, and 10 min
//! windows every hour (a `*_over_time`-like access pattern). Series spanning several
//! blocks are read through the storage's chained iterator. Prints the best
//! per-sample time over the rounds.
#![allow(missing_docs, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;
use watchfire_model::Matcher;
use watchfire_storage::Queryable;
use watchfire_tsdb::{Db, Options};

const HOUR_MS: i64 = 3_600_000;
const STEP_S: i64 = 15;
const T0_S: i64 = 1_700_000_000;

/// Deterministic pseudo-random numbers (xorshift64*).
fn rng(seed: &mut u64) -> u64 {
    *seed ^= *seed >> 12;
    *seed ^= *seed << 25;
    *seed ^= *seed >> 27;
    seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn openmetrics(series: usize, hours: i64) -> String {
    let steps = hours * 3600 / STEP_S;
    let mut text = String::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut state: Vec<f64> = vec![0.0; series];
    text.push_str("# TYPE bench gauge\n");
    for step in 0..steps {
        let t = T0_S + step * STEP_S;
        for (i, v) in state.iter_mut().enumerate() {
            let r = rng(&mut seed);
            let x = match i % 5 {
                0 => {
                    *v += (r % 40) as f64;
                    format!("{v}")
                }
                1 => format!(
                    "{:.1}",
                    55.0 + 15.0 * ((step as f64) / 200.0 + i as f64).sin()
                ),
                2 => format!("{}", (r >> 11) as f64 / (1u64 << 53) as f64),
                3 => {
                    *v += (r % 3) as f64;
                    format!("{v}")
                }
                _ => "1".to_string(),
            };
            let _ = writeln!(
                text,
                "bench{{job=\"bench\",shape=\"{}\",id=\"{i}\"}} {x} {t}",
                i % 5
            );
        }
    }
    text.push_str("# EOF\n");
    text
}

/// Reads every series of `[mint, maxt]` a sample at a time; returns the number of
/// samples.
fn scan_next(db: &Db, mint: i64, maxt: i64) -> usize {
    let q = db.querier(mint, maxt).unwrap();
    let set = q
        .select(&Default::default(), &[Matcher::equal("job", "bench")])
        .unwrap();
    let mut n = 0;
    let mut acc = 0u64;
    for s in set {
        let mut s = s.unwrap();
        let mut next = s.samples.seek(mint);
        while let Some(x) = next {
            if x.t > maxt {
                break;
            }
            acc = acc.wrapping_add(x.v.to_bits());
            n += 1;
            next = s.samples.next();
        }
        assert!(s.samples.error().is_none());
    }
    black_box(acc);
    n
}

/// Like [`scan_next`], a batch at a time into a reused buffer.
fn scan_batch(db: &Db, mint: i64, maxt: i64) -> usize {
    let q = db.querier(mint, maxt).unwrap();
    let set = q
        .select(&Default::default(), &[Matcher::equal("job", "bench")])
        .unwrap();
    let mut n = 0;
    let mut acc = 0u64;
    let mut buf = Vec::new();
    for s in set {
        let mut s = s.unwrap();
        buf.clear();
        buf.extend(s.samples.seek(mint));
        'series: while !buf.is_empty() {
            for x in &buf {
                if x.t > maxt {
                    break 'series;
                }
                acc = acc.wrapping_add(x.v.to_bits());
                n += 1;
            }
            buf.clear();
            s.samples.next_batch(&mut buf);
        }
        assert!(s.samples.error().is_none());
    }
    black_box(acc);
    n
}

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
        env("ROUNDS", 30),
    );
    let dir = tempfile::tempdir().unwrap();
    let text = openmetrics(series, hours);
    watchfire_tsdb::import_openmetrics(text.as_bytes(), dir.path(), 2 * HOUR_MS).unwrap();
    drop(text);
    let (db, _) = Db::open(dir.path(), Options::default()).unwrap();
    let t0 = T0_S * 1000;
    let end = t0 + hours * HOUR_MS;
    type Pattern = Vec<(i64, i64)>;
    let patterns: Vec<(&str, Pattern)> = vec![
        ("full range", vec![(t0, end)]),
        (
            "4h window",
            vec![(t0 + HOUR_MS / 2, t0 + HOUR_MS / 2 + 4 * HOUR_MS)],
        ),
        (
            "10m windows",
            (0..hours)
                .map(|h| (t0 + h * HOUR_MS + 1_000, t0 + h * HOUR_MS + 601_000))
                .collect(),
        ),
    ];
    println!(
        "{series} series x {hours} h at {STEP_S} s in {} blocks",
        db.blocks().len()
    );
    type Scan = fn(&Db, i64, i64) -> usize;
    for (name, windows) in patterns {
        for (how, scan) in [("next", scan_next as Scan), ("batch", scan_batch)] {
            let mut best = f64::MAX;
            let mut samples = 0;
            for _ in 0..rounds {
                let start = Instant::now();
                samples = windows.iter().map(|&(a, b)| scan(&db, a, b)).sum();
                best = best.min(start.elapsed().as_secs_f64());
            }
            println!(
                "{name:<12} {how:<5} {samples:>9} samples  {:>8.2} ms  {:>6.2} ns/sample",
                best * 1e3,
                best * 1e9 / samples as f64
            );
        }
    }
    db.close().unwrap();
}
