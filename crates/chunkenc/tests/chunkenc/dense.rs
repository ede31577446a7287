//! Property tests of the dense encoding and of `encode_best` / `ChunkIter`:
//! bit-exact round trips (arbitrary and realistic series), garbage and corrupted
//! input never panics, seek semantics.
#![allow(clippy::unwrap_used, reason = "test code")]

use proptest::prelude::*;
use watchfire_chunkenc::{
    ChunkError, ChunkIter, DenseIter, Encoding, MAX_SAMPLES, XorChunk, decode_all_with,
    decode_into, decode_range_into, encode_best, encode_dense,
};

const STALE: u64 = 0x7ff0_0000_0000_0002;

fn bits(s: &[(i64, f64)]) -> Vec<(i64, u64)> {
    s.iter().map(|&(t, v)| (t, v.to_bits())).collect()
}

fn floats(s: &[(i64, u64)]) -> Vec<(i64, f64)> {
    s.iter().map(|&(t, v)| (t, f64::from_bits(v))).collect()
}

fn xor_len(s: &[(i64, f64)]) -> usize {
    let mut c = XorChunk::new();
    s.iter().for_each(|&(t, v)| c.append(t, v));
    c.bytes().len()
}

/// Everything that must hold for any sample sequence.
fn check_roundtrip(s: &[(i64, u64)]) -> Result<(), TestCaseError> {
    let f = floats(s);
    let dense = encode_dense(&f);
    prop_assert_eq!(bits(&decode_all_with(Encoding::Dense, &dense).unwrap()), s);
    let mut it = ChunkIter::new(Encoding::Dense, &dense[..]);
    prop_assert_eq!(usize::from(it.remaining()), s.len());
    let got: Vec<_> = it.by_ref().collect();
    prop_assert!(it.error().is_none());
    prop_assert_eq!(bits(&got), s);
    let (enc, best) = encode_best(&f);
    prop_assert!(best.len() <= dense.len() && best.len() <= xor_len(&f));
    prop_assert_eq!(enc == Encoding::Dense, best == dense);
    prop_assert_eq!(bits(&decode_all_with(enc, &best).unwrap()), s);
    prop_assert_eq!(bits(&ChunkIter::new(enc, &best[..]).collect::<Vec<_>>()), s);
    let xor = {
        let mut c = XorChunk::new();
        f.iter().for_each(|&(t, v)| c.append(t, v));
        c.into_bytes()
    };
    // Bulk decoding, into a dirty reused buffer, for every encoding.
    let mut buf = vec![(1, 1.0); 3];
    for (enc, bytes) in [
        (Encoding::Dense, &dense),
        (Encoding::Xor, &xor),
        (enc, &best),
    ] {
        decode_into(enc, bytes, &mut buf).unwrap();
        prop_assert_eq!(bits(&buf), s);
        check_range(enc, bytes, s, &mut buf)?;
    }
    Ok(())
}

/// `decode_range_into` keeps the samples up to the first one after `maxt` that are at
/// or after `mint`, for a few windows around the series' own timestamps.
fn check_range(
    enc: Encoding,
    bytes: &[u8],
    s: &[(i64, u64)],
    buf: &mut Vec<(i64, f64)>,
) -> Result<(), TestCaseError> {
    let ts: Vec<i64> = s.iter().map(|x| x.0).collect();
    let at = |i: usize| ts.get(i).copied().unwrap_or(0);
    let n = ts.len();
    let windows = [
        (i64::MIN, i64::MAX),
        (at(n / 4), at(n * 3 / 4)),
        (at(n / 2).saturating_add(1), at(n / 2).saturating_add(1)),
        (at(1), at(1)),
        (i64::MIN, at(0).saturating_sub(1)),
        (at(n.saturating_sub(1)).saturating_add(1), i64::MAX),
    ];
    for (mint, maxt) in windows {
        let want: Vec<(i64, u64)> = s
            .iter()
            .copied()
            .take_while(|x| x.0 <= maxt)
            .filter(|x| x.0 >= mint)
            .collect();
        decode_range_into(enc, bytes, mint, maxt, buf).unwrap();
        prop_assert_eq!(bits(buf), want, "window {}..={}", mint, maxt);
    }
    Ok(())
}

/// Gaps between timestamps: mostly regular scrapes with jitter, sometimes anything.
fn gap() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => Just(15_000u64),
        3 => 14_990u64..15_010,
        2 => 1u64..100_000,
        1 => 1u64..=u64::MAX,
        1 => (1u64 << 31)..(1u64 << 40),
    ]
}

/// Strictly increasing timestamps from `start` (a gap past i64::MAX ends the series).
fn timestamps(start: i64, gaps: &[u64]) -> Vec<i64> {
    let mut out = Vec::with_capacity(gaps.len() + 1);
    let mut t = start;
    out.push(t);
    for &g in gaps {
        match t.checked_add_unsigned(g) {
            Some(n) => t = n,
            None => break,
        }
        out.push(t);
    }
    out
}

