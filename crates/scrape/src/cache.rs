//! The per-target scrape cache and the append path: parse, look up, relabel on a
//! miss, append, track staleness.
//!
//! The cache is keyed by the exact bytes of `name{labels}` as the target wrote them
//! ([`SampleEntry::series`]). A line seen before skips label building, target label
//! merging, metric relabeling, limit checks and the store's label lookup: it is one
//! hash lookup and one `append(Some(ref), ..)`. This is sound because identical bytes
//! always parse to identical labels, and those were fully validated on the miss.
//!
//! Staleness is tracked with iteration stamps instead of per-scrape sets: every
//! append pass has a number, each entry remembers the pass that last appended it
//! (and the one before), and the cache remembers the last *committed* pass. Series
//! of the last committed pass that the current pass did not append are stale.

use std::collections::BTreeMap;

use watchfire_model::{Labels, LabelsBuilder, METRIC_NAME, STALE_NAN, SeriesRef, Timestamp};
use watchfire_relabel::RelabelConfig;
use watchfire_storage::{AppendError, Appender};
use watchfire_textparse::{Entry, Format, MetricType, Parser, SampleEntry};

use crate::error::ScrapeError;
use crate::keys::{KeyIndex, NO_SLOT};

/// Evict cache entries not seen for this many passes.
const EVICT_AFTER_PASSES: u64 = 10;

/// Metadata of one metric family, for `/api/v1/targets/metadata`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetricMetadata {
    /// The family name.
    pub metric: String,
    /// `counter`, `gauge`, ..., `unknown`.
    pub kind: String,
    /// HELP text.
    pub help: String,
    /// UNIT (OpenMetrics), possibly empty.
    pub unit: String,
}

#[derive(Debug, Clone)]
struct MetaEntry {
    kind: MetricType,
    help: String,
    unit: String,
    seen_at: u64,
}

/// Per-scrape limits; `0` means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `sample_limit`.
    pub sample_limit: usize,
    /// `label_limit`.
    pub label_limit: usize,
    /// `label_name_length_limit`.
    pub label_name_length_limit: usize,
    /// `label_value_length_limit`.
    pub label_value_length_limit: usize,
}

/// How scraped series become stored series.
#[derive(Debug, Clone, Copy)]
pub struct SampleContext<'a> {
    /// The target's public labels.
    pub target_labels: &'a Labels,
    /// `honor_labels`.
    pub honor_labels: bool,
    /// `honor_timestamps`.
    pub honor_timestamps: bool,
    /// `track_timestamps_staleness`.
    pub track_timestamps_staleness: bool,
    /// `metric_relabel_configs`.
    pub metric_relabel_configs: &'a [RelabelConfig],
    /// Limits that fail the scrape.
    pub limits: Limits,
}

/// Counts of one append pass, reported as `scrape_samples_scraped` and friends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendStats {
    /// Sample lines in the body.
    pub total: usize,
    /// Samples left after metric relabeling.
    pub added: usize,
    /// Series new to the cache that were stored.
    pub series_added: usize,
    /// Samples the store refused as out of order, duplicate or out of bounds.
    pub rejected: usize,
    /// Staleness markers written.
    pub stale_markers: usize,
}

#[derive(Debug)]
struct CacheEntry {
    /// The slot of the line that followed this one last time: targets print their
    /// series in a stable order, so checking it first avoids hashing and random
    /// memory accesses.
    next: u32,
    sref: Option<SeriesRef>,
    labels: Labels,
    dropped: bool,
    /// Last pass in which the line appeared.
    seen_at: u64,
    /// Last pass that appended the series and tracks it for staleness.
    tracked_at: u64,
    /// `tracked_at` before it was last changed.
    tracked_prev: u64,
}

/// Series labels that a previous loop (before a configuration change) appended in
/// its last committed pass; they go stale unless the new loop produces them too.
#[derive(Debug, Default)]
struct Inherited {
    series: Vec<(Option<SeriesRef>, Labels)>,
}

