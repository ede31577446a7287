use std::collections::BTreeMap;
use std::time::Duration;

use watchfire_scrape::{
    BuiltTarget, ScrapePoolOptions, TargetGroup, build_target, discovered_labels,
    targets_from_group,
};

use crate::harness::relabel;

fn group(targets: &[&str], labels: &[(&str, &str)]) -> TargetGroup {
    TargetGroup {
        targets: targets.iter().map(|s| s.to_string()).collect(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        source: "static:0".to_owned(),
    }
}

fn active(b: &BuiltTarget) -> &watchfire_scrape::Target {
    match b {
        BuiltTarget::Active(t) => t,
        other => panic!("not active: {other:?}"),
    }
}

#[test]
fn discovered_labels_and_defaults() {
    let mut opts = ScrapePoolOptions::new("node");
    opts.scrape_interval = Duration::from_secs(15);
    opts.params = BTreeMap::from([("module".to_owned(), vec!["http_2xx".to_owned()])]);
    let g = group(&["host:9100"], &[("env", "prod"), ("__meta_x", "y")]);
    let d = discovered_labels(&opts, &[("__address__", "host:9100")], &g);
    assert_eq!(
        d.to_string(),
        r#"{__address__="host:9100", __meta_x="y", __metrics_path__="/metrics", __param_module="http_2xx", __scheme__="http", __scrape_interval__="15s", __scrape_timeout__="10s", env="prod", job="node"}"#
    );
    let built = targets_from_group(&opts, &g);
    let t = active(&built[0]);
    // Meta labels go, instance defaults to the address, no default port is added.
    assert_eq!(
        t.labels.to_string(),
        r#"{env="prod", instance="host:9100", job="node"}"#
    );
    assert_eq!(t.url, "http://host:9100/metrics?module=http_2xx");
    assert_eq!(t.interval, Duration::from_secs(15));
    assert_eq!(t.timeout, Duration::from_secs(10));
    assert!(t.full_labels.get("__meta_x").is_none());
    assert_eq!(t.discovered_labels, d);
}

#[test]
fn relabeling_rewrites_address_params_and_drops() {
    let mut opts = ScrapePoolOptions::new("blackbox");
    opts.relabel_configs = relabel(
        r#"
- source_labels: [__address__]
  target_label: __param_target
- source_labels: [__param_target]
  target_label: instance
- target_label: __address__
  replacement: exporter:9115
- source_labels: [__param_target]
  regex: "drop.*"
  action: drop
"#,
    );
    opts.metrics_path = "/probe".to_owned();
    let built = targets_from_group(&opts, &group(&["https://example.com", "dropme"], &[]));
    // A '/' in the discovered address is fine once relabeling replaced it.
    let t = active(&built[0]);
    assert_eq!(
        t.url,
        "http://exporter:9115/probe?target=https%3A%2F%2Fexample.com"
    );
    assert_eq!(t.labels.get("instance"), Some("https://example.com"));
    assert!(matches!(built[1], BuiltTarget::Dropped(_)));
}

#[test]
fn invalid_targets_are_reported_with_prometheus_errors() {
    let opts = ScrapePoolOptions::new("j");
    let err = |b: BuiltTarget| match b {
        BuiltTarget::Failed { error, .. } => error.to_string(),
        other => panic!("not failed: {other:?}"),
    };
    let built = targets_from_group(&opts, &group(&["http://host:80/metrics"], &[]));
    assert_eq!(
        err(built[0].clone()),
        r#""http://host:80/metrics" is not a valid hostname"#
    );

    let d = discovered_labels(&opts, &[("__address__", "")], &TargetGroup::default());
    assert_eq!(err(build_target(&opts, &d)), "no address");

    let g = group(&["h:1"], &[("__scrape_timeout__", "2m")]);
    assert_eq!(
        err(targets_from_group(&opts, &g).remove(0)),
        r#"scrape timeout cannot be greater than scrape interval ("2m" > "1m")"#
    );
    let g = group(&["h:1"], &[("__scrape_interval__", "soon")]);
    assert_eq!(
        err(targets_from_group(&opts, &g).remove(0)),
        r#"error parsing scrape interval: not a valid duration string: "soon""#
    );
}

#[test]
fn target_labels_override_group_labels_and_hash_is_stable() {
    let opts = ScrapePoolOptions::new("j");
    let g = group(&["a:1", "b:2"], &[("instance", "fixed")]);
    let built = targets_from_group(&opts, &g);
    let (a, b) = (active(&built[0]), active(&built[1]));
    assert_eq!(a.labels.get("instance"), Some("fixed"));
    assert_ne!(a.hash, b.hash);
    assert_eq!(a.hash, active(&targets_from_group(&opts, &g)[0]).hash);
}
