//! The value column of a dense chunk: decimal or float-bit integers.
//!
//! * **Decimal** (mode 0): every value is `mᵢ / 10ᵏ` for one scale `k` (0..=9) and
//!   integers `|mᵢ| < 2⁵³`, checked by recomputing the division, so the decoder's
//!   `(mᵢ as f64) / 10ᵏ` is bit-exact. Values that are not (NaN, ±Inf, -0.0, more
//!   digits, huge) are *exceptions*: listed with their position and stored raw, and
//!   replaced in the integer sequence by the previous integer.
//! * **Float bits** (mode 1): the 64-bit patterns mapped to integers in the order of
//!   the floats they encode, so close values give small differences.
//!
//! Either integer sequence then goes through the [`intseq`](super::intseq) codec.

use super::intseq::{self, Plan, Scratch};
use super::io::{BitWriter, Cursor, varint_bits};
use crate::ChunkError;

/// Largest decimal scale.
pub(crate) const MAX_SCALE: usize = 9;
/// Bits of the scale field.
const SCALE_BITS: u32 = 4;
/// Exactly representable powers of ten.
const POW10: [f64; MAX_SCALE + 1] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/// Integers of decimal mode must be below this in magnitude (exact in an f64).
const MAX_MANTISSA: f64 = 9_007_199_254_740_992.0; // 2^53
/// Prometheus' stale marker, stored in 1 bit as an exception.
pub(crate) const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// `v` as `m / 10ᵏ` if that reproduces `v` bit for bit.
#[inline(always)]
fn fit(v: f64, k: usize) -> Option<i64> {
    let p = *POW10.get(k)?;
    let x = v * p;
    if x.is_nan() || x.abs() >= MAX_MANTISSA {
        return None;
    }
    // Round to nearest without a libm call: truncate, then fix up (exact, |x| < 2⁵³).
    let t = x as i64;
    let frac = x - t as f64;
    let m = if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    };
    ((m as f64 / p).to_bits() == v.to_bits()).then_some(m)
}

/// The smallest scale at which `v` fits, searching from `hint` (usually the answer).
#[inline]
fn min_scale(v: f64, hint: usize) -> Option<usize> {
    if fit(v, hint).is_some() {
        let mut k = hint;
        while k > 0 && fit(v, k - 1).is_some() {
            k -= 1;
        }
        return Some(k);
    }
    (hint + 1..=MAX_SCALE)
        .chain(0..hint)
        .find(|&k| fit(v, k).is_some())
}

/// Maps float bit patterns to integers ordered like the floats (an involution).
#[inline(always)]
pub(crate) fn ordered(bits: u64) -> i64 {
    let x = bits as i64;
    if x < 0 { x ^ i64::MAX } else { x }
}

/// How the value column will be written.
#[derive(Debug)]
pub(crate) struct ValuePlan {
    /// `Some(k)`: decimal with scale `k`; `None`: float bits.
    scale: Option<usize>,
    /// The integer sequence to write.
    ints: Vec<i64>,
    plan: Plan,
    /// Exceptions of decimal mode: (position, bit pattern).
    exceptions: Vec<(usize, u64)>,
    /// Exact size in bits of the whole column.
    pub(crate) bits: u64,
}

/// Bits of the exception list.
fn exception_bits(ex: &[(usize, u64)]) -> u64 {
    let mut bits = 1;
    if !ex.is_empty() {
        bits += varint_bits(ex.len() as u64 - 1);
        let mut next = 0;
        for &(pos, v) in ex {
            bits += varint_bits((pos - next) as u64) + 1 + if v == STALE_NAN { 0 } else { 64 };
            next = pos + 1;
        }
    }
    bits
}

/// The decimal integers of `vals` at scale `k`, with exceptions.
fn decimal_at(vals: &[f64], k: usize, ints: &mut Vec<i64>, ex: &mut Vec<(usize, u64)>) {
    ints.clear();
    ex.clear();
    let mut prev = None;
    for (i, &v) in vals.iter().enumerate() {
        match fit(v, k) {
            Some(m) => {
                if prev.is_none() {
                    // Leading exceptions take the first integer (a zero difference).
                    ints.fill(m);
                }
                prev = Some(m);
                ints.push(m);
            }
            None => {
                ex.push((i, v.to_bits()));
                ints.push(prev.unwrap_or(0));
            }
        }
    }
}

