//! Teams Workflows, VictorOps, Webex, incident.io, Rocket.Chat and Mattermost
//! payloads (Pushover's fixed endpoint is tested inside the crate).

use crate::common::*;
use serde_json::json;

const SUBJECT: &str = "[FIRING:2] InstanceDown (page)";

#[tokio::test]
async fn msteamsv2_adaptive_card() {
    let srv = serve(202, "text/plain", "").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  msteamsv2_configs:\n  - webhook_url: {}/workflows/abc?sig=s3cret\n    text: 'Instances: {{{{ range .Alerts }}}}{{{{ .Labels.instance }}}} {{{{ end }}}}'\n",
            srv.url
        ),
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "msteamsv2");
    assert!(ints[0].send_resolved(), "send_resolved defaults to true");
    ints[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/workflows/abc?sig=s3cret");
    assert_eq!(req.header("content-type"), "application/json");
    assert!(req.header("user-agent").starts_with("Watchfire/"));
    let card = |title: &str, color: &str| {
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.2",
                    "body": [
                        {"type": "TextBlock", "text": title, "weight": "Bolder",
                         "size": "Medium", "wrap": true, "style": "heading", "color": color},
                        {"type": "TextBlock", "text": "Instances: a:9100 b:9100 ", "wrap": true},
                    ],
                    "msteams": {"width": "full"},
                },
            }],
        })
    };
    assert_eq!(req.json(), card(SUBJECT, "Attention"));
    // Go's encoder ends the body with a newline.
    assert_eq!(req.body.last(), Some(&b'\n'));
    ints[0].notify(&resolved_data()).await.unwrap();
    assert_eq!(
        srv.take()[0].json(),
        card("[RESOLVED] InstanceDown (page)", "Good")
    );
}

#[tokio::test]
async fn msteamsv2_url_file_and_retry() {
    let srv = serve(429, "text/plain", "slow down").await;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("url");
    std::fs::write(&f, format!("{}/hook\n", srv.url)).unwrap();
    let r = receiver(
        "",
        &format!(
            "- name: r\n  msteamsv2_configs:\n  - webhook_url_file: {}\n",
            f.display()
        ),
    );
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(err.retry);
    assert_eq!(err.message, "unexpected status code 429: slow down");
    assert_eq!(srv.take()[0].path, "/hook");
}

#[tokio::test]
async fn victorops_alert() {
    let srv = serve(200, "application/json", r#"{"result":"success"}"#).await;
    let r = receiver(
        &format!(
            "  victorops_api_url: {}/integrations/generic/alert\n  victorops_api_key: key-1",
            srv.url
        ),
        r#"- name: r
  victorops_configs:
  - routing_key: 'team-{{ .CommonLabels.severity }}'
    message_type: '{{ if eq .CommonLabels.severity "page" }}WARNING{{ end }}'
    state_message: 'state {{ len .Alerts }}'
    custom_fields:
      runbook: 'http://rb/{{ .GroupLabels.alertname }}'
      zzz: plain
"#,
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "victorops");
    assert!(ints[0].send_resolved());
    ints[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.method, "POST");
    // The global URL got its trailing slash; key and routing key extend the path.
    assert_eq!(req.path, "/integrations/generic/alert/key-1/team-page");
    assert_eq!(req.header("content-type"), "application/json");
    let hash = group_key_hash();
    assert_eq!(
        req.json(),
        json!({
            "entity_display_name": SUBJECT,
            "entity_id": hash,
            "message_type": "WARNING",
            "monitoring_tool": "Alertmanager",
            "runbook": "http://rb/InstanceDown",
            "state_message": "state 2",
            "zzz": "plain",
        })
    );
    // Keys are sorted, as Go encodes a map.
    let text = String::from_utf8(req.body.clone()).unwrap();
    assert!(text.starts_with("{\"entity_display_name\":"), "{text}");

    ints[0].notify(&resolved_data()).await.unwrap();
    let body = srv.take()[0].json();
    assert_eq!(body["message_type"], "RECOVERY");
    assert_eq!(body["entity_id"], hash.as_str());
}

#[tokio::test]
async fn victorops_unknown_message_type_pages_and_key_file() {
    let srv = serve(500, "text/plain", "down").await;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("key");
    std::fs::write(&f, "file-key\n").unwrap();
    let r = receiver(
        "",
        &format!(
            "- name: r\n  victorops_configs:\n  - api_url: {}/alert/\n    api_key_file: {}\n    routing_key: rk\n    message_type: BOGUS\n",
            srv.url,
            f.display()
        ),
    );
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(err.retry);
    assert!(!err.message.contains("file-key"), "{}", err.message);
    let req = &srv.take()[0];
    assert_eq!(req.path, "/alert/file-key/rk");
    assert_eq!(req.json()["message_type"], "CRITICAL");
}

#[tokio::test]
async fn webex_message() {
    let srv = serve(200, "application/json", "{}").await;
    let r = receiver(
        &format!("  webex_api_url: {}/v1/messages", srv.url),
        r#"- name: r
  webex_configs:
  - room_id: 'room-{{ .GroupLabels.alertname }}'
    http_config:
      authorization:
        credentials: bot-token
"#,
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "webex");
    ints[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.header("authorization"), "Bearer bot-token");
    assert_eq!(req.header("content-type"), "application/json");
    let body = req.json();
    assert_eq!(body["roomId"], "room-InstanceDown");
    let md = body["markdown"].as_str().unwrap();
    assert!(md.contains("Alerts Firing:"), "{md}");
    assert!(md.contains("instance = a:9100"), "{md}");
    assert_eq!(body.as_object().unwrap().len(), 2);
}

#[tokio::test]
async fn webex_truncates_in_bytes() {
    let srv = serve(200, "application/json", "{}").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  webex_configs:\n  - api_url: {}/m\n    room_id: x\n    message: '{}'\n    http_config:\n      bearer_token: t\n",
            srv.url,
            "ä".repeat(4000)
        ),
    );
    build(&r)[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.header("authorization"), "Bearer t");
    let md = req.json()["markdown"].as_str().unwrap().to_string();
    // 7439 bytes at most: 3718 two-byte characters plus the 3-byte marker.
    assert_eq!(md.len(), 7439);
    assert!(md.ends_with("ä…"));
}

