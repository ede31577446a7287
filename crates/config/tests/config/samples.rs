//! `config-samples/prometheus`: every bad sample is rejected with file, line and a
//! specific message; the good ones load.

use crate::shared;
use watchfire_config::Config;

/// Expected message fragment for each bad sample.
const BAD: &[(&str, &str)] = &[
    (
        "ec2_filters_empty_values.bad.yml",
        "EC2 SD configuration filter values cannot be empty",
    ),
    (
        "empty_alert_relabel_config.bad.yml",
        "empty or null alert relabeling rule",
    ),
    (
        "empty_alertmanager_relabel_config.bad.yml",
        "empty or null Alertmanager target relabeling rule",
    ),
    (
        "empty_metric_relabel_config.bad.yml",
        "empty or null metric relabeling rule in scrape config",
    ),
    (
        "empty_rr_config.bad.yml",
        "empty or null remote read config section",
    ),
    (
        "empty_rw_config.bad.yml",
        "empty or null remote write config section",
    ),
    (
        "empty_rw_relabel_config.bad.yml",
        "empty or null relabeling rule in remote write config",
    ),
    (
        "empty_scrape_config.bad.yml",
        "empty or null scrape config section",
    ),
    (
        "empty_scrape_config_action.bad.yml",
        "relabel action cannot be empty",
    ),
    (
        "empty_static_config.bad.yml",
        "empty or null section in static_configs",
    ),
    (
        "empty_target_relabel_config.bad.yml",
        "empty or null target relabeling rule in scrape config",
    ),
    ("jobname.bad.yml", "job_name is empty"),
    (
        "jobname_dup.bad.yml",
        "found multiple scrape configs with job name \"prometheus\"",
    ),
    (
        "kubernetes_selectors_duplicated_role.bad.yml",
        "duplicated selector role: pod",
    ),
    ("labelname.bad.yml", "not a valid UTF-8 label name"),
    ("labelvalue.bad.yml", "not a valid UTF-8 label value"),
    (
        "modulus_missing.bad.yml",
        "relabel configuration for hashmod requires non-zero modulus",
    ),
    ("regex.bad.yml", "invalid regex \"abc(def\""),
    (
        "remote_read_dup.bad.yml",
        "found multiple remote read configs with job name \"queue1\"",
    ),
    (
        "remote_read_header.bad.yml",
        "x-prometheus-remote-write-version is a reserved header",
    ),
    (
        "remote_read_url_missing.bad.yml",
        "url for remote_read is empty",
    ),
    (
        "remote_write_authorization_header.bad.yml",
        "authorization header must be changed via",
    ),
    (
        "remote_write_dup.bad.yml",
        "found multiple remote write configs with job name \"queue1\"",
    ),
    (
        "remote_write_header.bad.yml",
        "x-prometheus-remote-write-version is a reserved header",
    ),
    (
        "remote_write_queue_capacity_zero.bad.yml",
        "capacity must be greater than 0",
    ),
    (
        "remote_write_queue_max_backoff_less_than_min.bad.yml",
        "max_backoff (1s) must not be less than min_backoff (10s)",
    ),
    (
        "remote_write_queue_max_samples_per_send_zero.bad.yml",
        "max_samples_per_send must be greater than 0",
    ),
    (
        "remote_write_queue_max_shards_zero.bad.yml",
        "max_shards must be greater than 0",
    ),
    (
        "remote_write_queue_min_shards_greater_than_max.bad.yml",
        "min_shards (100) must not be greater than max_shards (10)",
    ),
    (
        "remote_write_queue_min_shards_zero.bad.yml",
        "min_shards must be greater than 0",
    ),
    (
        "remote_write_url_missing.bad.yml",
        "url for remote_write is empty",
    ),
    (
        "remote_write_wrong_msg.bad.yml",
        "unknown remote write protobuf message io.prometheus.writet.v2.Request",
    ),
    ("rules.bad.yml", "invalid rule file path \"my/*/rule\""),
    (
        "scrape_body_size_limit.bad.yml",
        "units: unknown unit  in 100",
    ),
    (
        "scrape_config_files.bad.yml",
        "scrape timeout greater than scrape interval for scrape config with job name \"prometheus\"",
    ),
    (
        "scrape_config_files_fallback_scrape_protocol1.bad.yml",
        "invalid fallback_scrape_protocol for scrape config with job name \"node\": unknown scrape protocol prometheusproto",
    ),
    (
        "scrape_config_files_fallback_scrape_protocol2.bad.yml",
        "expected string",
    ),
    (
        "scrape_config_files_glob.bad.yml",
        "invalid scrape config file path \"scrape_configs/*/*\"",
    ),
    (
        "scrape_config_files_global.bad.yml",
        "scrape timeout greater than scrape interval",
    ),
    (
        "scrape_config_files_scrape_protocols.bad.yml",
        "unknown scrape protocol prometheusproto",
    ),
    (
        "scrape_config_files_scrape_protocols2.bad.yml",
        "duplicated protocol in scrape_protocols",
    ),
    (
        "scrape_config_utf8_conflicting.bad.yml",
        "utf8 metric names requested but validation scheme is not set to UTF8",
    ),
    (
        "scrape_interval.bad.yml",
        "scrape timeout greater than scrape interval for scrape config with job name \"prometheus\"",
    ),
    ("static_config.bad.yml", "unknown field `targets`"),
    ("unknown_attr.bad.yml", "unknown field `consult_sd_configs`"),
    (
        "unknown_global_attr.bad.yml",
        "unknown field `nonexistent_field`",
    ),
];

