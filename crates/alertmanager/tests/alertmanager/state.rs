use crate::common::*;
use watchfire_alertmanager::{
    AlertState, Error, Fingerprint, Silence, SilenceMatcher, SilenceState,
};

const CFG: &str = r#"
route:
  receiver: team-resolved
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 5m
receivers:
  - name: team-resolved
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
"#;

fn sil(name: &str, value: &str, start: i64, end: i64) -> Silence {
    Silence {
        id: String::new(),
        matchers: vec![SilenceMatcher {
            name: name.into(),
            value: value.into(),
            is_regex: false,
            is_equal: true,
        }],
        starts_at: start,
        ends_at: end,
        updated_at: 0,
        created_by: "me".into(),
        comment: "c".into(),
    }
}

fn long(pairs: &[(&str, &str)]) -> watchfire_alertmanager::PostableAlert {
    let mut a = alert(pairs);
    a.ends_at = T0 + 100 * 3_600_000;
    a
}

#[tokio::test]
async fn silences_mute_and_expire() {
    let h = start(CFG, None);
    let id =
        h.am.set_silence(sil("alertname", "S", T0, T0 + 120_000))
            .unwrap();
    h.am.put_alerts(vec![long(&[("alertname", "S")])]).unwrap();
    h.advance(10_000).await;
    assert!(h.rec.take().is_empty(), "silenced");
    let (fp, a) = h.am.alerts().pop().unwrap();
    let st = h.am.alert_status(&a.labels);
    assert_eq!(st.state, AlertState::Suppressed);
    assert_eq!(st.silenced_by, vec![id.clone()]);
    // The silence ends at 2m; the tick at 2m10s notifies.
    h.advance(120_000).await;
    let s = h.rec.take();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].at, T0 + 130_000);
    assert_eq!(
        h.am.silence(&id).unwrap().state(h.now()),
        SilenceState::Expired
    );
    assert_eq!(h.am.alert_status(&a.labels).state, AlertState::Active);
    assert_eq!(fp, Fingerprint::of(&a.labels));
}

#[tokio::test]
async fn silence_update_rules() {
    let h = start(CFG, None);
    let id = h.am.set_silence(sil("a", "b", T0, T0 + 3_600_000)).unwrap();
    // Same matchers, later end: updated in place.
    let mut s = h.am.silence(&id).unwrap();
    s.ends_at = T0 + 7_200_000;
    assert_eq!(h.am.set_silence(s).unwrap(), id);
    // Changed matchers: old one expired, new id.
    let mut s = h.am.silence(&id).unwrap();
    s.matchers[0].value = "c".into();
    let id2 = h.am.set_silence(s).unwrap();
    assert_ne!(id, id2);
    assert_eq!(
        h.am.silence(&id).unwrap().state(h.now()),
        SilenceState::Expired
    );
    assert_eq!(
        h.am.silence(&id2).unwrap().state(h.now()),
        SilenceState::Active
    );
    // Unknown id.
    let mut s = sil("a", "b", T0, T0 + 10);
    s.id = "nope".into();
    assert!(matches!(h.am.set_silence(s), Err(Error::SilenceNotFound)));
    // Matching only the empty string.
    let e = h.am.set_silence(sil("a", "", T0, T0 + 10)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "silence invalid: at least one matcher must not match the empty string"
    );
    // Pending silence expires to start = end = now.
    let p =
        h.am.set_silence(sil("a", "b", T0 + 60_000, T0 + 120_000))
            .unwrap();
    assert_eq!(
        h.am.silence(&p).unwrap().state(h.now()),
        SilenceState::Pending
    );
    h.am.expire_silence(&p).unwrap();
    let ps = h.am.silence(&p).unwrap();
    assert_eq!((ps.starts_at, ps.ends_at), (T0, T0));
}

