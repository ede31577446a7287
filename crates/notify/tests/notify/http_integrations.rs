//! Slack, PagerDuty, MS Teams, Discord, Telegram and Opsgenie payloads.

use crate::common::*;
use serde_json::json;

const SUBJECT: &str = "[FIRING:2] InstanceDown (page)";

#[tokio::test]
async fn slack_webhook_attachment() {
    let srv = serve(200, "text/plain", "ok").await;
    let r = receiver(
        "",
        &format!(
            r#"- name: r
  slack_configs:
  - api_url: {}/services/T0/B0/XYZ
    channel: '#alerts'
    send_resolved: true
    text: '{{{{ .CommonLabels.severity }}}}'
    short_fields: true
    fields:
    - title: Instance
      value: '{{{{ (index .Alerts 0).Labels.instance }}}}'
    - title: Long
      value: v
      short: false
    actions:
    - type: button
      text: Runbook
      url: 'http://runbook/{{{{ .GroupLabels.alertname }}}}'
      confirm:
        text: Sure?
"#,
            srv.url
        ),
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "slack");
    assert!(ints[0].send_resolved());
    ints[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/services/T0/B0/XYZ");
    assert_eq!(req.header("content-type"), "application/json");
    let expected = json!({
        "channel": "#alerts",
        "username": "Alertmanager",
        "attachments": [{
            "title": SUBJECT,
            "title_link": "http://am:9093/#/alerts?receiver=team-x",
            "text": "page",
            "fallback": format!("{SUBJECT} | http://am:9093/#/alerts?receiver=team-x"),
            "callback_id": "",
            "fields": [
                {"title": "Instance", "value": "a:9100", "short": true},
                {"title": "Long", "value": "v", "short": false},
            ],
            "actions": [{
                "type": "button",
                "text": "Runbook",
                "url": "http://runbook/InstanceDown",
                "confirm": {"text": "Sure?"},
            }],
            "footer": "",
            "color": "danger",
            "mrkdwn_in": ["fallback", "pretext", "text"],
        }],
    });
    assert_eq!(req.json(), expected);
}

#[tokio::test]
async fn slack_bot_token_and_ok_false() {
    let srv = serve(
        200,
        "application/json; charset=utf-8",
        r#"{"ok":false,"error":"channel_not_found"}"#,
    )
    .await;
    let r = receiver(
        &format!("  slack_app_url: {}/api/chat.postMessage", srv.url),
        "- name: r\n  slack_configs:\n  - app_token: xoxb-secret\n    channel: '#c'\n",
    );
    let ints = build(&r);
    let err = ints[0].notify(&resolved_data()).await.unwrap_err();
    assert!(!err.retry);
    assert!(err.message.contains("channel_not_found"), "{}", err.message);
    assert!(err.message.contains("\"#c\""), "{}", err.message);
    assert!(!err.message.contains("xoxb-secret"));
    let req = &srv.take()[0];
    assert_eq!(req.path, "/api/chat.postMessage");
    assert_eq!(req.header("authorization"), "Bearer xoxb-secret");
    let body = req.json();
    assert_eq!(body["channel"], "#c");
    assert_eq!(body["attachments"][0]["color"], "good");
    assert_eq!(
        body["attachments"][0]["title"],
        "[RESOLVED] InstanceDown (page)"
    );
}

#[tokio::test]
async fn slack_json_ok_true_succeeds() {
    let srv = serve(200, "application/json", r#"{"ok":true}"#).await;
    let r = receiver(
        "",
        &format!("- name: r\n  slack_configs:\n  - api_url: {}/x\n", srv.url),
    );
    build(&r)[0].notify(&firing_data()).await.unwrap();
    // A plain-text body other than "ok" is an error.
    let srv = serve(200, "text/html", "invalid_token").await;
    let r = receiver(
        "",
        &format!("- name: r\n  slack_configs:\n  - api_url: {}/x\n", srv.url),
    );
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(err.message.contains("invalid_token"), "{}", err.message);
}

#[tokio::test]
async fn pagerduty_v2_enqueue() {
    let srv = serve(202, "application/json", r#"{"status":"success"}"#).await;
    let r = receiver(
        "",
        &format!(
            r#"- name: r
  pagerduty_configs:
  - routing_key: rk-123
    url: {}/v2/enqueue
    class: '{{{{ .CommonLabels.alertname }}}}'
    component: db
    group: prod
    images:
    - src: http://img/x.png
      alt: graph
      href: http://grafana
    - src: ''
    links:
    - href: http://runbook
      text: Runbook
"#,
            srv.url
        ),
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "pagerduty");
    ints[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v2/enqueue");
    let body = req.json();
    let hash = group_key_hash();
    assert_eq!(body["routing_key"], "rk-123");
    assert_eq!(body["dedup_key"], hash.as_str());
    assert_eq!(body["event_action"], "trigger");
    assert_eq!(body["client"], "Alertmanager");
    assert_eq!(
        body["client_url"],
        "http://am:9093/#/alerts?receiver=team-x"
    );
    assert_eq!(
        body["images"],
        json!([{"src": "http://img/x.png", "alt": "graph", "href": "http://grafana"}])
    );
    assert_eq!(
        body["links"],
        json!([{"href": "http://runbook", "text": "Runbook"}])
    );
    let p = &body["payload"];
    assert_eq!(p["summary"], SUBJECT);
    assert_eq!(p["source"], "Alertmanager");
    assert_eq!(p["severity"], "error");
    assert_eq!(p["class"], "InstanceDown");
    assert_eq!(p["component"], "db");
    assert_eq!(p["group"], "prod");
    let cd = &p["custom_details"];
    assert_eq!(cd["num_firing"], json!(2));
    assert_eq!(cd["num_resolved"], json!(0));
    assert!(
        cd.get("firing").is_some() && cd.get("resolved").is_some(),
        "{cd}"
    );
    assert!(body.get("service_key").is_none() && body.get("incident_key").is_none());

    ints[0].notify(&resolved_data()).await.unwrap();
    let body = srv.take()[0].json();
    assert_eq!(body["event_action"], "resolve");
    assert_eq!(body["dedup_key"], hash.as_str());
}

#[tokio::test]
async fn pagerduty_summary_truncated_to_1024() {
    let srv = serve(202, "application/json", "{}").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  pagerduty_configs:\n  - routing_key: k\n    url: {}/\n    description: '{}'\n",
            srv.url,
            "x".repeat(2000)
        ),
    );
    build(&r)[0].notify(&firing_data()).await.unwrap();
    let summary = srv.take()[0].json()["payload"]["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(summary.chars().count(), 1024);
    assert!(summary.ends_with('…'));
}

#[tokio::test]
async fn pagerduty_v1_generic_event() {
    let srv = serve(200, "application/json", "{}").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  pagerduty_configs:\n  - service_key: sk-1\n    url: {}/generic/create_event.json\n    details:\n      env: prod\n",
            srv.url
        ),
    );
    let ints = build(&r);
    ints[0].notify(&firing_data()).await.unwrap();
    let body = srv.take()[0].json();
    assert_eq!(body["service_key"], "sk-1");
    assert_eq!(body["event_type"], "trigger");
    assert_eq!(body["incident_key"], group_key_hash().as_str());
    assert_eq!(body["description"], SUBJECT);
    assert_eq!(body["client"], "Alertmanager");
    assert_eq!(body["details"]["env"], "prod");
    // Alertmanager's defaults are merged into user details.
    assert_eq!(body["details"]["num_firing"], json!(2));
    assert!(body.get("routing_key").is_none() && body.get("dedup_key").is_none());
    assert_eq!(body["payload"], serde_json::Value::Null);

    ints[0].notify(&resolved_data()).await.unwrap();
    let body = srv.take()[0].json();
    assert_eq!(body["event_type"], "resolve");
    assert!(body.get("client").is_none());
}

#[tokio::test]
async fn msteams_message_card() {
    let srv = serve(200, "text/plain", "1").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  msteams_configs:\n  - webhook_url: {}/webhookb2/abc\n    text: body\n",
            srv.url
        ),
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "msteams");
    ints[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.path, "/webhookb2/abc");
    assert_eq!(
        req.json(),
        json!({
            "@context": "http://schema.org/extensions",
            "type": "MessageCard",
            "title": SUBJECT,
            "summary": SUBJECT,
            "text": "body",
            "themeColor": "8C1A1A",
        })
    );
    ints[0].notify(&resolved_data()).await.unwrap();
    assert_eq!(srv.take()[0].json()["themeColor"], "2DC72D");
}

