//! Integration tests for watchfire-template. Expected strings come from
//! Prometheus' `template/template_test.go`, Alertmanager's
//! `template/template_test.go` and Go's `fmt`/`time` documentation (Go is not
//! installed here); each case cites its source.
#![allow(clippy::unwrap_used, missing_docs)]

mod errors;
mod format;
mod notify;
mod rule;
