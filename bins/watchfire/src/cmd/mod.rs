//! Tool subcommands.

pub mod check;
pub mod selector;
pub mod test;
pub mod tsdb;
