//! The head: the mutable, in-memory part of the store that receives appends.
//!
//! Series live in lock stripes so appenders for different series
//! rarely contend; the label index (symbols, label-pair postings, hash lookup) sits
//! behind one read-write lock that is only written when a series is created or
//! garbage collected. Lock order is always index, then stripe.
//!
//! Every series holds one open compressed chunk; full chunks go to memory-mapped
//! files ([`disk_chunks`]), so resident memory grows with active series, not with
//! history. Durability comes from the WAL, written by the appender on commit.

mod appender;
pub(crate) mod disk_chunks;
mod index;
mod query;
mod series;

pub use appender::HeadAppender;
pub(crate) use index::HeadIndex;
pub(crate) use query::HeadQuerier;
pub(crate) use series::{Appended, MemSeries};

use crate::records::RefSample;
use disk_chunks::DiskChunks;
use parking_lot::{Mutex, RwLock};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use watchfire_model::{Labels, SeriesRef};
use watchfire_storage::AppendError;
use watchfire_wal::Wal;

const STRIPE_BITS: u32 = 12;
const STRIPES: usize = 1 << STRIPE_BITS;
/// Runs of `1 << RUN_BITS` consecutive references share a stripe and sit next to
/// each other in its slots. A scrape appends its series in creation (reference)
/// order, so this turns the per-sample series lookups into a sequential walk the
/// CPU prefetches, instead of one cache miss per sample in a different stripe.
const RUN_BITS: u32 = 6;
const RUN_MASK: u32 = (1 << RUN_BITS) - 1;

/// The stripe a reference lives in.
fn stripe_of(r: u32) -> usize {
    (r >> RUN_BITS) as usize & (STRIPES - 1)
}

/// The slot of a reference within its stripe.
fn slot_of(r: u32) -> usize {
    (((r >> (RUN_BITS + STRIPE_BITS)) << RUN_BITS) | (r & RUN_MASK)) as usize
}

/// The reference held in `slot` of `stripe` (inverse of [`stripe_of`], [`slot_of`]).
fn ref_of(stripe: usize, slot: usize) -> u32 {
    let (stripe, slot) = (stripe as u32, slot as u32);
    ((slot >> RUN_BITS) << (RUN_BITS + STRIPE_BITS)) | (stripe << RUN_BITS) | (slot & RUN_MASK)
}

/// Series of one lock stripe, indexed by [`slot_of`].
#[derive(Default)]
pub(crate) struct Stripe {
    slots: Vec<Option<Box<MemSeries>>>,
}

impl Stripe {
    pub(crate) fn get(&self, r: u32) -> Option<&MemSeries> {
        self.slots.get(slot_of(r))?.as_deref()
    }

    pub(crate) fn get_mut(&mut self, r: u32) -> Option<&mut MemSeries> {
        self.slots.get_mut(slot_of(r))?.as_deref_mut()
    }

    fn insert(&mut self, r: u32, s: MemSeries) {
        let i = slot_of(r);
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || None);
        }
        self.slots[i] = Some(Box::new(s));
    }
}

/// Counters the head keeps about what it accepted and rejected.
#[derive(Debug, Default)]
pub struct HeadCounters {
    /// Samples stored.
    pub samples_appended: AtomicU64,
    /// Samples rejected because they were older than the series' newest.
    pub out_of_order: AtomicU64,
    /// Samples rejected for a second, different value at the same timestamp.
    pub duplicate_timestamp: AtomicU64,
    /// Samples rejected because their time is already persisted in a block.
    pub out_of_bounds: AtomicU64,
    /// Series created.
    pub series_created: AtomicU64,
    /// Series removed by head truncation.
    pub series_removed: AtomicU64,
}

impl HeadCounters {
    pub(crate) fn count_reject(&self, e: &AppendError) {
        let c = match e {
            AppendError::OutOfOrder { .. } => &self.out_of_order,
            AppendError::DuplicateTimestamp { .. } => &self.duplicate_timestamp,
            AppendError::OutOfBounds { .. } => &self.out_of_bounds,
            _ => return,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// The in-memory head block.
pub struct Head {
    pub(crate) index: RwLock<HeadIndex>,
    stripes: Box<[Mutex<Stripe>]>,
    next_ref: AtomicU64,
    min_time: AtomicI64,
    max_time: AtomicI64,
    min_valid_time: AtomicI64,
    pub(crate) disk: Arc<DiskChunks>,
    pub(crate) wal: Option<Mutex<Wal>>,
    samples_per_chunk: u16,
    block_range: i64,
    /// What was accepted and rejected.
    pub counters: HeadCounters,
}

impl std::fmt::Debug for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Head")
            .field("series", &self.num_series())
            .field("min_time", &self.min_time())
            .field("max_time", &self.max_time())
            .finish()
    }
}

impl Head {
    pub(crate) fn new(
        disk: DiskChunks,
        samples_per_chunk: u16,
        block_range: i64,
        min_valid_time: i64,
    ) -> Self {
        Head {
            index: RwLock::new(HeadIndex::default()),
            stripes: (0..STRIPES)
                .map(|_| Mutex::new(Stripe::default()))
                .collect(),
            next_ref: AtomicU64::new(1),
            min_time: AtomicI64::new(i64::MAX),
            max_time: AtomicI64::new(i64::MIN),
            min_valid_time: AtomicI64::new(min_valid_time),
            disk: Arc::new(disk),
            wal: None,
            samples_per_chunk: samples_per_chunk.max(1),
            block_range: block_range.max(1),
            counters: HeadCounters::default(),
        }
    }

