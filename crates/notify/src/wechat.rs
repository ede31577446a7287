//! WeChat Work: an application message posted to `<api_url>message/send`, with
//! an access token fetched from `<api_url>gettoken` and cached per notifier.
//!
//! As in Alertmanager, the token is fetched when there is none or the cached one
//! is older than two hours, and dropped when WeChat answers errcode 42001
//! (token expired), which makes the attempt retryable so the retry fetches a new
//! one. Other non-zero errcodes are permanent failures.

use crate::http::{HttpSender, JSON, encode_json, read_secret_file, truncate_body};
use crate::util::group_key;
use crate::{Notifier, NotifyError};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use watchfire_alertmanager_config::WechatConfig;
use watchfire_httpclient::encode::query_escape;
use watchfire_template::{NotificationData, NotificationTemplates};

/// How long a fetched access token is used (WeChat issues them for 7200s).
const TOKEN_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);

/// WeChat's "access token expired" errcode.
const ERR_TOKEN_EXPIRED: i64 = 42001;

pub(crate) struct Wechat {
    conf: WechatConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
    /// `api_url`, always ending in `/` before any query.
    base: reqwest::Url,
    token: Mutex<Option<(String, Instant)>>,
}

/// The message. Go's `omitempty` does not drop struct values, so `text` and
/// `markdown` are always present, one of them with empty content.
#[derive(Serialize)]
struct Message {
    text: Content,
    #[serde(skip_serializing_if = "String::is_empty")]
    touser: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    toparty: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    totag: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    agentid: String,
    safe: &'static str,
    msgtype: String,
    markdown: Content,
}

#[derive(Serialize, Default)]
struct Content {
    content: String,
}

#[derive(Deserialize)]
struct TokenReply {
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

#[derive(Deserialize)]
struct SendReply {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl Wechat {
    pub fn new(
        c: &WechatConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        let Some(api_url) = &c.api_url else {
            return Err(NotifyError::permanent("no global Wechat URL set"));
        };
        if c.api_secret.is_empty() && c.api_secret_file.is_empty() {
            return Err(NotifyError::permanent(
                "no global Wechat Api Secret set either inline or in a file",
            ));
        }
        let mut base = reqwest::Url::parse(api_url.as_str())
            .map_err(|e| NotifyError::permanent(format!("invalid Wechat api_url: {e}")))?;
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        Ok(Wechat {
            conf: c.clone(),
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
            base,
            token: Mutex::new(None),
        })
    }

    /// `api_url` with `endpoint` appended to its path.
    fn endpoint(&self, endpoint: &str) -> reqwest::Url {
        let mut u = self.base.clone();
        let p = format!("{}{endpoint}", u.path());
        u.set_path(&p);
        u
    }

    fn cached_token(&self) -> Option<String> {
        let guard = self.token.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|(_, at)| at.elapsed() <= TOKEN_LIFETIME)
            .map(|(t, _)| t.clone())
    }

    fn set_token(&self, token: Option<String>) {
        let mut guard = self.token.lock().unwrap_or_else(|e| e.into_inner());
        *guard = token.map(|t| (t, Instant::now()));
    }

    /// The cached token, or a new one from `gettoken`.
    async fn access_token(&self, data: &NotificationData) -> Result<String, NotifyError> {
        if let Some(t) = self.cached_token() {
            return Ok(t);
        }
        let c = &self.conf;
        let secret = if c.api_secret_file.is_empty() {
            c.api_secret.expose().to_string()
        } else {
            read_secret_file(&c.api_secret_file, "api_secret_file")?
        };
        let t = |s: &str| self.templates.execute_text(s, data);
        let corp_id = t(&c.corp_id)?;
        let secret = t(&secret)?;
        // Go's `url.Values.Encode`: sorted keys; the query replaces any in api_url.
        let mut url = self.endpoint("gettoken");
        url.set_query(Some(&format!(
            "corpid={}&corpsecret={}",
            query_escape(&corp_id),
            query_escape(&secret)
        )));
        let reply = self
            .http
            .send(reqwest::Method::GET, url.as_str(), "", Vec::new(), None)
            .await?;
        // Alertmanager reads the body whatever the status: WeChat answers 200 with
        // an errcode, and a missing token is what counts.
        let tok: TokenReply = serde_json::from_slice(&reply.body).map_err(|e| {
            NotifyError::permanent(format!(
                "decoding Wechat gettoken response {:?} (status {}): {e}",
                truncate_body(&reply.body),
                reply.status
            ))
        })?;
        if tok.access_token.is_empty() {
            let mut msg = format!("invalid APISecret for CorpID: {corp_id}");
            if tok.errcode != 0 || !tok.errmsg.is_empty() {
                msg.push_str(&format!(" (errcode {}: {})", tok.errcode, tok.errmsg));
            }
            return Err(NotifyError::permanent(msg));
        }
        self.set_token(Some(tok.access_token.clone()));
        Ok(tok.access_token)
    }

    fn message(&self, data: &NotificationData) -> Result<Message, NotifyError> {
        let c = &self.conf;
        let t = |s: &str| self.templates.execute_text(s, data);
        let content = Content {
            content: t(&c.message)?,
        };
        let (text, markdown) = if c.message_type == "markdown" {
            (Content::default(), content)
        } else {
            (content, Content::default())
        };
        Ok(Message {
            text,
            touser: t(&c.to_user)?,
            toparty: t(&c.to_party)?,
            totag: t(&c.to_tag)?,
            agentid: t(&c.agent_id)?,
            safe: "0",
            msgtype: c.message_type.clone(),
            markdown,
        })
    }
}

impl Notifier for Wechat {
    const KIND: &'static str = "wechat";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        group_key(data)?;
        let token = self.access_token(data).await?;
        let msg = self.message(data)?;
        // The token joins whatever query api_url carries.
        let mut url = self.endpoint("message/send");
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "access_token")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.push(("access_token".into(), token));
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let query = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
            .collect::<Vec<_>>()
            .join("&");
        url.set_query(Some(&query));
        let reply = self
            .http
            .send(
                reqwest::Method::POST,
                url.as_str(),
                JSON,
                encode_json(&msg)?,
                None,
            )
            .await?;
        if reply.status != 200 {
            return Err(NotifyError::transient(format!(
                "unexpected status code {}",
                reply.status
            )));
        }
        let r: SendReply = serde_json::from_slice(&reply.body).map_err(|e| {
            NotifyError::transient(format!(
                "decoding Wechat response {:?}: {e}",
                truncate_body(&reply.body)
            ))
        })?;
        match r.errcode {
            0 => Ok(()),
            ERR_TOKEN_EXPIRED => {
                self.set_token(None);
                Err(NotifyError::transient(format!(
                    "{} (errcode {})",
                    r.errmsg, r.errcode
                )))
            }
            code => Err(NotifyError::permanent(format!(
                "{} (errcode {code})",
                r.errmsg
            ))),
        }
    }
}
