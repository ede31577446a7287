//! Append and iterate 120-sample XOR chunks.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use watchfire_chunkenc::{XorChunk, XorIter};

const N: usize = 120;

/// Deterministic pseudo-random numbers (xorshift64*).
fn rng(seed: &mut u64) -> u64 {
    *seed ^= *seed >> 12;
    *seed ^= *seed << 25;
    *seed ^= *seed >> 27;
    seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// Realistic-ish workloads: (name, samples).
fn workloads() -> Vec<(&'static str, Vec<(i64, f64)>)> {
    let mut seed = 0x1234_5678_9abc_def1u64;
    let t0 = 1_700_000_000_000i64;
    // Counter, exact 15 s scrapes, +0..99 per scrape.
    let mut v = 1000.0;
    let counter = (0..N)
        .map(|i| {
            v += (rng(&mut seed) % 100) as f64;
            (t0 + i as i64 * 15_000, v)
        })
        .collect();
    // Gauge with arbitrary floats and ±5 ms timestamp jitter.
    let gauge = (0..N)
        .map(|i| {
            let jitter = (rng(&mut seed) % 11) as i64 - 5;
            (
                t0 + i as i64 * 15_000 + jitter,
                (rng(&mut seed) % 1_000_000) as f64 / 7.0,
            )
        })
        .collect();
    // Constant value, exact scrapes.
    let constant = (0..N).map(|i| (t0 + i as i64 * 15_000, 1.0)).collect();
    vec![
        ("counter", counter),
        ("gauge_jitter", gauge),
        ("constant", constant),
    ]
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("xor");
    g.throughput(Throughput::Elements(N as u64));
    for (name, samples) in workloads() {
        g.bench_function(format!("append/{name}"), |b| {
            b.iter(|| {
                let mut c = XorChunk::new();
                for &(t, v) in black_box(&samples) {
                    c.append(t, v);
                }
                c
            })
        });
        let mut chunk = XorChunk::new();
        for &(t, v) in &samples {
            chunk.append(t, v);
        }
        let bytes = chunk.into_bytes();
        g.bench_function(format!("iterate/{name}"), |b| {
            b.iter(|| {
                let mut it = XorIter::new(black_box(&bytes[..]));
                let mut acc = 0u64;
                while let Some((t, v)) = it.next() {
                    acc = acc.wrapping_add(t as u64 ^ v.to_bits());
                }
                acc
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
