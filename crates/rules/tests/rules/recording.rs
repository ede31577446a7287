use crate::common::*;
use watchfire_model::is_stale_nan;
use watchfire_rules::Health;

#[test]
fn later_rules_see_earlier_output_and_staleness_is_marked() {
    let e = env();
    let yaml = r#"
groups:
  - name: rec
    labels:
      source: rules
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - record: job:up:double
        expr: job:up:sum * 2
"#;
    let mut gs = groups(yaml, &e.opts, false);
    put(&e.store, r#"up{job="a",instance="1"}"#, 0, 1.0);
    put(&e.store, r#"up{job="a",instance="2"}"#, 0, 1.0);
    put(&e.store, r#"up{job="b",instance="1"}"#, 0, 1.0);
    gs[0].eval(0, &e.opts);
    let sum = e
        .store
        .samples(&labels(r#"job:up:sum{job="a",source="rules"}"#));
    assert_eq!(sum.len(), 1);
    assert_eq!(sum[0].v, 2.0);
    let dbl = e
        .store
        .samples(&labels(r#"job:up:double{job="a",source="rules"}"#));
    assert_eq!(dbl.len(), 1, "second rule saw the first rule's output");
    assert_eq!(dbl[0].v, 4.0);
    assert_eq!(gs[0].rules[1].status().health, Health::Good);

    // job="b" disappears (its only series goes stale): the recorded series get a
    // staleness marker at the next evaluation.
    put(
        &e.store,
        r#"up{job="b",instance="1"}"#,
        MIN / 2,
        watchfire_model::STALE_NAN,
    );
    put(&e.store, r#"up{job="a",instance="1"}"#, MIN, 1.0);
    gs[0].eval(MIN, &e.opts);
    let b = e
        .store
        .samples(&labels(r#"job:up:sum{job="b",source="rules"}"#));
    assert_eq!(b.len(), 2);
    assert_eq!(b[1].t, MIN);
    assert!(is_stale_nan(b[1].v));
    let a = e
        .store
        .samples(&labels(r#"job:up:sum{job="a",source="rules"}"#));
    assert_eq!(
        a.last().unwrap().v,
        2.0,
        "instance 2 is still within the lookback"
    );
}

#[test]
fn query_offset_limit_and_duplicates() {
    let e = env();
    let yaml = r#"
groups:
  - name: off
    query_offset: 1m
    rules:
      - record: r:offset
        expr: up
  - name: lim
    limit: 1
    rules:
      - record: r:limited
        expr: up
  - name: dup
    rules:
      - record: r:dup
        expr: up
        labels:
          instance: x
"#;
    let mut gs = groups(yaml, &e.opts, false);
    put(&e.store, r#"up{instance="a"}"#, 0, 1.0);
    put(&e.store, r#"up{instance="b"}"#, 0, 2.0);
    put(&e.store, r#"up{instance="a"}"#, 2 * MIN, 3.0);
    for g in &mut gs {
        g.eval(2 * MIN, &e.opts);
    }
    let s = e.store.samples(&labels(r#"r:offset{instance="a"}"#));
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].t, MIN, "written at ts - query_offset");
    assert_eq!(s[0].v, 1.0, "queried at ts - query_offset");
    assert_eq!(
        gs[1].rules[0].status().last_error.as_deref(),
        Some("exceeded limit of 1 with 2 series")
    );
    assert_eq!(
        gs[2].rules[0].status().last_error.as_deref(),
        Some("vector contains metrics with the same labelset after applying rule labels")
    );
    assert!(
        e.store
            .samples(&labels(r#"r:limited{instance="a"}"#))
            .is_empty()
    );
}

#[test]
fn group_offset_is_stable_and_within_interval() {
    let e = env();
    let gs = groups(
        "groups:\n  - name: a\n    interval: 30s\n    rules: []\n  - name: b\n    rules: []\n",
        &e.opts,
        false,
    );
    for g in &gs {
        let off = g.offset_ms();
        assert!(off >= 0 && off < g.interval_ms);
        assert_eq!(off, g.offset_ms());
        let ts = g.eval_timestamp(1_000_000_123);
        assert!(ts <= 1_000_000_123 && 1_000_000_123 - ts < g.interval_ms);
        assert_eq!((ts - off).rem_euclid(g.interval_ms), 0);
    }
    assert_eq!(gs[0].interval_ms, 30_000);
    assert_eq!(gs[1].interval_ms, 60_000);
}

#[test]
fn manager_runs_groups_in_background() {
    let store = std::sync::Arc::new(watchfire_rules::MemStorage::new());
    let opts = watchfire_rules::RuleOptions::new(
        watchfire_promql::Engine::default(),
        store.clone(),
        store.clone(),
    );
    let mgr = watchfire_rules::RuleManager::new(opts);
    let defs = watchfire_rules::parse_rules(
        "m.yml",
        "groups:\n  - name: fast\n    interval: 50ms\n    rules:\n      - record: one\n        expr: vector(1)\n",
    )
    .unwrap();
    mgr.update(&defs);
    mgr.start();
    std::thread::sleep(std::time::Duration::from_millis(400));
    mgr.stop();
    let gs = mgr.groups_snapshot();
    assert!(
        gs[0].iterations_total >= 3,
        "ran {} iterations",
        gs[0].iterations_total
    );
    assert!(gs[0].last_evaluation.is_some());
    let s = store.samples(&labels("one"));
    assert!(s.len() >= 3);
    // Evaluations happen on the group's 50ms grid at its offset.
    for w in s.windows(2) {
        assert_eq!((w[1].t - w[0].t) % 50, 0);
    }
    // Removing the group marks its series stale.
    mgr.update(&[]);
    assert!(watchfire_model::is_stale_nan(
        store.samples(&labels("one")).last().unwrap().v
    ));
}

#[test]
fn per_rule_cpu_time_is_recorded() {
    let e = env();
    let yaml = r#"
groups:
  - name: cpu
    rules:
      - record: job:work:sum
        expr: sum by (job) (count_over_time(work[1h]))
"#;
    let mut gs = groups(yaml, &e.opts, false);
    {
        let mut app = watchfire_storage::Appendable::appender(e.store.as_ref());
        for s in 0..50 {
            let l = labels(&format!(r#"work{{job="j{}",i="{s}"}}"#, s % 5));
            for t in 0..200 {
                app.append(None, &l, t * 15_000, t as f64).unwrap();
            }
        }
        app.commit().unwrap();
    }
    gs[0].eval(3_000_000, &e.opts);
    let st = gs[0].rules[0].status();
    assert_eq!(st.health, Health::Good, "{:?}", st.last_error);
    if cfg!(target_os = "linux") {
        assert!(st.evaluation_cpu_s > 0.0, "{st:?}");
        // CPU time of one thread cannot exceed its wall time (1ms clock slack).
        assert!(
            st.evaluation_cpu_s <= st.evaluation_time_s + 0.001,
            "{st:?}"
        );
    }
}
