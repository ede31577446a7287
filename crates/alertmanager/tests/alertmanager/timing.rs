use crate::common::*;
use watchfire_alertmanager::Fingerprint;

const CFG: &str = r#"
global:
  resolve_timeout: 3h
route:
  receiver: team-resolved
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
  routes:
    - matchers: [severity="page"]
      receiver: pager
      continue: true
    - matchers: [severity=~"page|ticket"]
      receiver: tickets
receivers:
  - name: team-resolved
  - name: pager
  - name: tickets
"#;

#[test]
fn fingerprint_matches_alertmanager() {
    // Values observed from Alertmanager 0.25 for these label sets.
    let l = |p: &[(&str, &str)]| {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        Fingerprint::of(&l(&[("alertname", "A"), ("severity", "warning")])).to_string(),
        "25c2cdb12d31dc50"
    );
    assert_eq!(
        Fingerprint::of(&l(&[("alertname", "A"), ("severity", "critical")])).to_string(),
        "b807e636403824b5"
    );
}

#[tokio::test]
async fn group_wait_interval_repeat_and_resolve() {
    let h = start(CFG, None);
    h.am.put_alerts(vec![alert(&[("alertname", "A")])]).unwrap();
    h.advance(29_000).await;
    assert!(h.rec.take().is_empty(), "nothing before group_wait");
    h.advance(1_000).await;
    let s = h.rec.take();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].at, T0 + 30_000);
    assert_eq!(names(&s[0]), vec![("A".into(), "firing".into())]);
    assert_eq!(s[0].data.group_key, "{}:{alertname=\"A\"}");
    assert_eq!(s[0].data.receiver, "team-resolved");
    assert_eq!(s[0].data.alerts[0].ends_at, "0001-01-01T00:00:00Z");

    // A second alert of another group waits its own group_wait.
    h.advance(60_000).await; // t = 1m30s
    h.am.put_alerts(vec![alert(&[("alertname", "B"), ("x", "1")])])
        .unwrap();
    h.advance(30_000).await; // t = 2m
    let s = h.rec.take();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].at, T0 + 120_000);
    assert_eq!(s[0].data.group_labels.get("alertname").unwrap(), "B");

    // Change group A: sent at the next group_interval tick (30s + 5m), not before.
    h.am.put_alerts(vec![alert(&[("alertname", "A"), ("x", "2")])])
        .unwrap();
    h.advance(330_000 - 120_000 - 1_000).await;
    assert!(h.rec.take().is_empty());
    h.advance(1_000).await;
    let s = h.rec.take();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].at, T0 + 330_000);
    assert_eq!(s[0].data.alerts.len(), 2);

    // Unchanged: nothing until repeat_interval has passed; the log time equals the tick,
    // so the repeat happens one group_interval after the hour, as in Alertmanager.
    h.advance(3_600_000).await; // t = 1h5m30s
    let s = h.rec.take();
    // Group B (last sent at 2m, ticks at 2m + k*5m) repeated at 1h7m... which is after
    // this point; group A ticks at 1h5m30s: 5m30s + 1h is not strictly before, no repeat.
    assert!(s.iter().all(|x| x.data.group_labels["alertname"] == "B") || s.is_empty());
    h.advance(300_000).await; // t = 1h10m30s
    let s: Vec<_> = h
        .rec
        .take()
        .into_iter()
        .filter(|x| x.data.group_labels["alertname"] == "A")
        .collect();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].at, T0 + 4_230_000);

    // Resolve one alert of A: next tick sends it as resolved (send_resolved receiver).
    let mut r = alert(&[("alertname", "A")]);
    r.ends_at = h.now();
    h.am.put_alerts(vec![r]).unwrap();
    h.advance(300_000).await;
    let s: Vec<_> = h
        .rec
        .take()
        .into_iter()
        .filter(|x| x.data.group_labels["alertname"] == "A")
        .collect();
    assert_eq!(s.len(), 1);
    let mut got = names(&s[0]);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("A".into(), "firing".into()),
            ("A".into(), "resolved".into())
        ]
    );
    // Resolved alerts leave the group after being notified.
    h.advance(300_000).await;
    assert!(
        h.rec
            .take()
            .iter()
            .all(|x| x.data.group_labels["alertname"] != "A")
    );
    let g = h.am.groups();
    let ga = g.iter().find(|g| g.labels["alertname"] == "A").unwrap();
    assert_eq!(ga.alerts.len(), 1);
    h.am.stop().await.unwrap();
}

