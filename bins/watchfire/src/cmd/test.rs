//! `watchfire test promql FILE...`: runs Prometheus' PromQL test scripts against
//! the built-in engine, each `load` session in a fresh temporary store.

use crate::cli::TestCommand;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use watchfire_model::{Labels, SeriesRef, Timestamp};
use watchfire_promql::Engine;
use watchfire_promqltest::{Outcome, ScriptReport, TestStorage, run_script};
use watchfire_storage::{
    AppendError, Appendable, Appender, CommitSummary, Querier, Queryable, StorageError,
};
use watchfire_tsdb::{Db, Options};

/// Runs a `test` subcommand.
pub fn run(cmd: TestCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TestCommand::Promql {
            files,
            show_skipped,
        } => promql(&files, show_skipped),
        TestCommand::Rules { files, run } => {
            let mut out = std::io::stdout().lock();
            let run = (!run.is_empty()).then_some(run.as_slice());
            let code = watchfire_rules::test_rules_command(&files, run, &mut out);
            Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
        }
    }
}

fn promql(files: &[PathBuf], show_skipped: bool) -> anyhow::Result<ExitCode> {
    let engine = Engine::default();
    let mut out = std::io::stdout().lock();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                writeln!(out, "{}: cannot read: {e}", file.display())?;
                failed += 1;
                continue;
            }
        };
        let report = run_script(&text, &engine, &mut || temp_store());
        print_report(&mut out, file, &report, show_skipped)?;
        passed += report.passed;
        failed += report.failed;
        skipped += report.skipped;
    }
    writeln!(out, "{passed} passed, {failed} failed, {skipped} skipped")?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn print_report(
    out: &mut impl Write,
    file: &Path,
    report: &ScriptReport,
    show_skipped: bool,
) -> std::io::Result<()> {
    for e in &report.evals {
        match &e.outcome {
            Outcome::Failed { expected, got } => {
                writeln!(out, "FAIL {}:{}: {}", file.display(), e.line, e.expr)?;
                writeln!(out, "  expected:\n{}", indent(expected))?;
                writeln!(out, "  got:\n{}", indent(got))?;
            }
            Outcome::Skipped { reason } if show_skipped => {
                writeln!(
                    out,
                    "SKIP {}:{}: {}: {reason}",
                    file.display(),
                    e.line,
                    e.expr
                )?;
            }
            _ => {}
        }
    }
    writeln!(
        out,
        "{}: {} passed, {} failed, {} skipped",
        file.display(),
        report.passed,
        report.failed,
        report.skipped
    )
}

/// A fresh store in a new temporary directory, or one that fails every call when
/// the directory cannot be set up.
fn temp_store() -> Box<dyn TestStorage> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "watchfire-promqltest-{}-{}-{nanos}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let opts = Options {
        head_chunk_file_bytes: 1 << 20,
        wal_segment_bytes: 1 << 20,
        ..Options::default()
    };
    match Db::open(&dir, opts) {
        Ok((db, _)) => Box::new(TempDb { db: Some(db), dir }),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            Box::new(BrokenStore(format!(
                "opening a store in {}: {e}",
                dir.display()
            )))
        }
    }
}

/// A [`Db`] whose directory is deleted when it is dropped.
struct TempDb {
    db: Option<Db>,
    dir: PathBuf,
}

impl Drop for TempDb {
    fn drop(&mut self) {
        drop(self.db.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Appendable for TempDb {
    fn appender(&self) -> Box<dyn Appender + '_> {
        match &self.db {
            Some(db) => db.appender(),
            None => Box::new(BrokenAppender),
        }
    }
}

impl Queryable for TempDb {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        match &self.db {
            Some(db) => db.querier(mint, maxt),
            None => Err(StorageError::Invalid("store closed".into())),
        }
    }
}

/// Stands in for a store that could not be opened.
struct BrokenStore(String);

impl Appendable for BrokenStore {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(BrokenAppender)
    }
}

impl Queryable for BrokenStore {
    fn querier(&self, _: Timestamp, _: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        Err(StorageError::Invalid(self.0.clone()))
    }
}

struct BrokenAppender;

impl Appender for BrokenAppender {
    fn append(
        &mut self,
        _: Option<SeriesRef>,
        _: &Labels,
        _: Timestamp,
        _: f64,
    ) -> Result<SeriesRef, AppendError> {
        Err(AppendError::Closed)
    }

    fn commit(&mut self) -> Result<CommitSummary, StorageError> {
        Err(StorageError::Invalid(
            "the store could not be opened".into(),
        ))
    }

    fn rollback(&mut self) {}
}
