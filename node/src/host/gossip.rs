//! Checks on gossip: what a transaction or consensus message must be to be accepted (and so
//! relayed), what is ignored, and what is rejected (which costs the relaying peer score).
//!
//! Relay only what a validator signed: a vote must come from a validator and verify; a
//! proposal must come from the round's proposer, carry the block it names, and verify. The
//! proposal's block is checked once (the verdict is cached by hash) and only when its parent
//! is this node's head. Messages of heights already decided go to the evidence check
//! (`evidence.rs`, `witness.rs`), not to the engine, which would drop them unread.

use std::fmt::Debug;

use pov_consensus::{Effect, Evidence, Input, Message};

use super::blocks::MAX_ROUNDS_AHEAD;
use super::{Host, NodeError};
use crate::mempool::Admitted;
use crate::network::Verdict;
use crate::shared::{lock, read};
use crate::wire::{ConsensusMessage, Envelope, TxEnvelope, MAX_GOSSIP_TXS};

/// Most pending transactions gossiped again at once.
pub(super) const REGOSSIP_MAX: usize = 500;

impl<P: Clone + Ord + Debug> Host<P> {
    /// Gossiped transactions: admitted to the mempool in order (accept when any is new),
    /// all already known or not applicable now (ignore), or any badly signed (a known forgery
    /// is refused by its hash, without a second check), of another chain, too many or
    /// malformed (reject: a node relays only what it checked, so the relay is at fault).
    ///
    /// Signatures are checked through the verified cache before the mempool's lock is taken,
    /// so the API is not held up while a batch is verified.
    pub(super) fn on_gossip_tx(&self, data: &[u8]) -> Verdict {
        let Ok(TxEnvelope { txs, .. }) = TxEnvelope::from_bytes(data) else {
            return Verdict::Reject;
        };
        if txs.is_empty() || txs.len() > MAX_GOSSIP_TXS {
            return Verdict::Reject;
        }
        // Another chain's transaction: no honest relay passes one on (its mempool checks the
        // chain first), so the relay is at fault, and no signature is checked for it.
        if txs.iter().any(|tx| tx.chain_id != self.shared.chain_id) {
            return Verdict::Reject;
        }
        let mut checked = Vec::with_capacity(txs.len());
        for tx in txs {
            let hash = tx.hash();
            if self
                .shared
                .verified
                .check(&tx, hash, &self.shared.genesis_hash)
                .is_err()
            {
                // A bad signature is the sender's fault.
                return Verdict::Reject;
            }
            checked.push((tx, hash));
        }
        let mut pool = lock(&self.shared.mempool);
        let mut verdict = Verdict::Ignore;
        for (tx, hash) in checked {
            // Anything but a bad signature (a nonce race, a full pool, a transaction already
            // in a block) is no fault of the relaying peer.
            if let Ok(Admitted::New(_)) = pool.insert_hashed(tx, hash) {
                verdict = Verdict::Accept;
            }
        }
        verdict
    }

