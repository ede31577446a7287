//! `/api/v1/series`, `/api/v1/labels` and `/api/v1/label/<name>/values`.

use crate::error::ApiError;
use crate::json::{write_labels, write_str_array};
use crate::params::{MAX_TIME_MS, MIN_TIME_MS, Params, parse_limit, parse_match_sets, time_param};
use crate::{ApiState, Success};
use std::collections::BTreeSet;
use watchfire_model::{Labels, Matcher};
use watchfire_storage::{Querier, SelectHints, StorageError};

const TRUNCATED: &str = "results truncated due to limit";

/// The parameters the three endpoints share.
struct Common {
    limit: usize,
    start: i64,
    end: i64,
    sets: Vec<Vec<Matcher>>,
}

fn common(p: &Params, wrap_match_errors: bool) -> Result<Common, ApiError> {
    let limit = parse_limit(p)?;
    let start = time_param(p, "start", MIN_TIME_MS)?;
    let end = time_param(p, "end", MAX_TIME_MS)?;
    let sets = parse_match_sets(&p.all("match[]")).map_err(|e| {
        // Prometheus prefixes the parameter name for /series only.
        if wrap_match_errors {
            ApiError::invalid_param("match[]", e)
        } else {
            ApiError::BadData(e)
        }
    })?;
    Ok(Common {
        limit,
        start,
        end,
        sets,
    })
}

fn exec(e: StorageError) -> ApiError {
    ApiError::Execution(e.to_string())
}

/// Runs `f` on a querier over the range, on the blocking pool. An empty range
/// (end before start) yields `T::default()` without touching storage.
async fn with_querier<T, F>(state: &ApiState, start: i64, end: i64, f: F) -> Result<T, ApiError>
where
    T: Default + Send + 'static,
    F: FnOnce(&dyn Querier) -> Result<T, StorageError> + Send + 'static,
{
    if end < start {
        return Ok(T::default());
    }
    let storage = state.storage.clone();
    tokio::task::spawn_blocking(move || {
        let q = storage.querier(start, end)?;
        f(q.as_ref())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("storage task failed: {e}")))?
    .map_err(exec)
}

fn truncate<T>(items: &mut Vec<T>, limit: usize, warnings: &mut Vec<String>) {
    if limit > 0 && items.len() > limit {
        items.truncate(limit);
        warnings.push(TRUNCATED.into());
    }
}

/// `GET|POST /api/v1/series`: `match[]` (required), `start`, `end`, `limit`.
pub async fn series(state: &ApiState, p: &Params) -> Result<Success, ApiError> {
    if p.all("match[]").is_empty() {
        return Err(ApiError::BadData("no match[] parameter provided".into()));
    }
    let c = common(p, true)?;
    let (start, end, sets) = (c.start, c.end, c.sets);
    let found: BTreeSet<Labels> = with_querier(state, start, end, move |q| {
        let hints = SelectHints {
            start,
            end,
            labels_only: true,
        };
        let mut all = BTreeSet::new();
        for set in &sets {
            for s in q.select(&hints, set)? {
                all.insert(s?.labels);
            }
        }
        Ok(all)
    })
    .await?;
    let mut list: Vec<Labels> = found.into_iter().collect();
    let mut warnings = Vec::new();
    truncate(&mut list, c.limit, &mut warnings);
    let mut data = String::from("[");
    for (i, l) in list.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        write_labels(&mut data, l);
    }
    data.push(']');
    Ok(Success {
        data,
        warnings,
        infos: Vec::new(),
    })
}

/// `GET|POST /api/v1/labels`: `match[]`, `start`, `end`, `limit`.
pub async fn label_names(state: &ApiState, p: &Params) -> Result<Success, ApiError> {
    let c = common(p, false)?;
    let sets = c.sets;
    let names: BTreeSet<String> = with_querier(state, c.start, c.end, move |q| {
        let mut all = BTreeSet::new();
        if sets.is_empty() {
            all.extend(q.label_names(&[])?);
        }
        for set in &sets {
            all.extend(q.label_names(set)?);
        }
        Ok(all)
    })
    .await?;
    string_list(names, c.limit)
}

/// `GET /api/v1/label/<name>/values`: `match[]`, `start`, `end`, `limit`.
pub async fn label_values(state: &ApiState, name: &str, p: &Params) -> Result<Success, ApiError> {
    let name = unescape_name(name);
    if name.is_empty() {
        return Err(ApiError::BadData(format!(
            "invalid label name: {}",
            crate::error::go_quote(&name)
        )));
    }
    let c = common(p, false)?;
    let sets = c.sets;
    let values: BTreeSet<String> = with_querier(state, c.start, c.end, move |q| {
        let mut all = BTreeSet::new();
        if sets.is_empty() {
            all.extend(q.label_values(&name, &[])?);
        }
        for set in &sets {
            all.extend(q.label_values(&name, set)?);
        }
        Ok(all)
    })
    .await?;
    string_list(values, c.limit)
}

fn string_list(items: BTreeSet<String>, limit: usize) -> Result<Success, ApiError> {
    let mut list: Vec<String> = items.into_iter().collect();
    let mut warnings = Vec::new();
    truncate(&mut list, limit, &mut warnings);
    let mut data = String::new();
    write_str_array(&mut data, &list);
    Ok(Success {
        data,
        warnings,
        infos: Vec::new(),
    })
}

/// Label names in the path may use Prometheus' `U__` escaping for names that
/// are not plain identifiers: `_` is `__`, any character is `_<hex code>_`.
/// A malformed escape leaves the name as given.
fn unescape_name(name: &str) -> String {
    let Some(rest) = name.strip_prefix("U__") else {
        return name.to_string();
    };
    let mut out = String::with_capacity(rest.len());
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'_') {
            chars.next();
            out.push('_');
            continue;
        }
        let mut hex = String::new();
        loop {
            match chars.next() {
                Some('_') => break,
                Some(h) if h.is_ascii_hexdigit() => hex.push(h),
                _ => return name.to_string(),
            }
        }
        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
            Some(ch) => out.push(ch),
            None => return name.to_string(),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_names() {
        assert_eq!(unescape_name("job"), "job");
        assert_eq!(unescape_name("U__my_2e_label"), "my.label");
        assert_eq!(unescape_name("U__a__b"), "a_b");
        assert_eq!(unescape_name("U__bad_zz_"), "U__bad_zz_");
    }
}