/// The per-target cache of series and metadata.
#[derive(Debug, Default)]
pub struct ScrapeCache {
    /// Series bytes to slot.
    index: KeyIndex,
    slots: Vec<Option<CacheEntry>>,
    free: Vec<u32>,
    /// Format of the previous pass: labels are only skipped for known series bytes
    /// parsed in the same format, since the formats accept different syntax.
    last_format: Option<Format>,
    /// The current (or last) pass.
    pass: u64,
    /// The last pass whose appends were committed.
    committed: u64,
    metadata: BTreeMap<String, MetaEntry>,
    metadata_changed: bool,
    inherited: Option<Inherited>,
}

impl ScrapeCache {
    /// An empty cache.
    pub fn new() -> Self {
        ScrapeCache::default()
    }

    /// Number of cached series lines (including dropped ones).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    /// Turns this cache into one for a loop whose label rules changed: the series
    /// of the last committed pass are remembered by their final labels so that the
    /// new loop marks those it no longer produces as stale; everything else starts
    /// afresh. Metadata is kept.
    pub fn into_inherited(self) -> ScrapeCache {
        let committed = self.committed;
        let series = self
            .slots
            .into_iter()
            .flatten()
            .filter(|e| !e.dropped && e.tracked_at == committed && committed != 0)
            .map(|e| (e.sref, e.labels))
            .collect();
        ScrapeCache {
            metadata: self.metadata,
            metadata_changed: true,
            inherited: Some(Inherited { series }),
            ..ScrapeCache::default()
        }
    }

    /// Marks the current pass as committed.
    pub fn commit_pass(&mut self) {
        self.committed = self.pass;
        self.inherited = None;
    }

    /// Metadata of the families seen, sorted by family, when it changed since the
    /// last call; `None` when unchanged.
    pub fn take_changed_metadata(&mut self) -> Option<Vec<MetricMetadata>> {
        if !self.metadata_changed {
            return None;
        }
        self.metadata_changed = false;
        Some(
            self.metadata
                .iter()
                .map(|(name, m)| MetricMetadata {
                    metric: name.clone(),
                    kind: m.kind.as_str().to_owned(),
                    help: m.help.clone(),
                    unit: m.unit.clone(),
                })
                .collect(),
        )
    }

    /// Whether an entry was appended in the last committed pass and so needs a
    /// staleness marker if not appended now.
    #[inline]
    fn was_live(&self, e: &CacheEntry) -> bool {
        let c = self.committed;
        c != 0 && (e.tracked_at == c || (e.tracked_at > c && e.tracked_prev == c))
    }

