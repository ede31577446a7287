//! Bytes per sample of XOR vs Dense on a Prometheus text file with timestamps, e.g.
//! one written by `bench/gen_fleet_openmetrics.py` (its `.prom` output).
//!
//! ```text
//! cargo run --release -p watchfire-chunkenc --example fleet_bytes -- /tmp/fleet.prom [chunk]
//! ```
//!
//! Each series is cut into chunks of `chunk` samples (default: the whole series, as a
//! block's sealed chunk); chunks are encoded both ways and with `encode_best`, checked
//! bit for bit, and the totals are printed per metric family.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "dev tool")]
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::time::Instant;

use watchfire_chunkenc::{Encoding, XorChunk, decode_all_with, encode_best, encode_dense};

#[derive(Default)]
struct Tally {
    samples: usize,
    xor: usize,
    dense: usize,
    best: usize,
    dense_chunks: usize,
    chunks: usize,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: fleet_bytes FILE.prom [chunk]");
    let chunk: usize = args.next().map_or(usize::MAX, |s| s.parse().unwrap());
    let file = std::fs::File::open(&path).expect("open");
    let mut series: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    for line in BufReader::new(file).lines() {
        let line = line.unwrap();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (rest, ts) = line.rsplit_once(' ').unwrap();
        let (key, val) = rest.rsplit_once(' ').unwrap();
        let v = match val {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            _ => val.parse().unwrap(),
        };
        series
            .entry(key.to_string())
            .or_default()
            .push((ts.parse().unwrap(), v));
    }
    let mut fams: BTreeMap<String, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    let (mut enc_time, mut dec_time) = (0f64, 0f64);
    for (key, samples) in &series {
        let fam = key.split('{').next().unwrap().to_string();
        let fam = if fam.ends_with("_bucket") {
            let le = key.rsplit_once("le=\"").map_or("", |x| x.1);
            format!("{fam}{{le={}", le.trim_end_matches("\"}"))
        } else {
            fam
        };
        let tally = fams.entry(fam).or_default();
        for c in samples.chunks(chunk.min(usize::from(u16::MAX))) {
            let mut x = XorChunk::new();
            for &(t, v) in c {
                x.append(t, v);
            }
            let dense = encode_dense(c);
            let t0 = Instant::now();
            let (enc, best) = encode_best(c);
            enc_time += t0.elapsed().as_secs_f64();
            let t0 = Instant::now();
            let got = decode_all_with(enc, &best).unwrap();
            dec_time += t0.elapsed().as_secs_f64();
            assert!(
                got.iter()
                    .zip(c)
                    .all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits())
                    && got.len() == c.len(),
                "mismatch in {key}"
            );
            for t in [&mut *tally, &mut total] {
                t.samples += c.len();
                t.xor += x.bytes().len();
                t.dense += dense.len();
                t.best += best.len();
                t.chunks += 1;
                t.dense_chunks += usize::from(enc == Encoding::Dense);
            }
        }
    }
    println!(
        "{:<48} {:>8} {:>7} {:>7} {:>7} {:>6}",
        "family", "samples", "xor", "dense", "best", "dense%"
    );
    let row = |name: &str, t: &Tally| {
        let n = t.samples as f64;
        println!(
            "{name:<48} {:>8} {:>7.3} {:>7.3} {:>7.3} {:>5.0}%",
            t.samples,
            t.xor as f64 / n,
            t.dense as f64 / n,
            t.best as f64 / n,
            100.0 * t.dense_chunks as f64 / t.chunks as f64
        );
    };
    for (name, t) in &fams {
        row(name, t);
    }
    row("TOTAL", &total);
    println!(
        "encode_best {:.1} M samples/s, decode {:.1} M samples/s ({} series)",
        total.samples as f64 / enc_time / 1e6,
        total.samples as f64 / dec_time / 1e6,
        series.len()
    );
}
