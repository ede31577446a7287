//! The head's transactional appender.

use super::{Appended, Head};
use crate::records::{self, RefSample};
use watchfire_model::{Labels, SeriesRef, Timestamp};
use watchfire_storage::{AppendError, Appender, CommitSummary, StorageError};

/// Buffers one transaction (typically one scrape) and commits it to the WAL and
/// then to the head in one go.
pub struct HeadAppender<'a> {
    head: &'a Head,
    samples: Vec<RefSample>,
    new_series: Vec<(u64, Labels)>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for HeadAppender<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadAppender")
            .field("pending_samples", &self.samples.len())
            .field("new_series", &self.new_series.len())
            .finish()
    }
}

impl<'a> HeadAppender<'a> {
    pub(crate) fn new(head: &'a Head) -> Self {
        HeadAppender {
            head,
            samples: Vec::new(),
            new_series: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// The series for `labels` (the caller's cached reference missed), creating it if new.
    fn resolve(&mut self, labels: &Labels) -> Result<u32, AppendError> {
        let (r, created) = self.head.get_or_create(labels)?;
        if created {
            self.new_series.push((u64::from(r), labels.clone()));
        }
        Ok(r)
    }
}

impl Appender for HeadAppender<'_> {
    fn append(
        &mut self,
        series: Option<SeriesRef>,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        let cached = series.and_then(|r| u32::try_from(r.0).ok());
        let (r, checked) = match cached.and_then(|r| Some((r, self.head.check_live(r, t, v)?))) {
            Some(hit) => hit,
            None => {
                let r = self.resolve(labels)?;
                (r, self.head.check(r, t, v))
            }
        };
        match checked {
            Ok(Appended::Stored) => self.samples.push(RefSample {
                series: u64::from(r),
                t,
                v,
            }),
            Ok(Appended::Duplicate) => {}
            Err(e) => {
                self.head.counters.count_reject(&e);
                return Err(e);
            }
        }
        Ok(SeriesRef(u64::from(r)))
    }

    fn commit(&mut self) -> Result<CommitSummary, StorageError> {
        if self.samples.is_empty() && self.new_series.is_empty() {
            return Ok(CommitSummary::default());
        }
        if let Some(wal) = &self.head.wal {
            self.buf.clear();
            let mut series_end = 0;
            if !self.new_series.is_empty() {
                let refs: Vec<(u64, &Labels)> =
                    self.new_series.iter().map(|(r, l)| (*r, l)).collect();
                records::encode_series(&mut self.buf, &refs);
                series_end = self.buf.len();
            }
            if !self.samples.is_empty() {
                records::encode_samples(&mut self.buf, &self.samples);
            }
            let (series_rec, samples_rec) = self.buf.split_at(series_end);
            let recs: Vec<&[u8]> = [series_rec, samples_rec]
                .into_iter()
                .filter(|r| !r.is_empty())
                .collect();
            wal.lock()
                .log(&recs)
                .map_err(|e| StorageError::Invalid(format!("write-ahead log: {e}")))?;
        }
        let stored = self.head.apply(&self.samples);
        let summary = CommitSummary {
            samples: stored,
            new_series: self.new_series.len(),
        };
        self.samples.clear();
        self.new_series.clear();
        Ok(summary)
    }

    fn rollback(&mut self) {
        // Series created meanwhile stay (empty) and are collected at the next head
        // truncation, as in Prometheus; their definitions still go to the WAL so a
        // replay never meets samples of an unknown series.
        self.samples.clear();
        if !self.new_series.is_empty()
            && let Some(wal) = &self.head.wal
        {
            self.buf.clear();
            let refs: Vec<(u64, &Labels)> = self.new_series.iter().map(|(r, l)| (*r, l)).collect();
            records::encode_series(&mut self.buf, &refs);
            if let Err(e) = wal.lock().log(&[&self.buf]) {
                tracing::warn!(error = %e, "cannot log series of a rolled back transaction");
            }
        }
        self.new_series.clear();
    }
}

impl Drop for HeadAppender<'_> {
    fn drop(&mut self) {
        if !self.samples.is_empty() || !self.new_series.is_empty() {
            self.rollback();
        }
    }
}
