//! Amazon SNS: the `Publish` action of the query API, a form-encoded POST
//! signed with SigV4 ([`crate::sigv4`]), to the region's endpoint or `api_url`.
//!
//! The parameters follow Alertmanager's notifier: one of `TopicArn`,
//! `PhoneNumber`, `TargetArn`; a `.fifo` topic gets the group key's hash as
//! `MessageGroupId` and `MessageDeduplicationId`; the message is cut to 256 KiB
//! (1600 bytes for SMS) with a `truncated` attribute; `attributes` become
//! `String` message attributes; `Subject` is sent when one is configured.

use crate::http::{HttpSender, Reply, check_status, truncate_body};
use crate::sigv4::{self, Environment, ProcessEnv};
use crate::util::{group_key, hash_key};
use crate::{Notifier, NotifyError};
use std::collections::BTreeMap;
use std::sync::Arc;
use watchfire_alertmanager_config::SnsConfig;
use watchfire_template::{NotificationData, NotificationTemplates};

/// SNS's limit on a message, in bytes.
const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// The limit Alertmanager applies to SMS messages.
const MAX_SMS_BYTES: usize = 1600;
/// The query API version of SNS.
const API_VERSION: &str = "2010-03-31";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

pub(crate) struct Sns {
    conf: SnsConfig,
    templates: Arc<NotificationTemplates>,
    http: HttpSender,
    env: Box<dyn Environment + Send + Sync>,
}

/// `message` cut to `max` bytes on a character boundary; whether it was cut.
fn truncate(message: String, max: usize) -> (String, bool) {
    if message.len() <= max {
        return (message, false);
    }
    let mut end = max;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    (message[..end].to_string(), true)
}

/// The region's SNS endpoint (China regions live under `amazonaws.com.cn`).
fn default_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://sns.{region}.{suffix}/")
}

