use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn webhook_posts_alertmanager_v4_message() {
    let srv = serve(200, "text/plain", "").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  webhook_configs:\n  - url: {}/hook?x=1\n    http_config:\n      basic_auth: {{username: u, password: p}}\n",
            srv.url
        ),
    );
    let ints = build(&r);
    assert_eq!(ints.len(), 1);
    assert_eq!(ints[0].name(), "webhook");
    assert_eq!(ints[0].index(), 0);
    assert!(ints[0].send_resolved());
    let mut data = firing_data();
    data.receiver = "team.x".into();
    ints[0].notify(&data).await.unwrap();
    let reqs = srv.take();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hook?x=1");
    assert_eq!(req.header("content-type"), "application/json");
    assert!(req.header("user-agent").starts_with("Watchfire/"));
    // base64("u:p")
    assert_eq!(req.header("authorization"), "Basic dTpw");
    let alert = |inst: &str, fp: &str| {
        json!({
            "status": "firing",
            "labels": {"alertname": "InstanceDown", "instance": inst, "severity": "page"},
            "annotations": {"summary": format!("{inst} is down")},
            "startsAt": "2024-05-01T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prom:9090/graph?g0.expr=up",
            "fingerprint": fp,
        })
    };
    let expected = json!({
        "receiver": "team\\.x",
        "status": "firing",
        "alerts": [alert("a:9100", "fp-a:9100"), alert("b:9100", "fp-b:9100")],
        "groupLabels": {"alertname": "InstanceDown"},
        "commonLabels": {"alertname": "InstanceDown", "severity": "page"},
        "commonAnnotations": {},
        "externalURL": "http://am:9093",
        "version": "4",
        "groupKey": "{}:{alertname=\"InstanceDown\"}",
        "truncatedAlerts": 0,
    });
    assert_eq!(req.json(), expected);
}

#[tokio::test]
async fn webhook_max_alerts_truncates_and_counts() {
    let srv = serve(200, "text/plain", "").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  webhook_configs:\n  - url: {}/\n    max_alerts: 1\n",
            srv.url
        ),
    );
    let ints = build(&r);
    let total = |kind: &str| {
        watchfire_notify::alerts_truncated_total()
            .into_iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, n)| n)
            .unwrap()
    };
    let before = total("webhook");
    let mut data = firing_data();
    // Common labels and annotations are recomputed over the alerts sent.
    data.alerts[1].status = "resolved".into();
    ints[0].notify(&data).await.unwrap();
    assert_eq!(ints[0].alerts_truncated(), 1);
    // Other tests of this binary may truncate concurrently: at least ours counted.
    assert!(total("webhook") > before);
    let body = srv.take()[0].json();
    assert_eq!(body["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(body["alerts"][0]["labels"]["instance"], "a:9100");
    assert_eq!(body["truncatedAlerts"], 1);
    assert_eq!(
        body["commonAnnotations"],
        json!({"summary": "a:9100 is down"})
    );
    assert_eq!(
        body["commonLabels"],
        json!({"alertname": "InstanceDown", "instance": "a:9100", "severity": "page"})
    );
}

#[tokio::test]
async fn webhook_max_alerts_counts_each_cut_and_adds_upstream_truncation() {
    let srv = serve(200, "text/plain", "").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  webhook_configs:\n  - url: {}/\n    max_alerts: 2\n  - url: {}/\n",
            srv.url, srv.url
        ),
    );
    let ints = build(&r);
    let mut data = firing_data();
    // Two alerts and max_alerts 2: nothing is cut.
    ints[0].notify(&data).await.unwrap();
    assert_eq!(ints[0].alerts_truncated(), 0);
    assert_eq!(srv.take()[0].json()["truncatedAlerts"], 0);
    // Five alerts: three are cut, and alerts already left out upstream add up.
    for i in 0..3 {
        data.alerts
            .push(alert("InstanceDown", &format!("c{i}:9100"), "firing"));
    }
    data.truncated_alerts = 4;
    ints[0].notify(&data).await.unwrap();
    ints[0].notify(&data).await.unwrap();
    assert_eq!(ints[0].alerts_truncated(), 6, "counted per message sent");
    let bodies: Vec<_> = srv.take().iter().map(|c| c.json()).collect();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["truncatedAlerts"], 7);
    let instances: Vec<&str> = bodies[0]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"]["instance"].as_str().unwrap())
        .collect();
    assert_eq!(
        instances,
        ["a:9100", "b:9100"],
        "the first max_alerts are kept"
    );
    // The same receiver's webhook without max_alerts sends everything.
    ints[1].notify(&data).await.unwrap();
    assert_eq!(ints[1].alerts_truncated(), 0);
    let body = srv.take()[0].json();
    assert_eq!(body["alerts"].as_array().unwrap().len(), 5);
    assert_eq!(body["truncatedAlerts"], 4);
}

