#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use watchfire_alertmanager_config::*;

fn shared() -> Option<PathBuf> {
    let p = std::env::var("WATCHFIRE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIP: shared data not found at {}", p.display());
        None
    }
}

fn amtool() -> bool {
    if std::env::var("WATCHFIRE_SKIP_PEERS").as_deref() == Ok("1") {
        eprintln!("SKIP: WATCHFIRE_SKIP_PEERS=1");
        return false;
    }
    let ok = std::process::Command::new("amtool")
        .arg("--version")
        .output()
        .is_ok();
    if !ok {
        eprintln!("SKIP: amtool not installed");
    }
    ok
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn sample_configs_load() {
    let Some(sh) = shared() else { return };
    let good = Config::load_file(&sh.join("config-samples/alertmanager/conf.good.yml")).unwrap();
    assert_eq!(good.receivers.len(), 9);
    // VictorOps and Pushover are implemented: no warning, global defaults filled in.
    assert!(
        !good
            .warnings
            .iter()
            .any(|w| w.contains("victorops_configs") || w.contains("pushover_configs")),
        "{:?}",
        good.warnings
    );
    let vo = &good
        .receiver("victorOps-receiver")
        .unwrap()
        .victorops_configs[0];
    assert_eq!(
        vo.api_url.as_ref().unwrap().as_str(),
        "https://alert.victorops.com/integrations/generic/20131114/alert/"
    );
    assert_eq!(vo.routing_key, "Sample_route");
    let po = &good.receiver("pushover-receiver").unwrap().pushover_configs[0];
    assert_eq!(
        (po.token.expose(), po.user_key.expose()),
        ("mysecret", "key")
    );
    assert_eq!(po.retry.to_string(), "1m0s");
    // Global defaults were filled in.
    let slack = &good.receiver("slack-receiver").unwrap().slack_configs[0];
    assert_eq!(
        slack.api_url.as_ref().unwrap().expose(),
        "http://mysecret.example.com/"
    );
    let mail = &good.receiver("team-X-mails").unwrap().email_configs[0];
    assert_eq!(mail.smarthost.to_string(), "localhost:25");
    assert_eq!(mail.from, "alertmanager@example.org");
    assert_eq!(mail.require_tls, Some(true));
    assert_eq!(mail.auth_password.expose(), "multiline\nmysecret");
    let pd = &good.receiver("team-X-pager").unwrap().pagerduty_configs[0];
    assert!(pd.send_resolved);
    assert_eq!(
        pd.url.as_ref().unwrap().as_str(),
        "https://events.pagerduty.com/v2/enqueue"
    );
    // Secrets never serialise.
    let json = serde_json::to_string(&good).unwrap();
    assert!(!json.contains("mysecret"), "{json}");
    assert!(json.contains("<secret>"));
    assert!(good.original.contains("smtp_smarthost"));
    assert_eq!(good.global.resolve_timeout.to_string(), "5m");

    let simple = Config::load_file(&sh.join("config-samples/alertmanager/simple.yml")).unwrap();
    assert_eq!(simple.receivers.len(), 5);
    assert!(simple.warnings.iter().any(|w| w.contains("tracing")));
    assert_eq!(
        simple.templates,
        vec!["/etc/alertmanager/template/*.tmpl".to_string()]
    );
}

/// YAML code blocks of the seeds that hold Alertmanager sections.
fn seed_blocks(sh: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(sh.join("seeds"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut in_block = false;
        let mut cur = String::new();
        for line in text.lines() {
            let t = line.trim_start();
            if t.starts_with("```") {
                if in_block {
                    if cur.contains("route:") || cur.contains("receivers:") {
                        out.push((
                            f.file_name().unwrap().to_string_lossy().into_owned(),
                            cur.clone(),
                        ));
                    }
                    cur.clear();
                }
                in_block = !in_block && t.starts_with("```yaml");
                continue;
            }
            if in_block {
                cur.push_str(line);
                cur.push('\n');
            }
        }
    }
    out
}

#[test]
fn seed_alertmanager_snippets() {
    let Some(sh) = shared() else { return };
    let blocks = seed_blocks(&sh);
    assert!(
        blocks.len() >= 3,
        "expected seed snippets, got {}",
        blocks.len()
    );
    // The routing snippet: complete it with the receivers it names and route with it.
    let (_, route_block) = blocks.iter().find(|(_, b)| b.contains("route:")).unwrap();
    let err = Config::load_str(route_block, "seed.yml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("undefined receiver"), "{err}");
    let mut full = route_block.clone();
    full.push_str("receivers:\n- name: websocket-team\n- name: websocket-oncall\n- name: infrastructure-team\n");
    let cfg = Config::load_str(&full, "seed.yml").unwrap();
    let rt = RouteTree::from_config(&cfg).unwrap();
    let l = labels(&[("severity", "critical"), ("team", "infrastructure")]);
    assert_eq!(
        rt.receivers_for(&l),
        vec!["websocket-oncall", "infrastructure-team"]
    );
    // Receiver snippets: the PagerDuty/e-mail ones load with a route added; the Slack one
    // has a placeholder URL that Alertmanager rejects too.
    for (_, b) in blocks.iter().filter(|(_, b)| b.contains("receivers:")) {
        let name = b
            .lines()
            .find_map(|l| l.trim().strip_prefix("- name: "))
            .unwrap()
            .trim_matches('\'');
        let doc = format!("route:\n  receiver: {name}\n{b}");
        let r = Config::load_str(&doc, "seed.yml");
        if b.contains("YOUR_WEBHOOK_URL") {
            let e = r.unwrap_err().to_string();
            assert!(e.contains("unsupported scheme \"\" for URL"), "{e}");
            assert!(e.contains("slack_configs[0].api_url"), "{e}");
        } else {
            r.unwrap();
        }
    }
}

#[test]
fn bad_configs_are_rejected_with_positions() {
    let cases: &[(&str, &str, u64)] = &[
        (
            "route:\n  receiver: a\nreceivers:\n- name: b\n",
            "undefined receiver \"a\" used in route",
            2,
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - receiver: zz\nreceivers:\n- name: a\n",
            "route.routes[0].receiver: undefined receiver \"zz\"",
            4,
        ),
        (
            "route:\n  receiver: a\nreceivers:\n- name: a\n- name: a\n",
            "notification config name \"a\" is not unique",
            5,
        ),
        ("receivers:\n- name: a\n", "no route provided in config", 1),
        (
            "route:\n  group_by: [x]\nreceivers:\n- name: a\n",
            "root route must specify a default receiver",
            2,
        ),
        (
            "route:\n  receiver: a\n  matchers: [x=\"y\"]\nreceivers:\n- name: a\n",
            "root route must not have any matchers",
            2,
        ),
        (
            "route:\n  receiver: a\n  group_by: [x, x]\nreceivers:\n- name: a\n",
            "duplicated label \"x\" in group_by",
            3,
        ),
        (
            "route:\n  receiver: a\n  group_by: ['...', x]\nreceivers:\n- name: a\n",
            "cannot have wildcard group_by",
            3,
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - mute_time_intervals: [nope]\nreceivers:\n- name: a\n",
            "undefined time interval \"nope\" used in route",
            4,
        ),
        (
            "route:\n  receiver: a\n  group_wait: 5x\nreceivers:\n- name: a\n",
            "not a valid duration string: \"5x\"",
            3,
        ),
        (
            "route:\n  receiver: a\n  group_interval: 0s\nreceivers:\n- name: a\n",
            "group_interval cannot be zero",
            3,
        ),
        (
            "route:\n  receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - url: ftp://x/\n",
            "unsupported scheme \"ftp\" for URL",
            6,
        ),
        (
            "global:\n  slack_api_url: http://a/\n  slack_api_url_file: /x\nroute:\n  receiver: a\nreceivers:\n- name: a\n",
            "at most one of slack_api_url & slack_api_url_file must be configured",
            1,
        ),
        (
            "route:\n  receiver: a\n  bogus: 1\nreceivers:\n- name: a\n",
            "unknown field `bogus`",
            3,
        ),
        (
            "route:\n  receiver: a\nreceivers:\n- name: a\n  email_configs:\n  - to: x@y\n",
            "no global SMTP smarthost set",
            4,
        ),
        (
            "route:\n  receiver: a\nreceivers:\n- name: a\n  slack_configs:\n  - channel: x\n",
            "no Slack API URL nor App token set",
            4,
        ),
        (
            "route:\n  receiver: a\n  continue: true\nreceivers:\n- name: a\n",
            "cannot have continue in root route",
            2,
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - matchers: ['a=~\"(\"']\nreceivers:\n- name: a\n",
            "error parsing regexp",
            4,
        ),
        (
            "route:\n  receiver: a\ntime_intervals:\n- name: t\n  time_intervals:\n  - times:\n    - start_time: '10:00'\n      end_time: '09:00'\nreceivers:\n- name: a\n",
            "start time cannot be equal or greater than end time",
            7,
        ),
        (
            "route:\n  receiver: a\ntime_intervals:\n- name: t\n  time_intervals:\n  - weekdays: ['funday']\nreceivers:\n- name: a\n",
            "funday is not a valid weekday",
            6,
        ),
        (
            "route:\n  receiver: a\ntime_intervals:\n- name: t\n  time_intervals:\n  - location: Mars/Base\nreceivers:\n- name: a\n",
            "unknown time zone Mars/Base",
            6,
        ),
    ];
    for (yaml, want, line) in cases {
        let e = Config::load_str(yaml, "am.yml").unwrap_err();
        let s = e.to_string();
        assert!(s.contains(want), "want {want:?} in {s:?}");
        assert!(
            s.starts_with(&format!("am.yml:{line}:")),
            "want line {line} in {s:?}"
        );
    }
}

#[test]
fn matcher_parsing() {
    let ok: &[(&str, &str)] = &[
        ("foo=bar", "{foo=\"bar\"}"),
        ("foo=\"bar\"", "{foo=\"bar\"}"),
        ("{foo=\"bar\", baz!=\"q\"}", "{baz!=\"q\",foo=\"bar\"}"),
        (
            "severity=critical,team=~\"a|b\"",
            "{severity=\"critical\",team=~\"a|b\"}",
        ),
        ("foo!~\"x.*\"", "{foo!~\"x.*\"}"),
        ("foo=\"a\\\"b\"", "{foo=\"a\\\"b\"}"),
        ("foo=\"a,b\"", "{foo=\"a,b\"}"),
        ("  foo  =  bar  ", "{foo=\"bar\"}"),
        ("{}", "{}"),
        ("\"foo bar\"=\"x\"", "{\"foo bar\"=\"x\"}"),
    ];
    for (i, want) in ok {
        let m = Matchers::parse(i).unwrap_or_else(|e| panic!("{i}: {e}"));
        assert_eq!(m.to_string(), *want, "{i}");
    }
    for bad in ["foo", "=bar", "foo=~\"(\"", "foo=\"unterminated"] {
        assert!(Matchers::parse(bad).is_err(), "{bad} should fail");
    }
    let m = Matchers::parse("job=~\"api|web\"").unwrap();
    assert!(m.matches(&labels(&[("job", "api")])));
    assert!(
        !m.matches(&labels(&[("job", "api2")])),
        "regexes are anchored"
    );
    let m = Matchers::parse("env=\"\"").unwrap();
    assert!(m.matches(&labels(&[("job", "x")])), "absent label is empty");
    assert!(parse_matcher("{a=b}").is_err());
    assert_eq!(
        parse_label_args(&["a=b".into(), "c=\"d e\"".into()]).unwrap(),
        labels(&[("a", "b"), ("c", "d e")])
    );
    assert!(parse_label_args(&["a=~b".into()]).is_err());
}

const ROUTING: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  group_wait: 10s
  routes:
  - matchers: [team="db"]
    receiver: db
    group_by: ['...']
    repeat_interval: 1h
    routes:
    - match: {severity: critical}
      receiver: db-pager
      continue: true
    - match_re: {severity: "crit.*|page"}
      receiver: db-crit
  - matchers: [team="web"]
    receiver: web
    continue: true
  - matchers: [severity="critical"]
    receiver: oncall
  - matchers: [team="web"]
    receiver: web2
receivers:
- name: default
- name: db
- name: db-pager
- name: db-crit
- name: web
- name: oncall
- name: web2
"#;

#[test]
fn routing_table() {
    let cfg = Config::load_str(ROUTING, "r.yml").unwrap();
    let rt = RouteTree::from_config(&cfg).unwrap();
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: &[Case<'_>] = &[
        (&[("alertname", "x")], &["default"]),
        (&[("team", "db")], &["db"]),
        (
            &[("team", "db"), ("severity", "critical")],
            &["db-pager", "db-crit"],
        ),
        (&[("team", "db"), ("severity", "page")], &["db-crit"]),
        (&[("team", "web")], &["web", "web2"]),
        (
            &[("team", "web"), ("severity", "critical")],
            &["web", "oncall"],
        ),
        (&[("severity", "critical")], &["oncall"]),
    ];
    for (ls, want) in cases {
        assert_eq!(rt.receivers_for(&labels(ls)), *want, "{ls:?}");
    }
    // Inheritance.
    let r = rt.match_route(&labels(&[("team", "db"), ("severity", "page")]))[0];
    assert_eq!(r.opts.group_wait.to_string(), "10s");
    assert_eq!(r.opts.repeat_interval.to_string(), "1h");
    assert_eq!(r.opts.group_interval.to_string(), "5m");
    assert!(r.opts.group_by_all);
    assert_eq!(r.key, "{}/{team=\"db\"}/{severity=~\"^(?:crit.*|page)$\"}");
    assert_eq!(
        r.route_id,
        "{}/{team=\"db\"}/0/{severity=~\"^(?:crit.*|page)$\"}/1"
    );
    let ls = labels(&[("team", "db"), ("severity", "page"), ("alertname", "A")]);
    assert_eq!(
        r.group_key(&ls),
        "{}/{team=\"db\"}/{severity=~\"^(?:crit.*|page)$\"}:{alertname=\"A\", severity=\"page\", team=\"db\"}"
    );
    let root = rt.match_route(&labels(&[("alertname", "A"), ("x", "y")]))[0];
    assert_eq!(
        root.group_key(&labels(&[("alertname", "A"), ("x", "y")])),
        "{}:{alertname=\"A\"}"
    );
    assert_eq!(root.opts.repeat_interval.to_string(), "4h");
    let explained = rt.explain(&labels(&[("team", "web")])).join("\n");
    assert!(explained.contains("continue: true"), "{explained}");
    assert!(explained.contains("-> receiver web2"), "{explained}");
}

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

#[test]
fn time_intervals() {
    let yaml = r#"
route: {receiver: a}
receivers: [{name: a}]
time_intervals:
- name: business
  time_intervals:
  - weekdays: ['monday:friday']
    times: [{start_time: '09:00', end_time: '17:00'}]
- name: month_end
  time_intervals:
  - days_of_month: ['-3:-1']
- name: tz
  time_intervals:
  - times: [{start_time: '09:00', end_time: '10:00'}]
    location: Australia/Sydney
- name: q1
  time_intervals:
  - months: ['january:march']
    years: ['2025:2026']
"#;
    let cfg = Config::load_str(yaml, "t.yml").unwrap();
    let get = |n: &str| {
        cfg.named_time_intervals()
            .find(|t| t.name == n)
            .unwrap()
            .clone()
    };
    let b = get("business");
    assert!(b.contains(ts("2026-01-05T09:00:00Z")), "monday 09:00");
    assert!(b.contains(ts("2026-01-09T16:59:59Z")), "friday 16:59");
    assert!(!b.contains(ts("2026-01-09T17:00:00Z")), "end exclusive");
    assert!(!b.contains(ts("2026-01-10T12:00:00Z")), "saturday");
    let m = get("month_end");
    assert!(m.contains(ts("2026-02-26T00:00:00Z")), "feb 26 = -3");
    assert!(!m.contains(ts("2026-02-25T00:00:00Z")));
    assert!(m.contains(ts("2026-01-31T00:00:00Z")));
    assert!(!m.contains(ts("2026-01-28T00:00:00Z")));
    let tz = get("tz");
    // 09:30 in Sydney (UTC+11 in January) is 22:30 UTC the day before.
    assert!(tz.contains(ts("2026-01-04T22:30:00Z")));
    assert!(!tz.contains(ts("2026-01-05T09:30:00Z")));
    let q = get("q1");
    assert!(q.contains(ts("2026-03-31T23:00:00Z")));
    assert!(!q.contains(ts("2026-04-01T00:00:00Z")));
    assert!(!q.contains(ts("2027-02-01T00:00:00Z")));
}

#[test]
fn inhibition() {
    let yaml = r#"
route: {receiver: a}
receivers: [{name: a}]
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [alertname]
- source_match: {kind: both}
  target_match_re: {kind: "both|x"}
"#;
    let cfg = Config::load_str(yaml, "i.yml").unwrap();
    let rules: Vec<InhibitRule> = cfg.inhibit_rules.iter().map(InhibitRule::new).collect();
    let src = labels(&[("severity", "critical"), ("alertname", "A")]);
    let tgt = labels(&[("severity", "warning"), ("alertname", "A")]);
    let other = labels(&[("severity", "warning"), ("alertname", "B")]);
    assert!(is_inhibited(&rules, &[&src], &tgt));
    assert!(
        !is_inhibited(&rules, &[&src], &other),
        "equal labels differ"
    );
    assert!(!is_inhibited(&rules, &[], &tgt));
    // An alert matching both sides does not inhibit itself or another two-sided alert...
    let both1 = labels(&[("kind", "both"), ("n", "1")]);
    let both2 = labels(&[("kind", "both"), ("n", "2")]);
    assert!(!is_inhibited(&rules, &[&both1], &both1));
    assert!(!is_inhibited(&rules, &[&both1], &both2));
    // ...but does inhibit a target-only alert.
    assert!(is_inhibited(&rules, &[&both1], &labels(&[("kind", "x")])));
}

fn write_tmp(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn commands_output() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_tmp(dir.path(), "good.yml", ROUTING);
    let bad = write_tmp(dir.path(), "bad.yml", "route:\n  receiver: x\n");
    let mut out = Vec::new();
    assert_eq!(
        check_config_command(std::slice::from_ref(&good), &mut out),
        0
    );
    let s = String::from_utf8(out).unwrap();
    assert!(s.starts_with(&format!("Checking '{}'  SUCCESS\nFound:\n - global config\n - route\n - 0 inhibit rules\n - 7 receivers\n - 0 templates\n", good.display())), "{s}");
    let mut out = Vec::new();
    assert_eq!(check_config_command(&[good.clone(), bad], &mut out), 1);
    let s = String::from_utf8(out).unwrap();
    assert!(
        s.contains("FAILED: ") && s.contains("undefined receiver \"x\" used in route"),
        "{s}"
    );

    let mut out = Vec::new();
    assert_eq!(
        routes_test_command(&good, &["team=web".into()], None, false, false, &mut out),
        0
    );
    assert_eq!(String::from_utf8(out).unwrap(), "web,web2\n");
    let mut out = Vec::new();
    assert_eq!(
        routes_test_command(
            &good,
            &["team=web".into()],
            Some("web"),
            false,
            false,
            &mut out
        ),
        1
    );
    let mut out = Vec::new();
    assert_eq!(
        routes_test_command(&good, &["team=db".into()], None, true, false, &mut out),
        0
    );
    let s = String::from_utf8(out).unwrap();
    assert_eq!(
        s,
        "Matching routes:\n.\n└── default-route\n    └── {team=\"db\"}  receiver: db\n\n\ndb\n"
    );
    let mut out = Vec::new();
    assert_eq!(routes_show_command(&good, &mut out), 0);
    let s = String::from_utf8(out).unwrap();
    assert!(
        s.contains("    ├── {team=\"web\"}  continue: true  receiver: web\n"),
        "{s}"
    );
}

#[test]
fn amtool_routes_and_check_config_agree() {
    let Some(sh) = shared() else { return };
    if !amtool() {
        return;
    }
    let label_sets: &[&[&str]] = &[
        &[],
        &["service=database", "owner=team-X"],
        &["service=database", "owner=team-Y"],
        &["service=database", "owner2=team-X", "owner=team-Y"],
        &["service=files", "severity=critical"],
        &["service=foo1", "severity=critical"],
        &["service=foo2"],
        &["service=other", "severity=critical"],
    ];
    let dir = tempfile::tempdir().unwrap();
    let routing = write_tmp(dir.path(), "routing.yml", ROUTING);
    let mut files = vec![
        sh.join("config-samples/alertmanager/conf.good.yml"),
        routing.clone(),
    ];
    // simple.yml has a 0.28 `tracing` block amtool 0.25 rejects; compare its routing without it.
    let simple =
        std::fs::read_to_string(sh.join("config-samples/alertmanager/simple.yml")).unwrap();
    let cut = simple.find("\ntracing:").unwrap_or(simple.len());
    files.push(write_tmp(dir.path(), "simple.yml", &simple[..cut]));
    let mut extra: Vec<&[&str]> = label_sets.to_vec();
    extra.extend_from_slice(&[
        &["team=web"],
        &["team=db", "severity=critical"],
        &["team=web", "severity=critical"],
    ]);
    for f in &files {
        for ls in &extra {
            let mut cmd = std::process::Command::new("amtool");
            cmd.arg("config")
                .arg("routes")
                .arg("test")
                .arg(format!("--config.file={}", f.display()));
            cmd.args(*ls);
            let o = cmd.output().unwrap();
            let theirs = String::from_utf8_lossy(&o.stdout).to_string();
            let mut out = Vec::new();
            let args: Vec<String> = ls.iter().map(|s| s.to_string()).collect();
            let code = routes_test_command(f, &args, None, false, false, &mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                theirs,
                "{} {ls:?}",
                f.display()
            );
            assert_eq!(code, o.status.code().unwrap(), "{} {ls:?}", f.display());
        }
    }
    // check-config exit codes.
    let bad_docs = [
        "route:\n  receiver: a\nreceivers:\n- name: b\n",
        "route:\n  receiver: a\n  group_by: [x, x]\nreceivers:\n- name: a\n",
        "route:\n  receiver: a\n  nope: 1\nreceivers:\n- name: a\n",
        "receivers:\n- name: a\n",
        "route:\n  receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - url: ftp://x/\n",
    ];
    let mut paths = vec![
        sh.join("config-samples/alertmanager/conf.good.yml"),
        routing,
    ];
    for (i, d) in bad_docs.iter().enumerate() {
        paths.push(write_tmp(dir.path(), &format!("bad{i}.yml"), d));
    }
    for p in &paths {
        let o = std::process::Command::new("amtool")
            .arg("check-config")
            .arg(p)
            .output()
            .unwrap();
        let mut out = Vec::new();
        let code = check_config_command(std::slice::from_ref(p), &mut out);
        assert_eq!(
            code,
            o.status.code().unwrap(),
            "{}: {}",
            p.display(),
            String::from_utf8_lossy(&out)
        );
        let theirs = String::from_utf8_lossy(&o.stdout);
        let ours = String::from_utf8(out).unwrap();
        assert_eq!(
            ours.lines().next().unwrap().split("FAILED").next(),
            theirs.lines().next().unwrap().split("FAILED").next()
        );
    }
}

/// The output amtool would print on stdout: ours minus the closing "failed to validate"
/// line, which amtool writes to stderr.
fn amtool_stdout_part(ours: &str) -> String {
    ours.lines()
        .filter(|l| !l.starts_with("failed to validate"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn check_config_parses_templates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tmpl")).unwrap();
    let cfg = "route:\n  receiver: r\nreceivers:\n- name: r\ntemplates:\n- 'tmpl/*.tmpl'\n";
    let cfg_path = write_tmp(dir.path(), "am.yml", cfg);
    write_tmp(
        &dir.path().join("tmpl"),
        "a.tmpl",
        "{{ define \"ok\" }}hi {{ .Status }}{{ end }}\n",
    );
    let run = |p: &Path| {
        let mut out = Vec::new();
        let code = check_config_command(&[p.to_path_buf()], &mut out);
        (code, String::from_utf8(out).unwrap())
    };
    let (code, out) = run(&cfg_path);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with(" - 1 templates\n  SUCCESS\n\n"), "{out}");

    // Unclosed block: the error names the file (base name, as Go) and the line.
    let broken = "line1\n{{ define \"x\" }}\n{{ if .Foo }}bar\n{{ end }}\n";
    write_tmp(&dir.path().join("tmpl"), "b.tmpl", broken);
    let (code, out) = run(&cfg_path);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("\n - 1 templates\n  FAILED: template: b.tmpl:5: unexpected EOF\n"),
        "{out}"
    );
    let mut cases = vec![(broken.to_string(), out)];

    // Unknown function.
    let nofunc = "{{ define \"x\" }}{{ nofunc . }}{{ end }}\n";
    write_tmp(&dir.path().join("tmpl"), "b.tmpl", nofunc);
    let (code, out) = run(&cfg_path);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAILED: template: b.tmpl:1: function \"nofunc\" not defined\n"),
        "{out}"
    );
    cases.push((nofunc.to_string(), out));

    // Glob syntax error.
    let bad_glob = write_tmp(dir.path(), "glob.yml", &cfg.replace("*.tmpl", "[.tmpl"));
    let (code, out) = run(&bad_glob);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("  FAILED: syntax error in pattern\n"), "{out}");

    // Same output as amtool, run from another directory (globs are relative to the file).
    if !amtool() {
        return;
    }
    for (text, ours) in &cases {
        write_tmp(&dir.path().join("tmpl"), "b.tmpl", text);
        let o = std::process::Command::new("amtool")
            .arg("check-config")
            .arg(&cfg_path)
            .current_dir("/")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            amtool_stdout_part(ours),
            "{text}"
        );
    }
    let o = std::process::Command::new("amtool")
        .arg("check-config")
        .arg(&bad_glob)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        amtool_stdout_part(&run(&bad_glob).1)
    );
}

