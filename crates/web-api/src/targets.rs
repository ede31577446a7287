//! `/api/v1/targets`, `/api/v1/targets/metadata`, `/api/v1/metadata`,
//! `/api/v1/scrape_pools`, `/api/v1/rules`, `/api/v1/alerts` and
//! `/api/v1/status/config`: answers built from the [`crate::providers`].

use crate::error::ApiError;
use crate::json::{Obj, write_go_json_float, write_str, write_str_array};
use crate::params::{Params, format_rfc3339, parse_match_sets};
use crate::providers::{RulesFilter, TargetMetadata};
use crate::{ApiState, Success};
use std::collections::BTreeMap;
use watchfire_model::Labels;

fn ok(data: String) -> Success {
    Success {
        data,
        warnings: Vec::new(),
        infos: Vec::new(),
    }
}

fn write_map(out: &mut String, map: &BTreeMap<String, String>) {
    let mut o = Obj::new(out);
    for (k, v) in map {
        o.str(k, v);
    }
    o.end();
}

fn map_json(map: &BTreeMap<String, String>) -> String {
    let mut s = String::new();
    write_map(&mut s, map);
    s
}

/// Go's zero `time.Time` in JSON: what Prometheus shows before a first scrape.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `GET /api/v1/targets`, with the `state` (`active`, `dropped`, `any`) and
/// `scrapePool` filters.
pub fn targets(state: &ApiState, p: &Params) -> Success {
    let wanted = p.get("state").trim().to_ascii_lowercase();
    let show_active = matches!(wanted.as_str(), "" | "any" | "active");
    let show_dropped = matches!(wanted.as_str(), "" | "any" | "dropped");
    let pool = p.get("scrapePool");
    let in_pool = |name: &str| pool.is_empty() || pool == name;
    let mut active = String::from("[");
    let mut dropped = String::from("[");
    let mut counts = BTreeMap::new();
    if let Some(tp) = &state.targets {
        if show_active {
            let mut list = tp.active_targets();
            list.retain(|t| in_pool(&t.scrape_pool));
            list.sort_by(|a, b| {
                (&a.scrape_pool, &a.scrape_url).cmp(&(&b.scrape_pool, &b.scrape_url))
            });
            for (i, t) in list.iter().enumerate() {
                if i > 0 {
                    active.push(',');
                }
                let mut duration = String::new();
                write_go_json_float(&mut duration, t.last_scrape_duration_seconds);
                let mut last = String::new();
                match t.last_scrape_ms {
                    Some(ms) => write_str(&mut last, &format_rfc3339(i128::from(ms) * 1_000_000)),
                    None => write_str(&mut last, GO_ZERO_TIME),
                }
                let mut o = Obj::new(&mut active);
                o.raw("discoveredLabels", &map_json(&t.discovered_labels))
                    .raw("labels", &map_json(&t.labels))
                    .str("scrapePool", &t.scrape_pool)
                    .str("scrapeUrl", &t.scrape_url)
                    .str("globalUrl", &t.global_url)
                    .str("lastError", &t.last_error)
                    .raw("lastScrape", &last)
                    .raw("lastScrapeDuration", &duration)
                    .str("health", &t.health)
                    .str("scrapeInterval", &t.scrape_interval)
                    .str("scrapeTimeout", &t.scrape_timeout);
                o.end();
            }
        }
        if show_dropped {
            let mut n = 0;
            for t in tp.dropped_targets() {
                if !in_pool(&t.scrape_pool) {
                    continue;
                }
                if n > 0 {
                    dropped.push(',');
                }
                n += 1;
                let mut o = Obj::new(&mut dropped);
                o.raw("discoveredLabels", &map_json(&t.discovered_labels))
                    .str("scrapePool", &t.scrape_pool);
                o.end();
            }
            counts = tp.dropped_target_counts();
            counts.retain(|name, _| in_pool(name));
        }
    }
    active.push(']');
    dropped.push(']');
    let mut out = String::new();
    let mut o = Obj::new(&mut out);
    if show_active {
        o.raw("activeTargets", &active);
    }
    if show_dropped {
        o.raw("droppedTargets", &dropped);
        let mut c = String::new();
        let mut co = Obj::new(&mut c);
        for (k, v) in &counts {
            co.raw(k, &v.to_string());
        }
        co.end();
        o.raw("droppedTargetCounts", &c);
    }
    o.end();
    ok(out)
}

/// `GET /api/v1/scrape_pools`.
pub fn scrape_pools(state: &ApiState) -> Success {
    let mut pools = state
        .targets
        .as_ref()
        .map(|t| t.scrape_pools())
        .unwrap_or_default();
    pools.sort();
    let mut list = String::new();
    write_str_array(&mut list, &pools);
    let mut out = String::new();
    let mut o = Obj::new(&mut out);
    o.raw("scrapePools", &list);
    o.end();
    ok(out)
}

fn optional_limit(p: &Params, name: &str) -> Result<Option<usize>, ApiError> {
    let s = p.get(name);
    if s.is_empty() {
        return Ok(None);
    }
    let n: i64 = s
        .parse()
        .map_err(|_| ApiError::BadData(format!("{name} must be a number")))?;
    // Prometheus treats a negative limit as "no limit".
    Ok(usize::try_from(n).ok())
}

