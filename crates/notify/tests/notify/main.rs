//! Integration tests: every notifier against a capturing HTTP (or SMTP) server
//! on 127.0.0.1, checking the request Alertmanager would have sent.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;
mod email;
mod http_integrations;
mod jira;
mod kinds_config;
mod more_integrations;
mod oauth2;
mod retry;
mod webhook;
mod wechat_sns;
