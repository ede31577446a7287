#![allow(clippy::unwrap_used, missing_docs)]
//! Dashboards loading and listing, and asset serving over real HTTP on
//! 127.0.0.1.

use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use watchfire_web_ui::{Dashboards, UiError, UiOptions, router, router_with, slugify};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/tests/fixtures/dashboards")
}

// ---- dashboards -----------------------------------------------------------

#[test]
fn loads_uid_from_json_or_file_name() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.json",
        r#"{"uid":"abc","title":"Zeta board","tags":["x"],"panels":[]}"#,
    );
    write(
        dir.path(),
        "My Board.json",
        r#"{"title":"alpha","panels":[]}"#,
    );
    write(dir.path(), "team/api.json", r#"{"uid":"","panels":[]}"#);
    write(dir.path(), "notes.txt", "not a dashboard");
    let d = Dashboards::load_dir(dir.path()).unwrap();
    let (list, warnings) = d.current();
    assert!(warnings.is_empty());
    let got: Vec<(&str, &str, String)> = list
        .iter()
        .map(|d| (d.uid.as_str(), d.title.as_str(), d.url()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("My-Board", "alpha", "/d/My-Board/alpha".to_string()),
            ("team-api", "api", "/d/team-api/api".to_string()),
            ("abc", "Zeta board", "/d/abc/zeta-board".to_string()),
        ]
    );
    assert_eq!(list[2].tags, vec!["x".to_string()]);
    // The served JSON carries the effective uid and title.
    assert_eq!(list[0].json["uid"], "My-Board");
    assert_eq!(list[1].json["title"], "api");
}

#[test]
fn unwraps_grafana_api_exports() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "export.json",
        r#"{"dashboard":{"uid":"exp","title":"Exported","panels":[{"type":"stat"}]},"meta":{"slug":"x"}}"#,
    );
    let d = Dashboards::load_dir(dir.path()).unwrap();
    let one = d.get("exp").unwrap();
    assert_eq!(one.title, "Exported");
    assert_eq!(one.json["panels"][0]["type"], "stat");
    assert!(one.json.get("meta").is_none());
}

