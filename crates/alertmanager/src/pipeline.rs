//! The notify pipeline, in Alertmanager's order: inhibition → active time intervals →
//! mute time intervals → silences → per integration, concurrently: dedup (notification
//! log) → retry (with backoff until the next group_interval) → record (log + history).
//! Each stage is a function from alerts to alerts; an empty result stops the pipeline,
//! so, as in Alertmanager, a group whose alerts are all inhibited does not reach the time
//! stages, and one muted by a time interval does not reach the silence stage. The time
//! stages record which intervals mute the group; the alert groups API shows them
//! (`mutedBy`, as Alertmanager 0.28 does).
//!
//! Cost matters here: when thousands of groups flush at once, each one runs this. Alerts
//! travel as shared [`FlushedAlert`]s, and the notification is built once a send slot
//! is held, so groups queued behind the per-integration limit hold no payload. It is a
//! borrowed [`NotificationView`]: the webhook encodes it without copying labels; other
//! integrations turn it into template data.

use crate::alertmanager::{Core, Runtime};
use crate::clock::{Millis, format_rfc3339};
use crate::dispatch::{FlushInfo, FlushedAlert};
use crate::history::HistoryEntry;
use crate::integration::Integration;
use crate::mute::{Muter, Silencer, mute_outcome};
use crate::nflog::{NflogEntry, ReceiverKey};
use crate::types::{Alert, AlertStatus, LabelSet, alert_hash};
use std::collections::HashSet;
use std::sync::Arc;
use watchfire_notify::{AlertView, NotificationView};
use watchfire_template::NotificationData;

/// Alertmanager never gives a notification less than this to complete.
const MIN_TIMEOUT_MS: i64 = 10_000;

/// Runs the pipeline for one flushed group; `true` when nothing failed.
pub(crate) async fn run(
    core: &Arc<Core>,
    rt: &Arc<Runtime>,
    info: FlushInfo,
    alerts: Vec<FlushedAlert>,
) -> bool {
    let now = core.clock.now();
    let alerts = inhibit_stage(core, rt, alerts, now);
    if alerts.is_empty() || time_stages(core, rt, &info, now) {
        return true;
    }
    let alerts = silence_stage(rt, &info, alerts, now);
    if alerts.is_empty() {
        return true;
    }
    let receiver = &info.group.receiver;
    let Some(integrations) = rt.integrations.get(receiver).cloned() else {
        return true;
    };
    let limits = rt.send_limits.get(receiver).cloned();
    // The common case, one integration: no extra task (this already runs on the group's).
    if let [integ] = integrations.as_slice() {
        let limit = limits.as_ref().and_then(|l| l.first());
        return integration_stages(core, integ.as_ref(), limit, &info, &alerts).await;
    }
    let alerts = Arc::new(alerts);
    let info = Arc::new(info);
    let mut set = tokio::task::JoinSet::new();
    for i in 0..integrations.len() {
        let core = Arc::clone(core);
        let integrations = Arc::clone(&integrations);
        let alerts = Arc::clone(&alerts);
        let info = Arc::clone(&info);
        let limits = limits.clone();
        set.spawn(async move {
            let Some(integ) = integrations.get(i) else {
                return true;
            };
            let limit = limits.as_ref().and_then(|l| l.get(i));
            integration_stages(&core, integ.as_ref(), limit, &info, &alerts).await
        });
    }
    let mut ok = true;
    while let Some(r) = set.join_next().await {
        ok &= r.unwrap_or(false);
    }
    ok
}

/// An alert that passed inhibition, and whether a silence mutes it.
struct Uninhibited {
    alert: FlushedAlert,
    silenced: bool,
}

/// Drops inhibited alerts. Records each alert's status (inhibited and silenced) in the
/// marker in the same pass, so the silence lookup is not repeated for the silence stage.
fn inhibit_stage(
    core: &Core,
    rt: &Runtime,
    alerts: Vec<FlushedAlert>,
    now: Millis,
) -> Vec<Uninhibited> {
    let inhibitor = core.inhibitor(rt);
    let silencer = Silencer(&core.silences);
    alerts
        .into_iter()
        .filter_map(|a| {
            let inhibited = inhibitor.mutes(&a.alert.labels, now);
            let silenced = silencer.mutes(&a.alert.labels, now);
            let (is_inhibited, is_silenced) = (!inhibited.is_empty(), !silenced.is_empty());
            core.store
                .set_status(a.fp, AlertStatus::from_mutes(silenced, inhibited));
            (!is_inhibited).then_some(Uninhibited {
                alert: a,
                silenced: is_silenced,
            })
        })
        .collect()
}

