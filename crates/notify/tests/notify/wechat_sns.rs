//! WeChat Work (token fetch, caching and refresh, message shapes, errcodes) and
//! Amazon SNS (the signed `Publish` request) against scripted local servers.

use crate::common::*;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use watchfire_httpclient::encode::form_decode;

pub type Script = dyn Fn(&Captured, usize) -> (u16, &'static str, String) + Send + Sync;

/// A server answering each request with `script(request, n)`, `n` counting the
/// requests to the same path (from 0), and recording them all.
pub async fn scripted(script: Arc<Script>) -> Server {
    let reqs: Arc<Mutex<Vec<Captured>>> = Arc::default();
    let r = reqs.clone();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, bytes: Bytes| {
            let (r, script) = (r.clone(), script.clone());
            async move {
                let c = Captured {
                    method: method.to_string(),
                    path: uri
                        .path_and_query()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    headers,
                    body: bytes.to_vec(),
                };
                let mut all = r.lock().unwrap();
                let path = uri.path().to_string();
                let n = all
                    .iter()
                    .filter(|p| p.path.split('?').next() == Some(path.as_str()))
                    .count();
                let (status, ctype, body) = script(&c, n);
                all.push(c);
                (
                    StatusCode::from_u16(status).unwrap(),
                    [("content-type", ctype)],
                    body,
                )
            }
        },
    );
    let addr = watchfire_testkit::serve(app).await;
    Server {
        url: format!("http://{addr}"),
        reqs,
    }
}

const JSON_CT: &str = "application/json";

/// WeChat: tokens `tok-0`, `tok-1`… per gettoken call; `send(n)` answers the
/// n-th message.
fn wechat_script(send: fn(usize) -> (u16, String)) -> Arc<Script> {
    Arc::new(move |c: &Captured, n| {
        if c.path.contains("/gettoken?") {
            (
                200,
                JSON_CT,
                format!(
                    r#"{{"errcode":0,"errmsg":"ok","access_token":"tok-{n}","expires_in":7200}}"#
                ),
            )
        } else {
            let (s, b) = send(n);
            (s, JSON_CT, b)
        }
    })
}

