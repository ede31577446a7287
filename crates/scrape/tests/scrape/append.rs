//! The synchronous append path: cache, labels, limits, staleness.

use watchfire_model::{Labels, is_stale_nan};
use watchfire_relabel::RelabelConfig;
use watchfire_scrape::{Limits, SampleContext, ScrapeCache, ScrapeError};
use watchfire_storage::Appendable;
use watchfire_textparse::Format;

use crate::harness::{MemStore, relabel};

struct Fixture {
    store: std::sync::Arc<MemStore>,
    cache: ScrapeCache,
    target: Labels,
    honor_labels: bool,
    honor_timestamps: bool,
    relabel: Vec<RelabelConfig>,
    limits: Limits,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            store: MemStore::new(),
            cache: ScrapeCache::new(),
            target: Labels::from_pairs([("job", "j"), ("instance", "h:1")]),
            honor_labels: false,
            honor_timestamps: true,
            relabel: Vec::new(),
            limits: Limits::default(),
        }
    }

    /// One scrape: append, roll back + stale on error, commit.
    fn scrape(
        &mut self,
        body: &str,
        t: i64,
    ) -> (watchfire_scrape::AppendStats, Option<ScrapeError>) {
        let ctx = SampleContext {
            target_labels: &self.target,
            honor_labels: self.honor_labels,
            honor_timestamps: self.honor_timestamps,
            track_timestamps_staleness: false,
            metric_relabel_configs: &self.relabel,
            limits: self.limits,
        };
        let store = self.store.clone();
        let mut app = store.appender();
        let (stats, err) = self.cache.append(
            app.as_mut(),
            body.as_bytes(),
            Format::PrometheusText,
            &ctx,
            t,
        );
        if err.is_some() {
            app.rollback();
            app = store.appender();
            self.cache.append_empty(app.as_mut(), t).unwrap();
        }
        app.commit().unwrap();
        self.cache.commit_pass();
        (stats, err)
    }
}

#[test]
fn target_labels_win_and_conflicts_are_exported() {
    let mut f = Fixture::new();
    let (stats, err) = f.scrape("m{job=\"app\",exported_job=\"x\",a=\"1\"} 1\n", 1000);
    assert!(err.is_none());
    assert_eq!((stats.total, stats.added, stats.series_added), (1, 1, 1));
    let s = &f.store.samples()[0];
    assert_eq!(
        s.labels.to_string(),
        r#"{__name__="m", a="1", exported_exported_job="app", exported_job="x", instance="h:1", job="j"}"#
    );
}

#[test]
fn honor_labels_keeps_scraped_values() {
    let mut f = Fixture::new();
    f.honor_labels = true;
    f.scrape("m{job=\"app\"} 1\n", 1000);
    let s = &f.store.samples()[0];
    assert_eq!(
        s.labels.to_string(),
        r#"{__name__="m", instance="h:1", job="app"}"#
    );
}

#[test]
fn cached_series_reuse_refs_and_vanished_series_go_stale() {
    let mut f = Fixture::new();
    f.scrape("a 1\nb{x=\"1\"} 2\nc 3\n", 1000);
    let (stats, err) = f.scrape("a 4\nc 5\n", 2000);
    assert!(err.is_none());
    assert_eq!(stats.series_added, 0);
    assert_eq!(stats.stale_markers, 1);
    let b = f.store.series("b", &[]);
    assert_eq!(b.len(), 2);
    assert!(is_stale_nan(b[1].v));
    assert_eq!(b[1].t, 2000);
    // Already stale: no second marker; it comes back as a new series.
    let (stats, _) = f.scrape("a 6\nc 7\n", 3000);
    assert_eq!(stats.stale_markers, 0);
    let (stats, _) = f.scrape("a 6\nb{x=\"1\"} 8\nc 7\n", 4000);
    assert_eq!(stats.stale_markers, 0);
    assert_eq!(f.store.series("b", &[]).last().unwrap().v, 8.0);
    assert_eq!(f.store.series("a", &[]).len(), 4);
}

#[test]
fn duplicate_lines_and_explicit_timestamps() {
    let mut f = Fixture::new();
    let (stats, _) = f.scrape("a 1\na 2\nts 5 123\n", 1000);
    assert_eq!(stats.total, 3);
    assert_eq!(stats.rejected, 1);
    assert_eq!(f.store.series("a", &[]).len(), 1);
    assert_eq!(f.store.series("ts", &[])[0].t, 123);
    // Series with explicit timestamps are not marked stale.
    let (stats, _) = f.scrape("a 1\n", 2000);
    assert_eq!(stats.stale_markers, 0);

    let mut f = Fixture::new();
    f.honor_timestamps = false;
    f.scrape("ts 5 123\n", 1000);
    assert_eq!(f.store.series("ts", &[])[0].t, 1000);
}

