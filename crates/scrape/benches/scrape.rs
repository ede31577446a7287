//! Parse + cache + append throughput of a realistic 10k-series scrape into a trivial
//! in-memory store, on the warm (cached) path that steady-state scraping takes.
//!
//! Run: `cargo bench -p watchfire-scrape`; criterion reports samples/s as "elem/s".
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Mutex;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use watchfire_model::{Labels, SeriesRef, Timestamp};
use watchfire_scrape::{Limits, SampleContext, ScrapeCache};
use watchfire_storage::{AppendError, Appendable, Appender, CommitSummary, StorageError};
use watchfire_textparse::Format;

/// Hands out refs; keeps only a count of samples.
#[derive(Default)]
struct NullStore {
    refs: Mutex<HashMap<Labels, u64>>,
}

struct NullAppender<'a> {
    store: &'a NullStore,
    samples: usize,
}

impl Appender for NullAppender<'_> {
    fn append(
        &mut self,
        series: Option<SeriesRef>,
        labels: &Labels,
        _t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        black_box(v);
        self.samples += 1;
        if let Some(r) = series {
            return Ok(r);
        }
        let mut refs = self.store.refs.lock().map_err(|_| AppendError::Closed)?;
        let n = refs.len() as u64 + 1;
        Ok(SeriesRef(*refs.entry(labels.clone()).or_insert(n)))
    }

    fn commit(&mut self) -> Result<CommitSummary, StorageError> {
        Ok(CommitSummary {
            samples: self.samples,
            new_series: 0,
        })
    }

    fn rollback(&mut self) {}
}

impl Appendable for NullStore {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(NullAppender {
            store: self,
            samples: 0,
        })
    }
}

/// About 10k series shaped like node_exporter and an HTTP service's metrics.
fn body() -> (String, usize) {
    let mut out = String::new();
    let mut n = 0;
    out.push_str("# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n");
    out.push_str("# TYPE node_cpu_seconds_total counter\n");
    for cpu in 0..64 {
        for mode in [
            "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
        ] {
            let _ = writeln!(
                out,
                "node_cpu_seconds_total{{cpu=\"{cpu}\",mode=\"{mode}\"}} {}.{}",
                cpu * 1000 + 17,
                cpu % 100
            );
            n += 1;
        }
    }
    out.push_str("# HELP http_request_duration_seconds Request latency.\n");
    out.push_str("# TYPE http_request_duration_seconds histogram\n");
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ];
    'outer: for handler in 0..200 {
        for method in ["GET", "POST"] {
            for code in ["200", "500"] {
                for le in les {
                    let _ = writeln!(
                        out,
                        "http_request_duration_seconds_bucket{{handler=\"/api/v1/resource/{handler}\",method=\"{method}\",code=\"{code}\",le=\"{le}\"}} {}",
                        handler * 7 + 3
                    );
                    n += 1;
                }
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_sum{{handler=\"/api/v1/resource/{handler}\",method=\"{method}\",code=\"{code}\"}} 12.5"
                );
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_count{{handler=\"/api/v1/resource/{handler}\",method=\"{method}\",code=\"{code}\"}} 1234"
                );
                n += 2;
                if n >= 9000 {
                    break 'outer;
                }
            }
        }
    }
    out.push_str("# TYPE node_filesystem_avail_bytes gauge\n");
    while n < 10_000 {
        let _ = writeln!(
            out,
            "node_filesystem_avail_bytes{{device=\"/dev/sd{n}\",fstype=\"ext4\",mountpoint=\"/mnt/data{n}\"}} 1.2345678e+10"
        );
        n += 1;
    }
    (out, n)
}

fn bench(c: &mut Criterion) {
    let (body, n) = body();
    let store = NullStore::default();
    let target = Labels::from_pairs([("job", "node"), ("instance", "host-17:9100")]);
    let ctx = SampleContext {
        target_labels: &target,
        honor_labels: false,
        honor_timestamps: true,
        track_timestamps_staleness: false,
        metric_relabel_configs: &[],
        limits: Limits::default(),
    };
    let mut cache = ScrapeCache::new();
    let mut t = 1_700_000_000_000i64;
    let scrape = |cache: &mut ScrapeCache, t: i64| {
        let mut app = store.appender();
        let (stats, err) = cache.append(
            app.as_mut(),
            body.as_bytes(),
            Format::PrometheusText,
            &ctx,
            t,
        );
        assert!(err.is_none(), "{err:?}");
        let _ = app.commit();
        cache.commit_pass();
        stats
    };
    let stats = scrape(&mut cache, t);
    assert_eq!(stats.total, n);

    let mut g = c.benchmark_group("scrape");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("append_cached_10k", |b| {
        b.iter(|| {
            t += 15_000;
            black_box(scrape(&mut cache, t))
        })
    });
    g.bench_function("append_cold_10k", |b| {
        b.iter(|| {
            let mut cold = ScrapeCache::new();
            black_box(scrape(&mut cold, 1))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
