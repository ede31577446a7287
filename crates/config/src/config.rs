//! The whole `prometheus.yml`: loading, cross-section validation, included scrape
//! config files, path resolution and the redacted dump.

use crate::alerting::AlertingConfig;
use crate::error::{ConfigError, Problem};
use crate::global::GlobalConfig;
use crate::paths::{expand_glob, is_valid_file_pattern, join_dir};
use crate::remote::{RemoteReadConfig, RemoteWriteConfig};
use crate::scrape::ScrapeConfig;
use crate::sd::Opaque;
use crate::types::{NullRemoteRead, NullRemoteWrite, NullScrapeConfig, non_null_seq, null_default};
use crate::{locate, parse};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A loaded and validated Prometheus configuration, with Prometheus' defaults filled
/// in and relative file names joined with the configuration file's directory.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `global`.
    #[serde(default, deserialize_with = "null_default")]
    pub global: GlobalConfig,
    /// `runtime` (accepted, not applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Opaque>,
    /// `alerting`.
    #[serde(default, deserialize_with = "null_default")]
    pub alerting: AlertingConfig,
    /// `rule_files` glob patterns.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rule_files: Vec<String>,
    /// `scrape_config_files` glob patterns.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub scrape_config_files: Vec<String>,
    /// Scrape jobs written in this file (see [`Config::all_scrape_configs`]).
    #[serde(
        default,
        deserialize_with = "non_null_seq::<_, _, NullScrapeConfig>",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub scrape_configs: Vec<ScrapeConfig>,
    /// `storage` (accepted, not applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Opaque>,
    /// `tracing` (accepted, not applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<Opaque>,
    /// `remote_write` endpoints.
    #[serde(
        default,
        deserialize_with = "non_null_seq::<_, _, NullRemoteWrite>",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub remote_write: Vec<RemoteWriteConfig>,
    /// `remote_read` endpoints.
    #[serde(
        default,
        deserialize_with = "non_null_seq::<_, _, NullRemoteRead>",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub remote_read: Vec<RemoteReadConfig>,
    /// `otlp` (accepted, not applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp: Option<Opaque>,
    /// Scrape jobs loaded from `scrape_config_files`, validated against `global`.
    #[serde(skip)]
    pub included_scrape_configs: Vec<ScrapeConfig>,
    /// Things accepted but not acted upon (unimplemented discovery kinds, ignored
    /// files), one sentence each.
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// Directory relative file names were resolved against.
    #[serde(skip)]
    pub directory: PathBuf,
    /// The file this configuration was loaded from, as given.
    #[serde(skip)]
    pub file: PathBuf,
}

/// The shape of a file listed in `scrape_config_files`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScrapeConfigsFile {
    #[serde(default, deserialize_with = "non_null_seq::<_, _, NullScrapeConfig>")]
    scrape_configs: Vec<ScrapeConfig>,
}

