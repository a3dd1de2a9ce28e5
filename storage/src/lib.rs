//! The chain and its state on disk, crash-safe and replayable from genesis.
//!
//! A node keeps its whole chain here so that it restarts where it stopped and nothing final
//! is ever lost:
//!
//! - [`Store::commit`] takes a finalized block and its certificate, checks and executes
//!   it, and writes the block, the certificate, the transactions with their events, the
//!   history indexes, the changed state entries and the new head in **one atomic batch**,
//!   then **flushes** it. Only then does it return a [`CommitReceipt`]: a block is reported
//!   final only once it survives a crash.
//! - [`Store::open`] checks that the stored state's root equals the root in the head block;
//!   if not (or when asked to verify), it rebuilds the state by replaying every block from
//!   genesis, and logs why.
//! - Queries the node and the CLI need read indexes, never a scan of the chain: blocks by
//!   height, hash or range, transactions by hash, a member's account and history, a
//!   contribution with its evaluations.
//!
//! sled 0.34.7 is used behind a small engine interface (`engine::Engine`), with an in-memory
//! implementation beside it, so that the store's logic can move to another engine in this
//! crate alone. `docs/storage.md` describes the layout, the guarantees, the crash tests,
//! the benchmark figures and what is known about sled.

// The engine interface and the key layout are this crate's own business: only tests that
// damage a database on purpose, or inject a failing engine, reach into them (through the
// `test-utils` feature).
#[cfg(any(test, feature = "test-utils"))]
pub mod engine;
#[cfg(not(any(test, feature = "test-utils")))]
mod engine;
mod error;
mod marker;
mod read;
mod replay;
#[cfg(any(test, feature = "test-utils"))]
pub mod schema;
#[cfg(not(any(test, feature = "test-utils")))]
mod schema;
mod state_io;
mod store;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use engine::SledOptions;
pub use error::StoreError;
pub use read::StoredBlock;
pub use replay::{ReplayOptions, ReplayReport};
pub use schema::{Action, ContributionActivity, Head, MemberActivity, START_LINES};
pub use store::{
    verify_dir, Account, CommitReceipt, CommitTimings, ContributionInfo, ExecutedBlock,
    HistoryEntry, HistoryQuery, OpenOptions, OpenReport, Position, Rebuild, Snapshot, Store,
    StoreStatus, TxInfo, Verification,
};
