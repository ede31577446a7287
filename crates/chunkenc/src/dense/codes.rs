//! The two ways a residual sequence is stored: bit-packed in groups with one width
//! per group (zigzagged, or as offsets from the group's minimum), or adaptive Rice
//! codes whose parameter follows a running mean of the values, so no side
//! information is stored. Sizes are computed exactly, without writing.

use super::io::{BitWriter, Cursor, unzigzag, zigzag};
use crate::ChunkError;

/// Bits of a group's width code, of a length code and of Rice's initial mean.
pub(crate) const CODE_BITS: u32 = 6;
/// Width or length code meaning "64 bits".
pub(crate) const CODE_64: u64 = 63;
/// Bits of the group-size exponent.
pub(crate) const GROUP_LOG_BITS: u32 = 5;
/// Largest group-size exponent a decoder accepts (groups of 65536 cover any chunk).
pub(crate) const MAX_GROUP_LOG: u32 = 16;
/// Smallest group-size exponent the encoder tries.
pub(crate) const MIN_GROUP_LOG: u32 = 3;
/// Rice coding: a unary quotient of this many ones is an escape.
pub(crate) const RICE_LIMIT: u32 = 24;
/// Rice coding: the running mean averages over about 2^this values.
pub(crate) const RICE_SHIFT: u32 = 4;
/// Rice coding: values enter the running mean clamped to this.
pub(crate) const RICE_CLAMP: u64 = 1 << 58;
/// Rice coding: largest parameter the decoder's fast path takes, so that a code with
/// a quotient below [`RICE_LIMIT`] stays below [`RICE_CLAMP`].
const RICE_FAST_K: u32 = 53;
const _: () = assert!((RICE_LIMIT as u64 + 1) << RICE_FAST_K <= RICE_CLAMP);
/// Rice coding: values used to choose the initial mean.
pub(crate) const RICE_INIT_SPAN: usize = 16;

/// Effective packed width for a range needing `w` bits (widths ≥ 63 use 64).
#[inline(always)]
fn eff_width(w: u32) -> u32 {
    if w >= CODE_64 as u32 { 64 } else { w }
}

#[inline(always)]
pub(crate) fn bit_len(x: u64) -> u32 {
    64 - x.leading_zeros()
}

/// Bits of [`put_len_coded`]`(z)`.
#[inline(always)]
fn len_coded_bits(z: u64) -> u64 {
    u64::from(CODE_BITS)
        + match bit_len(z) {
            0 => 0,
            63.. => 64,
            l => u64::from(l - 1),
        }
}

/// Writes `z` as its bit length `l` (6-bit code, 63 = 64 bits in full) and its `l − 1`
/// bits below the leading one.
fn put_len_coded(w: &mut BitWriter, z: u64) {
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
}

/// Reads what [`put_len_coded`] wrote.
fn read_len_coded(c: &mut Cursor<'_>) -> Result<u64, ChunkError> {
    Ok(match read_code(c)? {
        0 => 0,
        64 => c.bits(64)?,
        l => c.bits(l - 1)? | 1u64 << (l - 1),
    })
}

/// Reads a width or length code.
#[inline(always)]
fn read_code(c: &mut Cursor<'_>) -> Result<u32, ChunkError> {
    let code = c.short(CODE_BITS)?;
    Ok(if code == CODE_64 { 64 } else { code as u32 })
}

/// The adaptive Rice parameter: a running mean of the zigzagged values.
#[derive(Debug, Clone, Copy)]
struct Rice {
    /// About `mean << RICE_SHIFT`.
    acc: u64,
}

impl Rice {
    fn new(init: u32) -> Self {
        Rice {
            acc: (1u64.checked_shl(init).unwrap_or(0) >> 1).min(RICE_CLAMP) << RICE_SHIFT,
        }
    }

