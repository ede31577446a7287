//! Throughput of `Wal::log` with batches of 1000 records of ~16 bytes.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

use watchfire_wal::{FRAME_HEADER_LEN, SyncPolicy, Wal, WalOptions, WalReader};

const RECORDS: usize = 1000;

fn records() -> Vec<Vec<u8>> {
    (0..RECORDS)
        .map(|i| {
            let mut r = (i as u64).to_le_bytes().to_vec();
            // 12..=20 bytes, 16 on average.
            r.extend(std::iter::repeat_n(i as u8, 4 + i % 9));
            r
        })
        .collect()
}

fn bench_log(c: &mut Criterion) {
    let recs = records();
    let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
    let payload: u64 = recs.iter().map(|r| r.len() as u64).sum();
    let framed = payload + FRAME_HEADER_LEN * RECORDS as u64;

    let mut group = c.benchmark_group("wal_log_1000x16B");
    group.throughput(Throughput::Bytes(payload));
    for (name, sync) in [
        ("manual_sync", SyncPolicy::Manual),
        ("interval_1s", SyncPolicy::Interval(Duration::from_secs(1))),
        (
            "interval_10ms",
            SyncPolicy::Interval(Duration::from_millis(10)),
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let options = WalOptions::default()
            .with_sync(sync)
            .with_segment_size(16 << 20);
        let (mut wal, _) = Wal::open(tmp.path(), options).unwrap();
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = std::time::Instant::now();
                for _ in 0..iters {
                    wal.log(&refs).unwrap();
                }
                let elapsed = start.elapsed();
                // Keep disk use bounded; not timed.
                let current = wal.current_segment();
                wal.truncate_before(current).unwrap();
                elapsed
            })
        });
        let s = wal.stats();
        eprintln!(
            "{name}: {} records, {} MiB framed, {} fsyncs, {} segments ({framed} framed bytes per batch)",
            s.records,
            s.bytes >> 20,
            s.fsyncs,
            s.segments_created
        );
    }
    group.finish();
}

fn bench_read(c: &mut Criterion) {
    let recs = records();
    let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
    let payload: u64 = recs.iter().map(|r| r.len() as u64).sum();
    let tmp = tempfile::tempdir().unwrap();
    let options = WalOptions::default()
        .with_sync(SyncPolicy::Manual)
        .with_segment_size(4 << 20);
    let (mut wal, _) = Wal::open(tmp.path(), options).unwrap();
    for _ in 0..1000 {
        wal.log(&refs).unwrap();
    }
    wal.close().unwrap();

    let mut group = c.benchmark_group("wal_read_1M_records");
    group.throughput(Throughput::Bytes(payload * 1000));
    group.sample_size(10);
    group.bench_function("next_record", |b| {
        b.iter_batched(
            || WalReader::open_dir(tmp.path()).unwrap(),
            |mut r| {
                let mut buf = Vec::new();
                let mut n = 0;
                while r.next_record(&mut buf).unwrap() {
                    n += 1;
                }
                assert_eq!(n, 1_000_000);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_log, bench_read);
criterion_main!(benches);
