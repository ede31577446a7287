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

#[test]
fn wechat_checks_and_defaults() {
    let ok = load(
        "  wechat_api_secret: gs\n  wechat_api_corp_id: gc",
        "  wechat_configs:\n  - api_url: http://wx.example/cgi-bin?a=1\n",
    )
    .unwrap();
    let w = &ok.receiver("r").unwrap().wechat_configs[0];
    assert_eq!(
        w.api_url.as_ref().unwrap().as_str(),
        "http://wx.example/cgi-bin/?a=1"
    );
    assert_eq!(w.api_secret.expose(), "gs");
    assert_eq!(w.corp_id, "gc");
    assert_eq!(w.message_type, "text");
    assert_eq!(w.message, "{{ template \"wechat.default.message\" . }}");
    assert_eq!(w.to_user, "{{ template \"wechat.default.to_user\" . }}");
    assert_eq!(w.agent_id, "{{ template \"wechat.default.agent_id\" . }}");
    assert!(!w.send_resolved);
    assert!(ok.warnings.is_empty(), "{:?}", ok.warnings);
    // The global URL is Alertmanager's; a global secret file counts too.
    let ok = load(
        "  wechat_api_secret_file: /s\n  wechat_api_corp_id: gc",
        "  wechat_configs:\n  - message_type: markdown\n",
    )
    .unwrap();
    let w = &ok.receiver("r").unwrap().wechat_configs[0];
    assert_eq!(
        w.api_url.as_ref().unwrap().as_str(),
        "https://qyapi.weixin.qq.com/cgi-bin/"
    );
    assert_eq!(w.api_secret_file, "/s");
    assert_eq!(w.message_type, "markdown");

    check(
        "",
        "  wechat_configs:\n  - message_type: html\n",
        "weChat message type \"html\" does not match valid options ^(text|markdown)$",
        true,
    );
    check(
        "",
        "  wechat_configs:\n  - api_secret: a\n    api_secret_file: /b\n",
        "at most one of api_secret & api_secret_file must be configured",
        false,
    );
    // Alertmanager 0.25 said "no global Wechat ApiSecret set" before secret files.
    check(
        "",
        "  wechat_configs:\n  - corp_id: c\n",
        "no global Wechat Api Secret set either inline or in a file",
        false,
    );
    check(
        "",
        "  wechat_configs:\n  - api_secret: s\n",
        "no global Wechat CorpID set",
        true,
    );
    check(
        "  wechat_api_secret: a\n  wechat_api_secret_file: /b",
        "  wechat_configs:\n  - corp_id: c\n",
        "at most one of wechat_api_secret & wechat_api_secret_file must be configured",
        false,
    );
}

#[test]
fn sns_checks_and_defaults() {
    let ok = load(
        "",
        "  sns_configs:\n  - topic_arn: arn:aws:sns:us-east-2:123456789012:t\n    sigv4:\n      region: us-east-2\n      access_key: ak\n      secret_key: sk\n    attributes:\n      severity: Sev2\n",
    )
    .unwrap();
    let s = &ok.receiver("r").unwrap().sns_configs[0];
    assert!(s.send_resolved);
    assert_eq!(s.subject, "{{ template \"sns.default.subject\" . }}");
    assert_eq!(s.message, "{{ template \"sns.default.message\" . }}");
    assert_eq!(s.sigv4.secret_key.expose(), "sk");
    assert_eq!(s.attributes["severity"], "Sev2");
    assert!(
        s.http_config.is_some(),
        "the global http_config is copied in"
    );
    assert!(ok.warnings.is_empty(), "{:?}", ok.warnings);

    let targets = "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config";
    check("", "  sns_configs:\n  - {}\n", targets, true);
    check(
        "",
        "  sns_configs:\n  - topic_arn: a\n    target_arn: b\n",
        targets,
        true,
    );
    // Alertmanager's exclusive-or accepts all three at once; so does amtool.
    load(
        "",
        "  sns_configs:\n  - topic_arn: a\n    target_arn: b\n    phone_number: c\n",
    )
    .unwrap();
    check(
        "",
        "  sns_configs:\n  - topic_arn: a\n    sigv4:\n      secret_key: x\n",
        "must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config",
        true,
    );
    check(
        "",
        "  sns_configs:\n  - topic_arn: a\n    sigv4:\n      external_id: x\n",
        "external_id can only be used with role_arn",
        false,
    );
    // Assuming a role loads (as in Alertmanager) but is named as unsupported.
    let ok = load(
        "",
        "  sns_configs:\n  - topic_arn: a\n    sigv4:\n      role_arn: arn:aws:iam::1:role/x\n      external_id: e\n",
    )
    .unwrap();
    assert_eq!(
        ok.warnings,
        [
            "receiver \"r\": sns_configs[0].sigv4.role_arn: assuming a role through STS is not supported by Watchfire; notifications will fail"
        ]
    );
    let e = error(
        "",
        "  sns_configs:\n  - topic_arn: a\n    sigv4:\n      regoin: x\n",
    );
    assert!(e.contains("regoin"), "{e}");
}

