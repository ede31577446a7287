//! The demo's small chat protocol: JSON text frames.
//!
//! A client sends `{"type":"chat","id":7,"text":"hi"}` (optionally with `"work_ms"`
//! to ask for extra simulated processing time) or `{"type":"ping","id":8}`; the
//! server answers each with the same `id` (`chat` is echoed, `ping` becomes `pong`).
//! A text frame that does not start with `{` is treated as a chat message, so the
//! service can be poked with any WebSocket client. Malformed JSON or an unknown type
//! gets an `error` reply and counts in `app_errors_total{type="invalid_message"}`.

use serde::{Deserialize, Serialize};

/// The most extra processing time a client may request per message.
pub const MAX_WORK_MS: u64 = 5_000;

/// A message from a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientMessage {
    /// Echoed back after the simulated processing time.
    Chat {
        /// Correlates the reply; chosen by the client.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        /// Free text.
        #[serde(default)]
        text: String,
        /// Extra simulated work in milliseconds, capped at [`MAX_WORK_MS`].
        #[serde(default, skip_serializing_if = "is_zero")]
        work_ms: u64,
    },
    /// Application-level heartbeat; answered with `pong` without simulated work.
    Ping {
        /// Correlates the reply.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
    },
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMessage {
    /// Sent once right after the connection opens.
    Welcome {
        /// The instance's deployment color.
        deployment: String,
        /// A per-instance connection number.
        connection: u64,
    },
    /// The echo of a `chat` message.
    Chat {
        /// The request's id.
        id: Option<u64>,
        /// The request's text.
        text: String,
        /// The instance that processed it.
        deployment: String,
        /// How long processing took, in milliseconds.
        processing_ms: f64,
    },
    /// The answer to a `ping`.
    Pong {
        /// The request's id.
        id: Option<u64>,
        /// The instance that answered.
        deployment: String,
    },
    /// The request could not be processed.
    Error {
        /// The request's id when it could be read.
        id: Option<u64>,
        /// What was wrong.
        error: String,
    },
}

/// Reads a client text frame; plain text (not starting with `{`) is a chat message.
pub fn parse_client_text(text: &str) -> Result<ClientMessage, String> {
    if !text.trim_start().starts_with('{') {
        return Ok(ClientMessage::Chat {
            id: None,
            text: text.to_owned(),
            work_ms: 0,
        });
    }
    serde_json::from_str(text).map_err(|e| format!("invalid message: {e}"))
}

/// Best-effort `id` of a message that failed to parse, so the error can be correlated.
pub(crate) fn salvage_id(text: &str) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()?
        .get("id")?
        .as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_json_and_plain_text() {
        assert_eq!(
            parse_client_text(r#"{"type":"chat","id":3,"text":"hi","work_ms":20}"#),
            Ok(ClientMessage::Chat {
                id: Some(3),
                text: "hi".into(),
                work_ms: 20
            })
        );
        assert_eq!(
            parse_client_text(r#"{"type":"ping"}"#),
            Ok(ClientMessage::Ping { id: None })
        );
        assert_eq!(
            parse_client_text("hello there"),
            Ok(ClientMessage::Chat {
                id: None,
                text: "hello there".into(),
                work_ms: 0
            })
        );
        assert!(parse_client_text(r#"{"type":"shout","id":4}"#).is_err());
        assert!(parse_client_text("{nope").is_err());
        assert_eq!(salvage_id(r#"{"type":"shout","id":4}"#), Some(4));
    }

    #[test]
    fn server_messages_are_tagged() {
        let json = serde_json::to_string(&ServerMessage::Pong {
            id: Some(1),
            deployment: "green".into(),
        })
        .unwrap();
        assert_eq!(json, r#"{"type":"pong","id":1,"deployment":"green"}"#);
    }
}
