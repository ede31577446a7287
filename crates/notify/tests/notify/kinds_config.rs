//! Loading the newer notifier kinds: defaults, global values, Alertmanager's
//! error texts (compared with amtool for the kinds Alertmanager 0.25 knows) and
//! relative paths.

use std::path::Path;
use watchfire_alertmanager_config::Config;

fn load(global: &str, receivers: &str) -> Result<Config, String> {
    let global = if global.is_empty() {
        String::new()
    } else {
        format!("global:\n{global}\n")
    };
    let text = format!("{global}route:\n  receiver: r\nreceivers:\n- name: r\n{receivers}");
    Config::load_str(&text, "t.yml").map_err(|e| e.to_string())
}

fn error(global: &str, receivers: &str) -> String {
    match load(global, receivers) {
        Ok(_) => panic!("accepted:\n{receivers}"),
        Err(e) => e,
    }
}

/// amtool's message for the same receivers, or `None` when the peer is unavailable.
fn amtool_error(global: &str, receivers: &str) -> Option<String> {
    if std::env::var("WATCHFIRE_SKIP_PEERS").as_deref() == Ok("1") {
        eprintln!("SKIP amtool comparison: WATCHFIRE_SKIP_PEERS=1");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let global = if global.is_empty() {
        String::new()
    } else {
        format!("global:\n{global}\n")
    };
    let p = dir.path().join("am.yml");
    std::fs::write(
        &p,
        format!("{global}route:\n  receiver: r\nreceivers:\n- name: r\n{receivers}"),
    )
    .unwrap();
    let out = match std::process::Command::new("amtool")
        .arg("check-config")
        .arg(&p)
        .output()
    {
        Ok(o) => o,
        Err(_) => {
            eprintln!("SKIP amtool comparison: amtool not installed");
            return None;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let msg = stdout.split("FAILED: ").nth(1)?.trim().to_string();
    Some(msg)
}

/// Our error ends with Alertmanager's message, and amtool 0.25 agrees when asked.
fn check(global: &str, receivers: &str, msg: &str, compare_amtool: bool) {
    let e = error(global, receivers);
    assert!(e.ends_with(msg), "{e}\nwanted: {msg}");
    if compare_amtool && let Some(am) = amtool_error(global, receivers) {
        assert_eq!(am, msg, "amtool disagrees for:\n{receivers}");
    }
}

#[test]
fn victorops_checks_and_defaults() {
    let ok = load(
        "  victorops_api_key: gk",
        "  victorops_configs:\n  - routing_key: rk\n    api_url: http://vo.example/x?y=1\n",
    )
    .unwrap();
    let vo = &ok.receiver("r").unwrap().victorops_configs[0];
    assert_eq!(
        vo.api_url.as_ref().unwrap().as_str(),
        "http://vo.example/x/?y=1"
    );
    assert_eq!(vo.api_key.expose(), "gk");
    assert_eq!(vo.message_type, "CRITICAL");
    assert_eq!(
        vo.state_message,
        "{{ template \"victorops.default.state_message\" . }}"
    );
    assert!(vo.send_resolved);
    assert!(ok.warnings.is_empty(), "{:?}", ok.warnings);

    check(
        "",
        "  victorops_configs:\n  - api_key: k\n",
        "missing Routing key in VictorOps config",
        true,
    );
    check(
        "",
        "  victorops_configs:\n  - api_key: k\n    api_key_file: /f\n    routing_key: r\n",
        "at most one of api_key & api_key_file must be configured",
        true,
    );
    check(
        "",
        "  victorops_configs:\n  - api_key: k\n    routing_key: r\n    custom_fields:\n      monitoring_tool: x\n      entity_state: y\n",
        "victorOps config contains custom field monitoring_tool which cannot be used as it conflicts with the fixed/static fields",
        true,
    );
    check(
        "",
        "  victorops_configs:\n  - routing_key: r\n",
        "no global VictorOps API Key set",
        true,
    );
    check(
        "  victorops_api_key: a\n  victorops_api_key_file: /b",
        "  victorops_configs:\n  - routing_key: r\n",
        "at most one of victorops_api_key & victorops_api_key_file must be configured",
        true,
    );
}

#[test]
fn webex_checks_and_defaults() {
    let ok = load(
        "",
        "  webex_configs:\n  - room_id: r1\n    http_config:\n      authorization:\n        credentials: c\n",
    )
    .unwrap();
    let w = &ok.receiver("r").unwrap().webex_configs[0];
    assert_eq!(
        w.api_url.as_ref().unwrap().as_str(),
        "https://webexapis.com/v1/messages"
    );
    assert_eq!(w.message, "{{ template \"webex.default.message\" . }}");
    check(
        "",
        "  webex_configs:\n  - http_config:\n      authorization:\n        credentials: c\n",
        "missing room_id on webex_config",
        true,
    );
    // A global authorization does not count: the entry must carry its own.
    check(
        "  http_config:\n    authorization:\n      credentials: x",
        "  webex_configs:\n  - room_id: abc\n",
        "missing webex_configs.http_config.authorization",
        true,
    );
}

#[test]
fn pushover_checks_and_defaults() {
    let ok = load(
        "",
        "  pushover_configs:\n  - user_key: u\n    token: t\n    retry: 30s\n    ttl: 1.5h\n",
    )
    .unwrap();
    let p = &ok.receiver("r").unwrap().pushover_configs[0];
    assert_eq!(p.retry.whole_seconds(), 30);
    assert_eq!(p.expire.whole_seconds(), 3600);
    assert_eq!(p.ttl.whole_seconds(), 5400);
    assert_eq!(
        p.priority,
        "{{ if eq .Status \"firing\" }}2{{ else }}0{{ end }}"
    );
    assert!(p.send_resolved && !p.html && !p.monospace);
    // Serialised without the secrets, durations as Go prints them.
    let json = serde_json::to_value(p).unwrap();
    assert_eq!(json["user_key"], "<secret>");
    assert_eq!(json["token"], "<secret>");
    assert_eq!(json["retry"], "30s");
    assert_eq!(json["ttl"], "1h30m0s");

    // Alertmanager 0.27+ texts (0.25 had no *_file settings and other messages).
    for (yaml, msg) in [
        (
            "token: t",
            "one of user_key or user_key_file must be configured",
        ),
        (
            "user_key: u\n    user_key_file: /f\n    token: t",
            "at most one of user_key & user_key_file must be configured",
        ),
        (
            "user_key: u",
            "one of token or token_file must be configured",
        ),
        (
            "user_key: u\n    token: t\n    token_file: /f",
            "at most one of token & token_file must be configured",
        ),
        (
            "user_key: u\n    token: t\n    html: true\n    monospace: true",
            "at most one of monospace & html must be configured",
        ),
    ] {
        check(
            "",
            &format!("  pushover_configs:\n  - {yaml}\n"),
            msg,
            false,
        );
    }
    // Durations use Go's grammar: no days, units required.
    let e = error(
        "",
        "  pushover_configs:\n  - user_key: u\n    token: t\n    retry: 1d\n",
    );
    assert!(
        e.contains("time: unknown unit \"d\" in duration \"1d\""),
        "{e}"
    );
}

#[test]
fn msteamsv2_checks_and_proxy_inheritance() {
    let ok = load(
        "  http_config:\n    proxy_url: http://proxy:3128\n    bearer_token: g",
        "  msteamsv2_configs:\n  - webhook_url: https://x.example/wf\n    http_config:\n      basic_auth:\n        username: u\n  - webhook_url_file: /f\n",
    )
    .unwrap();
    let r = ok.receiver("r").unwrap();
    let own = r.msteamsv2_configs[0].http_config.as_ref().unwrap();
    // A partial http_config keeps its own settings and takes the global proxy.
    assert_eq!(own.proxy_url, "http://proxy:3128");
    assert!(own.basic_auth.is_some() && own.authorization.is_none());
    let inherited = r.msteamsv2_configs[1].http_config.as_ref().unwrap();
    assert!(inherited.authorization.is_some());
    assert_eq!(
        r.msteamsv2_configs[0].title,
        "{{ template \"msteamsv2.default.title\" . }}"
    );
    check(
        "",
        "  msteamsv2_configs:\n  - title: x\n",
        "one of webhook_url or webhook_url_file must be configured",
        false,
    );
    check(
        "",
        "  msteamsv2_configs:\n  - webhook_url: https://x.example/\n    webhook_url_file: /f\n",
        "at most one of webhook_url & webhook_url_file must be configured",
        false,
    );
}

#[test]
fn incidentio_checks() {
    let ok = load(
        "",
        "  incidentio_configs:\n  - url: https://api.incident.io/v2/alert_events/http/1\n    timeout: 30s\n",
    )
    .unwrap();
    let c = &ok.receiver("r").unwrap().incidentio_configs[0];
    assert_eq!(c.timeout.whole_seconds(), 30);
    assert!(c.send_resolved);
    for (yaml, msg) in [
        ("max_alerts: 1", "one of url or url_file must be configured"),
        (
            "url: http://x/\n    url_file: /f",
            "at most one of url & url_file must be configured",
        ),
        (
            "url: http://x/\n    alert_source_token: a\n    alert_source_token_file: /f",
            "at most one of alert_source_token & alert_source_token_file must be configured",
        ),
        (
            "url: http://x/\n    alert_source_token: a\n    http_config:\n      authorization:\n        credentials: c",
            "cannot specify alert_source_token or alert_source_token_file when using http_config.authorization",
        ),
        (
            "url: http://x/\n    http_config:\n      follow_redirects: false",
            "at least one of alert_source_token, alert_source_token_file or http_config.authorization must be configured",
        ),
    ] {
        check(
            "",
            &format!("  incidentio_configs:\n  - {yaml}\n"),
            msg,
            false,
        );
    }
}

#[test]
fn rocketchat_and_mattermost_globals() {
    let ok = load(
        "  rocketchat_token: t\n  rocketchat_token_id_file: /id\n  mattermost_webhook_url: https://mm.example/hooks/1",
        "  rocketchat_configs:\n  - channel: '#c'\n  mattermost_configs:\n  - channel: c\n",
    )
    .unwrap();
    let r = ok.receiver("r").unwrap();
    let rc = &r.rocketchat_configs[0];
    assert_eq!(
        rc.api_url.as_ref().unwrap().as_str(),
        "https://open.rocket.chat/"
    );
    assert_eq!(rc.token.as_ref().unwrap().expose(), "t");
    assert_eq!(rc.token_id_file, "/id");
    assert!(!rc.send_resolved);
    let mm = &r.mattermost_configs[0];
    assert_eq!(
        mm.webhook_url.as_ref().unwrap().expose(),
        "https://mm.example/hooks/1"
    );
    assert!(mm.send_resolved);

    check(
        "",
        "  rocketchat_configs:\n  - token: t\n",
        "no global Rocketchat TokenID set either inline or in a file",
        false,
    );
    check(
        "",
        "  rocketchat_configs:\n  - token_id: t\n",
        "no global Rocketchat Token set either inline or in a file",
        false,
    );
    check(
        "",
        "  rocketchat_configs:\n  - token: t\n    token_file: /f\n    token_id: i\n",
        "at most one of token & token_file must be configured",
        false,
    );
    check(
        "  rocketchat_token: a\n  rocketchat_token_file: /b",
        "  rocketchat_configs:\n  - token_id: i\n",
        "at most one of rocketchat_token & rocketchat_token_file must be configured",
        false,
    );
    check(
        "",
        "  mattermost_configs:\n  - channel: c\n",
        "missing webhook_url or webhook_url_file on mattermost_config",
        false,
    );
    check(
        "",
        "  mattermost_configs:\n  - webhook_url: http://m/\n    fields:\n    - title: t\n",
        "missing value in Mattermost field configuration",
        false,
    );
    check(
        "  mattermost_webhook_url: http://m/\n  mattermost_webhook_url_file: /f",
        "  mattermost_configs:\n  - channel: c\n",
        "at most one of mattermost_webhook_url & mattermost_webhook_url_file must be configured",
        false,
    );
}

#[test]
fn relative_http_config_paths_resolve_against_the_config_dir() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).unwrap();
    let p = conf.join("am.yml");
    std::fs::write(
        &p,
        r#"route:
  receiver: r
receivers:
- name: r
  webex_configs:
  - room_id: x
    http_config:
      authorization:
        credentials_file: secrets/webex
  pushover_configs:
  - user_key_file: keys/user
    token: t
    http_config:
      tls_config:
        ca_file: ca.pem
  msteamsv2_configs:
  - webhook_url: https://x.example/
    http_config:
      bearer_token_file: tok
"#,
    )
    .unwrap();
    let cfg = Config::load_file(&p).unwrap();
    let r = cfg.receiver("r").unwrap();
    let webex = r.webex_configs[0].http_config.as_ref().unwrap();
    let auth = webex.authorization.as_ref().unwrap();
    assert_eq!(
        Path::new(&auth.credentials_file),
        conf.join("secrets/webex")
    );
    let po = &r.pushover_configs[0];
    let tls = &po.http_config.as_ref().unwrap().tls_config;
    assert_eq!(Path::new(&tls.ca_file), conf.join("ca.pem"));
    // Like Alertmanager, notifier-level *_file settings stay as written.
    assert_eq!(po.user_key_file, "keys/user");
    let teams = r.msteamsv2_configs[0].http_config.as_ref().unwrap();
    let auth = teams.authorization.as_ref().unwrap();
    assert_eq!(Path::new(&auth.credentials_file), conf.join("tok"));
}
