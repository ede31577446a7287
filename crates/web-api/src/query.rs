//! `/api/v1/query` and `/api/v1/query_range`.

use crate::error::ApiError;
use crate::json::{Obj, write_go_json_float, write_labels, write_point, write_str};
use crate::params::{Params, parse_duration, parse_limit, parse_time, time_param};
use crate::{ApiState, Success, now_ms};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use watchfire_promql::ast::{Expr, ValueType};
use watchfire_promql::{Engine, QueryResult, SampleStats, Value};

/// Prometheus' cap on the points of one series of a range query.
const MAX_POINTS_PER_SERIES: i128 = 11_000;
const TRUNCATED: &str = "results truncated due to limit";

/// Per-request engine settings from `timeout`, `lookback_delta` and `stats`.
fn engine_for(state: &ApiState, p: &Params) -> Result<Engine, ApiError> {
    let mut opts = state.engine.options().clone();
    opts.count_queryable_samples = !p.get("stats").is_empty();
    let to = p.get("timeout");
    if !to.is_empty() {
        let ns = parse_duration(to).map_err(|e| ApiError::invalid_param("timeout", e))?;
        // A negative timeout has already expired, as a Go context deadline would.
        let requested = Duration::from_nanos(u64::try_from(ns).unwrap_or(0));
        opts.timeout = opts.timeout.min(requested);
    }
    let lb = p.get("lookback_delta");
    if !lb.is_empty() {
        let ns = parse_duration(lb).map_err(|e| {
            ApiError::BadData(format!("error parsing lookback delta duration: {e}"))
        })?;
        if ns > 0 {
            opts.lookback_delta_ms = (ns / 1_000_000).max(1);
        }
    }
    Ok(Engine::new(opts).with_parse_options(*state.engine.parse_options()))
}

/// Where a query's time went, for the `stats` parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Parsing and checking the query.
    pub preparation: Duration,
    /// Waiting for a query slot (`--query.max-concurrency`).
    pub queue: Duration,
    /// Evaluating it.
    pub eval: Duration,
}

/// What the `stats` parameter asks for: any non-empty value includes the statistics, as
/// in Prometheus; values other than `true` and `all` get Prometheus' deprecation warning.
fn stats_param(p: &Params) -> (bool, Option<String>) {
    match p.get("stats") {
        "" => (false, None),
        "true" | "all" => (true, None),
        other => (
            true,
            Some(format!(
                "value {other:?} for parameter \"stats\" is deprecated and will be rejected in the next major release, use \"true\" or \"all\""
            )),
        ),
    }
}

fn parse_query(state: &ApiState, p: &Params) -> Result<Expr, ApiError> {
    watchfire_promql::parse_with_options(p.get("query"), state.engine.parse_options())
        .map_err(|e| ApiError::invalid_param("query", watchfire_promql::QueryError::from(e)))
}

/// Evaluates on the blocking pool: evaluation is CPU-bound and may read disk.
async fn evaluate(
    state: &ApiState,
    engine: Engine,
    expr: Expr,
    (start, end, step): (i64, i64, i64),
    range: bool,
    timings: &mut Timings,
) -> Result<QueryResult, ApiError> {
    // Wait for a slot no longer than the query may run, as Prometheus' query
    // queue does; the permit lives until evaluation ends.
    let queued = std::time::Instant::now();
    let slot = tokio::time::timeout(
        engine.options().timeout,
        state.query_slots.clone().acquire_owned(),
    )
    .await
    .map_err(|_| ApiError::Timeout("query timed out in query queue".into()))?
    .map_err(|_| ApiError::Unavailable("the server is shutting down".into()))?;
    timings.queue = queued.elapsed();
    let storage = state.storage.clone();
    state.query_stats.queries_running.fetch_add(1, Relaxed);
    let started = std::time::Instant::now();
    let result = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        engine.eval_expr(storage.as_ref(), &expr, start, end, step, range)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("query evaluation task failed: {e}")))
    .and_then(|r| r.map_err(ApiError::from_query));
    let stats = &state.query_stats;
    stats.queries_running.fetch_sub(1, Relaxed);
    stats.queries_total.fetch_add(1, Relaxed);
    if result.is_err() {
        stats.queries_failed_total.fetch_add(1, Relaxed);
    }
    timings.eval = started.elapsed();
    let micros = u64::try_from(timings.eval.as_micros()).unwrap_or(u64::MAX);
    stats.evaluation_micros_total.fetch_add(micros, Relaxed);
    result
}

/// `GET|POST /api/v1/query`: `query`, `time`, `timeout`, `limit`, `lookback_delta`,
/// `stats`.
pub async fn instant(state: &ApiState, p: &Params) -> Result<Success, ApiError> {
    let limit = parse_limit(p)?;
    let t = time_param(p, "time", now_ms())?;
    let engine = engine_for(state, p)?;
    let mut timings = Timings::default();
    let prepared = std::time::Instant::now();
    let expr = parse_query(state, p)?;
    timings.preparation = prepared.elapsed();
    let res = evaluate(state, engine, expr, (t, t, 1), false, &mut timings).await?;
    let samples = res.samples;
    Ok(with_stats(render(res, limit), p, samples, &timings))
}

