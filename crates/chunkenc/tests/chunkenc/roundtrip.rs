//! Property tests: bit-exact round trips, garbage never panics, seek semantics.
#![allow(clippy::unwrap_used, reason = "test code")]

use proptest::prelude::*;
use watchfire_chunkenc::{XorChunk, XorIter, decode_all};

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

/// Values from any bit pattern, mixed with repeats and small steps.
fn value_bits() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => any::<u64>(),
        1 => Just(0x7ff0_0000_0000_0002u64), // stale marker
        1 => (0u32..1000).prop_map(|i| f64::from(i).to_bits()),
        1 => prop::sample::select(vec![
            f64::INFINITY.to_bits(),
            f64::NEG_INFINITY.to_bits(),
            (-0.0f64).to_bits(),
            0,
            1,
            f64::NAN.to_bits(),
        ]),
    ]
}

/// Strictly increasing timestamps (a gap that would pass i64::MAX is skipped).
fn series(max: usize) -> impl Strategy<Value = Vec<(i64, u64)>> {
    (
        any::<i64>(),
        prop::collection::vec((gap(), value_bits(), any::<bool>()), 0..max),
    )
        .prop_map(|(start, steps)| {
            let mut out = Vec::with_capacity(steps.len());
            let mut t = start;
            let mut prev_v = 0u64;
            for (i, (g, v, repeat)) in steps.into_iter().enumerate() {
                if i > 0 {
                    match t.checked_add_unsigned(g) {
                        Some(n) => t = n,
                        None => continue,
                    }
                }
                let v = if repeat && i > 0 { prev_v } else { v };
                out.push((t, v));
                prev_v = v;
            }
            out
        })
}

fn bits(s: &[(i64, f64)]) -> Vec<(i64, u64)> {
    s.iter().map(|&(t, v)| (t, v.to_bits())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn roundtrip_after_every_append(s in series(150)) {
        let mut c = XorChunk::new();
        for (i, &(t, v)) in s.iter().enumerate() {
            c.append(t, f64::from_bits(v));
            let got = decode_all(c.bytes()).unwrap();
            prop_assert_eq!(bits(&got), &s[..=i]);
            prop_assert_eq!(c.last().map(|(t, v)| (t, v.to_bits())), Some((t, v)));
        }
        prop_assert_eq!(c.first_time(), s.first().map(|x| x.0));
        prop_assert_eq!(usize::from(c.num_samples()), s.len());
        let mut it = c.iter();
        let got: Vec<_> = it.by_ref().collect();
        prop_assert!(it.error().is_none());
        prop_assert_eq!(bits(&got), s.clone());
        c.shrink_to_fit();
        prop_assert_eq!(bits(&decode_all(&c.into_bytes()).unwrap()), s);
    }

    #[test]
    fn arbitrary_i64_sequences_roundtrip(s in prop::collection::vec((any::<i64>(), any::<u64>()), 0..200)) {
        // Not increasing at all: still lossless thanks to wrapping arithmetic.
        let mut c = XorChunk::new();
        for &(t, v) in &s {
            c.append(t, f64::from_bits(v));
        }
        prop_assert_eq!(bits(&decode_all(c.bytes()).unwrap()), s);
    }

    #[test]
    fn garbage_never_panics(data in prop::collection::vec(any::<u8>(), 0..600)) {
        let r = decode_all(&data);
        let mut it = XorIter::new(&data[..]);
        let mut n = 0;
        while it.next().is_some() {
            n += 1;
            let _ = it.at();
        }
        prop_assert_eq!(it.next(), None);
        match r {
            Ok(v) => { prop_assert_eq!(v.len(), n); prop_assert!(it.error().is_none()); }
            Err(e) => prop_assert_eq!(Some(&e), it.error()),
        }
        let mut it = XorIter::new(data.clone());
        let _ = it.seek(0);
        let _ = it.seek(i64::MAX);
        let _ = it.seek(i64::MIN);
    }

    #[test]
    fn garbage_with_plausible_header(count in 0u16..400, body in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut data = count.to_be_bytes().to_vec();
        data.extend_from_slice(&body);
        let _ = decode_all(&data);
    }

    #[test]
    fn corrupted_chunks_never_panic(s in series(60), flips in prop::collection::vec((any::<usize>(), 0u8..8), 1..4), cut in any::<usize>()) {
        let mut c = XorChunk::new();
        for &(t, v) in &s {
            c.append(t, f64::from_bits(v));
        }
        let mut data = c.into_bytes();
        for (at, bit) in flips {
            let len = data.len();
            data[at % len] ^= 1 << bit;
        }
        let _ = decode_all(&data);
        let cut = cut % (data.len() + 1);
        let r = decode_all(&data[..cut]);
        let mut it = XorIter::new(&data[..cut]);
        let n = it.by_ref().count();
        match r {
            Ok(v) => prop_assert_eq!(v.len(), n),
            Err(e) => prop_assert_eq!(Some(&e), it.error()),
        }
    }

    #[test]
    fn seek_finds_first_at_or_after(s in series(100), targets in prop::collection::vec(any::<i64>(), 1..10)) {
        let mut c = XorChunk::new();
        for &(t, v) in &s {
            c.append(t, f64::from_bits(v));
        }
        let mut it = c.iter();
        let mut targets = targets;
        targets.push(s.first().map_or(0, |x| x.0));
        let mut floor: Option<usize> = None; // index of the current sample
        for target in targets {
            let got = it.seek(target).map(|(t, v)| (t, v.to_bits()));
            // Expected: first index >= floor (never backwards) with ts >= target.
            let start = floor.unwrap_or(0);
            let want = s.iter().enumerate().skip(start).find(|(_, x)| x.0 >= target);
            match want {
                Some((i, &x)) => {
                    prop_assert_eq!(got, Some(x));
                    prop_assert_eq!(it.at().map(|(t, v)| (t, v.to_bits())), Some(x));
                    floor = Some(i);
                }
                None => {
                    prop_assert_eq!(got, None);
                    prop_assert_eq!(it.at(), None);
                    // Exhausted: everything after is None.
                    floor = Some(s.len());
                }
            }
        }
    }
}