/// AWS query API encoding of the form: RFC 3986 (`%20` for spaces).
fn encode_form(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                sigv4::uri_encode(k, false),
                sigv4::uri_encode(v, false)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The text of `<tag>…</tag>` in an XML answer, unescaped.
fn xml_text(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(
        body[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

impl Sns {
    pub fn new(
        c: &SnsConfig,
        templates: Arc<NotificationTemplates>,
        client: &reqwest::Client,
    ) -> Result<Self, NotifyError> {
        Ok(Sns {
            conf: c.clone(),
            templates,
            http: HttpSender::new(c.http_config.as_ref(), client)?,
            env: Box::new(ProcessEnv),
        })
    }

    /// The `Publish` parameters, in the order the AWS SDK writes them.
    fn params(&self, data: &NotificationData) -> Result<Vec<(String, String)>, NotifyError> {
        let c = &self.conf;
        // Each template error names its field, as Alertmanager's do.
        let t = |s: &str, field: &str| {
            self.templates
                .execute_text(s, data)
                .map_err(|e| NotifyError::permanent(format!("execute '{field}' template: {e}")))
        };
        let mut attributes = BTreeMap::new();
        for (k, v) in &c.attributes {
            attributes.insert(t(k, "attributes")?, t(v, "attributes")?);
        }
        let mut targets = Vec::new();
        let mut limit = MAX_MESSAGE_BYTES;
        let mut fifo_id = None;
        if !c.topic_arn.is_empty() {
            let topic = t(&c.topic_arn, "topic_arn")?;
            if topic.ends_with(".fifo") {
                fifo_id = Some(hash_key(group_key(data)?));
            }
            targets.push(("TopicArn", topic));
        }
        if !c.phone_number.is_empty() {
            targets.push(("PhoneNumber", t(&c.phone_number, "phone_number")?));
            limit = MAX_SMS_BYTES;
        }
        if !c.target_arn.is_empty() {
            targets.push(("TargetArn", t(&c.target_arn, "target_arn")?));
        }
        let (message, cut) = truncate(t(&c.message, "message")?, limit);
        if cut {
            tracing::warn!(max_bytes = limit, "truncated SNS message");
            attributes.insert("truncated".into(), "true".into());
        }
        let subject = if c.subject.is_empty() {
            None
        } else {
            Some(t(&c.subject, "subject")?)
        };

        let mut p: Vec<(String, String)> = vec![
            ("Action".into(), "Publish".into()),
            ("Version".into(), API_VERSION.into()),
            ("Message".into(), message),
        ];
        for (i, (k, v)) in attributes.into_iter().enumerate() {
            let n = i + 1;
            p.push((format!("MessageAttributes.entry.{n}.Name"), k));
            p.push((
                format!("MessageAttributes.entry.{n}.Value.DataType"),
                "String".into(),
            ));
            p.push((format!("MessageAttributes.entry.{n}.Value.StringValue"), v));
        }
        if let Some(id) = fifo_id {
            p.push(("MessageDeduplicationId".into(), id.clone()));
            p.push(("MessageGroupId".into(), id));
        }
        for (k, v) in targets {
            p.push((k.into(), v));
        }
        if let Some(s) = subject {
            p.push(("Subject".into(), s));
        }
        Ok(p)
    }

    /// Turns an error answer into Alertmanager's retrier verdict, with the
    /// message of AWS's `<Error>` in place of the raw XML.
    fn check(reply: &Reply) -> Result<(), NotifyError> {
        let text = String::from_utf8_lossy(&reply.body);
        let detail = match (xml_text(&text, "Code"), xml_text(&text, "Message")) {
            (Some(code), Some(msg)) => format!("{code}: {msg}"),
            (None, Some(msg)) => msg,
            (Some(code), None) => code,
            (None, None) => truncate_body(&reply.body),
        };
        let shown = Reply {
            status: reply.status,
            content_type: String::new(),
            body: detail.into_bytes(),
        };
        check_status(&shown, &[])
    }
}

impl Notifier for Sns {
    const KIND: &'static str = "sns";

    async fn send(&self, data: &NotificationData) -> Result<(), NotifyError> {
        let c = &self.conf;
        let resolved = sigv4::resolve(&c.sigv4, self.env.as_ref())?;
        let api_url = self
            .templates
            .execute_text(&c.api_url, data)
            .map_err(|e| NotifyError::permanent(format!("execute 'api_url' template: {e}")))?;
        let params = self.params(data)?;
        let endpoint = if api_url.is_empty() {
            default_endpoint(&resolved.region)
        } else {
            api_url
        };
        let url = reqwest::Url::parse(&endpoint)
            .map_err(|e| NotifyError::permanent(format!("invalid SNS api_url: {e}")))?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => return Err(NotifyError::permanent("SNS api_url has no host")),
        };
        let body = encode_form(&params).into_bytes();
        let amz_date = sigv4::amz_date_now();
        let creds = &resolved.credentials;
        let mut headers = vec![
            ("content-type".to_string(), FORM.to_string()),
            ("host".to_string(), host),
            ("x-amz-date".to_string(), amz_date.clone()),
        ];
        if !creds.session_token.is_empty() {
            headers.push((
                "x-amz-security-token".to_string(),
                creds.session_token.clone(),
            ));
        }
        let req = sigv4::Request {
            method: "POST",
            path: url.path(),
            query: url.query_pairs().into_owned().collect(),
            headers,
            payload: &body,
        };
        let sig = sigv4::sign(&req, creds, &resolved.region, "sns", &amz_date);
        let mut extra = vec![
            ("x-amz-date", amz_date),
            ("authorization", sig.authorization),
        ];
        if !creds.session_token.is_empty() {
            extra.push(("x-amz-security-token", creds.session_token.clone()));
        }
        let reply = self
            .http
            .send_with_headers(reqwest::Method::POST, url.as_str(), FORM, body, &extra)
            .await?;
        Self::check(&reply)?;
        let text = String::from_utf8_lossy(&reply.body);
        tracing::debug!(
            message_id = xml_text(&text, "MessageId").unwrap_or_default(),
            "SNS message published"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_truncation() {
        let (m, cut) = truncate("!".repeat(257 * 1024), MAX_MESSAGE_BYTES);
        assert!(cut);
        assert_eq!(m.len(), 256 * 1024);
        assert_eq!(truncate("abc".into(), 3), ("abc".into(), false));
        // Never inside a character: "é" is two bytes.
        assert_eq!(truncate("aéé".into(), 4), ("aé".into(), true));
    }

    #[test]
    fn error_answers() {
        let xml = r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: TopicArn &amp; more</Message></Error><RequestId>x</RequestId></ErrorResponse>"#;
        let r = |status| Reply {
            status,
            content_type: "text/xml".into(),
            body: xml.as_bytes().to_vec(),
        };
        let e = Sns::check(&r(400)).unwrap_err();
        assert!(!e.retry);
        assert_eq!(
            e.message,
            "unexpected status code 400: InvalidParameter: Invalid parameter: TopicArn & more"
        );
        assert!(Sns::check(&r(503)).unwrap_err().retry);
        assert!(Sns::check(&r(200)).is_ok());
        assert_eq!(
            default_endpoint("eu-west-1"),
            "https://sns.eu-west-1.amazonaws.com/"
        );
        assert_eq!(
            default_endpoint("cn-north-1"),
            "https://sns.cn-north-1.amazonaws.com.cn/"
        );
    }
}
