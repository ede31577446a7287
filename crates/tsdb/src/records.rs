//! Encoding of the records the head writes to the WAL.
//!
//! Two record kinds exist today (the byte layout is in `docs/format/wal.md`):
//! a series record binds a head series reference to its labels, and a samples
//! record carries a batch of `(ref, t, v)` triples, delta-encoded against the first.
//! Unknown kinds are skipped on replay so newer writers (native histograms,
//! tombstones) do not break older readers.

use watchfire_model::{Label, Labels};

/// Record kind: series definitions.
pub(crate) const KIND_SERIES: u8 = 1;
/// Record kind: float samples.
pub(crate) const KIND_SAMPLES: u8 = 2;

/// One float sample of a head series, as logged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RefSample {
    pub series: u64,
    pub t: i64,
    pub v: f64,
}

/// A decoded WAL record.
#[derive(Debug, PartialEq)]
pub(crate) enum Record {
    Series(Vec<(u64, Labels)>),
    Samples(Vec<RefSample>),
    Unknown(u8),
}

#[derive(Debug, thiserror::Error)]
#[error("malformed WAL record: {0}")]
pub(crate) struct RecordError(&'static str);

pub(crate) fn encode_series(out: &mut Vec<u8>, series: &[(u64, &Labels)]) {
    out.push(KIND_SERIES);
    put_uvarint(out, series.len() as u64);
    for (r, labels) in series {
        put_uvarint(out, *r);
        put_uvarint(out, labels.len() as u64);
        for l in labels.iter() {
            put_bytes(out, l.name.as_bytes());
            put_bytes(out, l.value.as_bytes());
        }
    }
}

pub(crate) fn encode_samples(out: &mut Vec<u8>, samples: &[RefSample]) {
    out.push(KIND_SAMPLES);
    put_uvarint(out, samples.len() as u64);
    let Some(first) = samples.first() else {
        return;
    };
    out.extend_from_slice(&first.series.to_le_bytes());
    out.extend_from_slice(&first.t.to_le_bytes());
    for s in samples {
        put_varint(out, s.series.wrapping_sub(first.series) as i64);
        put_varint(out, s.t.wrapping_sub(first.t));
        out.extend_from_slice(&s.v.to_bits().to_le_bytes());
    }
}

pub(crate) fn decode(buf: &[u8]) -> Result<Record, RecordError> {
    let mut r = Reader { buf, pos: 1 };
    match buf.first() {
        Some(&KIND_SERIES) => {
            let n = r.uvarint()?;
            let mut out = Vec::with_capacity(n.min(1 << 16) as usize);
            for _ in 0..n {
                let series = r.uvarint()?;
                let nl = r.uvarint()?;
                let mut labels = Vec::with_capacity(nl.min(256) as usize);
                for _ in 0..nl {
                    let name = r.string()?;
                    let value = r.string()?;
                    labels.push(Label { name, value });
                }
                labels.sort();
                labels.dedup_by(|a, b| a.name == b.name);
                labels.retain(|l| !l.value.is_empty());
                out.push((series, Labels::from_sorted_unchecked(labels)));
            }
            Ok(Record::Series(out))
        }
        Some(&KIND_SAMPLES) => {
            let n = r.uvarint()?;
            let mut out = Vec::with_capacity(n.min(1 << 20) as usize);
            if n == 0 {
                return Ok(Record::Samples(out));
            }
            let base_ref = r.u64()?;
            let base_t = r.u64()? as i64;
            for _ in 0..n {
                let dr = r.varint()?;
                let dt = r.varint()?;
                let v = f64::from_bits(r.u64()?);
                out.push(RefSample {
                    series: base_ref.wrapping_add(dr as u64),
                    t: base_t.wrapping_add(dt),
                    v,
                });
            }
            Ok(Record::Samples(out))
        }
        Some(&k) => Ok(Record::Unknown(k)),
        None => Err(RecordError("empty record")),
    }
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn uvarint(&mut self) -> Result<u64, RecordError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or(RecordError("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(RecordError("varint too long"))
    }

    fn varint(&mut self) -> Result<i64, RecordError> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn u64(&mut self) -> Result<u64, RecordError> {
        let b = self
            .buf
            .get(self.pos..self.pos + 8)
            .ok_or(RecordError("truncated fixed-width field"))?;
        self.pos += 8;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn string(&mut self) -> Result<String, RecordError> {
        let n = self.uvarint()? as usize;
        let end = self
            .pos
            .checked_add(n)
            .ok_or(RecordError("string length overflow"))?;
        let b = self
            .buf
            .get(self.pos..end)
            .ok_or(RecordError("truncated string"))?;
        self.pos = end;
        String::from_utf8(b.to_vec()).map_err(|_| RecordError("label is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn series_round_trip() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "api")]);
        let mut buf = Vec::new();
        encode_series(&mut buf, &[(7, &l)]);
        assert_eq!(decode(&buf).unwrap(), Record::Series(vec![(7, l)]));
    }

    proptest! {
        #[test]
        fn samples_round_trip_bit_exact(raw in prop::collection::vec((any::<u64>(), any::<i64>(), any::<u64>()), 0..50)) {
            let samples: Vec<RefSample> = raw.iter().map(|&(r, t, v)| RefSample { series: r, t, v: f64::from_bits(v) }).collect();
            let mut buf = Vec::new();
            encode_samples(&mut buf, &samples);
            let Record::Samples(got) = decode(&buf).unwrap() else { panic!("kind") };
            prop_assert_eq!(got.len(), samples.len());
            for (a, b) in got.iter().zip(&samples) {
                prop_assert_eq!((a.series, a.t, a.v.to_bits()), (b.series, b.t, b.v.to_bits()));
            }
        }

        #[test]
        fn garbage_never_panics(buf in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&buf);
        }
    }
}