    /// Number of low bits stored in binary.
    #[inline(always)]
    fn k(&self) -> u32 {
        // bit_len(mean) - 1, or 0 for a zero mean, without a branch.
        ((self.acc >> RICE_SHIFT) | 1).ilog2()
    }

    #[inline(always)]
    fn update(&mut self, z: u64) {
        self.acc = self.acc - (self.acc >> RICE_SHIFT) + z.min(RICE_CLAMP);
    }

    /// Bits of one value.
    #[inline(always)]
    fn bits(k: u32, z: u64) -> u64 {
        let q = z >> k;
        if q < u64::from(RICE_LIMIT) {
            q + 1 + u64::from(k)
        } else {
            u64::from(RICE_LIMIT) + len_coded_bits(z)
        }
    }
}

/// The initial-mean code for Rice coding of `r`.
pub(crate) fn rice_init(r: &[i64]) -> u32 {
    let head = r.get(..RICE_INIT_SPAN.min(r.len())).unwrap_or_default();
    let sum: u128 = head.iter().map(|&x| u128::from(zigzag(x))).sum();
    let mean = (sum / head.len().max(1) as u128).min(u128::from(RICE_CLAMP)) as u64;
    bit_len(mean)
}

/// Exact bits of `r` Rice coded (including the initial-mean code), and whether all
/// of `r` is zero.
pub(crate) fn rice_bits(r: &[i64], init: u32) -> (u64, bool) {
    let mut st = Rice::new(init);
    let mut bits = u64::from(CODE_BITS);
    let mut any = 0;
    for &x in r {
        let z = zigzag(x);
        any |= z;
        bits += Rice::bits(st.k(), z);
        st.update(z);
    }
    (bits, any == 0)
}

/// Writes `body` Rice coded, starting with the initial-mean code `init`.
pub(crate) fn write_rice(w: &mut BitWriter, body: &[i64], init: u32) {
    w.put(u64::from(init), CODE_BITS);
    let mut st = Rice::new(init);
    for &x in body {
        let z = zigzag(x);
        let k = st.k();
        let q = z >> k;
        if q < u64::from(RICE_LIMIT) {
            w.put(((1u64 << q) - 1) << 1, q as u32 + 1);
            w.put(z & !(u64::MAX.checked_shl(k).unwrap_or(0)), k);
        } else {
            w.put((1u64 << RICE_LIMIT) - 1, RICE_LIMIT);
            put_len_coded(w, z);
        }
        st.update(z);
    }
}

