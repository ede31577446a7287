//! Grafana dashboard JSON files provisioned from a folder.
//!
//! A folder is read recursively for `*.json` files in name order. Each file is
//! a Grafana dashboard model, either bare or wrapped as Grafana's HTTP API
//! exports it (`{"dashboard": {...}, "meta": ...}`). Its uid is the file's
//! `uid` field or, when that is absent or empty, derived from the file name, so
//! hand-written files need none. [`Dashboards::load_dir`] is strict (any bad
//! file is an error naming it) and is meant for start-up; the shared
//! [`Dashboards`] handle re-reads the folder when a file's size or
//! modification time changes, checked on each request (a `read_dir` and some
//! `stat`s), and then keeps the good files and reports the bad ones as
//! warnings instead of dropping everything.

use crate::error::UiError;
use parking_lot::Mutex;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// One provisioned dashboard.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Grafana uid: from the JSON, or derived from the file name.
    pub uid: String,
    /// The dashboard's title (the file name when it has none).
    pub title: String,
    /// Tags, as listed in the JSON.
    pub tags: Vec<String>,
    /// The file it came from.
    pub file: PathBuf,
    /// The dashboard model, with `uid` and `title` filled in.
    pub json: Arc<Value>,
}

impl Dashboard {
    /// The UI path, `/d/<uid>/<slug>`, as in Grafana.
    pub fn url(&self) -> String {
        format!("/d/{}/{}", self.uid, slugify(&self.title))
    }
}

/// What a folder held at one reading.
#[derive(Debug, Default)]
struct Snapshot {
    /// (file, modification time, size) of each `*.json` file, sorted.
    stamp: Vec<(PathBuf, Option<SystemTime>, u64)>,
    dashboards: Vec<Dashboard>,
    /// Files skipped at the last lenient reading, as messages.
    warnings: Vec<String>,
    read_once: bool,
}

/// The dashboards of one folder, shared between requests and re-read when the
/// folder changes. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Dashboards {
    dir: Option<PathBuf>,
    state: Arc<Mutex<Snapshot>>,
}

impl Dashboards {
    /// No folder: an empty list.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads every dashboard of `dir` now, failing on the first bad file or a
    /// duplicate uid. The handle re-reads the folder later when it changes.
    pub fn load_dir(dir: impl Into<PathBuf>) -> Result<Self, UiError> {
        let dir = dir.into();
        let stamp = stamp(&dir)?;
        let mut dashboards = Vec::with_capacity(stamp.len());
        for (file, _, _) in &stamp {
            dashboards.push(read_file(&dir, file)?);
        }
        check_unique(&dashboards)?;
        Ok(Dashboards {
            dir: Some(dir),
            state: Arc::new(Mutex::new(Snapshot {
                stamp,
                dashboards,
                warnings: Vec::new(),
                read_once: true,
            })),
        })
    }

    /// A handle over `dir` that reads it on first use and never fails: bad
    /// files become warnings (see [`Dashboards::current`]).
    pub fn watch(dir: impl Into<PathBuf>) -> Self {
        Dashboards {
            dir: Some(dir.into()),
            state: Arc::default(),
        }
    }

    /// The folder, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The dashboards now, sorted by title, and the warnings of the last
    /// reading; re-reads the folder first if any file changed.
    pub fn current(&self) -> (Vec<Dashboard>, Vec<String>) {
        let Some(dir) = &self.dir else {
            return (Vec::new(), Vec::new());
        };
        let mut st = self.state.lock();
        match stamp(dir) {
            Ok(now) => {
                if !st.read_once || now != st.stamp {
                    let (dashboards, warnings) = read_lenient(dir, &now);
                    *st = Snapshot {
                        stamp: now,
                        dashboards,
                        warnings,
                        read_once: true,
                    };
                }
            }
            Err(e) => {
                // A vanished folder keeps the last good list: a deploy that
                // swaps the folder should not blank the UI meanwhile.
                tracing::warn!(error = %e, "cannot list dashboards folder");
                let (d, mut w) = (st.dashboards.clone(), st.warnings.clone());
                w.push(e.to_string());
                return (sorted(d), w);
            }
        }
        (sorted(st.dashboards.clone()), st.warnings.clone())
    }

    /// The dashboard with this uid, if any.
    pub fn get(&self, uid: &str) -> Option<Dashboard> {
        self.current().0.into_iter().find(|d| d.uid == uid)
    }
}

fn sorted(mut d: Vec<Dashboard>) -> Vec<Dashboard> {
    d.sort_by(|a, b| {
        a.title
            .to_lowercase()
            .cmp(&b.title.to_lowercase())
            .then_with(|| a.uid.cmp(&b.uid))
    });
    d
}

fn read_lenient(
    dir: &Path,
    stamp: &[(PathBuf, Option<SystemTime>, u64)],
) -> (Vec<Dashboard>, Vec<String>) {
    let mut out: Vec<Dashboard> = Vec::new();
    let mut warnings = Vec::new();
    for (file, _, _) in stamp {
        match read_file(dir, file) {
            Ok(d) => {
                if let Some(first) = out.iter().find(|o| o.uid == d.uid) {
                    let e = UiError::DuplicateUid {
                        uid: d.uid.clone(),
                        first: first.file.clone(),
                        second: d.file.clone(),
                    };
                    tracing::warn!(error = %e, "dashboard skipped");
                    warnings.push(e.to_string());
                } else {
                    out.push(d);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "dashboard skipped");
                warnings.push(e.to_string());
            }
        }
    }
    (out, warnings)
}

