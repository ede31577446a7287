//! `watchfire webhook-sink`: receives notifications and lists them.

use crate::harness::{bin, free_port, http};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn keeps_and_lists_notifications() {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(bin())
        .args(["webhook-sink", "--listen", &addr, "--keep", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(http(&addr, "GET", "/-/healthy", b""), Ok((200, _))) {
        assert!(Instant::now() < deadline, "sink did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    for i in 0..3 {
        let body = format!(
            r#"{{"version":"4","status":"firing","receiver":"r{i}","groupLabels":{{}},"alerts":[{{"status":"firing","labels":{{"alertname":"A"}},"annotations":{{}}}}]}}"#
        );
        assert_eq!(
            http(&addr, "POST", "/alerts", body.as_bytes()).unwrap().0,
            200
        );
    }
    assert_eq!(
        http(&addr, "POST", "/other/path", b"not json").unwrap().0,
        400
    );
    let (code, body) = http(&addr, "GET", "/alerts", b"").unwrap();
    assert_eq!(code, 200);
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "keeps only the latest two: {body}");
    assert_eq!(list[0]["payload"]["receiver"], "r1");
    assert_eq!(list[1]["payload"]["receiver"], "r2");
    assert_eq!(list[1]["path"], "/alerts");
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("FIRING receiver=r0"), "{printed}");
}
