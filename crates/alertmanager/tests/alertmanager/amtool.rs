use crate::common::*;
use watchfire_alertmanager::{Alertmanager, Options, SystemClock};

const CFG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: [team="db"]
      receiver: dba
receivers:
  - name: default
  - name: dba
"#;

fn amtool(addr: std::net::SocketAddr, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("amtool")
        .arg(format!("--alertmanager.url=http://{addr}"))
        .args(args)
        .output()
        .unwrap();
    eprintln!("amtool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_amtool() {
    if std::env::var("WATCHFIRE_SKIP_PEERS").as_deref() == Ok("1") {
        eprintln!("skipping: WATCHFIRE_SKIP_PEERS=1");
        return;
    }
    if std::process::Command::new("amtool")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping: amtool not found on PATH");
        return;
    }
    let rec = Recorder::default();
    let clock: std::sync::Arc<dyn watchfire_alertmanager::Clock> = std::sync::Arc::new(SystemClock);
    let opts = Options::new(clock.clone(), factory(&rec, clock));
    let am = Alertmanager::start_with(config(CFG), opts).unwrap();
    let addr = serve(am.clone()).await;
    let run = move |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            amtool(addr, &a)
        })
    };
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let (ok, out) = run(v(&[
        "alert",
        "add",
        "alertname=Disk",
        "team=db",
        "--annotation=summary=full",
    ]))
    .await
    .unwrap();
    assert!(ok, "{out}");
    let (ok, out) = run(v(&["alert", "query"])).await.unwrap();
    assert!(ok && out.contains("Disk") && out.contains("full"), "{out}");
    let (ok, out) = run(v(&["alert", "query", "team=db", "-o", "json"]))
        .await
        .unwrap();
    assert!(ok && out.contains("\"dba\""), "{out}");

    let (ok, id) = run(v(&[
        "silence",
        "add",
        "alertname=Disk",
        "--comment=x",
        "--author=y",
        "--duration=1h",
    ]))
    .await
    .unwrap();
    assert!(ok, "{id}");
    let id = id.lines().next().unwrap_or_default().trim().to_string();
    assert_eq!(id.len(), 36, "{id}");
    let (ok, out) = run(v(&["silence", "query"])).await.unwrap();
    assert!(
        ok && out.contains(&id) && out.contains("alertname=\"Disk\""),
        "{out}"
    );
    let (ok, out) = run(v(&["alert", "query", "--silenced"])).await.unwrap();
    assert!(ok && out.contains("Disk"), "{out}");
    let (ok, out) = run(v(&["silence", "query", "-o", "json"])).await.unwrap();
    assert!(ok, "{out}");
    let export = out.clone();
    let (ok, out) = run(v(&["silence", "expire", &id])).await.unwrap();
    assert!(ok, "{out}");
    let (ok, out) = run(v(&["silence", "query"])).await.unwrap();
    assert!(ok && !out.contains(&id), "{out}");
    let (ok, out) = run(v(&["silence", "query", "--expired"])).await.unwrap();
    assert!(ok && out.contains(&id), "{out}");

    // Import the exported (now expired on the server) silence: the end time is still in
    // the future, so a new silence is created.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("sil.json");
    std::fs::write(&f, export).unwrap();
    let (ok, out) = run(v(&["silence", "import", f.to_str().unwrap()]))
        .await
        .unwrap();
    assert!(ok, "{out}");
    assert_eq!(am.silences().len(), 2, "{out}");

    let (ok, out) = run(v(&["config", "routes", "test", "team=db"]))
        .await
        .unwrap();
    assert!(ok && out.trim() == "dba", "{out}");
    let (ok, out) = run(v(&["config", "routes", "test", "team=web"]))
        .await
        .unwrap();
    assert!(ok && out.trim() == "default", "{out}");
    am.stop().await.unwrap();
}
