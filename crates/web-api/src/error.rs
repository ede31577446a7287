//! The API's error type, with Prometheus' error types and status codes.

use crate::json::Obj;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use watchfire_promql::QueryError;

/// Why a request failed. Each variant is one of Prometheus' `errorType`s; the
/// message is the `error` field of the response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// `bad_data` (400): a malformed parameter or query.
    #[error("{0}")]
    BadData(String),
    /// `execution` (422): the query failed while running.
    #[error("{0}")]
    Execution(String),
    /// `timeout` (503): the query ran past its timeout.
    #[error("{0}")]
    Timeout(String),
    /// `canceled` (499): the client went away.
    #[error("{0}")]
    Canceled(String),
    /// `internal` (500): storage or server failure.
    #[error("{0}")]
    Internal(String),
    /// `unavailable` (500, as Prometheus answers it): not ready.
    #[error("{0}")]
    Unavailable(String),
    /// `not_found` (404).
    #[error("{0}")]
    NotFound(String),
}

impl ApiError {
    /// `invalid parameter "<name>": <why>`, a `bad_data` error.
    pub fn invalid_param(name: &str, why: impl std::fmt::Display) -> Self {
        ApiError::BadData(format!("invalid parameter \"{name}\": {why}"))
    }

    /// The `errorType` field.
    pub fn error_type(&self) -> &'static str {
        match self {
            ApiError::BadData(_) => "bad_data",
            ApiError::Execution(_) => "execution",
            ApiError::Timeout(_) => "timeout",
            ApiError::Canceled(_) => "canceled",
            ApiError::Internal(_) => "internal",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::NotFound(_) => "not_found",
        }
    }

    /// The HTTP status Prometheus answers this error type with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadData(_) => StatusCode::BAD_REQUEST,
            ApiError::Execution(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            // Prometheus' "client closed connection".
            ApiError::Canceled(_) => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            ApiError::Internal(_) | ApiError::Unavailable(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        }
    }

    /// An evaluation error, classified as Prometheus classifies engine errors.
    pub fn from_query(e: QueryError) -> Self {
        match e {
            QueryError::Parse { .. } => ApiError::BadData(e.to_string()),
            QueryError::Timeout(_) => ApiError::Timeout(e.to_string()),
            QueryError::Storage(_) => ApiError::Internal(e.to_string()),
            QueryError::Execution(_)
            | QueryError::TooManySamples(_)
            | QueryError::Unsupported(_) => ApiError::Execution(e.to_string()),
        }
    }

    /// The response body: `{"status":"error","errorType":...,"error":...}`.
    pub fn body(&self) -> String {
        let mut out = String::new();
        let mut o = Obj::new(&mut out);
        o.str("status", "error")
            .str("errorType", self.error_type())
            .str("error", &self.to_string());
        o.end();
        out
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response()
    }
}

pub use watchfire_model::go_quote;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_body() {
        let e = ApiError::invalid_param("step", "cannot parse \"x\" to a valid duration");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            e.body(),
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"step\": cannot parse \"x\" to a valid duration"}"#
        );
        assert_eq!(ApiError::Execution(String::new()).status().as_u16(), 422);
        assert_eq!(ApiError::Timeout(String::new()).status().as_u16(), 503);
        assert_eq!(ApiError::Canceled(String::new()).status().as_u16(), 499);
        assert_eq!(ApiError::Internal(String::new()).status().as_u16(), 500);
        let t = ApiError::from_query(QueryError::Timeout("expression evaluation".into()));
        assert_eq!(t.error_type(), "timeout");
        assert_eq!(t.to_string(), "query timed out in expression evaluation");
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("x"), "\"x\"");
        assert_eq!(go_quote("a\"b\\\n\u{1}é"), "\"a\\\"b\\\\\\n\\x01é\"");
    }
}