/// Silenced alerts follow [`mute_outcome`]: they reach receivers with
/// `send_resolved_when_silenced` as resolved, others not at all.
fn silence_stage(
    rt: &Runtime,
    info: &FlushInfo,
    alerts: Vec<Uninhibited>,
    now: Millis,
) -> Vec<FlushedAlert> {
    let keep_silenced_resolved = rt
        .send_resolved_when_silenced
        .contains(&info.group.receiver);
    alerts
        .into_iter()
        .filter_map(
            |Uninhibited {
                 mut alert,
                 silenced,
             }| {
                if !silenced {
                    return Some(alert);
                }
                // Rare: only then is a copy made, to apply the shared rule.
                let mut copy = Alert::clone(&alert.alert);
                copy.ends_at = alert.ends_at;
                alert.ends_at =
                    mute_outcome(copy, true, false, keep_silenced_resolved, now)?.ends_at;
                Some(alert)
            },
        )
        .collect()
}

/// The active and mute time interval stages: whether the route's time intervals mute
/// the group at the time the flush runs (a late flush across an interval boundary sees
/// the boundary). Like Alertmanager, records on the group which intervals mute it: every
/// active interval when outside all of them, else the mute intervals `now` falls in.
fn time_stages(core: &Core, rt: &Runtime, info: &FlushInfo, now: Millis) -> bool {
    let opts = &info.group.opts;
    if opts.active_time_intervals.is_empty() && opts.mute_time_intervals.is_empty() {
        return false;
    }
    let muted_by = time_muted_by(rt, info, now);
    let muted = !muted_by.is_empty();
    core.set_group_muted_by(info, muted_by);
    muted
}

fn time_muted_by(rt: &Runtime, info: &FlushInfo, now: Millis) -> Vec<String> {
    let Ok(t) = jiff::Timestamp::from_millisecond(now) else {
        return Vec::new();
    };
    let inside = |n: &String| rt.time_intervals.get(n).is_some_and(|ti| ti.contains(t));
    let active = &info.group.opts.active_time_intervals;
    if !active.is_empty() && !active.iter().any(inside) {
        return active.clone();
    }
    info.group
        .opts
        .mute_time_intervals
        .iter()
        .filter(|n| inside(n))
        .cloned()
        .collect()
}

/// Alertmanager's `DedupStage.needsUpdate`, plus acknowledgements: when every firing alert
/// is acknowledged, the repeat_interval re-send is skipped.
fn needs_update(
    entry: Option<&NflogEntry>,
    firing: &HashSet<u64>,
    resolved: &HashSet<u64>,
    send_resolved: bool,
    repeat_ms: i64,
    all_acked: bool,
    now: Millis,
) -> bool {
    let Some(entry) = entry else {
        return !firing.is_empty();
    };
    if !entry.is_firing_subset(firing) {
        return true;
    }
    // All resolved: notify so the log forgets the firing set, whatever send_resolved says.
    if firing.is_empty() {
        return !entry.firing.is_empty();
    }
    if send_resolved && !entry.is_resolved_subset(resolved) {
        return true;
    }
    !all_acked && entry.timestamp < now - repeat_ms
}

/// The notification for `alerts`, borrowed from the group and the alerts (see
/// [`NotificationView`]).
fn notification_view<'a>(
    receiver: &'a str,
    group_key: &'a str,
    group_labels: &'a LabelSet,
    external_url: &'a str,
    alerts: &[&'a FlushedAlert],
    now: Millis,
) -> NotificationView<'a> {
    NotificationView {
        receiver,
        group_key,
        group_labels,
        external_url,
        alerts: alerts
            .iter()
            .map(|a| AlertView {
                resolved: a.resolved_at(now),
                labels: &a.alert.labels,
                annotations: &a.alert.annotations,
                starts_at: format_rfc3339(a.alert.starts_at),
                ends_at: format_rfc3339(a.ends_at),
                generator_url: &a.alert.generator_url,
                fingerprint: a.fp.to_string(),
            })
            .collect(),
    }
}

/// The template data for one notification.
pub fn notification_data(
    receiver: &str,
    group_key: &str,
    group_labels: &LabelSet,
    external_url: &str,
    alerts: &[&FlushedAlert],
    now: Millis,
) -> NotificationData {
    notification_view(receiver, group_key, group_labels, external_url, alerts, now).to_data()
}

