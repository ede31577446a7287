//! Building targets from discovered groups, the way Prometheus' `PopulateLabels`
//! does, and the per-target state the HTTP API shows.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use watchfire_model::{Labels, LabelsBuilder, parse_duration_ms};

use crate::error::ScrapeError;
use crate::options::{ScrapePoolOptions, TargetGroup};

/// `__address__`.
pub const ADDRESS_LABEL: &str = "__address__";
/// `__scheme__`.
pub const SCHEME_LABEL: &str = "__scheme__";
/// `__metrics_path__`.
pub const METRICS_PATH_LABEL: &str = "__metrics_path__";
/// `__scrape_interval__`.
pub const SCRAPE_INTERVAL_LABEL: &str = "__scrape_interval__";
/// `__scrape_timeout__`.
pub const SCRAPE_TIMEOUT_LABEL: &str = "__scrape_timeout__";
/// Prefix of the labels that become URL parameters.
pub const PARAM_LABEL_PREFIX: &str = "__param_";
/// Prefix of discovery meta labels, removed after relabeling.
pub const META_LABEL_PREFIX: &str = "__meta_";
/// Prefix of every reserved label, never attached to samples.
pub const RESERVED_LABEL_PREFIX: &str = "__";
/// `job`.
pub const JOB_LABEL: &str = "job";
/// `instance`.
pub const INSTANCE_LABEL: &str = "instance";

/// The health of a target, as `/api/v1/targets` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetHealth {
    /// Not scraped yet.
    #[default]
    Unknown,
    /// The last scrape succeeded.
    Up,
    /// The last scrape failed.
    Down,
}

impl TargetHealth {
    /// `up`, `down` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetHealth::Unknown => "unknown",
            TargetHealth::Up => "up",
            TargetHealth::Down => "down",
        }
    }
}

/// A target that survived relabeling.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Labels before relabeling.
    pub discovered_labels: Labels,
    /// Labels after relabeling, still holding `__address__`, `__scheme__`, ...
    pub full_labels: Labels,
    /// The labels attached to every sample (no `__` labels).
    pub labels: Labels,
    /// The URL scraped.
    pub url: String,
    /// Scrape interval, from `__scrape_interval__`.
    pub interval: Duration,
    /// Scrape timeout, from `__scrape_timeout__`.
    pub timeout: Duration,
    /// Identity: labels and URL, as Prometheus' `Target.hash`.
    pub hash: u64,
}

impl Target {
    /// Time from `now_ns` (Unix nanoseconds) to the target's next slot: a stable
    /// offset within the interval derived from the target's hash and `seed`, like
    /// Prometheus' `offset()`.
    pub fn offset(&self, now_ns: u128, seed: u64) -> Duration {
        let interval = self.interval.as_nanos().max(1);
        let base = interval - now_ns % interval;
        let offset = u128::from(self.hash ^ seed) % interval;
        let mut next = base + offset;
        if next > interval {
            next -= interval;
        }
        Duration::from_nanos(u64::try_from(next).unwrap_or(u64::MAX))
    }
}

/// The outcome of building one discovered target.
#[derive(Debug, Clone, PartialEq)]
pub enum BuiltTarget {
    /// To be scraped.
    Active(Box<Target>),
    /// Dropped by relabeling; the discovered labels are kept for the API.
    Dropped(Labels),
    /// Invalid (no address, bad interval, ...).
    Failed {
        /// Labels before relabeling.
        discovered_labels: Labels,
        /// Prometheus' error text.
        error: ScrapeError,
    },
}

/// Formats a duration the way Prometheus' `model.Duration` prints (`1m30s`, `15s`,
/// `500ms`, `0s`).
pub fn format_duration(d: Duration) -> String {
    let mut ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    const DAY: u64 = 86_400_000;
    let units: [(&str, u64, bool); 7] = [
        ("y", 365 * DAY, true),
        ("w", 7 * DAY, true),
        ("d", DAY, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1_000, false),
        ("ms", 1, false),
    ];
    for (unit, mult, exact) in units {
        if exact && ms % mult != 0 {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            let _ = write!(out, "{v}{unit}");
            ms -= v * mult;
        }
    }
    out
}