#[tokio::test]
async fn incidentio_message() {
    let srv = serve(202, "application/json", r#"{"status":"success"}"#).await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  incidentio_configs:\n  - url: {}/v2/alert_events/http/01ABC\n    alert_source_token: src-token\n    max_alerts: 1\n",
            srv.url
        ),
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "incidentio");
    assert!(ints[0].send_resolved());
    ints[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v2/alert_events/http/01ABC");
    assert_eq!(req.header("authorization"), "Bearer src-token");
    assert_eq!(req.header("content-type"), "application/json");
    let d = firing_data();
    let a = &d.alerts[0];
    assert_eq!(
        req.json(),
        json!({
            "receiver": "team-x",
            "status": "firing",
            "alerts": [{
                "status": "firing",
                "labels": a.labels,
                "annotations": a.annotations,
                "startsAt": a.starts_at,
                "endsAt": a.ends_at,
                "generatorURL": a.generator_url,
                "fingerprint": a.fingerprint,
            }],
            "groupLabels": d.group_labels,
            // Recomputed for the one alert that is sent.
            "commonLabels": a.labels,
            "commonAnnotations": a.annotations,
            "externalURL": "http://am:9093",
            "version": "1",
            "groupKey": d.group_key,
            "truncatedAlerts": 1,
        })
    );
}

#[tokio::test]
async fn incidentio_http_config_auth_and_errors() {
    let srv = serve(
        400,
        "application/json",
        r#"{"message":"bad","errors":["a","b"],"error":"invalid"}"#,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("url");
    std::fs::write(&f, format!("{}/src\n", srv.url)).unwrap();
    let r = receiver(
        "",
        &format!(
            "- name: r\n  incidentio_configs:\n  - url_file: {}\n    http_config:\n      authorization:\n        type: Token\n        credentials: abc\n",
            f.display()
        ),
    );
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(!err.retry);
    assert_eq!(
        err.message,
        "unexpected status code 400: bad: invalid: a, b"
    );
    let req = &srv.take()[0];
    assert_eq!(req.path, "/src");
    assert_eq!(req.header("authorization"), "Token abc");
    assert_eq!(req.json()["alerts"].as_array().unwrap().len(), 2);

    // 429 is retried; a non-JSON body adds no details.
    let srv = serve(429, "text/plain", "rate limited").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  incidentio_configs:\n  - url: {}/x\n    alert_source_token: t\n",
            srv.url
        ),
    );
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(err.retry);
    assert_eq!(err.message, "unexpected status code 429");
}

