//! Write blocks, reopen them, and check everything comes back.

use crate::common::{ULID, gen_series, try_write_block, write_block};
use std::collections::{BTreeMap, BTreeSet};
use watchfire_block::{
    Block, BlockError, BlockMeta, BlockWriter, CompactionMeta, PostingsIndex, chunk_ref_parts,
    new_ulid,
};
use watchfire_model::Labels;

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .expect("read_dir")
        .map(|e| {
            let e = e.expect("entry");
            let m = e.metadata().expect("metadata");
            if m.is_dir() {
                dir_size(&e.path())
            } else {
                m.len()
            }
        })
        .sum()
}

#[test]
fn few_thousand_series_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let series = gen_series(3000);
    let dir = write_block(tmp.path(), ULID, &series);
    assert!(!tmp.path().join(format!("{ULID}.tmp")).exists());

    let block = Block::open(&dir).unwrap();
    let meta = block.meta();
    assert_eq!(meta.ulid, ULID);
    assert_eq!((meta.min_time, meta.max_time), (0, 10_000));
    assert_eq!(meta.version, 1);
    assert_eq!(meta.stats.num_series, 3000);
    let num_chunks: usize = series.iter().map(|s| s.chunks.len()).sum();
    assert_eq!(meta.stats.num_chunks, num_chunks as u64);
    assert_eq!(meta.stats.num_samples, num_chunks as u64 * 10);
    assert_eq!(meta.compaction.level, 1);
    assert_eq!(meta.compaction.sources, vec![ULID.to_string()]);
    assert_eq!(block.dir(), dir.as_path());
    assert_eq!(block.size_bytes(), dir_size(&dir));
    assert_eq!(BlockMeta::read(&dir).unwrap(), *meta);

    let ix = block.index();
    assert_eq!(ix.num_series(), 3000);
    for (id, s) in series.iter().enumerate() {
        let (labels, metas) = ix.series(id as u32).unwrap();
        assert_eq!(labels, s.labels, "series {id}");
        assert_eq!(metas.len(), s.chunks.len());
        for (m, (mint, maxt, enc, data)) in metas.iter().zip(&s.chunks) {
            assert_eq!((m.min_time, m.max_time), (*mint, *maxt));
            let (got_enc, got) = block.chunk(m.chunk_ref).unwrap();
            assert_eq!(got_enc, *enc);
            assert_eq!(got, data.as_slice());
        }
    }
    assert!(matches!(
        ix.series(3000),
        Err(BlockError::SeriesNotFound { id: 3000, .. })
    ));

    // Expected inverted index, brute force.
    let mut expected: BTreeMap<String, BTreeMap<String, Vec<u32>>> = BTreeMap::new();
    for (id, s) in series.iter().enumerate() {
        for l in &s.labels {
            expected
                .entry(l.name.clone())
                .or_default()
                .entry(l.value.clone())
                .or_default()
                .push(id as u32);
        }
    }
    let names: Vec<String> = expected.keys().cloned().collect();
    assert_eq!(ix.label_names().unwrap(), names);
    for (name, values) in &expected {
        let vals: Vec<String> = values.keys().cloned().collect();
        assert_eq!(ix.label_values(name).unwrap(), vals, "values of {name}");
        for (value, ids) in values {
            assert_eq!(&ix.postings(name, value).unwrap(), ids, "{name}={value}");
        }
        assert!(ix.postings(name, "no-such-value").unwrap().is_empty());
    }
    assert!(ix.postings("no_such_name", "x").unwrap().is_empty());
    assert!(ix.label_values("no_such_name").unwrap().is_empty());
    assert_eq!(ix.all_postings().unwrap(), (0..3000).collect::<Vec<u32>>());

    let symbols: Vec<&str> = ix.symbols().collect::<Result<_, _>>().unwrap();
    assert!(symbols.windows(2).all(|w| w[0] < w[1]));
    let all: BTreeSet<&str> = expected
        .iter()
        .flat_map(|(n, vs)| std::iter::once(n.as_str()).chain(vs.keys().map(|v| v.as_str())))
        .collect();
    assert_eq!(symbols, all.into_iter().collect::<Vec<_>>());
}

#[test]
fn chunks_spread_over_many_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let series = gen_series(300);
    let dir = try_write_block(tmp.path(), ULID, &series, Some(4096)).unwrap();
    let block = Block::open(&dir).unwrap();
    let mut segments = BTreeSet::new();
    for (id, s) in series.iter().enumerate() {
        let (_, metas) = block.index().series(id as u32).unwrap();
        for (m, c) in metas.iter().zip(&s.chunks) {
            segments.insert(chunk_ref_parts(m.chunk_ref).0);
            assert_eq!(block.chunk(m.chunk_ref).unwrap().1, c.3.as_slice());
        }
    }
    let files = std::fs::read_dir(dir.join("chunks")).unwrap().count();
    assert!(files > 3, "{files} segment files");
    assert_eq!(segments.len(), files);
    for f in std::fs::read_dir(dir.join("chunks")).unwrap() {
        assert!(f.unwrap().metadata().unwrap().len() <= 4096);
    }
}

#[test]
fn empty_block_opens() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_block(tmp.path(), ULID, &[]);
    let block = Block::open(&dir).unwrap();
    assert_eq!(block.index().num_series(), 0);
    assert!(block.index().label_names().unwrap().is_empty());
    assert!(block.index().all_postings().unwrap().is_empty());
    assert!(block.chunk(1 << 32 | 8).is_err());
    assert_eq!(block.meta().stats.num_series, 0);
}