fn check_unique(d: &[Dashboard]) -> Result<(), UiError> {
    for (i, a) in d.iter().enumerate() {
        if let Some(b) = d[..i].iter().find(|b| b.uid == a.uid) {
            return Err(UiError::DuplicateUid {
                uid: a.uid.clone(),
                first: b.file.clone(),
                second: a.file.clone(),
            });
        }
    }
    Ok(())
}

/// Every `*.json` file under `dir` with its modification time and size,
/// sorted by path.
fn stamp(dir: &Path) -> Result<Vec<(PathBuf, Option<SystemTime>, u64)>, UiError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|source| UiError::Io {
            path: d.clone(),
            source,
        })?;
        for entry in rd {
            let entry = entry.map_err(|source| UiError::Io {
                path: d.clone(),
                source,
            })?;
            let path = entry.path();
            // Follow symlinks (Kubernetes config maps are symlink farms) but
            // skip hidden entries such as their `..data` folders.
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(md) = std::fs::metadata(&path) else {
                continue;
            };
            if md.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            {
                out.push((path, md.modified().ok(), md.len()));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_file(dir: &Path, file: &Path) -> Result<Dashboard, UiError> {
    let text = std::fs::read_to_string(file).map_err(|source| UiError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| UiError::Json {
        path: file.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    parse_dashboard(dir, file, value)
}

/// serde_json appends " at line L column C", which the error already carries.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn invalid(file: &Path, field: &str, why: impl Into<String>) -> UiError {
    UiError::Invalid {
        path: file.to_path_buf(),
        field: field.into(),
        why: why.into(),
    }
}

fn parse_dashboard(dir: &Path, file: &Path, value: Value) -> Result<Dashboard, UiError> {
    let mut value = value;
    // Grafana's API export wraps the model: {"dashboard": {...}, "meta": {...}}.
    if let Value::Object(o) = &mut value
        && !o.contains_key("panels")
        && o.get("dashboard").is_some_and(Value::is_object)
        && let Some(inner) = o.remove("dashboard")
    {
        value = inner;
    }
    let Value::Object(mut obj) = value else {
        return Err(invalid(file, "(root)", "a dashboard must be a JSON object"));
    };
    for field in ["panels", "rows"] {
        if let Some(v) = obj.get(field)
            && !v.is_array()
            && !v.is_null()
        {
            return Err(invalid(file, field, "must be an array"));
        }
    }
    if let Some(list) = obj.get("templating").and_then(|t| t.get("list"))
        && !list.is_array()
    {
        return Err(invalid(file, "templating.list", "must be an array"));
    }
    let uid = match obj.get("uid") {
        None | Some(Value::Null) => derived_uid(dir, file),
        Some(Value::String(s)) if s.is_empty() => derived_uid(dir, file),
        Some(Value::String(s)) => {
            if !valid_uid(s) {
                return Err(invalid(
                    file,
                    "uid",
                    format!("{s:?} is not a valid uid (at most 40 of A-Z a-z 0-9 - _ .)"),
                ));
            }
            s.clone()
        }
        Some(_) => return Err(invalid(file, "uid", "must be a string")),
    };
    let title = match obj.get("title") {
        None | Some(Value::Null) => stem(file),
        Some(Value::String(s)) if s.trim().is_empty() => stem(file),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(invalid(file, "title", "must be a string")),
    };
    let tags = match obj.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => {
            let mut tags = Vec::with_capacity(a.len());
            for (i, t) in a.iter().enumerate() {
                match t {
                    Value::String(s) => tags.push(s.clone()),
                    _ => return Err(invalid(file, &format!("tags[{i}]"), "must be a string")),
                }
            }
            tags
        }
        Some(_) => return Err(invalid(file, "tags", "must be an array of strings")),
    };
    obj.insert("uid".into(), Value::String(uid.clone()));
    obj.insert("title".into(), Value::String(title.clone()));
    Ok(Dashboard {
        uid,
        title,
        tags,
        file: file.to_path_buf(),
        json: Arc::new(Value::Object(obj)),
    })
}

fn valid_uid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn stem(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A uid from the file's path below the folder: `team/api.json` gives
/// `team-api`. Long names keep their tail, the most specific part.
fn derived_uid(dir: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(dir).unwrap_or(file).with_extension("");
    let raw = rel.to_string_lossy();
    let mut uid = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            uid.push(c);
        } else if !uid.ends_with('-') {
            uid.push('-');
        }
    }
    let uid = uid.trim_matches('-');
    let uid = if uid.len() > 40 {
        &uid[uid.len() - 40..]
    } else {
        uid
    };
    if uid.is_empty() {
        "dashboard".into()
    } else {
        uid.to_string()
    }
}

/// Grafana's URL slug of a title: lower case, runs of other characters as `-`.
pub fn slugify(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}
