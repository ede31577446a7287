//! Parse throughput on a synthetic node_exporter-like payload (~10k lines with
//! counters, gauges, histograms, summaries and escaped label values).
//!
//! Run: `cargo bench -p watchfire-textparse`; criterion reports samples/s as
//! "elem/s".
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use watchfire_textparse::{Entry, Format, Parser};

/// Builds the payload; `om` renders OpenMetrics (counter `_total` names, `# EOF`).
fn payload(om: bool) -> String {
    let mut out = String::new();
    let counter_family = |out: &mut String, name: &str, help: &str| {
        let family = if om {
            name.strip_suffix("_total").unwrap_or(name)
        } else {
            name
        };
        let _ = writeln!(out, "# HELP {family} {help}");
        let _ = writeln!(out, "# TYPE {family} counter");
    };

    counter_family(
        &mut out,
        "node_cpu_seconds_total",
        "Seconds the CPUs spent in each mode.",
    );
    let modes = [
        "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
    ];
    for cpu in 0..64 {
        for (i, mode) in modes.iter().enumerate() {
            let v = 123_456.78 * (cpu + 1) as f64 / (i + 1) as f64;
            let _ = writeln!(
                out,
                "node_cpu_seconds_total{{cpu=\"{cpu}\",mode=\"{mode}\"}} {v}"
            );
        }
    }

    for (metric, help) in [
        (
            "node_network_receive_bytes_total",
            "Network device statistic receive_bytes.",
        ),
        (
            "node_network_transmit_bytes_total",
            "Network device statistic transmit_bytes.",
        ),
        (
            "node_network_receive_packets_total",
            "Network device statistic receive_packets.",
        ),
        (
            "node_network_transmit_errs_total",
            "Network device statistic transmit_errs.",
        ),
    ] {
        counter_family(&mut out, metric, help);
        for dev in 0..200 {
            let _ = writeln!(
                out,
                "{metric}{{device=\"veth{dev:05x}\"}} {}",
                dev * 7_919_713 + 3
            );
        }
    }

    for (metric, help) in [
        (
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
        ),
        ("node_filesystem_size_bytes", "Filesystem size in bytes."),
        (
            "node_filesystem_files_free",
            "Filesystem total free file nodes.",
        ),
    ] {
        let _ = writeln!(out, "# HELP {metric} {help}");
        let _ = writeln!(out, "# TYPE {metric} gauge");
        for fs in 0..150 {
            let _ = writeln!(
                out,
                "{metric}{{device=\"/dev/mapper/vg{fs}-data\",fstype=\"ext4\",\
                 mountpoint=\"/var/lib/kubelet/pods/{fs:08x}/volumes/C:\\\\dir \\\"quoted\\\"\"}} {}",
                1.2345e11 + fs as f64 * 4096.0
            );
        }
    }

    let buckets = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ];
    let _ = writeln!(out, "# HELP http_request_duration_seconds Request latency.");
    let _ = writeln!(out, "# TYPE http_request_duration_seconds histogram");
    for handler in 0..400 {
        let labels = format!("handler=\"/api/v1/endpoint{handler}\",method=\"GET\",code=\"200\"");
        let mut count = 0u64;
        for le in buckets {
            count += 17 + handler;
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "http_request_duration_seconds_sum{{{labels}}} {}",
            count as f64 * 0.0173
        );
        let _ = writeln!(
            out,
            "http_request_duration_seconds_count{{{labels}}} {count}"
        );
    }

    let _ = writeln!(
        out,
        "# HELP go_gc_duration_seconds A summary of GC pause durations."
    );
    let _ = writeln!(out, "# TYPE go_gc_duration_seconds summary");
    for q in ["0", "0.25", "0.5", "0.75", "1"] {
        let _ = writeln!(out, "go_gc_duration_seconds{{quantile=\"{q}\"}} 4.5617e-05");
    }
    let _ = writeln!(out, "go_gc_duration_seconds_sum 0.351928744");
    let _ = writeln!(out, "go_gc_duration_seconds_count 12345");

    let _ = writeln!(
        out,
        "# HELP process_resident_memory_bytes Resident memory size in bytes."
    );
    let _ = writeln!(out, "# TYPE process_resident_memory_bytes gauge");
    for i in 0..2500 {
        let _ = writeln!(out, "process_misc_gauge_{i} {}", i as f64 * 1.5);
    }
    if om {
        out.push_str("# EOF\n");
    }
    out
}

fn count_samples(input: &[u8], format: Format) -> u64 {
    let mut n = 0;
    for entry in Parser::new(input, format) {
        if let Entry::Sample(_) = entry.expect("benchmark payload parses") {
            n += 1;
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    for (name, format) in [
        ("prometheus_text", Format::PrometheusText),
        ("openmetrics", Format::OpenMetrics),
    ] {
        let body = payload(format == Format::OpenMetrics);
        let samples = count_samples(body.as_bytes(), format);
        let lines = body.lines().count();
        eprintln!(
            "{name}: {lines} lines, {samples} samples, {} bytes",
            body.len()
        );

        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(samples));
        group.bench_function("parse", |b| {
            b.iter(|| {
                let mut sum = 0.0;
                for entry in Parser::new(black_box(body.as_bytes()), format) {
                    if let Ok(Entry::Sample(s)) = entry {
                        sum += s.value + s.labels.len() as f64 + s.series.len() as f64;
                    }
                }
                black_box(sum)
            });
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
