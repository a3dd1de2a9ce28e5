//! The sync client: a node that is behind (it started late, was down, or decided a block it
//! never received) asks one peer at a time for its height, then for the next batch of
//! finalized blocks with their certificates, commits them, and re-enters consensus at the
//! new height.
//!
//! One round is two requests (status, then blocks); at most one round is in flight. Peers
//! are asked in turn, so one that does not answer costs one round.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::atomic::Ordering;

use pov_protocol::block::{Block, Certificate};

use super::{Host, NodeError, Output};
use crate::shared::{read, write};
use crate::wire::{SyncRequest, SyncResponse, MAX_SYNC_BATCH};

/// How long a sync request or block fetch may go unanswered before the client gives up on
/// it and asks the next peer. The network's own request timeout is 30 s: with one request
/// in flight, each lost request or silent peer would keep a lagging node behind that long
/// (the simulation found a height that could not finish for a minute).
pub const SYNC_REQUEST_TIMEOUT_MS: u64 = 5_000;

/// Which request of a sync round is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// "What is your height?"
    Status,
    /// Blocks `from..=to`, towards the peer's height.
    Blocks {
        /// The height the peer reported.
        peer_height: u64,
        /// The first height asked for.
        from: u64,
        /// The last height asked for.
        to: u64,
    },
}

/// The sync client's state.
#[derive(Debug)]
pub(super) struct SyncClient<P> {
    /// The block fetch in flight (by hash): whom it asked, for what.
    fetching: Option<(P, pov_crypto::Hash)>,
    /// Which peer to ask next for a block.
    next_fetch_peer: usize,
    /// Connected peers of this chain, in a stable order.
    pub(super) peers: BTreeSet<P>,
    /// The round in flight: whom it asked, and for what.
    in_flight: Option<(P, Stage)>,
    /// Which peer to ask next (round robin).
    next_peer: usize,
    /// The height of the last peer that was ahead, while this node is behind.
    pub(super) target: Option<u64>,
    /// When the request in flight (`in_flight`) and the fetch in flight (`fetching`) were
    /// sent.
    in_flight_since_ms: u64,
    fetching_since_ms: u64,
}

impl<P> Default for SyncClient<P> {
    fn default() -> Self {
        SyncClient {
            fetching: None,
            next_fetch_peer: 0,
            peers: BTreeSet::new(),
            in_flight: None,
            next_peer: 0,
            target: None,
            in_flight_since_ms: 0,
            fetching_since_ms: 0,
        }
    }
}

impl<P: Clone + Ord + Debug> Host<P> {
    /// Gives up on a sync request or block fetch that went unanswered for
    /// [`SYNC_REQUEST_TIMEOUT_MS`], so that the next poll asks the next peer. A late answer
    /// to it is then ignored (it no longer matches what is in flight).
    pub(super) fn expire_sync_requests(&mut self) {
        let now = self.now_ms;
        if self.sync.in_flight.is_some()
            && now.saturating_sub(self.sync.in_flight_since_ms) >= SYNC_REQUEST_TIMEOUT_MS
        {
            tracing::debug!(in_flight = ?self.sync.in_flight, "sync request unanswered; asking the next peer");
            self.sync.in_flight = None;
        }
        if self.sync.fetching.is_some()
            && now.saturating_sub(self.sync.fetching_since_ms) >= SYNC_REQUEST_TIMEOUT_MS
        {
            tracing::debug!(fetching = ?self.sync.fetching, "block fetch unanswered; asking the next peer");
            self.sync.fetching = None;
        }
    }

    /// Starts a sync round with the next peer, unless one is running.
    pub(super) fn start_sync(&mut self) {
        if self.sync.in_flight.is_some() || self.sync.peers.is_empty() {
            return;
        }
        let index = self.sync.next_peer % self.sync.peers.len();
        let Some(peer) = self.sync.peers.iter().nth(index).cloned() else {
            return;
        };
        self.sync.next_peer = self.sync.next_peer.wrapping_add(1);
        self.sync.in_flight = Some((peer.clone(), Stage::Status));
        self.sync.in_flight_since_ms = self.now_ms;
        self.out.push(Output::Request {
            peer,
            request: SyncRequest::Status,
        });
    }

