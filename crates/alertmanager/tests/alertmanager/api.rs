use crate::common::*;
use serde_json::Value;

const CFG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: [severity="critical"]
      receiver: pager
receivers:
  - name: default
  - name: pager
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
"#;

fn j(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

#[tokio::test]
async fn v2_endpoints() {
    let h = start(CFG, None);
    let addr = serve(h.am.clone()).await;
    let (c, b) = http(addr, "POST", "/api/v2/alerts", Some(r#"[{"labels":{"alertname":"A","severity":"critical"},"annotations":{"x":"y"}},{"labels":{"alertname":"A","severity":"warning"},"generatorURL":"http://g"}]"#)).await;
    assert_eq!((c, b.as_str()), (200, ""));
    let (c, b) = http(addr, "POST", "/api/v2/alerts", Some(r#"[{"labels":{}}]"#)).await;
    assert_eq!(
        (c, j(&b)),
        (
            400,
            Value::String("at least one label pair required".into())
        )
    );
    let (c, b) = http(addr, "POST", "/api/v2/alerts", Some(r#"[{"labels":{"a":"b"},"startsAt":"2020-01-01T00:00:00Z","endsAt":"2019-01-01T00:00:00Z"}]"#)).await;
    assert_eq!(
        (c, j(&b)),
        (
            400,
            Value::String("start time must be before end time".into())
        )
    );
    let (c, _) = http(addr, "POST", "/api/v2/alerts", Some("xx")).await;
    assert_eq!(c, 400);

    let (c, b) = http(addr, "GET", "/api/v2/alerts", None).await;
    assert_eq!(c, 200);
    let v = j(&b);
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[0]["fingerprint"], "25c2cdb12d31dc50");
    assert_eq!(arr[0]["status"]["state"], "suppressed");
    assert_eq!(arr[0]["status"]["inhibitedBy"][0], "b807e636403824b5");
    assert_eq!(arr[0]["receivers"][0]["name"], "default");
    assert_eq!(arr[0]["generatorURL"], "http://g");
    assert_eq!(arr[0]["startsAt"], "2023-11-14T22:13:20.000Z");
    assert_eq!(arr[0]["endsAt"], "2023-11-14T22:18:20.000Z");
    assert_eq!(arr[1]["status"]["state"], "active");
    assert!(arr[1].get("generatorURL").is_none());

    let (_, b) = http(addr, "GET", "/api/v2/alerts?inhibited=false", None).await;
    assert_eq!(j(&b).as_array().unwrap().len(), 1);
    let (_, b) = http(
        addr,
        "GET",
        "/api/v2/alerts?filter=severity%3D%22warning%22",
        None,
    )
    .await;
    assert_eq!(j(&b)[0]["labels"]["severity"], "warning");
    let (_, b) = http(addr, "GET", "/api/v2/alerts?receiver=pag.*", None).await;
    assert_eq!(j(&b).as_array().unwrap().len(), 1);
    let (c, b) = http(addr, "GET", "/api/v2/alerts?filter=foo", None).await;
    assert_eq!(
        (c, j(&b)),
        (400, Value::String("bad matcher format: foo".into()))
    );
    let (c, b) = http(addr, "GET", "/api/v2/alerts?receiver=(", None).await;
    assert_eq!(c, 400);
    assert!(
        j(&b)
            .as_str()
            .unwrap()
            .starts_with("failed to parse receiver param: ")
    );

    let (c, b) = http(addr, "GET", "/api/v2/alerts/groups", None).await;
    assert_eq!(c, 200);
    let g = j(&b);
    assert_eq!(g.as_array().unwrap().len(), 2);
    assert_eq!(g[0]["labels"]["alertname"], "A");
    assert_eq!(g[0]["receiver"]["name"], "default");
    assert_eq!(g[1]["receiver"]["name"], "pager");

    // Silences.
    let body = r#"{"matchers":[{"name":"alertname","value":"A","isRegex":false}],"startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-14T23:13:20Z","createdBy":"me","comment":"c"}"#;
    let (c, b) = http(addr, "POST", "/api/v2/silences", Some(body)).await;
    assert_eq!(c, 200);
    let id = j(&b)["silenceID"].as_str().unwrap().to_string();
    let (c, b) = http(addr, "POST", "/api/v2/silences", Some(r#"{"matchers":[],"startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-14T23:13:20Z","createdBy":"me","comment":"c"}"#)).await;
    assert_eq!((c, j(&b)["code"].clone()), (422, Value::from(612)));
    let (c, b) = http(addr, "POST", "/api/v2/silences", Some(r#"{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-14T23:13:20Z","comment":"c"}"#)).await;
    assert_eq!(
        (c, j(&b)["message"].clone()),
        (422, Value::from("createdBy in body is required"))
    );
    let (c, b) = http(addr, "POST", "/api/v2/silences", Some(r#"{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2023-11-14T23:13:20Z","endsAt":"2023-11-14T22:13:20Z","createdBy":"me","comment":"c"}"#)).await;
    assert_eq!(
        (c, j(&b)),
        (
            400,
            Value::from("Failed to create silence: start time must be before end time")
        )
    );
    let (c, b) = http(addr, "POST", "/api/v2/silences", Some(r#"{"id":"nope","matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-14T23:13:20Z","createdBy":"me","comment":"c"}"#)).await;
    assert_eq!((c, j(&b)), (404, Value::from("silence not found")));
    let (c, b) = http(addr, "GET", "/api/v2/silences", None).await;
    assert_eq!(c, 200);
    let s = j(&b);
    assert_eq!(s[0]["id"], id.as_str());
    assert_eq!(s[0]["status"]["state"], "active");
    assert_eq!(
        s[0]["matchers"][0],
        j(r#"{"isEqual":true,"isRegex":false,"name":"alertname","value":"A"}"#)
    );
    let (_, b) = http(addr, "GET", "/api/v2/alerts", None).await;
    assert_eq!(j(&b)[1]["status"]["silencedBy"][0], id.as_str());
    let (c, _) = http(addr, "DELETE", &format!("/api/v2/silence/{id}"), None).await;
    assert_eq!(c, 200);
    let (c, b) = http(addr, "GET", &format!("/api/v2/silence/{id}"), None).await;
    assert_eq!(
        (c, j(&b)["status"]["state"].clone()),
        (200, Value::from("expired"))
    );
    let (c, _) = http(
        addr,
        "GET",
        "/api/v2/silence/0166fd2e-20fe-4525-b4c1-141a3dddf0d5",
        None,
    )
    .await;
    assert_eq!(c, 404);
    let (c, b) = http(addr, "DELETE", "/api/v2/silence/xyz", None).await;
    assert_eq!((c, j(&b)["code"].clone()), (422, Value::from(601)));

    // Status and receivers.
    let (c, b) = http(addr, "GET", "/api/v2/status", None).await;
    assert_eq!(c, 200);
    let st = j(&b);
    assert_eq!(st["cluster"], j(r#"{"peers":[],"status":"disabled"}"#));
    assert!(
        st["config"]["original"]
            .as_str()
            .unwrap()
            .contains("receiver: pager")
    );
    assert_eq!(st["uptime"], "2023-11-14T22:13:20.000Z");
    assert!(st["versionInfo"]["version"].is_string());
    let (_, b) = http(addr, "GET", "/api/v2/receivers", None).await;
    assert_eq!(j(&b), j(r#"[{"name":"default"},{"name":"pager"}]"#));

    // Extensions.
    let (c, b) = http(
        addr,
        "POST",
        "/api/v2/watchfire/acks/b807e636403824b5",
        Some(r#"{"by":"al","comment":"mine"}"#),
    )
    .await;
    assert_eq!(c, 200);
    assert_eq!(j(&b)["by"], "al");
    let (_, b) = http(addr, "GET", "/api/v2/alerts?filter=severity=critical", None).await;
    assert_eq!(j(&b)[0]["watchfireAck"]["comment"], "mine");
    let (c, _) = http(
        addr,
        "POST",
        "/api/v2/watchfire/acks/0000000000000001",
        Some(r#"{"by":"al"}"#),
    )
    .await;
    assert_eq!(c, 404);
    let (_, b) = http(addr, "GET", "/api/v2/watchfire/acks", None).await;
    assert_eq!(j(&b).as_array().unwrap().len(), 1);
    let (c, _) = http(
        addr,
        "DELETE",
        "/api/v2/watchfire/acks/b807e636403824b5",
        None,
    )
    .await;
    assert_eq!(c, 200);
    let (c, _) = http(
        addr,
        "DELETE",
        "/api/v2/watchfire/acks/b807e636403824b5",
        None,
    )
    .await;
    assert_eq!(c, 404);
    h.advance(30_000).await;
    let (_, b) = http(
        addr,
        "GET",
        "/api/v2/watchfire/history?receiver=pager",
        None,
    )
    .await;
    let hist = j(&b);
    assert_eq!(hist.as_array().unwrap().len(), 1);
    assert_eq!(hist[0]["outcome"], "success");
    assert_eq!(hist[0]["firing"][0], "b807e636403824b5");
    let (_, b) = http(addr, "GET", "/api/v2/watchfire/receivers", None).await;
    let r = j(&b);
    assert_eq!(r[1]["name"], "pager");
    assert_eq!(
        r[1]["integrations"][0]["lastSuccess"],
        "2023-11-14T22:13:50.000Z"
    );
    let (c, b) = http(addr, "GET", "/api/v2/watchfire/metrics", None).await;
    assert_eq!(c, 200);
    assert_eq!(j(&b)["integrations"]["webhook"]["notifications_total"], 1);
}
