//! Counters about the scraper itself, for the server's own `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters, shared by every loop of a manager.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    scrapes: AtomicU64,
    failed: AtomicU64,
    samples_appended: AtomicU64,
    samples_rejected: AtomicU64,
    limit_failures: AtomicU64,
    limit_samples: AtomicU64,
    body_size_failures: AtomicU64,
    duration_micros: AtomicU64,
}

/// A snapshot of the scraper's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScrapeMetrics {
    /// Scrapes attempted.
    pub scrapes_total: u64,
    /// Scrapes that failed (HTTP, parse, limits, storage).
    pub scrapes_failed_total: u64,
    /// Samples handed to the store (post relabeling, committed scrapes).
    pub samples_appended_total: u64,
    /// Samples the store refused (out of order, duplicate, out of bounds).
    pub samples_rejected_total: u64,
    /// Scrapes failed by `sample_limit` or a label limit.
    pub limit_exceeded_total: u64,
    /// Samples of those scrapes (none of which were stored).
    pub samples_dropped_by_limits_total: u64,
    /// Scrapes failed by `body_size_limit`.
    pub body_size_limit_exceeded_total: u64,
    /// Total time spent scraping, in seconds.
    pub scrape_duration_seconds_total: f64,
}

impl Counters {
    pub(crate) fn record(
        &self,
        failed: bool,
        appended: u64,
        rejected: u64,
        limit: Option<u64>,
        body_size: bool,
        micros: u64,
    ) {
        self.scrapes.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.samples_appended.fetch_add(appended, Ordering::Relaxed);
        self.samples_rejected.fetch_add(rejected, Ordering::Relaxed);
        if let Some(samples) = limit {
            self.limit_failures.fetch_add(1, Ordering::Relaxed);
            self.limit_samples.fetch_add(samples, Ordering::Relaxed);
        }
        if body_size {
            self.body_size_failures.fetch_add(1, Ordering::Relaxed);
        }
        self.duration_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ScrapeMetrics {
        ScrapeMetrics {
            scrapes_total: self.scrapes.load(Ordering::Relaxed),
            scrapes_failed_total: self.failed.load(Ordering::Relaxed),
            samples_appended_total: self.samples_appended.load(Ordering::Relaxed),
            samples_rejected_total: self.samples_rejected.load(Ordering::Relaxed),
            limit_exceeded_total: self.limit_failures.load(Ordering::Relaxed),
            samples_dropped_by_limits_total: self.limit_samples.load(Ordering::Relaxed),
            body_size_limit_exceeded_total: self.body_size_failures.load(Ordering::Relaxed),
            scrape_duration_seconds_total: self.duration_micros.load(Ordering::Relaxed) as f64
                / 1e6,
        }
    }
}