    pub(crate) fn stripe(&self, r: u32) -> &Mutex<Stripe> {
        &self.stripes[stripe_of(r)]
    }

    /// A new transaction against the head.
    pub fn appender(&self) -> HeadAppender<'_> {
        HeadAppender::new(self)
    }

    /// Number of series in memory.
    pub fn num_series(&self) -> usize {
        self.index.read().num_series()
    }

    /// Earliest sample time in the head, if it holds any.
    pub fn min_time(&self) -> Option<i64> {
        let t = self.min_time.load(Ordering::Acquire);
        (t != i64::MAX).then_some(t)
    }

    /// Latest sample time in the head, if it holds any.
    pub fn max_time(&self) -> Option<i64> {
        let t = self.max_time.load(Ordering::Acquire);
        (t != i64::MIN).then_some(t)
    }

    /// Samples older than this are already in blocks and are rejected.
    pub fn min_valid_time(&self) -> i64 {
        self.min_valid_time.load(Ordering::Acquire)
    }

    /// The reference of the series with exactly these labels, creating it if new.
    /// Returns whether it was created.
    pub(crate) fn get_or_create(&self, labels: &Labels) -> Result<(u32, bool), AppendError> {
        validate_labels(labels)?;
        let hash = labels.stable_hash();
        if let Some(r) = self.index.read().lookup(hash, labels, self) {
            return Ok((r, false));
        }
        let mut index = self.index.write();
        if let Some(r) = index.lookup(hash, labels, self) {
            return Ok((r, false));
        }
        let r = self.next_ref.fetch_add(1, Ordering::Relaxed);
        let r = u32::try_from(r)
            .map_err(|_| AppendError::InvalidLabels("series reference space exhausted".into()))?;
        let symbols = index.add(r, hash, labels);
        self.stripe(r).lock().insert(r, MemSeries::new(symbols));
        self.counters.series_created.fetch_add(1, Ordering::Relaxed);
        Ok((r, true))
    }

    /// Creates a series under a reference read back from the WAL. If the labels
    /// already exist under another reference, returns that one instead.
    pub(crate) fn create_with_ref(&self, r: u64, labels: &Labels) -> Option<u32> {
        let r32 = u32::try_from(r).ok()?;
        if validate_labels(labels).is_err() {
            return None;
        }
        let hash = labels.stable_hash();
        let mut index = self.index.write();
        if let Some(existing) = index.lookup(hash, labels, self) {
            return Some(existing);
        }
        if self.stripe(r32).lock().get(r32).is_some() {
            // Reference already taken by other labels: the WAL is inconsistent.
            return None;
        }
        let symbols = index.add(r32, hash, labels);
        self.stripe(r32).lock().insert(r32, MemSeries::new(symbols));
        self.next_ref.fetch_max(r + 1, Ordering::Relaxed);
        self.counters.series_created.fetch_add(1, Ordering::Relaxed);
        Some(r32)
    }

    /// Whether a series reference is live.
    pub(crate) fn exists(&self, r: u32) -> bool {
        self.stripe(r).lock().get(r).is_some()
    }

    /// Checks a sample against the series' newest without storing it.
    pub(crate) fn check(&self, r: u32, t: i64, v: f64) -> Result<Appended, AppendError> {
        self.check_live(r, t, v).unwrap_or_else(|| {
            Err(AppendError::InvalidLabels(
                "unknown series reference".into(),
            ))
        })
    }

    /// Like [`Head::check`], but `None` when `r` is not a live series, so the
    /// appender's fast path (a cached reference) takes one stripe lock, not two.
    pub(crate) fn check_live(
        &self,
        r: u32,
        t: i64,
        v: f64,
    ) -> Option<Result<Appended, AppendError>> {
        let min_valid = self.min_valid_time();
        if t < min_valid {
            return Some(Err(AppendError::OutOfBounds { t, min_valid }));
        }
        self.stripe(r).lock().get(r).map(|s| s.check(t, v))
    }

