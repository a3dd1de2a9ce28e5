//! Carrying out the engine's effects, in the order given: persist before send, build a block
//! when asked for a value, commit (or await) a decided block, record evidence.

use std::collections::VecDeque;
use std::fmt::Debug;

use pov_consensus::{Effect, Input, Message, NilOrVal, SignedProposal, VoteKind};
use pov_crypto::Hash;

use super::{Host, NodeError, Output, Timer};
use crate::wire::ConsensusMessage;

impl<P: Clone + Ord + Debug> Host<P> {
    /// Carries out `effects`, in order, including those they cause (a built block's
    /// proposal). Returns only once everything they asked to persist is durable.
    pub(super) fn carry_out(&mut self, effects: Vec<Effect>) -> Result<(), NodeError> {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            if self.held_back(&effect) {
                continue;
            }
            match effect {
                Effect::PersistVote(vote) => {
                    if let (VoteKind::Precommit, NilOrVal::Val(value)) =
                        (vote.vote.kind, vote.vote.value)
                    {
                        self.log_lock(vote.vote.round, value)?;
                    }
                    self.log.append(&ConsensusMessage::Vote(vote))?;
                }
                Effect::PersistProposal(proposal) => {
                    self.log_own_proposal(proposal)?;
                }
                Effect::Broadcast(Message::Proposal(proposal))
                    if Some(proposal.proposal.proposer) == self.validator =>
                {
                    self.send_own_proposal(proposal)?
                }
                Effect::Broadcast(message) => {
                    let block = match &message {
                        Message::Proposal(p) => self.blocks.get(&p.proposal.value),
                        Message::Vote(_) => None,
                    };
                    match ConsensusMessage::from_engine(&message, block) {
                        Some(m) => self.publish_consensus(m),
                        None => {
                            tracing::debug!("a relayed proposal's block is not kept; not re-sent")
                        }
                    }
                }
                Effect::ScheduleTimeout {
                    timeout,
                    duration_ms,
                } => self.out.push(Output::Schedule {
                    timer: Timer::Consensus(timeout),
                    after_ms: duration_ms,
                }),
                Effect::GetValue { height, round } => {
                    let block = self.build_block(height);
                    let value = block.hash();
                    tracing::debug!(height, round, txs = block.txs.len(), "proposing a block");
                    self.blocks.remember(block);
                    queue.extend(self.consensus.handle(Input::ProposeValue {
                        height,
                        round,
                        value,
                    }));
                }
                Effect::Decide {
                    proposal,
                    certificate,
                } => {
                    let hash = proposal.proposal.value;
                    match self.blocks.get(&hash).cloned() {
                        Some(block) => self.commit(&block, &certificate)?,
                        None => {
                            tracing::info!(
                                height = certificate.height,
                                "decided a block not received yet; fetching it from peers"
                            );
                            self.blocks.awaiting = Some((certificate.height, hash, certificate));
                            self.start_sync();
                            self.want_block(hash);
                        }
                    }
                }
                Effect::Evidence(evidence) => self.on_own_evidence(evidence)?,
            }
        }
        let now = (self.consensus.height(), self.consensus.round());
        if now != self.last_round {
            if now.0 != self.last_round.0 {
                self.height_started_ms = self.now_ms;
            }
            self.last_round = now;
            self.shared.metrics.round_entered();
        }
        Ok(())
    }

    /// Whether `effect` would let out (log, send, or build a block for) a message this
    /// validator signs at a height it must stay silent at ([`Host::sign_nothing_through`]).
    /// Dropping them is as if the node had crashed before logging them: nothing left it.
    fn held_back(&self, effect: &Effect) -> bool {
        let height = match effect {
            Effect::PersistVote(v) => v.vote.height,
            Effect::PersistProposal(p) => p.proposal.height,
            Effect::Broadcast(m) if Some(m.signer()) == self.validator => m.height(),
            Effect::GetValue { height, .. } => *height,
            _ => return false,
        };
        height <= self.silent_through
    }

    /// Writes what justifies a lock to the consensus log, before the precommit that takes
    /// it is sent: the others' prevotes for `value` in `round` (the POL) and, when another
    /// validator proposed it, that proposal with its block. After a restart the engine keeps
    /// its lock (from its own precommit) but would hold neither: if no one else still held
    /// the whole POL (a validator in it down, the others restarted too), no one could show
    /// the POL that a re-proposal of the block needs, and the chain stopped for good (the
    /// simulation found it). Restored by [`Host::start`].
    fn log_lock(&mut self, round: u32, value: Hash) -> Result<(), NodeError> {
        let me = self.validator;
        let mut records: Vec<ConsensusMessage> = self
            .consensus
            .prevotes_for(round, value)
            .into_iter()
            .filter(|v| Some(v.vote.validator) != me)
            .map(ConsensusMessage::Vote)
            .collect();
        if let Some(proposal) = self.consensus.held_proposal(round, value) {
            let block = self.blocks.get(&value);
            if Some(proposal.proposal.proposer) != me {
                records.extend(ConsensusMessage::from_engine(
                    &Message::Proposal(proposal),
                    block,
                ));
            }
        }
        self.log.append_all(&records)?;
        Ok(())
    }

    /// Writes an own proposal, with its block, to the consensus log, unless it is there.
    /// Without the block (a re-proposal of a value another validator built, after a
    /// restart) it waits, unsent, while the block is fetched.
    fn log_own_proposal(&mut self, proposal: SignedProposal) -> Result<bool, NodeError> {
        if self.blocks.is_logged(&proposal) {
            return Ok(true);
        }
        let block = self.blocks.get(&proposal.proposal.value);
        match ConsensusMessage::from_engine(&Message::Proposal(proposal), block) {
            Some(record) => {
                self.log.append(&record)?;
                self.blocks.mark_logged(&proposal);
                Ok(true)
            }
            None => {
                tracing::info!(
                    round = proposal.proposal.round,
                    block = %proposal.proposal.value,
                    "own proposal waits for its block (built by another validator); fetching it"
                );
                if !self.blocks.unlogged.contains(&proposal) {
                    self.blocks.unlogged.push(proposal);
                }
                self.want_block(proposal.proposal.value);
                Ok(false)
            }
        }
    }

    /// Sends an own proposal with its block, after it is in the consensus log: never one
    /// that is not (whatever asks: the engine's proposal, a re-broadcast, a fetched block).
    pub(super) fn send_own_proposal(&mut self, proposal: SignedProposal) -> Result<(), NodeError> {
        if !self.log_own_proposal(proposal)? {
            return Ok(());
        }
        let block = self.blocks.get(&proposal.proposal.value);
        if let Some(message) = ConsensusMessage::from_engine(&Message::Proposal(proposal), block) {
            self.publish_consensus(message);
        }
        Ok(())
    }
}