/// Any bit patterns, with the special values over-represented.
fn any_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => any::<u64>(),
        1 => Just(STALE),
        1 => prop::sample::select(vec![
            f64::INFINITY.to_bits(),
            f64::NEG_INFINITY.to_bits(),
            (-0.0f64).to_bits(),
            0,
            1,
            f64::NAN.to_bits(),
            0x7ff8_dead_beef_0001,
            u64::MAX,
        ]),
        1 => (0u32..1000).prop_map(|i| f64::from(i).to_bits()),
    ]
}

/// Occasional specials mixed into otherwise realistic values.
fn special() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![
        40 => Just(None),
        1 => Just(Some(STALE)),
        1 => Just(Some(f64::NAN.to_bits())),
        1 => Just(Some((-0.0f64).to_bits())),
        1 => Just(Some(f64::INFINITY.to_bits())),
        1 => any::<u64>().prop_map(Some),
    ]
}

/// Realistic values: integer counters (with resets), decimal random walks with 0-3
/// digits (as a text parser would produce them), with a few specials.
fn realistic_values(n: usize) -> impl Strategy<Value = Vec<u64>> {
    let steps = prop::collection::vec((-50i64..200, special(), 0u8..100), n);
    (0u32..4, any::<bool>(), -1_000_000i64..1_000_000_000, steps).prop_map(
        |(digits, counter, start, steps)| {
            let mut m = start;
            steps
                .into_iter()
                .map(|(step, special, reset)| {
                    if counter {
                        m = if reset == 0 { 0 } else { m + step.abs() };
                    } else {
                        m += step - 75;
                    }
                    let text = format!(
                        "{:.*}",
                        digits as usize,
                        m as f64 / 10f64.powi(digits as i32)
                    );
                    let v: f64 = text.parse().unwrap();
                    special.unwrap_or(v.to_bits())
                })
                .collect()
        },
    )
}

fn realistic_series() -> impl Strategy<Value = Vec<(i64, u64)>> {
    (
        0usize..700,
        any::<i64>().prop_map(|t| t >> 20),
        prop::collection::vec(prop_oneof![8 => Just(15_000u64), 2 => gap()], 700),
    )
        .prop_flat_map(|(n, start, gaps)| {
            let ts = timestamps(start, gaps.get(..n.saturating_sub(1)).unwrap_or_default());
            let n = ts.len().min(n);
            (Just(ts), realistic_values(n))
        })
        .prop_map(|(ts, vs)| ts.into_iter().zip(vs).collect())
}

