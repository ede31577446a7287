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

// ---------------------------------------------------------------------------------
// Sealed chunks: XOR vs Dense (`encode_best`) on fleet-like series, 480 samples
// (a 2 h block at 15 s).

use crate::fleet::{self, GaugeStyle};
use watchfire_chunkenc::{Encoding, decode_all_with, encode_best, encode_dense};

const SEALED: usize = 480;

/// Encodes `samples` both ways, checks both bit for bit, prints a table row and
/// returns (XOR, Dense) bytes per sample.
fn xor_vs_dense(name: &str, samples: &[(i64, f64)]) -> (f64, f64) {
    let bits = |s: &[(i64, f64)]| -> Vec<(i64, u64)> {
        s.iter().map(|&(t, v)| (t, v.to_bits())).collect()
    };
    let mut c = XorChunk::new();
    for &(t, v) in samples {
        c.append(t, v);
    }
    assert_eq!(bits(&decode_all(c.bytes()).unwrap()), bits(samples));
    let dense = encode_dense(samples);
    assert_eq!(
        bits(&decode_all_with(Encoding::Dense, &dense).unwrap()),
        bits(samples)
    );
    let (enc, best) = encode_best(samples);
    assert_eq!(bits(&decode_all_with(enc, &best).unwrap()), bits(samples));
    assert_eq!(best.len(), dense.len().min(c.bytes().len()));
    let n = samples.len() as f64;
    let (x, d) = (c.bytes().len() as f64 / n, dense.len() as f64 / n);
    println!(
        "{name:<34} xor {x:>6.3}  dense {d:>6.3} B/sample  ({:>4.1}x)",
        x / d
    );
    (x, d)
}

#[test]
fn sealed_xor_vs_dense() {
    /// (name, samples, upper bound for Dense in bytes/sample)
    type Row = (&'static str, Vec<(i64, f64)>, f64);
    let rows: Vec<Row> = vec![
        (
            "int counter, wobbling rate",
            fleet::counter(1, SEALED, 15_000, 50.0),
            0.70,
        ),
        (
            "1-decimal gauge, jitter",
            fleet::gauge(2, SEALED, 15_000, GaugeStyle::Dec1),
            0.85,
        ),
        (
            "big-int gauge, jitter",
            fleet::gauge(3, SEALED, 15_000, GaugeStyle::BigInt),
            3.40,
        ),
        (
            "full-float gauge, jitter",
            fleet::gauge(4, SEALED, 15_000, GaugeStyle::Float),
            6.70,
        ),
        (
            "histogram bucket counter",
            fleet::bucket(5, SEALED, 15_000, 0.6),
            0.50,
        ),
        ("constant", fleet::constant(SEALED, 15_000, 1.0), 0.05),
        (
            "int gauge, jitter",
            fleet::gauge(6, SEALED, 15_000, GaugeStyle::Int),
            0.50,
        ),
        (
            "big counter (bytes), wobbling rate",
            fleet::counter(7, SEALED, 15_000, 2e5),
            0.85,
        ),
    ];
    let mut failed = Vec::new();
    for (name, samples, bound) in rows {
        let (x, d) = xor_vs_dense(name, &samples);
        if d > bound || d >= x {
            failed.push(format!("{name}: dense {d:.3} (bound {bound}), xor {x:.3}"));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn sealed_jittered_timestamps() {
    // ±5 ms scrape jitter costs XOR ~9 bits per timestamp; Dense stores the jitter.
    let mut rng = fleet::Rng::new(11);
    let samples: Vec<(i64, f64)> = fleet::counter(8, SEALED, 15_000, 50.0)
        .into_iter()
        .map(|(t, v)| (t + (rng.next_u64() % 11) as i64 - 5, v))
        .collect();
    let (x, d) = xor_vs_dense("int counter, ±5 ms jitter", &samples);
    assert!(d <= 1.1 && d * 2.5 < x, "xor {x:.3} dense {d:.3}");
    // With missed scrapes and a stale marker at the end.
    let mut s = fleet::gauge(9, SEALED, 15_000, GaugeStyle::Dec1);
    s.retain(|&(t, _)| (t / 15_000) % 97 != 3);
    if let Some(last) = s.last_mut() {
        last.1 = f64::from_bits(0x7ff0_0000_0000_0002);
    }
    let (x, d) = xor_vs_dense("1-decimal gauge, gaps + stale end", &s);
    assert!(d <= 0.85 && d < x / 5.0, "xor {x:.3} dense {d:.3}");
}