#[test]
fn sample_limit_fails_whole_scrape_and_marks_stale() {
    let mut f = Fixture::new();
    f.scrape("a 1\nb 1\n", 1000);
    f.limits.sample_limit = 2;
    let (stats, err) = f.scrape("a 2\nb 2\nc 2\n", 2000);
    assert_eq!(err.unwrap().to_string(), "sample limit exceeded");
    assert_eq!(stats.total, 3);
    assert!(f.store.series("c", &[]).is_empty());
    assert!(is_stale_nan(f.store.last("a", &[]).unwrap()));
    assert!(is_stale_nan(f.store.last("b", &[]).unwrap()));
    // Within the limit again: the series come back.
    let (_, err) = f.scrape("a 3\nb 3\n", 3000);
    assert!(err.is_none());
    assert_eq!(f.store.last("a", &[]), Some(3.0));
}

#[test]
fn label_limits_fail_the_scrape() {
    let mut f = Fixture::new();
    f.limits.label_limit = 3;
    let (_, err) = f.scrape("m{a=\"1\",b=\"2\"} 1\n", 1000);
    assert_eq!(
        err.unwrap().to_string(),
        r#"label_limit exceeded (metric: m{a="1",b="2"}, number of labels: 5, limit: 3)"#
    );
    assert!(f.store.samples().is_empty());

    let mut f = Fixture::new();
    f.limits.label_value_length_limit = 3;
    let (_, err) = f.scrape("m{a=\"long\"} 1\n", 1000);
    assert_eq!(
        err.unwrap().to_string(),
        r#"label_value_length_limit exceeded (metric: m{a="long"}, label name: a, value: "long", length: 4, limit: 3)"#
    );
}

#[test]
fn metric_relabeling_drops_and_rewrites() {
    let mut f = Fixture::new();
    f.relabel = relabel(
        r#"
- source_labels: [__name__]
  regex: "go_.*"
  action: drop
- source_labels: [code]
  target_label: status
- regex: code
  action: labeldrop
"#,
    );
    let (stats, err) = f.scrape("go_gc 1\nhttp{code=\"200\"} 5\n", 1000);
    assert!(err.is_none());
    assert_eq!((stats.total, stats.added), (2, 1));
    let s = f.store.samples();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].labels.get("status"), Some("200"));
    assert_eq!(s[0].labels.get("code"), None);
    // The dropped line stays dropped on the cached path too.
    let (stats, _) = f.scrape("go_gc 2\nhttp{code=\"200\"} 6\n", 2000);
    assert_eq!((stats.total, stats.added), (2, 1));
}

#[test]
fn parse_errors_fail_and_keep_metadata() {
    let mut f = Fixture::new();
    let (_, err) = f.scrape("# HELP a Help text.\n# TYPE a counter\na 1\n", 1000);
    assert!(err.is_none());
    let md = f.cache.take_changed_metadata().unwrap();
    assert_eq!(md[0].metric, "a");
    assert_eq!(md[0].kind, "counter");
    assert_eq!(md[0].help, "Help text.");
    let (_, err) = f.scrape("a 1\nb{ 2\n", 2000);
    assert!(matches!(err, Some(ScrapeError::Parse(_))));
    assert!(is_stale_nan(f.store.last("a", &[]).unwrap()));
}

#[test]
fn reordered_and_reformatted_bodies_use_the_right_series() {
    let mut f = Fixture::new();
    f.scrape("a{x=\"1\"} 1\nb{x=\"2\"} 2\nc 3\n", 1000);
    f.scrape("c 30\nb{x=\"2\"} 20\na{x=\"1\"} 10\n", 2000);
    f.scrape("b{x=\"2\"} 200\nc 300\na{x=\"1\"} 100\n", 3000);
    assert_eq!(f.store.last("a", &[("x", "1")]), Some(100.0));
    assert_eq!(f.store.last("b", &[("x", "2")]), Some(200.0));
    assert_eq!(f.store.last("c", &[]), Some(300.0));
    assert_eq!(
        f.store
            .samples()
            .iter()
            .filter(|s| is_stale_nan(s.v))
            .count(),
        0
    );
    assert_eq!(f.cache.len(), 3);
}

#[test]
fn long_gone_series_are_evicted_from_the_cache() {
    let mut f = Fixture::new();
    f.scrape("a 1\nb 1\nc 1\n", 1000);
    assert_eq!(f.cache.len(), 3);
    for i in 2..15 {
        f.scrape("a 1\n", i * 1000);
    }
    assert_eq!(f.cache.len(), 1);
    // Evicted slots are reused; everything still resolves.
    f.scrape("a 2\nb 2\nd 2\n", 20_000);
    assert_eq!(f.cache.len(), 3);
    assert_eq!(f.store.last("b", &[]), Some(2.0));
    assert_eq!(f.store.last("d", &[]), Some(2.0));
    f.scrape("d 3\nb 3\na 3\n", 21_000);
    assert_eq!(f.store.last("a", &[]), Some(3.0));
    assert_eq!(f.store.last("b", &[]), Some(3.0));
    assert_eq!(f.store.last("d", &[]), Some(3.0));
}
