//! The integer-sequence codec both columns of a dense chunk use.
//!
//! A sequence `x₀ … xₙ₋₁` of `i64` is stored as (see `docs/format/chunks.md`):
//!
//! 1. `x₀`, then `yᵢ = (xᵢ − x₀) / g` for the largest common divisor `g` of the
//!    differences (so timestamps on whole seconds, or byte counts in pages, shrink);
//! 2. optionally `yᵢ − i·s` for a slope `s` (jittered timestamps: what remains is the
//!    jitter);
//! 3. differences of order `d` (0 ..= [`MAX_ORDER`]): residual `rᵢ` is the
//!    `min(i, d)`-th difference at `i`; `r₀ = 0` is implicit, `r₁ … r_{d−1}` are
//!    stored as varints (seeds), the rest coded;
//! 4. the coded residuals either adaptive-Rice coded or bit-packed in groups (see
//!    [`codes`](super::codes)).
//!
//! The encoder ranks slopes and orders by a cheap magnitude estimate, then sizes the
//! two best exactly with both codings and every group size, and keeps the smallest.
//! All arithmetic wraps, so any `i64` sequence round-trips.

use super::codes::{
    MIN_GROUP_LOG, best_groups, bit_len, read_packed, read_rice, rice_bits, rice_init,
    write_packed, write_rice,
};
use super::io::{BitWriter, Cursor, unzigzag, varint_bits, zigzag};
use crate::ChunkError;

/// Highest difference order tried.
pub(crate) const MAX_ORDER: usize = 7;
/// Bits of the order field.
const ORDER_BITS: u32 = 3;
const _: () = assert!(MAX_ORDER < 1 << ORDER_BITS);

/// How the residuals are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    /// Bit-packed in groups of `2^group_log`, zigzagged or, with `for_`, as offsets
    /// from each group's minimum.
    Pack { group_log: u32, for_: bool },
    /// Adaptive Rice codes, the running mean starting at about `2^init / 2`.
    Rice { init: u32 },
}

/// How one sequence is encoded, and its exact size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Common divisor of `xᵢ − x₀` (≥ 1).
    g: u64,
    /// Difference order.
    order: usize,
    /// Slope subtracted before differencing (0 = none).
    slope: i64,
    coding: Coding,
    /// Exact encoded size in bits.
    pub(crate) bits: u64,
}

/// Reusable buffers for planning and writing.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    y: Vec<i64>,
    r: Vec<i64>,
    stats: Vec<(i64, i64)>,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    if a == 0 {
        return b;
    }
    if b == 0 {
        return a;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// Exact division by a fixed divisor `g = odd · 2^shift` without `div` instructions:
/// multiplication by the inverse of `odd` modulo 2⁶⁴ (Granlund–Montgomery).
#[derive(Debug, Clone, Copy)]
struct ExactDiv {
    shift: u32,
    inv: u64,
    /// Largest quotient: `u64::MAX / odd`; a product above it means "not divisible".
    max_q: u64,
}

impl ExactDiv {
    /// For `g ≥ 1` (0 is taken as 1).
    fn new(g: u64) -> Self {
        let g = g.max(1);
        let shift = g.trailing_zeros();
        let odd = (g >> shift) | 1;
        // Newton's iteration doubles the correct low bits: 3 → 6 → 12 → 24 → 48 → 96.
        let mut inv = odd;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inv)));
        }
        ExactDiv {
            shift,
            inv,
            max_q: u64::MAX / odd,
        }
    }

    /// Whether `g` divides `d`.
    #[inline(always)]
    fn divides(&self, d: u64) -> bool {
        d == 0
            || (d.trailing_zeros() >= self.shift
                && (d >> self.shift).wrapping_mul(self.inv) <= self.max_q)
    }

    /// `d / g` for a multiple `d` of `g`.
    #[inline(always)]
    fn div(&self, d: i64) -> i64 {
        (d >> self.shift).wrapping_mul(self.inv as i64)
    }
}