#[tokio::test]
async fn discord_embed() {
    let srv = serve(204, "text/plain", "").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  discord_configs:\n  - webhook_url: {}/api/webhooks/1/tok\n    message: m\n    username: bot\n",
            srv.url
        ),
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "discord");
    ints[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.path, "/api/webhooks/1/tok");
    assert_eq!(
        req.json(),
        json!({
            "content": "",
            "embeds": [{"title": SUBJECT, "description": "m", "color": 0x992D22}],
            "username": "bot",
        })
    );
    ints[0].notify(&resolved_data()).await.unwrap();
    assert_eq!(srv.take()[0].json()["embeds"][0]["color"], 0x2ECC71);
}

#[tokio::test]
async fn telegram_send_message() {
    let srv = serve(
        200,
        "application/json",
        r#"{"ok":true,"result":{"message_id":1}}"#,
    )
    .await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  telegram_configs:\n  - api_url: {}\n    bot_token: '123:ABC'\n    chat_id: -1001\n    message: '<b>{{{{ .Status }}}}</b> {{{{ .CommonLabels.severity }}}} & co'\n    disable_notifications: true\n",
            srv.url
        ),
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "telegram");
    ints[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/bot123:ABC/sendMessage");
    assert_eq!(
        req.json(),
        json!({
            "chat_id": -1001,
            "text": "<b>firing</b> page & co",
            "parse_mode": "HTML",
            "disable_web_page_preview": true,
            "disable_notification": true,
        })
    );
    // Telegram's {"ok": false} is a failure.
    let srv = serve(
        200,
        "application/json",
        r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
    )
    .await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  telegram_configs:\n  - api_url: {}\n    bot_token: t\n    chat_id: 5\n",
            srv.url
        ),
    );
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(err.message.contains("chat not found"), "{}", err.message);
}

