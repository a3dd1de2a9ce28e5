//! Byzantine behaviours: one enum, each applicable to any node of a simulation.
//!
//! A Byzantine node runs the real, honest host; what it *sends* is rewritten here, with its
//! own key, before the network carries it. So every misbehaviour is made of messages a
//! faulty validator can really produce (correctly signed, canonically encoded), and the
//! honest nodes' handling of them is the production code's.

use std::collections::BTreeMap;

use pov_consensus::{Message, NilOrVal, Proposal, SignedProposal, Vote, VoteKind};
use pov_crypto::{Hash, Keypair};
use pov_node::host::MAX_CLOCK_DRIFT_MS;
use pov_node::network::Topic;
use pov_node::wire::{ConsensusMessage, Envelope, ProposalMessage};
use pov_protocol::block::Block;
use pov_protocol::test_utils::SplitMix64;

/// What a faulty validator does (the list of issue 12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Byzantine {
    /// Signs a second, different vote for every slot it votes in, and sends one version to
    /// half of its peers and the other to the rest.
    EquivocatingVotes,
    /// Signs two different valid proposals for every round it proposes in, one for each half
    /// of its peers.
    DoubleProposal,
    /// Proposes invalid blocks (a wrong state root) instead of the ones its host builds.
    InvalidBlocks,
    /// Stamps its new blocks exactly at the allowed drift: its own clock plus 5 s. Honest
    /// nodes whose clocks run behind, or who receive it early, judge it invalid; others
    /// accept it. It prevotes its block but withholds its precommit, so that those who
    /// accepted it lock on it without deciding it (the attack of issue 12).
    TimeAtSkewEdge,
    /// Stamps its new blocks past the allowed drift (its clock plus 5 to 8 s).
    TimePastSkew,
    /// Never sends its own votes.
    WithholdingVotes,
    /// Sends messages it sent or received earlier again, byte for byte (old envelopes).
    ReplayingOld,
    /// Sends real messages (its own and others') again in fresh envelopes, so that gossip
    /// duplicate suppression does not catch them.
    FreshEnvelopes,
    /// Sends its proposal and then nothing else for the rest of that height.
    SilentAfterProposing,
}

impl Byzantine {
    /// Every behaviour, for scenarios that draw them from the seed.
    pub const ALL: [Byzantine; 9] = [
        Byzantine::EquivocatingVotes,
        Byzantine::DoubleProposal,
        Byzantine::InvalidBlocks,
        Byzantine::TimeAtSkewEdge,
        Byzantine::TimePastSkew,
        Byzantine::WithholdingVotes,
        Byzantine::ReplayingOld,
        Byzantine::FreshEnvelopes,
        Byzantine::SilentAfterProposing,
    ];

    /// Whether this behaviour equivocates: its scenario must give the evidence check
    /// something to check (an equivocation an honest node could prove) on some seed.
    pub fn leaves_evidence(self) -> bool {
        matches!(
            self,
            Byzantine::EquivocatingVotes | Byzantine::DoubleProposal
        )
    }
}

/// A Byzantine node's memory: its key, what it rewrote (so a re-send is rewritten the same
/// way), and what it has seen (for replays).
pub struct Faulty {
    pub kind: Byzantine,
    key: Keypair,
    /// Rewritten proposals by the original's value.
    proposals: BTreeMap<Hash, Vec<ConsensusMessage>>,
    /// The value each rewritten proposal proposes instead of the original (one version).
    replaced: BTreeMap<Hash, Hash>,
    /// Envelopes sent or received, for replays (bounded).
    history: Vec<Vec<u8>>,
    /// The height it went silent in.
    silent_at: Option<u64>,
    nonce: u64,
}

/// Most envelopes a replaying node remembers.
const HISTORY: usize = 2_000;

impl Faulty {
    /// A faulty node of `kind` signing with `key`.
    pub fn new(kind: Byzantine, key: Keypair) -> Faulty {
        Faulty {
            kind,
            key,
            proposals: BTreeMap::new(),
            replaced: BTreeMap::new(),
            history: Vec::new(),
            silent_at: None,
            nonce: 1 << 62,
        }
    }

    /// Remembers a consensus envelope the node received (for replays).
    pub fn observe(&mut self, data: &[u8]) {
        if matches!(
            self.kind,
            Byzantine::ReplayingOld | Byzantine::FreshEnvelopes
        ) && self.history.len() < HISTORY
        {
            self.history.push(data.to_vec());
        }
    }

