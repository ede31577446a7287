//! A rule group at run time: evaluating its rules in order at a timestamp,
//! writing their output with staleness markers, sending alerts, and restoring
//! `for` state from `ALERTS_FOR_STATE`.

use crate::alerting::{AlertingRule, TemplateContext};
use crate::file::{RuleGroup, RuleKind};
use crate::notify::{AlertSender, DEFAULT_RESEND_DELAY_MS, generator_url};
use crate::rule::{Health, RecordingRule, Rule};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;
use watchfire_model::{Labels, Matcher, STALE_NAN, is_stale_nan};
use watchfire_promql::{Engine, Value};
use watchfire_storage::{Appendable, Queryable, SelectHints};
use watchfire_template::{QueryFn, QuerySample};

/// A source of the current time, so evaluation timing can be tested.
pub trait Clock: Send + Sync {
    /// Now, in Unix milliseconds.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// Everything rule evaluation needs from the outside.
#[derive(Clone)]
pub struct RuleOptions {
    /// The PromQL engine.
    pub engine: Engine,
    /// Where queries read.
    pub queryable: Arc<dyn Queryable>,
    /// Where outputs are written.
    pub appendable: Arc<dyn Appendable>,
    /// Where alerts go (none: alerts are not sent).
    pub sender: Option<Arc<dyn AlertSender>>,
    /// External labels (templates and notifications).
    pub external_labels: BTreeMap<String, String>,
    /// External URL (templates and generator URLs).
    pub external_url: String,
    /// Global `evaluation_interval` (ms).
    pub default_interval_ms: i64,
    /// Global `rule_query_offset` (ms).
    pub default_query_offset_ms: i64,
    /// `--rules.alert.resend-delay` (ms).
    pub resend_delay_ms: i64,
    /// `--rules.alert.for-outage-tolerance` (ms).
    pub outage_tolerance_ms: i64,
    /// `--rules.alert.for-grace-period` (ms).
    pub for_grace_period_ms: i64,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

impl RuleOptions {
    /// Options with Prometheus' defaults (1m interval, 1m resend delay, 1h outage
    /// tolerance, 10m grace period, no sender).
    pub fn new(
        engine: Engine,
        queryable: Arc<dyn Queryable>,
        appendable: Arc<dyn Appendable>,
    ) -> Self {
        RuleOptions {
            engine,
            queryable,
            appendable,
            sender: None,
            external_labels: BTreeMap::new(),
            external_url: String::new(),
            default_interval_ms: 60_000,
            default_query_offset_ms: 0,
            resend_delay_ms: DEFAULT_RESEND_DELAY_MS,
            outage_tolerance_ms: 3_600_000,
            for_grace_period_ms: 600_000,
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for RuleOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleOptions")
            .field("external_labels", &self.external_labels)
            .field("external_url", &self.external_url)
            .field("default_interval_ms", &self.default_interval_ms)
            .finish_non_exhaustive()
    }
}

/// Labels from a map (empty values dropped).
pub(crate) fn labels_from_map(m: &BTreeMap<String, String>) -> Labels {
    Labels::from_pairs(m.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// Runs an instant query the way rules do: a scalar becomes a one-sample vector.
pub fn rule_query(
    engine: &Engine,
    q: &dyn Queryable,
    expr: &str,
    t: i64,
) -> Result<Vec<(Labels, f64)>, String> {
    let res = engine
        .instant_query(q, expr, t)
        .map_err(|e| e.to_string())?;
    match res.value {
        Value::Vector(v) => Ok(v.into_iter().map(|s| (s.labels, s.v)).collect()),
        Value::Scalar { v, .. } => Ok(vec![(Labels::empty(), v)]),
        _ => Err("rule result is not a vector or scalar".into()),
    }
}

/// The template `query` function over the rule's store.
struct TemplateQuery<'a> {
    engine: &'a Engine,
    queryable: &'a dyn Queryable,
    t: i64,
}

impl QueryFn for TemplateQuery<'_> {
    fn query(&self, expr: &str) -> Result<Vec<QuerySample>, String> {
        Ok(rule_query(self.engine, self.queryable, expr, self.t)?
            .into_iter()
            .map(|(l, v)| QuerySample {
                labels: l
                    .iter()
                    .map(|x| (x.name.clone(), x.value.clone()))
                    .collect(),
                value: v,
            })
            .collect())
    }
}

/// A group's rules and evaluation state.
#[derive(Debug, Clone)]
pub struct Group {
    /// Name.
    pub name: String,
    /// File.
    pub file: String,
    /// Evaluation interval (ms).
    pub interval_ms: i64,
    /// `limit` (0 = none).
    pub limit: usize,
    /// `query_offset` (ms).
    pub query_offset_ms: i64,
    /// Rules in order.
    pub rules: Vec<Rule>,
    /// Series each rule wrote last time (to mark those that vanish stale).
    prev_series: Vec<HashSet<Labels>>,
    /// Series of removed rules still to be marked stale.
    stale_series: Vec<Labels>,
    /// Duration of the last iteration, in seconds.
    pub evaluation_time_s: f64,
    /// Wall-clock start of the last iteration (ms).
    pub last_evaluation: Option<i64>,
    /// Scheduled timestamp of the last iteration (ms).
    pub last_eval_timestamp: Option<i64>,
    /// Whether `for` state still has to be restored.
    pub should_restore: bool,
    /// Iterations scheduled (including missed ones).
    pub iterations_total: u64,
    /// Iterations missed because evaluation was too slow.
    pub iterations_missed: u64,
    /// Rule evaluations and failures.
    pub evaluations_total: u64,
    /// Rule evaluation failures.
    pub evaluation_failures: u64,
}

impl Group {
    /// Builds a group from its definition. `restored` says whether alerting rules
    /// may write `ALERTS` right away (no `for` restore pending).
    pub fn new(def: &RuleGroup, opts: &RuleOptions, should_restore: bool) -> Self {
        let rules = def
            .rules
            .iter()
            .map(|r| match r.kind {
                RuleKind::Recording => Rule::Recording(RecordingRule {
                    name: r.name.clone(),
                    expr: r.expr.clone(),
                    labels: r.merged_labels(def),
                    status: Default::default(),
                }),
                RuleKind::Alerting => Rule::Alerting(AlertingRule::new(
                    r.name.clone(),
                    r.expr.clone(),
                    r.for_ms,
                    r.keep_firing_for_ms,
                    r.merged_labels(def),
                    r.annotations.clone(),
                    !should_restore,
                )),
            })
            .collect::<Vec<_>>();
        Group {
            name: def.name.clone(),
            file: def.file.clone(),
            interval_ms: def.interval_ms.unwrap_or(opts.default_interval_ms).max(1),
            limit: def.limit,
            query_offset_ms: def.query_offset_ms.unwrap_or(opts.default_query_offset_ms),
            prev_series: vec![HashSet::new(); rules.len()],
            rules,
            stale_series: Vec::new(),
            evaluation_time_s: 0.0,
            last_evaluation: None,
            last_eval_timestamp: None,
            should_restore,
            iterations_total: 0,
            iterations_missed: 0,
            evaluations_total: 0,
            evaluation_failures: 0,
        }
    }