#[tokio::test]
async fn incidentio_timeout() {
    // Accepts connections and never answers.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    let r = receiver(
        "",
        &format!(
            "- name: r\n  incidentio_configs:\n  - url: http://{addr}/x\n    alert_source_token: t\n    timeout: 200ms\n"
        ),
    );
    let start = std::time::Instant::now();
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(err.retry);
    assert_eq!(
        err.message,
        "configured incident.io timeout reached (200ms)"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn incidentio_large_payload_keeps_first_alert() {
    let srv = serve(200, "application/json", "{}").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  incidentio_configs:\n  - url: {}/x\n    alert_source_token: t\n",
            srv.url
        ),
    );
    let mut d = firing_data();
    for a in &mut d.alerts {
        a.annotations
            .insert("description".into(), "x".repeat(300 * 1024));
    }
    build(&r)[0].notify(&d).await.unwrap();
    let body = srv.take()[0].json();
    assert_eq!(body["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(body["alerts"][0]["labels"]["instance"], "a:9100");
    assert_eq!(body["truncatedAlerts"], 0);
}

#[tokio::test]
async fn rocketchat_post_message() {
    let srv = serve(200, "application/json", r#"{"success":true}"#).await;
    let r = receiver(
        &format!(
            "  rocketchat_api_url: {}/chat\n  rocketchat_token: tok\n  rocketchat_token_id: uid",
            srv.url
        ),
        r#"- name: r
  rocketchat_configs:
  - channel: '#alerts'
    emoji: ':fire:'
    short_fields: true
    fields:
    - title: Instance
      value: '{{ (index .Alerts 0).Labels.instance }}'
    - title: Long
      value: v
      short: false
    actions:
    - text: Runbook
      url: 'http://rb/{{ .GroupLabels.alertname }}'
      msg: ack
"#,
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "rocketchat");
    assert!(!ints[0].send_resolved(), "send_resolved defaults to false");
    ints[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/chat/api/v1/chat.postMessage");
    assert_eq!(req.header("x-auth-token"), "tok");
    assert_eq!(req.header("x-user-id"), "uid");
    assert_eq!(req.header("content-type"), "application/json");
    assert_eq!(
        req.json(),
        json!({
            "channel": "#alerts",
            "emoji": ":fire:",
            "attachments": [{
                "title": SUBJECT,
                "title_link": "http://am:9093/#/alerts?receiver=team-x",
                "color": "red",
                "fields": [
                    {"short": true, "title": "Instance", "value": "a:9100"},
                    {"short": false, "title": "Long", "value": "v"},
                ],
                "actions": [{
                    "type": "button", "text": "Runbook", "url": "http://rb/InstanceDown",
                    "is_webview": false, "msg": "ack", "msg_in_chat_window": false,
                }],
            }],
        })
    );
}

#[tokio::test]
async fn rocketchat_token_files_and_failures() {
    let srv = serve(
        200,
        "application/json",
        r#"{"success":false,"error":"no room"}"#,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (t, id) = (dir.path().join("t"), dir.path().join("id"));
    std::fs::write(&t, "file-token\n").unwrap();
    std::fs::write(&id, "file-uid\n").unwrap();
    let r = receiver(
        "",
        &format!(
            "- name: r\n  rocketchat_configs:\n  - api_url: {}/\n    token_file: {}\n    token_id_file: {}\n    channel: '@bob'\n    http_config:\n      http_headers:\n        X-Auth-Token:\n          values: [overridden]\n",
            srv.url,
            t.display(),
            id.display()
        ),
    );
    let err = build(&r)[0].notify(&resolved_data()).await.unwrap_err();
    assert!(!err.retry);
    assert_eq!(
        err.message,
        "channel \"@bob\": error response from Rocketchat: no room"
    );
    let req = &srv.take()[0];
    assert_eq!(req.path, "/api/v1/chat.postMessage");
    assert_eq!(req.headers.get_all("x-auth-token").iter().count(), 1);
    assert_eq!(req.header("x-auth-token"), "file-token");
    assert_eq!(req.header("x-user-id"), "file-uid");
    assert_eq!(req.json()["attachments"][0]["color"], "green");

    // A 2xx answer that is not JSON may be a proxy page: retried.
    let srv = serve(200, "text/html", "<html>").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  rocketchat_configs:\n  - api_url: {}\n    token: a\n    token_id: b\n",
            srv.url
        ),
    );
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(err.retry);
    assert!(
        err.message
            .starts_with("channel \"\": could not unmarshal JSON response \"<html>\""),
        "{}",
        err.message
    );
    // 5xx: retried, with the channel in front.
    let srv = serve(502, "text/plain", "bad gateway").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  rocketchat_configs:\n  - api_url: {}\n    token: a\n    token_id: b\n",
            srv.url
        ),
    );
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(err.retry);
    assert_eq!(
        err.message,
        "channel \"\": unexpected status code 502: bad gateway"
    );
}

