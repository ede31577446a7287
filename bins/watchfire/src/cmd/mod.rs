//! Tool subcommands.

pub mod backtest;
pub mod check;
pub mod selector;
pub mod test;
pub mod tsdb;
