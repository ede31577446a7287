use crate::common::*;
use watchfire_model::{Labels, is_stale_nan};
use watchfire_rules::{AlertState, Health, Rule, RulesFilter, alerts_snapshot, rules_snapshot};

const RULES: &str = r#"
groups:
  - name: g
    labels:
      team: infra
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        labels:
          severity: page
        annotations:
          summary: "Instance {{ $labels.instance }} down"
"#;

fn alert_rule(g: &watchfire_rules::Group) -> &watchfire_rules::AlertingRule {
    match &g.rules[0] {
        Rule::Alerting(a) => a,
        Rule::Recording(_) => panic!("expected alerting rule"),
    }
}

#[test]
fn pending_firing_resolved_and_notifications() {
    let e = env();
    let mut gs = groups(RULES, &e.opts, false);
    let g = &mut gs[0];
    for m in 0..=30 {
        let v = if m < 8 { 0.0 } else { 1.0 };
        put(&e.store, r#"up{job="a",instance="h:1"}"#, m * MIN, v);
    }
    for m in 0..5 {
        g.eval(m * MIN, &e.opts);
        let a = alert_rule(g);
        assert_eq!(a.state(), Some(AlertState::Pending));
        let al = a.active_alerts()[0].clone();
        assert_eq!(al.state, AlertState::Pending, "at {m}m");
        assert_eq!(al.active_at, 0);
    }
    assert!(e.sent.0.lock().is_empty(), "pending alerts are not sent");
    g.eval(5 * MIN, &e.opts);
    let al = alert_rule(g).active_alerts()[0].clone();
    assert_eq!(al.state, AlertState::Firing);
    assert_eq!(al.fired_at, Some(5 * MIN));
    assert_eq!(
        al.labels.to_string(),
        r#"{alertname="InstanceDown", instance="h:1", job="a", severity="page", team="infra"}"#
    );
    assert_eq!(al.annotations["summary"], "Instance h:1 down");
    {
        let sent = e.sent.0.lock();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].starts_at, 5 * MIN);
        assert_eq!(sent[0].ends_at, Some(5 * MIN + 4 * MIN));
        assert_eq!(
            sent[0].generator_url,
            "http://wf:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
        );
    }
    g.eval(6 * MIN, &e.opts);
    assert_eq!(
        e.sent.0.lock().len(),
        1,
        "resend delay of 1m not yet passed"
    );
    g.eval(7 * MIN, &e.opts);
    assert_eq!(e.sent.0.lock().len(), 2, "re-sent after the resend delay");
    g.eval(8 * MIN, &e.opts);
    let a = alert_rule(g);
    assert!(a.active_alerts().is_empty());
    let resolved = a.active.values().next().unwrap();
    assert_eq!(resolved.state, AlertState::Inactive);
    assert_eq!(resolved.resolved_at, Some(8 * MIN));
    {
        let sent = e.sent.0.lock();
        assert_eq!(sent.len(), 3, "resolved alert sent at once");
        assert_eq!(sent[2].ends_at, Some(8 * MIN));
    }
    // Resolved alerts are kept (and re-sent) for 15 minutes, then dropped.
    g.eval(23 * MIN, &e.opts);
    assert_eq!(alert_rule(g).active.len(), 1);
    g.eval(24 * MIN, &e.opts);
    assert_eq!(alert_rule(g).active.len(), 0);

    // ALERTS and ALERTS_FOR_STATE series.
    let pending = labels(
        r#"ALERTS{alertname="InstanceDown",alertstate="pending",instance="h:1",job="a",severity="page",team="infra"}"#,
    );
    let firing = labels(
        r#"ALERTS{alertname="InstanceDown",alertstate="firing",instance="h:1",job="a",severity="page",team="infra"}"#,
    );
    let p = e.store.samples(&pending);
    assert_eq!(p.iter().filter(|s| !is_stale_nan(s.v)).count(), 5);
    assert!(
        is_stale_nan(p.last().unwrap().v),
        "pending series marked stale when firing"
    );
    assert_eq!(p.last().unwrap().t, 5 * MIN);
    let f = e.store.samples(&firing);
    assert_eq!(f.iter().filter(|s| s.v == 1.0).count(), 3);
    assert!(is_stale_nan(f.last().unwrap().v));
    assert_eq!(f.last().unwrap().t, 8 * MIN);
    let fs = e.store.samples(&labels(
        r#"ALERTS_FOR_STATE{alertname="InstanceDown",instance="h:1",job="a",severity="page",team="infra"}"#,
    ));
    assert_eq!(fs[0].v, 0.0, "activeAt in seconds");
}