#[tokio::test]
async fn continue_routes_and_old_alerts_flush_immediately() {
    let h = start(CFG, None);
    let mut a = alert(&[("alertname", "P"), ("severity", "page")]);
    a.starts_at = T0 - 600_000;
    h.am.put_alerts(vec![a]).unwrap();
    h.am.flush_pending().await;
    let mut s = h.rec.take();
    s.sort_by(|a, b| a.receiver.cmp(&b.receiver));
    assert_eq!(s.len(), 2, "pager (continue) and tickets");
    assert_eq!(s[0].receiver, "pager");
    assert_eq!(s[1].receiver, "tickets");
    assert_eq!(s[0].at, T0);
    assert_eq!(
        s[0].data.group_key,
        "{}/{severity=\"page\"}:{alertname=\"P\"}"
    );
}

#[tokio::test]
async fn resolve_timeout_and_no_resolved_without_send_resolved() {
    let cfg = r#"
global:
  resolve_timeout: 1m
route:
  receiver: plain
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
receivers:
  - name: plain
"#;
    let h = start(cfg, None);
    h.am.put_alerts(vec![alert(&[("alertname", "T")])]).unwrap();
    h.advance(10_000).await;
    assert_eq!(h.rec.take().len(), 1);
    let (_, a) = h.am.alerts().pop().unwrap();
    assert_eq!(a.ends_at, T0 + 60_000);
    assert!(a.timeout);
    // Timed out at 1m; tick at 1m10s: all resolved, send_resolved false: nothing sent.
    h.advance(120_000).await;
    assert!(h.rec.take().is_empty());
    // A new firing alert in the group notifies again (the log was cleared).
    h.am.put_alerts(vec![alert(&[("alertname", "T")])]).unwrap();
    h.advance(60_000).await;
    assert_eq!(h.rec.take().len(), 1);
}

#[tokio::test]
async fn retry_until_success_and_non_retryable_stops() {
    let cfg = r#"
route:
  receiver: r
  group_wait: 1s
  group_interval: 1m
receivers:
  - name: r
"#;
    let h = start(cfg, None);
    *h.rec.fail.lock() = vec![true, true];
    h.am.put_alerts(vec![alert(&[("alertname", "R")])]).unwrap();
    h.clock.advance(1_000);
    // The retry backoff sleeps on the manual clock: drive it.
    let am = h.am.clone();
    let t = tokio::spawn(async move { am.flush_pending().await });
    for _ in 0..100 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        if t.is_finished() {
            break;
        }
        h.clock.advance(500);
    }
    t.await.unwrap();
    assert_eq!(h.rec.take().len(), 1);
    let hist = h.am.history(&Default::default());
    assert_eq!(hist.len(), 3);
    assert_eq!(hist[0].outcome, "success");
    assert_eq!(hist[0].attempt, 3);
    assert_eq!(hist[2].error, "boom");
    let m = h.am.metrics();
    assert_eq!(m.integrations["webhook"].notifications_total, 3);
    assert_eq!(m.integrations["webhook"].notifications_failed_total, 2);
    let st = h.am.receiver_status();
    assert_eq!(st[0].receiver, "r");
    assert!(st[0].last_success > 0);

    // Non-retryable: one attempt, then the next change retries at the next tick.
    *h.rec.fail.lock() = vec![false];
    h.am.put_alerts(vec![alert(&[("alertname", "R2")])])
        .unwrap();
    h.advance(60_000).await;
    assert!(h.rec.take().is_empty());
    assert_eq!(h.am.history(&Default::default())[0].outcome, "failure");
    h.advance(60_000).await;
    assert_eq!(h.rec.take().len(), 1);
}
