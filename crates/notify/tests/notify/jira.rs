//! Jira: search by the group label, create or update, transitions, search
//! endpoints and error handling, against a scripted local Jira.

use crate::common::*;
use crate::wechat_sns::{Script, scripted};
use serde_json::json;
use std::sync::Arc;

const CT: &str = "application/json";

/// A Jira whose search answers `search`, with transitions `Reopen` (11) and
/// `Done` (21); everything else succeeds.
fn jira(search: &'static str) -> Arc<Script> {
    Arc::new(move |c: &Captured, _| {
        let p = c.path.as_str();
        if p.contains("/search") {
            (200, CT, search.to_string())
        } else if p.ends_with("/transitions") && c.method == "GET" {
            (
                200,
                CT,
                r#"{"transitions":[{"id":"11","name":"Reopen"},{"id":"21","name":"Done"}]}"#.into(),
            )
        } else if c.method == "POST" && p.ends_with("/issue") {
            (201, CT, r#"{"id":"10000","key":"OPS-1"}"#.into())
        } else {
            (204, CT, String::new())
        }
    })
}

fn label() -> String {
    format!("ALERT{{{}}}", group_key_hash())
}

const NONE: &str = r#"{"issues":[]}"#;
const DONE: &str = r#"{"issues":[{"key":"OPS-7","fields":{"status":{"name":"Closed","statusCategory":{"key":"done"}}}}]}"#;
const OPEN: &str = r#"{"issues":[{"key":"OPS-7","fields":{"status":{"name":"Open","statusCategory":{"key":"new"}}}}]}"#;

fn conf(url: &str, extra: &str) -> watchfire_alertmanager_config::Receiver {
    receiver(
        &format!("  jira_api_url: {url}/rest/api/2"),
        &format!(
            "- name: r\n  jira_configs:\n  - project: OPS\n    issue_type: Bug\n    http_config:\n      basic_auth:\n        username: bot\n        password: pw\n{extra}"
        ),
    )
}

#[tokio::test]
async fn jira_creates_an_issue_for_a_new_group() {
    let srv = scripted(jira(NONE)).await;
    let r = conf(
        &srv.url,
        "    labels: ['team-{{ .CommonLabels.severity }}', alertmanager]\n    priority: '{{ if eq .CommonLabels.severity \"page\" }}High{{ end }}'\n    fields:\n      customfield_10001: '{{ len .Alerts }}'\n      customfield_10002: {value: '{{ .GroupLabels.alertname }}'}\n      customfield_10003: [a, 7]\n",
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "jira");
    assert!(ints[0].send_resolved());
    ints[0].notify(&firing_data()).await.unwrap();
    let reqs = srv.take();
    assert_eq!(reqs.len(), 2);
    let (search, create) = (&reqs[0], &reqs[1]);
    assert_eq!(search.method, "POST");
    // A host outside atlassian.net with api_type auto: the classic endpoint.
    assert_eq!(search.path, "/rest/api/2/search");
    assert_eq!(search.header("authorization"), "Basic Ym90OnB3");
    assert_eq!(search.header("accept-language"), "en");
    assert_eq!(search.header("content-type"), "application/json");
    assert_eq!(
        search.json(),
        json!({
            "fields": ["status"],
            "jql": format!("statusCategory != Done and project=\"OPS\" and labels=\"{}\" order by status ASC,resolutiondate DESC", label()),
            "maxResults": 2,
        })
    );
    assert_eq!(create.method, "POST");
    assert_eq!(create.path, "/rest/api/2/issue");
    let body = create.json();
    let desc = body["fields"]["description"].as_str().unwrap().to_string();
    assert!(desc.contains("InstanceDown"), "{desc}");
    assert_eq!(
        body,
        json!({"fields": {
            "customfield_10001": 2,
            "customfield_10002": {"value": "InstanceDown"},
            "customfield_10003": ["a", 7],
            "description": desc,
            "issuetype": {"name": "Bug"},
            "labels": [label(), "alertmanager", "team-page"],
            "priority": {"name": "High"},
            "project": {"key": "OPS"},
            "summary": "[FIRING:2] InstanceDown (page)",
        }})
    );
}

#[tokio::test]
async fn jira_updates_and_reopens_a_recent_issue() {
    let srv = scripted(jira(DONE)).await;
    let r = conf(
        &srv.url,
        "    summary:\n      enable_update: false\n    reopen_transition: Reopen\n    reopen_duration: 1h\n    wont_fix_resolution: \"Won't Do\"\n",
    );
    let ints = build(&r);
    ints[0].notify(&firing_data()).await.unwrap();
    let reqs = srv.take();
    let seen: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let s = |m: &str, p: &str| (m.to_string(), p.to_string());
    assert_eq!(
        seen,
        [
            s("POST", "/rest/api/2/search"),
            s("PUT", "/rest/api/2/issue/OPS-7"),
            s("GET", "/rest/api/2/issue/OPS-7/transitions"),
            s("POST", "/rest/api/2/issue/OPS-7/transitions"),
        ]
    );
    assert_eq!(
        reqs[0].json()["jql"],
        format!(
            "(resolution is EMPTY or resolution != \"Won't Do\") and (resolutiondate is EMPTY OR resolutiondate >= -60m) and project=\"OPS\" and labels=\"{}\" order by status ASC,resolutiondate DESC",
            label()
        )
    );
    let update = reqs[1].json();
    assert!(update["fields"].get("summary").is_none(), "{update}");
    assert!(update["fields"].get("description").is_some());
    // jira.default.priority: no critical/warning/info alert, so no priority.
    assert!(update["fields"].get("priority").is_none(), "{update}");
    assert_eq!(reqs[3].json(), json!({"transition": {"id": "11"}}));

    // A done issue of a firing group without reopen_transition: update only,
    // and the search only looks at open issues.
    let srv = scripted(jira(DONE)).await;
    build(&conf(&srv.url, ""))[0]
        .notify(&firing_data())
        .await
        .unwrap();
    let reqs = srv.take();
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs[0].json()["jql"]
            .as_str()
            .unwrap()
            .starts_with("statusCategory != Done and project=")
    );
}