#[test]
fn keep_firing_for_holds_alert() {
    let e = env();
    let yaml = r#"
groups:
  - name: g
    rules:
      - alert: Flappy
        expr: up == 0
        keep_firing_for: 2m
"#;
    let mut gs = groups(yaml, &e.opts, false);
    let g = &mut gs[0];
    put(&e.store, r#"up{job="a"}"#, 0, 0.0);
    for m in 1..=5 {
        put(&e.store, r#"up{job="a"}"#, m * MIN, 1.0);
    }
    g.eval(0, &e.opts);
    assert_eq!(alert_rule(g).active_alerts()[0].state, AlertState::Firing);
    g.eval(MIN, &e.opts);
    let al = alert_rule(g).active_alerts()[0].clone();
    assert_eq!(al.state, AlertState::Firing);
    assert_eq!(al.keep_firing_since, Some(MIN));
    g.eval(2 * MIN, &e.opts);
    assert_eq!(alert_rule(g).active_alerts().len(), 1, "still kept firing");
    g.eval(3 * MIN, &e.opts);
    assert!(
        alert_rule(g).active_alerts().is_empty(),
        "resolved after 2m"
    );
    assert_eq!(
        alert_rule(g).active.values().next().unwrap().resolved_at,
        Some(3 * MIN)
    );
}

#[test]
fn duplicate_labelsets_and_limit_are_errors() {
    let e = env();
    let yaml = r#"
groups:
  - name: dup
    rules:
      - alert: Dup
        expr: up
        labels:
          instance: same
  - name: lim
    limit: 1
    rules:
      - alert: Many
        expr: up
"#;
    let mut gs = groups(yaml, &e.opts, false);
    put(&e.store, r#"up{instance="a"}"#, 0, 1.0);
    put(&e.store, r#"up{instance="b"}"#, 0, 1.0);
    for g in &mut gs {
        g.run_iteration(0, &e.opts);
    }
    let st = gs[0].rules[0].status();
    assert_eq!(st.health, Health::Bad);
    assert_eq!(
        st.last_error.as_deref(),
        Some("vector contains metrics with the same labelset after applying alert labels")
    );
    let st = gs[1].rules[0].status();
    assert_eq!(
        st.last_error.as_deref(),
        Some("exceeded limit of 1 with 2 alerts")
    );
    assert!(alert_rule(&gs[1]).active.is_empty());

    // The API shows the errors.
    let api = serde_json::to_value(rules_snapshot(&gs, &RulesFilter::default()).unwrap()).unwrap();
    assert_eq!(api["groups"][0]["rules"][0]["health"], "err");
    assert_eq!(api["groups"][1]["limit"], 1);
    assert_eq!(api["groups"][0]["rules"][0]["type"], "alerting");
}

#[test]
fn api_snapshots_serialise_like_prometheus() {
    let mut e = env();
    e.opts.external_labels.insert("cluster".into(), "c1".into());
    let mut gs = groups(RULES, &e.opts, false);
    put(&e.store, r#"up{job="a",instance="h:1"}"#, 0, 0.0);
    e.clock
        .0
        .store(1_700_000_000_000, std::sync::atomic::Ordering::SeqCst);
    gs[0].run_iteration(0, &e.opts);
    let rules =
        serde_json::to_value(rules_snapshot(&gs, &RulesFilter::default()).unwrap()).unwrap();
    let g = &rules["groups"][0];
    assert_eq!(g["name"], "g");
    assert_eq!(g["file"], "test.yml");
    assert_eq!(g["interval"], 60.0);
    assert_eq!(g["lastEvaluation"], "2023-11-14T22:13:20Z");
    let r = &g["rules"][0];
    assert_eq!(r["state"], "pending");
    assert_eq!(r["name"], "InstanceDown");
    assert_eq!(r["query"], "up == 0");
    assert_eq!(r["duration"], 300.0);
    assert_eq!(r["keepFiringFor"], 0.0);
    assert_eq!(r["labels"]["severity"], "page");
    assert_eq!(r["health"], "ok");
    assert!(r.get("lastError").is_none());
    assert_eq!(r["alerts"][0]["value"], "0e+00");
    assert_eq!(r["alerts"][0]["activeAt"], "1970-01-01T00:00:00Z");
    assert!(r["alerts"][0].get("keepFiringSince").is_none());

    let f = RulesFilter {
        kind: Some("record".into()),
        ..Default::default()
    };
    assert!(rules_snapshot(&gs, &f).unwrap().groups.is_empty());
    let f = RulesFilter {
        exclude_alerts: true,
        ..Default::default()
    };
    let v = serde_json::to_value(rules_snapshot(&gs, &f).unwrap()).unwrap();
    assert!(v["groups"][0]["rules"][0]["alerts"].is_null());
    let bad = RulesFilter {
        kind: Some("bogus".into()),
        ..Default::default()
    };
    assert!(rules_snapshot(&gs, &bad).is_err());

    let alerts = serde_json::to_value(alerts_snapshot(&gs)).unwrap();
    assert_eq!(alerts["alerts"][0]["state"], "pending");
    assert_eq!(alerts["alerts"][0]["labels"]["alertname"], "InstanceDown");
    let _ = Labels::empty();
}

#[test]
fn external_labels_added_to_notifications_without_override() {
    let mut e = env();
    e.opts.external_labels.insert("cluster".into(), "c1".into());
    e.opts
        .external_labels
        .insert("severity".into(), "low".into());
    let yaml = r#"
groups:
  - name: g
    rules:
      - alert: Always
        expr: vector(1)
        labels:
          severity: high
"#;
    let mut gs = groups(yaml, &e.opts, false);
    gs[0].eval(0, &e.opts);
    let sent = e.sent.0.lock();
    assert_eq!(sent[0].labels["cluster"], "c1");
    assert_eq!(sent[0].labels["severity"], "high");
}