#[test]
fn series_without_chunks_and_extreme_times() {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::new(tmp.path(), ULID, i64::MIN, i64::MAX).unwrap();
    let a = Labels::from_pairs([("a", "1")]);
    let b = Labels::from_pairs([("a", "2")]);
    w.add_series(&a, &[]).unwrap();
    w.add_series(
        &b,
        &[
            (i64::MIN, -1, 1, b"x".as_slice()),
            (0, 0, 1, b"".as_slice()),
            (1, i64::MAX, 7, b"z".as_slice()),
        ],
    )
    .unwrap();
    let meta = w
        .finish(CompactionMeta {
            level: 3,
            sources: vec!["01HV8Y3M6Q5Z000000000000AA".into()],
        })
        .unwrap();
    assert_eq!(meta.compaction.level, 3);
    let block = Block::open(&tmp.path().join(ULID)).unwrap();
    let (l, c) = block.index().series(0).unwrap();
    assert_eq!((l, c.len()), (a, 0));
    let (_, c) = block.index().series(1).unwrap();
    let times: Vec<(i64, i64)> = c.iter().map(|m| (m.min_time, m.max_time)).collect();
    assert_eq!(times, vec![(i64::MIN, -1), (0, 0), (1, i64::MAX)]);
    assert_eq!(block.chunk(c[1].chunk_ref).unwrap(), (1, &b""[..]));
    assert_eq!(block.chunk(c[2].chunk_ref).unwrap(), (7, &b"z"[..]));
}

#[test]
fn writer_rejects_out_of_order_and_invalid_series() {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::new(tmp.path(), ULID, 0, 100).unwrap();
    let b = Labels::from_pairs([("job", "b")]);
    w.add_series(&b, &[(0, 10, 1, b"c".as_slice())]).unwrap();

    let a = Labels::from_pairs([("job", "a")]);
    let e = w.add_series(&a, &[]).unwrap_err();
    assert!(matches!(e, BlockError::OutOfOrderSeries { .. }), "{e}");
    assert!(e.to_string().contains(r#"job="a""#), "{e}");
    let e = w.add_series(&b, &[]).unwrap_err();
    assert!(
        matches!(e, BlockError::OutOfOrderSeries { .. }),
        "duplicate: {e}"
    );
    // A prefix sorts first.
    let e = w
        .add_series(&Labels::from_pairs([("j", "z")]), &[])
        .unwrap_err();
    assert!(matches!(e, BlockError::OutOfOrderSeries { .. }), "{e}");

    let c = Labels::from_pairs([("job", "c")]);
    let overlapping = [(0, 10, 1, b"x".as_slice()), (10, 20, 1, b"y".as_slice())];
    assert!(matches!(
        w.add_series(&c, &overlapping),
        Err(BlockError::InvalidSeries { .. })
    ));
    let backwards = [(5, 4, 1, b"x".as_slice())];
    assert!(matches!(
        w.add_series(&c, &backwards),
        Err(BlockError::InvalidSeries { .. })
    ));
    let unordered = [(20, 30, 1, b"x".as_slice()), (0, 10, 1, b"y".as_slice())];
    assert!(w.add_series(&c, &unordered).is_err());
    // Rejections leave the writer usable.
    w.add_series(&c, &[(0, 10, 1, b"ok".as_slice())]).unwrap();
    w.finish(CompactionMeta::default()).unwrap();
    let block = Block::open(&tmp.path().join(ULID)).unwrap();
    assert_eq!(block.index().num_series(), 2);

    let tmp2 = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::new(tmp2.path(), ULID, 0, 100).unwrap();
    assert!(matches!(
        w.add_series(&Labels::empty(), &[]),
        Err(BlockError::InvalidSeries { .. })
    ));
}

#[test]
fn writer_checks_arguments_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(BlockWriter::new(tmp.path(), "not-a-ulid", 0, 1).is_err());
    assert!(BlockWriter::new(tmp.path(), ULID, 2, 1).is_err());

    let mut w = BlockWriter::new(tmp.path(), ULID, 0, 1).unwrap();
    w.add_series(
        &Labels::from_pairs([("a", "b")]),
        &[(0, 0, 1, b"x".as_slice())],
    )
    .unwrap();
    let tmp_dir = w.tmp_dir().to_path_buf();
    assert!(tmp_dir.exists());
    drop(w);
    assert!(!tmp_dir.exists(), "unfinished writer removes its .tmp dir");

    write_block(tmp.path(), ULID, &gen_series(3));
    let e = BlockWriter::new(tmp.path(), ULID, 0, 1).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
}

#[test]
fn ulids_are_valid_sorted_and_unique() {
    let now = 1_700_000_000_000;
    let mut prev = String::new();
    let mut seen = BTreeSet::new();
    for i in 0..50_000 {
        let u = new_ulid(now + i / 1000);
        assert_eq!(u.len(), 26);
        assert!(u > prev);
        assert!(seen.insert(u.clone()));
        prev = u;
    }
    let tmp = tempfile::tempdir().unwrap();
    let ulid = new_ulid(now);
    write_block(tmp.path(), &ulid, &gen_series(2));
    assert_eq!(
        Block::open(&tmp.path().join(&ulid)).unwrap().meta().ulid,
        ulid
    );
}

#[test]
fn block_is_shareable_across_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let series = gen_series(500);
    let dir = write_block(tmp.path(), ULID, &series);
    let block = std::sync::Arc::new(Block::open(&dir).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let b = block.clone();
            std::thread::spawn(move || {
                for id in (t..500).step_by(4) {
                    let (_, metas) = b.index().series(id).unwrap();
                    for m in metas {
                        b.chunk(m.chunk_ref).unwrap();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