    /// Stores samples (already logged to the WAL). Returns how many were stored.
    pub(crate) fn apply(&self, samples: &[RefSample]) -> usize {
        let mut stored = 0;
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let min_valid = self.min_valid_time();
        let mut held: Option<(usize, parking_lot::MutexGuard<'_, Stripe>)> = None;
        for s in samples {
            if s.t < min_valid {
                self.counters.out_of_bounds.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let Ok(r) = u32::try_from(s.series) else {
                continue;
            };
            // Consecutive samples mostly share a stripe (runs of references): keep its
            // lock instead of paying an atomic read-modify-write per sample.
            let idx = stripe_of(r);
            let stripe = match &mut held {
                Some((i, guard)) if *i == idx => guard,
                _ => {
                    held = None; // unlock before locking the next stripe
                    &mut held.insert((idx, self.stripes[idx].lock())).1
                }
            };
            let Some(series) = stripe.get_mut(r) else {
                continue;
            };
            match series.append(
                s.series,
                s.t,
                s.v,
                self.samples_per_chunk,
                self.block_range,
                &self.disk,
            ) {
                Ok(Appended::Stored) => {
                    stored += 1;
                    lo = lo.min(s.t);
                    hi = hi.max(s.t);
                }
                Ok(Appended::Duplicate) => {}
                Err(e) => self.counters.count_reject(&e),
            }
        }
        drop(held);
        if stored > 0 {
            self.min_time.fetch_min(lo, Ordering::AcqRel);
            self.max_time.fetch_max(hi, Ordering::AcqRel);
            self.counters
                .samples_appended
                .fetch_add(stored as u64, Ordering::Relaxed);
        }
        stored
    }

    /// Drops all data before `mint` (now persisted in a block) and the series left
    /// empty. New samples before `mint` are rejected from now on.
    pub(crate) fn truncate(&self, mint: i64) -> usize {
        self.min_valid_time.fetch_max(mint, Ordering::AcqRel);
        let mut index = self.index.write();
        let mut removed = Vec::new();
        let mut new_min = i64::MAX;
        for (i, stripe) in self.stripes.iter().enumerate() {
            let mut stripe = stripe.lock();
            for (slot, entry) in stripe.slots.iter_mut().enumerate() {
                let Some(s) = entry else { continue };
                if s.truncate_before(mint) {
                    removed.push(ref_of(i, slot));
                    *entry = None;
                } else if let Some(t) = s.min_time() {
                    new_min = new_min.min(t);
                }
            }
        }
        index.remove(&removed);
        drop(index);
        self.min_time.store(new_min, Ordering::Release);
        if new_min == i64::MAX {
            self.max_time.store(i64::MIN, Ordering::Release);
        }
        if let Err(e) = self.disk.truncate_before(mint) {
            tracing::warn!(error = %e, "cannot delete old head chunk files");
        }
        self.counters
            .series_removed
            .fetch_add(removed.len() as u64, Ordering::Relaxed);
        removed.len()
    }

    /// Approximate heap bytes of series data (chunks excluded once on disk).
    pub fn heap_bytes(&self) -> usize {
        let mut total = self.stripes.len() * std::mem::size_of::<Mutex<Stripe>>();
        for stripe in self.stripes.iter() {
            let stripe = stripe.lock();
            total += stripe.slots.capacity() * 8;
            total += stripe
                .slots
                .iter()
                .flatten()
                .map(|s| s.heap_bytes())
                .sum::<usize>();
        }
        total + self.index.read().heap_bytes()
    }

    /// Resolves the labels of a live series.
    pub fn series_labels(&self, r: SeriesRef) -> Option<Labels> {
        let r = u32::try_from(r.0).ok()?;
        let index = self.index.read();
        let stripe = self.stripe(r).lock();
        stripe.get(r).map(|s| index.resolve(&s.labels))
    }
}

fn validate_labels(labels: &Labels) -> Result<(), AppendError> {
    if labels.is_empty() {
        return Err(AppendError::InvalidLabels("empty label set".into()));
    }
    for l in labels.iter() {
        if l.name.is_empty() {
            return Err(AppendError::InvalidLabels("empty label name".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_and_slot_map_back_to_the_reference() {
        let refs = (0..100_000u32).chain([u32::MAX - 1, u32::MAX, 1 << 31, (1 << 18) + 63]);
        for r in refs {
            assert_eq!(ref_of(stripe_of(r), slot_of(r)), r, "ref {r}");
        }
        // A run of consecutive references shares a stripe, in consecutive slots.
        assert_eq!(stripe_of(64), stripe_of(127));
        assert_eq!(slot_of(127), slot_of(64) + 63);
        assert_ne!(stripe_of(63), stripe_of(64));
    }
}
