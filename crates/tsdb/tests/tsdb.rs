//! End-to-end tests of the TSDB through its public API and the storage traits.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use watchfire_model::{Labels, MatchOp, Matcher, STALE_NAN, Sample};
use watchfire_storage::{AppendError, Appendable, Queryable, SelectHints};
use watchfire_tsdb::{Db, Options};

const HOUR: i64 = 3_600_000;

fn opts() -> Options {
    Options {
        wal_segment_bytes: 64 << 10,
        head_chunk_file_bytes: 1 << 20,
        ..Options::default()
    }
}

fn series(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", format!("metric_{}", i % 7)),
        ("instance", format!("host-{i}")),
        (
            "job",
            if i.is_multiple_of(2) {
                "api".to_string()
            } else {
                "db".to_string()
            },
        ),
    ])
}

fn value(i: usize, step: i64) -> f64 {
    match i % 4 {
        0 => step as f64 * 3.0,
        1 => (step as f64 * 0.37 + i as f64).sin(),
        2 => f64::from_bits(0x7ff8_0000_0000_0000 | (i as u64 + 1)),
        _ => -0.0,
    }
}

/// Appends `steps` samples (15 s apart) to `n` series, one commit per step.
fn fill(db: &Db, n: usize, from_step: i64, steps: i64) {
    for step in from_step..from_step + steps {
        let mut app = db.appender();
        for i in 0..n {
            app.append(None, &series(i), step * 15_000, value(i, step))
                .unwrap();
        }
        app.commit().unwrap();
    }
}

fn read_all(db: &Db, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<(Labels, Vec<Sample>)> {
    let q = db.querier(mint, maxt).unwrap();
    q.select(&SelectHints::default(), matchers)
        .unwrap()
        .map(|s| {
            let s = s.unwrap();
            (s.labels.clone(), s.collect_samples().unwrap())
        })
        .collect()
}

fn all() -> Vec<Matcher> {
    vec![Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap()]
}

fn check_complete(db: &Db, n: usize, steps: std::ops::Range<i64>) {
    let got = read_all(db, &all(), i64::MIN, i64::MAX);
    assert_eq!(got.len(), n, "series count");
    for (labels, samples) in got {
        let i: usize = labels.get("instance").unwrap()[5..].parse().unwrap();
        let want: Vec<(i64, u64)> = steps
            .clone()
            .map(|s| (s * 15_000, value(i, s).to_bits()))
            .collect();
        let have: Vec<(i64, u64)> = samples.iter().map(|s| (s.t, s.v.to_bits())).collect();
        assert_eq!(have, want, "samples of {labels}");
    }
}

fn open(dir: &Path) -> Db {
    Db::open(dir, opts()).unwrap().0
}

#[test]
fn samples_survive_restart_bit_exactly() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        fill(&db, 50, 0, 300);
        db.close().unwrap();
    }
    let (db, report) = Db::open(dir.path(), opts()).unwrap();
    assert!(report.wal_samples >= 15_000, "{report:?}");
    check_complete(&db, 50, 0..300);
}

#[test]
fn matchers_select_like_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    fill(&db, 20, 0, 3);
    let sel = |ms: Vec<Matcher>| read_all(&db, &ms, 0, i64::MAX).len();
    assert_eq!(sel(vec![Matcher::equal("job", "api")]), 10);
    assert_eq!(
        sel(vec![
            Matcher::equal("__name__", "metric_0"),
            Matcher::equal("job", "api")
        ]),
        2
    );
    assert_eq!(
        sel(vec![
            Matcher::new(MatchOp::RegexMatch, "instance", "host-1.").unwrap()
        ]),
        10
    );
    assert_eq!(
        sel(vec![
            Matcher::equal("job", "api"),
            Matcher::new(MatchOp::NotEqual, "__name__", "metric_0").unwrap()
        ]),
        8
    );
    assert_eq!(
        sel(vec![
            Matcher::equal("job", "api"),
            Matcher::equal("absent", "")
        ]),
        10
    );
    assert_eq!(
        sel(vec![
            Matcher::new(MatchOp::RegexMatch, "job", "api|db").unwrap()
        ]),
        20
    );
    let q = db.querier(0, i64::MAX).unwrap();
    assert_eq!(q.label_values("job", &[]).unwrap(), vec!["api", "db"]);
    assert_eq!(
        q.label_names(&[]).unwrap(),
        vec!["__name__", "instance", "job"]
    );
    assert_eq!(
        q.label_values("__name__", &[Matcher::equal("instance", "host-3")])
            .unwrap(),
        vec!["metric_3"]
    );
}