/// `GET|POST /api/v1/query_range`: `query`, `start`, `end`, `step`, `timeout`,
/// `limit`, `lookback_delta`, `stats`.
pub async fn range(state: &ApiState, p: &Params) -> Result<Success, ApiError> {
    let limit = parse_limit(p)?;
    let start = parse_time(p.get("start")).map_err(|e| ApiError::invalid_param("start", e))?;
    let end = parse_time(p.get("end")).map_err(|e| ApiError::invalid_param("end", e))?;
    if end < start {
        return Err(ApiError::invalid_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    let step_ns = parse_duration(p.get("step")).map_err(|e| ApiError::invalid_param("step", e))?;
    if step_ns <= 0 {
        return Err(ApiError::invalid_param(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    // Go's time.Sub saturates at the int64 nanosecond range; so do we.
    let span_ns = ((i128::from(end) - i128::from(start)) * 1_000_000).min(i128::from(i64::MAX));
    if span_ns / i128::from(step_ns) > MAX_POINTS_PER_SERIES {
        return Err(ApiError::BadData(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
        ));
    }
    let engine = engine_for(state, p)?;
    let mut timings = Timings::default();
    let prepared = std::time::Instant::now();
    let expr = parse_query(state, p)?;
    timings.preparation = prepared.elapsed();
    match expr.value_type() {
        ValueType::Scalar | ValueType::Vector => {}
        other => {
            let name = if other == ValueType::String {
                "string"
            } else {
                "range vector"
            };
            return Err(ApiError::invalid_param(
                "query",
                format!(
                    "invalid expression type \"{name}\" for range query, must be Scalar or instant Vector"
                ),
            ));
        }
    }
    let step_ms = (step_ns / 1_000_000).max(1);
    let res = evaluate(
        state,
        engine,
        expr,
        (start, end, step_ms),
        true,
        &mut timings,
    )
    .await?;
    let samples = res.samples;
    Ok(with_stats(render(res, limit), p, samples, &timings))
}

/// Adds Prometheus' `stats` object to `data` when the request asked for it:
/// `{"timings":{...seconds...},"samples":{"totalQueryableSamples":N,"samplesRead":N,"peakSamples":N}}`.
fn with_stats(mut out: Success, p: &Params, s: SampleStats, t: &Timings) -> Success {
    let (wanted, warning) = stats_param(p);
    if !wanted {
        return out;
    }
    out.warnings.extend(warning);
    let mut stats = String::new();
    let mut o = Obj::new(&mut stats);
    {
        let buf = o.key("timings");
        let mut timings = Obj::new(buf);
        let secs = |d: Duration| d.as_secs_f64();
        let total = t.preparation + t.queue + t.eval;
        for (name, v) in [
            ("evalTotalTime", secs(t.preparation + t.eval)),
            // Sorting happens inside evaluation here and is counted in innerEvalTime.
            ("resultSortTime", 0.0),
            ("queryPreparationTime", secs(t.preparation)),
            ("innerEvalTime", secs(t.eval)),
            ("execQueueTime", secs(t.queue)),
            ("execTotalTime", secs(total)),
        ] {
            write_go_json_float(timings.key(name), v);
        }
        timings.end();
    }
    {
        let buf = o.key("samples");
        let mut samples = Obj::new(buf);
        let n = |v: u64| v.to_string();
        samples.raw(
            "totalQueryableSamples",
            &n(s.total_queryable.unwrap_or(s.read)),
        );
        samples.raw("samplesRead", &n(s.read));
        samples.raw("peakSamples", &n(s.peak));
        samples.end();
    }
    o.end();
    // `data` is a finished JSON object: splice the field in before its closing brace.
    if out.data.ends_with('}') {
        out.data.pop();
        out.data.push_str(",\"stats\":");
        out.data.push_str(&stats);
        out.data.push('}');
    }
    out
}

/// Turns a result into `{"resultType":...,"result":...}` plus annotations,
/// keeping at most `limit` series (0: all).
pub fn render(res: QueryResult, limit: usize) -> Success {
    let mut warnings = res.warnings;
    let mut out = String::new();
    let mut o = Obj::new(&mut out);
    match res.value {
        Value::Vector(mut v) => {
            if limit > 0 && v.len() > limit {
                v.truncate(limit);
                warnings.push(TRUNCATED.into());
            }
            o.str("resultType", "vector");
            let buf = o.key("result");
            buf.push('[');
            for (i, s) in v.iter().enumerate() {
                if i > 0 {
                    buf.push(',');
                }
                buf.push_str("{\"metric\":");
                write_labels(buf, &s.labels);
                buf.push_str(",\"value\":");
                write_point(buf, s.t, s.v);
                buf.push('}');
            }
            buf.push(']');
        }
        Value::Matrix(mut m) => {
            if limit > 0 && m.len() > limit {
                m.truncate(limit);
                warnings.push(TRUNCATED.into());
            }
            o.str("resultType", "matrix");
            let buf = o.key("result");
            buf.push('[');
            for (i, s) in m.iter().enumerate() {
                if i > 0 {
                    buf.push(',');
                }
                buf.push_str("{\"metric\":");
                write_labels(buf, &s.labels);
                // Prometheus leaves "values" out of a series without float points.
                if !s.points.is_empty() {
                    buf.push_str(",\"values\":[");
                    for (j, (t, v)) in s.points.iter().enumerate() {
                        if j > 0 {
                            buf.push(',');
                        }
                        write_point(buf, *t, *v);
                    }
                    buf.push(']');
                }
                buf.push('}');
            }
            buf.push(']');
        }
        Value::Scalar { t, v } => {
            o.str("resultType", "scalar");
            // Encoded by Go's encoding/json: float seconds, value in 'f' notation.
            let buf = o.key("result");
            buf.push('[');
            write_go_json_float(buf, t as f64 / 1000.0);
            buf.push_str(",\"");
            buf.push_str(&crate::json::format_f(v));
            buf.push_str("\"]");
        }
        Value::String { t, v } => {
            o.str("resultType", "string");
            let buf = o.key("result");
            buf.push('[');
            write_go_json_float(buf, t as f64 / 1000.0);
            buf.push(',');
            write_str(buf, &v);
            buf.push(']');
        }
    }
    o.end();
    Success {
        data: out,
        warnings,
        infos: res.infos,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchfire_model::Labels;
    use watchfire_promql::{RangeSeries, VectorSample};

    fn res(value: Value) -> QueryResult {
        QueryResult {
            value,
            warnings: vec![],
            infos: vec![],
            samples: SampleStats::default(),
        }
    }

    #[test]
    fn renders_vectors() {
        let v = Value::Vector(vec![
            VectorSample {
                labels: Labels::from_pairs([("__name__", "foo")]),
                t: 1000,
                v: 1.0,
            },
            VectorSample {
                labels: Labels::from_pairs([("__name__", "bar")]),
                t: 2000,
                v: 2.0,
            },
        ]);
        let s = render(res(v.clone()), 0);
        assert_eq!(
            s.data,
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"foo"},"value":[1,"1"]},{"metric":{"__name__":"bar"},"value":[2,"2"]}]}"#
        );
        assert!(s.warnings.is_empty());
        let s = render(res(v), 1);
        assert_eq!(
            s.data,
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"foo"},"value":[1,"1"]}]}"#
        );
        assert_eq!(s.warnings, vec![TRUNCATED.to_string()]);
        let s = render(res(Value::Vector(vec![])), 0);
        assert_eq!(s.data, r#"{"resultType":"vector","result":[]}"#);
    }

    #[test]
    fn renders_matrices() {
        let m = Value::Matrix(vec![
            RangeSeries {
                labels: Labels::from_pairs([("__name__", "foo")]),
                points: vec![(1000, 1.0), (1500, 1e-7)],
            },
            RangeSeries {
                labels: Labels::empty(),
                points: vec![],
            },
        ]);
        assert_eq!(
            render(res(m), 0).data,
            r#"{"resultType":"matrix","result":[{"metric":{"__name__":"foo"},"values":[[1,"1"],[1.500,"1e-07"]]},{"metric":{}}]}"#
        );
    }

    #[test]
    fn renders_scalars_and_strings() {
        let s = render(
            res(Value::Scalar {
                t: 1_435_781_451_780,
                v: 1e21,
            }),
            0,
        );
        assert_eq!(
            s.data,
            r#"{"resultType":"scalar","result":[1435781451.78,"1000000000000000000000"]}"#
        );
        let s = render(
            res(Value::String {
                t: 1000,
                v: "a<b".into(),
            }),
            0,
        );
        assert_eq!(s.data, r#"{"resultType":"string","result":[1,"a\u003cb"]}"#);
    }

    #[test]
    fn waits_for_a_query_slot_until_the_timeout() {
        let mut st = ApiState::new(std::sync::Arc::new(crate::NoStore));
        st.query_slots = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let p = Params::from_parts(Some("query=1&timeout=20ms"), None);
        let err = rt.block_on(instant(&st, &p)).unwrap_err();
        assert!(matches!(err, ApiError::Timeout(ref m) if m.contains("query queue")));
        st.query_slots.add_permits(1);
        let ok = rt.block_on(instant(&st, &p)).unwrap();
        assert!(ok.data.contains("\"scalar\""));
        assert_eq!(st.query_slots.available_permits(), 1);
    }
}