    /// `file;name`, the key Prometheus uses for groups.
    pub fn key(&self) -> String {
        group_key(&self.file, &self.name)
    }

    /// The group's stable offset within its interval: a hash of name and file,
    /// so groups spread over the interval and keep their phase across restarts.
    pub fn offset_ms(&self) -> i64 {
        let l = Labels::from_pairs([("file", self.file.as_str()), ("name", self.name.as_str())]);
        (l.stable_hash() % self.interval_ms as u64) as i64
    }

    /// The latest evaluation slot at or before `now_ms`.
    pub fn eval_timestamp(&self, now_ms: i64) -> i64 {
        let offset = self.offset_ms();
        let adj = now_ms - offset;
        adj - adj.rem_euclid(self.interval_ms) + offset
    }

    /// One scheduled iteration: evaluates every rule at `ts` and records timing.
    pub fn run_iteration(&mut self, ts: i64, opts: &RuleOptions) {
        self.iterations_total += 1;
        let start = Instant::now();
        let wall = opts.clock.now_ms();
        self.eval(ts, opts);
        self.evaluation_time_s = start.elapsed().as_secs_f64();
        self.last_evaluation = Some(wall);
        self.last_eval_timestamp = Some(ts);
    }

    /// Evaluates every rule in order at `ts` (ms). Each rule's output is committed
    /// before the next rule runs, so later rules see it.
    pub fn eval(&mut self, ts: i64, opts: &RuleOptions) {
        let offset = self.query_offset_ms;
        let q_ts = ts - offset;
        for i in 0..self.rules.len() {
            let start = Instant::now();
            let cpu_start = crate::rule::thread_cpu_seconds();
            let wall = opts.clock.now_ms();
            self.evaluations_total += 1;
            let result = self.eval_rule(i, ts, opts);
            let failed = match result {
                Err(e) => {
                    let st = self.rules[i].status_mut();
                    st.health = Health::Bad;
                    st.last_error = Some(e);
                    true
                }
                Ok(vector) => {
                    {
                        let st = self.rules[i].status_mut();
                        st.health = Health::Good;
                        st.last_error = None;
                    }
                    self.send_alerts(i, ts, opts);
                    self.append(i, vector, q_ts, opts)
                }
            };
            if failed {
                self.evaluation_failures += 1;
            }
            let st = self.rules[i].status_mut();
            st.evaluation_time_s = start.elapsed().as_secs_f64();
            st.evaluation_cpu_s = (crate::rule::thread_cpu_seconds() - cpu_start).max(0.0);
            st.last_evaluation = Some(wall);
        }
        self.cleanup_stale(q_ts, opts);
    }