#[test]
fn send_resolved_when_silenced_extension() {
    let yaml = |extra: &str| {
        format!(
            "route:\n  receiver: a\nreceivers:\n- name: a\n{extra}  webhook_configs:\n  - url: http://127.0.0.1:1/\n- name: b\n"
        )
    };
    let cfg = Config::load_str(&yaml("  send_resolved_when_silenced: true\n"), "x.yml").unwrap();
    assert!(cfg.receiver("a").unwrap().send_resolved_when_silenced);
    assert!(
        !cfg.receiver("b").unwrap().send_resolved_when_silenced,
        "default false"
    );
    let cfg = Config::load_str(&yaml("  send_resolved_when_silenced: false\n"), "x.yml").unwrap();
    assert!(!cfg.receiver("a").unwrap().send_resolved_when_silenced);
    let e = Config::load_str(&yaml("  send_resolved_when_silenced: maybe\n"), "x.yml").unwrap_err();
    assert!(
        e.to_string().starts_with("x.yml:5:")
            && e.to_string().contains("send_resolved_when_silenced"),
        "{e}"
    );
    // `check alertmanager` accepts it; amtool (Alertmanager) rejects the unknown field.
    let dir = tempfile::tempdir().unwrap();
    let p = write_tmp(
        dir.path(),
        "ext.yml",
        &yaml("  send_resolved_when_silenced: true\n"),
    );
    let mut out = Vec::new();
    assert_eq!(check_config_command(std::slice::from_ref(&p), &mut out), 0);
    if !amtool() {
        return;
    }
    let o = std::process::Command::new("amtool")
        .arg("check-config")
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("field send_resolved_when_silenced not found"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn oauth2_http_config() {
    let doc = |body: &str| {
        format!(
            "route:\n  receiver: r\nreceivers:\n- name: r\n  webhook_configs:\n  - url: http://h/\n    http_config:\n      oauth2:\n{body}"
        )
    };
    let full = doc(
        "        client_id: app\n        client_secret: s3cr3t\n        scopes: [read, write]\n        token_url: https://idp.example/token\n        endpoint_params: {audience: x}\n        proxy_url: http://proxy:3128\n        tls_config: {insecure_skip_verify: true}\n",
    );
    let cfg = Config::load_str(&full, "o.yml").unwrap();
    let h = cfg.receivers[0].webhook_configs[0]
        .http_config
        .clone()
        .unwrap();
    let o = h.oauth2.unwrap();
    assert_eq!(o.client_id, "app");
    assert_eq!(o.scopes, vec!["read", "write"]);
    assert_eq!(o.token_url, "https://idp.example/token");
    assert_eq!(o.endpoint_params["audience"], "x");
    assert_eq!(o.proxy_url, "http://proxy:3128");
    assert!(o.tls_config.insecure_skip_verify);
    let shown = serde_json::to_string(&o.client_secret).unwrap();
    assert!(!shown.contains("s3cr3t"), "{shown}");

    let bad = [
        (
            "        token_url: http://x/t\n        client_secret: s\n",
            "oauth2 client_id must be configured",
        ),
        (
            "        client_id: a\n        client_secret: s\n",
            "oauth2 token_url must be configured",
        ),
        (
            "        client_id: a\n        token_url: http://x/t\n        client_secret: s\n        client_secret_file: f\n",
            "at most one of oauth2 client_secret & client_secret_file must be configured",
        ),
        (
            "        client_id: a\n        token_url: http://x/t\n        client_secret: s\n        bogus: 1\n",
            "bogus",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let check_amtool = amtool();
    for (body, msg) in bad {
        let text = doc(body);
        let e = Config::load_str(&text, "o.yml").unwrap_err();
        assert!(e.to_string().contains(msg), "{body}: {e}");
        if check_amtool {
            let p = write_tmp(dir.path(), "o.yml", &text);
            let o = std::process::Command::new("amtool")
                .arg("check-config")
                .arg(&p)
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(1), "{body}");
            let theirs = String::from_utf8_lossy(&o.stdout);
            assert!(theirs.contains(msg) || msg == "bogus", "{body}: {theirs}");
        }
    }
    if check_amtool {
        let p = write_tmp(dir.path(), "full.yml", &full);
        let o = std::process::Command::new("amtool")
            .arg("check-config")
            .arg(&p)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
    }
}

/// `http_config` is Prometheus' common block (shared with prometheus.yml): its
/// validation applies to every receiver, with amtool's messages.
#[test]
fn http_config_validation_is_prometheus_commons() {
    let doc = |body: &str| {
        format!(
            "route:\n  receiver: r\nreceivers:\n- name: r\n  webhook_configs:\n  - url: http://h/\n    http_config:\n{body}"
        )
    };
    let bad = [
        (
            "      authorization: {credentials: c}\n      bearer_token: t\n",
            "authorization is not compatible with bearer_token & bearer_token_file",
        ),
        (
            "      authorization: {credentials: c}\n      basic_auth: {username: u}\n",
            "at most one of basic_auth, oauth2 & authorization must be configured",
        ),
        (
            "      basic_auth: {username: u}\n      bearer_token: t\n",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ),
        (
            "      tls_config: {min_version: TLS9}\n",
            "unknown TLS version: TLS9",
        ),
        (
            "      authorization: {type: basic}\n",
            "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let check_amtool = amtool();
    for (body, msg) in bad {
        let text = doc(body);
        let e = Config::load_str(&text, "h.yml").unwrap_err().to_string();
        assert!(
            e.contains("receivers[0].webhook_configs[0].http_config: ") && e.ends_with(msg),
            "{body}: {e}"
        );
        if check_amtool {
            let p = write_tmp(dir.path(), "h.yml", &text);
            let o = std::process::Command::new("amtool")
                .arg("check-config")
                .arg(&p)
                .output()
                .unwrap();
            let theirs = String::from_utf8_lossy(&o.stdout);
            assert_eq!(o.status.code(), Some(1), "{body}: {theirs}");
            assert!(theirs.contains(msg), "{body}: {theirs}");
        }
    }
    // The legacy bearer token becomes an `authorization` header, as in Alertmanager,
    // in receivers and in the global block they inherit.
    // (An empty `authorization:` is null: only the bearer token is set.)
    let text = "global:\n  http_config:\n    bearer_token: g\nroute:\n  receiver: r\n\
                receivers:\n- name: r\n  webhook_configs:\n  - url: http://h/\n    \
                http_config:\n      bearer_token: t\n      authorization:\n\
                - name: s\n  webhook_configs: [{url: 'http://h/'}]\n";
    let cfg = Config::load_str(text, "h.yml").unwrap();
    for (rcv, want) in [(0, "t"), (1, "g")] {
        let h = cfg.receivers[rcv].webhook_configs[0]
            .http_config
            .as_ref()
            .unwrap();
        let a = h.authorization.as_ref().unwrap();
        assert_eq!((a.kind.as_str(), a.credentials.expose()), ("Bearer", want));
        assert!(h.bearer_token.is_empty());
    }
}

const RELATIVE_PATHS: &str = r#"
global:
  slack_api_url_file: secrets/slack
  smtp_auth_password_file: secrets/smtp
  smtp_from: am@example.org
  smtp_smarthost: mail:25
  opsgenie_api_key_file: secrets/opsgenie
  http_config:
    tls_config:
      ca_file: ./certs/../certs/global-ca.pem
templates: [tmpl/*.tmpl, /abs/tmpl/*.tmpl]
route:
  receiver: hook
receivers:
- name: hook
  webhook_configs:
  - url_file: secrets/hook-url
    http_config:
      basic_auth:
        username: u
        password_file: secrets/pass
      tls_config:
        ca_file: certs/ca.pem
        cert_file: /abs/cert.pem
        key_file: certs/key.pem
  - url: http://h/
- name: others
  pagerduty_configs:
  - routing_key_file: secrets/pd
    http_config:
      authorization: {credentials_file: secrets/pd-auth}
      http_headers:
        X-Token: {files: [secrets/hdr, /abs/hdr]}
  opsgenie_configs:
  - http_config:
      bearer_token_file: secrets/bearer
  slack_configs:
  - channel: c
    http_config:
      oauth2:
        client_id: app
        client_secret_file: secrets/oauth
        token_url: https://idp.example/token
        tls_config: {ca_file: certs/idp-ca.pem}
  email_configs:
  - to: ops@example.org
"#;

#[test]
fn load_file_resolves_relative_paths_like_alertmanager() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_tmp(dir.path(), "am.yml", RELATIVE_PATHS);
    let d = |rel: &str| dir.path().join(rel).display().to_string();
    let cfg = Config::load_file(&p).unwrap();

    assert_eq!(
        cfg.templates,
        vec![d("tmpl/*.tmpl"), "/abs/tmpl/*.tmpl".into()]
    );
    let ca = |h: &Option<HttpClientConfig>| {
        h.as_ref()
            .map(|h| h.tls_config.ca_file.clone())
            .filter(|f| !f.is_empty())
    };
    // Global http_config, cleaned like Go's filepath.Join.
    assert_eq!(
        cfg.global.http_config.tls_config.ca_file,
        d("certs/global-ca.pem")
    );

    let hooks = &cfg.receivers[0].webhook_configs;
    let h = hooks[0].http_config.as_ref().unwrap();
    let b = h.basic_auth.as_ref().unwrap();
    assert_eq!(b.password_file, d("secrets/pass"));
    let t = &h.tls_config;
    assert_eq!(t.ca_file, d("certs/ca.pem"));
    assert_eq!(t.cert_file, "/abs/cert.pem");
    assert_eq!(t.key_file, d("certs/key.pem"));
    // A receiver without http_config inherits the global one, resolved once.
    assert_eq!(ca(&hooks[1].http_config), Some(d("certs/global-ca.pem")));

    let o = &cfg.receivers[1];
    let pd = o.pagerduty_configs[0].http_config.as_ref().unwrap();
    assert_eq!(
        pd.authorization.as_ref().unwrap().credentials_file,
        d("secrets/pd-auth")
    );
    assert_eq!(
        pd.http_headers["X-Token"].files,
        [d("secrets/hdr"), "/abs/hdr".to_string()]
    );
    // `bearer_token_file` is folded into `authorization` (Prometheus common's
    // validation), then resolved.
    let og = o.opsgenie_configs[0].http_config.as_ref().unwrap();
    let og_auth = og.authorization.as_ref().unwrap();
    assert_eq!(
        (og_auth.kind.as_str(), og_auth.credentials_file.as_str()),
        ("Bearer", d("secrets/bearer").as_str())
    );
    assert!(og.bearer_token_file.is_empty());
    // Its own http_config replaces the global one entirely (no TLS settings).
    assert_eq!(ca(&o.opsgenie_configs[0].http_config), None);
    let oauth = o.slack_configs[0]
        .http_config
        .as_ref()
        .unwrap()
        .oauth2
        .as_ref()
        .unwrap();
    assert_eq!(oauth.client_secret_file, d("secrets/oauth"));
    assert_eq!(oauth.tls_config.ca_file, d("certs/idp-ca.pem"));

    // Alertmanager reads the other *_file settings as written (relative to the working
    // directory), including the ones copied from `global` into receivers.
    assert_eq!(hooks[0].url_file.as_deref(), Some("secrets/hook-url"));
    assert_eq!(cfg.global.slack_api_url_file, "secrets/slack");
    assert_eq!(
        o.pagerduty_configs[0].routing_key_file.as_deref(),
        Some("secrets/pd")
    );
    assert_eq!(
        o.slack_configs[0].api_url_file.as_deref(),
        Some("secrets/slack")
    );
    assert_eq!(
        o.opsgenie_configs[0].api_key_file.as_deref(),
        Some("secrets/opsgenie")
    );
    assert_eq!(o.email_configs[0].auth_password_file, "secrets/smtp");

    // Text without a file has no directory: nothing is joined.
    let s = Config::load_str(RELATIVE_PATHS, "am.yml").unwrap();
    assert_eq!(s.templates[0], "tmpl/*.tmpl");
    let sh = s.receivers[0].webhook_configs[0]
        .http_config
        .as_ref()
        .unwrap();
    assert_eq!(
        sh.basic_auth.as_ref().unwrap().password_file,
        "secrets/pass"
    );
}
