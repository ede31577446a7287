#![allow(clippy::unwrap_used, missing_docs)]

mod amtool;
mod api;
mod common;
mod peer;
mod state;
mod timing;