#[tokio::test]
async fn jira_resolved_groups() {
    // No issue: nothing is created for a resolved group.
    let srv = scripted(jira(NONE)).await;
    build(&conf(&srv.url, "    resolve_transition: Done\n"))[0]
        .notify(&resolved_data())
        .await
        .unwrap();
    assert_eq!(srv.take().len(), 1);
    // An open issue is updated, then resolved.
    let srv = scripted(jira(OPEN)).await;
    build(&conf(&srv.url, "    resolve_transition: Done\n"))[0]
        .notify(&resolved_data())
        .await
        .unwrap();
    let reqs = srv.take();
    assert_eq!(reqs.len(), 4);
    assert_eq!(
        reqs[1].json()["fields"]["summary"],
        "[RESOLVED] InstanceDown (page)"
    );
    assert_eq!(reqs[3].json(), json!({"transition": {"id": "21"}}));
    // An unknown transition name is a permanent error.
    let srv = scripted(jira(OPEN)).await;
    let err = build(&conf(&srv.url, "    resolve_transition: Closed\n"))[0]
        .notify(&resolved_data())
        .await
        .unwrap_err();
    assert!(!err.retry);
    assert_eq!(err.message, "can't find transition Closed for issue OPS-7");
}

#[tokio::test]
async fn jira_cloud_search_and_v3_descriptions() {
    let srv = scripted(jira(NONE)).await;
    let r = receiver(
        "",
        &format!(
            "- name: r\n  jira_configs:\n  - project: OPS\n    issue_type: Task\n    api_type: cloud\n    api_url: {}/rest/api/2\n",
            srv.url
        ),
    );
    build(&r)[0].notify(&firing_data()).await.unwrap();
    assert_eq!(srv.take()[0].path, "/rest/api/3/search/jql");

    // API v3: the description is Atlassian Document Format JSON.
    let v3 = |description: &str| {
        receiver(
            "",
            &format!(
                "- name: r\n  jira_configs:\n  - project: OPS\n    issue_type: Task\n    api_type: datacenter\n    api_url: {}/rest/api/3\n    description: '{description}'\n",
                srv.url
            ),
        )
    };
    build(&v3(r#"{"type":"doc","version":1,"content":[]}"#))[0]
        .notify(&firing_data())
        .await
        .unwrap();
    let reqs = srv.take();
    assert_eq!(
        reqs[0].path, "/rest/api/3/search",
        "datacenter: classic search"
    );
    assert_eq!(
        reqs[1].json()["fields"]["description"],
        json!({"type": "doc", "version": 1, "content": []})
    );
    let err = build(&v3("not json"))[0]
        .notify(&firing_data())
        .await
        .unwrap_err();
    assert!(!err.retry);
    assert_eq!(err.message, "description template: invalid JSON for API v3");
}

#[tokio::test]
async fn jira_errors_follow_alertmanagers_retry_rules() {
    for (status, retry) in [(503, true), (429, true), (400, false)] {
        let srv = serve(status, "application/json", r#"{"errorMessages":["nope"]}"#).await;
        let err = build(&conf(&srv.url, ""))[0]
            .notify(&firing_data())
            .await
            .unwrap_err();
        assert_eq!(err.retry, retry, "{status}");
        assert_eq!(
            err.message,
            format!(
                "failed to look up existing issues: HTTP request to JIRA API: unexpected status code {status}: {{\"errorMessages\":[\"nope\"]}}"
            )
        );
    }
    // Creation failures name the request.
    let script: Arc<Script> = Arc::new(|c: &Captured, _| {
        if c.path.ends_with("/search") {
            (200, CT, NONE.to_string())
        } else {
            (400, CT, r#"{"errors":{"priority":"bad"}}"#.to_string())
        }
    });
    let srv = scripted(script).await;
    let err = build(&conf(&srv.url, ""))[0]
        .notify(&firing_data())
        .await
        .unwrap_err();
    assert!(!err.retry);
    assert_eq!(
        err.message,
        "failed to POST request to \"issue\": unexpected status code 400: {\"errors\":{\"priority\":\"bad\"}}"
    );
    // Like Alertmanager, a connection failure is not retried.
    let dead = conf("http://127.0.0.1:1", "");
    let err = build(&dead)[0].notify(&firing_data()).await.unwrap_err();
    assert!(!err.retry, "{err}");
    assert!(
        err.message.starts_with(
            "failed to look up existing issues: HTTP request to JIRA API: connection failed"
        ),
        "{err}"
    );
}