    fn eval_rule(
        &mut self,
        i: usize,
        ts: i64,
        opts: &RuleOptions,
    ) -> Result<Vec<(Labels, i64, f64)>, String> {
        let q_ts = ts - self.query_offset_ms;
        let limit = self.limit;
        let offset = self.query_offset_ms;
        let res = rule_query(
            &opts.engine,
            opts.queryable.as_ref(),
            self.rules[i].expr(),
            q_ts,
        )?;
        match &mut self.rules[i] {
            Rule::Recording(r) => Ok(r
                .eval(res, limit)?
                .into_iter()
                .map(|(l, v)| (l, q_ts, v))
                .collect()),
            Rule::Alerting(r) => {
                let tq = TemplateQuery {
                    engine: &opts.engine,
                    queryable: opts.queryable.as_ref(),
                    t: q_ts,
                };
                let tctx = TemplateContext {
                    external_labels: &opts.external_labels,
                    external_url: &opts.external_url,
                    query: Some(&tq),
                };
                r.eval(res, ts, offset, limit, &tctx)
            }
        }
    }

    fn send_alerts(&mut self, i: usize, ts: i64, opts: &RuleOptions) {
        let interval = self.interval_ms;
        let Rule::Alerting(r) = &mut self.rules[i] else {
            return;
        };
        let url = generator_url(&opts.external_url, &r.expr);
        let mut alerts = r.alerts_to_send(ts, opts.resend_delay_ms, interval, &url);
        if alerts.is_empty() {
            return;
        }
        if let Some(sender) = &opts.sender {
            for a in &mut alerts {
                a.add_external_labels(&opts.external_labels);
            }
            sender.send(alerts);
        }
    }

    /// Appends a rule's output and stale markers for series it no longer
    /// produces. Returns whether appending failed.
    fn append(
        &mut self,
        i: usize,
        vector: Vec<(Labels, i64, f64)>,
        stale_ts: i64,
        opts: &RuleOptions,
    ) -> bool {
        let mut app = opts.appendable.appender();
        let mut returned = HashSet::with_capacity(vector.len());
        let mut failed = None;
        for (l, t, v) in vector {
            match app.append(None, &l, t, v) {
                Ok(_) => {
                    returned.insert(l);
                }
                Err(e) => failed = Some(e.to_string()),
            }
        }
        for l in &self.prev_series[i] {
            if !returned.contains(l) {
                // Out-of-order and duplicate markers are expected and ignored.
                let _ = app.append(None, l, stale_ts, STALE_NAN);
            }
        }
        let mut bad = false;
        if let Some(e) = failed {
            let st = self.rules[i].status_mut();
            st.health = Health::Bad;
            st.last_error = Some(e);
            bad = true;
        }
        match app.commit() {
            Ok(_) => self.prev_series[i] = returned,
            Err(e) => {
                let st = self.rules[i].status_mut();
                st.health = Health::Bad;
                st.last_error = Some(e.to_string());
                bad = true;
            }
        }
        bad
    }

    fn cleanup_stale(&mut self, t: i64, opts: &RuleOptions) {
        if self.stale_series.is_empty() {
            return;
        }
        let mut app = opts.appendable.appender();
        for l in &self.stale_series {
            let _ = app.append(None, l, t, STALE_NAN);
        }
        if app.commit().is_ok() {
            self.stale_series.clear();
        }
    }

