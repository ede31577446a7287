//! `watchfire check config`, printing what `promtool check config` prints.

use crate::alerting::AlertmanagerConfig;
use crate::config::Config;
use crate::http::TlsConfig;
use crate::paths::expand_glob;
use crate::scrape::ScrapeConfig;
use crate::sd::{TargetGroup, load_file_sd};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Checks each configuration file like `promtool check config`: syntax and
/// semantics, referenced rule files (existence here, contents through
/// `check_rules`, which returns the number of rules or the error text), credential
/// and TLS files, file SD files and static targets after relabeling. Output goes to
/// `out`, failures to `err`. Returns the exit code: 0 when all passed, 1 otherwise.
pub fn check_config_command(
    paths: &[PathBuf],
    out: &mut dyn Write,
    err: &mut dyn Write,
    check_rules: &dyn Fn(&Path) -> Result<usize, String>,
) -> i32 {
    let mut failed = false;
    for path in paths {
        let _ = writeln!(out, "Checking {}", path.display());
        let rule_files = match check_one(path, out) {
            Ok(rule_files) => {
                if !rule_files.is_empty() {
                    let _ = writeln!(out, "  SUCCESS: {} rule files found", rule_files.len());
                }
                let _ = writeln!(
                    out,
                    " SUCCESS: {} is valid prometheus config file syntax",
                    path.display()
                );
                rule_files
            }
            Err(e) => {
                let _ = writeln!(err, "  FAILED: {e}");
                failed = true;
                Vec::new()
            }
        };
        let _ = writeln!(out);
        for rf in rule_files {
            let _ = writeln!(out, "Checking {}", rf.display());
            match check_rules(&rf) {
                Ok(n) => {
                    let _ = writeln!(out, "  SUCCESS: {n} rules found");
                }
                Err(e) => {
                    let _ = writeln!(err, "  FAILED:");
                    for line in e.lines() {
                        let _ = writeln!(err, "     {line}");
                    }
                    failed = true;
                }
            }
            let _ = writeln!(out);
        }
    }
    i32::from(failed)
}

/// Go's `os.Stat` error text.
fn stat(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Ok(());
    }
    std::fs::metadata(path).map(|_| ()).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => e.to_string(),
        };
        format!("stat {path}: {why}")
    })
}

fn check_tls(tls: &TlsConfig) -> Result<(), String> {
    if !tls.cert_file.is_empty() && tls.key_file.is_empty() {
        return Err(format!(
            "client cert file {:?} specified without client key file",
            tls.cert_file
        ));
    }
    if !tls.key_file.is_empty() && tls.cert_file.is_empty() {
        return Err(format!(
            "client key file {:?} specified without client cert file",
            tls.key_file
        ));
    }
    stat(&tls.cert_file)
        .map_err(|e| format!("error checking client cert file {:?}: {e}", tls.cert_file))?;
    stat(&tls.key_file)
        .map_err(|e| format!("error checking client key file {:?}: {e}", tls.key_file))?;
    Ok(())
}

fn check_one(path: &Path, out: &mut dyn Write) -> Result<Vec<PathBuf>, String> {
    if let Err(e) = std::fs::metadata(path) {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
            _ => e.to_string(),
        };
        return Err(format!("open {}: {why}", path.display()));
    }
    let cfg = Config::load_file(path).map_err(|e| format!("parsing YAML file {e}"))?;

    let mut rule_files = Vec::new();
    for rf in &cfg.rule_files {
        let found = expand_glob(rf)?;
        if !rf.contains('*') {
            let Some(first) = found.first() else {
                return Err(format!("{rf:?} does not point to an existing file"));
            };
            let first = first.to_string_lossy().into_owned();
            stat(&first).map_err(|e| format!("error checking rule file {first:?}: {e}"))?;
        }
        rule_files.extend(found);
    }

    for sc in cfg.all_scrape_configs() {
        if let Some(a) = &sc.authorization {
            stat(&a.credentials_file).map_err(|e| {
                format!(
                    "error checking authorization credentials or bearer token file {:?}: {e}",
                    a.credentials_file
                )
            })?;
        }
        check_tls(&sc.tls_config)?;
        for fsd in &sc.file_sd_configs {
            for pattern in &fsd.files {
                let files = expand_glob(pattern)?;
                if files.is_empty() {
                    let _ = writeln!(
                        out,
                        "  WARNING: file {pattern:?} for file_sd in scrape job {:?} does not exist",
                        sc.job_name
                    );
                }
                for f in files {
                    let groups = load_file_sd(&f)
                        .map_err(|e| format!("checking SD file {pattern:?}: {e}"))?;
                    check_scrape_groups(sc, &groups)?;
                }
            }
        }
        check_scrape_groups(sc, &sc.static_target_groups())?;
    }

    for am in &cfg.alerting.alertmanagers {
        for fsd in &am.file_sd_configs {
            for pattern in &fsd.files {
                let files = expand_glob(pattern)?;
                if files.is_empty() {
                    let _ = writeln!(
                        out,
                        "  WARNING: file {pattern:?} for file_sd in alertmanager config does not exist"
                    );
                }
                for f in files {
                    let groups = load_file_sd(&f)
                        .map_err(|e| format!("checking SD file {pattern:?}: {e}"))?;
                    check_alertmanager_groups(am, &groups)?;
                }
            }
        }
        check_alertmanager_groups(am, &am.static_target_groups())?;
    }
    Ok(rule_files)
}

fn check_scrape_groups(sc: &ScrapeConfig, groups: &[TargetGroup]) -> Result<(), String> {
    for g in groups {
        for (i, t) in g.targets.iter().enumerate() {
            let target = std::collections::BTreeMap::from([("__address__".to_owned(), t.clone())]);
            sc.populate_target_labels(&target, &g.labels)
                .map_err(|e| format!("instance {i} in group {}: {e}", g.source))?;
        }
    }
    Ok(())
}

fn check_alertmanager_groups(
    am: &AlertmanagerConfig,
    groups: &[TargetGroup],
) -> Result<(), String> {
    for g in groups {
        for t in &g.targets {
            am.populate_target_labels(t, &g.labels)?;
        }
    }
    Ok(())
}
