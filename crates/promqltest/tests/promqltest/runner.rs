//! The runner loads samples at `i * step`, opens a fresh store per session and
//! counts outcomes (with evals whose verdict does not depend on the engine).
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use watchfire_model::{Labels, Matcher, SeriesRef, Timestamp, is_stale_nan};
use watchfire_promql::Engine;
use watchfire_promqltest::{Outcome, TestStorage, run_script};
use watchfire_storage::{
    AppendError, Appendable, Appender, CommitSummary, Querier, Queryable, SelectHints, SeriesSet,
    StorageError, VecSeriesSet,
};

type Log = Arc<Mutex<Vec<(usize, String, Timestamp, f64)>>>;

struct Store {
    session: usize,
    log: Log,
}

struct App {
    session: usize,
    log: Log,
    pending: Vec<(usize, String, Timestamp, f64)>,
}

impl Appender for App {
    fn append(
        &mut self,
        _: Option<SeriesRef>,
        l: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        self.pending.push((self.session, l.to_string(), t, v));
        Ok(SeriesRef(0))
    }
    fn commit(&mut self) -> Result<CommitSummary, StorageError> {
        self.log.lock().unwrap().append(&mut self.pending);
        Ok(CommitSummary::default())
    }
    fn rollback(&mut self) {
        self.pending.clear();
    }
}

impl Appendable for Store {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(App {
            session: self.session,
            log: self.log.clone(),
            pending: Vec::new(),
        })
    }
}

struct EmptyQuerier;

impl Querier for EmptyQuerier {
    fn select(&self, _: &SelectHints, _: &[Matcher]) -> Result<SeriesSet, StorageError> {
        Ok(VecSeriesSet::from_vec(Vec::new()))
    }
    fn label_names(&self, _: &[Matcher]) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }
    fn label_values(&self, _: &str, _: &[Matcher]) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }
}

impl Queryable for Store {
    fn querier(&self, _: Timestamp, _: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(EmptyQuerier))
    }
}

#[test]
fn loads_sessions_and_counts() {
    let script = "\
load 1m
  a{x=\"1\"} 1+1x2 _ stale
  h {{schema:0 sum:1 count:1}} 5

eval instant at 1m h
  h {{schema:0 sum:1 count:1}}

clear

load 30s
  b 7 _x2 8

not a command
";
    let log: Log = Arc::default();
    let mut sessions = 0;
    let l2 = log.clone();
    let report = run_script(
        script,
        &Engine::default(),
        &mut || -> Box<dyn TestStorage> {
            sessions += 1;
            Box::new(Store {
                session: sessions,
                log: l2.clone(),
            })
        },
    );
    assert_eq!(sessions, 2);
    assert_eq!(
        (report.passed, report.failed, report.skipped),
        (0, 1, 1),
        "{report:?}"
    );
    assert!(
        matches!(&report.evals[0].outcome, Outcome::Skipped { reason } if reason.contains("native histograms"))
    );
    assert_eq!(report.evals[1].line, 13);
    let log = log.lock().unwrap();
    let got: Vec<(usize, Timestamp)> = log.iter().map(|(s, _, t, _)| (*s, *t)).collect();
    assert_eq!(
        got,
        [
            (1, 0),
            (1, 60_000),
            (1, 120_000),
            (1, 240_000),
            (1, 60_000),
            (2, 0),
            (2, 90_000)
        ]
    );
    assert!(is_stale_nan(log[3].3));
    assert_eq!(log[4].3, 5.0);
    assert_eq!(log[6].3, 8.0);
}
