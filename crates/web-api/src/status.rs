//! `/api/v1/status/*`, `/api/v1/metadata` and `/api/v1/query_exemplars`.

use crate::error::ApiError;
use crate::json::{Obj, write_str};
use crate::params::{MAX_TIME_MS, MIN_TIME_MS, Params, format_rfc3339, time_param};
use crate::{ApiState, Success, now_ms};
use watchfire_promql::ast::Expr;

fn ok(data: String) -> Success {
    Success {
        data,
        warnings: Vec::new(),
        infos: Vec::new(),
    }
}

fn time_json(ms: i64) -> String {
    let mut s = String::new();
    write_str(&mut s, &format_rfc3339(i128::from(ms) * 1_000_000));
    s
}

/// `GET /api/v1/status/buildinfo`.
pub fn build_info(state: &ApiState) -> Success {
    let b = &state.build_info;
    let mut out = String::new();
    let mut o = Obj::new(&mut out);
    o.str("version", &b.version)
        .str("revision", &b.revision)
        .str("branch", &b.branch)
        .str("buildUser", &b.build_user)
        .str("buildDate", &b.build_date)
        .str("goVersion", &b.go_version);
    o.end();
    ok(out)
}

/// `GET /api/v1/status/runtimeinfo`: the fields of Prometheus' answer that mean
/// something here (Go runtime fields are left out).
pub fn runtime_info(state: &ApiState) -> Success {
    let r = &state.runtime_info;
    let (reload_ok, config_time) = state
        .config
        .as_ref()
        .map_or((true, r.start_time_ms), |c| c.last_reload());
    let mut out = String::new();
    let mut o = Obj::new(&mut out);
    o.raw("startTime", &time_json(r.start_time_ms))
        .str("CWD", &r.cwd)
        .str("hostname", &r.hostname)
        .raw("serverTime", &time_json(now_ms()))
        .raw(
            "reloadConfigSuccess",
            if reload_ok { "true" } else { "false" },
        )
        .raw("lastConfigTime", &time_json(config_time))
        .raw("corruptionCount", "0")
        .str("storageRetention", &r.storage_retention);
    o.end();
    ok(out)
}

/// `GET /api/v1/status/flags`: every flag and its value, as strings.
pub fn flags(state: &ApiState) -> Success {
    let mut out = String::new();
    let mut o = Obj::new(&mut out);
    for (k, v) in state.flags.iter() {
        o.str(k, v);
    }
    o.end();
    ok(out)
}

/// Prometheus' cap on `limit` of the TSDB status page.
const MAX_TSDB_LIMIT: usize = 10_000;

/// `GET /api/v1/status/tsdb`: head cardinality, top `limit` (default 10) entries.
pub async fn tsdb(state: &ApiState, p: &Params) -> Result<Success, ApiError> {
    let mut limit = 10;
    let s = p.get("limit");
    if !s.is_empty() {
        limit = match s.parse::<i64>() {
            Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => return Err(ApiError::BadData("limit must be a positive number".into())),
        };
        if limit > MAX_TSDB_LIMIT {
            return Err(ApiError::BadData(format!(
                "limit must not exceed {MAX_TSDB_LIMIT}"
            )));
        }
    }
    let source = state.cardinality.clone();
    let stats = tokio::task::spawn_blocking(move || source.cardinality(limit))
        .await
        .map_err(|e| ApiError::Internal(format!("cardinality task failed: {e}")))?;
    let list = |items: &[(String, u64)]| {
        let mut s = String::from("[");
        for (i, (name, value)) in items.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let mut o = Obj::new(&mut s);
            o.str("name", name).raw("value", &value.to_string());
            o.end();
        }
        s.push(']');
        s
    };
    // An empty head reports the extremes, as Prometheus' head does.
    let min_time = stats.min_time.unwrap_or(i64::MAX);
    let max_time = stats.max_time.unwrap_or(i64::MIN);
    let mut head = String::new();
    let mut h = Obj::new(&mut head);
    h.raw("numSeries", &stats.num_series.to_string())
        .raw("minTime", &min_time.to_string())
        .raw("maxTime", &max_time.to_string());
    h.end();
    let mut out = String::new();
    let mut o = Obj::new(&mut out);
    o.raw("headStats", &head)
        .raw(
            "seriesCountByMetricName",
            &list(&stats.series_count_by_metric_name),
        )
        .raw(
            "labelValueCountByLabelName",
            &list(&stats.label_value_count_by_label_name),
        )
        .raw(
            "memoryInBytesByLabelName",
            &list(&stats.memory_in_bytes_by_label_name),
        )
        .raw(
            "seriesCountByLabelValuePair",
            &list(&stats.series_count_by_label_value_pair),
        );
    o.end();
    Ok(ok(out))
}

/// `GET|POST /api/v1/query_exemplars`: no exemplars are stored yet, so a valid
/// request is answered with an empty list, or with no content (204) when the
/// query has no selector, as Prometheus answers then.
pub fn exemplars(state: &ApiState, p: &Params) -> Result<Option<Success>, ApiError> {
    let start = time_param(p, "start", MIN_TIME_MS)?;
    let end = time_param(p, "end", MAX_TIME_MS)?;
    if end < start {
        return Err(ApiError::BadData(
            "end timestamp must not be before start timestamp".into(),
        ));
    }
    let expr = watchfire_promql::parse_with_options(p.get("query"), state.engine.parse_options())
        .map_err(|e| ApiError::BadData(watchfire_promql::QueryError::from(e).to_string()))?;
    Ok(has_selector(&expr).then(|| ok("[]".into())))
}

fn has_selector(e: &Expr) -> bool {
    match e {
        Expr::VectorSelector(_) | Expr::MatrixSelector { .. } => true,
        Expr::Number(_) | Expr::String(_) => false,
        Expr::Subquery { expr, .. } | Expr::Paren(expr) | Expr::Neg(expr) => has_selector(expr),
        Expr::Binary { lhs, rhs, .. } => has_selector(lhs) || has_selector(rhs),
        Expr::Aggregate { expr, param, .. } => {
            has_selector(expr) || param.as_deref().is_some_and(has_selector)
        }
        Expr::Call { args, .. } => args.iter().any(has_selector),
    }
}

/// `GET|POST /api/v1/format_query`: the query printed in canonical form.
pub fn format_query(state: &ApiState, p: &Params) -> Result<Success, ApiError> {
    let expr =
        watchfire_promql::parse_with_options(p.get("query"), state.engine.parse_options())
            .map_err(|e| ApiError::invalid_param("query", watchfire_promql::QueryError::from(e)))?;
    let mut out = String::new();
    write_str(&mut out, &watchfire_promql::format_expr(&expr));
    Ok(ok(out))
}

/// `GET|POST /api/v1/parse_query`: the syntax tree as JSON, in Prometheus' shape.
pub fn parse_query(state: &ApiState, p: &Params) -> Result<Success, ApiError> {
    let expr =
        watchfire_promql::parse_with_options(p.get("query"), state.engine.parse_options())
            .map_err(|e| ApiError::invalid_param("query", watchfire_promql::QueryError::from(e)))?;
    Ok(ok(watchfire_promql::expr_to_json(&expr).to_string()))
}