/// Chooses the smallest encoding of the values.
pub(crate) fn plan(vals: &[f64], s: &mut Scratch) -> ValuePlan {
    let n = vals.len();
    let mut best = ValuePlan {
        scale: None,
        ints: Vec::new(),
        plan: intseq::plan(&[], s),
        exceptions: Vec::new(),
        bits: u64::MAX,
    };
    // Decimal: histogram of the smallest scale of each value.
    let limit = n / 4;
    let mut hist = [0usize; MAX_SCALE + 1];
    let mut misfits = 0;
    let mut hint = 0;
    for &v in vals {
        match min_scale(v, hint) {
            Some(k) => {
                if let Some(h) = hist.get_mut(k) {
                    *h += 1;
                }
                hint = k;
            }
            None => {
                misfits += 1;
                if misfits > limit {
                    break;
                }
            }
        }
    }
    if misfits <= limit {
        let k_all = hist.iter().rposition(|&c| c > 0).unwrap_or(0);
        // A few values with many digits may be cheaper as exceptions.
        let mut k_alt = k_all;
        let mut over = misfits;
        while k_alt > 0 {
            over += hist.get(k_alt).copied().unwrap_or(0);
            if over > limit {
                break;
            }
            k_alt -= 1;
        }
        let mut ints = Vec::with_capacity(n);
        let mut ex = Vec::new();
        let both = [k_all, k_alt];
        let scales = if k_alt < k_all { &both[..] } else { &both[..1] };
        for &k in scales {
            decimal_at(vals, k, &mut ints, &mut ex);
            let plan = intseq::plan(&ints, s);
            let bits = 1 + u64::from(SCALE_BITS) + plan.bits + exception_bits(&ex);
            if bits < best.bits {
                best = ValuePlan {
                    scale: Some(k),
                    ints: std::mem::take(&mut ints),
                    plan,
                    exceptions: std::mem::take(&mut ex),
                    bits,
                };
            }
        }
    }
    // Float bits: always possible; worth trying unless decimal is clearly good.
    if best.scale.is_none() || !best.exceptions.is_empty() || best.scale > Some(3) {
        let ints: Vec<i64> = vals.iter().map(|v| ordered(v.to_bits())).collect();
        let plan = intseq::plan(&ints, s);
        let bits = 1 + plan.bits;
        if bits < best.bits {
            best = ValuePlan {
                scale: None,
                ints,
                plan,
                exceptions: Vec::new(),
                bits,
            };
        }
    }
    best
}

/// Writes the value column as planned.
pub(crate) fn write(w: &mut BitWriter, p: &ValuePlan, s: &mut Scratch) {
    match p.scale {
        Some(k) => {
            w.put(0, 1);
            w.put(k as u64, SCALE_BITS);
            intseq::write(w, &p.ints, &p.plan, s);
            w.put(u64::from(!p.exceptions.is_empty()), 1);
            if !p.exceptions.is_empty() {
                w.put_varint(p.exceptions.len() as u64 - 1);
                let mut next = 0;
                for &(pos, v) in &p.exceptions {
                    w.put_varint((pos - next) as u64);
                    if v == STALE_NAN {
                        w.put(0, 1);
                    } else {
                        w.put(1, 1);
                        w.put(v, 64);
                    }
                    next = pos + 1;
                }
            }
        }
        None => {
            w.put(1, 1);
            intseq::write(w, &p.ints, &p.plan, s);
        }
    }
}

/// Reads the value column of `out.len()` samples into the `.1` of `out`.
pub(crate) fn read(
    c: &mut Cursor<'_>,
    out: &mut [(i64, f64)],
    buf: &mut Vec<i64>,
) -> Result<(), ChunkError> {
    let n = out.len();
    c.sample = 0;
    let decimal = c.short(1)? == 0;
    if !decimal {
        intseq::read(c, n, buf)?;
        for (o, &x) in out.iter_mut().zip(buf.iter()) {
            o.1 = f64::from_bits(ordered(x as u64) as u64);
        }
        return Ok(());
    }
    let at = c.bit_pos();
    let k = c.short(SCALE_BITS)? as usize;
    let Some(&p) = POW10.get(k) else {
        return Err(c.invalid("decimal scale", at));
    };
    intseq::read(c, n, buf)?;
    if k == 0 {
        for (o, &m) in out.iter_mut().zip(buf.iter()) {
            o.1 = m as f64;
        }
    } else {
        for (o, &m) in out.iter_mut().zip(buf.iter()) {
            o.1 = m as f64 / p;
        }
    }
    c.sample = 0;
    if c.short(1)? != 0 {
        let count = c.varint()?;
        let mut next = 0u64;
        for _ in 0..=count {
            let at = c.bit_pos();
            let pos = next.saturating_add(c.varint()?);
            c.sample = pos.min(u64::from(u32::MAX)) as u32;
            let Some(slot) = usize::try_from(pos).ok().and_then(|p| out.get_mut(p)) else {
                return Err(c.invalid("exception position", at));
            };
            slot.1 = f64::from_bits(if c.short(1)? == 0 {
                STALE_NAN
            } else {
                c.bits(64)?
            });
            next = pos + 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_exactly() {
        assert_eq!(fit(55.3, 1), Some(553));
        assert_eq!(fit(55.3, 3), Some(55300));
        assert_eq!(fit(55.3, 0), None);
        assert_eq!(fit(-0.0, 0), None);
        assert_eq!(fit(0.0, 0), Some(0));
        assert_eq!(fit(f64::NAN, 0), None);
        assert_eq!(fit(f64::INFINITY, 0), None);
        assert_eq!(fit(0.1 + 0.2, 9), None);
        assert_eq!(fit(9_007_199_254_740_991.0, 0), Some(9_007_199_254_740_991));
        assert_eq!(fit(9_007_199_254_740_992.0, 0), None);
        assert_eq!(min_scale(123.456, 0), Some(3));
        assert_eq!(min_scale(123.4, 3), Some(1));
        assert_eq!(min_scale(0.000000001, 0), Some(9));
        assert_eq!(min_scale(f64::NAN, 4), None);
    }

    #[test]
    fn ordered_is_monotonic_involution() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            5e-324,
            1.0,
            f64::MAX,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(ordered(w[0].to_bits()) < ordered(w[1].to_bits()), "{w:?}");
        }
        for b in [0u64, 1, u64::MAX, 1 << 63, STALE_NAN, 0x8000_0000_0000_0001] {
            assert_eq!(ordered(ordered(b) as u64) as u64, b);
        }
    }
}
