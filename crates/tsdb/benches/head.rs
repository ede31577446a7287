//! Head ingestion benchmark: append throughput (WAL included) and resident memory
//! per active series.
//!
//! `cargo bench -p watchfire-tsdb --bench head` (env: `SERIES`, default 1,000,000;
//! `SCRAPES`, default 30). Each "scrape" appends one sample to every series through
//! one appender and commits it, as a scrape loop would, reusing series references.
//! Series are committed in batches of 2,000, one target's scrape each. Values are
//! realistic shapes (counters, few-digit gauges), timestamps regular.

use std::time::Instant;
use watchfire_model::{Labels, SeriesRef};
use watchfire_storage::Appender;
use watchfire_tsdb::{Db, Options};

/// Series per commit: one scrape of one (large) target.
const TARGET_SERIES: usize = 2_000;

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("RssAnon:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<u64>().ok())
            })
        })
        .map_or(0, |kb| kb * 1024)
}

fn labels(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", format!("node_metric_{}", i % 200)),
        (
            "instance",
            format!("10.0.{}.{}:9100", (i / 5000) % 256, (i / 200) % 25),
        ),
        ("job", "node".to_string()),
        ("cpu", format!("{}", i % 8)),
        (
            "mode",
            ["user", "system", "idle", "iowait"][i % 4].to_string(),
        ),
    ])
}

fn value(i: usize, step: i64) -> f64 {
    match i % 3 {
        0 => (step * (i as i64 % 50)) as f64,
        1 => ((i as i64 * 7 + step) % 1000) as f64 / 10.0,
        _ => 1.0,
    }
}

fn main() {
    let env = |k: &str, d: i64| {
        std::env::var(k)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    let n = env("SERIES", 1_000_000) as usize;
    let scrapes = env("SCRAPES", 250);
    let dir = tempfile::tempdir().expect("tempdir");
    let base = rss_bytes();
    let (db, _) = Db::open(dir.path(), Options::default()).expect("open");
    let mut refs: Vec<Option<SeriesRef>> = vec![None; n];

    // The first scrape of every target creates its series.
    let t0 = Instant::now();
    for (t, target) in refs.chunks_mut(TARGET_SERIES).enumerate() {
        let mut app = db.head().appender();
        for (j, r) in target.iter_mut().enumerate() {
            let i = t * TARGET_SERIES + j;
            *r = Some(
                app.append(None, &labels(i), 0, value(i, 0))
                    .expect("append"),
            );
        }
        app.commit().expect("commit");
    }
    let create = t0.elapsed();

    let no_labels = Labels::empty();
    let t1 = Instant::now();
    for step in 1..scrapes {
        for (t, target) in refs.chunks(TARGET_SERIES).enumerate() {
            let mut app = db.head().appender();
            for (j, r) in target.iter().enumerate() {
                // With a known reference the labels are not looked at (a scrape cache hit).
                let v = value(t * TARGET_SERIES + j, step);
                app.append(*r, &no_labels, step * 15_000, v)
                    .expect("append");
            }
            app.commit().expect("commit");
        }
    }
    let elapsed = t1.elapsed().as_secs_f64();
    let samples = n as f64 * (scrapes - 1) as f64;
    let rss = rss_bytes().saturating_sub(base);
    // SAFETY: mallinfo2 only reads the allocator's statistics.
    let mi = unsafe { libc::mallinfo2() };
    let per = |b: f64| b / n as f64;
    println!("series: {n}, scrapes: {scrapes}, {TARGET_SERIES} series per commit");
    println!(
        "create: {:.2} s ({:.0} series/s)",
        create.as_secs_f64(),
        n as f64 / create.as_secs_f64()
    );
    println!(
        "append (WAL included, 1 thread): {:.2} M samples/s",
        samples / elapsed / 1e6
    );
    println!(
        "resident (anon) memory: {:.0} bytes/series (incl. the bench's 16 B/series refs)",
        per(rss as f64)
    );
    println!(
        "allocator: {:.0} bytes/series in use, {:.0} bytes/series freed but kept",
        per(mi.uordblks as f64),
        per(mi.fordblks as f64)
    );
    println!(
        "head heap estimate: {:.0} bytes/series",
        per(db.head().heap_bytes() as f64)
    );
}