#[tokio::test]
async fn opsgenie_create_and_close() {
    let srv = serve(
        202,
        "application/json",
        r#"{"result":"Request will be processed"}"#,
    )
    .await;
    let r = receiver(
        "",
        &format!(
            r#"- name: r
  opsgenie_configs:
  - api_key: og-key
    api_url: {}/
    tags: 'a, b,,{{{{ .CommonLabels.severity }}}}'
    priority: P2
    details:
      team: db
    responders:
    - name: ops,dev
      type: teams
    - username: '{{{{ .CommonLabels.nobody }}}}'
      type: '{{{{ .CommonLabels.nobody }}}}'
    - id: '42'
      type: schedule
"#,
            srv.url
        ),
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "opsgenie");
    // The default description joins the common annotations. (With none at all
    // the template crate currently fails on `.SortedPairs.Values` of an empty
    // map; reported to its owner.)
    let mut data = firing_data();
    data.common_annotations
        .insert("runbook".into(), "http://rb".into());
    ints[0].notify(&data).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v2/alerts");
    assert_eq!(req.header("authorization"), "GenieKey og-key");
    let body = req.json();
    let hash = group_key_hash();
    assert_eq!(body["alias"], hash.as_str());
    assert_eq!(body["message"], SUBJECT);
    let description = body["description"].as_str().unwrap();
    assert!(description.starts_with("http://rb\n"), "{description}");
    assert!(description.contains("instance = b:9100"), "{description}");
    assert_eq!(body["source"], "http://am:9093/#/alerts?receiver=team-x");
    assert_eq!(
        body["details"],
        json!({"alertname": "InstanceDown", "severity": "page", "team": "db"})
    );
    assert_eq!(body["tags"], json!(["a", " b", "page"]));
    assert_eq!(body["priority"], "P2");
    assert_eq!(
        body["responders"],
        json!([
            {"name": "ops", "type": "team"},
            {"name": "dev", "type": "team"},
            {"id": "42", "type": "schedule"},
        ])
    );

    ints[0].notify(&resolved_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(
        req.path,
        format!("/v2/alerts/{hash}/close?identifierType=alias")
    );
    assert_eq!(
        req.json(),
        json!({"source": "http://am:9093/#/alerts?receiver=team-x"})
    );
}