/// The discovered labels of one target: its own labels, then the group's, then the
/// job's defaults (`job`, interval, timeout, path, scheme, params), each only where
/// not already set.
pub fn discovered_labels(
    opts: &ScrapePoolOptions,
    target_labels: &[(&str, &str)],
    group: &TargetGroup,
) -> Labels {
    let mut b = LabelsBuilder::new();
    for (n, v) in target_labels {
        b.set(*n, *v);
    }
    let mut current = b.build();
    for (n, v) in &group.labels {
        if current.get(n).is_none() {
            b.set(n.as_str(), v.as_str());
        }
    }
    current = b.build();
    let interval = format_duration(opts.scrape_interval);
    let timeout = format_duration(opts.scrape_timeout);
    let defaults = [
        (JOB_LABEL, opts.job_name.as_str()),
        (SCRAPE_INTERVAL_LABEL, interval.as_str()),
        (SCRAPE_TIMEOUT_LABEL, timeout.as_str()),
        (METRICS_PATH_LABEL, opts.metrics_path.as_str()),
        (SCHEME_LABEL, opts.scheme.as_str()),
    ];
    for (n, v) in defaults {
        if current.get(n).is_none() {
            b.set(n, v);
        }
    }
    current = b.build();
    for (k, v) in &opts.params {
        let name = format!("{PARAM_LABEL_PREFIX}{k}");
        if let Some(first) = v.first()
            && current.get(&name).is_none()
        {
            b.set(name, first.as_str());
        }
    }
    b.build()
}

/// Builds every target of a group: discovery labels, `relabel_configs`, validation,
/// `instance` defaulting.
pub fn targets_from_group(opts: &ScrapePoolOptions, group: &TargetGroup) -> Vec<BuiltTarget> {
    group
        .targets
        .iter()
        .map(|addr| {
            build_target(
                opts,
                &discovered_labels(opts, &[(ADDRESS_LABEL, addr)], group),
            )
        })
        .collect()
}

/// Applies `relabel_configs` and Prometheus' checks to discovered labels.
pub fn build_target(opts: &ScrapePoolOptions, discovered: &Labels) -> BuiltTarget {
    let fail = |msg: String| BuiltTarget::Failed {
        discovered_labels: discovered.clone(),
        error: ScrapeError::Target(msg),
    };
    let mut b = discovered.to_builder();
    if !watchfire_relabel::process_builder(&opts.relabel_configs, &mut b) {
        return BuiltTarget::Dropped(discovered.clone());
    }
    let relabeled = b.build();
    let Some(addr) = relabeled.get(ADDRESS_LABEL).map(str::to_owned) else {
        return fail("no address".to_owned());
    };
    // Prometheus 3 adds no default port: the address is used as written.
    if addr.contains('/') {
        return fail(format!("{addr:?} is not a valid hostname"));
    }
    let interval_s = relabeled.get(SCRAPE_INTERVAL_LABEL).unwrap_or("");
    let Some(interval_ms) = parse_duration_ms(interval_s) else {
        return fail(format!(
            "error parsing scrape interval: not a valid duration string: {interval_s:?}"
        ));
    };
    if interval_ms <= 0 {
        return fail("scrape interval cannot be 0".to_owned());
    }
    let timeout_s = relabeled.get(SCRAPE_TIMEOUT_LABEL).unwrap_or("");
    let Some(timeout_ms) = parse_duration_ms(timeout_s) else {
        return fail(format!(
            "error parsing scrape timeout: not a valid duration string: {timeout_s:?}"
        ));
    };
    if timeout_ms <= 0 {
        return fail("scrape timeout cannot be 0".to_owned());
    }
    if timeout_ms > interval_ms {
        return fail(format!(
            "scrape timeout cannot be greater than scrape interval ({timeout_s:?} > {interval_s:?})"
        ));
    }
    for l in relabeled.iter() {
        if l.name.starts_with(META_LABEL_PREFIX) {
            b.delete(&l.name);
        }
    }
    if relabeled.get(INSTANCE_LABEL).is_none() {
        b.set(INSTANCE_LABEL, addr.as_str());
    }
    let full = b.build();
    let public = Labels::from_sorted_unchecked(
        full.iter()
            .filter(|l| !l.name.starts_with(RESERVED_LABEL_PREFIX))
            .cloned()
            .collect(),
    );
    let url = target_url(opts, &full);
    let hash = target_hash(&full, &url);
    BuiltTarget::Active(Box::new(Target {
        discovered_labels: discovered.clone(),
        full_labels: full,
        labels: public,
        url,
        interval: Duration::from_millis(interval_ms.unsigned_abs()),
        timeout: Duration::from_millis(timeout_ms.unsigned_abs()),
        hash,
    }))
}