    /// A gossiped consensus message: its verdict, and the engine's effects of it.
    pub(super) fn on_gossip_consensus(
        &mut self,
        data: &[u8],
    ) -> Result<(Verdict, Vec<Effect>), NodeError> {
        let Ok(envelope) = Envelope::from_bytes(data) else {
            return Ok((Verdict::Reject, Vec::new()));
        };
        let height = self.consensus.height();
        match envelope.message {
            ConsensusMessage::Evidence(evidence) => {
                Ok((self.on_gossip_evidence(evidence)?, Vec::new()))
            }
            ConsensusMessage::Vote(vote) => {
                let v = vote.vote;
                // Only validators' signed votes are worth relaying or remembering.
                if !self.consensus.validators().contains(&v.validator) || vote.verify().is_err() {
                    return Ok((Verdict::Reject, Vec::new()));
                }
                lock(&self.shared.liveness).saw(v.validator, self.now_ms);
                if v.height <= read(&self.shared.store).height() {
                    let verdict = self.on_late_message(Message::Vote(vote))?;
                    return Ok((verdict, Vec::new()));
                }
                if v.height > height.saturating_add(1) {
                    self.start_sync();
                    return Ok((Verdict::Ignore, Vec::new()));
                }
                if v.height.saturating_add(1) < height {
                    return Ok((Verdict::Ignore, Vec::new()));
                }
                self.witness(Message::Vote(vote))?;
                Ok((Verdict::Accept, self.consensus.handle(Input::Vote(vote))))
            }
            ConsensusMessage::Proposal(message) => {
                let proposal = message.proposal;
                let p = proposal.proposal;
                let block = &message.block;
                // Signed by the round's proposer, carrying the block it names. The block's
                // header names its *builder*: the proposer for a new block, but another
                // validator when the proposer re-proposes a valid value from an earlier
                // round (POL round set), which is how Tendermint gets a locked value
                // decided. The proposal's signature is what binds the round's proposer.
                let expected = self
                    .consensus
                    .validators()
                    .proposer(p.height, p.round)
                    .address;
                let builder_ok = match p.pol_round {
                    None => block.header.proposer == p.proposer,
                    Some(_) => self.consensus.validators().contains(&block.header.proposer),
                };
                if expected != p.proposer
                    || !builder_ok
                    || block.hash() != p.value
                    || proposal.verify().is_err()
                {
                    return Ok((Verdict::Reject, Vec::new()));
                }
                lock(&self.shared.liveness).saw(p.proposer, self.now_ms);
                if p.height > height.saturating_add(1) {
                    self.start_sync();
                    return Ok((Verdict::Ignore, Vec::new()));
                }
                let stored = read(&self.shared.store).height();
                if p.height <= stored {
                    let verdict = self.on_late_message(Message::Proposal(proposal))?;
                    return Ok((verdict, Vec::new()));
                }
                if p.height < height {
                    return Ok((Verdict::Ignore, Vec::new()));
                }
                self.witness(Message::Proposal(proposal))?;
                // A next-height proposal can be checked once this height's block is on
                // disk; the engine buffers it until it enters that height.
                if p.height != stored + 1 {
                    return Ok((Verdict::Ignore, Vec::new()));
                }
                // Only rounds near the current one, and one block per round: what a node
                // checks (a full execution) and keeps per height stays bounded whatever a
                // proposer sends (`blocks.rs`).
                let current = if p.height == height {
                    self.consensus.round()
                } else {
                    0
                };
                if p.round > current.saturating_add(MAX_ROUNDS_AHEAD) {
                    return Ok((Verdict::Ignore, Vec::new()));
                }
                if let Some(first) = self.blocks.proposed(p.height, p.round) {
                    if first.proposal.value != p.value {
                        // Two blocks for one round: evidence, and no second execution.
                        let evidence = Evidence::DoubleProposal {
                            proposer: p.proposer,
                            proposal_a: *first,
                            proposal_b: proposal,
                        };
                        self.on_own_evidence(evidence)?;
                        // Unless it is the block a decision needs (it then came by the
                        // decision's quorum, not by this proposer's word alone).
                        let needed = self.blocks.wanted.contains(&p.value)
                            || self
                                .blocks
                                .awaiting
                                .as_ref()
                                .is_some_and(|(_, hash, _)| *hash == p.value);
                        if !needed {
                            return Ok((Verdict::Ignore, Vec::new()));
                        }
                    }
                }
                self.blocks.note_proposal(proposal);
                let validity = match self.blocks.verdict(&p.value) {
                    Some(validity) => validity,
                    None => {
                        let (validity, settled) = self.validate_block(block);
                        self.blocks.record(block, settled.then_some(validity));
                        validity
                    }
                };
                if self.blocks.wanted.contains(&p.value) {
                    // The block this node was fetching (its lock, or its own re-proposal).
                    self.blocks.remember(block.clone());
                }
                self.release_own_proposals(block)?;
                if let Some((h, hash, certificate)) = self.blocks.awaiting.clone() {
                    if hash == p.value && h == p.height {
                        // The block of a decision we were waiting for.
                        if let Err(e) = self.commit(block, &certificate) {
                            tracing::error!(
                                error = &e as &dyn std::error::Error,
                                "cannot commit the awaited block"
                            );
                        }
                        return Ok((Verdict::Accept, Vec::new()));
                    }
                }
                Ok((
                    Verdict::Accept,
                    self.consensus
                        .handle(Input::Proposal { proposal, validity }),
                ))
            }
        }
    }
}
