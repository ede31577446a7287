//! One target's scrape loop: waits for the target's slot, then every interval
//! fetches, appends (through the [`ScrapeCache`]), reports and commits; when stopped
//! it writes end-of-run staleness markers.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::watch;
use watchfire_model::{Labels, METRIC_NAME, STALE_NAN, SeriesRef, Timestamp};
use watchfire_storage::{Appendable, Appender};

use crate::cache::{AppendStats, Limits, MetricMetadata, SampleContext, ScrapeCache};
use crate::error::ScrapeError;
use crate::http::{ScrapeClient, format_for_content_type};
use crate::metrics::Counters;
use crate::options::ScrapePoolOptions;
use crate::target::{Target, TargetHealth, TargetStatus};

/// Prometheus' `ScrapeTimestampTolerance`: scrape times this close to the expected
/// tick are moved onto it so that timestamps delta-encode to nothing.
const SCRAPE_TIMESTAMP_TOLERANCE: Duration = Duration::from_millis(2);

/// Why a loop is asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopMode {
    /// Keep running.
    Running,
    /// The target went away: staleness markers after the next slot (plus 10%).
    Removed,
    /// The server is stopping: staleness markers now.
    Shutdown,
    /// A new loop takes over the same target: no markers, hand the cache over.
    Handover,
}

/// Everything a loop needs, fixed for its lifetime.
pub(crate) struct LoopConfig {
    pub target: Arc<Target>,
    pub opts: Arc<ScrapePoolOptions>,
    pub client: Arc<Result<ScrapeClient, ScrapeError>>,
    pub appendable: Arc<dyn Appendable>,
    pub counters: Arc<Counters>,
    pub offset_seed: u64,
    pub immediate_staleness: bool,
}

/// State shared with the API.
#[derive(Default)]
pub(crate) struct LoopShared {
    pub status: Mutex<TargetStatus>,
    pub metadata: Mutex<Vec<MetricMetadata>>,
    /// Set by the pool when `target_limit` is exceeded.
    pub forced_error: Mutex<Option<ScrapeError>>,
}

/// A running loop.
pub(crate) struct LoopHandle {
    pub target: Arc<Target>,
    pub shared: Arc<LoopShared>,
    pub stop: watch::Sender<StopMode>,
    pub join: tokio::task::JoinHandle<ScrapeCache>,
}

impl LoopHandle {
    pub(crate) fn start(cfg: LoopConfig, cache: ScrapeCache) -> LoopHandle {
        let (tx, rx) = watch::channel(StopMode::Running);
        let shared = Arc::new(LoopShared::default());
        let target = cfg.target.clone();
        let sh = shared.clone();
        let join = tokio::spawn(async move {
            let mut l = ScrapeLoop::new(cfg, cache, sh);
            l.run(rx).await;
            l.cache
        });
        LoopHandle {
            target,
            shared,
            stop: tx,
            join,
        }
    }
}

const REPORT_NAMES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

struct ScrapeLoop {
    cfg: LoopConfig,
    cache: ScrapeCache,
    shared: Arc<LoopShared>,
    buf: Vec<u8>,
    report_labels: [Labels; 5],
    report_refs: [Option<SeriesRef>; 5],
}