/// Fills `y` with `(xᵢ − x₀) / g` and returns `g`.
fn normalise(xs: &[i64], y: &mut Vec<i64>) -> u64 {
    let x0 = xs.first().copied().unwrap_or(0);
    y.clear();
    y.extend(xs.iter().map(|&x| x.wrapping_sub(x0)));
    let mut g = 0u64;
    let mut div = ExactDiv::new(1);
    for &d in y.iter() {
        let d = d.unsigned_abs();
        if d == 0 || (g != 0 && div.divides(d)) {
            continue;
        }
        g = gcd(g, d);
        if g == 1 {
            return 1;
        }
        div = ExactDiv::new(g);
    }
    // g = 0: constant; g > i64::MAX (2⁶³): not worth a special case.
    if g <= 1 || g > i64::MAX as u64 {
        return 1;
    }
    for d in y.iter_mut() {
        *d = div.div(*d);
    }
    g
}

/// Replaces `r[from..]` by its first differences (wrapping).
#[inline]
fn difference(r: &mut [i64], from: usize) {
    let Some(&first) = from.checked_sub(1).and_then(|i| r.get(i)) else {
        return;
    };
    let mut prev = first;
    for x in r.iter_mut().skip(from) {
        let cur = *x;
        *x = cur.wrapping_sub(prev);
        prev = cur;
    }
}

/// Inverse of [`difference`]: prefix sums of `r[from..]` (wrapping). The decoder
/// fuses this into [`reconstruct`]; tests check both agree.
#[cfg(test)]
fn integrate(r: &mut [i64], from: usize) {
    let Some(&first) = from.checked_sub(1).and_then(|i| r.get(i)) else {
        return;
    };
    let mut prev = first;
    for x in r.iter_mut().skip(from) {
        prev = prev.wrapping_add(*x);
        *x = prev;
    }
}

/// Undoes [`residuals`] and [`normalise`] in place, in one pass: integrates `order`
/// times (as [`integrate`] from `order` down to 1 would), adds `i·slope`, multiplies
/// by `g` and adds `x0`, all wrapping. `order` ≤ [`MAX_ORDER`].
fn reconstruct(out: &mut [i64], order: usize, slope: i64, g: i64, x0: i64) {
    if g == 1 {
        // No divisor (the usual case for values): skip the multiplications.
        match order {
            0 => reconstruct_n::<0, false>(out, slope, g, x0),
            1 => reconstruct_n::<1, false>(out, slope, g, x0),
            2 => reconstruct_n::<2, false>(out, slope, g, x0),
            3 => reconstruct_n::<3, false>(out, slope, g, x0),
            4 => reconstruct_n::<4, false>(out, slope, g, x0),
            5 => reconstruct_n::<5, false>(out, slope, g, x0),
            6 => reconstruct_n::<6, false>(out, slope, g, x0),
            _ => reconstruct_n::<7, false>(out, slope, g, x0),
        }
        return;
    }
    match order {
        0 => reconstruct_n::<0, true>(out, slope, g, x0),
        1 => reconstruct_n::<1, true>(out, slope, g, x0),
        2 => reconstruct_n::<2, true>(out, slope, g, x0),
        3 => reconstruct_n::<3, true>(out, slope, g, x0),
        4 => reconstruct_n::<4, true>(out, slope, g, x0),
        5 => reconstruct_n::<5, true>(out, slope, g, x0),
        6 => reconstruct_n::<6, true>(out, slope, g, x0),
        _ => reconstruct_n::<7, true>(out, slope, g, x0),
    }
}

/// [`reconstruct`] for order `D`. `s[o - 1]` is the running sum of the integration of
/// order `o`, i.e. the previous element's value after that pass; an element below
/// index `o` is left alone by that pass and seeds it.
#[inline(always)]
fn reconstruct_n<const D: usize, const MUL: bool>(out: &mut [i64], slope: i64, g: i64, x0: i64) {
    let mut s = [0i64; D];
    let mut lin = 0i64;
    let (head, tail) = out.split_at_mut(D.min(out.len()));
    for (i, x) in head.iter_mut().enumerate() {
        let mut v = *x;
        for o in (1..=D).rev() {
            if let Some(acc) = s.get_mut(o - 1) {
                if i >= o {
                    *acc = acc.wrapping_add(v);
                    v = *acc;
                } else {
                    *acc = v;
                }
            }
        }
        *x = x0.wrapping_add(scale::<MUL>(v.wrapping_add(lin), g));
        lin = lin.wrapping_add(slope);
    }
    for x in tail {
        let mut v = *x;
        for acc in s.iter_mut().rev() {
            *acc = acc.wrapping_add(v);
            v = *acc;
        }
        *x = x0.wrapping_add(scale::<MUL>(v.wrapping_add(lin), g));
        lin = lin.wrapping_add(slope);
    }
}

