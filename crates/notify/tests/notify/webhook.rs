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
    let mut data = firing_data();
    // Common labels and annotations are recomputed over the alerts sent.
    data.alerts[1].status = "resolved".into();
    ints[0].notify(&data).await.unwrap();
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
