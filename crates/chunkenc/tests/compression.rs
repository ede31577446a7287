//! Bytes per sample for typical series, with upper bounds to catch regressions.
#![allow(clippy::unwrap_used, reason = "test code")]

use watchfire_chunkenc::{XorChunk, decode_all};

const N: i64 = 120;
const T0: i64 = 1_700_000_000_000;

fn bytes_per_sample(name: &str, samples: impl Iterator<Item = (i64, f64)>) -> f64 {
    let mut c = XorChunk::new();
    let mut want = Vec::new();
    for (t, v) in samples {
        c.append(t, v);
        want.push((t, v));
    }
    assert_eq!(decode_all(c.bytes()).unwrap(), want);
    let b = c.bytes().len() as f64 / want.len() as f64;
    println!(
        "{name}: {} bytes for {} samples = {b:.3} B/sample",
        c.bytes().len(),
        want.len()
    );
    b
}

/// Deterministic pseudo-random increments (xorshift64*).
fn increments() -> impl Iterator<Item = u64> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    std::iter::from_fn(move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        Some(s.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32)
    })
}

#[test]
fn counter_exact_scrapes() {
    let mut v = 0.0;
    let mut inc = increments();
    let b = bytes_per_sample(
        "counter +0..99 / 15s",
        (0..N).map(|i| {
            v += (inc.next().unwrap_or(0) % 100) as f64;
            (T0 + i * 15_000, v)
        }),
    );
    assert!(b < 2.2, "{b}");
}

#[test]
fn constant_series() {
    let b = bytes_per_sample("constant", (0..N).map(|i| (T0 + i * 15_000, 42.0)));
    assert!(b < 0.3, "{b}");
}

#[test]
fn counter_with_jitter() {
    let mut v = 0.0;
    let mut inc = increments();
    let b = bytes_per_sample(
        "counter +0..99 / 15s, ±5ms jitter",
        (0..N).map(|i| {
            let r = inc.next().unwrap_or(0);
            v += (r % 100) as f64;
            (T0 + i * 15_000 + (r >> 8) as i64 % 11 - 5, v)
        }),
    );
    assert!(b < 3.1, "{b}");
}