    /// An empty pass: writes staleness markers for every series of the last
    /// committed pass, at `t`. Used when a scrape fails and when a target goes away.
    /// Call [`ScrapeCache::commit_pass`] after a successful commit.
    pub fn append_empty(
        &mut self,
        app: &mut dyn Appender,
        t: Timestamp,
    ) -> Result<usize, ScrapeError> {
        self.pass += 1;
        let mut n = 0;
        for e in self.slots.iter().flatten() {
            if !e.dropped && self.was_live(e) {
                append_stale(app, e.sref, &e.labels, t)?;
                n += 1;
            }
        }
        if let Some(inh) = &self.inherited {
            for (sref, labels) in &inh.series {
                append_stale(app, *sref, labels, t)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Parses `body` and appends its samples at default time `t`, then staleness
    /// markers for vanished series. On error the caller must roll back and call
    /// [`ScrapeCache::append_empty`] on a fresh appender; the stats are still
    /// meaningful for the report.
    pub fn append(
        &mut self,
        app: &mut dyn Appender,
        body: &[u8],
        format: Format,
        ctx: &SampleContext<'_>,
        t: Timestamp,
    ) -> (AppendStats, Option<ScrapeError>) {
        let mut stats = AppendStats::default();
        if body.is_empty() {
            return match self.append_empty(app, t) {
                Ok(n) => {
                    stats.stale_markers = n;
                    (stats, None)
                }
                Err(e) => (stats, Some(e)),
            };
        }
        self.pass += 1;
        let pass = self.pass;
        let mut appended = 0usize;
        let mut limit_err = false;
        let mut parser = Parser::new(body, format);
        let mut err = None;
        let skip_known = self.last_format == Some(format);
        self.last_format = Some(format);
        let mut prev_slot = NO_SLOT;
        loop {
            // On the hot path the parser asks the cache about the series bytes and
            // skips the labels of known lines; `hit` carries the slot out.
            let mut hit: Option<u32> = None;
            let mut asked = false;
            let next = if skip_known {
                let (index, slots) = (&self.index, &self.slots);
                let predicted = slot_ref(slots, prev_slot).map_or(NO_SLOT, |e| e.next);
                parser.next_entry_skipping(&mut |series| {
                    asked = true;
                    hit = match slot_ref(slots, predicted) {
                        Some(_) if index.matches(predicted, series) => Some(predicted),
                        _ => index.get(series),
                    };
                    hit.is_some()
                })
            } else {
                parser.next_entry()
            };
            let Some(entry) = next else { break };
            let sample = match entry {
                Ok(Entry::Sample(s)) => s,
                Ok(Entry::Type { family, kind }) => {
                    let changed = &mut self.metadata_changed;
                    if let Some(m) = meta_entry(&mut self.metadata, family, pass, changed)
                        && m.kind != kind
                    {
                        m.kind = kind;
                        *changed = true;
                    }
                    continue;
                }
                Ok(Entry::Help { family, text }) => {
                    let changed = &mut self.metadata_changed;
                    if let Some(m) = meta_entry(&mut self.metadata, family, pass, changed)
                        && m.help != text
                    {
                        m.help = text.into_owned();
                        *changed = true;
                    }
                    continue;
                }
                Ok(Entry::Unit { family, unit }) => {
                    let changed = &mut self.metadata_changed;
                    if let Some(m) = meta_entry(&mut self.metadata, family, pass, changed)
                        && m.unit != unit
                    {
                        m.unit = unit.to_owned();
                        *changed = true;
                    }
                    continue;
                }
                Ok(Entry::Eof) => break,
                Err(e) => {
                    err = Some(ScrapeError::Parse(e));
                    break;
                }
            };
            stats.total += 1;
            let explicit_ts = if ctx.honor_timestamps {
                sample.timestamp_ms
            } else {
                None
            };
            let ts = explicit_ts.unwrap_or(t);
            let track = explicit_ts.is_none() || ctx.track_timestamps_staleness;

            let slot = match hit {
                Some(i) => Some(i),
                None if asked => None,
                None => self.index.get(sample.series),
            };
            let (slot, is_new) = match slot {
                Some(i) => (i, false),
                None => match new_entry(&sample, ctx) {
                    Ok(e) => (self.insert(sample.series, e), true),
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                },
            };
            if let Some(prev) = self
                .slots
                .get_mut(prev_slot as usize)
                .and_then(Option::as_mut)
            {
                prev.next = slot;
            }
            prev_slot = slot;
            let Some(entry) = self.slots.get_mut(slot as usize).and_then(Option::as_mut) else {
                continue;
            };
            if entry.dropped {
                entry.seen_at = pass;
                continue;
            }
            stats.added += 1;
            if entry.seen_at == pass && !is_new && explicit_ts.is_none() {
                // The same line twice in one scrape: Prometheus drops the second as a
                // duplicate sample for the timestamp.
                stats.rejected += 1;
                continue;
            }
            entry.seen_at = pass;
            if limit_err {
                continue;
            }
            appended += 1;
            if ctx.limits.sample_limit > 0 && appended > ctx.limits.sample_limit {
                // Keep counting the rest of the body for the report; nothing more is
                // appended since the whole scrape is rolled back.
                limit_err = true;
                continue;
            }
            match app.append(entry.sref, &entry.labels, ts, sample.value) {
                Ok(r) => {
                    entry.sref = Some(r);
                    if track && entry.tracked_at != pass {
                        entry.tracked_prev = entry.tracked_at;
                        entry.tracked_at = pass;
                    }
                    if is_new {
                        stats.series_added += 1;
                    }
                }
                Err(
                    AppendError::OutOfOrder { .. }
                    | AppendError::DuplicateTimestamp { .. }
                    | AppendError::OutOfBounds { .. },
                ) => stats.rejected += 1,
                Err(AppendError::InvalidLabels(m)) => {
                    err = Some(ScrapeError::Labels(format!(
                        "invalid metric name or label names: {m}"
                    )));
                    break;
                }
                Err(e @ AppendError::Closed) => {
                    err = Some(ScrapeError::Storage(e.to_string()));
                    break;
                }
            }
        }
        if err.is_none() && limit_err {
            err = Some(ScrapeError::SampleLimit);
        }
        if limit_err {
            stats.series_added = 0;
        }
        if err.is_some() {
            return (stats, err);
        }
        match self.finish_pass(app, t, pass) {
            Ok(n) => stats.stale_markers = n,
            Err(e) => return (stats, Some(e)),
        }
        (stats, None)
    }

    /// Stores a new entry under `series`, reusing a free slot.
    fn insert(&mut self, series: &[u8], e: CacheEntry) -> u32 {
        let slot = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i as usize) {
                    *s = Some(e);
                }
                i
            }
            None => {
                self.slots.push(Some(e));
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.index.insert(slot, series);
        slot
    }

    /// Stale markers for series that vanished, eviction of long-unseen entries.
    fn finish_pass(
        &mut self,
        app: &mut dyn Appender,
        t: Timestamp,
        pass: u64,
    ) -> Result<usize, ScrapeError> {
        let committed = self.committed;
        let mut n = 0;
        if committed != 0 {
            for e in self.slots.iter().flatten() {
                if !e.dropped && e.tracked_at == committed {
                    append_stale(app, e.sref, &e.labels, t)?;
                    n += 1;
                }
            }
        }
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot
                .as_ref()
                .is_some_and(|e| e.seen_at + EVICT_AFTER_PASSES < pass)
            {
                *slot = None;
                let i = u32::try_from(i).unwrap_or(NO_SLOT);
                self.index.remove(i);
                self.free.push(i);
            }
        }
        self.index.compact_if_wasteful();
        if let Some(inh) = self.inherited.take() {
            let live: rustc_hash::FxHashSet<&Labels> = self
                .slots
                .iter()
                .flatten()
                .filter(|e| e.tracked_at == pass)
                .map(|e| &e.labels)
                .collect();
            for (sref, labels) in &inh.series {
                if !live.contains(labels) {
                    append_stale(app, *sref, labels, t)?;
                    n += 1;
                }
            }
        }
        let before = self.metadata.len();
        self.metadata.retain(|_, m| m.seen_at == pass);
        if self.metadata.len() != before {
            self.metadata_changed = true;
        }
        Ok(n)
    }
}

fn meta_entry<'m>(
    map: &'m mut BTreeMap<String, MetaEntry>,
    family: &str,
    pass: u64,
    changed: &mut bool,
) -> Option<&'m mut MetaEntry> {
    if !map.contains_key(family) {
        *changed = true;
        map.insert(
            family.to_owned(),
            MetaEntry {
                kind: MetricType::Unknown,
                help: String::new(),
                unit: String::new(),
                seen_at: pass,
            },
        );
    }
    let m = map.get_mut(family)?;
    m.seen_at = pass;
    Some(m)
}

