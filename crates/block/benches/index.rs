//! `postings_for_matchers` on a 100k-series block.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use watchfire_block::{Block, BlockWriter, CompactionMeta, postings_for_matchers};
use watchfire_model::{Labels, MatchOp, Matcher};

const SERIES: usize = 100_000;
const ULID: &str = "01HV8Y3M6Q5Z00000000000BCH";

/// 100 metrics × 1000 instances; 10 jobs; `env` absent on a quarter of the series.
fn build_block(parent: &std::path::Path) -> Block {
    let envs = ["prod", "staging", "dev"];
    let mut all: Vec<Labels> = (0..SERIES)
        .map(|i| {
            let mut pairs = vec![
                ("__name__".to_string(), format!("metric_{}", i % 100)),
                ("instance".to_string(), format!("inst-{}", i / 100)),
                ("job".to_string(), format!("job_{}", (i / 100) % 10)),
            ];
            if i % 4 != 0 {
                pairs.push(("env".to_string(), envs[i % 3].to_string()));
            }
            Labels::from_pairs(pairs)
        })
        .collect();
    all.sort();
    let mut w = BlockWriter::new(parent, ULID, 0, 7_200_000).expect("writer");
    for l in &all {
        w.add_series(l, &[(0, 7_199_999, 1, b"chunk".as_slice())])
            .expect("add series");
    }
    w.finish(CompactionMeta::default()).expect("finish");
    Block::open(&parent.join(ULID)).expect("open")
}

fn m(op: MatchOp, name: &str, value: &str) -> Matcher {
    Matcher::new(op, name, value).expect("valid matcher")
}

fn bench_postings(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let block = build_block(tmp.path());
    use MatchOp::*;
    let cases: Vec<(&str, Vec<Matcher>)> = vec![
        ("name", vec![m(Equal, "__name__", "metric_7")]),
        (
            "name_job",
            vec![m(Equal, "__name__", "metric_7"), m(Equal, "job", "job_3")],
        ),
        ("job_literals", vec![m(RegexMatch, "job", "job_1|job_2")]),
        (
            "instance_regex",
            vec![m(RegexMatch, "instance", "inst-1.*")],
        ),
        (
            "name_env_absent",
            vec![m(Equal, "__name__", "metric_7"), m(Equal, "env", "")],
        ),
        (
            "name_env_not_literals",
            vec![
                m(Equal, "__name__", "metric_7"),
                m(RegexNoMatch, "env", "prod|dev"),
            ],
        ),
        ("job_present", vec![m(NotEqual, "job", "")]),
        ("only_negative", vec![m(NotEqual, "env", "prod")]),
        ("instance_any", vec![m(RegexMatch, "instance", ".+")]),
        (
            "name_regex_instance",
            vec![
                m(RegexMatch, "__name__", "metric_1.*"),
                m(RegexMatch, "instance", "inst-9.."),
            ],
        ),
    ];
    let mut group = c.benchmark_group("postings_for_matchers_100k");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (name, ms) in &cases {
        group.bench_with_input(BenchmarkId::from_parameter(name), ms, |b, ms| {
            b.iter(|| postings_for_matchers(block.index(), black_box(ms)).expect("postings"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_postings);
criterion_main!(benches);
