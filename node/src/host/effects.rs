//! Carrying out the engine's effects, in the order given: persist before send, build a block
//! when asked for a value, commit (or await) a decided block, record evidence.

use std::collections::VecDeque;
use std::fmt::Debug;

use pov_consensus::{Effect, Input, Message};

use super::{Host, NodeError, Output, Timer};
use crate::wire::ConsensusMessage;

impl<P: Clone + Ord + Debug> Host<P> {
    /// Carries out `effects`, in order, including those they cause (a built block's
    /// proposal). Returns only once everything they asked to persist is durable.
    pub(super) fn carry_out(&mut self, effects: Vec<Effect>) -> Result<(), NodeError> {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            match effect {
                Effect::PersistVote(vote) => {
                    self.log.append(&ConsensusMessage::Vote(vote))?;
                }
                Effect::PersistProposal(proposal) => {
                    let block = self.blocks.get(&proposal.proposal.value);
                    match ConsensusMessage::from_engine(&Message::Proposal(proposal), block) {
                        Some(record) => self.log.append(&record)?,
                        None => tracing::warn!(
                            round = proposal.proposal.round,
                            "own proposal not logged: its block is unknown"
                        ),
                    }
                }
                Effect::Broadcast(message) => {
                    let block = match &message {
                        Message::Proposal(p) => self.blocks.get(&p.proposal.value),
                        Message::Vote(_) => None,
                    };
                    match ConsensusMessage::from_engine(&message, block) {
                        Some(m) => self.publish_consensus(m),
                        None => {
                            tracing::warn!("cannot broadcast a proposal whose block is unknown")
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
}