/// FNV-1a over the labels' stable hash and the URL, like Prometheus' `Target.hash`.
fn target_hash(labels: &Labels, url: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let head = format!("{:016}", labels.stable_hash());
    for b in head.bytes().chain(url.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `scheme://address/path?params`: the job's params, with the first value of each
/// overridden (or added) by `__param_<name>` labels, keys sorted as Go's
/// `url.Values.Encode` does.
pub fn target_url(opts: &ScrapePoolOptions, labels: &Labels) -> String {
    let mut params = opts.params.clone();
    for l in labels.iter() {
        if let Some(key) = l.name.strip_prefix(PARAM_LABEL_PREFIX) {
            match params.get_mut(key) {
                Some(values) if !values.is_empty() => values[0] = l.value.clone(),
                _ => {
                    params.insert(key.to_owned(), vec![l.value.clone()]);
                }
            }
        }
    }
    let scheme = labels.get(SCHEME_LABEL).unwrap_or("");
    let host = labels.get(ADDRESS_LABEL).unwrap_or("");
    let path = labels.get(METRICS_PATH_LABEL).unwrap_or("");
    let mut url = format!("{scheme}://{host}");
    if !path.is_empty() && !path.starts_with('/') {
        url.push('/');
    }
    escape_path(&mut url, path);
    let mut first = true;
    for (k, values) in &params {
        for v in values {
            url.push(if first { '?' } else { '&' });
            first = false;
            watchfire_model::go_query_escape_into(&mut url, k);
            url.push('=');
            watchfire_model::go_query_escape_into(&mut url, v);
        }
    }
    url
}

fn push_pct(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 15)]));
}

/// Go's path escaping: unreserved, sub-delimiters, `:`, `@` and `/` kept.
fn escape_path(out: &mut String, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'$'
            | b'&'
            | b'+'
            | b','
            | b'/'
            | b':'
            | b';'
            | b'='
            | b'@' => out.push(char::from(b)),
            _ => push_pct(out, b),
        }
    }
}

/// A point-in-time view of an active target for `/api/v1/targets`.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSnapshot {
    /// Labels before relabeling.
    pub discovered_labels: Labels,
    /// Labels attached to samples.
    pub labels: Labels,
    /// The job.
    pub scrape_pool: String,
    /// The URL scraped.
    pub scrape_url: String,
    /// The URL with a loopback host replaced by the server's external host.
    pub global_url: String,
    /// The last scrape's error, empty when it succeeded.
    pub last_error: String,
    /// When the last scrape started.
    pub last_scrape: Option<SystemTime>,
    /// How long the last scrape took.
    pub last_scrape_duration: Duration,
    /// Health after the last scrape.
    pub health: TargetHealth,
    /// Scrape interval.
    pub scrape_interval: Duration,
    /// Scrape timeout.
    pub scrape_timeout: Duration,
}

/// A target dropped by relabeling, for `/api/v1/targets?state=dropped`.
#[derive(Debug, Clone, PartialEq)]
pub struct DroppedTarget {
    /// Labels before relabeling.
    pub discovered_labels: Labels,
    /// The job.
    pub scrape_pool: String,
}

/// What the last scrape of a target left behind; shared between the loop and the
/// API.
#[derive(Debug, Clone, Default)]
pub(crate) struct TargetStatus {
    pub last_error: String,
    pub last_scrape: Option<SystemTime>,
    pub last_scrape_duration: Duration,
    pub health: TargetHealth,
}

/// `scrape_url` with a loopback host replaced by `global_host`, if given.
pub(crate) fn global_url(url: &str, global_host: Option<&str>) -> String {
    let Some(global) = global_host else {
        return url.to_owned();
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let hostport = &rest[..host_end];
    let (host, port) = match hostport.rfind(':') {
        Some(i) if !hostport[i..].contains(']') => (&hostport[..i], &hostport[i..]),
        _ => (hostport, ""),
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        format!("{scheme}://{global}{port}{}", &rest[host_end..])
    } else {
        url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_prometheus() {
        assert_eq!(format_duration(Duration::from_secs(15)), "15s");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
        assert_eq!(format_duration(Duration::from_secs(7 * 86400)), "1w");
        assert_eq!(format_duration(Duration::from_secs(8 * 86400)), "8d");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn global_url_replaces_loopback() {
        assert_eq!(
            global_url("http://localhost:9090/metrics", Some("prom.example")),
            "http://prom.example:9090/metrics"
        );
        assert_eq!(
            global_url("http://127.0.0.2:9090/metrics?a=b", Some("prom.example")),
            "http://prom.example:9090/metrics?a=b"
        );
        assert_eq!(
            global_url("http://[::1]:9090/metrics", Some("prom.example")),
            "http://prom.example:9090/metrics"
        );
        assert_eq!(
            global_url("http://10.0.0.1:9090/metrics", Some("prom.example")),
            "http://10.0.0.1:9090/metrics"
        );
    }

    #[test]
    fn offset_is_within_interval_and_stable() {
        let t = Target {
            discovered_labels: Labels::empty(),
            full_labels: Labels::empty(),
            labels: Labels::empty(),
            url: String::new(),
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(1),
            hash: 123_456_789,
        };
        let now = 1_700_000_000_123_000_000u128;
        let a = t.offset(now, 0);
        assert!(a <= Duration::from_secs(10));
        // The slot is pinned to absolute time.
        let b = t.offset(now + 1_000_000_000, 0);
        assert_eq!(
            (now + a.as_nanos()) % 10_000_000_000,
            (now + 1_000_000_000 + b.as_nanos()) % 10_000_000_000
        );
    }
}
