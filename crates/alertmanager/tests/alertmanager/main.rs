#![allow(clippy::unwrap_used, missing_docs)]

mod amtool;
mod api;
mod common;
mod state;
mod timing;