    /// Asks for a block by hash (the engine needs a block this node does not have).
    pub(super) fn want_block(&mut self, hash: pov_crypto::Hash) {
        if self.blocks.get(&hash).is_none() {
            self.blocks.wanted.insert(hash);
            self.start_fetch();
        }
    }

    /// Asks the next peer for a wanted block, unless a fetch is in flight.
    pub(super) fn start_fetch(&mut self) {
        if self.sync.fetching.is_some() || self.sync.peers.is_empty() {
            return;
        }
        let Some(hash) = self.blocks.wanted.first().copied() else {
            return;
        };
        let index = self.sync.next_fetch_peer % self.sync.peers.len();
        let Some(peer) = self.sync.peers.iter().nth(index).cloned() else {
            return;
        };
        self.sync.next_fetch_peer = self.sync.next_fetch_peer.wrapping_add(1);
        self.sync.fetching = Some((peer.clone(), hash));
        self.sync.fetching_since_ms = self.now_ms;
        self.out.push(Output::Request {
            peer,
            request: SyncRequest::Block { hash },
        });
    }

    /// A peer's answer to a block fetch: the block (checked against its hash), or nothing,
    /// and the next peer is asked at the next poll.
    pub(super) fn on_fetch_reply(
        &mut self,
        peer: P,
        hash: pov_crypto::Hash,
        response: Option<SyncResponse>,
    ) -> Result<(), NodeError> {
        if self.sync.fetching.as_ref() == Some(&(peer, hash)) {
            self.sync.fetching = None;
        }
        match response {
            Some(SyncResponse::Block(Some(block))) if block.hash() == hash => {
                tracing::info!(%hash, height = block.header.height, "fetched a block by hash");
                self.on_block_fetched(*block)
            }
            _ => Ok(()),
        }
    }

    /// A peer's answer to a sync request (`None`: the request failed).
    pub(super) fn on_sync_reply(
        &mut self,
        peer: P,
        response: Option<SyncResponse>,
    ) -> Result<(), NodeError> {
        let Some((asked, stage)) = self.sync.in_flight.take() else {
            return Ok(());
        };
        if asked != peer {
            // Not the round in flight: keep waiting.
            self.sync.in_flight = Some((asked, stage));
            return Ok(());
        }
        let ours = read(&self.shared.store).height();
        match (stage, response) {
            (Stage::Status, Some(SyncResponse::Status { genesis, height })) => {
                if genesis != self.shared.genesis_hash {
                    // It passed the chain check with our genesis, and now names another.
                    self.ban(
                        peer,
                        format!("sync status names another genesis ({genesis})"),
                    );
                    return Ok(());
                }
                if height <= ours {
                    return self.apply_synced(&peer, height, Vec::new());
                }
                let (from, to) = (ours + 1, height.min(ours + MAX_SYNC_BATCH));
                self.sync.in_flight = Some((
                    peer.clone(),
                    Stage::Blocks {
                        peer_height: height,
                        from,
                        to,
                    },
                ));
                self.sync.in_flight_since_ms = self.now_ms;
                self.out.push(Output::Request {
                    peer,
                    request: SyncRequest::Blocks { from, to },
                });
                Ok(())
            }
            (
                Stage::Blocks {
                    peer_height,
                    from,
                    to,
                },
                Some(SyncResponse::Blocks(blocks)),
            ) => {
                // Exactly the heights asked for, in order (a prefix of them: the answer may
                // stop early). Anything else is refused whole, before any block is looked at:
                // a reply stuffed with heights we hold would otherwise cost a store read each.
                let wanted = to.saturating_sub(from).saturating_add(1);
                let in_order = blocks
                    .iter()
                    .zip(from..)
                    .all(|((block, _), height)| block.header.height == height);
                if blocks.len() as u64 > wanted || !in_order {
                    let heights: Vec<u64> = blocks
                        .iter()
                        .take(4)
                        .map(|(b, _)| b.header.height)
                        .collect();
                    self.ban(
                        peer,
                        format!(
                            "sync answer of {} blocks starting at heights {heights:?}, for {from}..={to}",
                            blocks.len()
                        ),
                    );
                    return Ok(());
                }
                self.apply_synced(&peer, peer_height, blocks)
            }
            // A failed request ends the round; the next one asks another peer.
            (_, None) | (_, Some(SyncResponse::Error(_))) => Ok(()),
            // An answer of the wrong kind: no honest node sends one.
            (stage, Some(_)) => {
                self.ban(peer, format!("sync answer of the wrong kind for {stage:?}"));
                Ok(())
            }
        }
    }

