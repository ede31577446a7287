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
//!    stored as varints, the rest bit-packed;
//! 4. bit-packing in groups of `2^gl` with one width per group, either zigzagged or
//!    as offsets from a per-group minimum ("frame of reference").
//!
//! The encoder tries every order, slope, group size and packing mode on the actual
//! data and keeps the smallest (the exact size of each is computed, not estimated).
//! All arithmetic wraps, so any `i64` sequence round-trips.

use super::io::{BitWriter, Cursor, unzigzag, varint_bits, zigzag};
use crate::ChunkError;

/// Highest difference order tried.
pub(crate) const MAX_ORDER: usize = 4;
/// Bits of the order field.
const ORDER_BITS: u32 = 3;
/// Bits of a group's width code and of a base's length code.
const CODE_BITS: u32 = 6;
/// Width or length code meaning "64 bits".
const CODE_64: u64 = 63;
/// Bits of the group-size exponent.
const GROUP_LOG_BITS: u32 = 5;
/// Largest group-size exponent a decoder accepts (groups of 65536 cover any chunk).
const MAX_GROUP_LOG: u32 = 16;
/// Smallest group-size exponent the encoder tries.
const MIN_GROUP_LOG: u32 = 3;

/// How one sequence is encoded, and its exact size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Common divisor of `xᵢ − x₀` (≥ 1).
    g: u64,
    /// Difference order.
    order: usize,
    /// Slope subtracted before differencing (0 = none).
    slope: i64,
    /// Group size exponent.
    group_log: u32,
    /// Frame-of-reference packing (per-group minimum) instead of zigzag.
    for_: bool,
    /// Exact encoded size in bits.
    pub(crate) bits: u64,
}

/// Reusable buffers for planning and writing.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    y: Vec<i64>,
    r: Vec<i64>,
    stats: Vec<Stat>,
}

/// Range of one group at the finest level.
#[derive(Debug, Clone, Copy)]
struct Stat {
    min: i64,
    max: i64,
    zmax: u64,
}

/// Effective packed width for a range needing `w` bits (widths ≥ 63 use 64).
#[inline(always)]
fn eff_width(w: u32) -> u32 {
    if w >= CODE_64 as u32 { 64 } else { w }
}

#[inline(always)]
fn bit_len(x: u64) -> u32 {
    64 - x.leading_zeros()
}