/// Best group size and packing mode for residuals `r`: `(group_log, for_, bits)`,
/// `bits` including the group-size and mode fields.
pub(crate) fn best_groups(r: &[i64], stats: &mut Vec<(i64, i64)>) -> (u32, bool, u64) {
    let len = r.len() as u64;
    stats.clear();
    stats.extend(r.chunks(1 << MIN_GROUP_LOG).map(|c| {
        c.iter()
            .fold((i64::MAX, i64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)))
    }));
    let mut best = (MIN_GROUP_LOG, false, u64::MAX);
    let mut gl = MIN_GROUP_LOG;
    loop {
        let size = 1u64 << gl;
        let (mut zz, mut fr) = (0u64, 0u64);
        let mut prev_base = 0i64;
        let mut left = len;
        for &(min, max) in stats.iter() {
            let n = left.min(size);
            left -= n;
            // Zigzag is monotonic in |x|: the extremes have the largest codes.
            let zmax = zigzag(min).max(zigzag(max));
            zz += u64::from(CODE_BITS) + u64::from(eff_width(bit_len(zmax))) * n;
            let range = max.wrapping_sub(min) as u64;
            fr += u64::from(CODE_BITS)
                + len_coded_bits(zigzag(min.wrapping_sub(prev_base)))
                + u64::from(eff_width(bit_len(range))) * n;
            prev_base = min;
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
        while let Some(&(lo, hi)) = stats.get(2 * i) {
            let m = match stats.get(2 * i + 1) {
                Some(&(lo2, hi2)) => (lo.min(lo2), hi.max(hi2)),
                None => (lo, hi),
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

/// Bit-packs `body` in groups.
pub(crate) fn write_packed(w: &mut BitWriter, body: &[i64], group_log: u32, for_: bool) {
    if body.is_empty() {
        return;
    }
    w.put(u64::from(group_log), GROUP_LOG_BITS);
    w.put(u64::from(for_), 1);
    let mut prev_base = 0i64;
    for group in body.chunks(1 << group_log) {
        let (min, max) = group
            .iter()
            .fold((i64::MAX, i64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        if for_ {
            let width = put_width(w, max.wrapping_sub(min) as u64);
            put_len_coded(w, zigzag(min.wrapping_sub(prev_base)));
            prev_base = min;
            for &x in group {
                w.put(x.wrapping_sub(min) as u64, width);
            }
        } else {
            let width = put_width(w, zigzag(min).max(zigzag(max)));
            for &x in group {
                w.put(zigzag(x), width);
            }
        }
    }
}

/// Writes the width code for values up to `max` and returns the width to pack with.
fn put_width(w: &mut BitWriter, max: u64) -> u32 {
    let width = eff_width(bit_len(max));
    w.put(
        if width == 64 {
            CODE_64
        } else {
            u64::from(width)
        },
        CODE_BITS,
    );
    width
}

/// Reads Rice-coded residuals into `body`.
///
/// The common codes (short quotient, parameter below [`RICE_FAST_K`]) are decoded
/// from a register copy of the bit reader; anything else, including running out of
/// input, goes through the field-by-field path that reports errors.
pub(crate) fn read_rice(c: &mut Cursor<'_>, body: &mut [i64]) -> Result<(), ChunkError> {
    let at = c.bit_pos();
    let init = c.short(CODE_BITS)? as u32;
    if u64::from(init) > u64::from(bit_len(RICE_CLAMP)) {
        return Err(c.invalid("Rice initial mean", at));
    }
    let mut st = Rice::new(init);
    let base = c.sample;
    let data = c.data;
    let mut r = c.r;
    for (i, x) in body.iter_mut().enumerate() {
        let k = st.k();
        if k <= RICE_FAST_K
            && let Some(z) = r.rice(data, RICE_LIMIT, k)
        {
            *x = unzigzag(z);
            // z < (RICE_LIMIT + 1) << k <= RICE_CLAMP: no clamping needed.
            st.acc = st.acc - (st.acc >> RICE_SHIFT) + z;
            continue;
        }
        c.r = r;
        c.sample = base.wrapping_add(i as u32);
        let q = c.unary(RICE_LIMIT)?;
        let z = if q < RICE_LIMIT {
            u64::from(q).wrapping_shl(k) | c.bits(k)?
        } else {
            read_len_coded(c)?
        };
        *x = unzigzag(z);
        st.update(z);
        r = c.r;
    }
    c.r = r;
    c.sample = base.wrapping_add(body.len() as u32);
    Ok(())
}

/// Reads bit-packed residuals into `body`.
pub(crate) fn read_packed(c: &mut Cursor<'_>, body: &mut [i64]) -> Result<(), ChunkError> {
    let at = c.bit_pos();
    let group_log = c.short(GROUP_LOG_BITS)? as u32;
    if group_log > MAX_GROUP_LOG {
        return Err(c.invalid("group size", at));
    }
    let for_ = c.short(1)? != 0;
    let mut base = 0i64;
    for group in body.chunks_mut(1 << group_log) {
        let width = read_code(c)?;
        if for_ {
            base = base.wrapping_add(unzigzag(read_len_coded(c)?));
        }
        unpack(c, group, width, for_, base)?;
        c.sample += group.len() as u32;
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
        // The common widths, with the bit reader in registers.
        (1..=56, true) => {
            let (data, mut r) = (c.data, c.r);
            for x in group {
                let Some(v) = r.read(data, width) else {
                    c.r = r;
                    return Err(c.truncated());
                };
                *x = base.wrapping_add(v as i64);
            }
            c.r = r;
        }
        (1..=56, false) => {
            let (data, mut r) = (c.data, c.r);
            for x in group {
                let Some(v) = r.read(data, width) else {
                    c.r = r;
                    return Err(c.truncated());
                };
                *x = unzigzag(v);
            }
            c.r = r;
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

    fn check(body: &[i64]) {
        // Rice: planned size exact, values back.
        let init = rice_init(body);
        let (bits, zero) = rice_bits(body, init);
        assert_eq!(zero, body.iter().all(|&x| x == 0));
        let mut w = BitWriter::default();
        write_rice(&mut w, body, init);
        assert_eq!(w.bit_len(), bits);
        let bytes = w.finish();
        let mut out = vec![0; body.len()];
        read_rice(&mut Cursor::new(&bytes, 0), &mut out).unwrap();
        assert_eq!(out, body);
        // Packing, for every group size and mode.
        let (gl, for_, bits) = best_groups(body, &mut Vec::new());
        for (gl, for_) in [(gl, for_), (3, false), (3, true), (16, true), (5, false)] {
            let mut w = BitWriter::default();
            write_packed(&mut w, body, gl, for_);
            let bytes = w.finish();
            let mut out = vec![0; body.len()];
            read_packed(&mut Cursor::new(&bytes, 0), &mut out).unwrap();
            assert_eq!(out, body, "gl {gl} for {for_}");
        }
        // The best choice is sized exactly.
        let mut w = BitWriter::default();
        write_packed(&mut w, body, gl, for_);
        assert_eq!(w.bit_len(), bits);
    }

    #[test]
    fn codes_roundtrip() {
        check(&[0]);
        check(&[0; 100]);
        check(&[5; 100]);
        check(&[
            1,
            -1,
            2,
            -2,
            3,
            1 << 40,
            0,
            0,
            -(1 << 61),
            i64::MAX,
            i64::MIN,
            7,
        ]);
        let mut spiky: Vec<i64> = (0..300).map(|i| (i % 7) - 3).collect();
        spiky[50] = 1 << 50;
        spiky[51] = -(1 << 50);
        spiky[200] = i64::MIN;
        check(&spiky);
        let mut x = 5u64;
        let random: Vec<i64> = (0..500)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as i64
            })
            .collect();
        check(&random);
    }

    /// Cutting a Rice-coded stream anywhere is reported as truncation, at a sample no
    /// later than the first one whose code is incomplete (fast and careful paths).
    #[test]
    fn rice_truncation_is_reported() {
        let body: Vec<i64> = (0..300i64)
            .map(|i| (i * 7919 % 201) - 100 + if i % 50 == 7 { 1 << 45 } else { 0 })
            .collect();
        let init = rice_init(&body);
        let mut w = BitWriter::default();
        write_rice(&mut w, &body, init);
        let bytes = w.finish();
        for cut in 0..bytes.len() {
            let mut out = vec![0; body.len()];
            let mut c = Cursor::new(&bytes[..cut], 0);
            match read_rice(&mut c, &mut out) {
                Err(ChunkError::Truncated { sample, bit }) => {
                    assert!(bit <= cut as u64 * 8, "cut {cut}: bit {bit}");
                    let s = sample as usize;
                    assert_eq!(out[..s], body[..s], "cut {cut}: values before the damage");
                }
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    }

    #[test]
    fn len_coding() {
        for z in [
            0u64,
            1,
            2,
            3,
            255,
            1 << 61,
            (1 << 62) - 1,
            1 << 62,
            u64::MAX,
        ] {
            let mut w = BitWriter::default();
            put_len_coded(&mut w, z);
            assert_eq!(w.bit_len(), len_coded_bits(z));
            let bytes = w.finish();
            assert_eq!(read_len_coded(&mut Cursor::new(&bytes, 0)).unwrap(), z);
        }
    }
}