/// Dedup → retry → record for one integration; `true` on success or nothing to do.
async fn integration_stages(
    core: &Core,
    integ: &dyn Integration,
    limit: Option<&tokio::sync::Semaphore>,
    info: &FlushInfo,
    alerts: &[FlushedAlert],
) -> bool {
    let now = core.clock.now();
    let group = &info.group;
    let key = ReceiverKey {
        receiver: group.receiver.clone(),
        integration: integ.name().to_string(),
        index: integ.index(),
    };
    // Dedup.
    let mut firing = Vec::new();
    let mut resolved = Vec::new();
    let mut all_acked = true;
    for a in alerts {
        let h = alert_hash(&a.alert.labels);
        if a.resolved_at(now) {
            resolved.push(h);
        } else {
            firing.push(h);
            all_acked &= core.acks.is_acked(a.fp);
        }
    }
    let firing_set: HashSet<u64> = firing.iter().copied().collect();
    let resolved_set: HashSet<u64> = resolved.iter().copied().collect();
    let repeat = group.opts.repeat_interval.as_millis();
    let (update, stale) = core.nflog.with_entry(&group.group_key, &key, |entry| {
        let update = needs_update(
            entry,
            &firing_set,
            &resolved_set,
            integ.send_resolved(),
            repeat,
            all_acked,
            now,
        );
        (update, entry.is_some_and(|e| e.timestamp < now - repeat))
    });
    if !update {
        // Held back only by acknowledgements: keep the entry alive so its expiry (2x
        // repeat_interval) does not turn into a re-send.
        if all_acked && stale {
            core.nflog.extend(&group.group_key, &key, now + 2 * repeat);
        }
        return true;
    }
    // Retry.
    if !integ.send_resolved() && firing.is_empty() {
        // Nothing to send, but log the resolved set for the next dedup.
        core.nflog.log(
            &group.group_key,
            &key,
            firing,
            resolved,
            2 * repeat,
            core.clock.now(),
        );
        return true;
    }
    let sent: Vec<&FlushedAlert> = alerts
        .iter()
        .filter(|a| integ.send_resolved() || !a.resolved_at(now))
        .collect();
    let deadline = info.tick + group.opts.group_interval.as_millis().max(MIN_TIMEOUT_MS);
    if !retry(core, integ, limit, &key, info, &sent, now, deadline).await {
        core.metrics.failed_final();
        return false;
    }
    // Record.
    core.nflog.log(
        &group.group_key,
        &key,
        firing,
        resolved,
        2 * repeat,
        core.clock.now(),
    );
    true
}

/// Exponential backoff like the Go `backoff` package's defaults (0.5s, x1.5, capped at
/// 60s), without jitter so timings are reproducible.
fn backoff_ms(attempt: u32) -> i64 {
    let mut d = 500.0_f64;
    for _ in 1..attempt {
        d *= 1.5;
    }
    d.min(60_000.0) as i64
}

/// Sends until success, a permanent error or the deadline. The notification is built
/// on the first attempt, once a send slot is held, and reused by later attempts.
#[allow(clippy::too_many_arguments)]
async fn retry(
    core: &Core,
    integ: &dyn Integration,
    slots: Option<&tokio::sync::Semaphore>,
    key: &ReceiverKey,
    info: &FlushInfo,
    sent: &[&FlushedAlert],
    now: Millis,
    deadline: Millis,
) -> bool {
    let group = &info.group;
    let fps = |resolved: bool| -> Vec<String> {
        sent.iter()
            .filter(|a| a.resolved_at(now) == resolved)
            .map(|a| a.fp.to_string())
            .collect()
    };
    let (firing_fps, resolved_fps) = (fps(false), fps(true));
    let mut view: Option<NotificationView<'_>> = None;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let started = core.clock.now();
        let remaining = (deadline - started).max(1) as u64;
        let limit = std::time::Duration::from_millis(remaining).min(core.opts.integration_timeout);
        // Waiting for a send slot counts against the same time limit as the call.
        let mut real = std::time::Instant::now();
        let call = async {
            let _permit = match slots {
                Some(s) => s.acquire().await.ok(),
                None => None,
            };
            let view = view.get_or_insert_with(|| {
                notification_view(
                    &group.receiver,
                    &group.group_key,
                    &group.group_labels,
                    &core.opts.external_url,
                    sent,
                    now,
                )
            });
            real = std::time::Instant::now();
            integ.notify_view(view).await
        };
        let result = match tokio::time::timeout(limit, call).await {
            Ok(r) => r,
            Err(_) => Err(crate::integration::NotifyError {
                retry: true,
                message: format!("timed out after {limit:?}"),
            }),
        };
        let elapsed = real.elapsed();
        core.metrics
            .observe(integ.name(), elapsed.as_secs_f64(), result.is_err());
        let (outcome, error, retryable) = match &result {
            Ok(()) => ("success", String::new(), false),
            Err(e) => ("failure", e.message.clone(), e.retry),
        };
        core.history.record(HistoryEntry {
            time: started,
            group_key: group.group_key.clone(),
            receiver: key.receiver.clone(),
            integration: key.integration.clone(),
            index: key.index,
            attempt,
            outcome: outcome.to_string(),
            error,
            retryable,
            duration_ms: elapsed.as_millis() as u64,
            firing: firing_fps.clone(),
            resolved: resolved_fps.clone(),
        });
        match result {
            Ok(()) => return true,
            Err(e) if !e.retry => {
                tracing::warn!(receiver = %key, attempts = attempt, error = %e.message, "notify failed with an unrecoverable error");
                return false;
            }
            Err(e) => {
                let next = core.clock.now() + backoff_ms(attempt);
                if next >= deadline {
                    tracing::warn!(receiver = %key, attempts = attempt, error = %e.message, "notify retry canceled: group interval elapsed");
                    return false;
                }
                core.clock.sleep_until(next).await;
            }
        }
    }
}
