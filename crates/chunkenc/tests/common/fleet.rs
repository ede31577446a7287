//! Deterministic series shaped like the peers' synthetic fleet
//! (`shared/peers/targets.py`): counters integrating a positive, wobbling rate,
//! gauges made of slow sines plus per-scrape jitter, classic histogram buckets.
//! Shared by the compression tests and the benchmark (`#[path]`-included).
#![allow(dead_code, reason = "each includer uses a subset")]

use std::f64::consts::PI;

/// Start of the generated series (ms); the fleet's counters start at 1_700_000_000 s.
pub const T0_MS: i64 = 1_700_086_400_000;
const EPOCH0: f64 = 1_700_000_000.0;

/// Deterministic pseudo-random numbers (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator; `seed` may be anything.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [a, b).
    pub fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.unit()
    }
}

/// `n` timestamps `step_ms` apart.
pub fn times(n: usize, step_ms: i64) -> impl Iterator<Item = i64> {
    (0..n as i64).map(move |i| T0_MS + i * step_ms)
}

/// ∫₀ᵗ r·(1 + ½·sin(w·x + p)) dx, the fleet's counter shape.
fn integral(r: f64, w: f64, p: f64, t: f64) -> f64 {
    r * (t + 0.5 / w * (p.cos() - (w * t + p).cos()))
}

/// Seconds since the fleet's epoch for a timestamp in ms.
fn secs(t: i64) -> f64 {
    t as f64 / 1000.0 - EPOCH0
}

/// Integer counter: mean rate `rate`/s, wobbling ±50 % with a period of 2 min .. 1 h.
pub fn counter(seed: u64, n: usize, step_ms: i64, rate: f64) -> Vec<(i64, f64)> {
    let mut g = Rng::new(seed);
    let w = 2.0 * PI / g.range(120.0, 3600.0);
    let p = g.range(0.0, 2.0 * PI);
    times(n, step_ms)
        .map(|t| (t, integral(rate, w, p, secs(t)).floor()))
        .collect()
}

/// Gauge `mean + amp·(three slow sines + 0.1·jitter)`, rounded by `style`.
pub fn gauge(seed: u64, n: usize, step_ms: i64, style: GaugeStyle) -> Vec<(i64, f64)> {
    let mut g = Rng::new(seed);
    let (mean, amp) = match style {
        GaugeStyle::Int => (40.0, 35.0),
        GaugeStyle::Dec1 => (55.0, 15.0),
        GaugeStyle::BigInt => (5e8, 2e8),
        GaugeStyle::Float => (0.5, 0.45),
    };
    let mean = mean * g.range(0.7, 1.3);
    let ws: Vec<(f64, f64)> = (0..3)
        .map(|_| (2.0 * PI / g.range(60.0, 7200.0), g.range(0.0, 2.0 * PI)))
        .collect();
    times(n, step_ms)
        .map(|t| {
            let s = secs(t);
            let x = 0.55 * (ws[0].0 * s + ws[0].1).sin()
                + 0.3 * (ws[1].0 * s + ws[1].1).sin()
                + 0.1 * (ws[2].0 * s + ws[2].1).sin()
                + 0.1 * (g.unit() - 0.5);
            let v = mean + amp * x;
            let v = match style {
                GaugeStyle::Int => v.trunc().max(0.0),
                GaugeStyle::Dec1 => format!("{v:.1}").parse().unwrap_or(v),
                GaugeStyle::BigInt => v.trunc(),
                GaugeStyle::Float => v.clamp(0.0, 1.0),
            };
            (t, v)
        })
        .collect()
}

/// How a [`gauge`] is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaugeStyle {
    /// Whole numbers around 40.
    Int,
    /// One decimal around 55 (a temperature).
    Dec1,
    /// Whole numbers around 5·10⁸ (memory bytes).
    BigInt,
    /// Full-precision floats in 0..1 (a load ratio).
    Float,
}

/// Classic histogram bucket: `floor(count · cdf)` of a wobbling request counter.
pub fn bucket(seed: u64, n: usize, step_ms: i64, cdf: f64) -> Vec<(i64, f64)> {
    let mut g = Rng::new(seed);
    let r = 20.0 * g.range(0.3, 3.0);
    let w = 2.0 * PI / g.range(120.0, 3600.0);
    let p = g.range(0.0, 2.0 * PI);
    times(n, step_ms)
        .map(|t| (t, (integral(r, w, p, secs(t)).floor() * cdf).floor()))
        .collect()
}

/// A constant.
pub fn constant(n: usize, step_ms: i64, v: f64) -> Vec<(i64, f64)> {
    times(n, step_ms).map(|t| (t, v)).collect()
}