fn arbitrary_series(max: usize) -> impl Strategy<Value = Vec<(i64, u64)>> {
    (
        any::<i64>(),
        prop::collection::vec((gap(), any_value(), any::<bool>()), 0..max),
    )
        .prop_map(|(start, steps)| {
            let gaps: Vec<u64> = steps.iter().skip(1).map(|s| s.0).collect();
            let ts = timestamps(start, &gaps);
            let mut prev = 0;
            ts.into_iter()
                .zip(steps)
                .map(|(t, (_, v, repeat))| {
                    let v = if repeat { prev } else { v };
                    prev = v;
                    (t, v)
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn arbitrary_roundtrip(s in arbitrary_series(300)) {
        check_roundtrip(&s)?;
    }

    #[test]
    fn realistic_roundtrip(s in realistic_series()) {
        check_roundtrip(&s)?;
    }

    #[test]
    fn unordered_timestamps_roundtrip(s in prop::collection::vec((any::<i64>(), any::<u64>()), 0..200)) {
        let f = floats(&s);
        prop_assert_eq!(bits(&decode_all_with(Encoding::Dense, &encode_dense(&f)).unwrap()), s);
    }

    #[test]
    fn garbage_never_panics(data in prop::collection::vec(any::<u8>(), 0..600)) {
        check_garbage(&data)?;
    }

    #[test]
    fn garbage_with_plausible_header(count in 0u16..700, body in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut data = count.to_be_bytes().to_vec();
        data.extend_from_slice(&body);
        check_garbage(&data)?;
    }

    #[test]
    fn corrupted_chunks_never_panic(
        s in realistic_series(),
        flips in prop::collection::vec((any::<usize>(), 0u8..8), 1..4),
        cut in any::<usize>(),
    ) {
        let mut data = encode_dense(&floats(&s));
        for (at, bit) in flips {
            let len = data.len();
            data[at % len] ^= 1 << bit;
        }
        check_garbage(&data)?;
        let cut = cut % (data.len() + 1);
        check_garbage(&data[..cut])?;
    }

    #[test]
    fn seek_finds_first_at_or_after(s in realistic_series(), targets in prop::collection::vec(any::<i64>(), 1..10)) {
        let dense = encode_dense(&floats(&s));
        let mut it = ChunkIter::new(Encoding::Dense, &dense[..]);
        let mut floor = 0usize;
        for target in targets {
            let got = it.seek(target).map(|(t, v)| (t, v.to_bits()));
            let want = s.iter().enumerate().skip(floor).find(|(_, x)| x.0 >= target);
            match want {
                Some((i, &x)) => {
                    prop_assert_eq!(got, Some(x));
                    prop_assert_eq!(it.at().map(|(t, v)| (t, v.to_bits())), Some(x));
                    floor = i;
                }
                None => {
                    prop_assert_eq!(got, None);
                    prop_assert_eq!(it.at(), None);
                    floor = s.len();
                }
            }
        }
    }
}

/// Decoding arbitrary bytes ends cleanly, and every entry point agrees.
fn check_garbage(data: &[u8]) -> Result<(), TestCaseError> {
    let r = decode_all_with(Encoding::Dense, data);
    let mut it = ChunkIter::new(Encoding::Dense, data);
    let got: Vec<_> = it.by_ref().collect();
    prop_assert_eq!(it.next(), None);
    match r {
        Ok(v) => {
            prop_assert_eq!(bits(&v), bits(&got));
            prop_assert!(it.error().is_none());
        }
        Err(e) => {
            prop_assert!(got.is_empty());
            prop_assert_eq!(Some(&e), it.error());
        }
    }
    // Bulk decoding agrees with the iterator, for both encodings.
    let mut buf = vec![(1, 1.0)];
    for enc in [Encoding::Dense, Encoding::Xor] {
        let mut it = ChunkIter::new(enc, data);
        let got: Vec<_> = it.by_ref().collect();
        let r = decode_into(enc, data, &mut buf);
        prop_assert_eq!(bits(&buf), bits(&got));
        prop_assert_eq!(r.err(), it.error().cloned());
    }
    let mut it = DenseIter::new(data);
    let _ = it.seek(0);
    let _ = it.seek(i64::MAX);
    let _ = it.seek(i64::MIN);
    Ok(())
}

#[test]
fn full_and_oversized_chunks() {
    let s: Vec<(i64, f64)> = (0..i64::from(MAX_SAMPLES) + 10)
        .map(|i| (i * 15_000, (i * i % 1000) as f64 / 10.0))
        .collect();
    let (enc, bytes) = encode_best(&s);
    assert_eq!(enc, Encoding::Dense);
    let got = decode_all_with(enc, &bytes).unwrap();
    assert_eq!(got.len(), usize::from(MAX_SAMPLES));
    assert_eq!(bits(&got), bits(&s[..usize::from(MAX_SAMPLES)]));
}

#[test]
fn empty_and_errors() {
    assert_eq!(encode_best(&[]), (Encoding::Dense, vec![0, 0]));
    assert_eq!(decode_all_with(Encoding::Dense, &[0, 0]), Ok(vec![]));
    assert_eq!(
        decode_all_with(Encoding::Dense, &[0]),
        Err(ChunkError::ShortHeader { len: 1 })
    );
    let it = ChunkIter::new(Encoding::Dense, vec![0, 3]);
    assert!(matches!(
        it.error(),
        Some(ChunkError::Truncated { sample: 0, bit: 16 })
    ));
    // XOR through the same entry points, with its usual partial results.
    let mut c = XorChunk::new();
    c.append(1, 1.0);
    c.append(2, 2.0);
    let b = c.bytes();
    let mut it = ChunkIter::new(Encoding::Xor, &b[..b.len() - 1]);
    assert_eq!(it.next(), Some((1, 1.0)));
    assert_eq!(it.next(), None);
    assert!(it.error().is_some());
}

#[test]
fn specials_survive() {
    let specials = [
        STALE,
        f64::NAN.to_bits(),
        0x7ff8_dead_beef_0001,
        0xfff0_0000_0000_0001,
        f64::INFINITY.to_bits(),
        f64::NEG_INFINITY.to_bits(),
        (-0.0f64).to_bits(),
        1,
        0x8000_0000_0000_0001,
    ];
    for (i, &sp) in specials.iter().enumerate() {
        for at in [0usize, 1, 2, 119, 239] {
            let mut s: Vec<(i64, u64)> = (0..240)
                .map(|j| {
                    (
                        j as i64 * 15_000,
                        (100.0 + (j * 7 % 13) as f64 / 10.0).to_bits(),
                    )
                })
                .collect();
            s[at].1 = sp;
            s[(at + 17 * i) % 240].1 = STALE;
            check_roundtrip(&s).unwrap();
        }
    }
}