#[test]
fn wechat_and_sns_http_config_paths_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("am.yml");
    std::fs::write(
        &p,
        "route:\n  receiver: r\nreceivers:\n- name: r\n  wechat_configs:\n  - api_secret: s\n    corp_id: c\n    http_config:\n      tls_config:\n        ca_file: wx.pem\n  sns_configs:\n  - topic_arn: t\n    http_config:\n      tls_config:\n        ca_file: sns.pem\n",
    )
    .unwrap();
    let cfg = Config::load_file(&p).unwrap();
    let r = cfg.receiver("r").unwrap();
    let ca = |h: &Option<watchfire_alertmanager_config::HttpClientConfig>| {
        h.as_ref().unwrap().tls_config.ca_file.clone()
    };
    assert_eq!(
        Path::new(&ca(&r.wechat_configs[0].http_config)),
        dir.path().join("wx.pem")
    );
    assert_eq!(
        Path::new(&ca(&r.sns_configs[0].http_config)),
        dir.path().join("sns.pem")
    );
}

#[test]
fn jira_checks_and_defaults() {
    let ok = load(
        "  jira_api_url: https://x.atlassian.net/rest/api/2",
        "  jira_configs:\n  - project: OPS\n    issue_type: Bug\n    description:\n      template: 'd'\n      enable_update: false\n    summary:\n      enable_update: false\n    reopen_duration: 1d\n    fields:\n      customfield_1: {value: red}\n",
    )
    .unwrap();
    let j = &ok.receiver("r").unwrap().jira_configs[0];
    assert_eq!(
        j.api_url.as_ref().unwrap().as_str(),
        "https://x.atlassian.net/rest/api/2"
    );
    assert_eq!(j.api_type, "auto");
    assert!(j.send_resolved);
    assert_eq!(j.priority, "{{ template \"jira.default.priority\" . }}");
    // The object form keeps the default template when it only disables updates.
    assert_eq!(
        j.summary.template,
        "{{ template \"jira.default.summary\" . }}"
    );
    assert!(!j.summary.update_enabled());
    assert_eq!(j.description.template, "d");
    assert!(!j.description.update_enabled());
    assert_eq!(j.reopen_duration.as_millis(), 86_400_000);
    assert_eq!(
        j.fields["customfield_1"],
        serde_json::json!({"value": "red"})
    );
    assert!(ok.warnings.is_empty(), "{:?}", ok.warnings);
    let ok = load(
        "",
        "  jira_configs:\n  - project: P\n    issue_type: T\n    api_url: http://j/\n    summary: 'S {{ .Status }}'\n",
    )
    .unwrap();
    let j = &ok.receiver("r").unwrap().jira_configs[0];
    assert_eq!(j.summary.template, "S {{ .Status }}");
    assert!(j.summary.update_enabled());
    assert_eq!(
        j.description.template,
        "{{ template \"jira.default.description\" . }}"
    );

    // amtool 0.25 predates Jira: no comparison.
    let url = "    api_url: http://j/\n";
    check(
        "",
        &format!("  jira_configs:\n  - issue_type: Bug\n{url}"),
        "missing project in jira_config",
        false,
    );
    check(
        "",
        &format!("  jira_configs:\n  - project: P\n{url}"),
        "missing issue_type in jira_config",
        false,
    );
    check(
        "",
        &format!("  jira_configs:\n  - project: P\n    issue_type: T\n    api_type: server\n{url}"),
        "unknown api_type on jira_config, must be auto, cloud or datacenter",
        false,
    );
    check(
        "",
        "  jira_configs:\n  - project: P\n    issue_type: T\n",
        "no global Jira Cloud URL set",
        false,
    );
}
