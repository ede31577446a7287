//! The database: head + blocks + WAL on one data directory.

use crate::block_query::BlockQuerier;
use crate::compact;
use crate::error::{Result, TsdbError};
use crate::head::disk_chunks::DiskChunks;
use crate::head::{Head, HeadQuerier};
use crate::options::Options;
use crate::records::{self, Record};
use parking_lot::{Mutex, RwLock};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use watchfire_block::Block;
use watchfire_model::Timestamp;
use watchfire_storage::{
    Appendable, Appender, CardinalitySource, CardinalityStats, Querier, Queryable, SelectHints,
    SeriesSet, StorageError, merge_series_sets,
};
use watchfire_wal::{SyncPolicy, Wal, WalOptions, WalReader};

/// What happened while opening a data directory.
#[derive(Debug, Default, Clone)]
pub struct OpenReport {
    /// Blocks loaded.
    pub blocks: usize,
    /// Blocks that could not be read, moved aside, with the reason.
    pub quarantined: Vec<(PathBuf, String)>,
    /// WAL records replayed.
    pub wal_records: u64,
    /// Samples replayed into the head.
    pub wal_samples: u64,
    /// Description of WAL repairs (truncated torn or corrupt tails), if any.
    pub wal_repairs: Vec<String>,
}

/// Counters of background work.
#[derive(Debug, Default)]
pub struct DbCounters {
    /// Blocks written from the head.
    pub head_compactions: AtomicU64,
    /// Block merges.
    pub compactions: AtomicU64,
    /// Failed compactions.
    pub compactions_failed: AtomicU64,
    /// Blocks deleted by time retention.
    pub retention_time_deletions: AtomicU64,
    /// Blocks deleted by size retention.
    pub retention_size_deletions: AtomicU64,
}

/// An open data directory.
pub struct Db {
    dir: PathBuf,
    opts: Options,
    head: Arc<Head>,
    blocks: RwLock<Vec<Arc<Block>>>,
    compaction: Mutex<()>,
    /// Background work done so far.
    pub counters: DbCounters,
    _lock: File,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("dir", &self.dir)
            .field("head", &self.head)
            .finish()
    }
}

const QUARANTINE_SUFFIX: &str = ".corrupted";