    /// Asks the driver to ban `peer`.
    fn ban(&mut self, peer: P, reason: String) {
        tracing::warn!(?peer, %reason, "banning a peer");
        self.out.push(Output::Ban { peer, reason });
    }

    /// Commits synced blocks in order (stopping at the first that does not verify), then
    /// syncs on while behind, or re-enters consensus at the new height.
    fn apply_synced(
        &mut self,
        peer: &P,
        peer_height: u64,
        blocks: Vec<(Block, Certificate)>,
    ) -> Result<(), NodeError> {
        let mut applied = 0u64;
        // The signatures of the whole batch first, over all cores (each checked once).
        let checked = {
            let height = read(&self.shared.store).height();
            let txs: Vec<(&pov_protocol::Transaction, pov_crypto::Hash)> = blocks
                .iter()
                .filter(|(b, _)| b.header.height > height)
                .flat_map(|(b, _)| &b.txs)
                .map(|tx| (tx, tx.hash()))
                .filter(|(_, hash)| !self.shared.verified.contains(hash))
                .collect();
            crate::verified::verify_in_parallel(&txs, &self.shared.genesis_hash)
        };
        for (block, certificate) in &blocks {
            let result = {
                let mut store = write(&self.shared.store);
                if block.header.height <= store.height() {
                    // A certified block where we already have one: if it differs, two
                    // certificates conflict, which only double signing can produce.
                    if let Ok(Some(ours)) = store.block(block.header.height) {
                        if ours.block.hash() != block.hash()
                            && certificate
                                .verify(store.validators(), block.header.height, &block.hash())
                                .is_ok()
                        {
                            self.shared.evidence.fetch_add(1, Ordering::Relaxed);
                            tracing::error!(
                                height = block.header.height,
                                ours = %ours.block.hash(),
                                theirs = %block.hash(),
                                "conflicting commit certificates at one height: validators double-signed"
                            );
                        }
                    }
                    continue;
                }
                if block.header.height != store.height() + 1 {
                    continue;
                }
                let verified = &self.shared.verified;
                store.commit_with(block, certificate, &|tx| {
                    let hash = tx.hash();
                    checked.contains(&hash) || verified.contains(&hash)
                })
            };
            match result {
                Ok(receipt) => {
                    applied += 1;
                    self.shared.metrics.committed(&receipt, true);
                    self.after_commit(block);
                    tracing::debug!(height = receipt.height, "synced block");
                }
                Err(
                    e @ (pov_storage::StoreError::Certificate { .. }
                    | pov_storage::StoreError::InvalidBlock { .. }),
                ) => {
                    tracing::warn!(error = %e, height = block.header.height, "peer sent a block that does not verify; dropping the rest");
                    self.ban(peer.clone(), format!("synced block does not verify: {e}"));
                    break;
                }
                // Anything else is this node's own storage failing: stop rather than run on.
                Err(e) => return Err(NodeError::Storage(e)),
            }
        }
        self.shared.metrics.sync_target(peer_height);
        let height = read(&self.shared.store).height();
        let behind = peer_height > height;
        self.shared.syncing.store(behind, Ordering::Relaxed);
        self.sync.target = behind.then_some(peer_height);
        if applied > 0 {
            tracing::info!(
                height,
                target = peer_height,
                "block sync: caught up to {height} of {peer_height}"
            );
            self.log.clear()?;
            self.blocks.keep_from(height + 1);
            self.blocks.awaiting = None;
        }
        if behind {
            self.start_sync();
        } else if applied > 0 || self.consensus.height() < height {
            // Caught up by sync: join consensus at once. (After a decision of our own, the
            // next height starts after `block_time_ms` instead, by its timer.)
            self.enter_height(height + 1)?;
        }
        Ok(())
    }
}
