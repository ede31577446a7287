//! Cardinality statistics of the head.

use crate::head::Head;
use std::collections::HashMap;
use watchfire_model::METRIC_NAME;
use watchfire_storage::CardinalityStats;

fn top(mut v: Vec<(String, u64)>, limit: usize) -> Vec<(String, u64)> {
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(limit);
    v
}

/// Top-`limit` cardinality lists for the head, like Prometheus' `/api/v1/status/tsdb`.
pub(crate) fn head_cardinality(head: &Head, limit: usize) -> CardinalityStats {
    let index = head.index.read();
    let mut by_metric = Vec::new();
    let mut pairs = Vec::new();
    let mut values_per_name: HashMap<&str, u64> = HashMap::new();
    let mut bytes_per_name: HashMap<&str, u64> = HashMap::new();
    for (name, value, count) in index.pair_counts() {
        if name == METRIC_NAME {
            by_metric.push((value.to_string(), count as u64));
        }
        pairs.push((format!("{name}={value}"), count as u64));
        *values_per_name.entry(name).or_default() += 1;
        *bytes_per_name.entry(name).or_default() += (value.len() * count) as u64;
    }
    let to_vec = |m: HashMap<&str, u64>| {
        m.into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Vec<_>>()
    };
    CardinalityStats {
        num_series: index.num_series() as u64,
        min_time: head.min_time(),
        max_time: head.max_time(),
        series_count_by_metric_name: top(by_metric, limit),
        label_value_count_by_label_name: top(to_vec(values_per_name), limit),
        series_count_by_label_value_pair: top(pairs, limit),
        memory_in_bytes_by_label_name: top(to_vec(bytes_per_name), limit),
    }
}
