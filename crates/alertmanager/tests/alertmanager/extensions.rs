//! Watchfire extensions configured in `alertmanager.yml`: `send_resolved_when_silenced`
//! on receivers; and templates that fail to parse failing start and reload.

use crate::common::*;
use watchfire_alertmanager::{Silence, SilenceMatcher};

/// Both receivers send resolved notifications (their names contain "resolved"); only
/// `pager-resolved` asks for them when an alert is silenced.
const CFG: &str = r#"
route:
  receiver: pager-resolved
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 1h
  routes:
    - matchers: [alertname="Disk"]
      receiver: pager-resolved
      continue: true
    - matchers: [alertname="Disk"]
      receiver: tickets-resolved
receivers:
  - name: pager-resolved
    send_resolved_when_silenced: true
  - name: tickets-resolved
"#;

fn silence_disk(from: i64, to: i64) -> Silence {
    Silence {
        id: String::new(),
        matchers: vec![SilenceMatcher {
            name: "alertname".into(),
            value: "Disk".into(),
            is_regex: false,
            is_equal: true,
        }],
        starts_at: from,
        ends_at: to,
        updated_at: 0,
        created_by: "oncall".into(),
        comment: "known".into(),
    }
}

fn by_receiver(sent: &[Sent], r: &str) -> Vec<Vec<(String, String)>> {
    sent.iter()
        .filter(|s| s.data.receiver == r)
        .map(names)
        .collect()
}

/// The flag follows the config on reload: after moving it from `pager-resolved` to
/// `tickets-resolved`, silencing tells `tickets-resolved` only.
#[tokio::test]
async fn reload_moves_the_flag() {
    let h = start(CFG, None);
    let moved = CFG
        .replace("    send_resolved_when_silenced: true\n", "")
        .replace(
            "  - name: tickets-resolved\n",
            "  - name: tickets-resolved\n    send_resolved_when_silenced: true\n",
        );
    assert_ne!(moved, CFG);
    h.am.apply_config(config(&moved)).unwrap();
    let mut a = alert(&[("alertname", "Disk")]);
    a.ends_at = T0 + 3_600_000;
    h.am.put_alerts(vec![a]).unwrap();
    h.advance(10_000).await;
    assert_eq!(h.rec.take().len(), 2);
    h.am.set_silence(silence_disk(h.now(), T0 + 86_400_000))
        .unwrap();
    h.advance(60_000).await;
    let s = h.rec.take();
    let resolved = vec![vec![("Disk".to_string(), "resolved".to_string())]];
    assert_eq!(by_receiver(&s, "tickets-resolved"), resolved);
    assert_eq!(by_receiver(&s, "pager-resolved"), Vec::<Vec<_>>::new());
}

/// Firing and notified, then silenced, then resolved while still silenced: the flagged
/// receiver gets exactly one resolved notification for it, the other receiver none.
#[tokio::test]
async fn silenced_alert_resolves_once_for_flagged_receiver_only() {
    let h = start(CFG, None);
    let mut a = alert(&[("alertname", "Disk")]);
    a.ends_at = T0 + 3_600_000;
    h.am.put_alerts(vec![a.clone()]).unwrap();
    h.advance(10_000).await;
    let s = h.rec.take();
    let firing = vec![vec![("Disk".to_string(), "firing".to_string())]];
    assert_eq!(by_receiver(&s, "pager-resolved"), firing);
    assert_eq!(by_receiver(&s, "tickets-resolved"), firing);

    h.am.set_silence(silence_disk(h.now(), T0 + 86_400_000))
        .unwrap();
    h.advance(5 * 60_000).await;
    // The alert resolves while silenced.
    a.ends_at = h.now();
    h.am.put_alerts(vec![a]).unwrap();
    h.advance(10 * 60_000).await;
    let s = h.rec.take();
    let resolved = vec![vec![("Disk".to_string(), "resolved".to_string())]];
    assert_eq!(by_receiver(&s, "pager-resolved"), resolved, "{s:?}");
    assert_eq!(by_receiver(&s, "tickets-resolved"), Vec::<Vec<_>>::new());
    assert_eq!(s[0].data.status, "resolved");
}

