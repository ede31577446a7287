//! Pushover: the Messages API, with every parameter in the query string of an
//! empty `text/plain` POST, as Alertmanager sends it.

use crate::http::{HttpSender, check_status, read_secret_file};
use crate::util::{group_key, truncate_runes};
use crate::{Notifier, NotifyError};
use std::sync::Arc;
use watchfire_alertmanager_config::PushoverConfig;
use watchfire_template::{NotificationData, NotificationTemplates};

/// Pushover's fixed endpoint (Alertmanager has no setting for it either).
const API_URL: &str = "https://api.pushover.net/1/messages.json";

/// Pushover's limits, in characters.
const MAX_TITLE_RUNES: usize = 250;
const MAX_MESSAGE_RUNES: usize = 1024;
const MAX_URL_RUNES: usize = 512;

pub(crate) struct Pushover {
    conf: PushoverConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
    api_url: String,
}

/// Go's `url.Values.Encode` of the (distinct) parameters: sorted by key.
fn encode_query(params: Vec<(&'static str, String)>) -> String {
    let map = params
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    watchfire_httpclient::encode::form_encode(&map)
}

impl Pushover {
    pub fn new(
        c: &PushoverConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        Self::with_api_url(c, templates, client, API_URL)
    }

    /// A notifier posting to `api_url` instead of Pushover's (tests).
    pub(crate) fn with_api_url(
        c: &PushoverConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
        api_url: &str,
    ) -> Result<Self, NotifyError> {
        if c.user_key.is_empty() && c.user_key_file.is_empty() {
            return Err(NotifyError::permanent(
                "one of user_key or user_key_file must be configured",
            ));
        }
        if c.token.is_empty() && c.token_file.is_empty() {
            return Err(NotifyError::permanent(
                "one of token or token_file must be configured",
            ));
        }
        Ok(Pushover {
            conf: c.clone(),
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
            api_url: api_url.to_string(),
        })
    }

    /// The request parameters, unsorted.
    fn params(&self, data: &NotificationData) -> Result<Vec<(&'static str, String)>, NotifyError> {
        let c = &self.conf;
        let t = |s: &str| self.templates.execute_text(s, data);
        let token = if c.token.is_empty() {
            read_secret_file(&c.token_file, "token_file")?
        } else {
            c.token.expose().to_string()
        };
        let user = if c.user_key.is_empty() {
            read_secret_file(&c.user_key_file, "user_key_file")?
        } else {
            c.user_key.expose().to_string()
        };
        let mut p = vec![("token", t(&token)?), ("user", t(&user)?)];
        let (title, cut) = truncate_runes(&t(&c.title)?, MAX_TITLE_RUNES);
        if cut {
            tracing::warn!(max_runes = MAX_TITLE_RUNES, "truncated Pushover title");
        }
        p.push(("title", title));
        let message = if c.html {
            p.push(("html", "1".into()));
            self.templates.execute_html(&c.message, data)?
        } else {
            t(&c.message)?
        };
        if c.monospace {
            p.push(("monospace", "1".into()));
        }
        let (message, cut) = truncate_runes(&message, MAX_MESSAGE_RUNES);
        if cut {
            tracing::warn!(max_runes = MAX_MESSAGE_RUNES, "truncated Pushover message");
        }
        let message = message.trim();
        // Pushover rejects an empty message.
        let message = if message.is_empty() {
            "(no details)"
        } else {
            message
        };
        p.push(("message", message.to_string()));
        let (url, cut) = truncate_runes(&t(&c.url)?, MAX_URL_RUNES);
        if cut {
            tracing::warn!(max_runes = MAX_URL_RUNES, "truncated Pushover url");
        }
        p.push(("url", url));
        p.push(("url_title", t(&c.url_title)?));
        p.push(("priority", t(&c.priority)?));
        p.push(("retry", c.retry.whole_seconds().to_string()));
        p.push(("expire", c.expire.whole_seconds().to_string()));
        p.push(("device", t(&c.device)?));
        p.push(("sound", t(&c.sound)?));
        let ttl = c.ttl.whole_seconds();
        if ttl > 0 {
            p.push(("ttl", ttl.to_string()));
        }
        Ok(p)
    }
}

impl Notifier for Pushover {
    const KIND: &'static str = "pushover";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        group_key(data)?;
        let query = encode_query(self.params(data)?);
        // The URL carries the token: errors never include it (see `http`).
        let url = format!("{}?{query}", self.api_url);
        let reply = self
            .http
            .send(reqwest::Method::POST, &url, "text/plain", Vec::new(), None)
            .await?;
        check_status(&reply, &[])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    #[test]
    fn query_like_go() {
        let q = encode_query(vec![
            ("title", "[FIRING:1] a b".into()),
            ("message", "x=1&y~é/".into()),
            ("html", "1".into()),
        ]);
        assert_eq!(
            q,
            "html=1&message=x%3D1%26y~%C3%A9%2F&title=%5BFIRING%3A1%5D+a+b"
        );
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn data(status: &str) -> NotificationData {
        NotificationData {
            receiver: "team x".into(),
            status: status.into(),
            alerts: vec![watchfire_template::AlertData {
                status: status.into(),
                labels: map(&[("alertname", "Down"), ("instance", "a:1")]),
                annotations: map(&[("summary", "a is down")]),
                starts_at: "2024-05-01T10:00:00Z".into(),
                ends_at: String::new(),
                generator_url: "http://prom/graph".into(),
                fingerprint: "0000000000000001".into(),
            }],
            group_labels: map(&[("alertname", "Down")]),
            common_labels: map(&[("alertname", "Down"), ("instance", "a:1")]),
            common_annotations: map(&[("summary", "a is down")]),
            external_url: "http://am:9093".into(),
            group_key: "{}:{alertname=\"Down\"}".into(),
            truncated_alerts: 0,
        }
    }

    fn config(yaml: &str) -> PushoverConfig {
        let text =
            format!("route:\n  receiver: r\nreceivers:\n- name: r\n  pushover_configs:\n{yaml}");
        let cfg = watchfire_alertmanager_config::Config::load_str(&text, "t.yml").unwrap();
        cfg.receiver("r").unwrap().pushover_configs[0].clone()
    }

    /// (method, path+query, content-type, body) of each request; answers `status`.
    type Seen = Arc<Mutex<Vec<(String, String, String, Vec<u8>)>>>;

    async fn server(status: u16) -> (String, Seen) {
        use axum::http::{HeaderMap, Method, StatusCode, Uri};
        let seen: Seen = Arc::default();
        let s = seen.clone();
        let app = axum::Router::new().fallback(
            move |m: Method, u: Uri, h: HeaderMap, b: axum::body::Bytes| {
                let s = s.clone();
                async move {
                    let ct = h
                        .get("content-type")
                        .map(|v| v.to_str().unwrap().to_string())
                        .unwrap_or_default();
                    s.lock()
                        .unwrap()
                        .push((m.to_string(), u.to_string(), ct, b.to_vec()));
                    (StatusCode::from_u16(status).unwrap(), "{\"status\":0}")
                }
            },
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
        (format!("http://{addr}/1/messages.json"), seen)
    }

    fn templates() -> Arc<NotificationTemplates> {
        Arc::new(NotificationTemplates::new(&[], std::path::Path::new(".")).unwrap())
    }

    #[tokio::test]
    async fn request_like_alertmanager() {
        let (url, seen) = server(200).await;
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, "tok-123\n").unwrap();
        let c = config(&format!(
            "  - user_key: 'u-{{{{ .CommonLabels.instance }}}}'\n    token_file: {}\n    ttl: 1h30m\n    sound: siren\n    monospace: true\n",
            token_file.display()
        ));
        let client = crate::default_http_client(None).unwrap();
        let n = Pushover::with_api_url(&c, templates(), &client, &url).unwrap();
        n.send(&data("firing")).await.unwrap();
        let (method, path, ct, body) = seen.lock().unwrap().remove(0);
        assert_eq!(method, "POST");
        assert_eq!(ct, "text/plain");
        assert!(body.is_empty());
        let subject = "%5BFIRING%3A1%5D+Down+%28a%3A1%29";
        let am_url = "http%3A%2F%2Fam%3A9093%2F%23%2Falerts%3Freceiver%3Dteam%2Bx";
        // The default message: common annotations, then the alert list.
        let message = "a+is+down%0A%0AAlerts+Firing%3A%0ALabels%3A%0A+-+alertname+%3D+Down%0A+-+instance+%3D+a%3A1%0AAnnotations%3A%0A+-+summary+%3D+a+is+down%0ASource%3A+http%3A%2F%2Fprom%2Fgraph";
        assert_eq!(
            path,
            format!(
                "/1/messages.json?device=&expire=3600&message={message}&monospace=1&priority=2&retry=60&sound=siren&title={subject}&token=tok-123&ttl=5400&url={am_url}&url_title=&user=u-a%3A1"
            )
        );

        // Resolved: priority 0; HTML messages are escaped as HTML; 4xx is final.
        let (url, seen) = server(400).await;
        let c = config(
            "  - user_key: u\n    token: t\n    html: true\n    message: '<b>{{ .CommonAnnotations.summary }}</b> & {{ \"<i>\" }}'\n    retry: 90s\n    expire: 2h\n",
        );
        let n = Pushover::with_api_url(&c, templates(), &client, &url).unwrap();
        let err = n.send(&data("resolved")).await.unwrap_err();
        assert!(!err.retry);
        assert!(
            err.message.starts_with("unexpected status code 400"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("token"), "{}", err.message);
        let (_, path, _, _) = seen.lock().unwrap().remove(0);
        assert!(path.contains("&html=1&"), "{path}");
        assert!(
            path.contains("&message=%3Cb%3Ea+is+down%3C%2Fb%3E+%26+%26lt%3Bi%26gt%3B&"),
            "{path}"
        );
        assert!(path.contains("&priority=0&retry=90&"), "{path}");
        assert!(path.contains("&expire=7200&"), "{path}");
        assert!(!path.contains("ttl="), "{path}");

        // An empty message is replaced; 5xx is retried.
        let (url, _seen) = server(503).await;
        let c = config("  - user_key: u\n    token: t\n    message: '  '\n");
        let n = Pushover::with_api_url(&c, templates(), &client, &url).unwrap();
        let p = n.params(&data("firing")).unwrap();
        assert!(p.contains(&("message", "(no details)".to_string())));
        assert!(n.send(&data("firing")).await.unwrap_err().retry);
    }
}