fn ok_reply(_: usize) -> (u16, String) {
    (200, r#"{"errcode":0,"errmsg":"ok"}"#.into())
}

#[tokio::test]
async fn wechat_token_then_text_message_and_cache() {
    let srv = scripted(wechat_script(ok_reply)).await;
    let r = receiver(
        &format!(
            "  wechat_api_url: {}/cgi-bin\n  wechat_api_secret: 's3cr t'\n  wechat_api_corp_id: corp-1",
            srv.url
        ),
        "- name: r\n  wechat_configs:\n  - to_user: '@all'\n    agent_id: '1000002'\n    message: 'alerts: {{ len .Alerts }}'\n",
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "wechat");
    assert!(!ints[0].send_resolved(), "send_resolved defaults to false");
    ints[0].notify(&firing_data()).await.unwrap();
    let reqs = srv.take();
    assert_eq!(reqs.len(), 2);
    // The global URL got its trailing slash; the query is Go's sorted encoding.
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(
        reqs[0].path,
        "/cgi-bin/gettoken?corpid=corp-1&corpsecret=s3cr+t"
    );
    assert_eq!(reqs[0].header("content-type"), "");
    assert_eq!(reqs[1].method, "POST");
    assert_eq!(reqs[1].path, "/cgi-bin/message/send?access_token=tok-0");
    assert_eq!(reqs[1].header("content-type"), "application/json");
    assert_eq!(
        reqs[1].json(),
        json!({
            "text": {"content": "alerts: 2"},
            "touser": "@all",
            "agentid": "1000002",
            "safe": "0",
            "msgtype": "text",
            "markdown": {"content": ""},
        })
    );
    // Field order and the trailing newline are those of Go's encoder.
    let text = String::from_utf8(reqs[1].body.clone()).unwrap();
    assert_eq!(
        text,
        "{\"text\":{\"content\":\"alerts: 2\"},\"touser\":\"@all\",\"agentid\":\"1000002\",\"safe\":\"0\",\"msgtype\":\"text\",\"markdown\":{\"content\":\"\"}}\n"
    );
    // The token is cached: the next notification goes straight to message/send.
    ints[0].notify(&firing_data()).await.unwrap();
    let reqs = srv.take();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/cgi-bin/message/send?access_token=tok-0");
}

#[tokio::test]
async fn wechat_markdown_default_message_and_secret_file() {
    let srv = scripted(wechat_script(ok_reply)).await;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("secret");
    std::fs::write(&f, "file-secret\n").unwrap();
    let r = receiver(
        "",
        &format!(
            "- name: r\n  wechat_configs:\n  - api_url: {}/base/?x=1\n    api_secret_file: {}\n    corp_id: '{{{{ .CommonLabels.severity }}}}-corp'\n    message_type: markdown\n    to_party: '2|3'\n    to_tag: t1\n",
            srv.url,
            f.display()
        ),
    );
    build(&r)[0].notify(&firing_data()).await.unwrap();
    let reqs = srv.take();
    // gettoken replaces api_url's query; message/send keeps it next to the token.
    assert_eq!(
        reqs[0].path,
        "/base/gettoken?corpid=page-corp&corpsecret=file-secret"
    );
    assert_eq!(reqs[1].path, "/base/message/send?access_token=tok-0&x=1");
    let body = reqs[1].json();
    assert_eq!(body["msgtype"], "markdown");
    assert_eq!(body["text"], json!({"content": ""}));
    assert_eq!(body["toparty"], "2|3");
    assert_eq!(body["totag"], "t1");
    assert!(body.get("touser").is_none(), "empty fields are left out");
    // wechat.default.message: subject, sections, then the Alertmanager URL.
    let content = body["markdown"]["content"].as_str().unwrap();
    assert!(
        content.starts_with("[FIRING:2] InstanceDown (page)\n"),
        "{content}"
    );
    assert!(
        content.ends_with("AlertmanagerUrl:\nhttp://am:9093/#/alerts?receiver=team-x"),
        "{content}"
    );
}

#[tokio::test]
async fn wechat_expired_token_is_refetched_on_retry() {
    fn expire_first(n: usize) -> (u16, String) {
        if n == 0 {
            (
                200,
                r#"{"errcode":42001,"errmsg":"access_token expired"}"#.into(),
            )
        } else {
            ok_reply(n)
        }
    }
    let srv = scripted(wechat_script(expire_first)).await;
    let r = receiver(
        &format!(
            "  wechat_api_url: {}/cgi-bin/\n  wechat_api_secret: s\n  wechat_api_corp_id: c",
            srv.url
        ),
        "- name: r\n  wechat_configs:\n  - {}\n",
    );
    let ints = build(&r);
    let err = ints[0].notify(&firing_data()).await.unwrap_err();
    assert!(err.retry, "an expired token is worth a retry");
    assert_eq!(err.message, "access_token expired (errcode 42001)");
    ints[0].notify(&firing_data()).await.unwrap();
    let paths: Vec<String> = srv.take().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/cgi-bin/gettoken?corpid=c&corpsecret=s",
            "/cgi-bin/message/send?access_token=tok-0",
            "/cgi-bin/gettoken?corpid=c&corpsecret=s",
            "/cgi-bin/message/send?access_token=tok-1",
        ]
    );
}

#[tokio::test]
async fn wechat_errors() {
    // Another errcode: permanent, and the token stays cached.
    fn bad_user(_: usize) -> (u16, String) {
        (
            200,
            r#"{"errcode":81013,"errmsg":"user & party & tag all invalid"}"#.into(),
        )
    }
    let srv = scripted(wechat_script(bad_user)).await;
    let conf = |url: &str| {
        format!(
            "- name: r\n  wechat_configs:\n  - api_url: {url}/\n    api_secret: s\n    corp_id: c\n"
        )
    };
    let ints = build(&receiver("", &conf(&srv.url)));
    let err = ints[0].notify(&firing_data()).await.unwrap_err();
    assert!(!err.retry);
    assert_eq!(
        err.message,
        "user & party & tag all invalid (errcode 81013)"
    );
    ints[0].notify(&firing_data()).await.unwrap_err();
    assert_eq!(srv.take().len(), 3, "one gettoken for both attempts");

    // A non-200 answer is retryable.
    fn unavailable(_: usize) -> (u16, String) {
        (503, "busy".into())
    }
    let srv = scripted(wechat_script(unavailable)).await;
    let err = build(&receiver("", &conf(&srv.url)))[0]
        .notify(&firing_data())
        .await
        .unwrap_err();
    assert!(err.retry);
    assert_eq!(err.message, "unexpected status code 503");

    // No token in the answer: Alertmanager's message, plus WeChat's reason.
    let srv = serve(
        200,
        JSON_CT,
        r#"{"errcode":40001,"errmsg":"invalid credential"}"#,
    )
    .await;
    let err = build(&receiver("", &conf(&srv.url)))[0]
        .notify(&firing_data())
        .await
        .unwrap_err();
    assert!(!err.retry);
    assert_eq!(
        err.message,
        "invalid APISecret for CorpID: c (errcode 40001: invalid credential)"
    );
    assert_eq!(srv.take().len(), 1, "nothing is sent without a token");
}

