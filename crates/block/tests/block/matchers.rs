//! `postings_for_matchers` against a brute-force evaluation over every series, on a
//! persisted block and on an in-memory index using only the required trait methods.

use crate::common::{MemIndex, TestSeries, ULID, gen_series, write_block};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use watchfire_block::{Block, PostingsIndex, postings_for_matchers};
use watchfire_model::{MatchOp, Matcher};

fn brute_force(series: &[TestSeries], matchers: &[Matcher]) -> Vec<u32> {
    series
        .iter()
        .enumerate()
        .filter(|(_, s)| matchers.iter().all(|m| m.matches_labels(&s.labels)))
        .map(|(i, _)| i as u32)
        .collect()
}

fn m(op: MatchOp, name: &str, value: &str) -> Matcher {
    Matcher::new(op, name, value).expect("valid matcher")
}

const NAMES: &[&str] = &["__name__", "job", "env", "a", "series", "missing"];
const VALUES: &[&str] = &[
    "",
    "a",
    "b",
    "ab",
    "x1",
    "prod",
    "dev",
    "metric_1",
    "job_3",
    "7",
    "nope",
    "a|b",
    "prod|dev",
    "job_1|job_2|nope",
    ".*",
    ".+",
    "a.*",
    "x.",
    "a|",
    "(a|b)b?",
    "metric_1.*",
    ".*_3",
    "1.",
];
const OPS: &[MatchOp] = &[
    MatchOp::Equal,
    MatchOp::NotEqual,
    MatchOp::RegexMatch,
    MatchOp::RegexNoMatch,
];

fn matcher_strategy() -> impl Strategy<Value = Matcher> {
    (
        prop::sample::select(NAMES),
        prop::sample::select(OPS),
        prop::sample::select(VALUES),
    )
        .prop_map(|(n, op, v)| m(op, n, v))
}

fn check<I: PostingsIndex + ?Sized>(ix: &I, series: &[TestSeries], ms: &[Matcher]) {
    let got = postings_for_matchers(ix, ms).expect("postings");
    let want = brute_force(series, ms);
    let shown: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
    assert_eq!(got, want, "matchers {shown:?}");
}

#[test]
fn named_cases_match_brute_force() {
    let tmp = tempfile::tempdir().unwrap();
    let series = gen_series(1000);
    let block = Block::open(&write_block(tmp.path(), ULID, &series)).unwrap();
    let mem = MemIndex::new(&series);
    use MatchOp::*;
    let cases: Vec<Vec<Matcher>> = vec![
        vec![],
        vec![m(Equal, "env", "")],
        vec![m(NotEqual, "env", "")],
        vec![m(RegexMatch, "env", ".*")],
        vec![m(RegexMatch, "a", ".+")],
        vec![m(RegexNoMatch, "a", "a|b")],
        vec![m(RegexMatch, "a", "a|b")],
        vec![m(RegexMatch, "a", "a|b|")],
        vec![m(Equal, "__name__", "metric_3"), m(Equal, "env", "")],
        vec![
            m(Equal, "__name__", "metric_3"),
            m(RegexNoMatch, "a", "a|b"),
        ],
        vec![
            m(Equal, "__name__", "metric_3"),
            m(NotEqual, "job", "job_3"),
        ],
        vec![
            m(RegexMatch, "job", "job_1|job_2"),
            m(RegexMatch, "a", "a.*"),
        ],
        vec![m(Equal, "missing", "")],
        vec![m(Equal, "missing", "x")],
        vec![m(NotEqual, "missing", "")],
        vec![m(RegexNoMatch, "missing", ".*")],
        vec![m(RegexNoMatch, "job", ".*")],
        vec![m(RegexNoMatch, "env", ".+")],
        vec![m(NotEqual, "env", "prod"), m(RegexNoMatch, "a", "x1")],
        vec![m(Equal, "__name__", "nope"), m(Equal, "env", "")],
    ];
    for ms in &cases {
        check(block.index(), &series, ms);
        check(&mem, &series, ms);
    }
    assert_eq!(
        postings_for_matchers(block.index(), &[]).unwrap().len(),
        series.len()
    );
}

#[test]
fn random_matcher_sets_match_brute_force() {
    let tmp = tempfile::tempdir().unwrap();
    let series = gen_series(600);
    let block = Block::open(&write_block(tmp.path(), ULID, &series)).unwrap();
    let mem = MemIndex::new(&series);
    let mut runner = TestRunner::new(Config::with_cases(1500));
    runner
        .run(&prop::collection::vec(matcher_strategy(), 1..4), |ms| {
            let want = brute_force(&series, &ms);
            let got = postings_for_matchers(block.index(), &ms).unwrap();
            prop_assert_eq!(&got, &want, "block, matchers {:?}", ms);
            let got = postings_for_matchers(&mem, &ms).unwrap();
            prop_assert_eq!(&got, &want, "mem index, matchers {:?}", ms);
            let got = postings_for_matchers(&block, &ms).unwrap();
            prop_assert_eq!(&got, &want, "block as index, matchers {:?}", ms);
            Ok(())
        })
        .unwrap();
}