fn unix_ms(t: SystemTime) -> Timestamp {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl ScrapeLoop {
    fn new(cfg: LoopConfig, cache: ScrapeCache, shared: Arc<LoopShared>) -> ScrapeLoop {
        let report_labels = REPORT_NAMES.map(|name| {
            // Target labels override; a scraped `__name__` cannot conflict since
            // target labels never hold reserved names.
            let mut b = cfg.target.labels.to_builder();
            b.set(METRIC_NAME, name);
            b.build()
        });
        ScrapeLoop {
            cfg,
            cache,
            shared,
            buf: Vec::new(),
            report_labels,
            report_refs: [None; 5],
        }
    }

    async fn run(&mut self, mut stop: watch::Receiver<StopMode>) {
        let interval = self.cfg.target.interval;
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let offset = self.cfg.target.offset(now_ns, self.cfg.offset_seed);
        tokio::select! {
            _ = tokio::time::sleep(offset) => {}
            mode = wait_stop(&mut stop) => {
                self.end_of_run(mode, &mut stop, None).await;
                return;
            }
        }
        let start = tokio::time::Instant::now();
        let mut ticker = tokio::time::interval_at(start + interval, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut aligned = SystemTime::now();
        let tolerance = (interval / 100).min(SCRAPE_TIMESTAMP_TOLERANCE);
        loop {
            let scrape_time = align(SystemTime::now(), &mut aligned, interval, tolerance);
            let stopped = tokio::select! {
                () = self.scrape_and_report(scrape_time) => None,
                mode = wait_stop(&mut stop) => Some(mode),
            };
            if let Some(mode) = stopped {
                self.end_of_run(mode, &mut stop, Some(&mut ticker)).await;
                return;
            }
            tokio::select! {
                _ = ticker.tick() => {}
                mode = wait_stop(&mut stop) => {
                    self.end_of_run(mode, &mut stop, Some(&mut ticker)).await;
                    return;
                }
            }
        }
    }

    async fn scrape_and_report(&mut self, scrape_time: SystemTime) {
        let started = Instant::now();
        let t = unix_ms(scrape_time);
        let target = self.cfg.target.clone();
        let forced = self.shared.forced_error.lock().clone();
        let fetched: Result<String, ScrapeError> = match (forced, self.cfg.client.as_ref()) {
            (Some(e), _) => Err(e),
            (None, Err(e)) => Err(e.clone()),
            (None, Ok(client)) => {
                match tokio::time::timeout(
                    target.timeout,
                    client.fetch(&target.url, target.timeout, &mut self.buf),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => Err(ScrapeError::Timeout),
                }
            }
        };
        let opts = self.cfg.opts.clone();
        let ctx = SampleContext {
            target_labels: &target.labels,
            honor_labels: opts.honor_labels,
            honor_timestamps: opts.honor_timestamps,
            track_timestamps_staleness: opts.track_timestamps_staleness,
            metric_relabel_configs: &opts.metric_relabel_configs,
            limits: Limits {
                sample_limit: opts.sample_limit,
                label_limit: opts.label_limit,
                label_name_length_limit: opts.label_name_length_limit,
                label_value_length_limit: opts.label_value_length_limit,
            },
        };
        let appendable = self.cfg.appendable.clone();
        let mut app = appendable.appender();
        let (stats, append_err, scrape_err) = match &fetched {
            Ok(content_type) if !self.buf.is_empty() => {
                match format_for_content_type(content_type, opts.fallback_scrape_protocol) {
                    Ok(format) => {
                        let (s, e) = self.cache.append(app.as_mut(), &self.buf, format, &ctx, t);
                        (s, e, None)
                    }
                    Err(e) => (AppendStats::default(), Some(e), None),
                }
            }
            Ok(_) => {
                let (s, e) = self
                    .cache
                    .append(app.as_mut(), &[], Default::default(), &ctx, t);
                (s, e, None)
            }
            Err(e) => {
                // A failed scrape is an empty one: every series goes stale.
                let r = self.cache.append_empty(app.as_mut(), t);
                (AppendStats::default(), r.err(), Some(e.clone()))
            }
        };
        let mut failed_append = false;
        if append_err.is_some() && scrape_err.is_none() {
            failed_append = true;
            app.rollback();
            app = appendable.appender();
            if let Err(e) = self.cache.append_empty(app.as_mut(), t) {
                tracing::warn!(target = %target.url, error = %e, "appending staleness markers failed");
                app.rollback();
                app = appendable.appender();
            }
        }
        let err = scrape_err.or(append_err);
        let duration = started.elapsed();
        if let Err(e) = self.report(app.as_mut(), t, duration, &stats, err.is_none()) {
            tracing::warn!(target = %target.url, error = %e, "appending scrape report failed");
        }
        let committed = match app.commit() {
            Ok(_) => {
                self.cache.commit_pass();
                true
            }
            Err(e) => {
                tracing::error!(target = %target.url, error = %e, "scrape commit failed");
                false
            }
        };
        drop(app);
        if let Some(md) = self.cache.take_changed_metadata() {
            *self.shared.metadata.lock() = md;
        }
        let limit = matches!(err, Some(ScrapeError::SampleLimit | ScrapeError::Labels(_)))
            .then_some(stats.total as u64);
        let body = matches!(err, Some(ScrapeError::BodySizeLimit));
        let appended = if err.is_none() && committed && !failed_append {
            (stats.added - stats.rejected.min(stats.added)) as u64
        } else {
            0
        };
        self.cfg.counters.record(
            err.is_some(),
            appended,
            stats.rejected as u64,
            limit,
            body,
            u64::try_from(duration.as_micros()).unwrap_or(u64::MAX),
        );
        let mut st = self.shared.status.lock();
        st.last_scrape = Some(scrape_time);
        st.last_scrape_duration = duration;
        match err {
            Some(e) => {
                st.health = TargetHealth::Down;
                st.last_error = e.to_string();
            }
            None => {
                st.health = TargetHealth::Up;
                st.last_error.clear();
            }
        }
    }

    fn report(
        &mut self,
        app: &mut dyn Appender,
        t: Timestamp,
        duration: Duration,
        stats: &AppendStats,
        up: bool,
    ) -> Result<(), ScrapeError> {
        let values = [
            if up { 1.0 } else { 0.0 },
            duration.as_secs_f64(),
            stats.total as f64,
            stats.added as f64,
            stats.series_added as f64,
        ];
        self.append_report(app, t, values)
    }

    fn append_report(
        &mut self,
        app: &mut dyn Appender,
        t: Timestamp,
        values: [f64; 5],
    ) -> Result<(), ScrapeError> {
        for (i, v) in values.into_iter().enumerate() {
            match app.append(self.report_refs[i], &self.report_labels[i], t, v) {
                Ok(r) => self.report_refs[i] = Some(r),
                Err(watchfire_storage::AppendError::Closed) => {
                    return Err(ScrapeError::Storage("storage is closed".to_owned()));
                }
                // Out of order and friends: expected around restarts, not fatal.
                Err(_) => {}
            }
        }
        Ok(())
    }

    /// Staleness markers for every series and the report series when the loop ends,
    /// except on handover.
    async fn end_of_run(
        &mut self,
        mut mode: StopMode,
        stop: &mut watch::Receiver<StopMode>,
        ticker: Option<&mut tokio::time::Interval>,
    ) {
        if mode == StopMode::Handover {
            return;
        }
        let mut stale_time = SystemTime::now();
        if mode == StopMode::Removed && !self.cfg.immediate_staleness {
            // Wait for when the next scrape would have been, then 10% more: if the
            // target was re-created meanwhile, its samples win and our markers are
            // refused as out of order.
            let interval = self.cfg.target.interval;
            let next = async {
                match ticker {
                    Some(t) => {
                        t.tick().await;
                    }
                    None => tokio::time::sleep(interval).await,
                }
            };
            tokio::select! {
                () = next => {
                    stale_time = SystemTime::now();
                    tokio::select! {
                        () = tokio::time::sleep(interval / 10) => {}
                        m = wait_beyond_removed(stop) => mode = m,
                    }
                }
                m = wait_beyond_removed(stop) => { mode = m; stale_time = SystemTime::now(); }
            }
            if mode == StopMode::Handover {
                return;
            }
        }
        let t = unix_ms(stale_time);
        let appendable = self.cfg.appendable.clone();
        let mut app = appendable.appender();
        if let Err(e) = self.cache.append_empty(app.as_mut(), t) {
            tracing::warn!(target = %self.cfg.target.url, error = %e, "end-of-run staleness failed");
        }
        let _ = self.append_report(app.as_mut(), t, [STALE_NAN; 5]);
        match app.commit() {
            Ok(_) => self.cache.commit_pass(),
            Err(e) => {
                tracing::warn!(target = %self.cfg.target.url, error = %e, "end-of-run staleness commit failed")
            }
        }
    }
}

/// Moves `now` onto the expected tick when it is within `tolerance` after it (the
/// tick is advanced past skipped intervals first), as Prometheus does so that
/// timestamps delta-encode to nothing.
pub(crate) fn align(
    now: SystemTime,
    aligned: &mut SystemTime,
    interval: Duration,
    tolerance: Duration,
) -> SystemTime {
    if interval.is_zero() {
        return now;
    }
    while now.duration_since(*aligned).is_ok_and(|d| d >= interval) {
        *aligned += interval;
    }
    if now.duration_since(*aligned).is_ok_and(|d| d <= tolerance) {
        *aligned
    } else {
        now
    }
}

/// Resolves when a removed loop is told to hurry (shutdown) or to hand over.
async fn wait_beyond_removed(rx: &mut watch::Receiver<StopMode>) -> StopMode {
    loop {
        let m = *rx.borrow_and_update();
        if !matches!(m, StopMode::Running | StopMode::Removed) {
            return m;
        }
        if rx.changed().await.is_err() {
            return StopMode::Shutdown;
        }
    }
}

/// Resolves when the stop mode leaves `Running` (or the sender is gone, which
/// counts as shutdown).
async fn wait_stop(rx: &mut watch::Receiver<StopMode>) -> StopMode {
    loop {
        let m = *rx.borrow_and_update();
        if m != StopMode::Running {
            return m;
        }
        if rx.changed().await.is_err() {
            return StopMode::Shutdown;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrape_times_snap_to_the_expected_tick() {
        let base = UNIX_EPOCH + Duration::from_secs(1_000);
        let iv = Duration::from_secs(10);
        let tol = Duration::from_millis(2);
        let mut aligned = base;
        // 1ms late: snapped.
        assert_eq!(
            align(base + iv + Duration::from_millis(1), &mut aligned, iv, tol),
            base + iv
        );
        // 5ms late: kept, but the expected tick still advances.
        let late = base + iv * 2 + Duration::from_millis(5);
        assert_eq!(align(late, &mut aligned, iv, tol), late);
        assert_eq!(aligned, base + iv * 2);
        // A skipped tick: the expected tick catches up.
        assert_eq!(align(base + iv * 4, &mut aligned, iv, tol), base + iv * 4);
    }
}
