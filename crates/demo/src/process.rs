//! Process statistics from `/proc/self`, the source the Go and Python client
//! libraries use for their `process_*` metrics. Linux only; elsewhere every read
//! fails and the metrics are simply left out.

use std::fs;

/// `/proc` reports CPU times and start time in USER_HZ, which the kernel fixes at 100
/// for every user-visible interface (the Prometheus procfs library assumes the same).
const USER_HZ: f64 = 100.0;

/// One reading of the process' resource usage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ProcessSample {
    pub(crate) cpu_seconds: f64,
    pub(crate) resident_bytes: u64,
    pub(crate) virtual_bytes: u64,
    pub(crate) start_time_seconds: f64,
    pub(crate) open_fds: Option<u64>,
    pub(crate) max_fds: Option<u64>,
}

/// Reads the current process' statistics, or `None` when `/proc` is unavailable.
pub(crate) fn sample() -> Option<ProcessSample> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let boot_time = fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| parse_boot_time(&s))?;
    let (utime, stime, start_ticks) = parse_stat(&stat)?;
    Some(ProcessSample {
        cpu_seconds: (utime + stime) as f64 / USER_HZ,
        resident_bytes: status_kib(&status, "VmRSS:")? * 1024,
        virtual_bytes: status_kib(&status, "VmSize:")? * 1024,
        start_time_seconds: boot_time as f64 + start_ticks as f64 / USER_HZ,
        open_fds: fs::read_dir("/proc/self/fd").ok().map(|d| d.count() as u64),
        max_fds: fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|s| parse_max_open_files(&s)),
    })
}

/// Returns `(utime, stime, starttime)` in ticks from `/proc/self/stat`.
fn parse_stat(stat: &str) -> Option<(u64, u64, u64)> {
    // The command name (field 2) is parenthesised and may contain spaces or ')', so
    // fields are counted from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field N is at index N - 3.
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some((field(14)?, field(15)?, field(22)?))
}

fn parse_boot_time(proc_stat: &str) -> Option<u64> {
    proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

fn parse_max_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    // Columns: name, soft limit, hard limit, units; the soft limit is what applies.
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_tricky_command_name() {
        let stat = "1234 (a b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 4 0 9000 1000 200";
        assert_eq!(parse_stat(stat), Some((250, 50, 9000)));
    }

    #[test]
    fn status_and_limits() {
        assert_eq!(
            status_kib("Name: x\nVmRSS:\t  2048 kB\n", "VmRSS:"),
            Some(2048)
        );
        let limits = "Limit Soft Hard Units\nMax open files            1024                 524288               files\n";
        assert_eq!(parse_max_open_files(limits), Some(1024));
        assert_eq!(
            parse_boot_time("cpu 1 2\nbtime 1700000000\n"),
            Some(1_700_000_000)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let s = sample().unwrap();
        assert!(s.resident_bytes > 0 && s.virtual_bytes >= s.resident_bytes);
        assert!(s.start_time_seconds > 1_000_000_000.0);
        assert!(s.open_fds.unwrap() > 0);
    }
}
