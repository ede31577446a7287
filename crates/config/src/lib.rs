//! `prometheus.yml` as Prometheus 3.x reads it.
//!
//! [`Config::load_file`] parses the YAML (serde-saphyr, `deny_unknown_fields`
//! everywhere, so a misspelt key is an error), fills Prometheus' defaults, applies the
//! same validation rules Prometheus does and resolves relative file names against the
//! configuration file's directory. Errors read `file:line:column: field.path: message`.
//!
//! Design notes:
//! - Errors found while deserialising get their position from serde-saphyr and their
//!   field path from `serde_path_to_error`. Checks that need the whole document
//!   (duplicate job names, timeouts inherited from `global`) run afterwards on plain
//!   structs; they name the field path and the `locate` module finds it in the source
//!   by walking the YAML events, so the public types carry no span noise.
//! - Prometheus inlines HTTP client fields into several sections; serde cannot combine
//!   `flatten` with `deny_unknown_fields`, so a macro appends those fields to each
//!   struct and [`HttpClientConfig`] assembles them. The fields, their validation and
//!   path resolution are defined once in `watchfire-common-config` and shared with
//!   `alertmanager.yml`'s `http_config`.
//! - Service discovery kinds Watchfire does not run (Kubernetes, Consul, EC2, DNS, ...)
//!   are kept as opaque values, checked in the few ways that are cheap, and reported
//!   in [`Config::warnings`].
//! - Secrets are [`Secret`]s: they print and serialise as `<secret>`, which is what
//!   [`Config::to_yaml_redacted`] relies on for `/api/v1/status/config`.
#![deny(missing_docs)]

mod alerting;
mod check;
mod config;
mod error;
mod global;
mod http;
mod locate;
mod parse;
mod paths;
mod remote;
mod scrape;
mod sd;
mod types;

pub use alerting::{AlertingConfig, AlertmanagerConfig};
pub use check::check_config_command;
pub use config::Config;
pub use error::{ConfigError, Located};
pub use global::GlobalConfig;
pub use http::{Authorization, BasicAuth, HttpClientConfig, HttpHeader, OAuth2, TlsConfig};
pub use remote::{MetadataConfig, QueueConfig, RemoteReadConfig, RemoteWriteConfig};
pub use scrape::{SCRAPE_PROTOCOLS, ScrapeConfig, check_target_address};
pub use sd::{FileSdConfig, Opaque, StaticConfig, TargetGroup, load_file_sd, static_target_groups};
pub use types::{ByteSize, Duration, Secret, ValidationScheme};