fn sns_receiver(url: &str, extra: &str) -> watchfire_alertmanager_config::Receiver {
    receiver(
        "",
        &format!(
            "- name: r\n  sns_configs:\n  - api_url: {url}/\n    sigv4:\n      region: us-east-2\n      access_key: AKIDEXAMPLE\n      secret_key: wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n{extra}"
        ),
    )
}

const PUBLISHED: &str = "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>";

/// Recomputes the SigV4 signature of a captured request with Python's hashlib
/// and hmac (an implementation independent of ours), or `None` without python3.
fn python_signature(req: &Captured, host: &str) -> Option<String> {
    let script = r#"
import hashlib, hmac, sys
body = sys.stdin.buffer.read()
amz, host, ctype = sys.argv[1], sys.argv[2], sys.argv[3]
secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
canon = "POST\n/\n\ncontent-type:%s\nhost:%s\nx-amz-date:%s\n\ncontent-type;host;x-amz-date\n%s" % (
    ctype, host, amz, hashlib.sha256(body).hexdigest())
scope = "%s/us-east-2/sns/aws4_request" % amz[:8]
sts = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (amz, scope, hashlib.sha256(canon.encode()).hexdigest())
k = ("AWS4" + secret).encode()
for part in (amz[:8], "us-east-2", "sns", "aws4_request"):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
print(hmac.new(k, sts.encode(), hashlib.sha256).hexdigest())
"#;
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(req.header("x-amz-date"))
        .arg(host)
        .arg(req.header("content-type"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(&req.body).ok()?;
    let out = child.wait_with_output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap().trim().to_string())
}

#[tokio::test]
async fn sns_publish_to_topic_is_signed() {
    let srv = serve(200, "text/xml", PUBLISHED).await;
    let r = sns_receiver(
        &srv.url,
        "    topic_arn: arn:aws:sns:us-east-2:123456789012:alerts\n    subject: '{{ .GroupLabels.alertname }} fired'\n    message: 'hello & {{ len .Alerts }} alerts'\n    attributes:\n      severity: '{{ .CommonLabels.severity }}'\n      team: ops\n",
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "sns");
    assert!(ints[0].send_resolved());
    ints[0].notify(&firing_data()).await.unwrap();
    let req = &srv.take()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/");
    assert_eq!(
        req.header("content-type"),
        "application/x-www-form-urlencoded; charset=utf-8"
    );
    let body = String::from_utf8(req.body.clone()).unwrap();
    // AWS's query encoding: RFC 3986, spaces as %20.
    assert!(body.contains("Message=hello%20%26%202%20alerts"), "{body}");
    let form = form_decode(&body);
    let want: BTreeMap<String, String> = [
        ("Action", "Publish"),
        ("Version", "2010-03-31"),
        ("TopicArn", "arn:aws:sns:us-east-2:123456789012:alerts"),
        ("Subject", "InstanceDown fired"),
        ("Message", "hello & 2 alerts"),
        ("MessageAttributes.entry.1.Name", "severity"),
        ("MessageAttributes.entry.1.Value.DataType", "String"),
        ("MessageAttributes.entry.1.Value.StringValue", "page"),
        ("MessageAttributes.entry.2.Name", "team"),
        ("MessageAttributes.entry.2.Value.DataType", "String"),
        ("MessageAttributes.entry.2.Value.StringValue", "ops"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(form, want);

    // The signature: scope and signed headers, then the value itself.
    let amz = req.header("x-amz-date");
    assert_eq!(amz.len(), 16, "{amz}");
    assert!(amz.ends_with('Z') && amz.as_bytes()[8] == b'T', "{amz}");
    let auth = req.header("authorization");
    let prefix = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{}/us-east-2/sns/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=",
        &amz[..8]
    );
    assert!(auth.starts_with(&prefix), "{auth}");
    let host = srv.url.trim_start_matches("http://");
    assert_eq!(req.header("host"), host);
    match python_signature(req, host) {
        Some(sig) => assert_eq!(&auth[prefix.len()..], sig),
        None => eprintln!("SKIP independent signature check: python3 unavailable"),
    }
    assert_eq!(req.header("x-amz-security-token"), "");
}

#[tokio::test]
async fn sns_fifo_sms_and_truncation() {
    let srv = serve(200, "text/xml", PUBLISHED).await;
    // A FIFO topic: the group key's hash as group and deduplication id.
    let r = sns_receiver(
        &srv.url,
        "    topic_arn: 'arn:aws:sns:us-east-2:1:{{ .GroupLabels.alertname }}.fifo'\n    subject: ''\n",
    );
    build(&r)[0].notify(&firing_data()).await.unwrap();
    let form = form_decode(&String::from_utf8(srv.take()[0].body.clone()).unwrap());
    let hash = group_key_hash();
    assert_eq!(
        form["TopicArn"],
        "arn:aws:sns:us-east-2:1:InstanceDown.fifo"
    );
    assert_eq!(form["MessageGroupId"], hash);
    assert_eq!(form["MessageDeduplicationId"], hash);
    assert!(
        !form.contains_key("Subject"),
        "an empty subject is not sent"
    );
    // sns.default.message: the sections of the default template.
    assert!(
        form["Message"].contains("Alerts Firing:"),
        "{}",
        form["Message"]
    );

    // SMS: cut to 1600 bytes and flagged with a `truncated` attribute.
    let r = sns_receiver(
        &srv.url,
        &format!(
            "    phone_number: '+15555550100'\n    message: '{{{{ len .Alerts }}}}{}'\n",
            "é".repeat(1000)
        ),
    );
    build(&r)[0].notify(&firing_data()).await.unwrap();
    let form = form_decode(&String::from_utf8(srv.take()[0].body.clone()).unwrap());
    assert_eq!(form["PhoneNumber"], "+15555550100");
    // "2" and 799 two-byte characters: the cut never splits one.
    assert_eq!(form["Message"].len(), 1599);
    assert!(form["Message"].starts_with("2éé"));
    assert_eq!(form["MessageAttributes.entry.1.Name"], "truncated");
    assert_eq!(form["MessageAttributes.entry.1.Value.StringValue"], "true");
    assert!(!form.contains_key("TopicArn"));
}

#[tokio::test]
async fn sns_error_answers() {
    let xml = "<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>not allowed</Message></Error></ErrorResponse>";
    let srv = serve(403, "text/xml", xml).await;
    let r = sns_receiver(
        &srv.url,
        "    target_arn: arn:aws:sns:us-east-2:1:endpoint/x\n",
    );
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(!err.retry);
    assert_eq!(
        err.message,
        "unexpected status code 403: AuthorizationError: not allowed"
    );
    assert_eq!(
        form_decode(&String::from_utf8(srv.take()[0].body.clone()).unwrap())["TargetArn"],
        "arn:aws:sns:us-east-2:1:endpoint/x"
    );
    let srv = serve(
        500,
        "text/xml",
        "<ErrorResponse><Error><Code>InternalError</Code></Error></ErrorResponse>",
    )
    .await;
    let r = sns_receiver(&srv.url, "    topic_arn: t\n");
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(err.retry);
    assert_eq!(err.message, "unexpected status code 500: InternalError");

    // Template errors name the field; role_arn is refused when sending.
    let r = sns_receiver(&srv.url, "    topic_arn: '{{ template \"nope\" . }}'\n");
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(!err.retry);
    assert!(
        err.message.starts_with("execute 'topic_arn' template: "),
        "{err}"
    );
    let r = receiver(
        "",
        &format!(
            "- name: r\n  sns_configs:\n  - api_url: {}/\n    topic_arn: t\n    sigv4:\n      region: us-east-2\n      role_arn: arn:aws:iam::1:role/x\n",
            srv.url
        ),
    );
    let err = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(!err.retry);
    assert_eq!(
        err.message,
        "sigv4.role_arn: assuming a role through STS is not supported by Watchfire"
    );
    assert_eq!(
        srv.take().len(),
        1,
        "failed templates and role_arn send nothing"
    );
}
