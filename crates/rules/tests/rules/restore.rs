use crate::common::*;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use watchfire_rules::{AlertState, Rule, RuleManager, load_state, parse_rules, save_state};

const RULES: &str = r#"
groups:
  - name: g
    rules:
      - alert: Slow
        expr: up == 0
        for: 30m
"#;

fn slow(g: &watchfire_rules::Group) -> &watchfire_rules::AlertingRule {
    match &g.rules[0] {
        Rule::Alerting(a) => a,
        Rule::Recording(_) => panic!("alerting rule expected"),
    }
}

#[test]
fn for_state_is_restored_from_alerts_for_state() {
    let e = env();
    for m in 0..=60 {
        put(&e.store, r#"up{job="a"}"#, m * MIN, 0.0);
    }
    let mut before = groups(RULES, &e.opts, false);
    for m in 0..=5 {
        before[0].eval(m * MIN, &e.opts);
    }
    assert_eq!(slow(&before[0]).active_alerts()[0].active_at, 0);

    // Restart after 15 minutes down: new group, restore pending.
    let mut after = groups(RULES, &e.opts, true);
    after[0].eval(20 * MIN, &e.opts);
    assert_eq!(slow(&after[0]).active_alerts()[0].active_at, 20 * MIN);
    assert!(
        !e.store
            .series_labels()
            .iter()
            .any(|l| l.get("alertstate").is_some()
                && e.store.samples(l).iter().any(|s| s.t == 20 * MIN)),
        "no ALERTS written before the restore"
    );
    after[0].restore_for_state(20 * MIN, &e.opts);
    // 5m spent pending before going down at 5m; the 15m outage is not counted.
    assert_eq!(slow(&after[0]).active_alerts()[0].active_at, 15 * MIN);
    after[0].eval(44 * MIN, &e.opts);
    assert_eq!(
        slow(&after[0]).active_alerts()[0].state,
        AlertState::Pending
    );
    after[0].eval(45 * MIN, &e.opts);
    assert_eq!(slow(&after[0]).active_alerts()[0].state, AlertState::Firing);
}

#[test]
fn short_for_is_not_restored_and_grace_period_applies() {
    let e = env();
    for m in 0..=60 {
        put(&e.store, r#"up{job="a"}"#, m * MIN, 0.0);
    }
    let yaml = "groups:\n  - name: g\n    rules:\n      - alert: Slow\n        expr: up == 0\n        for: 12m\n";
    let mut before = groups(yaml, &e.opts, false);
    for m in 0..=5 {
        before[0].eval(m * MIN, &e.opts);
    }
    let mut after = groups(yaml, &e.opts, true);
    after[0].eval(20 * MIN, &e.opts);
    after[0].restore_for_state(20 * MIN, &e.opts);
    // 7m remaining < 10m grace period: fires no earlier than now + grace.
    assert_eq!(
        slow(&after[0]).active_alerts()[0].active_at,
        20 * MIN + 10 * MIN - 12 * MIN
    );
}

#[test]
fn persisted_state_keeps_firing_alerts_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let e = env();
    for m in 0..=200 {
        put(&e.store, r#"up{job="a"}"#, m * MIN, 0.0);
    }
    let defs = parse_rules("p.yml", RULES).unwrap();
    let mgr = RuleManager::new(e.opts.clone());
    mgr.update(&defs);
    for m in 0..=31 {
        mgr.eval_all_at(m * MIN);
    }
    let firing = mgr.groups_snapshot()[0].clone();
    assert_eq!(slow(&firing).active_alerts()[0].state, AlertState::Firing);
    save_state(&mgr, dir.path()).unwrap();
    drop(mgr);

    // Restart much later than the outage tolerance: ALERTS_FOR_STATE alone
    // would lose the state; the state file keeps it.
    e.clock.0.store(200 * MIN, Ordering::SeqCst);
    let mgr2 = RuleManager::new(e.opts.clone());
    mgr2.update(&defs);
    assert_eq!(load_state(&mgr2, dir.path()).unwrap(), 1);
    mgr2.restore_for_state_all(200 * MIN);
    mgr2.eval_all_at(200 * MIN);
    let g = mgr2.groups_snapshot()[0].clone();
    let a = slow(&g).active_alerts()[0].clone();
    assert_eq!(a.state, AlertState::Firing);
    assert_eq!(a.active_at, 0);
    assert_eq!(a.fired_at, Some(30 * MIN));
    let _ = Arc::strong_count(&e.store);

    // A missing state file is not an error.
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(load_state(&mgr2, empty.path()).unwrap(), 0);
}

#[test]
fn backtest_reports_transitions() {
    let e = env();
    for m in 0..=20 {
        let v = if (3..10).contains(&m) { 0.0 } else { 1.0 };
        put(&e.store, r#"up{job="a"}"#, m * MIN, v);
    }
    let defs = parse_rules(
        "b.yml",
        "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 2m\n        annotations:\n          summary: 'job {{ $labels.job }}'\n",
    )
    .unwrap();
    let t = watchfire_rules::backtest(&defs, e.store.clone(), 0, 20 * MIN, MIN);
    let seq: Vec<(i64, &str)> = t.iter().map(|x| (x.t / MIN, x.state.as_str())).collect();
    assert_eq!(seq, vec![(3, "pending"), (5, "firing"), (10, "resolved")]);
    assert_eq!(t[1].annotations["summary"], "job a");
    assert_eq!(t[1].labels["alertname"], "Down");
    assert_eq!(t[1].active_at, 3 * MIN);
}
