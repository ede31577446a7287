//! `watchfire tsdb ...`: import, analyze, dump.

use super::selector::parse_selector;
use crate::cli::{ImportFormat, TsdbCommand};
use anyhow::Context;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use watchfire_storage::{CardinalitySource, Queryable, SelectHints};
use watchfire_tsdb::{Db, Options, TsdbError, import_openmetrics};

/// Runs a `tsdb` subcommand.
pub fn run(cmd: TsdbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TsdbCommand::Import {
            format:
                ImportFormat::Openmetrics {
                    file,
                    data_dir,
                    block_duration,
                },
        } => {
            let input =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let report = import_openmetrics(&input, &data_dir, block_duration.as_millis() as i64)
                .with_context(|| format!("importing {}", file.display()))?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "imported {} samples of {} series into {} block(s) under {}",
                report.samples,
                report.series,
                report.blocks.len(),
                data_dir.display()
            )?;
            for b in &report.blocks {
                writeln!(out, "  {b}")?;
            }
            if report.duplicates > 0 {
                writeln!(
                    out,
                    "dropped {} samples repeating a timestamp of their series",
                    report.duplicates
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        TsdbCommand::Analyze { data_dir, limit } => analyze(&data_dir, limit),
        TsdbCommand::Compact { data_dir } => compact(&data_dir),
        TsdbCommand::Dump {
            data_dir,
            selector,
            min_time,
            max_time,
        } => dump(&data_dir, selector.as_deref(), min_time, max_time),
    }
}

fn open(dir: &Path) -> anyhow::Result<Db> {
    if !dir.is_dir() {
        anyhow::bail!("{} is not a data directory", dir.display());
    }
    match Db::open(dir, Options::default()) {
        Ok((db, _)) => Ok(db),
        Err(e @ TsdbError::Locked(_)) => {
            Err(anyhow::anyhow!("{e}; stop it first, or copy the directory"))
        }
        Err(e) => Err(e).with_context(|| format!("opening {}", dir.display())),
    }
}

fn compact(dir: &Path) -> anyhow::Result<ExitCode> {
    let db = open(dir)?;
    let before = db.blocks().len();
    let size_before = db.size_bytes();
    let mut rounds = 0;
    while db.compact()? {
        rounds += 1;
        if rounds > 1000 {
            break;
        }
    }
    writeln!(
        std::io::stdout().lock(),
        "{before} block(s), {size_before} bytes -> {} block(s), {} bytes",
        db.blocks().len(),
        db.size_bytes()
    )?;
    db.close()?;
    Ok(ExitCode::SUCCESS)
}

fn analyze(dir: &Path, limit: usize) -> anyhow::Result<ExitCode> {
    let db = open(dir)?;
    let mut out = std::io::stdout().lock();
    let (mut series, mut samples, mut chunks, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    writeln!(out, "Blocks:")?;
    writeln!(
        out,
        "{:<28} {:>14} {:>14} {:>10} {:>12} {:>10} {:>12} {:>8}",
        "ULID", "min time", "max time", "series", "samples", "chunks", "bytes", "B/sample"
    )?;
    for b in db.blocks() {
        let m = b.meta();
        let size = b.size_bytes();
        writeln!(
            out,
            "{:<28} {:>14} {:>14} {:>10} {:>12} {:>10} {:>12} {:>8.3}",
            m.ulid,
            m.min_time,
            m.max_time,
            m.stats.num_series,
            m.stats.num_samples,
            m.stats.num_chunks,
            size,
            size as f64 / m.stats.num_samples.max(1) as f64
        )?;
        series += m.stats.num_series;
        samples += m.stats.num_samples;
        chunks += m.stats.num_chunks;
        bytes += size;
    }
    writeln!(
        out,
        "Total: {} blocks, {series} series (summed over blocks), {samples} samples, {chunks} chunks, {bytes} bytes, {:.3} bytes/sample",
        db.blocks().len(),
        bytes as f64 / samples.max(1) as f64
    )?;
    let head = db.head();
    writeln!(
        out,
        "\nHead: {} series, {} samples replayed from the WAL, time range {:?}..{:?}",
        head.num_series(),
        head.counters
            .samples_appended
            .load(std::sync::atomic::Ordering::Relaxed),
        head.min_time(),
        head.max_time()
    )?;
    let stats = if head.num_series() > 0 {
        db.cardinality(limit)
    } else {
        block_cardinality(&db, limit)?
    };
    let lists = [
        (
            "Highest series count by metric name",
            &stats.series_count_by_metric_name,
        ),
        (
            "Highest cardinality labels (distinct values)",
            &stats.label_value_count_by_label_name,
        ),
        (
            "Most common label pairs (series)",
            &stats.series_count_by_label_value_pair,
        ),
        (
            "Label names by bytes of values",
            &stats.memory_in_bytes_by_label_name,
        ),
    ];
    for (title, list) in lists {
        writeln!(out, "\n{title}:")?;
        for (k, v) in list {
            writeln!(out, "{v:>10} {k}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Cardinality of the newest block, for directories whose head is empty.
fn block_cardinality(db: &Db, limit: usize) -> anyhow::Result<watchfire_storage::CardinalityStats> {
    use watchfire_block::PostingsIndex;
    let mut stats = watchfire_storage::CardinalityStats::default();
    let Some(b) = db.blocks().last().cloned() else {
        return Ok(stats);
    };
    let ix = b.index();
    stats.num_series = u64::from(ix.num_series());
    let (mut metrics, mut values, mut pairs, mut bytes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for name in ix.label_names()? {
        let vals = ix.label_values(&name)?;
        values.push((name.clone(), vals.len() as u64));
        let mut total = 0u64;
        for v in vals {
            let n = ix.postings(&name, &v)?.len() as u64;
            total += n * v.len() as u64;
            if name == watchfire_model::METRIC_NAME {
                metrics.push((v.clone(), n));
            }
            pairs.push((format!("{name}={v}"), n));
        }
        bytes.push((name, total));
    }
    let top = |mut v: Vec<(String, u64)>| {
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(limit);
        v
    };
    stats.series_count_by_metric_name = top(metrics);
    stats.label_value_count_by_label_name = top(values);
    stats.series_count_by_label_value_pair = top(pairs);
    stats.memory_in_bytes_by_label_name = top(bytes);
    Ok(stats)
}

fn dump(
    dir: &Path,
    selector: Option<&str>,
    min_time: i64,
    max_time: i64,
) -> anyhow::Result<ExitCode> {
    let matchers = match selector {
        Some(s) => parse_selector(s).map_err(|e| anyhow::anyhow!("--match: {e}"))?,
        None => vec![watchfire_model::Matcher::new(
            watchfire_model::MatchOp::RegexMatch,
            "__name__",
            ".*",
        )?],
    };
    let db = open(dir)?;
    let q = db.querier(min_time, max_time)?;
    let hints = SelectHints {
        start: min_time,
        end: max_time,
        labels_only: false,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for series in q.select(&hints, &matchers)? {
        let series = series?;
        let labels = series.labels.to_string();
        for s in series.collect_samples()? {
            writeln!(
                out,
                "{labels} {} {}",
                watchfire_model::format_go_float(s.v),
                s.t
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