impl Db {
    /// Opens (creating if needed) the data directory: loads blocks, repairs and
    /// replays the WAL. Bad blocks are moved aside and bad WAL tails truncated;
    /// both are reported, neither stops the open.
    pub fn open(dir: impl AsRef<Path>, opts: Options) -> Result<(Db, OpenReport)> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| TsdbError::io(&dir, e))?;
        let lock_path = dir.join("lock");
        let lock = File::create(&lock_path).map_err(|e| TsdbError::io(&lock_path, e))?;
        if lock.try_lock().is_err() {
            return Err(TsdbError::Locked(dir.display().to_string()));
        }
        let mut report = OpenReport::default();
        let blocks = load_blocks(&dir, &mut report)?;
        report.blocks = blocks.len();
        let min_valid = blocks
            .iter()
            .map(|b| b.meta().max_time)
            .max()
            .unwrap_or(i64::MIN);

        let wal_dir = dir.join("wal");
        let (wal, repair) = Wal::open(
            &wal_dir,
            WalOptions::default()
                .with_segment_size(opts.wal_segment_bytes)
                .with_sync(SyncPolicy::Interval(opts.wal_sync_interval)),
        )?;
        if let Some(r) = &repair.repair {
            report.wal_repairs.push(format!(
                "segment {} truncated at offset {} ({:?}); dropped {} bytes, {} intact records, deleted segments {:?}",
                r.segment, r.offset, r.cause, r.bytes_dropped, r.records_dropped, r.deleted_segments
            ));
        }
        let disk = DiskChunks::open(&dir.join("chunks_head"), opts.head_chunk_file_bytes)?;
        let mut head = Head::new(disk, opts.samples_per_chunk, opts.block_range_ms, min_valid);
        replay_wal(&head, &wal_dir, &mut report)?;
        // Only now do commits start logging: replayed samples are already in the WAL.
        head.wal = Some(Mutex::new(wal));
        let head = Arc::new(head);
        Ok((
            Db {
                dir,
                opts,
                head,
                blocks: RwLock::new(blocks),
                compaction: Mutex::new(()),
                counters: DbCounters::default(),
                _lock: lock,
            },
            report,
        ))
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The in-memory head.
    pub fn head(&self) -> &Arc<Head> {
        &self.head
    }

    /// The persisted blocks, oldest first.
    pub fn blocks(&self) -> Vec<Arc<Block>> {
        self.blocks.read().clone()
    }

    /// Forces the WAL to stable storage.
    pub fn sync_wal(&self) -> Result<()> {
        if let Some(wal) = &self.head.wal {
            wal.lock().sync()?;
        }
        Ok(())
    }

    /// Bytes on disk: blocks, WAL and head chunk files.
    pub fn size_bytes(&self) -> u64 {
        let blocks: u64 = self.blocks.read().iter().map(|b| b.size_bytes()).sum();
        blocks + dir_size(&self.dir.join("wal")) + self.head.disk.size_bytes()
    }

    /// Runs due background work: persists the head's oldest block range once the
    /// head spans 1.5 block ranges, merges blocks, picks up blocks that appeared
    /// in the directory (backfill), and applies retention. Returns whether
    /// anything changed.
    pub fn compact(&self) -> Result<bool> {
        let _guard = self.compaction.lock();
        let mut changed = self.reload_blocks()?;
        let range = self.opts.block_range_ms;
        while let (Some(lo), Some(hi)) = (self.head.min_time(), self.head.max_time()) {
            if hi - lo <= range / 2 * 3 {
                break;
            }
            let mint = lo.div_euclid(range) * range;
            self.persist_head_range(mint, mint + range)?;
            changed = true;
        }
        changed |= self.compact_blocks()?;
        changed |= self.apply_retention()?;
        Ok(changed)
    }

    /// Persists everything in the head into blocks (used at shutdown by tools and
    /// tests; Prometheus leaves the head to the WAL instead).
    pub fn flush_head(&self) -> Result<()> {
        let _guard = self.compaction.lock();
        let range = self.opts.block_range_ms;
        while let (Some(lo), Some(_)) = (self.head.min_time(), self.head.max_time()) {
            let mint = lo.div_euclid(range) * range;
            self.persist_head_range(mint, mint + range)?;
        }
        Ok(())
    }

    fn persist_head_range(&self, mint: i64, maxt: i64) -> Result<()> {
        match compact::write_head_block(&self.head, &self.dir, mint, maxt) {
            Ok(Some(meta)) => {
                let block = Arc::new(Block::open(&self.dir.join(&meta.ulid))?);
                tracing::info!(ulid = %meta.ulid, mint, maxt, series = meta.stats.num_series, "wrote block from head");
                let mut blocks = self.blocks.write();
                blocks.push(block);
                blocks.sort_by_key(|b| (b.meta().min_time, b.meta().max_time));
                self.counters
                    .head_compactions
                    .fetch_add(1, Ordering::Relaxed);
            }
            Ok(None) => {}
            Err(e) => {
                self.counters
                    .compactions_failed
                    .fetch_add(1, Ordering::Relaxed);
                return Err(e);
            }
        }
        self.head.truncate(maxt);
        self.truncate_wal(maxt)
    }

    /// Checkpoints the older part of the WAL, keeping only series still in the head
    /// and samples at or after `mint`, then deletes those segments.
    fn truncate_wal(&self, mint: i64) -> Result<()> {
        let Some(wal) = &self.head.wal else {
            return Ok(());
        };
        let wal_dir = self.dir.join("wal");
        let upto = {
            let mut w = wal.lock();
            let current = w.next_segment()?;
            current.saturating_sub(1)
        };
        let head = self.head.clone();
        watchfire_wal::checkpoint::create(&wal_dir, upto, |rec| match records::decode(rec) {
            Ok(Record::Series(series)) => {
                let alive: Vec<(u64, &watchfire_model::Labels)> = series
                    .iter()
                    .filter(|(r, _)| u32::try_from(*r).is_ok_and(|r| head.exists(r)))
                    .map(|(r, l)| (*r, l))
                    .collect();
                (!alive.is_empty()).then(|| {
                    let mut out = Vec::new();
                    records::encode_series(&mut out, &alive);
                    out
                })
            }
            Ok(Record::Samples(samples)) => {
                let kept: Vec<_> = samples.into_iter().filter(|s| s.t >= mint).collect();
                (!kept.is_empty()).then(|| {
                    let mut out = Vec::new();
                    records::encode_samples(&mut out, &kept);
                    out
                })
            }
            _ => None,
        })?;
        wal.lock().truncate_before(upto + 1)?;
        Ok(())
    }

    /// Loads block directories that appeared since the last look (backfill).
    fn reload_blocks(&self) -> Result<bool> {
        let known: std::collections::HashSet<String> = self
            .blocks
            .read()
            .iter()
            .map(|b| b.meta().ulid.clone())
            .collect();
        let mut report = OpenReport::default();
        let found = load_blocks(&self.dir, &mut report)?;
        let fresh: Vec<Arc<Block>> = found
            .into_iter()
            .filter(|b| !known.contains(&b.meta().ulid))
            .collect();
        if fresh.is_empty() {
            return Ok(false);
        }
        let mut blocks = self.blocks.write();
        blocks.extend(fresh);
        blocks.sort_by_key(|b| (b.meta().min_time, b.meta().max_time));
        Ok(true)
    }

    /// Merges groups of blocks that fill a larger aligned range, and overlapping
    /// blocks. The newest range is left alone until a later block exists.
    fn compact_blocks(&self) -> Result<bool> {
        let mut changed = false;
        loop {
            let blocks = self.blocks();
            let Some(group) = plan_compaction(&blocks, &self.opts.compaction_ranges()) else {
                return Ok(changed);
            };
            let meta = match compact::merge_blocks(&group, &self.dir) {
                Ok(m) => m,
                Err(e) => {
                    self.counters
                        .compactions_failed
                        .fetch_add(1, Ordering::Relaxed);
                    return Err(e);
                }
            };
            let merged = Arc::new(Block::open(&self.dir.join(&meta.ulid))?);
            let gone: std::collections::HashSet<String> =
                group.iter().map(|b| b.meta().ulid.clone()).collect();
            {
                let mut w = self.blocks.write();
                w.retain(|b| !gone.contains(&b.meta().ulid));
                w.push(merged);
                w.sort_by_key(|b| (b.meta().min_time, b.meta().max_time));
            }
            for b in &group {
                remove_block_dir(b.dir());
            }
            tracing::info!(ulid = %meta.ulid, merged = group.len(), "compacted blocks");
            self.counters.compactions.fetch_add(1, Ordering::Relaxed);
            changed = true;
        }
    }

    fn apply_retention(&self) -> Result<bool> {
        let mut doomed: Vec<Arc<Block>> = Vec::new();
        let blocks = self.blocks();
        if self.opts.retention_ms > 0
            && let Some(newest) = blocks.iter().map(|b| b.meta().max_time).max()
        {
            let newest = newest.max(self.head.max_time().unwrap_or(i64::MIN));
            for b in &blocks {
                if b.meta().max_time <= newest - self.opts.retention_ms {
                    doomed.push(b.clone());
                    self.counters
                        .retention_time_deletions
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if self.opts.retention_bytes > 0 {
            let mut total = self.size_bytes();
            for b in &blocks {
                if total <= self.opts.retention_bytes {
                    break;
                }
                if doomed.iter().any(|d| d.meta().ulid == b.meta().ulid) {
                    total = total.saturating_sub(b.size_bytes());
                    continue;
                }
                total = total.saturating_sub(b.size_bytes());
                doomed.push(b.clone());
                self.counters
                    .retention_size_deletions
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        if doomed.is_empty() {
            return Ok(false);
        }
        let gone: std::collections::HashSet<String> =
            doomed.iter().map(|b| b.meta().ulid.clone()).collect();
        self.blocks
            .write()
            .retain(|b| !gone.contains(&b.meta().ulid));
        for b in &doomed {
            tracing::info!(ulid = %b.meta().ulid, "deleting block past retention");
            remove_block_dir(b.dir());
        }
        Ok(true)
    }

    /// Syncs the WAL and releases the directory. The head stays in the WAL and is
    /// replayed by the next open.
    pub fn close(self) -> Result<()> {
        self.sync_wal()
    }
}

/// Picks the first group of blocks worth merging: overlapping blocks, or two or
/// more blocks inside one aligned range of a larger size, when that range is
/// complete (a later block exists).
fn plan_compaction(blocks: &[Arc<Block>], ranges: &[i64]) -> Option<Vec<Arc<Block>>> {
    for w in blocks.windows(2) {
        if w[1].meta().min_time < w[0].meta().max_time {
            let lo = w[0].meta().min_time;
            let hi = w[0].meta().max_time.max(w[1].meta().max_time);
            let group: Vec<_> = blocks
                .iter()
                .filter(|b| b.meta().min_time < hi && b.meta().max_time > lo)
                .cloned()
                .collect();
            return Some(group);
        }
    }
    let newest_max = blocks.iter().map(|b| b.meta().max_time).max()?;
    for &range in ranges.iter().skip(1) {
        let mut i = 0;
        while i < blocks.len() {
            let start = blocks[i].meta().min_time.div_euclid(range) * range;
            let end = start + range;
            let group: Vec<_> = blocks[i..]
                .iter()
                .take_while(|b| b.meta().max_time <= end && b.meta().min_time >= start)
                .cloned()
                .collect();
            let n = group.len().max(1);
            if group.len() >= 2
                && (end <= newest_max || group.last().is_some_and(|b| b.meta().max_time == end))
            {
                return Some(group);
            }
            i += n;
        }
    }
    None
}

fn remove_block_dir(dir: &Path) {
    if let Err(e) = fs::remove_dir_all(dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot delete block directory");
    }
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(dir) else { return 0 };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn is_ulid_name(name: &str) -> bool {
    name.len() == 26 && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Opens every block directory; unreadable ones are renamed aside and reported.
fn load_blocks(dir: &Path, report: &mut OpenReport) -> Result<Vec<Arc<Block>>> {
    let mut blocks = Vec::new();
    let rd = fs::read_dir(dir).map_err(|e| TsdbError::io(dir, e))?;
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        if name.ends_with(".tmp") && path.is_dir() {
            tracing::info!(dir = %path.display(), "removing unfinished block");
            remove_block_dir(&path);
            continue;
        }
        if !is_ulid_name(&name) || !path.is_dir() {
            continue;
        }
        match Block::open(&path) {
            Ok(b) => blocks.push(Arc::new(b)),
            Err(e) => {
                let aside = dir.join(format!("{name}{QUARANTINE_SUFFIX}"));
                tracing::error!(block = %path.display(), error = %e, moved_to = %aside.display(),
                    "block is unreadable; moving it aside and continuing without it");
                if let Err(re) = fs::rename(&path, &aside) {
                    tracing::error!(error = %re, "cannot move unreadable block aside");
                }
                report.quarantined.push((path, e.to_string()));
            }
        }
    }
    blocks.sort_by_key(|b| (b.meta().min_time, b.meta().max_time));
    Ok(blocks)
}

/// Replays the last checkpoint and the WAL segments after it into the head.
fn replay_wal(head: &Head, wal_dir: &Path, report: &mut OpenReport) -> Result<()> {
    let mut aliases: rustc_hash::FxHashMap<u64, u64> = rustc_hash::FxHashMap::default();
    let mut replay_dir = |dir: &Path, first: Option<u32>| -> Result<()> {
        let Some((lo, hi)) = watchfire_wal::segments(dir)? else {
            return Ok(());
        };
        let lo = first.map_or(lo, |f| f.max(lo));
        if lo > hi {
            return Ok(());
        }
        let mut reader = WalReader::new(dir, lo, hi);
        let mut buf = Vec::new();
        loop {
            match reader.next_record(&mut buf) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    // Open already repaired the WAL; anything left is reported, not fatal.
                    tracing::error!(error = %e, "stopping WAL replay at unreadable record");
                    report.wal_repairs.push(e.to_string());
                    break;
                }
            }
            report.wal_records += 1;
            match records::decode(&buf) {
                Ok(Record::Series(series)) => {
                    for (r, labels) in series {
                        if let Some(actual) = head.create_with_ref(r, &labels)
                            && u64::from(actual) != r
                        {
                            aliases.insert(r, u64::from(actual));
                        }
                    }
                }
                Ok(Record::Samples(mut samples)) => {
                    if !aliases.is_empty() {
                        for s in &mut samples {
                            if let Some(&a) = aliases.get(&s.series) {
                                s.series = a;
                            }
                        }
                    }
                    report.wal_samples += head.apply(&samples) as u64;
                }
                Ok(Record::Unknown(kind)) => {
                    tracing::debug!(kind, "skipping WAL record of unknown kind");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "skipping malformed WAL record");
                }
            }
        }
        Ok(())
    };
    let mut after = None;
    if let Some((cp_dir, n)) = watchfire_wal::checkpoint::last(wal_dir)? {
        replay_dir(&cp_dir, None)?;
        after = Some(n + 1);
    }
    replay_dir(wal_dir, after)
}

impl Appendable for Db {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(self.head.appender())
    }
}

/// A querier over the blocks and the head that overlap a time range.
struct DbQuerier {
    parts: Vec<Box<dyn Querier>>,
}

impl Querier for DbQuerier {
    fn select(
        &self,
        hints: &SelectHints,
        matchers: &[watchfire_model::Matcher],
    ) -> Result<SeriesSet, StorageError> {
        let sets = self
            .parts
            .iter()
            .map(|q| q.select(hints, matchers))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(merge_series_sets(sets))
    }

    fn label_names(
        &self,
        matchers: &[watchfire_model::Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let mut all = std::collections::BTreeSet::new();
        for q in &self.parts {
            all.extend(q.label_names(matchers)?);
        }
        Ok(all.into_iter().collect())
    }

    fn label_values(
        &self,
        name: &str,
        matchers: &[watchfire_model::Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let mut all = std::collections::BTreeSet::new();
        for q in &self.parts {
            all.extend(q.label_values(name, matchers)?);
        }
        Ok(all.into_iter().collect())
    }
}

impl Queryable for Db {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        if mint > maxt {
            return Err(StorageError::Invalid(format!(
                "query range end {maxt} is before start {mint}"
            )));
        }
        let mut parts: Vec<Box<dyn Querier>> = Vec::new();
        for b in self.blocks.read().iter() {
            // Block max time is exclusive.
            if b.meta().min_time <= maxt && b.meta().max_time > mint {
                parts.push(Box::new(BlockQuerier::new(b.clone(), mint, maxt)));
            }
        }
        parts.push(Box::new(HeadQuerier::new(self.head.clone(), mint, maxt)));
        Ok(Box::new(DbQuerier { parts }))
    }
}

impl CardinalitySource for Db {
    fn cardinality(&self, limit: usize) -> CardinalityStats {
        crate::stats::head_cardinality(&self.head, limit)
    }
}