#[tokio::test]
async fn mattermost_default_attachment() {
    let srv = serve(200, "text/plain", "ok").await;
    let r = receiver(
        &format!("  mattermost_webhook_url: {}/hooks/xyz", srv.url),
        r#"- name: r
  mattermost_configs:
  - channel: town-square
    text: 'text {{ len .Alerts }}'
    icon_emoji: ':bell:'
    fields:
    - title: Instance
      value: '{{ (index .Alerts 0).Labels.instance }}'
      short: true
    priority:
      priority: URGENT
      requested_ack: true
      persistent_notifications: true
    props:
      card: 'card {{ .Status }}'
"#,
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "mattermost");
    assert!(ints[0].send_resolved());
    ints[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hooks/xyz");
    assert_eq!(req.header("content-type"), "application/json");
    let link = "http://am:9093/#/alerts?receiver=team-x";
    assert_eq!(
        req.json(),
        json!({
            "channel": "town-square",
            "username": "Alertmanager",
            "icon_emoji": ":bell:",
            "attachments": [{
                "fallback": format!("{SUBJECT} | {link}"),
                "color": "danger",
                "text": "text 2",
                "title": SUBJECT,
                "title_link": link,
                "fields": [{"title": "Instance", "value": "a:9100", "short": true}],
            }],
            "props": {"card": "card firing"},
            "priority": {"priority": "urgent", "requested_ack": true, "persistent_notifications": true},
        })
    );
}

#[tokio::test]
async fn mattermost_attachments_and_priority_rules() {
    let srv = serve(400, "text/plain", "no channel").await;
    let r = receiver(
        "",
        &format!(
            r#"- name: r
  mattermost_configs:
  - webhook_url: {}/hooks/1
    channel: ops
    text: outside
    priority:
      priority: whatever
      requested_ack: true
      persistent_notifications: true
    attachments:
    - title: 'first {{{{ .Status }}}}'
      fields:
      - title: t
        value: v
    - text: second
"#,
            srv.url
        ),
    );
    let err = build(&r)[0].notify(&resolved_data()).await.unwrap_err();
    assert!(!err.retry);
    assert_eq!(
        err.message,
        "channel \"ops\": unexpected status code 400: no channel"
    );
    let body = srv.take()[0].json();
    assert_eq!(body["text"], "outside");
    assert_eq!(
        body["attachments"],
        json!([
            {"title": "first resolved", "fields": [{"title": "t", "value": "v"}]},
            {"text": "second"},
        ])
    );
    // An unknown priority is standard, which allows neither option.
    assert_eq!(body["priority"], json!({"priority": "standard"}));
}

#[tokio::test]
async fn integrations_come_in_alertmanagers_order() {
    let r = receiver(
        "",
        r#"- name: r
  mattermost_configs:
  - webhook_url: http://127.0.0.1:1/m
  rocketchat_configs:
  - token: a
    token_id: b
  incidentio_configs:
  - url: http://127.0.0.1:1/i
  msteamsv2_configs:
  - webhook_url: http://127.0.0.1:1/t
  webex_configs:
  - room_id: x
    http_config:
      bearer_token: t
  pushover_configs:
  - user_key: u
    token: t
  victorops_configs:
  - api_key: k
    routing_key: r
  jira_configs:
  - project: P
    issue_type: Bug
    api_url: http://127.0.0.1:1/rest/api/2
  sns_configs:
  - topic_arn: t
  wechat_configs:
  - api_secret: s
    corp_id: c
  webhook_configs:
  - url: http://127.0.0.1:1/w
"#,
    );
    let names: Vec<String> = build(&r).iter().map(|i| i.name().to_string()).collect();
    assert_eq!(
        names,
        [
            "webhook",
            "wechat",
            "victorops",
            "pushover",
            "sns",
            "webex",
            "msteamsv2",
            "jira",
            "incidentio",
            "rocketchat",
            "mattermost"
        ]
    );
}