/// `y · g`, or `y` when `MUL` is false (then `g` is 1).
#[inline(always)]
fn scale<const MUL: bool>(y: i64, g: i64) -> i64 {
    if MUL { y.wrapping_mul(g) } else { y }
}

/// The median of up to 15 evenly spaced first differences: the slope that leaves only
/// jitter in regular series (a missed scrape does not move it).
fn median_step(y: &[i64]) -> i64 {
    let steps = y.len().saturating_sub(1);
    let m = steps.min(15);
    let mut d = [0i64; 15];
    for (j, slot) in d.iter_mut().enumerate().take(m) {
        let i = 1 + j * steps / m;
        if let (Some(a), Some(b)) = (y.get(i - 1), y.get(i)) {
            *slot = b.wrapping_sub(*a);
        }
    }
    let d = d.get_mut(..m).unwrap_or_default();
    d.sort_unstable();
    d.get(m / 2).copied().unwrap_or(0)
}

/// `(y_last − y₀) / (n − 1)`, rounded.
fn mean_step(y: &[i64]) -> i64 {
    let (Some(&a), Some(&b)) = (y.first(), y.last()) else {
        return 0;
    };
    let steps = y.len().saturating_sub(1).max(1) as i128;
    let span = i128::from(b) - i128::from(a);
    let q = (2 * span + steps).div_euclid(2 * steps);
    q.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Bits of the fixed fields and seeds for `order` over residuals `r` (everything but
/// the coded residuals).
fn head_bits(x0: i64, g: u64, order: usize, slope: i64, r: &[i64]) -> u64 {
    // x₀, g, order, slope flag (+ slope), seeds, coding flag.
    let mut bits = varint_bits(zigzag(x0)) + varint_bits(g) + u64::from(ORDER_BITS) + 2;
    if slope != 0 {
        bits += varint_bits(zigzag(slope));
    }
    for &s in r.iter().take(order).skip(1) {
        bits += varint_bits(zigzag(s));
    }
    bits
}

/// Fills `r` with the residuals of `y` for `order` and `slope`.
fn residuals(y: &[i64], order: usize, slope: i64, r: &mut Vec<i64>) {
    r.clear();
    if slope == 0 {
        r.extend_from_slice(y);
    } else {
        r.extend(
            y.iter()
                .enumerate()
                .map(|(i, &y)| y.wrapping_sub((i as i64).wrapping_mul(slope))),
        );
    }
    for o in 1..=order {
        difference(r, o);
    }
}

/// The coded (non-seed) part of residuals for `order`.
fn coded(r: &[i64], order: usize) -> &[i64] {
    r.get(order.max(1)..).unwrap_or_default()
}

/// Chooses the smallest encoding of `xs`.
///
/// Every candidate transform (two slopes, orders 0 ..= [`MAX_ORDER`]) is sized with
/// Rice coding, which is one cheap pass; the two best are also sized with group
/// packing (the better choice for runs of zeros).
pub(crate) fn plan(xs: &[i64], s: &mut Scratch) -> Plan {
    let mut best = Plan {
        g: 1,
        order: 0,
        slope: 0,
        coding: Coding::Pack {
            group_log: MIN_GROUP_LOG,
            for_: false,
        },
        bits: 0,
    };
    let n = xs.len();
    let Some(&x0) = xs.first() else {
        return best;
    };
    if n == 1 {
        best.bits = varint_bits(zigzag(x0));
        return best;
    }
    let g = normalise(xs, &mut s.y);
    // The two best (bits, order, slope, init) by Rice size.
    let mut top: [(u64, usize, i64, u32); 2] = [(u64::MAX, 0, 0, 0); 2];
    let mut consider = |order: usize, slope: i64, r: &[i64]| {
        let body = coded(r, order);
        // Ranking proxy: total magnitude in bits (no loop-carried state, so it is
        // several times faster than sizing the Rice codes).
        let (mag, any) = body.iter().fold((0u64, 0u64), |(m, a), &x| {
            let z = zigzag(x);
            (m + u64::from(bit_len(z)), a | z)
        });
        let bits = head_bits(x0, g, order, slope, r) + mag;
        let cand = (bits, order, slope, 0);
        if bits < top[0].0 {
            top = [cand, top[0]];
        } else if bits < top[1].0 {
            top[1] = cand;
        }
        (bits, any == 0)
    };
    // Order 0 with a slope (regular timestamps, linear trends): the median step
    // ignores missed scrapes, the mean step is exact for pure jitter.
    let median = median_step(&s.y);
    let mean = mean_step(&s.y);
    let mut done = false;
    for (i, slope) in [median, mean].into_iter().enumerate() {
        if slope != 0 && !done && (i == 0 || mean != median) {
            residuals(&s.y, 0, slope, &mut s.r);
            done = consider(0, slope, &s.r).1;
        }
    }
    // Plain differences of every order. Sizes are close to unimodal in the order:
    // stop after two orders that do not improve on the best.
    s.r.clear();
    s.r.extend_from_slice(&s.y);
    let mut best_order = (0, u64::MAX);
    for order in 0..=MAX_ORDER.min(n - 1) {
        if done || order > best_order.0 + 2 {
            break;
        }
        if order > 0 {
            difference(&mut s.r, order);
        }
        let (bits, zero) = consider(order, 0, &s.r);
        if bits < best_order.1 {
            best_order = (order, bits);
        }
        done = zero;
    }
    best.g = g;
    best.bits = u64::MAX;
    for (proxy, order, slope, _) in top {
        if proxy == u64::MAX {
            continue;
        }
        residuals(&s.y, order, slope, &mut s.r);
        let body = coded(&s.r, order);
        let init = rice_init(body);
        let rice = head_bits(x0, g, order, slope, &s.r) + rice_bits(body, init).0;
        if rice < best.bits {
            best = Plan {
                g,
                order,
                slope,
                coding: Coding::Rice { init },
                bits: rice,
            };
        }
        let (group_log, for_, body) = best_groups(coded(&s.r, order), &mut s.stats);
        let bits = head_bits(x0, g, order, slope, &s.r) + body;
        if bits < best.bits {
            best = Plan {
                g,
                order,
                slope,
                coding: Coding::Pack { group_log, for_ },
                bits,
            };
        }
    }
    best
}

/// Writes `xs` as planned by [`plan`] (same `xs`).
pub(crate) fn write(w: &mut BitWriter, xs: &[i64], p: &Plan, s: &mut Scratch) {
    let Some(&x0) = xs.first() else { return };
    w.put_varint(zigzag(x0));
    if xs.len() == 1 {
        return;
    }
    normalise(xs, &mut s.y);
    residuals(&s.y, p.order, p.slope, &mut s.r);
    let r = &s.r;
    w.put_varint(p.g);
    w.put(p.order as u64, ORDER_BITS);
    w.put(u64::from(p.slope != 0), 1);
    if p.slope != 0 {
        w.put_varint(zigzag(p.slope));
    }
    for &seed in r.iter().take(p.order).skip(1) {
        w.put_varint(zigzag(seed));
    }
    let body = coded(r, p.order);
    w.put(u64::from(matches!(p.coding, Coding::Rice { .. })), 1);
    // (Plans always leave residuals to code; an empty body would store nothing.)
    if body.is_empty() {
        return;
    }
    match p.coding {
        Coding::Pack { group_log, for_ } => write_packed(w, body, group_log, for_),
        Coding::Rice { init } => write_rice(w, body, init),
    }
}

/// Reads a sequence of `n` values into `out` (replacing its contents).
pub(crate) fn read(c: &mut Cursor<'_>, n: usize, out: &mut Vec<i64>) -> Result<(), ChunkError> {
    out.clear();
    if n == 0 {
        return Ok(());
    }
    c.sample = 0;
    let x0 = unzigzag(c.varint()?);
    if n == 1 {
        out.push(x0);
        return Ok(());
    }
    out.resize(n, 0);
    let at = c.bit_pos();
    let g = c.varint()?;
    if g == 0 {
        return Err(c.invalid("divisor", at));
    }
    let order = c.short(ORDER_BITS)? as usize;
    let slope = if c.short(1)? != 0 {
        unzigzag(c.varint()?)
    } else {
        0
    };
    for (i, x) in out.iter_mut().enumerate().take(order).skip(1) {
        c.sample = i as u32;
        *x = unzigzag(c.varint()?);
    }
    let start = order.max(1);
    c.sample = start as u32;
    let rice = c.short(1)? != 0;
    if let Some(body) = out.get_mut(start..).filter(|b| !b.is_empty()) {
        if rice {
            read_rice(c, body)?;
        } else {
            read_packed(c, body)?;
        }
    }
    reconstruct(out, order, slope, g as i64, x0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(xs: &[i64]) -> Plan {
        let mut s = Scratch::default();
        let p = plan(xs, &mut s);
        let mut w = BitWriter::default();
        write(&mut w, xs, &p, &mut s);
        assert_eq!(w.bit_len(), p.bits, "planned size is exact for {p:?}");
        let bytes = w.finish();
        let mut c = Cursor::new(&bytes, 0);
        let mut out = Vec::new();
        read(&mut c, xs.len(), &mut out).unwrap();
        assert_eq!(out, xs);
        p
    }

    #[test]
    fn sequences_roundtrip() {
        roundtrip(&[]);
        roundtrip(&[5]);
        roundtrip(&[i64::MIN, i64::MAX]);
        roundtrip(&[i64::MAX, i64::MIN, 0, -1, i64::MAX]);
        roundtrip(&[0, i64::MIN, 0, i64::MIN]);
        let regular: Vec<i64> = (0..480).map(|i| 1_700_000_000_000 + i * 15_000).collect();
        let p = roundtrip(&regular);
        assert!(p.bits < 100, "{p:?}");
        let jitter: Vec<i64> = (0..480i64)
            .map(|i| 1_700_000_000_000 + i * 15_000 + (i * i * 7919 % 11) - 5)
            .collect();
        let p = roundtrip(&jitter);
        assert_eq!((p.order, p.slope), (0, 15_000), "{p:?}");
        assert!(p.bits < 480 * 4 + 100, "{p:?}");
        let quad: Vec<i64> = (0..300).map(|i| 3 * i * i - 7 * i + 11).collect();
        let p = roundtrip(&quad);
        assert!(p.bits < 120, "{p:?}");
        let mut x = 1u64;
        let random: Vec<i64> = (0..1000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as i64
            })
            .collect();
        roundtrip(&random);
        let pages: Vec<i64> = (0..100).map(|i| 4096 * ((i * 37) % 101)).collect();
        let p = roundtrip(&pages);
        assert_eq!(p.g, 4096);
    }

    /// The fused one-pass reconstruction equals the step-by-step inverse transforms.
    #[test]
    fn reconstruct_matches_stepwise() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as i64
        };
        for n in [0usize, 1, 2, 3, 7, 8, 9, 50] {
            for order in 0..=MAX_ORDER {
                for (slope, g, x0) in [
                    (0, 1, 0),
                    (15_000, 1, 1 << 40),
                    (-3, 7, -5),
                    (rnd(), rnd(), rnd()),
                ] {
                    let r: Vec<i64> = (0..n)
                        .map(|i| if i % 5 == 0 { rnd() } else { rnd() % 100 })
                        .collect();
                    let mut want = r.clone();
                    for o in (1..=order).rev() {
                        integrate(&mut want, o);
                    }
                    for (i, y) in want.iter_mut().enumerate() {
                        *y = x0.wrapping_add(
                            y.wrapping_add((i as i64).wrapping_mul(slope))
                                .wrapping_mul(g),
                        );
                    }
                    let mut got = r;
                    reconstruct(&mut got, order, slope, g, x0);
                    assert_eq!(got, want, "n {n} order {order} slope {slope} g {g}");
                }
            }
        }
    }

    #[test]
    fn exact_division() {
        for g in [
            1u64,
            2,
            3,
            6,
            1000,
            4096,
            15_000,
            1 << 40,
            (1 << 62) + 1,
            i64::MAX as u64,
        ] {
            let e = ExactDiv::new(g);
            for q in [0i64, 1, -1, 2, -7, 1 << 20, -(1 << 21), i64::MAX / g as i64] {
                let Some(d) = q.checked_mul(g as i64) else {
                    continue;
                };
                assert!(e.divides(d.unsigned_abs()), "{g} | {d}");
                assert_eq!(e.div(d), q, "{d} / {g}");
                if g > 1 {
                    assert!(!e.divides(d.unsigned_abs() + 1), "{g} ∤ {d} + 1");
                }
            }
        }
    }

    #[test]
    fn gcd_works() {
        assert_eq!(gcd(0, 0), 0);
        assert_eq!(gcd(0, 6), 6);
        assert_eq!(gcd(12, 18), 6);
        assert_eq!(gcd(1 << 63, 1 << 40), 1 << 40);
    }
}