/// These import `scrape_config_files.good.yml`, which is not part of the shared
/// samples; they are checked against a stand-in for it below.
const NEED_IMPORTED_FILE: &[&str] = &[
    "scrape_config_files_double_import.bad.yml",
    "scrape_config_files_duplicate.bad.yml",
    "scrape_config_files_global_duplicate.bad.yml",
];

#[test]
fn every_bad_sample_is_rejected_with_file_line_and_reason() {
    let Some(dir) = shared() else { return };
    let bad_dir = dir.join("config-samples/prometheus/bad");
    let mut listed: Vec<String> = std::fs::read_dir(&bad_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    for name in &listed {
        assert!(
            BAD.iter().any(|(n, _)| n == name) || NEED_IMPORTED_FILE.contains(&name.as_str()),
            "new bad sample {name} has no expectation"
        );
    }
    for (name, want) in BAD {
        let path = bad_dir.join(name);
        let err = Config::load_file(&path).expect_err(name);
        let loc = err.located().unwrap_or_else(|| panic!("{name}: {err}"));
        assert!(loc.file.ends_with(".yml"), "{name}: {err}");
        assert!(loc.line.is_some_and(|l| l > 0), "{name}: no line in {err}");
        assert!(err.to_string().contains(want), "{name}: {err}");
        // The included file is named when the problem is in it.
        let expect_file = if *name == "scrape_config_files_global.bad.yml" {
            "scrape_config_files.bad.yml"
        } else {
            name
        };
        assert!(loc.file.ends_with(expect_file), "{name}: {err}");
    }
}

#[test]
fn line_numbers_point_at_the_problem() {
    let Some(dir) = shared() else { return };
    let bad = dir.join("config-samples/prometheus/bad");
    for (name, line, path) in [
        ("jobname_dup.bad.yml", 7, "scrape_configs[2].job_name"),
        (
            "regex.bad.yml",
            4,
            "scrape_configs[0].relabel_configs[0].regex",
        ),
        (
            "unknown_attr.bad.yml",
            19,
            "scrape_configs[0].consult_sd_configs",
        ),
        (
            "scrape_interval.bad.yml",
            4,
            "scrape_configs[0].scrape_timeout",
        ),
        (
            "empty_rw_relabel_config.bad.yml",
            4,
            "remote_write[0].write_relabel_configs[0]",
        ),
        (
            "remote_write_queue_min_shards_zero.bad.yml",
            4,
            "remote_write[0].queue_config.min_shards",
        ),
    ] {
        let err = Config::load_file(&bad.join(name)).unwrap_err();
        let loc = err.located().unwrap();
        assert_eq!(loc.line, Some(line), "{name}: {err}");
        assert_eq!(loc.path, path, "{name}: {err}");
    }
}

#[test]
fn scrape_config_file_duplicates_with_the_imported_file_present() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("scrape_config_files.good.yml"),
        "scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['localhost:8080']\n",
    )
    .unwrap();
    for name in NEED_IMPORTED_FILE {
        let text =
            std::fs::read_to_string(dir.join("config-samples/prometheus/bad").join(name)).unwrap();
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = Config::load_file(&path).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(
                "found multiple scrape configs with job name \"prometheus\", first found in"
            ),
            "{name}: {msg}"
        );
        assert!(
            msg.contains("scrape_config_files.good.yml:2:5: scrape_configs[0].job_name"),
            "{name}: {msg}"
        );
    }
    // Imported once with no clash, the job is loaded and validated against global.
    let path = tmp.path().join("ok.yml");
    std::fs::write(
        &path,
        "global:\n  scrape_interval: 15s\nscrape_config_files:\n  - '*.good.yml'\n",
    )
    .unwrap();
    let cfg = Config::load_file(&path).unwrap();
    let jobs: Vec<_> = cfg
        .all_scrape_configs()
        .map(|s| (s.job_name.as_str(), s.scrape_interval.to_string()))
        .collect();
    assert_eq!(jobs, [("prometheus", "15s".to_owned())]);
}