#[tokio::test]
async fn inhibition() {
    let h = start(CFG, None);
    h.am.put_alerts(vec![
        long(&[("alertname", "I"), ("severity", "warning")]),
        long(&[("alertname", "I"), ("severity", "critical")]),
        long(&[("alertname", "J"), ("severity", "warning")]),
    ])
    .unwrap();
    h.advance(10_000).await;
    let s = h.rec.take();
    let mut got: Vec<String> = s
        .iter()
        .flat_map(|x| {
            x.data
                .alerts
                .iter()
                .map(|a| format!("{}/{}", a.labels["alertname"], a.labels["severity"]))
        })
        .collect();
    got.sort();
    assert_eq!(got, vec!["I/critical", "J/warning"]);
    let crit = Fingerprint::of(
        &[("alertname", "I"), ("severity", "critical")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let warn: watchfire_alertmanager::LabelSet = [("alertname", "I"), ("severity", "warning")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(
        h.am.alert_status(&warn).inhibited_by,
        vec![crit.to_string()]
    );
    // Resolve the source: the target is released at the next tick.
    let mut r = alert(&[("alertname", "I"), ("severity", "critical")]);
    r.ends_at = h.now();
    h.am.put_alerts(vec![r]).unwrap();
    h.advance(60_000).await;
    let s = h.rec.take();
    assert_eq!(s.len(), 1);
    assert!(
        s[0].data
            .alerts
            .iter()
            .any(|a| a.labels["severity"] == "warning" && a.status == "firing")
    );
}

#[tokio::test]
async fn nflog_dedups_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(CFG, Some(dir.path()));
    h.am.put_alerts(vec![long(&[("alertname", "N")])]).unwrap();
    h.advance(10_000).await;
    assert_eq!(h.rec.take().len(), 1);
    let sid = h.am.set_silence(sil("x", "y", T0, T0 + 3_600_000)).unwrap();
    h.am.stop().await.unwrap();
    assert!(dir.path().join("nflog.json").exists());

    // Restart 30s later with the same state dir; the rules engine re-sends the alert.
    let clock = watchfire_alertmanager::ManualClock::new(h.now() + 30_000);
    let h2 = start_at(CFG, Some(dir.path()), clock);
    assert!(h2.am.silence(&sid).is_some(), "silences restored");
    let mut a = long(&[("alertname", "N")]);
    a.starts_at = T0;
    h2.am.put_alerts(vec![a]).unwrap();
    h2.am.flush_pending().await;
    h2.advance(60_000).await;
    assert!(
        h2.rec.take().is_empty(),
        "already notified before the restart"
    );
    // History survived too.
    assert_eq!(h2.am.history(&Default::default()).len(), 1);
    // After repeat_interval (5m) it is sent again.
    h2.advance(300_000).await;
    assert_eq!(h2.rec.take().len(), 1);
    h2.am.stop().await.unwrap();
}

#[tokio::test]
async fn acks_stop_repeats_and_clear_on_change() {
    let h = start(CFG, None);
    h.am.put_alerts(vec![long(&[("alertname", "K")])]).unwrap();
    h.advance(10_000).await;
    assert_eq!(h.rec.take().len(), 1);
    let (fp, _) = h.am.alerts().pop().unwrap();
    let ack = h.am.ack(fp, "alice", "looking").unwrap();
    assert_eq!(ack.by, "alice");
    // Repeat would happen at 6m10s; acknowledged: silent for 20 minutes.
    h.advance(20 * 60_000).await;
    assert!(h.rec.take().is_empty());
    // Annotation change clears the ack; repeats resume at the next due tick.
    let mut a = long(&[("alertname", "K")]);
    a.annotations.insert("summary".into(), "new".into());
    h.am.put_alerts(vec![a]).unwrap();
    assert!(h.am.ack_of(fp).is_none());
    h.advance(60_000).await;
    assert_eq!(h.rec.take().len(), 1);
    // Resolution clears an ack too.
    h.am.ack(fp, "bob", "").unwrap();
    let mut r = alert(&[("alertname", "K")]);
    r.ends_at = h.now();
    h.am.put_alerts(vec![r]).unwrap();
    assert!(h.am.ack_of(fp).is_none());
    assert!(matches!(
        h.am.ack(Fingerprint(1), "x", ""),
        Err(Error::AlertNotFound(_))
    ));
}

#[tokio::test]
async fn reload_keeps_state_and_rebuilds_groups() {
    let h = start(CFG, None);
    h.am.put_alerts(vec![long(&[("alertname", "L"), ("team", "x")])])
        .unwrap();
    h.advance(10_000).await;
    assert_eq!(h.rec.take().len(), 1);
    let sid = h.am.set_silence(sil("a", "b", T0, T0 + 3_600_000)).unwrap();
    // Same routes: the rebuilt group waits group_wait again, then the log dedups.
    h.am.apply_config(config(CFG)).unwrap();
    h.advance(10_000).await;
    assert!(h.rec.take().is_empty());
    assert!(h.am.silence(&sid).is_some());
    // New grouping: a new group key, so a new notification.
    let regrouped = CFG.replace("group_by: [alertname]", "group_by: [team]");
    h.am.apply_config(config(&regrouped)).unwrap();
    h.advance(10_000).await;
    let s = h.rec.take();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].data.group_key, "{}:{team=\"x\"}");
}
