//! [`Snapshot`]: the store as of one head, read without the store itself.
//!
//! A node keeps its [`Store`] behind a lock that every commit takes for writing. Whatever
//! reads under that lock delays the next commit, so reads that may be long (a member's
//! history, whose balance changes are recomputed by replaying blocks; up to 999 blocks for a
//! past state; the state for a reputation proof) take a snapshot under a short lock and
//! read from it after the lock is released. The store's own reads of history, transactions
//! and past states are those of a snapshot of its head.
//!
//! A snapshot costs a few reference counts: it shares the store's engine and its head state
//! (a commit replaces the state rather than changing it, so the snapshot's stays as it
//! was). It reads only what is final at its head: blocks, headers, checkpoints and history
//! records at or below its height, which are written once, in the block's own batch, and
//! never change. Commits that land meanwhile add heights above it, which it does not see.

use std::ops::RangeInclusive;
use std::sync::Arc;

use pov_crypto::Hash;
use pov_protocol::block::{BlockHeader, ValidatorSet};
use pov_protocol::genesis::Genesis;
use pov_protocol::State;

use super::effects::Recent;
use super::Store;
use crate::engine::Engine;
use crate::error::StoreError;
use crate::read::{self, StoredBlock};
use crate::schema::Head;

/// The store as of one head: its state and read access to everything final at or below it,
/// without the store (see the module docs).
#[derive(Clone)]
pub struct Snapshot {
    pub(super) engine: Arc<dyn Engine>,
    pub(super) genesis: Arc<Genesis>,
    pub(super) validators: Arc<ValidatorSet>,
    pub(super) genesis_root: Hash,
    pub(super) checkpoint_interval: u64,
    pub(super) recent: Arc<Recent>,
    head: Option<Head>,
    state: Arc<State>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("engine", &self.engine.name())
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The store as of its current head, for reads that must not hold the caller's lock on
    /// the store (see [`Snapshot`]). Cheap: nothing is copied.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            engine: self.engine.clone(),
            genesis: self.genesis.clone(),
            validators: self.validators.clone(),
            genesis_root: self.genesis_root,
            checkpoint_interval: self.checkpoint_interval,
            recent: self.recent.clone(),
            head: self.head,
            state: self.state.clone(),
        }
    }
}

impl Snapshot {
    /// The height of its head (0 at genesis).
    pub fn height(&self) -> u64 {
        self.head.map_or(0, |h| h.height)
    }

    /// Its head, or `None` at genesis.
    pub fn head(&self) -> Option<Head> {
        self.head
    }

    /// The state at its head, shared with the store that made it (not a copy).
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// The block at `height` with its certificate; `None` above the snapshot's head.
    pub fn block(&self, height: u64) -> Result<Option<StoredBlock>, StoreError> {
        if height > self.height() {
            return Ok(None);
        }
        read::block(self.engine.as_ref(), height)
    }

    /// The blocks whose heights are in `heights` (cut at the snapshot's head), in order, at
    /// most `limit` of them.
    pub fn blocks(
        &self,
        heights: RangeInclusive<u64>,
        limit: usize,
    ) -> Result<Vec<StoredBlock>, StoreError> {
        let (from, to) = (*heights.start(), (*heights.end()).min(self.height()));
        let mut out = Vec::new();
        let mut h = from.max(1);
        while h <= to && out.len() < limit {
            match read::block(self.engine.as_ref(), h)? {
                Some(b) => out.push(b),
                None => {
                    return Err(StoreError::corrupt(
                        &self.engine.location(),
                        format!("block {h} is missing below the head"),
                    ))
                }
            }
            h += 1;
        }
        Ok(out)
    }

    /// The genesis's validator set.
    pub fn validators(&self) -> &ValidatorSet {
        &self.validators
    }

    /// The header at `height`; `None` above the snapshot's head.
    pub fn header(&self, height: u64) -> Result<Option<BlockHeader>, StoreError> {
        if height > self.height() {
            return Ok(None);
        }
        read::header(self.engine.as_ref(), height)
    }
}
