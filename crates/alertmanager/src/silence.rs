//! Silences: create/update/expire with Alertmanager's rules, matching against label sets,
//! retention of expired silences, and JSON snapshots.

use crate::clock::Millis;
use crate::error::{Error, Result};
use crate::persist;
use crate::types::LabelSet;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use watchfire_model::{MatchOp, Matcher};

/// One matcher of a silence (the API's shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceMatcher {
    /// Label name.
    pub name: String,
    /// Value or regular expression.
    pub value: String,
    /// `=~`/`!~` rather than `=`/`!=`.
    #[serde(rename = "isRegex")]
    pub is_regex: bool,
    /// `=`/`=~` rather than `!=`/`!~`.
    #[serde(rename = "isEqual", default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl SilenceMatcher {
    fn op(&self) -> MatchOp {
        match (self.is_regex, self.is_equal) {
            (false, true) => MatchOp::Equal,
            (false, false) => MatchOp::NotEqual,
            (true, true) => MatchOp::RegexMatch,
            (true, false) => MatchOp::RegexNoMatch,
        }
    }
    /// Compiles into a label matcher.
    pub fn compile(&self) -> Result<Matcher, String> {
        Matcher::new(self.op(), self.name.clone(), self.value.clone()).map_err(|_| {
            let err = regex::Regex::new(&self.value)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            format!("invalid regular expression {:?}: {err}", self.value)
        })
    }
}

/// Silence state at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    /// Muting now.
    Active,
    /// Starts in the future.
    Pending,
    /// Ended.
    Expired,
}

impl SilenceState {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
            SilenceState::Expired => "expired",
        }
    }
}

/// A silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    /// UUID.
    pub id: String,
    /// Matchers (all must match).
    pub matchers: Vec<SilenceMatcher>,
    /// Start.
    pub starts_at: Millis,
    /// End.
    pub ends_at: Millis,
    /// Last modification.
    pub updated_at: Millis,
    /// Author.
    pub created_by: String,
    /// Comment.
    pub comment: String,
}

impl Silence {
    /// State at `now`.
    pub fn state(&self, now: Millis) -> SilenceState {
        if now < self.starts_at {
            SilenceState::Pending
        } else if now < self.ends_at {
            SilenceState::Active
        } else {
            SilenceState::Expired
        }
    }
}

struct Entry {
    silence: Silence,
    matchers: Vec<Matcher>,
}

fn validate(s: &Silence) -> Result<Vec<Matcher>, String> {
    if s.matchers.is_empty() {
        return Err("at least one matcher required".into());
    }
    let name_re = regex::Regex::new("^[a-zA-Z_][a-zA-Z0-9_]*$").map_err(|e| e.to_string())?;
    let mut compiled = Vec::with_capacity(s.matchers.len());
    let mut all_empty = true;
    for (i, m) in s.matchers.iter().enumerate() {
        if !name_re.is_match(&m.name) {
            return Err(format!(
                "invalid label matcher {i}: invalid label name {:?}",
                m.name
            ));
        }
        let c = m
            .compile()
            .map_err(|e| format!("invalid label matcher {i}: {e}"))?;
        all_empty &= c.matches("");
        compiled.push(c);
    }
    if all_empty {
        return Err("at least one matcher must not match the empty string".into());
    }
    if s.starts_at == 0 {
        return Err("invalid zero start timestamp".into());
    }
    if s.ends_at == 0 {
        return Err("invalid zero end timestamp".into());
    }
    if s.ends_at < s.starts_at {
        return Err("end time must not be before start time".into());
    }
    Ok(compiled)
}

/// Whether `b` may be written over `a` in place (same matchers, allowed time changes).
fn can_update(a: &Silence, b: &Silence, now: Millis) -> bool {
    if a.matchers != b.matchers {
        return false;
    }
    match a.state(now) {
        SilenceState::Active => b.starts_at == a.starts_at && b.ends_at >= now,
        SilenceState::Pending => b.starts_at >= now,
        SilenceState::Expired => false,
    }
}

/// A fresh random (v4) UUID. Randomness comes from std's per-process hasher keys mixed
/// with a counter and the time, which is enough for identifiers.
pub fn new_uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut words = [0u64; 2];
    for (i, w) in words.iter_mut().enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(c);
        h.write_u64(t);
        h.write_usize(i);
        *w = h.finish();
    }
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&words[0].to_le_bytes());
    b[8..].copy_from_slice(&words[1].to_le_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The silence store.
pub struct Silences {
    entries: RwLock<HashMap<String, Entry>>,
    retention_ms: i64,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Silences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Silences")
            .field("count", &self.entries.read().len())
            .finish()
    }
}

impl Silences {
    /// A store persisted at `path` (None = memory only), loading an existing snapshot.
    pub fn open(path: Option<PathBuf>, retention_ms: i64) -> Result<Self> {
        let s = Silences {
            entries: RwLock::new(HashMap::new()),
            retention_ms,
            path,
        };
        if let Some(p) = &s.path
            && let Some(list) = persist::read::<Vec<Silence>>(p)?
        {
            let mut e = s.entries.write();
            for sil in list {
                // Snapshots were validated when written; skip anything that no longer is.
                if let Ok(matchers) = validate(&sil) {
                    e.insert(
                        sil.id.clone(),
                        Entry {
                            silence: sil,
                            matchers,
                        },
                    );
                }
            }
        }
        Ok(s)
    }

