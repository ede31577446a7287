//! What recording and alerting rules share: health and timing, and the
//! recording rule itself.

use crate::alerting::AlertingRule;
use std::collections::BTreeMap;
use watchfire_model::{Labels, METRIC_NAME};

/// Error text for a recording rule producing one series twice.
pub const ERR_DUPLICATE_RECORDING_LABELSET: &str =
    "vector contains metrics with the same labelset after applying rule labels";

/// A rule's health after its last evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Health {
    /// Not evaluated yet.
    #[default]
    #[serde(rename = "unknown")]
    Unknown,
    /// The last evaluation worked.
    #[serde(rename = "ok")]
    Good,
    /// The last evaluation failed.
    #[serde(rename = "err")]
    Bad,
}

impl Health {
    /// The API spelling (`unknown`, `ok`, `err`).
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Good => "ok",
            Health::Bad => "err",
        }
    }
}

/// Health and timing of a rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleStatus {
    /// Health.
    pub health: Health,
    /// The last error, if the last evaluation failed.
    pub last_error: Option<String>,
    /// How long the last evaluation took, in seconds.
    pub evaluation_time_s: f64,
    /// CPU time the evaluating thread spent on the last evaluation, in seconds
    /// (beyond Prometheus: wall time overstates cost on a busy machine). Zero
    /// where the platform has no per-thread CPU clock.
    pub evaluation_cpu_s: f64,
    /// Wall-clock start of the last evaluation (ms).
    pub last_evaluation: Option<i64>,
}

/// A recording rule.
#[derive(Debug, Clone)]
pub struct RecordingRule {
    /// The metric name written (`record:`).
    pub name: String,
    /// The expression.
    pub expr: String,
    /// Labels added to every output series (group labels merged in).
    pub labels: BTreeMap<String, String>,
    /// Health and timing.
    pub status: RuleStatus,
}

impl RecordingRule {
    /// Renames and relabels the query result; fails on duplicate outputs or when
    /// `limit` (if non-zero) is exceeded.
    pub fn eval(
        &self,
        res: Vec<(Labels, f64)>,
        limit: usize,
    ) -> Result<Vec<(Labels, f64)>, String> {
        let mut out = Vec::with_capacity(res.len());
        let mut seen = std::collections::HashSet::with_capacity(res.len());
        for (l, v) in res {
            let mut b = l.to_builder();
            b.set(METRIC_NAME, self.name.clone());
            for (k, val) in &self.labels {
                b.set(k.clone(), val.clone());
            }
            let l = b.build();
            if !seen.insert(l.clone()) {
                return Err(ERR_DUPLICATE_RECORDING_LABELSET.into());
            }
            out.push((l, v));
        }
        if limit > 0 && out.len() > limit {
            return Err(format!(
                "exceeded limit of {limit} with {} series",
                out.len()
            ));
        }
        Ok(out)
    }
}

/// A rule of a group.
#[derive(Debug, Clone)]
pub enum Rule {
    /// Recording rule.
    Recording(RecordingRule),
    /// Alerting rule.
    Alerting(AlertingRule),
}

impl Rule {
    /// The rule's name (`record` or `alert`).
    pub fn name(&self) -> &str {
        match self {
            Rule::Recording(r) => &r.name,
            Rule::Alerting(r) => &r.name,
        }
    }

    /// The expression.
    pub fn expr(&self) -> &str {
        match self {
            Rule::Recording(r) => &r.expr,
            Rule::Alerting(r) => &r.expr,
        }
    }

    /// The rule's labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        match self {
            Rule::Recording(r) => &r.labels,
            Rule::Alerting(r) => &r.labels,
        }
    }

    /// Health and timing.
    pub fn status(&self) -> &RuleStatus {
        match self {
            Rule::Recording(r) => &r.status,
            Rule::Alerting(r) => &r.status,
        }
    }

    pub(crate) fn status_mut(&mut self) -> &mut RuleStatus {
        match self {
            Rule::Recording(r) => &mut r.status,
            Rule::Alerting(r) => &mut r.status,
        }
    }

    /// Identity used to carry state across reloads: name and labels.
    pub(crate) fn identity(&self) -> String {
        let l = crate::group::labels_from_map(self.labels());
        format!("{}{}", self.name(), l)
    }
}

/// CPU time consumed by the calling thread so far, in seconds; 0 where the
/// platform has no per-thread CPU clock.
pub(crate) fn thread_cpu_seconds() -> f64 {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    0.0
}
