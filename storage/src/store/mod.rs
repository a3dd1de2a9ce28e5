//! [`Store`]: the chain, its state and its indexes, over any [`Engine`].
//!
//! One type in several phases, one file per phase: [`open`] creates or opens a database and
//! recovers the state (replaying from genesis when the stored state does not check out);
//! [`commit`] executes a finalized block and writes it in one atomic, flushed batch;
//! [`query`] reads blocks, transactions, accounts and history; [`verify`] replays the chain
//! and compares it with what is stored (`povd replay`); [`effects`] recomputes a past
//! block's events (they are not stored); [`evidence`] keeps proofs of
//! misbehaviour; [`types`] holds what they return.

mod commit;
mod effects;
mod evidence;
mod open;
mod past;
mod query;
mod snapshot;
mod types;
mod verify;

use std::sync::Arc;

use pov_crypto::Hash;
use pov_protocol::block::ValidatorSet;
use pov_protocol::genesis::Genesis;
use pov_protocol::State;

use crate::engine::Engine;
use crate::marker::Marker;
use crate::schema::Head;
use crate::state_io::Persisted;

pub use past::Rebuild;
pub use snapshot::Snapshot;
pub use types::{
    Account, CommitReceipt, CommitTimings, ContributionInfo, ExecutedBlock, HistoryEntry,
    HistoryQuery, OpenOptions, OpenReport, Position, StoreStatus, TxInfo, Verification,
};
pub use verify::verify_dir;

/// A node's chain on disk: finalized blocks with their certificates, the current state,
/// and the indexes the API needs, kept consistent by committing each block in one atomic,
/// flushed write.
///
/// The store owns the in-memory [`State`] at the head; reads of blocks and history go to
/// the engine. One writer: [`Store::commit`] takes `&mut self` (a node wraps the store in
/// a lock).
pub struct Store {
    /// Shared with every [`Snapshot`], which reads finalized blocks and history without the
    /// store.
    engine: Arc<dyn Engine>,
    genesis: Arc<Genesis>,
    validators: Arc<ValidatorSet>,
    genesis_root: Hash,
    /// Replaced, never changed in place, by a commit: a [`Snapshot`] shares it at no cost.
    state: Arc<State>,
    head: Option<Head>,
    persisted: Persisted,
    marker: Option<Marker>,
    poisoned: Option<String>,
    opened: OpenReport,
    /// Blocks between state checkpoints (see [`past`]).
    checkpoint_interval: u64,
    /// Transactions between state checkpoints (see [`effects`]).
    checkpoint_txs: u64,
    /// Transactions committed since the last checkpoint this process wrote (`None` until
    /// it wrote one: the first block after opening writes one).
    txs_since_checkpoint: Option<u64>,
    /// Events of the last blocks committed or recomputed (shared with snapshots, which
    /// recompute too).
    recent: Arc<effects::Recent>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("engine", &self.engine.name())
            .field("location", &self.engine.location())
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}
