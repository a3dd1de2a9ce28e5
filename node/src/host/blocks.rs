//! The block host: builds the block this node proposes, checks blocks others propose (the
//! engine's `valid(v)`), and commits decided blocks to the store.
//!
//! The engine only sees block hashes. The blocks themselves arrive with proposals (or are
//! built here) and are kept, with a verdict per block, until their height is final, so a
//! re-broadcast proposal is checked once and a decided block can be committed. A decision
//! whose block never arrived is *awaited*: the block comes by sync or with a later copy of
//! its proposal.
//!
//! This node's own proposals are logged with their block before they are sent. When the
//! engine proposes a block the host does not have (a restarted validator re-proposing the
//! value it is locked on, built by another validator), the proposal waits, unlogged and
//! unsent, while the block is fetched by hash from peers; it is logged and sent once the
//! block is here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use pov_consensus::{SignedProposal, Validity};
use pov_crypto::Hash;
use pov_protocol::block::{check_header, Block, Certificate};
use pov_protocol::{BlockEvent, Event, Rule, Transaction};
use pov_storage::ExecutedBlock;

use super::{Host, NodeError, Timer};
use crate::shared::{lock, read, write, NodeEvent};

/// How far in the future a proposed block's time may be (spec section 6: 5 s).
pub const MAX_CLOCK_DRIFT_MS: u64 = 5_000;
/// Most blocks kept per height (proposals of every round, from honest proposers only).
pub const MAX_BLOCKS_KEPT: usize = 64;
/// Most executions of valid blocks kept for their commit (each holds a copy of the state;
/// a height normally has one block, a failed round adds one).
pub const MAX_EXECUTED_KEPT: usize = 4;
/// How many rounds beyond the current one a proposal may be for and still be checked and
/// kept. A proposer names its round, so without a bound one validator could fill the kept
/// blocks with proposals for rounds far ahead (and make every node execute each); a proposal
/// for a later round is re-broadcast by its proposer every 2 s and is taken once its round
/// is near.
pub const MAX_ROUNDS_AHEAD: u32 = 2;

/// Blocks of the current and next height, with the verdicts on them.
#[derive(Debug, Default)]
pub(super) struct BlockHost {
    /// Blocks seen for the current and next height, by hash (proposals carry them).
    blocks: BTreeMap<Hash, Block>,
    /// Whether each of those blocks is valid, so a re-broadcast proposal is checked once.
    verdicts: BTreeMap<Hash, Validity>,
    /// The proposal kept at each (height, round): one per round, the first that came, so
    /// that a proposer cannot make a node check and keep many blocks for one round.
    proposed: BTreeMap<(u64, u32), SignedProposal>,
    /// A decision whose block has not arrived yet (it will come by sync).
    pub(super) awaiting: Option<(u64, Hash, Certificate)>,
    /// Own proposals (height, round) that are in the consensus log.
    logged: BTreeSet<(u64, u32)>,
    /// Own proposals waiting for their block, to be logged and sent.
    pub(super) unlogged: Vec<SignedProposal>,
    /// Blocks to fetch by hash from peers.
    pub(super) wanted: BTreeSet<Hash>,
    /// The state after each valid block of the height, as checking or building it produced
    /// it: the decided one is committed without executing it again.
    executed: BTreeMap<Hash, ExecutedBlock>,
}

impl BlockHost {
    /// Keeps a block (its own proposal's, one read back from the consensus log, or one
    /// fetched because the engine needs it).
    pub(super) fn remember(&mut self, block: Block) {
        let hash = block.hash();
        self.wanted.remove(&hash);
        self.blocks.insert(hash, block);
    }

    /// Whether an own proposal is in the consensus log.
    pub(super) fn is_logged(&self, proposal: &SignedProposal) -> bool {
        let p = proposal.proposal;
        self.logged.contains(&(p.height, p.round))
    }

    /// Notes that an own proposal is in the consensus log.
    pub(super) fn mark_logged(&mut self, proposal: &SignedProposal) {
        let p = proposal.proposal;
        self.logged.insert((p.height, p.round));
    }

    /// The block with this hash, if known.
    pub(super) fn get(&self, hash: &Hash) -> Option<&Block> {
        self.blocks.get(hash)
    }

    /// The cached verdict on a block.
    pub(super) fn verdict(&self, hash: &Hash) -> Option<Validity> {
        self.verdicts.get(hash).copied()
    }

    /// The proposal first seen for `round` of `height`, if any: a proposal of another block
    /// for that round is an equivocation, and is neither checked nor kept (a decided block
    /// that was not kept comes by sync).
    pub(super) fn proposed(&self, height: u64, round: u32) -> Option<&SignedProposal> {
        self.proposed.get(&(height, round))
    }

    /// Notes `proposal` as its round's, unless the round has one already.
    pub(super) fn note_proposal(&mut self, proposal: SignedProposal) {
        let p = proposal.proposal;
        self.proposed.entry((p.height, p.round)).or_insert(proposal);
    }

