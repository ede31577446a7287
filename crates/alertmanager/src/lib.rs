//! Watchfire's embedded Alertmanager runtime, with Alertmanager 0.27 semantics.
//!
//! # Design
//!
//! * [`Alertmanager`] owns everything. [`Alertmanager::put_alerts`] is the intake (the
//!   rules engine calls it in-process; `POST /api/v2/alerts` too): alerts get
//!   `startsAt`/`endsAt` defaults (`endsAt = now + resolve_timeout`, flagged as a timeout),
//!   are validated, merged into the [`AlertStore`] by [`Fingerprint`] (FNV-1a 64 of the
//!   sorted label pairs, as Prometheus' `LabelSet.Fingerprint`), then routed.
//! * The dispatcher ([`dispatch`]) keeps aggregation groups per (route, group labels).
//!   Timers run on an injected [`Clock`]: first flush `group_wait` after the group is
//!   created (immediately when the alert is older than that), then every
//!   `group_interval` on a fixed grid. One scheduler task sleeps until the earliest due
//!   group (a timer queue ordered by due time, so neither finding due groups nor the next
//!   deadline scans all groups); each flush runs on its own task so a slow receiver never
//!   delays others. Calls per receiver integration are capped
//!   ([`Options::max_concurrent_sends`], 64) so a burst of flushes reuses keep-alive
//!   connections. Inhibition sources are collected once per (config, store version).
//!   Resolved alerts leave a group once a flush notified them; empty groups are dropped
//!   by a 30s sweep; resolved alerts leave the store by a 30m GC.
//! * The notify pipeline ([`pipeline`]) is Alertmanager's chain of stages: inhibition
//!   → active time intervals → mute time intervals → silences (inhibition and silences
//!   are [`Muter`]s; each alert's `silencedBy`/`inhibitedBy` is recorded, and the time
//!   stages record the intervals muting the group, shown as `mutedBy` by the alert
//!   groups API as in Alertmanager 0.28) → per integration, concurrently: dedup against the [`Nflog`] (Alertmanager's `needsUpdate`) → retry
//!   with exponential backoff until `max(group_interval, 10s)` after the tick, each call
//!   bounded by [`Options::integration_timeout`] → record in the nflog and the history.
//! * [`Silences`] follow `silence.Silences.Set`: an update that changes matchers (or
//!   otherwise cannot be applied in place) expires the old silence and creates a new one.
//!   Expired silences are kept for the retention (120h).
//! * State files live in the data dir as JSON, written atomically (temp file, fsync,
//!   rename) every 15 minutes and on [`Alertmanager::stop`]: `silences.json`,
//!   `nflog.json`, `history.json`, `acks.json`, `alerts.json`. They are not
//!   Alertmanager's protobuf snapshots. The notification log is also written once a
//!   second when it changed (one write per burst, not per send), so a crash forgets at
//!   most a second of deliveries.
//! * Unlike Alertmanager, the alerts are persisted too (`alerts.json`) and re-dispatched
//!   on start (unless resolved by then): the rules engine restores its alerts' last send
//!   time, so it may not re-send them for up to the resend delay (1m) after a restart,
//!   and a notification that was still failing before the restart must not wait for it.
//!
//! # Beyond Alertmanager
//!
//! * Acknowledgements: while every firing alert of a group is acknowledged, the
//!   repeat_interval re-send is skipped (new alerts still notify). An ack clears itself
//!   when its alert resolves or its labels/annotations change, and when the alert is
//!   garbage-collected.
//! * Notification history: every attempt (group, receiver, integration, time, outcome,
//!   error, alerts), bounded ([`Options::history_capacity`], 10k) and persisted; plus a
//!   per-integration delivery status (last attempt/success/error).
//! * `send_resolved_when_silenced: true` on a receiver in `alertmanager.yml` (or the
//!   receiver's name in [`Options::send_resolved_when_silenced`]): that receiver is told
//!   once, as resolved, about an alert it was notified about and that is now silenced
//!   ([`mute::mute_outcome`]); see `docs/alertmanager-extensions.md`. Alertmanager
//!   rejects the field. The set is rebuilt with the rest of the config on reload.
//! * Templates: a `templates:` file that does not parse fails start and
//!   [`Alertmanager::apply_config`] with [`Error::Template`] (the old config stays), the
//!   same text `check alertmanager` prints.
//!
//! # HTTP API ([`api_router`])
//!
//! Alertmanager v2, same JSON shapes and status codes: `GET|POST /api/v2/alerts`
//! (`filter`, `active`, `silenced`, `inhibited`, `unprocessed`, `receiver`),
//! `GET /api/v2/alerts/groups`, `GET|POST /api/v2/silences`,
//! `GET|DELETE /api/v2/silence/{id}`, `GET /api/v2/status` (cluster `disabled`,
//! `config.original` is the file text), `GET /api/v2/receivers`.
//! Alerts carry an extra `watchfireAck` object while acknowledged. Extensions:
//!
//! * `GET /api/v2/watchfire/acks`: all acks `[{fingerprint, by, at, comment}]`.
//! * `POST /api/v2/watchfire/acks/{fingerprint}` with `{"by": "...", "comment": "..."}`:
//!   200 with the ack; 404 for an unknown alert; 400 without `by`.
//! * `DELETE /api/v2/watchfire/acks/{fingerprint}`: 200, or 404 when not acknowledged.
//! * `GET /api/v2/watchfire/history?receiver=&groupKey=&fingerprint=&outcome=&limit=`:
//!   attempts newest first (default limit 100).
//! * `GET /api/v2/watchfire/receivers`: `[{name, integrations: [{integration, index,
//!   lastAttempt, lastSuccess, lastErrorAt, lastError}]}]` for every configured receiver.
//! * `GET /api/v2/watchfire/metrics`: the [`MetricsSnapshot`].
#![deny(missing_docs)]

mod alertmanager;
mod api;
pub mod clock;
pub mod dispatch;
mod error;
pub mod history;
mod integration;
pub mod metrics;
pub mod mute;
pub mod nflog;
mod persist;
pub mod pipeline;
pub mod silence;
mod store;
pub mod types;

pub use alertmanager::{Alertmanager, Options, PostableAlert, VersionInfo};
pub use api::api_router;
pub use clock::{Clock, ManualClock, Millis, SystemClock};
pub use error::{Error, Result};
pub use history::{Ack, HistoryEntry, HistoryQuery, ReceiverStatus};
pub use integration::{Integration, IntegrationFactory, NotifyError, notify_factory};
pub use metrics::{IntegrationMetrics, MetricsSnapshot};
pub use mute::{Inhibitor, Muter, Silencer};
pub use nflog::{Nflog, NflogEntry, ReceiverKey};
pub use silence::{Silence, SilenceMatcher, SilenceState, Silences};
pub use store::AlertStore;
pub use types::{Alert, AlertState, AlertStatus, Fingerprint, LabelSet};
