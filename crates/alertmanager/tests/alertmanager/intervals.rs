//! `mute_time_intervals` / `active_time_intervals` on routes, driven by the manual clock.
//! Alertmanager's TimeActiveStage and TimeMuteStage run at each flush with the flush
//! time: when they drop the alerts nothing is sent and nothing is logged, so the first
//! flush after the interval (at the group's group_interval grid) sends.

use crate::common::*;
use watchfire_alertmanager::ManualClock;

fn at(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// Alerts that stay firing for a day.
fn firing(name: &str, now: i64) -> watchfire_alertmanager::PostableAlert {
    let mut a = alert(&[("alertname", name)]);
    a.ends_at = now + 86_400_000;
    a
}

/// (alertname, send time) of everything sent, in order.
fn sends(h: &Harness) -> Vec<(String, i64)> {
    h.rec
        .take()
        .iter()
        .map(|s| (s.data.group_labels["alertname"].clone(), s.at))
        .collect()
}

const MUTE_CFG: &str = r#"
route:
  receiver: team-resolved
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: [alertname=~"Muted|Child"]
      receiver: team-resolved
      mute_time_intervals: [morning]
      routes:
        # Route options are inherited, time intervals are not (Alertmanager).
        - matchers: [alertname="Child"]
receivers:
  - name: team-resolved
time_intervals:
  - name: morning
    time_intervals:
      - times: [{start_time: '09:00', end_time: '09:10'}]
        weekdays: [monday]
"#;

#[tokio::test]
async fn mute_interval_holds_notifications_until_the_next_flush_after_it() {
    // 2024-01-01 is a Monday.
    let t0 = at("2024-01-01T08:59:40Z");
    let h = start_at(MUTE_CFG, None, ManualClock::new(t0));
    h.am.put_alerts(vec![
        firing("Muted", t0),
        firing("Free", t0),
        firing("Child", t0),
    ])
    .unwrap();
    // First flush at 09:00:10, inside the interval: only the unmuted routes send.
    h.advance(30_000).await;
    let mut s = sends(&h);
    s.sort();
    let first = at("2024-01-01T09:00:10Z");
    assert_eq!(
        s,
        vec![("Child".to_string(), first), ("Free".to_string(), first)]
    );
    // 09:05:10 still muted.
    h.advance(300_000).await;
    assert_eq!(sends(&h), vec![]);
    // The interval ends at 09:10 (exclusive); the 09:10:10 tick sends.
    h.advance(299_000).await;
    assert_eq!(sends(&h), vec![]);
    h.advance(1_000).await;
    assert_eq!(
        sends(&h),
        vec![("Muted".to_string(), at("2024-01-01T09:10:10Z"))]
    );
    // Delivered once: the next ticks dedup against the log.
    h.advance(600_000).await;
    assert_eq!(sends(&h), vec![]);
}

#[tokio::test]
async fn mute_interval_drops_a_resolved_notification_due_inside_it() {
    // Alertmanager deletes resolved alerts from the group after a muted flush, so a
    // resolve that happens inside the interval is never notified.
    let t0 = at("2024-01-01T08:54:00Z");
    let h = start_at(MUTE_CFG, None, ManualClock::new(t0));
    let mut a = alert(&[("alertname", "Muted")]);
    a.ends_at = at("2024-01-01T09:02:00Z");
    h.am.put_alerts(vec![a]).unwrap();
    h.advance(30_000).await; // 08:54:30, before the interval
    assert_eq!(
        sends(&h),
        vec![("Muted".into(), at("2024-01-01T08:54:30Z"))]
    );
    h.advance(20 * 60_000).await; // ticks 08:59:30 (nothing new), 09:04:30 (muted), ...
    assert_eq!(sends(&h), vec![]);
    assert!(h.am.groups().iter().all(|g| g.alerts.is_empty()));
}

const ACTIVE_CFG: &str = r#"
route:
  receiver: team-resolved
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: [alertname=~"Biz.*"]
      receiver: team-resolved
      active_time_intervals: [business]
receivers:
  - name: team-resolved
time_intervals:
  - name: business
    time_intervals:
      - times: [{start_time: '09:00', end_time: '17:00'}]
        weekdays: ['monday:friday']
"#;

#[tokio::test]
async fn active_interval_suppresses_outside_it() {
    let t0 = at("2024-01-01T16:55:00Z"); // Monday
    let h = start_at(ACTIVE_CFG, None, ManualClock::new(t0));
    h.am.put_alerts(vec![firing("Biz", t0), firing("Other", t0)])
        .unwrap();
    h.advance(30_000).await;
    let mut s = sends(&h);
    s.sort();
    let first = at("2024-01-01T16:55:30Z");
    assert_eq!(s, vec![("Biz".into(), first), ("Other".into(), first)]);
    // A new alert joins the group; its tick at 17:00:30 is outside business hours.
    h.advance(30_000).await;
    h.am.put_alerts(vec![alert(&[("alertname", "Biz"), ("i", "2")])])
        .unwrap();
    // A new group created after 17:00 does not send its first notification either.
    h.advance(5 * 60_000).await; // 17:01:00
    h.am.put_alerts(vec![firing("Biz2", h.now()), firing("Other2", h.now())])
        .unwrap();
    h.advance(15 * 60_000).await; // 17:16
    assert_eq!(
        sends(&h),
        vec![("Other2".into(), at("2024-01-01T17:01:30Z"))]
    );

    // Saturday inside the hours: outside the interval (weekdays), so nothing.
    let t1 = at("2024-01-06T10:00:00Z");
    let h = start_at(ACTIVE_CFG, None, ManualClock::new(t1));
    h.am.put_alerts(vec![firing("Biz", t1), firing("Other", t1)])
        .unwrap();
    h.advance(30_000).await;
    assert_eq!(sends(&h), vec![("Other".into(), t1 + 30_000)]);
}

/// Starts at `t`, posts one alert per route and returns which were sent at the first flush.
async fn first_flush(cfg: &str, t: &str, names: &[&str]) -> Vec<String> {
    let t0 = at(t);
    let h = start_at(cfg, None, ManualClock::new(t0));
    h.am.put_alerts(names.iter().map(|n| firing(n, t0)).collect())
        .unwrap();
    h.advance(30_000).await;
    let mut s: Vec<String> = sends(&h).into_iter().map(|(n, _)| n).collect();
    s.sort();
    s
}

const LOCATION_CFG: &str = r#"
route:
  receiver: r
  group_by: [alertname]
  group_wait: 30s
  routes:
    - matchers: [alertname="Berlin"]
      mute_time_intervals: [berlin-office]
    - matchers: [alertname="Utc"]
      mute_time_intervals: [utc-office]
receivers:
  - name: r
time_intervals:
  - name: berlin-office
    time_intervals:
      - times: [{start_time: '09:00', end_time: '17:00'}]
        location: Europe/Berlin
  - name: utc-office
    time_intervals:
      - times: [{start_time: '09:00', end_time: '17:00'}]
"#;

#[tokio::test]
async fn location_changes_the_outcome() {
    let both = &["Berlin", "Utc"];
    // 16:30 UTC = 17:30 in Berlin (UTC+1 in winter): only the UTC interval mutes.
    assert_eq!(
        first_flush(LOCATION_CFG, "2024-01-15T16:30:00Z", both).await,
        vec!["Berlin"]
    );
    // 08:30 UTC = 09:30 in Berlin: only the Berlin interval mutes.
    assert_eq!(
        first_flush(LOCATION_CFG, "2024-01-15T08:30:00Z", both).await,
        vec!["Utc"]
    );
    // Summer time (UTC+2): 07:30 UTC is 09:30 in Berlin.
    assert_eq!(
        first_flush(LOCATION_CFG, "2024-07-15T07:30:00Z", both).await,
        vec!["Utc"]
    );
    assert_eq!(
        first_flush(LOCATION_CFG, "2024-07-15T06:30:00Z", both).await,
        vec!["Berlin", "Utc"]
    );
}

const CALENDAR_CFG: &str = r#"
route:
  receiver: r
  group_by: [alertname]
  group_wait: 30s
  routes:
    - matchers: [alertname="LastDay"]
      mute_time_intervals: [last-day-of-feb-2024]
    - matchers: [alertname="FirstWeek"]
      active_time_intervals: [first-week-q1]
receivers:
  - name: r
time_intervals:
  - name: last-day-of-feb-2024
    time_intervals:
      - days_of_month: ['-1']
        months: [february]
        years: ['2024']
  - name: first-week-q1
    time_intervals:
      - days_of_month: ['1:7']
        months: ['1:3']
"#;

#[tokio::test]
async fn days_of_month_months_and_years() {
    let both = &["FirstWeek", "LastDay"];
    // 2024 is a leap year: -1 is the 29th.
    assert_eq!(
        first_flush(CALENDAR_CFG, "2024-02-29T12:00:00Z", both).await,
        Vec::<String>::new()
    );
    assert_eq!(
        first_flush(CALENDAR_CFG, "2024-02-28T12:00:00Z", both).await,
        vec!["LastDay"]
    );
    // Another year: the mute interval does not apply.
    assert_eq!(
        first_flush(CALENDAR_CFG, "2025-02-28T12:00:00Z", both).await,
        vec!["LastDay"]
    );
    // Inside the active interval (first week of a Q1 month).
    assert_eq!(
        first_flush(CALENDAR_CFG, "2025-03-07T23:59:00Z", both).await,
        vec!["FirstWeek", "LastDay"]
    );
    assert_eq!(
        first_flush(CALENDAR_CFG, "2025-04-03T12:00:00Z", both).await,
        vec!["LastDay"]
    );
}

/// `(group alertname, state, mutedBy)` of each alert in `/api/v2/alerts/groups?query`.
async fn group_states(
    addr: std::net::SocketAddr,
    query: &str,
) -> Vec<(String, String, Vec<String>)> {
    let (code, body) = http(addr, "GET", &format!("/api/v2/alerts/groups{query}"), None).await;
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut out = Vec::new();
    for g in v.as_array().unwrap() {
        for a in g["alerts"].as_array().unwrap() {
            let muted_by = a["status"]["mutedBy"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_string())
                .collect();
            out.push((
                g["labels"]["alertname"].as_str().unwrap().to_string(),
                a["status"]["state"].as_str().unwrap().to_string(),
                muted_by,
            ));
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn groups_api_shows_what_mutes_a_group_as_alertmanager_0_28_does() {
    let t0 = at("2024-01-01T08:59:40Z"); // Monday
    let h = start_at(MUTE_CFG, None, ManualClock::new(t0));
    let addr = serve(h.am.clone()).await;
    h.am.put_alerts(vec![firing("Muted", t0), firing("Free", t0)])
        .unwrap();
    let active = |n: &str| (n.to_string(), "active".to_string(), Vec::<String>::new());
    // Before the first flush nothing is known to be muted.
    assert_eq!(
        group_states(addr, "").await,
        vec![active("Free"), active("Muted")]
    );
    // The 09:00:10 flush runs inside `morning`: the group is marked.
    h.advance(30_000).await;
    let muted = (
        "Muted".to_string(),
        "suppressed".to_string(),
        vec!["morning".to_string()],
    );
    assert_eq!(
        group_states(addr, "").await,
        vec![active("Free"), muted.clone()]
    );
    assert_eq!(
        group_states(addr, "?muted=false").await,
        vec![active("Free")]
    );
    // /api/v2/alerts does not know about groups: the alert stays active there.
    let (_, body) = http(
        addr,
        "GET",
        "/api/v2/alerts?filter=alertname%3D%22Muted%22",
        None,
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["status"]["state"], "active");
    assert_eq!(v[0]["status"]["mutedBy"], serde_json::json!([]));
    // The mark holds until a flush outside the interval (09:10:10) clears it.
    h.advance(9 * 60_000 + 59_000).await; // 09:10:09
    assert_eq!(group_states(addr, "").await, vec![active("Free"), muted]);
    h.advance(1_000).await;
    assert_eq!(
        group_states(addr, "").await,
        vec![active("Free"), active("Muted")]
    );

    // Outside every active interval: muted by all of them.
    let t1 = at("2024-01-06T10:00:00Z"); // Saturday
    let h = start_at(ACTIVE_CFG, None, ManualClock::new(t1));
    let addr = serve(h.am.clone()).await;
    h.am.put_alerts(vec![firing("Biz", t1)]).unwrap();
    h.advance(30_000).await;
    assert_eq!(
        group_states(addr, "").await,
        vec![(
            "Biz".to_string(),
            "suppressed".to_string(),
            vec!["business".to_string()]
        )]
    );
}