    /// What the node sends instead of publishing `data` on `topic`: `(recipients, bytes)`
    /// pairs, where `None` means every peer. `now_ms` is the node's clock.
    pub fn rewrite(
        &mut self,
        topic: Topic,
        data: Vec<u8>,
        now_ms: u64,
        rng: &mut SplitMix64,
    ) -> Vec<(Option<Half>, Vec<u8>)> {
        if topic != Topic::Consensus {
            return vec![(None, data)];
        }
        let Ok(envelope) = Envelope::from_bytes(&data) else {
            return vec![(None, data)];
        };
        let me = self.key.address();
        let Some(engine_message) = envelope.message.to_engine() else {
            return vec![(None, data)];
        };
        let own = engine_message.signer() == me;
        let height = engine_message.height();
        if let Some(silent) = self.silent_at {
            if height <= silent {
                return Vec::new();
            }
            self.silent_at = None;
        }
        let mut out = Vec::new();
        match (self.kind, &envelope.message) {
            (Byzantine::EquivocatingVotes, ConsensusMessage::Vote(v)) if own => {
                let mut twin = v.vote;
                twin.value = match twin.value {
                    NilOrVal::Val(_) => NilOrVal::Nil,
                    NilOrVal::Nil => {
                        NilOrVal::Val(pov_crypto::hash_parts(&[b"twin", &v.vote.sign_bytes()]))
                    }
                };
                let twin = self.vote(twin);
                out.push((Some(Half::Even), data));
                out.push((Some(Half::Odd), self.envelope(twin)));
            }
            (Byzantine::WithholdingVotes, ConsensusMessage::Vote(_)) if own => {}
            (Byzantine::TimeAtSkewEdge, ConsensusMessage::Vote(v))
                if own && v.vote.kind == VoteKind::Precommit => {}
            (_, ConsensusMessage::Vote(v))
                if own
                    && v.vote
                        .value
                        .value()
                        .is_some_and(|x| self.replaced.contains_key(&x)) =>
            {
                // Vote for what it sent instead of what its host built.
                let mut vote = v.vote;
                if let NilOrVal::Val(x) = vote.value {
                    vote.value = NilOrVal::Val(self.replaced.get(&x).copied().unwrap_or(x));
                }
                let message = self.vote(vote);
                out.push((None, self.envelope(message)));
            }
            (
                Byzantine::DoubleProposal
                | Byzantine::InvalidBlocks
                | Byzantine::TimeAtSkewEdge
                | Byzantine::TimePastSkew,
                ConsensusMessage::Proposal(p),
            ) if own && p.proposal.proposal.pol_round.is_none() => {
                let key = p.proposal.proposal.value;
                if !self.proposals.contains_key(&key) {
                    let versions = self.versions(p, now_ms, rng);
                    if let [ConsensusMessage::Proposal(one)] = versions.as_slice() {
                        self.replaced.insert(key, one.proposal.proposal.value);
                    }
                    self.proposals.insert(key, versions);
                }
                let versions = self.proposals.get(&key).cloned().unwrap_or_default();
                match versions.as_slice() {
                    [one] => out.push((None, self.envelope(one.clone()))),
                    [a, b] => {
                        out.push((Some(Half::Even), self.envelope(a.clone())));
                        out.push((Some(Half::Odd), self.envelope(b.clone())));
                    }
                    _ => out.push((None, data)),
                }
            }
            (Byzantine::SilentAfterProposing, ConsensusMessage::Proposal(_)) if own => {
                self.silent_at = Some(height);
                out.push((None, data));
            }
            (Byzantine::ReplayingOld, _) => {
                out.push((None, data.clone()));
                self.observe(&data);
                for _ in 0..2 {
                    if let Some(old) = self.pick(rng) {
                        out.push((None, old));
                    }
                }
            }
            (Byzantine::FreshEnvelopes, _) => {
                out.push((None, data.clone()));
                self.observe(&data);
                for _ in 0..2 {
                    if let Some(old) = self.pick(rng) {
                        if let Ok(old) = Envelope::from_bytes(&old) {
                            out.push((None, self.envelope(old.message)));
                        }
                    }
                }
            }
            _ => out.push((None, data)),
        }
        out
    }

    /// The versions of an own fresh proposal this node sends instead of it.
    fn versions(
        &mut self,
        original: &ProposalMessage,
        now_ms: u64,
        rng: &mut SplitMix64,
    ) -> Vec<ConsensusMessage> {
        let block = &original.block;
        let changed = |f: &dyn Fn(&mut Block)| {
            let mut block = block.clone();
            f(&mut block);
            self.proposal(original.proposal.proposal, block)
        };
        match self.kind {
            Byzantine::DoubleProposal => vec![
                ConsensusMessage::Proposal(Box::new(original.clone())),
                changed(&|b| b.header.time_ms += 1),
            ],
            Byzantine::InvalidBlocks => {
                vec![changed(&|b| {
                    b.header.state_root = pov_crypto::hash(b"not the state root")
                })]
            }
            Byzantine::TimeAtSkewEdge => {
                vec![changed(&|b| b.header.time_ms = now_ms + MAX_CLOCK_DRIFT_MS)]
            }
            Byzantine::TimePastSkew => {
                let past = MAX_CLOCK_DRIFT_MS + rng.between(1, 3_000);
                vec![changed(&|b| b.header.time_ms = now_ms + past)]
            }
            _ => vec![ConsensusMessage::Proposal(Box::new(original.clone()))],
        }
    }

    fn proposal(&self, original: Proposal, block: Block) -> ConsensusMessage {
        let proposal = Proposal {
            value: block.hash(),
            ..original
        };
        let signed: SignedProposal = proposal.sign(&self.key).unwrap_or_else(|e| {
            panic!("a Byzantine node signs with its own key: {e}");
        });
        ConsensusMessage::Proposal(Box::new(ProposalMessage {
            proposal: signed,
            block,
        }))
    }

    fn vote(&self, vote: Vote) -> ConsensusMessage {
        let signed = vote
            .sign(&self.key)
            .unwrap_or_else(|e| panic!("a Byzantine node signs with its own key: {e}"));
        ConsensusMessage::from_engine(&Message::Vote(signed), None)
            .unwrap_or_else(|| panic!("a vote always has a wire form"))
    }

    fn envelope(&mut self, message: ConsensusMessage) -> Vec<u8> {
        self.nonce += 1;
        Envelope {
            message,
            nonce: self.nonce,
        }
        .to_bytes()
    }

    fn pick(&self, rng: &mut SplitMix64) -> Option<Vec<u8>> {
        if self.history.is_empty() {
            return None;
        }
        let i = rng.below(self.history.len() as u64) as usize;
        self.history.get(i).cloned()
    }
}

/// Which half of its peers a version goes to (by peer index parity).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Half {
    Even,
    Odd,
}

impl Half {
    /// Whether peer `i` is in this half.
    pub fn contains(self, i: usize) -> bool {
        i.is_multiple_of(2) == (self == Half::Even)
    }
}
