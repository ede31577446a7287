//! Append and iterate 120-sample XOR chunks; encode sealed 480-sample chunks with
//! `encode_best` and decode them (Dense, or XOR where that won), both through the
//! per-sample iterator and in bulk into a reused buffer (`decode_into`, the path the
//! TSDB's series iterator takes).
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use watchfire_chunkenc::{
    ChunkIter, Encoding, XorChunk, XorIter, decode_into, encode_best, encode_dense,
};

#[path = "../tests/common/fleet.rs"]
mod fleet;

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

/// Samples per sealed chunk: a 2 h block at 15 s.
const SEALED: usize = 480;

/// Fleet-like workloads for sealed chunks.
fn sealed_workloads() -> Vec<(&'static str, Vec<(i64, f64)>)> {
    use fleet::GaugeStyle::*;
    vec![
        ("counter", fleet::counter(1, SEALED, 15_000, 50.0)),
        ("gauge_dec1", fleet::gauge(2, SEALED, 15_000, Dec1)),
        ("gauge_bigint", fleet::gauge(3, SEALED, 15_000, BigInt)),
        ("gauge_float", fleet::gauge(4, SEALED, 15_000, Float)),
        ("hist_bucket", fleet::bucket(5, SEALED, 15_000, 0.6)),
        ("constant", fleet::constant(SEALED, 15_000, 1.0)),
    ]
}

fn bench_sealed(c: &mut Criterion) {
    let mut g = c.benchmark_group("sealed");
    g.throughput(Throughput::Elements(SEALED as u64));
    for (name, samples) in sealed_workloads() {
        g.bench_function(format!("encode_best/{name}"), |b| {
            b.iter(|| encode_best(black_box(&samples)))
        });
        let dense = encode_dense(&samples);
        g.bench_function(format!("decode_dense/{name}"), |b| {
            b.iter(|| {
                let mut it = ChunkIter::new(Encoding::Dense, black_box(&dense[..]));
                let mut acc = 0u64;
                while let Some((t, v)) = it.next() {
                    acc = acc.wrapping_add(t as u64 ^ v.to_bits());
                }
                acc
            })
        });
        let mut buf = Vec::new();
        g.bench_function(format!("decode_dense_into/{name}"), |b| {
            b.iter(|| {
                let r = decode_into(Encoding::Dense, black_box(&dense[..]), &mut buf);
                (r.is_ok(), buf.len())
            })
        });
        let mut xor = XorChunk::new();
        for &(t, v) in &samples {
            xor.append(t, v);
        }
        let xor = xor.into_bytes();
        g.bench_function(format!("decode_xor_into/{name}"), |b| {
            b.iter(|| {
                let r = decode_into(Encoding::Xor, black_box(&xor[..]), &mut buf);
                (r.is_ok(), buf.len())
            })
        });
        g.bench_function(format!("decode_xor/{name}"), |b| {
            b.iter(|| {
                let mut it = ChunkIter::new(Encoding::Xor, black_box(&xor[..]));
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

criterion_group!(benches, bench, bench_sealed);
criterion_main!(benches);