#[test]
fn bad_json_names_the_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.json", r#"{"uid":"g","panels":[]}"#);
    let bad = write(
        dir.path(),
        "broken.json",
        "{\n  \"uid\": \"b\",\n  \"panels\": [\n}\n",
    );
    let err = Dashboards::load_dir(dir.path()).unwrap_err();
    match &err {
        UiError::Json { path, line, .. } => {
            assert_eq!(path, &bad);
            assert_eq!(*line, 4);
        }
        other => panic!("unexpected error {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("{}:4:", bad.display())), "{msg}");
    assert!(msg.contains("invalid dashboard JSON"), "{msg}");
}

#[test]
fn invalid_fields_are_reported_with_their_path() {
    let cases = [
        (r#"[1,2]"#, "(root)"),
        (r#"{"uid":5}"#, "uid"),
        (r#"{"uid":"has space"}"#, "uid"),
        (r#"{"panels":{}}"#, "panels"),
        (r#"{"tags":["ok",3]}"#, "tags[1]"),
        (r#"{"templating":{"list":3}}"#, "templating.list"),
        (r#"{"title":false}"#, "title"),
    ];
    for (text, field) in cases {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "d.json", text);
        match Dashboards::load_dir(dir.path()).unwrap_err() {
            UiError::Invalid { path, field: f, .. } => {
                assert_eq!(path, file, "{text}");
                assert_eq!(f, field, "{text}");
            }
            other => panic!("{text}: unexpected {other:?}"),
        }
    }
}

#[test]
fn duplicate_uids_are_an_error_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", r#"{"uid":"same"}"#);
    let b = write(dir.path(), "b.json", r#"{"uid":"same"}"#);
    match Dashboards::load_dir(dir.path()).unwrap_err() {
        UiError::DuplicateUid { uid, first, second } => {
            assert_eq!(uid, "same");
            assert_eq!((first, second), (a, b));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn missing_folder_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("nope");
    assert!(matches!(Dashboards::load_dir(&gone), Err(UiError::Io { path, .. }) if path == gone));
}

#[test]
fn re_reads_the_folder_when_files_change() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "one.json", r#"{"uid":"one","title":"One"}"#);
    let d = Dashboards::watch(dir.path());
    assert_eq!(d.current().0.len(), 1);
    write(dir.path(), "two.json", r#"{"uid":"two","title":"Two"}"#);
    let (list, _) = d.current();
    assert_eq!(
        list.iter().map(|d| d.uid.as_str()).collect::<Vec<_>>(),
        ["one", "two"]
    );
    // A changed title (different size) is picked up.
    write(
        dir.path(),
        "one.json",
        r#"{"uid":"one","title":"One renamed"}"#,
    );
    assert_eq!(d.get("one").unwrap().title, "One renamed");
    // A bad file becomes a warning; the good ones stay.
    write(dir.path(), "three.json", "{oops");
    let (list, warnings) = d.current();
    assert_eq!(list.len(), 2);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("three.json"), "{warnings:?}");
    std::fs::remove_file(dir.path().join("two.json")).unwrap();
    std::fs::remove_file(dir.path().join("three.json")).unwrap();
    let (list, warnings) = d.current();
    assert_eq!(list.len(), 1);
    assert!(warnings.is_empty());
}

#[test]
fn the_ui_fixtures_load() {
    let d = Dashboards::load_dir(fixtures()).unwrap();
    let (list, _) = d.current();
    let uids: Vec<&str> = list.iter().map(|d| d.uid.as_str()).collect();
    assert!(uids.contains(&"websocket-go2"), "{uids:?}");
    assert!(uids.contains(&"unknown-panel"), "{uids:?}");
    assert!(uids.contains(&"legacy-rows"), "{uids:?}");
}

#[test]
fn slugs_match_grafana() {
    assert_eq!(slugify("WebSocket Server - Go-2"), "websocket-server-go-2");
    assert_eq!(slugify("  CPU / Memory (%)  "), "cpu-memory");
    assert_eq!(slugify("Über Größe"), "über-größe");
    assert_eq!(slugify("---"), "");
}

#[test]
fn prefix_from_external_url() {
    assert_eq!(UiOptions::prefix_from_external_url("http://host:9090/"), "");
    assert_eq!(UiOptions::prefix_from_external_url("http://host:9090"), "");
    assert_eq!(
        UiOptions::prefix_from_external_url("https://h/prom/"),
        "/prom"
    );
    assert_eq!(
        UiOptions::prefix_from_external_url("https://h/a/b?x=1"),
        "/a/b"
    );
    assert_eq!(UiOptions::prefix_from_external_url("/wf/"), "/wf");
}

// ---- HTTP -----------------------------------------------------------------

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn serve(app: axum::Router) -> String {
    let addr = watchfire_testkit::serve(app).await;
    addr.to_string()
}

/// A minimal HTTP/1.1 GET (Connection: close, Content-Length bodies).
async fn get(addr: &str, path: &str, extra: &[(&str, &str)]) -> Resp {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_string(),
    }
}

#[tokio::test]
async fn serves_index_for_spa_routes_and_assets_with_cache_headers() {
    let addr = serve(router(UiOptions::default())).await;
    for path in [
        "/",
        "/query",
        "/alerts",
        "/silences",
        "/status",
        "/dashboards",
        "/d/abc",
        "/d/abc/some-slug",
    ] {
        let r = get(&addr, path, &[]).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.header("content-type").unwrap().starts_with("text/html"),
            "{path}"
        );
        assert!(r.body.contains("<base href=\"/\">"), "{path}");
        assert_eq!(r.header("cache-control"), Some("no-cache"));
    }
    let index = get(&addr, "/", &[]).await;
    // The build stamps asset URLs with a content version.
    let start = index.body.find("app.js?v=").unwrap();
    let versioned = &index.body[start..index.body[start..].find('"').unwrap() + start];
    let js = get(&addr, &format!("/{versioned}"), &[]).await;
    assert_eq!(js.status, 200);
    assert!(js.header("content-type").unwrap().contains("javascript"));
    assert_eq!(
        js.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let etag = js.header("etag").unwrap().to_string();
    assert!(js.body.len() > 1000);
    // Unversioned URLs must revalidate; a matching ETag answers 304.
    let plain = get(&addr, "/app.js", &[]).await;
    assert_eq!(plain.header("cache-control"), Some("no-cache"));
    let again = get(&addr, "/app.js", &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let css = get(&addr, "/uPlot.min.css", &[]).await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    let idx_etag = index.header("etag").unwrap().to_string();
    assert_eq!(
        get(&addr, "/", &[("If-None-Match", &idx_etag)])
            .await
            .status,
        304
    );
    // No catch-all: unknown paths stay 404 for the other routers.
    assert_eq!(get(&addr, "/nope", &[]).await.status, 404);
    assert_eq!(get(&addr, "/api/v1/whatever", &[]).await.status, 404);
}

#[tokio::test]
async fn serves_under_a_route_prefix() {
    let opts = UiOptions {
        dashboards_dir: Some(fixtures()),
        route_prefix: "/wf/".into(),
    };
    let addr = serve(router(opts)).await;
    for path in ["/wf", "/wf/", "/wf/query", "/wf/d/websocket-go2"] {
        let r = get(&addr, path, &[]).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.contains("<base href=\"/wf/\">"), "{path}");
    }
    assert_eq!(get(&addr, "/wf/app.css", &[]).await.status, 200);
    assert_eq!(get(&addr, "/app.css", &[]).await.status, 404);
    assert_eq!(get(&addr, "/query", &[]).await.status, 404);
    let list = get(&addr, "/wf/api/v1/dashboards", &[]).await;
    let v: serde_json::Value = serde_json::from_str(&list.body).unwrap();
    let urls: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["url"].as_str().unwrap())
        .collect();
    assert!(
        urls.contains(&"/wf/d/websocket-go2/websocket-server-go-2"),
        "{urls:?}"
    );
}

#[tokio::test]
async fn dashboards_api() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "b.json",
        r#"{"uid":"bee","title":"Bee","tags":["t1"],"panels":[{"type":"gauge"}]}"#,
    );
    write(dir.path(), "a.json", r#"{"title":"Ant"}"#);
    let dashboards = Dashboards::load_dir(dir.path()).unwrap();
    let addr = serve(router_with(UiOptions::default(), dashboards)).await;
    let r = get(&addr, "/api/v1/dashboards", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"status":"success","data":[
            {"title":"Ant","uid":"a","url":"/d/a/ant","tags":[]},
            {"title":"Bee","uid":"bee","url":"/d/bee/bee","tags":["t1"]}
        ]})
    );
    let one = get(&addr, "/api/v1/dashboards/bee", &[]).await;
    assert_eq!(one.status, 200);
    let v: serde_json::Value = serde_json::from_str(&one.body).unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["panels"][0]["type"], "gauge");
    let missing = get(&addr, "/api/v1/dashboards/zzz", &[]).await;
    assert_eq!(missing.status, 404);
    let v: serde_json::Value = serde_json::from_str(&missing.body).unwrap();
    assert_eq!(v["errorType"], "not_found");
    // Edits show up without a restart; a broken file is a warning.
    write(dir.path(), "c.json", "{ nope");
    let r = get(&addr, "/api/v1/dashboards", &[]).await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert!(v["warnings"][0].as_str().unwrap().contains("c.json"));
}

#[tokio::test]
async fn no_dashboards_dir_lists_nothing() {
    let addr = serve(router(UiOptions::default())).await;
    let r = get(&addr, "/api/v1/dashboards", &[]).await;
    assert_eq!(r.body, r#"{"status":"success","data":[]}"#);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v, serde_json::json!({"status":"success","data":[]}));
}
