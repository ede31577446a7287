//! Watchfire's embedded time-series database.
//!
//! The layout follows Prometheus' TSDB, whose design has proven itself:
//!
//! * **Head** ([`Head`]): recent data in memory. Appends go through a transactional
//!   [`HeadAppender`]; each series keeps one open compressed chunk, and full chunks
//!   are written to memory-mapped files so the heap holds only what is active.
//! * **WAL**: every commit is logged (series definitions, sample batches) before it
//!   becomes visible; fsync is batched. On open the WAL is repaired if its tail is
//!   torn and replayed into the head. Old segments are folded into checkpoints.
//! * **Blocks**: once the head spans 1.5 block ranges (2h by default) its oldest
//!   range is written as an immutable block with an inverted index; small blocks are
//!   merged into larger ones; retention deletes whole blocks by age or total size.
//! * **Queriers** merge blocks and head into one label-sorted stream of series
//!   whose samples are decoded lazily, chunk by chunk.
//!
//! [`Db`] ties these together on a data directory and implements the
//! `watchfire-storage` traits, which is all the rest of Watchfire sees.
#![deny(missing_docs)]

mod backfill;
mod block_query;
mod compact;
mod db;
mod error;
mod head;
mod iter;
mod options;
mod records;
mod stats;

pub use backfill::{ImportReport, import_openmetrics};
pub use db::{Db, DbCounters, OpenReport};
pub use error::{Result, TsdbError};
pub use head::{Head, HeadAppender, HeadCounters};
pub use options::{DEFAULT_BLOCK_RANGE_MS, Options};