#[test]
fn out_of_order_and_duplicates_are_rejected_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let l = series(1);
    let mut app = db.appender();
    app.append(None, &l, 1000, 1.0).unwrap();
    app.commit().unwrap();
    let mut app = db.appender();
    assert!(matches!(
        app.append(None, &l, 500, 1.0),
        Err(AppendError::OutOfOrder { .. })
    ));
    assert!(matches!(
        app.append(None, &l, 1000, 2.0),
        Err(AppendError::DuplicateTimestamp { .. })
    ));
    // The identical sample again is accepted silently, as in Prometheus.
    app.append(None, &l, 1000, 1.0).unwrap();
    app.append(None, &l, 2000, STALE_NAN).unwrap();
    app.commit().unwrap();
    drop(app);
    let c = &db.head().counters;
    assert_eq!(c.out_of_order.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(
        c.duplicate_timestamp
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    let got = read_all(&db, &[Matcher::equal("instance", "host-1")], 0, i64::MAX);
    assert_eq!(got[0].1.len(), 2);
    assert!(watchfire_model::is_stale_nan(got[0].1[1].v));
}

#[test]
fn rollback_discards_and_uncommitted_is_invisible() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let mut app = db.appender();
    app.append(None, &series(0), 1000, 1.0).unwrap();
    assert!(
        read_all(&db, &all(), 0, i64::MAX).is_empty(),
        "uncommitted samples are invisible"
    );
    app.rollback();
    app.commit().unwrap();
    assert!(read_all(&db, &all(), 0, i64::MAX).is_empty());
}

#[test]
fn head_compacts_into_blocks_and_queries_span_both() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    // 4 hours of 15 s samples: the first 2h block is cut once the head spans 3h.
    let steps = 4 * HOUR / 15_000;
    fill(&db, 30, 0, steps);
    assert!(db.compact().unwrap());
    assert_eq!(db.blocks().len(), 1);
    let b = &db.blocks()[0];
    assert_eq!((b.meta().min_time, b.meta().max_time), (0, 2 * HOUR));
    assert_eq!(db.head().min_valid_time(), 2 * HOUR);
    check_complete(&db, 30, 0..steps);
    // A sample inside the persisted range is now out of bounds.
    let mut app = db.appender();
    assert!(matches!(
        app.append(None, &series(0), HOUR, 1.0),
        Err(AppendError::OutOfBounds { .. })
    ));
    drop(app);
    db.close().unwrap();
    // After a restart: the block plus the WAL (checkpoint + segments) give everything back.
    let db = open(dir.path());
    check_complete(&db, 30, 0..steps);
    assert_eq!(db.blocks().len(), 1);
}

#[test]
fn small_blocks_merge_and_retention_deletes_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts();
    o.retention_ms = 10 * HOUR;
    o.max_block_range_ms = 6 * HOUR;
    let (db, _) = Db::open(dir.path(), o).unwrap();
    let steps = 20 * HOUR / 60_000;
    for step in 0..steps {
        let mut app = db.appender();
        for i in 0..5 {
            app.append(None, &series(i), step * 60_000, step as f64)
                .unwrap();
        }
        app.commit().unwrap();
    }
    db.compact().unwrap();
    let blocks = db.blocks();
    assert!(
        blocks.iter().any(|b| b.meta().compaction.level > 1),
        "some blocks were merged"
    );
    let oldest = blocks.iter().map(|b| b.meta().min_time).min().unwrap();
    assert!(
        oldest >= 20 * HOUR - 10 * HOUR - 6 * HOUR,
        "old blocks deleted, oldest starts at {oldest}"
    );
    let got = read_all(&db, &all(), 0, i64::MAX);
    assert_eq!(got.len(), 5);
    // Whatever is kept is contiguous up to the newest sample.
    for (_, s) in got {
        assert_eq!(s.last().unwrap().t, (steps - 1) * 60_000);
        assert!(s.windows(2).all(|w| w[1].t - w[0].t == 60_000));
    }
}

#[test]
fn torn_wal_tail_is_repaired_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        fill(&db, 10, 0, 100);
        db.close().unwrap();
    }
    // Tear the last segment in the middle of its last record.
    let wal = dir.path().join("wal");
    let mut segs: Vec<_> = std::fs::read_dir(&wal)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    segs.sort();
    let last = segs.last().unwrap();
    let len = std::fs::metadata(last).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(last).unwrap();
    f.set_len(len - 7).unwrap();
    drop(f);
    let (db, report) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(report.wal_repairs.len(), 1, "{report:?}");
    assert!(report.wal_repairs[0].contains("segment"), "{report:?}");
    // Only the last commit (one step) is lost.
    check_complete(&db, 10, 0..99);
    // And the store keeps working.
    fill(&db, 10, 99, 5);
    check_complete(&db, 10, 0..104);
}

