//! A small ULID generator (no dependency): 48-bit millisecond timestamp followed by
//! 80 random bits, written as 26 Crockford base32 characters.

use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const MAX_MS: i64 = (1 << 48) - 1;
const RAND_BITS: u32 = 80;
const RAND_MASK: u128 = (1 << RAND_BITS) - 1;

/// State of the process-wide generator: last timestamp and random part handed out.
struct State {
    last_ms: i64,
    last_rand: u128,
    seq: u64,
}

static STATE: Mutex<State> = Mutex::new(State {
    last_ms: -1,
    last_rand: 0,
    seq: 0,
});

/// 64 unpredictable bits from std's randomly keyed SipHash (seeded from the OS once
/// per thread) mixed with a counter, the clock and the pid. Not cryptographic; it
/// only has to make collisions between processes vanishingly unlikely.
fn random_u64(seq: u64) -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(seq);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(nanos);
    h.write_u32(std::process::id());
    h.finish()
}

/// A new ULID whose timestamp part is `ms` (milliseconds since the epoch, clamped to
/// the 48 bits a ULID holds).
///
/// ULIDs sort (as strings) by their timestamp. Within one process they are unique
/// and strictly increasing for non-decreasing `ms`: a second ULID in the same
/// millisecond increments the random part of the previous one instead of drawing a
/// new one.
pub fn new_ulid(ms: i64) -> String {
    let ms = ms.clamp(0, MAX_MS);
    let rand = {
        let mut st = STATE.lock().unwrap_or_else(|e| e.into_inner());
        st.seq = st.seq.wrapping_add(1);
        let next = st.last_rand + 1;
        let rand = if ms == st.last_ms && next <= RAND_MASK {
            next
        } else {
            let hi = u128::from(random_u64(st.seq) & 0xffff);
            let lo = u128::from(random_u64(st.seq ^ 0x9e37_79b9_7f4a_7c15));
            // Keep headroom so increments within a millisecond never overflow.
            ((hi << 64) | lo) & (RAND_MASK >> 1)
        };
        st.last_ms = ms;
        st.last_rand = rand;
        rand
    };
    let value = ((ms as u128) << RAND_BITS) | rand;
    let mut out = [0u8; 26];
    for (i, c) in out.iter_mut().enumerate() {
        let shift = 5 * (25 - i);
        *c = ALPHABET[((value >> shift) & 0x1f) as usize];
    }
    out.iter().map(|&b| char::from(b)).collect()
}

fn decode_char(c: u8) -> Option<u128> {
    let up = c.to_ascii_uppercase();
    ALPHABET.iter().position(|&a| a == up).map(|p| p as u128)
}

/// Parses a ULID string (case-insensitive) into its 128-bit value.
fn parse(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    if b.len() != 26 {
        return None;
    }
    // 26 * 5 = 130 bits: the first character may only carry 3.
    if decode_char(b[0])? > 7 {
        return None;
    }
    b.iter()
        .try_fold(0u128, |acc, &c| Some((acc << 5) | decode_char(c)?))
}

/// Whether `s` is a syntactically valid ULID.
pub fn is_valid_ulid(s: &str) -> bool {
    parse(s).is_some()
}

/// The millisecond timestamp encoded in a ULID, or `None` if `s` is not one.
pub fn ulid_time(s: &str) -> Option<i64> {
    parse(s).map(|v| (v >> RAND_BITS) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_time_round_trip() {
        let u = new_ulid(1_700_000_000_123);
        assert_eq!(u.len(), 26);
        assert!(is_valid_ulid(&u));
        assert_eq!(ulid_time(&u), Some(1_700_000_000_123));
        assert_eq!(ulid_time(&new_ulid(-5)), Some(0));
        assert_eq!(ulid_time(&new_ulid(i64::MAX)), Some(MAX_MS));
        assert_eq!(ulid_time(&u.to_lowercase()), Some(1_700_000_000_123));

        // Kept in the same test: the generator is process-wide, and another test
        // drawing ULIDs concurrently would restart the in-millisecond sequence.
        let mut prev = new_ulid(42);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let u = new_ulid(42);
            assert!(u > prev, "{u} <= {prev}");
            assert!(seen.insert(u.clone()));
            prev = u;
        }
        let later = new_ulid(43);
        assert!(later > prev);
    }

    #[test]
    fn invalid_strings_are_rejected() {
        assert!(!is_valid_ulid(""));
        assert!(!is_valid_ulid("0123456789ABCDEFGHJKMNPQR")); // 25 chars
        assert!(!is_valid_ulid("8ZZZZZZZZZZZZZZZZZZZZZZZZZ")); // overflows 128 bits
        assert!(!is_valid_ulid("01234567890123456789012U45")); // U not in alphabet
        assert!(is_valid_ulid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"));
    }
}