    /// Keeps a checked block and its verdict (`None`: not settled yet, to be checked
    /// again), unless the height's quota is used up. Kept even when invalid: a peer that is
    /// locked on it may fetch it from here.
    pub(super) fn record(&mut self, block: &Block, validity: Option<Validity>) {
        if self.blocks.len() < MAX_BLOCKS_KEPT {
            let hash = block.hash();
            if let Some(validity) = validity {
                self.verdicts.insert(hash, validity);
            }
            self.blocks.insert(hash, block.clone());
        }
    }

    /// Drops blocks (and verdicts, and own proposals waiting for one) below `height`.
    pub(super) fn keep_from(&mut self, height: u64) {
        self.blocks.retain(|_, b| b.header.height >= height);
        let blocks = &self.blocks;
        self.verdicts.retain(|hash, _| blocks.contains_key(hash));
        self.logged.retain(|(h, _)| *h >= height);
        self.unlogged.retain(|p| p.proposal.height >= height);
        if self.unlogged.is_empty() && self.awaiting.is_none() {
            self.wanted.clear();
        }
        self.executed.retain(|hash, _| blocks.contains_key(hash));
        self.proposed.retain(|(h, _), _| *h >= height);
    }

    /// Keeps the execution of a valid block for its commit, within the quota.
    pub(super) fn keep_executed(&mut self, executed: ExecutedBlock) {
        if self.executed.len() < MAX_EXECUTED_KEPT {
            self.executed.insert(executed.hash(), executed);
        }
    }

    /// The kept execution of a block, taken for its commit.
    fn take_executed(&mut self, hash: &Hash) -> Option<ExecutedBlock> {
        self.executed.remove(hash)
    }
}

impl<P: Clone + Ord + Debug> Host<P> {
    /// The block this node proposes at `height` (the head's next): pending transactions
    /// that still apply, in order, stamped with the current time (never below the parent's).
    pub(super) fn build_block(&mut self, height: u64) -> Block {
        let built = {
            let store = read(&self.shared.store);
            let candidates = lock(&self.shared.mempool).reap(self.config.max_block_txs);
            // Admitted transactions were verified (the cache says so); the pending order keeps
            // each sender's nonces in sequence.
            let verified = &self.shared.verified;
            store.build_block(
                candidates,
                self.validator.unwrap_or_default(),
                self.now_ms,
                &|tx| verified.contains(&tx.hash()),
            )
        };
        let block = match built {
            Ok((block, executed)) => {
                self.blocks.keep_executed(executed);
                block
            }
            Err(e) => {
                // Only a head at height u64::MAX could fail to begin a block.
                tracing::error!(error = %e, height, "cannot build a block; proposing it empty");
                let store = read(&self.shared.store);
                Block::assemble(
                    store.state(),
                    &store.parent(),
                    store.validators(),
                    self.validator.unwrap_or_default(),
                    self.now_ms,
                    Vec::new(),
                )
            }
        };
        debug_assert_eq!(block.header.height, height, "the engine builds on the head");
        block
    }

    /// Whether a proposed block is valid on top of the current head, and whether that
    /// verdict is final. A block too far in the future is invalid *now* only: the same
    /// block re-proposed in a later round may be valid by then, so that verdict is not
    /// cached (caching it kept an honest node from ever accepting a block the others were
    /// locked on; the simulation found it).
    pub(super) fn validate_block(&mut self, block: &Block) -> (Validity, bool) {
        if block.header.time_ms > self.now_ms.saturating_add(MAX_CLOCK_DRIFT_MS) {
            tracing::warn!(
                height = block.header.height,
                "proposed block is too far in the future"
            );
            return (Validity::Invalid, false);
        }
        (self.check_block(block), true)
    }

    /// Header and execution checks of a proposed block (everything but its time); a valid
    /// block's execution is kept for its commit.
    fn check_block(&mut self, block: &Block) -> Validity {
        let store = read(&self.shared.store);
        let genesis = store.genesis();
        let parent = store.parent();
        if let Err(e) = check_header(
            &block.header,
            &block.txs,
            &genesis.chain_id,
            &parent,
            store.validators(),
        ) {
            tracing::warn!(error = %e, "invalid proposed block");
            return Validity::Invalid;
        }
        let cache = &self.shared.verified;
        let verified = |tx: &pov_protocol::Transaction| cache.contains(&tx.hash());
        let executed = store.execute(block, &verified);
        drop(store);
        match executed {
            Ok(executed) => {
                self.blocks.keep_executed(executed);
                Validity::Valid
            }
            Err(e) => {
                tracing::warn!(error = %e, "invalid proposed block");
                Validity::Invalid
            }
        }
    }