#[test]
fn corrupt_block_is_moved_aside_and_others_kept() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        fill(&db, 10, 0, 8 * HOUR / 60_000 * 4);
        db.flush_head().unwrap();
        assert!(db.blocks().len() >= 2);
        db.close().unwrap();
    }
    let db = open(dir.path());
    let victim = db.blocks()[0].dir().to_path_buf();
    let keep = db.blocks().len() - 1;
    db.close().unwrap();
    let index = victim.join("index");
    let mut bytes = std::fs::read(&index).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&index, bytes).unwrap();
    let (db, report) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(report.quarantined.len(), 1, "{report:?}");
    assert_eq!(db.blocks().len(), keep);
    assert!(!read_all(&db, &all(), 0, i64::MAX).is_empty());
}

#[test]
fn corrupt_chunk_is_reported_for_its_series_only() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        fill(&db, 10, 0, 100);
        db.flush_head().unwrap();
        db.close().unwrap();
    }
    let db = open(dir.path());
    let block = db.blocks()[0].dir().to_path_buf();
    db.close().unwrap();
    let seg = block.join("chunks").join("000001");
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[20] ^= 0x55;
    std::fs::write(&seg, bytes).unwrap();
    let db = open(dir.path());
    let q = db.querier(0, i64::MAX).unwrap();
    let (mut ok, mut bad) = (0, 0);
    for s in q.select(&SelectHints::default(), &all()).unwrap() {
        match s.unwrap().collect_samples() {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(
                    e.to_string().contains("chunks") || e.to_string().contains("checksum"),
                    "{e}"
                );
                bad += 1;
            }
        }
    }
    assert_eq!((ok, bad), (9, 1));
}

#[test]
fn backfill_writes_aligned_blocks_the_db_serves() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    text.push_str("# TYPE http_requests counter\n");
    for step in 0..1000i64 {
        let t = step * 30; // seconds
        text.push_str(&format!(
            "http_requests_total{{code=\"200\"}} {} {t}\n",
            step * 3
        ));
        text.push_str(&format!(
            "http_requests_total{{code=\"500\"}} {} {t}\n",
            step / 10
        ));
    }
    text.push_str("# EOF\n");
    let report = watchfire_tsdb::import_openmetrics(text.as_bytes(), dir.path(), 2 * HOUR).unwrap();
    assert_eq!(report.samples, 2000);
    assert_eq!(report.blocks.len(), 5, "30000 s span over 2h blocks");
    let db = open(dir.path());
    let got = read_all(&db, &[Matcher::equal("code", "200")], 0, i64::MAX);
    assert_eq!(got[0].1.len(), 1000);
    assert_eq!(got[0].1[999], Sample::new(999 * 30_000, 2997.0));
    let bad =
        watchfire_tsdb::import_openmetrics(b"a 1\n# EOF\n", dir.path(), 2 * HOUR).unwrap_err();
    assert!(bad.to_string().contains("line 1"), "{bad}");
}

#[test]
fn size_retention_deletes_oldest_blocks_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts();
    o.retention_ms = 0;
    o.max_block_range_ms = 2 * HOUR; // no merging, to count blocks
    let (db, _) = Db::open(dir.path(), o.clone()).unwrap();
    fill(&db, 20, 0, 12 * HOUR / 15_000);
    db.flush_head().unwrap();
    assert_eq!(db.blocks().len(), 6);
    db.close().unwrap();
    // Measure on a reopened store, as retention will see it (no head chunk files).
    let (db, _) = Db::open(dir.path(), o.clone()).unwrap();
    let blocks = db.blocks();
    let newest: u64 = blocks.iter().rev().take(2).map(|b| b.size_bytes()).sum();
    let other = db.size_bytes() - blocks.iter().map(|b| b.size_bytes()).sum::<u64>();
    db.close().unwrap();

    // Slack for the WAL segment each open starts; far less than one block.
    o.retention_bytes = newest + other + 4096;
    let (db, _) = Db::open(dir.path(), o).unwrap();
    assert!(db.compact().unwrap());
    let kept = db.blocks();
    assert_eq!(kept.len(), 2, "only the two newest blocks fit");
    assert_eq!(kept[0].meta().min_time, 8 * HOUR);
    assert_eq!(
        db.counters
            .retention_size_deletions
            .load(std::sync::atomic::Ordering::Relaxed),
        4
    );
}