/// `GET /api/v1/targets/metadata` with `match_target`, `metric` and `limit`.
pub fn targets_metadata(state: &ApiState, p: &Params) -> Result<Success, ApiError> {
    let limit = optional_limit(p, "limit")?;
    let metric = p.get("metric");
    let selector = p.get("match_target");
    let matchers = if selector.is_empty() {
        Vec::new()
    } else {
        let mut sets = parse_match_sets(&[selector]).map_err(ApiError::BadData)?;
        sets.pop().unwrap_or_default()
    };
    let all: Vec<TargetMetadata> = state
        .targets
        .as_ref()
        .map(|t| t.metadata())
        .unwrap_or_default();
    let mut out = String::from("[");
    let mut n = 0usize;
    for m in &all {
        if limit.is_some_and(|l| n >= l) {
            break;
        }
        if !metric.is_empty() && m.metadata.metric != metric {
            continue;
        }
        let labels = Labels::from_pairs(m.target.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if !matchers.iter().all(|mt| mt.matches_labels(&labels)) {
            continue;
        }
        if n > 0 {
            out.push(',');
        }
        n += 1;
        let mut o = Obj::new(&mut out);
        o.raw("target", &map_json(&m.target));
        if metric.is_empty() {
            o.str("metric", &m.metadata.metric);
        }
        o.str("type", &m.metadata.metric_type)
            .str("help", &m.metadata.help)
            .str("unit", &m.metadata.unit);
        o.end();
    }
    out.push(']');
    Ok(ok(out))
}

/// `GET /api/v1/metadata` with `limit`, `limit_per_metric` and `metric`:
/// distinct metadata per metric family across all targets.
pub fn metadata(state: &ApiState, p: &Params) -> Result<Success, ApiError> {
    let limit = optional_limit(p, "limit")?;
    let per_metric = optional_limit(p, "limit_per_metric")?;
    let metric = p.get("metric");
    let all: Vec<TargetMetadata> = state
        .targets
        .as_ref()
        .map(|t| t.metadata())
        .unwrap_or_default();
    let mut families: BTreeMap<&str, Vec<(&str, &str, &str)>> = BTreeMap::new();
    for m in &all {
        let md = &m.metadata;
        if !metric.is_empty() && md.metric != metric {
            continue;
        }
        let entry = families.entry(md.metric.as_str()).or_default();
        let item = (md.metric_type.as_str(), md.help.as_str(), md.unit.as_str());
        if !entry.contains(&item) {
            entry.push(item);
        }
    }
    let mut out = String::new();
    let mut o = Obj::new(&mut out);
    for (i, (name, items)) in families.iter().enumerate() {
        if limit.is_some_and(|l| i >= l) {
            break;
        }
        let mut list = String::from("[");
        for (j, (t, h, u)) in items.iter().enumerate() {
            if per_metric.is_some_and(|l| j >= l) {
                break;
            }
            if j > 0 {
                list.push(',');
            }
            let mut e = Obj::new(&mut list);
            e.str("type", t).str("help", h).str("unit", u);
            e.end();
        }
        list.push(']');
        o.raw(name, &list);
    }
    o.end();
    Ok(ok(out))
}

/// `GET /api/v1/rules` with `type`, `rule_name[]`, `rule_group[]`, `file[]`
/// and `exclude_alerts`.
pub fn rules(state: &ApiState, p: &Params) -> Result<Success, ApiError> {
    let rule_type = p.get("type").to_ascii_lowercase();
    if !matches!(rule_type.as_str(), "" | "alert" | "record") {
        return Err(ApiError::BadData(format!(
            "not supported value {}",
            crate::error::go_quote(&rule_type)
        )));
    }
    let exclude = p.get("exclude_alerts");
    let exclude_alerts = match exclude {
        "" | "false" | "0" | "f" | "F" | "FALSE" | "False" => false,
        "true" | "1" | "t" | "T" | "TRUE" | "True" => true,
        other => {
            return Err(ApiError::BadData(format!(
                "parsing exclude_alerts: strconv.ParseBool: parsing {}: invalid syntax",
                crate::error::go_quote(other)
            )));
        }
    };
    let owned = |name: &str| p.all(name).into_iter().map(String::from).collect();
    let filter = RulesFilter {
        rule_type,
        rule_names: owned("rule_name[]"),
        rule_groups: owned("rule_group[]"),
        files: owned("file[]"),
        exclude_alerts,
    };
    let data = match &state.rules {
        Some(r) => r.rules(&filter),
        None => serde_json::json!({ "groups": [] }),
    };
    Ok(ok(data.to_string()))
}

/// `GET /api/v1/alerts`.
pub fn alerts(state: &ApiState) -> Success {
    let data = match &state.rules {
        Some(r) => r.alerts(),
        None => serde_json::json!({ "alerts": [] }),
    };
    ok(data.to_string())
}

/// `GET /api/v1/status/config`.
pub fn config(state: &ApiState) -> Success {
    let yaml = state
        .config
        .as_ref()
        .map(|c| c.config_yaml())
        .unwrap_or_default();
    let mut out = String::new();
    let mut o = Obj::new(&mut out);
    o.str("yaml", &yaml);
    o.end();
    ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{DroppedTargetInfo, MetricMetadata, TargetInfo, TargetsProvider};
    use std::sync::Arc;

    struct Fake;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    impl TargetsProvider for Fake {
        fn active_targets(&self) -> Vec<TargetInfo> {
            vec![
                TargetInfo {
                    labels: labels(&[("job", "node"), ("instance", "b:9100")]),
                    scrape_pool: "node".into(),
                    scrape_url: "http://b:9100/metrics".into(),
                    health: "unknown".into(),
                    ..TargetInfo::default()
                },
                TargetInfo {
                    labels: labels(&[("job", "app"), ("instance", "a:80")]),
                    scrape_pool: "app".into(),
                    scrape_url: "http://a:80/metrics".into(),
                    last_scrape_ms: Some(1_700_000_000_123),
                    last_scrape_duration_seconds: 0.0125,
                    health: "up".into(),
                    ..TargetInfo::default()
                },
            ]
        }
        fn dropped_targets(&self) -> Vec<DroppedTargetInfo> {
            vec![DroppedTargetInfo {
                discovered_labels: labels(&[("__address__", "c:1")]),
                scrape_pool: "node".into(),
            }]
        }
        fn dropped_target_counts(&self) -> BTreeMap<String, u64> {
            [("node".to_string(), 3)].into_iter().collect()
        }
        fn scrape_pools(&self) -> Vec<String> {
            vec!["node".into(), "app".into()]
        }
        fn metadata(&self) -> Vec<TargetMetadata> {
            let md = |job: &str, metric: &str, help: &str| TargetMetadata {
                target: labels(&[("job", job)]),
                metadata: MetricMetadata {
                    metric: metric.into(),
                    metric_type: "counter".into(),
                    help: help.into(),
                    unit: String::new(),
                },
            };
            vec![
                md("node", "a_total", "A."),
                md("app", "a_total", "A."),
                md("app", "a_total", "Other."),
                md("app", "b_total", "B."),
            ]
        }
    }

    fn state() -> ApiState {
        let mut st = ApiState::new(Arc::new(crate::NoStore));
        st.targets = Some(Arc::new(Fake));
        st
    }

    fn json(s: Success) -> serde_json::Value {
        serde_json::from_str(&s.data).unwrap()
    }

    #[test]
    fn targets_sorted_filtered_and_shaped() {
        let st = state();
        let all = json(targets(&st, &Params::from_parts(None, None)));
        let active = all["activeTargets"].as_array().unwrap();
        assert_eq!(active.len(), 2);
        assert_eq!(active[0]["scrapePool"], "app");
        assert_eq!(active[0]["lastScrape"], "2023-11-14T22:13:20.123Z");
        assert_eq!(active[0]["lastScrapeDuration"], 0.0125);
        assert_eq!(active[1]["lastScrape"], GO_ZERO_TIME);
        assert_eq!(all["droppedTargetCounts"]["node"], 3);
        let dropped_only = json(targets(
            &st,
            &Params::from_parts(Some("state=dropped"), None),
        ));
        assert!(dropped_only.get("activeTargets").is_none());
        assert_eq!(dropped_only["droppedTargets"].as_array().unwrap().len(), 1);
        let pool = json(targets(
            &st,
            &Params::from_parts(Some("scrapePool=node"), None),
        ));
        assert_eq!(pool["activeTargets"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn metadata_dedups_and_limits() {
        let st = state();
        let all = json(metadata(&st, &Params::from_parts(None, None)).unwrap());
        assert_eq!(all["a_total"].as_array().unwrap().len(), 2);
        let limited = json(
            metadata(
                &st,
                &Params::from_parts(Some("limit=1&limit_per_metric=1"), None),
            )
            .unwrap(),
        );
        assert_eq!(limited.as_object().unwrap().len(), 1);
        assert_eq!(limited["a_total"].as_array().unwrap().len(), 1);
        let by_target = json(
            targets_metadata(
                &st,
                &Params::from_parts(Some("match_target=%7Bjob%3D%22app%22%7D"), None),
            )
            .unwrap(),
        );
        assert_eq!(by_target.as_array().unwrap().len(), 3);
        assert_eq!(by_target[0]["metric"], "a_total");
        assert!(metadata(&st, &Params::from_parts(Some("limit=x"), None)).is_err());
    }

    #[test]
    fn rules_filter_validation() {
        let st = state();
        assert!(rules(&st, &Params::from_parts(Some("type=foo"), None)).is_err());
        assert!(rules(&st, &Params::from_parts(Some("exclude_alerts=maybe"), None)).is_err());
        let r = json(rules(&st, &Params::from_parts(Some("type=alert"), None)).unwrap());
        assert_eq!(r["groups"].as_array().unwrap().len(), 0);
        assert_eq!(json(scrape_pools(&st))["scrapePools"][0], "app");
    }
}