/// Bits taken by a group base stored as a zigzagged difference `z` from the previous.
#[inline(always)]
fn base_bits(z: u64) -> u64 {
    let l = bit_len(z);
    u64::from(CODE_BITS)
        + match l {
            0 => 0,
            63.. => 64,
            _ => u64::from(l - 1),
        }
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

/// Fills `y` with `(xᵢ − x₀) / g` and returns `g`.
fn normalise(xs: &[i64], y: &mut Vec<i64>) -> u64 {
    let x0 = xs.first().copied().unwrap_or(0);
    y.clear();
    y.extend(xs.iter().map(|&x| x.wrapping_sub(x0)));
    let mut g = 0u64;
    for &d in y.iter() {
        g = gcd(g, d.unsigned_abs());
        if g == 1 {
            return 1;
        }
    }
    // g = 0: constant; g > i64::MAX (2⁶³): not worth a special case.
    if g <= 1 || g > i64::MAX as u64 {
        return 1;
    }
    let gi = g as i64;
    for d in y.iter_mut() {
        *d /= gi;
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

/// Inverse of [`difference`]: prefix sums of `r[from..]` (wrapping).
#[inline]
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

/// The median first difference: the slope that leaves only jitter in regular series.
fn median_step(y: &[i64], tmp: &mut Vec<i64>) -> i64 {
    tmp.clear();
    tmp.extend(y.windows(2).map(|w| match w {
        [a, b] => b.wrapping_sub(*a),
        _ => 0,
    }));
    let mid = tmp.len() / 2;
    if tmp.is_empty() {
        return 0;
    }
    let (_, m, _) = tmp.select_nth_unstable(mid);
    *m
}

/// Best group size and packing mode for residuals `r`: `(group_log, for_, bits)`,
/// `bits` including the group-size and mode fields.
fn best_groups(r: &[i64], stats: &mut Vec<Stat>) -> (u32, bool, u64) {
    let len = r.len() as u64;
    stats.clear();
    stats.extend(r.chunks(1 << MIN_GROUP_LOG).map(|c| {
        let mut s = Stat {
            min: i64::MAX,
            max: i64::MIN,
            zmax: 0,
        };
        for &x in c {
            s.min = s.min.min(x);
            s.max = s.max.max(x);
            s.zmax = s.zmax.max(zigzag(x));
        }
        s
    }));
    let mut best = (MIN_GROUP_LOG, false, u64::MAX);
    let mut gl = MIN_GROUP_LOG;
    loop {
        let size = 1u64 << gl;
        let (mut zz, mut fr) = (0u64, 0u64);
        let mut prev_base = 0i64;
        let mut left = len;
        for s in stats.iter() {
            let n = left.min(size);
            left -= n;
            zz += u64::from(CODE_BITS) + u64::from(eff_width(bit_len(s.zmax))) * n;
            let range = s.max.wrapping_sub(s.min) as u64;
            fr += u64::from(CODE_BITS)
                + base_bits(zigzag(s.min.wrapping_sub(prev_base)))
                + u64::from(eff_width(bit_len(range))) * n;
            prev_base = s.min;
        }
        if zz < best.2 {
            best = (gl, false, zz);
        }
        if fr < best.2 {
            best = (gl, true, fr);
        }
        if stats.len() <= 1 || gl >= MAX_GROUP_LOG {
            break;
        }
        // Merge neighbouring groups for the next size.
        let mut i = 0;
        while let Some(&a) = stats.get(2 * i) {
            let m = match stats.get(2 * i + 1) {
                Some(b) => Stat {
                    min: a.min.min(b.min),
                    max: a.max.max(b.max),
                    zmax: a.zmax.max(b.zmax),
                },
                None => a,
            };
            if let Some(s) = stats.get_mut(i) {
                *s = m;
            }
            i += 1;
        }
        stats.truncate(i);
        gl += 1;
    }
    (best.0, best.1, best.2 + u64::from(GROUP_LOG_BITS + 1))
}

/// Bits of the fixed fields and seeds for `order` over residuals `r`.
fn head_bits(x0: i64, g: u64, order: usize, slope: i64, r: &[i64]) -> u64 {
    let mut bits = varint_bits(zigzag(x0)) + varint_bits(g) + u64::from(ORDER_BITS) + 1;
    if slope != 0 {
        bits += varint_bits(zigzag(slope));
    }
    for &s in r.iter().take(order).skip(1) {
        bits += varint_bits(zigzag(s));
    }
    bits
}

/// Chooses the smallest encoding of `xs`.
pub(crate) fn plan(xs: &[i64], s: &mut Scratch) -> Plan {
    let mut best = Plan {
        g: 1,
        order: 0,
        slope: 0,
        group_log: MIN_GROUP_LOG,
        for_: false,
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
    best.g = g;
    best.bits = u64::MAX;
    let mut consider = |order: usize, slope: i64, r: &[i64], stats: &mut Vec<Stat>| {
        let start = order.max(1);
        let packed = r.get(start..).unwrap_or_default();
        let (group_log, for_, gbits) = best_groups(packed, stats);
        let bits = head_bits(x0, g, order, slope, r) + gbits;
        if bits < best.bits {
            best = Plan {
                g,
                order,
                slope,
                group_log,
                for_,
                bits,
            };
        }
    };
    // Order 0 with the median slope (regular timestamps, linear trends).
    let slope = median_step(&s.y, &mut s.r);
    if slope != 0 {
        s.r.clear();
        s.r.extend(
            s.y.iter()
                .enumerate()
                .map(|(i, &y)| y.wrapping_sub((i as i64).wrapping_mul(slope))),
        );
        consider(0, slope, &s.r, &mut s.stats);
    }
    // Plain differences of every order.
    s.r.clear();
    s.r.extend_from_slice(&s.y);
    for order in 0..=MAX_ORDER.min(n - 1) {
        if order > 0 {
            difference(&mut s.r, order);
        }
        consider(order, 0, &s.r, &mut s.stats);
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
    let r = &mut s.r;
    r.clear();
    r.extend(
        s.y.iter()
            .enumerate()
            .map(|(i, &y)| y.wrapping_sub((i as i64).wrapping_mul(p.slope))),
    );
    for order in 1..=p.order {
        difference(r, order);
    }
    w.put_varint(p.g);
    w.put(p.order as u64, ORDER_BITS);
    w.put(u64::from(p.slope != 0), 1);
    if p.slope != 0 {
        w.put_varint(zigzag(p.slope));
    }
    for &seed in r.iter().take(p.order).skip(1) {
        w.put_varint(zigzag(seed));
    }
    let Some(packed) = r.get(p.order.max(1)..).filter(|p| !p.is_empty()) else {
        return;
    };
    w.put(u64::from(p.group_log), GROUP_LOG_BITS);
    w.put(u64::from(p.for_), 1);
    let mut prev_base = 0i64;
    for group in packed.chunks(1 << p.group_log) {
        if p.for_ {
            let min = group.iter().copied().min().unwrap_or(0);
            let max = group.iter().copied().max().unwrap_or(0);
            let width = put_width(w, max.wrapping_sub(min) as u64);
            let z = zigzag(min.wrapping_sub(prev_base));
            match bit_len(z) {
                0 => w.put(0, CODE_BITS),
                63.. => {
                    w.put(CODE_64, CODE_BITS);
                    w.put(z, 64);
                }
                l => {
                    w.put(u64::from(l), CODE_BITS);
                    w.put(z & !(1u64 << (l - 1)), l - 1);
                }
            }
            prev_base = min;
            for &x in group {
                w.put(x.wrapping_sub(min) as u64, width);
            }
        } else {
            let zmax = group.iter().map(|&x| zigzag(x)).max().unwrap_or(0);
            let width = put_width(w, zmax);
            for &x in group {
                w.put(zigzag(x), width);
            }
        }
    }
}

/// Writes the width code for values up to `max` and returns the width to pack with.
fn put_width(w: &mut BitWriter, max: u64) -> u32 {
    let width = eff_width(bit_len(max));
    w.put(if width == 64 { CODE_64 } else { u64::from(width) }, CODE_BITS);
    width
}

/// Reads a width or length code.
#[inline(always)]
fn read_code(c: &mut Cursor<'_>) -> Result<u32, ChunkError> {
    let code = c.short(CODE_BITS)?;
    Ok(if code == CODE_64 { 64 } else { code as u32 })
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
    let at = c.bit_pos();
    let order = c.short(ORDER_BITS)? as usize;
    if order > MAX_ORDER {
        return Err(c.invalid("difference order", at));
    }
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
    if let Some(packed) = out.get_mut(start..).filter(|p| !p.is_empty()) {
        c.sample = start as u32;
        let at = c.bit_pos();
        let group_log = c.short(GROUP_LOG_BITS)? as u32;
        if group_log > MAX_GROUP_LOG {
            return Err(c.invalid("group size", at));
        }
        let for_ = c.short(1)? != 0;
        let mut base = 0i64;
        for group in packed.chunks_mut(1 << group_log) {
            let width = read_code(c)?;
            if for_ {
                let l = read_code(c)?;
                let z = match l {
                    0 => 0,
                    64 => c.bits(64)?,
                    _ => c.bits(l - 1)? | 1u64 << (l - 1),
                };
                base = base.wrapping_add(unzigzag(z));
            }
            unpack(c, group, width, for_, base)?;
            c.sample += group.len() as u32;
        }
    }
    for order in (1..=order).rev() {
        integrate(out, order);
    }
    if slope != 0 {
        for (i, y) in out.iter_mut().enumerate() {
            *y = y.wrapping_add((i as i64).wrapping_mul(slope));
        }
    }
    let g = g as i64;
    for y in out.iter_mut() {
        *y = x0.wrapping_add(y.wrapping_mul(g));
    }
    Ok(())
}

/// Unpacks one group of `width`-bit values.
#[inline(always)]
fn unpack(
    c: &mut Cursor<'_>,
    group: &mut [i64],
    width: u32,
    for_: bool,
    base: i64,
) -> Result<(), ChunkError> {
    match (width, for_) {
        (0, true) => group.fill(base),
        (0, false) => group.fill(0),
        (1..=56, true) => {
            for x in group {
                *x = base.wrapping_add(c.short(width)? as i64);
            }
        }
        (1..=56, false) => {
            for x in group {
                *x = unzigzag(c.short(width)?);
            }
        }
        (_, true) => {
            for x in group {
                *x = base.wrapping_add(c.bits(width)? as i64);
            }
        }
        (_, false) => {
            for x in group {
                *x = unzigzag(c.bits(width)?);
            }
        }
    }
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
        let jitter: Vec<i64> = (0..480)
            .map(|i| 1_700_000_000_000 + i * 15_000 + (i * 7919 % 11) - 5)
            .collect();
        let p = roundtrip(&jitter);
        assert_eq!((p.order, p.slope), (0, 15_000), "{p:?}");
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

    #[test]
    fn gcd_works() {
        assert_eq!(gcd(0, 0), 0);
        assert_eq!(gcd(0, 6), 6);
        assert_eq!(gcd(12, 18), 6);
        assert_eq!(gcd(1 << 63, 1 << 40), 1 << 40);
    }
}