/// Silencing a notified alert sends the flagged receiver a resolved notification at the
/// next flush, once; the other receiver gets nothing.
#[tokio::test]
async fn silencing_a_notified_alert_sends_resolved_once() {
    let h = start(CFG, None);
    let mut a = alert(&[("alertname", "Disk")]);
    a.ends_at = T0 + 3_600_000;
    h.am.put_alerts(vec![a]).unwrap();
    h.advance(10_000).await;
    assert_eq!(h.rec.take().len(), 2);
    h.am.set_silence(silence_disk(h.now(), T0 + 86_400_000))
        .unwrap();
    h.advance(60_000).await; // tick at 1m10s
    let s = h.rec.take();
    assert_eq!(
        by_receiver(&s, "pager-resolved"),
        vec![vec![("Disk".to_string(), "resolved".to_string())]]
    );
    assert_eq!(s[0].at, T0 + 70_000);
    assert_eq!(s[0].data.status, "resolved");
    assert_eq!(by_receiver(&s, "tickets-resolved"), Vec::<Vec<_>>::new());
    // Not repeated while the silence lasts, nor when the alert really resolves.
    h.advance(2 * 3_600_000).await;
    assert_eq!(h.rec.take().len(), 0);
}

#[test]
fn mute_outcome_rules() {
    use watchfire_alertmanager::Alert;
    use watchfire_alertmanager::mute::mute_outcome;
    let a = Alert {
        labels: [("alertname".to_string(), "Disk".to_string())].into(),
        annotations: Default::default(),
        starts_at: T0,
        ends_at: 0,
        generator_url: String::new(),
        updated_at: T0,
        timeout: false,
    };
    let now = T0 + 1_000;
    assert_eq!(
        mute_outcome(a.clone(), false, false, false, now),
        Some(a.clone())
    );
    assert_eq!(
        mute_outcome(a.clone(), false, true, true, now),
        None,
        "inhibited"
    );
    assert_eq!(
        mute_outcome(a.clone(), true, false, false, now),
        None,
        "silenced"
    );
    let r = mute_outcome(a.clone(), true, false, true, now).unwrap();
    assert_eq!(r.status_at(now), "resolved");
    assert_eq!(r.ends_at, now);
    let mut done = a;
    done.ends_at = T0 + 500;
    assert_eq!(
        mute_outcome(done.clone(), true, false, true, now)
            .unwrap()
            .ends_at,
        T0 + 500,
        "an alert that already resolved keeps its end"
    );
}

#[tokio::test]
async fn broken_template_fails_start_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ok.tmpl"),
        "{{ define \"x\" }}ok{{ end }}\n",
    )
    .unwrap();
    let cfg_path = dir.path().join("alertmanager.yml");
    std::fs::write(
        &cfg_path,
        "route:\n  receiver: r\nreceivers:\n- name: r\ntemplates: ['*.tmpl']\n",
    )
    .unwrap();
    let load = || watchfire_alertmanager_config::Config::load_file(&cfg_path).unwrap();
    let clock = watchfire_alertmanager::ManualClock::new(T0);
    let c: std::sync::Arc<dyn watchfire_alertmanager::Clock> = std::sync::Arc::new(clock);
    let rec = Recorder::default();
    let opts = || watchfire_alertmanager::Options::new(c.clone(), factory(&rec, c.clone()));
    let am = watchfire_alertmanager::Alertmanager::start_with(load(), opts()).unwrap();

    std::fs::write(dir.path().join("bad.tmpl"), "a\n{{ if .X }}\n").unwrap();
    let bad = load();
    let e = am.apply_config(bad.clone()).unwrap_err();
    assert_eq!(e.to_string(), "template: bad.tmpl:3: unexpected EOF");
    // The old config stays.
    assert_eq!(am.config().templates.len(), 1);
    assert_eq!(am.receiver_names(), vec!["r".to_string()]);
    let e = watchfire_alertmanager::Alertmanager::start_with(bad, opts()).unwrap_err();
    assert_eq!(e.to_string(), "template: bad.tmpl:3: unexpected EOF");
    // Same text as `check alertmanager`.
    let mut out = Vec::new();
    watchfire_alertmanager_config::check_config_command(std::slice::from_ref(&cfg_path), &mut out);
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("FAILED: template: bad.tmpl:3: unexpected EOF"),
    );
}