#[inline]
fn slot_ref(slots: &[Option<CacheEntry>], slot: u32) -> Option<&CacheEntry> {
    slots.get(slot as usize).and_then(Option::as_ref)
}

/// Appends one staleness marker; refusals for order or duplicates are expected (the
/// series may have been re-created elsewhere) and ignored.
fn append_stale(
    app: &mut dyn Appender,
    sref: Option<SeriesRef>,
    labels: &Labels,
    t: Timestamp,
) -> Result<(), ScrapeError> {
    match app.append(sref, labels, t, STALE_NAN) {
        Ok(_)
        | Err(
            AppendError::OutOfOrder { .. }
            | AppendError::DuplicateTimestamp { .. }
            | AppendError::OutOfBounds { .. }
            | AppendError::InvalidLabels(_),
        ) => Ok(()),
        Err(e @ AppendError::Closed) => Err(ScrapeError::Storage(e.to_string())),
    }
}

/// The cache miss: builds the final labels of a new line and checks them.
fn new_entry(sample: &SampleEntry<'_>, ctx: &SampleContext<'_>) -> Result<CacheEntry, ScrapeError> {
    let scraped = sample.to_labels();
    let labels = mutate_sample_labels(&scraped, ctx);
    let mut entry = CacheEntry {
        next: NO_SLOT,
        sref: None,
        labels: Labels::empty(),
        dropped: true,
        seen_at: 0,
        tracked_at: 0,
        tracked_prev: 0,
    };
    let Some(labels) = labels.filter(|l| !l.is_empty()) else {
        return Ok(entry);
    };
    if labels.get(METRIC_NAME).is_none() {
        return Err(ScrapeError::Labels(
            "missing metric name (__name__ label)".to_owned(),
        ));
    }
    verify_label_limits(&labels, &ctx.limits, sample.series)?;
    entry.labels = labels;
    entry.dropped = false;
    Ok(entry)
}

