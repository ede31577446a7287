//! `/health`: capacity, memory and CPU checks in the seeds' JSON shape.
//!
//! A check above its warning level adds to `warnings` and makes the status
//! `degraded` (still HTTP 200: the instance serves); above its critical level it adds
//! to `errors`, marks the check unhealthy and makes the status `unhealthy` (HTTP 503,
//! so a load balancer takes the instance out).

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;

use crate::metrics::Metrics;
use crate::process;

/// Warning and critical levels, in percent, for each check.
const CAPACITY_LEVELS: (f64, f64) = (80.0, 95.0);
const MEMORY_LEVELS: (f64, f64) = (80.0, 90.0);
const CPU_LEVELS: (f64, f64) = (70.0, 90.0);

/// The `/health` document.
#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    /// `healthy`, `degraded` or `unhealthy`.
    pub status: &'static str,
    /// `false` only when `status` is `unhealthy`.
    pub healthy: bool,
    /// The instance's deployment color.
    pub deployment: String,
    /// The individual checks.
    pub checks: HealthChecks,
    /// Checks above their warning level.
    pub warnings: Vec<String>,
    /// Checks above their critical level.
    pub errors: Vec<String>,
    /// Seconds since the instance started.
    pub uptime: f64,
}

/// The checks of a [`HealthReport`].
#[derive(Debug, Clone, Serialize)]
pub struct HealthChecks {
    /// Open connections against the limit.
    pub capacity: CapacityCheck,
    /// Resident memory against the configured limit.
    pub memory: MemoryCheck,
    /// Process CPU use since the previous health check.
    pub cpu: CpuCheck,
}

/// Connection capacity.
#[derive(Debug, Clone, Serialize)]
pub struct CapacityCheck {
    /// Open connections.
    pub current: i64,
    /// Connection limit.
    pub max: usize,
    /// `current / max` in percent.
    pub percentage: f64,
    /// Below the critical level.
    pub healthy: bool,
}

/// Memory use.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryCheck {
    /// Resident set in MiB.
    pub used_mb: f64,
    /// Limit in MiB.
    pub limit_mb: f64,
    /// `used / limit` in percent.
    pub percentage: f64,
    /// Below the critical level.
    pub healthy: bool,
}

/// CPU use.
#[derive(Debug, Clone, Serialize)]
pub struct CpuCheck {
    /// Percent of one core over the last measurement window (at least 1 s; 0 until
    /// the first window has passed). Counts the whole process.
    pub percentage: f64,
    /// Below the critical level.
    pub healthy: bool,
}

/// Shortest window CPU use is measured over; a check sooner than this after the
/// previous measurement repeats it, so rapid polling does not report noise.
const CPU_WINDOW: Duration = Duration::from_secs(1);

/// Remembers the previous CPU reading so each check reports recent use, not the
/// lifetime average.
#[derive(Debug)]
pub(crate) struct CpuTracker(Mutex<CpuState>);

#[derive(Debug)]
struct CpuState {
    at: Instant,
    cpu_seconds: f64,
    percentage: f64,
}

impl CpuTracker {
    pub(crate) fn new() -> Self {
        let cpu_seconds = process::sample().map(|s| s.cpu_seconds).unwrap_or(0.0);
        Self(Mutex::new(CpuState {
            at: Instant::now(),
            cpu_seconds,
            percentage: 0.0,
        }))
    }

    fn percentage(&self, cpu_now: f64) -> f64 {
        let mut last = self.0.lock();
        let now = Instant::now();
        let wall = now.duration_since(last.at);
        if wall >= CPU_WINDOW {
            let used = (cpu_now - last.cpu_seconds).max(0.0);
            *last = CpuState {
                at: now,
                cpu_seconds: cpu_now,
                percentage: round2(used / wall.as_secs_f64() * 100.0),
            };
        }
        last.percentage
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Classifies `pct` and records a message when it crosses a level.
fn grade(
    name: &str,
    pct: f64,
    (warn, crit): (f64, f64),
    warnings: &mut Vec<String>,
    errors: &mut Vec<String>,
) -> bool {
    if pct >= crit {
        errors.push(format!("{name} at {pct:.1}% (critical above {crit}%)"));
        false
    } else {
        if pct >= warn {
            warnings.push(format!("{name} at {pct:.1}% (warning above {warn}%)"));
        }
        true
    }
}

/// Builds the report for the current state.
pub(crate) fn check(metrics: &Metrics, cpu: &CpuTracker) -> HealthReport {
    let mut warnings = Vec::new();
    let mut errors = Vec::new();

    let current = metrics.connections_active.get();
    let max = metrics.max_connections;
    let cap_pct = if max == 0 {
        100.0
    } else {
        round2(current as f64 * 100.0 / max as f64)
    };
    let cap_ok = grade(
        "capacity",
        cap_pct,
        CAPACITY_LEVELS,
        &mut warnings,
        &mut errors,
    );

    let sample = process::sample();
    let used = sample.map(|s| s.resident_bytes).unwrap_or(0) as f64;
    let limit = metrics.memory_limit_bytes as f64;
    let mem_pct = if limit > 0.0 {
        round2(used * 100.0 / limit)
    } else {
        0.0
    };
    let mem_ok = grade("memory", mem_pct, MEMORY_LEVELS, &mut warnings, &mut errors);

    let cpu_pct = cpu.percentage(sample.map(|s| s.cpu_seconds).unwrap_or(0.0));
    let cpu_ok = grade("cpu", cpu_pct, CPU_LEVELS, &mut warnings, &mut errors);

    let status = if !errors.is_empty() {
        "unhealthy"
    } else if !warnings.is_empty() {
        "degraded"
    } else {
        "healthy"
    };
    const MIB: f64 = 1024.0 * 1024.0;
    HealthReport {
        status,
        healthy: errors.is_empty(),
        deployment: metrics.deployment().to_owned(),
        checks: HealthChecks {
            capacity: CapacityCheck {
                current,
                max,
                percentage: cap_pct,
                healthy: cap_ok,
            },
            memory: MemoryCheck {
                used_mb: round2(used / MIB),
                limit_mb: round2(limit / MIB),
                percentage: mem_pct,
                healthy: mem_ok,
            },
            cpu: CpuCheck {
                percentage: cpu_pct,
                healthy: cpu_ok,
            },
        },
        warnings,
        errors,
        uptime: round2(metrics.uptime_seconds()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_drive_status() {
        let m = Metrics::new("blue", 10, u64::MAX / 2);
        let cpu = CpuTracker::new();
        let r = check(&m, &cpu);
        assert_eq!(r.checks.capacity.percentage, 0.0);
        assert!(r.checks.capacity.healthy);

        for _ in 0..8 {
            assert!(m.connections_active.try_inc_below(10));
        }
        let r = check(&m, &cpu);
        assert!(
            r.warnings.iter().any(|w| w.starts_with("capacity")),
            "{r:?}"
        );
        assert!(r.checks.capacity.healthy);

        assert!(m.connections_active.try_inc_below(10));
        assert!(m.connections_active.try_inc_below(10));
        let r = check(&m, &cpu);
        assert_eq!(r.status, "unhealthy");
        assert!(!r.healthy && !r.checks.capacity.healthy);
        assert_eq!(r.checks.capacity.percentage, 100.0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn tiny_memory_limit_is_unhealthy() {
        let m = Metrics::new("green", 10, 1024);
        let r = check(&m, &CpuTracker::new());
        assert!(!r.checks.memory.healthy);
        assert!(r.errors.iter().any(|e| e.starts_with("memory")));
    }
}
