//! The state after a past block, rebuilt with bounded work (reputation proofs of past
//! heights, spec section 10).
//!
//! The store keeps only the head's state. Every `checkpoint_interval` blocks
//! ([`CHECKPOINT_INTERVAL`], 1,000, by default), and whenever `checkpoint_txs` transactions
//! were committed since the last one (20,000 by default, for recomputing events: see
//! `effects.rs`), the commit also writes the whole state (`chain: k ‖ height`), so the state
//! after block `h` is the nearest checkpoint at or below `h` (or the genesis state) with
//! fewer than `checkpoint_interval` finalized blocks replayed on it. [`Snapshot::rebuild`]
//! reads what that needs (one checkpoint, at most 999 blocks by default) and
//! [`Rebuild::run`] replays them, both without the store: a node takes the [`Snapshot`]
//! under a short lock and does the rest off it, so a commit never waits for a past state to
//! be read or replayed.
//!
//! A checkpoint costs one state's bytes per `checkpoint_interval` blocks on disk. Each
//! replayed block's state root is checked against its header, so a damaged checkpoint or
//! block is reported, never served.

use pov_protocol::block::{Block, Parent, ValidatorSet};
use pov_protocol::{codec, State};

use super::{Snapshot, Store};
use crate::engine::{Scan, Tree};
use crate::error::StoreError;
#[cfg(doc)]
use crate::schema::CHECKPOINT_INTERVAL;
use crate::schema::{self};

/// What rebuilding the state after a past block takes: a base state and the finalized
/// blocks after it. Holds no reference to the store.
#[derive(Debug, Clone)]
pub struct Rebuild {
    /// The state the blocks apply to (a checkpoint, or the genesis state).
    pub base: State,
    /// What the first block builds on.
    pub parent: Parent,
    /// The blocks to replay, in order (fewer than the checkpoint interval).
    pub blocks: Vec<Block>,
    /// The validator set (headers commit to its hash).
    pub validators: ValidatorSet,
    /// The height the result is at.
    pub height: u64,
    /// The state root the result must have (its header's, or the genesis state's).
    pub root: pov_crypto::Hash,
}

impl Rebuild {
    /// Replays the blocks on the base state. Their transactions' signatures are not checked
    /// again (the blocks are final: their certificates were checked when committed); every
    /// block's header and state root are, and the result's root against the block at
    /// `height` (so a damaged checkpoint is reported even when nothing is replayed).
    pub fn run(self) -> Result<State, StoreError> {
        let mut state = self.base;
        let mut parent = self.parent;
        for block in &self.blocks {
            state
                .apply_block(block, &parent, &self.validators, &|_| true)
                .map_err(|e| StoreError::PastState {
                    height: self.height,
                    reason: format!("replaying block {} failed: {e}", block.header.height),
                })?;
            parent = Parent {
                height: block.header.height,
                hash: block.hash(),
                time_ms: block.header.time_ms,
            };
        }
        let root = state.state_root();
        if root != self.root || state.height() != self.height {
            return Err(StoreError::PastState {
                height: self.height,
                reason: format!(
                    "the rebuilt state (height {}, root {root}) is not the one block {} commits to ({}); the checkpoint may be damaged",
                    state.height(),
                    self.height,
                    self.root
                ),
            });
        }
        Ok(state)
    }
}

impl Snapshot {
    /// The nearest checkpoint at or below `height`: its height and bytes.
    fn checkpoint_at_or_below(&self, height: u64) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let start = schema::chain::checkpoint(0);
        let end = schema::chain::checkpoint(height.saturating_add(1));
        let found = self.engine.scan(Scan {
            tree: Tree::Chain,
            start: &start,
            end: Some(&end),
            reverse: true,
            limit: 1,
        })?;
        Ok(found
            .into_iter()
            .next()
            .map(|(key, bytes)| (schema::history::height(&key).unwrap_or(0), bytes)))
    }

    /// The height of the nearest checkpoint at or below `height` (0: the genesis state).
    pub(crate) fn checkpoint_height(&self, height: u64) -> Result<u64, StoreError> {
        Ok(self.checkpoint_at_or_below(height)?.map_or(0, |(at, _)| at))
    }

    /// What rebuilding the state after block `height` takes (see the module docs), read
    /// without the store: a node calls it off its lock on the store. A height above the
    /// snapshot's head is refused as not final.
    pub fn rebuild(&self, height: u64) -> Result<Rebuild, StoreError> {
        let unavailable = |reason: String| StoreError::PastState { height, reason };
        if height > self.height() {
            return Err(unavailable(format!(
                "it is above the last final block ({})",
                self.height()
            )));
        }
        let engine = self.engine.as_ref();
        let (base, base_height) = match self.checkpoint_at_or_below(height)? {
            Some((at, bytes)) => {
                let state: State = codec::decode_canonical(&bytes).map_err(|e| {
                    StoreError::corrupt(
                        &engine.location(),
                        format!("the state checkpoint at height {at} does not decode: {e}"),
                    )
                })?;
                (state, at)
            }
            None => (self.genesis.state()?, 0),
        };
        let gap = height - base_height;
        if gap >= self.checkpoint_interval {
            return Err(unavailable(format!(
                "the nearest state checkpoint is at height {base_height}, and replaying {gap} blocks is more than the {} allowed (no checkpoint was written in between)",
                self.checkpoint_interval - 1
            )));
        }
        let parent = if base_height == 0 {
            self.genesis.parent()
        } else {
            let header = self.header(base_height)?.ok_or_else(|| {
                StoreError::corrupt(
                    &engine.location(),
                    format!("the header of block {base_height} is missing below the head"),
                )
            })?;
            Parent {
                height: base_height,
                hash: header.hash(),
                time_ms: header.time_ms,
            }
        };
        let root = if height == 0 {
            self.genesis_root
        } else {
            self.header(height)?
                .ok_or_else(|| {
                    StoreError::corrupt(
                        &engine.location(),
                        format!("the header of block {height} is missing below the head"),
                    )
                })?
                .state_root
        };
        let blocks = if gap == 0 {
            Vec::new()
        } else {
            self.blocks(base_height + 1..=height, gap as usize)?
                .into_iter()
                .map(|b| b.block)
                .collect()
        };
        Ok(Rebuild {
            base,
            parent,
            blocks,
            validators: ValidatorSet::clone(&self.validators),
            height,
            root,
        })
    }
}

impl Store {
    /// What rebuilding the state after block `height` takes: [`Snapshot::rebuild`] of the
    /// current head. At the head the result is [`Store::state`] again.
    pub fn rebuild(&self, height: u64) -> Result<Rebuild, StoreError> {
        self.snapshot().rebuild(height)
    }
}