/// Merges target labels into scraped ones (`honor_labels` semantics, `exported_`
/// prefixes on conflict) and applies `metric_relabel_configs`. `None` when dropped.
pub fn mutate_sample_labels(scraped: &Labels, ctx: &SampleContext<'_>) -> Option<Labels> {
    let mut b = scraped.to_builder();
    if ctx.honor_labels {
        for l in ctx.target_labels {
            if scraped.get(&l.name).is_none() {
                b.set(l.name.as_str(), l.value.as_str());
            }
        }
    } else {
        let mut conflicts: Vec<(&str, &str)> = Vec::new();
        for l in ctx.target_labels {
            if let Some(existing) = scraped.get(&l.name) {
                conflicts.push((l.name.as_str(), existing));
            }
            b.set(l.name.as_str(), l.value.as_str());
        }
        if !conflicts.is_empty() {
            resolve_conflicts(&mut b, conflicts);
        }
    }
    let merged = b.build();
    if ctx.metric_relabel_configs.is_empty() {
        return Some(merged);
    }
    watchfire_relabel::process(ctx.metric_relabel_configs, &merged)
}

/// Renames conflicting scraped labels to `exported_<name>` (repeating the prefix
/// until the name is free), shortest names first, as Prometheus does.
fn resolve_conflicts(b: &mut LabelsBuilder, mut conflicts: Vec<(&str, &str)>) {
    conflicts.sort_by_key(|(n, _)| n.len());
    for (name, value) in conflicts {
        let mut new_name = name.to_owned();
        loop {
            new_name.insert_str(0, "exported_");
            if b.build().get(&new_name).is_none() {
                b.set(new_name, value);
                break;
            }
        }
    }
}

/// Truncates to 50 characters, like Go's `%.50s`.
fn trunc50(s: &str) -> &str {
    match s.char_indices().nth(50) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn verify_label_limits(labels: &Labels, limits: &Limits, series: &[u8]) -> Result<(), ScrapeError> {
    let met = String::from_utf8_lossy(series);
    let met = trunc50(&met);
    if limits.label_limit > 0 && labels.len() > limits.label_limit {
        return Err(ScrapeError::Labels(format!(
            "label_limit exceeded (metric: {met}, number of labels: {}, limit: {})",
            labels.len(),
            limits.label_limit
        )));
    }
    if limits.label_name_length_limit == 0 && limits.label_value_length_limit == 0 {
        return Ok(());
    }
    for l in labels {
        let name_len = l.name.chars().count();
        if limits.label_name_length_limit > 0 && name_len > limits.label_name_length_limit {
            return Err(ScrapeError::Labels(format!(
                "label_name_length_limit exceeded (metric: {met}, label name: {}, length: {name_len}, limit: {})",
                trunc50(&l.name),
                limits.label_name_length_limit
            )));
        }
        let value_len = l.value.chars().count();
        if limits.label_value_length_limit > 0 && value_len > limits.label_value_length_limit {
            return Err(ScrapeError::Labels(format!(
                "label_value_length_limit exceeded (metric: {met}, label name: {}, value: {:?}, length: {value_len}, limit: {})",
                trunc50(&l.name),
                trunc50(&l.value),
                limits.label_value_length_limit
            )));
        }
    }
    Ok(())
}
