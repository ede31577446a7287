//! A capturing HTTP server, sample notification data and receiver loading.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use watchfire_alertmanager_config::{Config, Receiver};
use watchfire_notify::{Integration, build_integrations, default_http_client};
use watchfire_template::{AlertData, NotificationData, NotificationTemplates};

#[derive(Debug, Clone)]
pub struct Captured {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Captured {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

pub struct Server {
    pub url: String,
    pub reqs: Arc<Mutex<Vec<Captured>>>,
}

impl Server {
    pub fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.reqs.lock().unwrap())
    }
}

/// Serves every request with `status`, `content_type` and `body`, recording it.
pub async fn serve(status: u16, content_type: &'static str, body: &'static str) -> Server {
    let reqs: Arc<Mutex<Vec<Captured>>> = Arc::default();
    let r = reqs.clone();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, bytes: Bytes| {
            let r = r.clone();
            async move {
                r.lock().unwrap().push(Captured {
                    method: method.to_string(),
                    path: uri
                        .path_and_query()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    headers,
                    body: bytes.to_vec(),
                });
                (
                    StatusCode::from_u16(status).unwrap(),
                    [("content-type", content_type)],
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

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn alert(name: &str, instance: &str, status: &str) -> AlertData {
    AlertData {
        status: status.into(),
        labels: map(&[
            ("alertname", name),
            ("instance", instance),
            ("severity", "page"),
        ]),
        annotations: map(&[("summary", &format!("{instance} is down"))]),
        starts_at: "2024-05-01T10:00:00Z".into(),
        ends_at: if status == "resolved" {
            "2024-05-01T10:05:00Z".into()
        } else {
            "0001-01-01T00:00:00Z".into()
        },
        generator_url: "http://prom:9090/graph?g0.expr=up".into(),
        fingerprint: format!("fp-{instance}"),
    }
}

/// A firing group of two `InstanceDown` alerts.
pub fn firing_data() -> NotificationData {
    NotificationData {
        receiver: "team-x".into(),
        status: "firing".into(),
        alerts: vec![
            alert("InstanceDown", "a:9100", "firing"),
            alert("InstanceDown", "b:9100", "firing"),
        ],
        group_labels: map(&[("alertname", "InstanceDown")]),
        common_labels: map(&[("alertname", "InstanceDown"), ("severity", "page")]),
        common_annotations: BTreeMap::new(),
        external_url: "http://am:9093".into(),
        group_key: "{}:{alertname=\"InstanceDown\"}".into(),
        truncated_alerts: 0,
    }
}

pub fn resolved_data() -> NotificationData {
    let mut d = firing_data();
    d.status = "resolved".into();
    for a in &mut d.alerts {
        *a = alert(
            &a.labels["alertname"],
            &a.labels["instance"].clone(),
            "resolved",
        );
    }
    d
}

/// The receiver `r` of a config whose `receivers:` section is `receivers_yaml`.
pub fn receiver(global_yaml: &str, receivers_yaml: &str) -> Receiver {
    let global = if global_yaml.is_empty() {
        String::new()
    } else {
        format!("global:\n{global_yaml}\n")
    };
    let text = format!("{global}route:\n  receiver: r\nreceivers:\n{receivers_yaml}\n");
    let cfg = Config::load_str(&text, "test.yml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    cfg.receiver("r").unwrap().clone()
}

pub fn templates() -> Arc<NotificationTemplates> {
    Arc::new(NotificationTemplates::new(&[], Path::new(".")).unwrap())
}

pub fn build(r: &Receiver) -> Vec<Box<dyn Integration>> {
    build_integrations(r, templates(), default_http_client(None).unwrap()).unwrap()
}

/// sha256 hex of the sample group key, computed independently with sha256sum.
pub fn group_key_hash() -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(firing_data().group_key.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}
