//! File-based service discovery: JSON or YAML files listing target groups, re-read
//! when they change.
//!
//! Like Prometheus, each group's source is `<file>:<index>` and every group gets
//! the `__meta_filepath` label. A file that fails to read or parse keeps its
//! previous groups; a file that disappears removes them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use crate::error::ScrapeError;
use crate::manager::ScrapeManager;
use crate::options::TargetGroup;

/// How often files are checked for changes.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    targets: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// Parses one file SD file (`.json`, or YAML for any other extension).
pub fn parse_file_sd(path: &Path, data: &[u8]) -> Result<Vec<TargetGroup>, ScrapeError> {
    let name = path.display().to_string();
    let err = |message: String| ScrapeError::FileSd {
        path: name.clone(),
        message,
    };
    let text = std::str::from_utf8(data).map_err(|e| err(format!("invalid UTF-8: {e}")))?;
    let is_json = path.extension().is_some_and(|e| e == "json");
    let raw: Vec<RawGroup> = if is_json {
        serde_json::from_str(text).map_err(|e| err(e.to_string()))?
    } else if text.trim().is_empty() {
        Vec::new()
    } else {
        serde_saphyr::from_str::<Option<Vec<RawGroup>>>(text)
            .map_err(|e| err(e.to_string()))?
            .unwrap_or_default()
    };
    let mut out = Vec::with_capacity(raw.len());
    for (i, g) in raw.into_iter().enumerate() {
        let mut labels = g.labels.unwrap_or_default();
        for (k, _) in labels.iter() {
            if k.is_empty() {
                return Err(err(format!("group {i}: empty label name")));
            }
        }
        labels.insert("__meta_filepath".to_owned(), name.clone());
        let targets = g.targets.unwrap_or_default();
        for t in &targets {
            if t.contains('/') {
                return Err(err(format!("group {i}: {t:?} is not a valid hostname")));
            }
        }
        out.push(TargetGroup {
            targets,
            labels,
            source: format!("{name}:{i}"),
        });
    }
    Ok(out)
}

/// Expands file SD patterns; a glob is only allowed in the last path element, as
/// in Prometheus.
pub fn expand_patterns(patterns: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in patterns {
        match glob::glob(p) {
            Ok(paths) => out.extend(paths.filter_map(Result::ok)),
            Err(e) => tracing::error!(pattern = %p, error = %e, "invalid file SD pattern"),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Watches `patterns` for `job`: re-reads every file when one changes (polled every
/// [`POLL_INTERVAL`], or `refresh_interval` if shorter) and at least every
/// `refresh_interval`, and passes the groups to [`ScrapeManager::update_targets`].
/// Abort the returned task to stop watching.
pub fn watch_file_sd(
    manager: ScrapeManager,
    job: String,
    patterns: Vec<String>,
    refresh_interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut state = FileSdState::default();
        let poll = POLL_INTERVAL
            .min(refresh_interval)
            .max(Duration::from_millis(10));
        loop {
            if let Some(groups) = state.refresh(&patterns, refresh_interval) {
                manager.update_targets(&job, groups).await;
            }
            tokio::time::sleep(poll).await;
        }
    })
}

/// What the watcher remembers between polls.
#[derive(Debug, Default)]
pub struct FileSdState {
    mtimes: HashMap<PathBuf, Option<SystemTime>>,
    /// Number of groups each file produced last time.
    group_counts: HashMap<PathBuf, usize>,
    last_full: Option<Instant>,
}

impl FileSdState {
    /// Checks the files; returns the groups to send (including empty groups for
    /// sources that vanished) when anything changed or a refresh is due.
    pub fn refresh(
        &mut self,
        patterns: &[String],
        refresh_interval: Duration,
    ) -> Option<Vec<TargetGroup>> {
        let files = expand_patterns(patterns);
        let mtimes: HashMap<PathBuf, Option<SystemTime>> = files
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    std::fs::metadata(p).and_then(|m| m.modified()).ok(),
                )
            })
            .collect();
        let due = self
            .last_full
            .is_none_or(|t| t.elapsed() >= refresh_interval);
        if !due && mtimes == self.mtimes {
            return None;
        }
        self.last_full = Some(Instant::now());
        let mut groups = Vec::new();
        let mut counts = HashMap::new();
        for path in &files {
            let parsed = std::fs::read(path)
                .map_err(|e| ScrapeError::FileSd {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })
                .and_then(|data| parse_file_sd(path, &data));
            match parsed {
                Ok(gs) => {
                    let prev = self.group_counts.get(path).copied().unwrap_or(0);
                    let n = gs.len();
                    counts.insert(path.clone(), n);
                    groups.extend(gs);
                    // Shrinking files: empty groups clear the sources no longer there.
                    for i in n..prev {
                        groups.push(TargetGroup {
                            source: format!("{}:{i}", path.display()),
                            ..TargetGroup::default()
                        });
                    }
                }
                Err(e) => {
                    // Keep the previous groups of a file that does not parse.
                    tracing::error!(error = %e, "error reading file SD file");
                    if let Some(&n) = self.group_counts.get(path) {
                        counts.insert(path.clone(), n);
                    }
                }
            }
        }
        for (path, &n) in &self.group_counts {
            if !counts.contains_key(path) && !mtimes.contains_key(path) {
                for i in 0..n {
                    groups.push(TargetGroup {
                        source: format!("{}:{i}", path.display()),
                        ..TargetGroup::default()
                    });
                }
            }
        }
        self.group_counts = counts;
        self.mtimes = mtimes;
        Some(groups)
    }
}