    /// Takes over the state of the group this one replaces (on reload): alerts
    /// and previously written series of rules with the same name and labels;
    /// series of rules that disappeared are marked stale at the next evaluation.
    pub fn copy_state(&mut self, from: &Group) {
        self.evaluation_time_s = from.evaluation_time_s;
        self.last_evaluation = from.last_evaluation;
        self.last_eval_timestamp = from.last_eval_timestamp;
        let mut map: HashMap<String, Vec<usize>> = HashMap::new();
        for (fi, r) in from.rules.iter().enumerate() {
            map.entry(r.identity()).or_default().push(fi);
        }
        for i in 0..self.rules.len() {
            let id = self.rules[i].identity();
            let Some(list) = map.get_mut(&id) else {
                continue;
            };
            if list.is_empty() {
                continue;
            }
            let fi = list.remove(0);
            self.prev_series[i] = from.prev_series[fi].clone();
            let status = from.rules[fi].status().clone();
            let same_kind = matches!(
                (&self.rules[i], &from.rules[fi]),
                (Rule::Recording(_), Rule::Recording(_)) | (Rule::Alerting(_), Rule::Alerting(_))
            );
            if let (Rule::Alerting(to), Rule::Alerting(f)) = (&mut self.rules[i], &from.rules[fi]) {
                to.active
                    .extend(f.active.iter().map(|(k, v)| (k.clone(), v.clone())));
                to.restored |= f.restored;
            }
            if same_kind {
                *self.rules[i].status_mut() = status;
            }
        }
        self.stale_series = from.stale_series.clone();
        for (fi, r) in from.rules.iter().enumerate() {
            if map.get(&r.identity()).is_some_and(|l| l.contains(&fi)) {
                self.stale_series
                    .extend(from.prev_series[fi].iter().cloned());
            }
        }
    }

    /// Every series this group wrote last, to be marked stale when it is removed.
    pub fn take_written_series(&mut self) -> Vec<Labels> {
        let mut out = std::mem::take(&mut self.stale_series);
        for s in &mut self.prev_series {
            out.extend(s.drain());
        }
        out
    }

    /// Restores the `for` state of active alerts from `ALERTS_FOR_STATE` as
    /// Prometheus does after a restart (`now` = wall-clock ms).
    pub fn restore_for_state(&mut self, now: i64, opts: &RuleOptions) {
        self.should_restore = false;
        let mint = now - opts.outage_tolerance_ms;
        let querier = match opts.queryable.querier(mint, now) {
            Ok(q) => q,
            Err(e) => {
                tracing::error!(group = %self.name, err = %e, "failed to get querier for 'for' state restore");
                return;
            }
        };
        for rule in &mut self.rules {
            let Rule::Alerting(r) = rule else { continue };
            if r.hold_ms < opts.for_grace_period_ms {
                r.restored = true;
                continue;
            }
            let matchers: Vec<Matcher> = r
                .for_state_labels(None)
                .iter()
                .filter(|l| !l.value.contains("{{"))
                .map(|l| Matcher::equal(l.name.clone(), l.value.clone()))
                .collect();
            let hints = SelectHints {
                start: mint,
                end: now,
                labels_only: false,
            };
            let set = match querier.select(&hints, &matchers) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(alert = %r.name, err = %e, "failed to restore 'for' state");
                    r.restored = true;
                    continue;
                }
            };
            let mut by_labels: HashMap<Labels, (i64, f64)> = HashMap::new();
            for s in set.flatten() {
                let mut b = s.labels.to_builder();
                b.delete(watchfire_model::METRIC_NAME);
                let key = b.build();
                if let Ok(samples) = s.collect_samples()
                    && let Some(last) = samples.last()
                {
                    by_labels.insert(key, (last.t, last.v));
                }
            }
            let hold = r.hold_ms;
            for a in r.active.values_mut() {
                if a.from_state_file {
                    continue;
                }
                let Some(&(t, v)) = by_labels.get(&a.labels) else {
                    continue;
                };
                if is_stale_nan(v) {
                    continue;
                }
                let down_at = t.div_euclid(1000) * 1000;
                let mut restored = (v as i64) * 1000;
                let spent_pending = down_at - restored;
                let remaining = hold - spent_pending;
                if remaining <= 0 {
                    // Already fired before the outage: keep the original activeAt.
                } else if remaining < opts.for_grace_period_ms {
                    restored = now + opts.for_grace_period_ms - hold;
                } else {
                    restored += now - down_at;
                }
                a.active_at = restored;
            }
            r.restored = true;
        }
    }
}

/// `file;name`.
pub fn group_key(file: &str, name: &str) -> String {
    format!("{file};{name}")
}
