use std::time::Duration;

use watchfire_scrape::{FileSdState, parse_file_sd};

#[test]
fn parses_json_and_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("a.json");
    let groups = parse_file_sd(
        &json,
        br#"[{"targets": ["h:1", "h:2"], "labels": {"env": "prod"}}, {"targets": ["h:3"]}]"#,
    )
    .unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].targets, vec!["h:1", "h:2"]);
    assert_eq!(groups[0].labels["env"], "prod");
    assert_eq!(
        groups[0].labels["__meta_filepath"],
        json.display().to_string()
    );
    assert_eq!(groups[1].source, format!("{}:1", json.display()));

    let yml = dir.path().join("b.yml");
    let groups = parse_file_sd(&yml, b"- targets: ['x:1']\n  labels:\n    a: b\n").unwrap();
    assert_eq!(groups[0].targets, vec!["x:1"]);
    let err = parse_file_sd(&yml, b"- targets: ['x:1']\n  bogus: 1\n").unwrap_err();
    assert!(
        err.to_string().starts_with(&yml.display().to_string()),
        "{err}"
    );
    assert!(parse_file_sd(&json, b"[{\"targets\": [\"http://x/y\"]}]").is_err());
}

#[test]
fn state_detects_changes_and_removals() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.json");
    std::fs::write(&f, r#"[{"targets": ["a:1"]}, {"targets": ["b:1"]}]"#).unwrap();
    let patterns = vec![format!("{}/*.json", dir.path().display())];
    let mut st = FileSdState::default();
    let long = Duration::from_secs(3600);
    let g = st.refresh(&patterns, long).unwrap();
    assert_eq!(g.len(), 2);
    assert!(st.refresh(&patterns, long).is_none());
    // Rewrite with one group: the second source is cleared.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&f, r#"[{"targets": ["c:1"]}]"#).unwrap();
    let g = st.refresh(&patterns, Duration::ZERO).unwrap();
    assert_eq!(g.len(), 2);
    assert_eq!(g[0].targets, vec!["c:1"]);
    assert!(g[1].targets.is_empty());
    // A broken file keeps its groups (nothing new is sent for it).
    std::fs::write(&f, "not json").unwrap();
    let g = st.refresh(&patterns, Duration::ZERO).unwrap();
    assert!(g.is_empty());
    // Deleted: its sources are cleared.
    std::fs::remove_file(&f).unwrap();
    let g = st.refresh(&patterns, Duration::ZERO).unwrap();
    assert_eq!(g.len(), 1);
    assert!(g[0].targets.is_empty());
}