#[tokio::test]
async fn webhook_url_file_is_read_at_send_time() {
    let srv = serve(200, "text/plain", "").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("url");
    std::fs::write(&file, format!("{}/first\n", srv.url)).unwrap();
    let r = receiver(
        "",
        &format!(
            "- name: r\n  webhook_configs:\n  - url_file: {}\n",
            file.display()
        ),
    );
    let ints = build(&r);
    ints[0].notify(&firing_data()).await.unwrap();
    std::fs::write(&file, format!("{}/second", srv.url)).unwrap();
    ints[0].notify(&firing_data()).await.unwrap();
    let paths: Vec<String> = srv.take().into_iter().map(|c| c.path).collect();
    assert_eq!(paths, vec!["/first", "/second"]);
    std::fs::remove_file(&file).unwrap();
    let err = ints[0].notify(&firing_data()).await.unwrap_err();
    assert!(!err.retry);
    assert!(err.message.contains("url_file"), "{}", err.message);
}

/// The dispatcher sends borrowed notifications; the webhook must post exactly the
/// JSON it posts for the equivalent template data, truncated or not.
#[tokio::test]
async fn webhook_view_and_template_data_post_the_same_json() {
    use watchfire_notify::{AlertView, NotificationView};
    let srv = serve(200, "text/plain", "").await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  webhook_configs:\n  - url: {}/a\n  - url: {}/b\n    max_alerts: 1\n",
            srv.url, srv.url
        ),
    );
    let ints = build(&r);
    let mut data = firing_data();
    data.receiver = "team.x".into();
    data.alerts[0] = alert("InstanceDown", "a:9100", "resolved");
    data.common_annotations.clear();
    let view = NotificationView {
        receiver: &data.receiver,
        group_key: &data.group_key,
        group_labels: &data.group_labels,
        external_url: &data.external_url,
        alerts: data
            .alerts
            .iter()
            .map(|a| AlertView {
                resolved: a.status == "resolved",
                labels: &a.labels,
                annotations: &a.annotations,
                starts_at: a.starts_at.clone(),
                ends_at: a.ends_at.clone(),
                generator_url: &a.generator_url,
                fingerprint: a.fingerprint.clone(),
            })
            .collect(),
    };
    assert_eq!(view.to_data(), data, "the view is the same notification");
    for int in &ints {
        int.notify(&data).await.unwrap();
        int.notify_view(&view).await.unwrap();
    }
    let reqs = srv.take();
    assert_eq!(reqs.len(), 4);
    for pair in reqs.chunks(2) {
        assert_eq!(pair[0].path, pair[1].path);
        assert_eq!(
            String::from_utf8_lossy(&pair[0].body),
            String::from_utf8_lossy(&pair[1].body)
        );
    }
    // The truncated one describes only the alert it kept: resolved.
    assert_eq!(reqs[2].json()["status"], "resolved");
    assert_eq!(reqs[2].json()["truncatedAlerts"], 1);
    assert_eq!(reqs[0].json()["status"], "firing");
    assert_eq!(ints[1].alerts_truncated(), 2);
}
