//! Tool subcommands.

pub mod selector;
pub mod test;
pub mod tsdb;