    /// Makes a decided block final: on disk and flushed, then the mempool and subscribers;
    /// the next height starts after `block_time_ms`.
    pub(super) fn commit(
        &mut self,
        block: &Block,
        certificate: &Certificate,
    ) -> Result<(), NodeError> {
        let receipt = {
            let mut store = write(&self.shared.store);
            if block.header.height != store.height() + 1 {
                // Already on disk (block sync was faster): carry on at the next height.
                let next = store.height() + 1;
                drop(store);
                self.blocks.keep_from(next);
                self.blocks.awaiting = None;
                self.schedule(Timer::StartHeight(next), self.config.block_time_ms);
                return Ok(());
            }
            let verified = &self.shared.verified;
            let executed = self.blocks.take_executed(&block.hash());
            store.commit_prepared(block, certificate, executed, &|tx| {
                verified.contains(&tx.hash())
            })?
        };
        self.shared.metrics.committed(&receipt, false);
        self.shared
            .metrics
            .height_done(std::time::Duration::from_millis(
                self.now_ms.saturating_sub(self.height_started_ms),
            ));
        self.after_commit(block);
        tracing::info!(
            height = receipt.height,
            hash = %receipt.hash,
            txs = receipt.txs,
            state_root = %receipt.state_root,
            "block final"
        );
        self.log.clear()?;
        // Keep the decided block until the next height starts: the engine re-broadcasts
        // the decided proposal meanwhile, which lagging validators need to decide too.
        self.blocks.keep_from(receipt.height);
        self.blocks.awaiting = None;
        self.schedule(
            Timer::StartHeight(receipt.height + 1),
            self.config.block_time_ms,
        );
        Ok(())
    }

    /// A block fetched by hash arrived: keep it (with a verdict), then commit the decision
    /// that awaited it, and log and send own proposals that waited for it.
    pub(super) fn on_block_fetched(&mut self, block: Block) -> Result<(), NodeError> {
        let hash = block.hash();
        let stored = read(&self.shared.store).height();
        if block.header.height != stored + 1 {
            self.blocks.wanted.remove(&hash);
            return Ok(());
        }
        if self.blocks.verdict(&hash).is_none() {
            let (validity, settled) = self.validate_block(&block);
            self.blocks.record(&block, settled.then_some(validity));
        }
        self.blocks.remember(block.clone());
        self.on_block_known(&block)
    }

    /// `block` is known now: commit an awaited decision on it, send own proposals of it.
    pub(super) fn on_block_known(&mut self, block: &Block) -> Result<(), NodeError> {
        let hash = block.hash();
        self.blocks.wanted.remove(&hash);
        if let Some((height, awaited, certificate)) = self.blocks.awaiting.clone() {
            if awaited == hash && height == block.header.height {
                return self.commit(block, &certificate);
            }
        }
        self.release_own_proposals(block)
    }

    /// Logs and sends own proposals that waited for `block`.
    pub(super) fn release_own_proposals(&mut self, block: &Block) -> Result<(), NodeError> {
        let hash = block.hash();
        if !self
            .blocks
            .unlogged
            .iter()
            .any(|p| p.proposal.value == hash)
        {
            return Ok(());
        }
        self.blocks.remember(block.clone());
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.blocks.unlogged)
            .into_iter()
            .partition(|p| p.proposal.value == hash);
        self.blocks.unlogged = waiting;
        for proposal in ready {
            self.send_own_proposal(proposal)?;
        }
        Ok(())
    }

    /// Mempool re-check and subscriber events after a block is on disk.
    pub(super) fn after_commit(&self, block: &Block) {
        let store = read(&self.shared.store);
        let hashes: Vec<Hash> = block.txs.iter().map(Transaction::hash).collect();
        let dropped = lock(&self.shared.mempool).after_block(store.state(), &hashes);
        tracing::debug!(dropped, "mempool re-checked");
        // No subscriber is not an error.
        let height = block.header.height;
        let reward = |event: Event| {
            if event.rule == Rule::ContributorReward
                || (event.rule == Rule::Referral && event.contribution.is_some())
            {
                let member = store
                    .state()
                    .member(event.member)
                    .map(|m| m.address)
                    .unwrap_or_default();
                let _ = self.shared.events.send(NodeEvent::Reward {
                    height,
                    event,
                    member,
                });
            }
        };
        // The block's start first, as it ran: parameter changes, then settlements of sealed
        // contributions (whose rewards go out as `Reward`, like a transaction's).
        match store.start_events(height) {
            Ok(events) => {
                for event in events {
                    match event {
                        BlockEvent::Balance(e) => reward(e),
                        event => {
                            let _ = self.shared.events.send(NodeEvent::Start { height, event });
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(height, error = %e, "start events not read for subscribers"),
        }
        let _ = self.shared.events.send(NodeEvent::Block {
            height,
            hash: block.hash(),
            txs: hashes.clone(),
        });
        for hash in hashes {
            let Ok(Some(info)) = store.tx(&hash) else {
                continue;
            };
            for event in info.events {
                reward(event);
            }
        }
    }
}
