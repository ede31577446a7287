//! Samples, timestamps and the staleness marker.

/// Milliseconds since the Unix epoch, as Prometheus stores them.
pub type Timestamp = i64;

/// The bit pattern Prometheus writes as a staleness marker: a NaN that no arithmetic
/// produces, so it can be told apart from a NaN value a target exposed.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as a float. Compare with [`is_stale_nan`], never with `==`.
pub const STALE_NAN: f64 = f64::from_bits(STALE_NAN_BITS);

/// Whether `v` is exactly the staleness marker (not just any NaN).
#[inline]
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One float sample of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Milliseconds since the epoch.
    pub t: Timestamp,
    /// The value; may be [`STALE_NAN`].
    pub v: f64,
}

impl Sample {
    /// Creates a sample.
    pub fn new(t: Timestamp, v: f64) -> Self {
        Sample { t, v }
    }

    /// Bitwise equality, which is what storage round-trips must preserve.
    pub fn bits_eq(&self, other: &Sample) -> bool {
        self.t == other.t && self.v.to_bits() == other.v.to_bits()
    }
}

/// A store-assigned handle for a series, stable for the life of the process.
///
/// Appenders hand it back so a caller (a scrape loop) can append the next sample of
/// the same series without its labels being hashed and looked up again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u64);

/// The kind of value a sample carries. Only floats exist today; native histograms
/// will be added as further variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueType {
    /// A plain float sample.
    Float,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_marker_is_distinguished_from_other_nans() {
        assert!(is_stale_nan(STALE_NAN));
        assert!(STALE_NAN.is_nan());
        assert!(!is_stale_nan(f64::NAN));
        assert!(!is_stale_nan(1.0));
    }
}