impl Config {
    /// Reads and validates `path`.
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            file: path.to_owned(),
            source,
        })?;
        Config::load_str(&text, path)
    }

    /// Validates `text` as if read from `path`, which names the file in errors and
    /// gives the directory relative file names are resolved against (and
    /// `scrape_config_files` are read from).
    pub fn load_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let name = path.to_string_lossy().into_owned();
        let located = |p: Problem| problem_error(text, &name, p);
        let mut cfg: Config = parse::from_yaml(text, &name)?;
        cfg.global
            .normalize()
            .map_err(|(f, m)| located(Problem::new(format!("global.{f}"), m)))?;
        for (i, rf) in cfg.rule_files.iter().enumerate() {
            if !is_valid_file_pattern(rf) {
                return Err(located(Problem::new(
                    format!("rule_files[{i}]"),
                    format!("invalid rule file path {rf:?}"),
                )));
            }
        }
        for (i, sf) in cfg.scrape_config_files.iter().enumerate() {
            if !is_valid_file_pattern(sf) {
                return Err(located(Problem::new(
                    format!("scrape_config_files[{i}]"),
                    format!("invalid scrape config file path {sf:?}"),
                )));
            }
        }
        let mut jobs: HashMap<String, String> = HashMap::new();
        let global = cfg.global.clone();
        for (i, sc) in cfg.scrape_configs.iter_mut().enumerate() {
            let p = format!("scrape_configs[{i}]");
            sc.validate(&global, &p).map_err(&located)?;
            if jobs
                .insert(sc.job_name.clone(), "main config file".into())
                .is_some()
            {
                return Err(located(Problem::new(
                    format!("{p}.job_name"),
                    format!(
                        "found multiple scrape configs with job name {:?}",
                        sc.job_name
                    ),
                )));
            }
        }
        cfg.alerting
            .validate(global.validation_scheme())
            .map_err(&located)?;
        let mut names = Vec::new();
        for (i, rw) in cfg.remote_write.iter_mut().enumerate() {
            let p = format!("remote_write[{i}]");
            if !rw.name.is_empty() && names.contains(&rw.name) {
                return Err(located(Problem::new(
                    format!("{p}.name"),
                    format!(
                        "found multiple remote write configs with job name {:?}",
                        rw.name
                    ),
                )));
            }
            rw.validate(global.validation_scheme(), &p)
                .map_err(&located)?;
            names.push(rw.name.clone());
        }
        names.clear();
        for (i, rr) in cfg.remote_read.iter_mut().enumerate() {
            let p = format!("remote_read[{i}]");
            if !rr.name.is_empty() && names.contains(&rr.name) {
                return Err(located(Problem::new(
                    format!("{p}.name"),
                    format!(
                        "found multiple remote read configs with job name {:?}",
                        rr.name
                    ),
                )));
            }
            rr.validate(&p).map_err(&located)?;
            names.push(rr.name.clone());
        }

        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        cfg.set_directory(&dir);
        cfg.directory = dir;
        cfg.file = path.to_owned();
        cfg.load_scrape_config_files(&mut jobs)?;
        cfg.collect_warnings();
        Ok(cfg)
    }

    fn set_directory(&mut self, dir: &Path) {
        let g = &mut self.global;
        g.query_log_file = join_dir(dir, &g.query_log_file);
        g.scrape_failure_log_file = join_dir(dir, &g.scrape_failure_log_file);
        self.alerting.set_directory(dir);
        for f in self
            .rule_files
            .iter_mut()
            .chain(self.scrape_config_files.iter_mut())
        {
            *f = join_dir(dir, f);
        }
        for sc in &mut self.scrape_configs {
            sc.set_directory(dir);
        }
        for rw in &mut self.remote_write {
            rw.with_http_client(|h| h.resolve_paths(|f| join_dir(dir, f)));
        }
        for rr in &mut self.remote_read {
            rr.with_http_client(|h| h.resolve_paths(|f| join_dir(dir, f)));
        }
    }

    /// Prometheus' `GetScrapeConfigs`: reads every file matched by
    /// `scrape_config_files`, validates its jobs against `global` and rejects job
    /// names already used.
    fn load_scrape_config_files(
        &mut self,
        jobs: &mut HashMap<String, String>,
    ) -> Result<(), ConfigError> {
        for (i, pattern) in self.scrape_config_files.clone().iter().enumerate() {
            let files = expand_glob(pattern).map_err(|m| {
                ConfigError::invalid(
                    self.directory.join("?").to_string_lossy(),
                    None,
                    None,
                    format!("scrape_config_files[{i}]"),
                    m,
                )
            })?;
            for file in files {
                let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Io {
                    file: file.clone(),
                    source,
                })?;
                let name = file.to_string_lossy().into_owned();
                let parsed: ScrapeConfigsFile = parse::from_yaml(&text, &name)?;
                let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
                let abs = std::path::absolute(&file).unwrap_or_else(|_| file.clone());
                for (j, mut sc) in parsed.scrape_configs.into_iter().enumerate() {
                    let p = format!("scrape_configs[{j}]");
                    sc.validate(&self.global, &p)
                        .map_err(|pr| problem_error(&text, &name, pr))?;
                    if let Some(first) = jobs.get(&sc.job_name) {
                        return Err(problem_error(
                            &text,
                            &name,
                            Problem::new(
                                format!("{p}.job_name"),
                                format!(
                                    "found multiple scrape configs with job name {:?}, first found in {first}",
                                    sc.job_name
                                ),
                            ),
                        ));
                    }
                    jobs.insert(sc.job_name.clone(), format!("{:?}", abs.to_string_lossy()));
                    sc.set_directory(&dir);
                    self.included_scrape_configs.push(sc);
                }
            }
        }
        Ok(())
    }

    fn collect_warnings(&mut self) {
        let mut w = Vec::new();
        if !self.global.query_log_file.is_empty() {
            w.push("global.query_log_file is accepted but ignored: Watchfire does not log queries to a file".to_owned());
        }
        if !self.global.scrape_failure_log_file.is_empty() {
            w.push("global.scrape_failure_log_file is accepted but ignored".to_owned());
        }
        for sc in self.all_scrape_configs() {
            for (kind, _) in sc.unimplemented_sd_configs() {
                w.push(format!(
                    "scrape job {:?}: {kind} is not implemented by Watchfire; its targets are ignored",
                    sc.job_name
                ));
            }
        }
        for (i, am) in self.alerting.alertmanagers.iter().enumerate() {
            for (kind, _) in am.unimplemented_sd_configs() {
                w.push(format!(
                    "alerting.alertmanagers[{i}]: {kind} is not implemented by Watchfire; its targets are ignored"
                ));
            }
        }
        self.warnings = w;
    }

    /// Scrape jobs from this file followed by those from `scrape_config_files`.
    pub fn all_scrape_configs(&self) -> impl Iterator<Item = &ScrapeConfig> {
        self.scrape_configs
            .iter()
            .chain(self.included_scrape_configs.iter())
    }

    /// Rule files named by `rule_files`, globs expanded (a pattern matching nothing
    /// contributes nothing), in pattern order.
    pub fn rule_file_paths(&self) -> Result<Vec<PathBuf>, ConfigError> {
        let mut out = Vec::new();
        for (i, p) in self.rule_files.iter().enumerate() {
            let files = expand_glob(p).map_err(|m| {
                ConfigError::invalid(
                    self.file.to_string_lossy(),
                    None,
                    None,
                    format!("rule_files[{i}]"),
                    m,
                )
            })?;
            out.extend(files);
        }
        Ok(out)
    }

    /// The effective configuration as YAML with secrets shown as `<secret>`, for
    /// `/api/v1/status/config`.
    pub fn to_yaml_redacted(&self) -> String {
        match serde_saphyr::to_string(self) {
            Ok(s) => s,
            Err(e) => format!("<error creating config string: {e}>"),
        }
    }
}

/// Turns a semantic problem into an error positioned in `text`.
pub(crate) fn problem_error(text: &str, name: &str, p: Problem) -> ConfigError {
    let pos = locate::locate(text, &p.path);
    ConfigError::invalid(name, pos.map(|x| x.0), pos.map(|x| x.1), p.path, p.message)
}