    /// Creates or updates a silence as `Silences.Set` does and returns its ID: an unknown
    /// non-empty ID is [`Error::SilenceNotFound`]; an update that cannot be applied in place
    /// expires the old silence and creates a new one.
    pub fn set(&self, mut sil: Silence, now: Millis) -> Result<String> {
        let mut entries = self.entries.write();
        let prev = if sil.id.is_empty() {
            None
        } else {
            match entries.get(&sil.id) {
                Some(e) => Some(e.silence.clone()),
                None => return Err(Error::SilenceNotFound),
            }
        };
        if let Some(prev) = &prev
            && can_update(prev, &sil, now)
        {
            sil.updated_at = now;
            let matchers = validate(&sil)
                .map_err(|e| Error::InvalidSilence(format!("silence invalid: {e}")))?;
            let id = sil.id.clone();
            entries.insert(
                id.clone(),
                Entry {
                    silence: sil,
                    matchers,
                },
            );
            return Ok(id);
        }
        sil.id = new_uuid();
        if sil.starts_at < now {
            sil.starts_at = now;
        }
        sil.updated_at = now;
        let matchers =
            validate(&sil).map_err(|e| Error::InvalidSilence(format!("silence invalid: {e}")))?;
        if let Some(prev) = prev
            && prev.state(now) != SilenceState::Expired
            && let Some(e) = entries.get_mut(&prev.id)
        {
            expire_in_place(&mut e.silence, now);
        }
        let id = sil.id.clone();
        entries.insert(
            id.clone(),
            Entry {
                silence: sil,
                matchers,
            },
        );
        Ok(id)
    }

    /// Expires a silence: a pending one gets start = end = now, an active one end = now.
    /// Expiring an expired silence is a no-op (Alertmanager 0.25 answers 200).
    pub fn expire(&self, id: &str, now: Millis) -> Result<()> {
        let mut entries = self.entries.write();
        let e = entries.get_mut(id).ok_or(Error::SilenceNotFound)?;
        expire_in_place(&mut e.silence, now);
        Ok(())
    }

    /// One silence.
    pub fn get(&self, id: &str) -> Option<Silence> {
        self.entries.read().get(id).map(|e| e.silence.clone())
    }

    /// All silences (unsorted).
    pub fn list(&self) -> Vec<Silence> {
        self.entries
            .read()
            .values()
            .map(|e| e.silence.clone())
            .collect()
    }

    /// IDs of the silences active at `now` that match `labels`, sorted.
    pub fn mutes(&self, labels: &LabelSet, now: Millis) -> Vec<String> {
        let entries = self.entries.read();
        let mut ids: Vec<String> = entries
            .values()
            .filter(|e| e.silence.state(now) == SilenceState::Active)
            .filter(|e| {
                e.matchers
                    .iter()
                    .all(|m| m.matches(labels.get(&m.name).map(String::as_str).unwrap_or("")))
            })
            .map(|e| e.silence.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Drops silences that expired more than the retention period ago; returns how many.
    pub fn gc(&self, now: Millis) -> usize {
        let mut entries = self.entries.write();
        let before = entries.len();
        let keep = self.retention_ms;
        entries.retain(|_, e| e.silence.ends_at.saturating_add(keep) > now);
        before - entries.len()
    }

    /// Writes the snapshot (no-op without a path).
    pub fn snapshot(&self) -> Result<()> {
        let Some(p) = &self.path else { return Ok(()) };
        let mut list = self.list();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        persist::write_atomic(p, &list)
    }
}

fn expire_in_place(s: &mut Silence, now: Millis) {
    match s.state(now) {
        SilenceState::Pending => {
            s.starts_at = now;
            s.ends_at = now;
        }
        SilenceState::Active => s.ends_at = now,
        SilenceState::Expired => return,
    }
    s.updated_at = now;
}

/// Alertmanager's `matchFilterLabels`: how `filter=` selects alerts and silences. An empty
/// `=`/`=~` value also accepts an absent label; an empty `!=`/`!~` value skips present ones.
pub fn match_filter_labels(matchers: &[Matcher], set: &dyn Fn(&str) -> Option<String>) -> bool {
    matchers.iter().all(|m| {
        let v = set(&m.name);
        match m.op {
            MatchOp::NotEqual | MatchOp::RegexNoMatch => {
                (m.value.is_empty() && v.is_some()) || m.matches(v.as_deref().unwrap_or(""))
            }
            _ => (m.value.is_empty() && v.is_none()) || m.matches(v.as_deref().unwrap_or("")),
        }
    })
}

/// Alertmanager's API sort: active by end time, then pending by start time, then expired
/// by end time, most recent first.
pub fn sort_silences(v: &mut [Silence], now: Millis) {
    v.sort_by(|a, b| {
        let (sa, sb) = (a.state(now), b.state(now));
        sa.cmp(&sb).then_with(|| match sa {
            SilenceState::Active => a.ends_at.cmp(&b.ends_at),
            SilenceState::Pending => a.starts_at.cmp(&b.starts_at),
            SilenceState::Expired => b.ends_at.cmp(&a.ends_at),
        })
    });
}