#[test]
fn good_samples_load() {
    let Some(dir) = shared() else { return };
    let base = dir.join("config-samples/prometheus");
    let cfg = Config::load_file(&base.join("conf.good.yml")).unwrap();
    assert_eq!(cfg.global.scrape_interval.to_string(), "15s");
    assert_eq!(cfg.global.scrape_timeout.to_string(), "10s");
    assert_eq!(
        cfg.global
            .external_labels
            .get("monitor")
            .map(String::as_str),
        Some("codelab")
    );
    let names: Vec<_> = cfg
        .scrape_configs
        .iter()
        .map(|s| s.job_name.as_str())
        .collect();
    assert!(
        names.contains(&"測試") && names.contains(&"0123service-xxx"),
        "{names:?}"
    );
    for kind in [
        "consul_sd_configs",
        "kubernetes_sd_configs",
        "ec2_sd_configs",
        "dns_sd_configs",
    ] {
        assert!(
            cfg.warnings.iter().any(|w| w.contains(kind)),
            "no warning for {kind}: {:?}",
            cfg.warnings
        );
    }
    assert!(cfg.warnings.iter().any(|w| w.contains("query_log_file")));
    // Relative file names are joined with the config's directory.
    let base_s = base.to_string_lossy();
    assert_eq!(cfg.rule_files[0], format!("{base_s}/first.rules"));
    let x = cfg
        .scrape_configs
        .iter()
        .find(|s| s.job_name == "service-x")
        .unwrap();
    assert_eq!(x.scrape_interval.to_string(), "50s");
    assert_eq!(x.scrape_timeout.to_string(), "5s");
    assert_eq!(x.body_size_limit.0, 10 << 20);
    assert_eq!(x.relabel_configs.len(), 6);
    let p = cfg
        .scrape_configs
        .iter()
        .find(|s| s.job_name == "prometheus")
        .unwrap();
    assert_eq!(p.sample_limit, 1500, "inherited from global");
    assert_eq!(
        p.authorization.as_ref().unwrap().credentials_file,
        format!("{base_s}/valid_token_file")
    );
    // `my/*.rules` matches nothing; `first.rules` exists.
    let rules = cfg.rule_file_paths().unwrap();
    assert_eq!(rules, [base.join("first.rules")]);

    let cfg = Config::load_file(&base.join("prometheus.yml")).unwrap();
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
    assert_eq!(
        cfg.scrape_configs[0].static_configs[0].targets,
        ["localhost:9090"]
    );
    assert_eq!(cfg.scrape_configs[0].scrape_native_histograms, Some(true));
    // Native histograms put the protobuf format first.
    assert_eq!(
        cfg.scrape_configs[0].scrape_protocols.as_ref().unwrap()[0],
        "PrometheusProto"
    );
    assert!(cfg.rule_files.is_empty());
    assert_eq!(cfg.alerting.alertmanagers.len(), 1);
}

#[test]
fn redacted_dump_of_the_good_sample_hides_secrets_and_reloads() {
    let Some(dir) = shared() else { return };
    let cfg = Config::load_file(&dir.join("config-samples/prometheus/conf.good.yml")).unwrap();
    let yaml = cfg.to_yaml_redacted();
    assert!(!yaml.contains("mysecret"), "{yaml}");
    assert!(!yaml.contains("multiline"), "{yaml}");
    assert!(yaml.contains("<secret>"));
    assert!(yaml.contains("job_name: service-x"), "{yaml}");
    // The dump is itself a valid configuration.
    let tmp = tempfile::tempdir().unwrap();
    let again = Config::load_str(&yaml, &tmp.path().join("dump.yml")).unwrap();
    assert_eq!(again.scrape_configs.len(), cfg.scrape_configs.len());
    assert_eq!(again.global, cfg.global);
}
