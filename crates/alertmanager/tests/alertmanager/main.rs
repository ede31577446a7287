#![allow(clippy::unwrap_used, missing_docs)]

mod amtool;
mod api;
mod common;
mod extensions;
mod intervals;
mod peer;
mod state;
mod timing;
