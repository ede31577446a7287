//! Tool subcommands.

pub mod selector;
pub mod tsdb;
