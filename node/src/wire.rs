//! What nodes send each other, in canonical postcard bytes: consensus messages (gossip)
//! and block-sync requests (request-response).
//!
//! The consensus engine's own types are plain Rust; these mirrors give them one encoding.
//! Every decoded message is checked against the canonical form (`codec::decode_canonical`),
//! so a message id (the blake3 of its bytes) names exactly one message.

use pov_crypto::{Address, Hash, Signature};
use pov_protocol::block::{Block, Certificate};
use pov_protocol::codec::{self, DecodeError};
use serde::{Deserialize, Serialize};

use crate::consensus::{Message, Proposal, SignedProposal, SignedVote, Vote, VoteKind};

/// Most blocks one sync response carries (bounds response size and work per request).
pub const MAX_SYNC_BATCH: u64 = 32;
/// Most block bytes one sync response carries: half the network's 16 MiB message cap, so a
/// batch of large blocks never exceeds it (at least one block is always sent).
pub const MAX_SYNC_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// A vote on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireVote {
    /// `true` for a precommit, `false` for a prevote.
    pub precommit: bool,
    /// Height voted at.
    pub height: u64,
    /// Round voted in.
    pub round: u32,
    /// The block hash, or `None` for nil.
    pub value: Option<Hash>,
    /// The voter.
    pub validator: Address,
    /// Its signature.
    pub signature: Signature,
}

/// A proposal on the wire, with the proposed block itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireProposal {
    /// Height proposed at.
    pub height: u64,
    /// Round proposed in.
    pub round: u32,
    /// The proposed block's hash.
    pub value: Hash,
    /// The proof-of-lock round, if any.
    pub pol_round: Option<u32>,
    /// The proposer.
    pub proposer: Address,
    /// Its signature.
    pub signature: Signature,
    /// The block whose hash is `value` (carried here so a proposal is self-contained).
    pub block: Block,
}

/// A gossiped consensus message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsensusMessage {
    /// A proposal with its block.
    Proposal(Box<WireProposal>),
    /// A prevote or precommit.
    Vote(WireVote),
}

impl ConsensusMessage {
    /// The wire form of an engine message (a proposal needs its block).
    pub fn from_engine(message: &Message, block: Option<&Block>) -> Option<ConsensusMessage> {
        match message {
            Message::Vote(v) => Some(ConsensusMessage::Vote(WireVote {
                precommit: v.vote.kind == VoteKind::Precommit,
                height: v.vote.height,
                round: v.vote.round,
                value: v.vote.value,
                validator: v.vote.validator,
                signature: v.signature,
            })),
            Message::Proposal(p) => Some(ConsensusMessage::Proposal(Box::new(WireProposal {
                height: p.proposal.height,
                round: p.proposal.round,
                value: p.proposal.value,
                pol_round: p.proposal.pol_round,
                proposer: p.proposal.proposer,
                signature: p.signature,
                block: block?.clone(),
            }))),
        }
    }

    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Decodes canonical bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<ConsensusMessage, DecodeError> {
        codec::decode_canonical(bytes)
    }
}

impl WireVote {
    /// The engine's signed vote.
    pub fn to_engine(&self) -> SignedVote {
        SignedVote {
            vote: Vote {
                kind: if self.precommit {
                    VoteKind::Precommit
                } else {
                    VoteKind::Prevote
                },
                height: self.height,
                round: self.round,
                value: self.value,
                validator: self.validator,
            },
            signature: self.signature,
        }
    }
}

impl WireProposal {
    /// The engine's signed proposal.
    pub fn to_engine(&self) -> SignedProposal {
        SignedProposal {
            proposal: Proposal {
                height: self.height,
                round: self.round,
                value: self.value,
                pol_round: self.pol_round,
                proposer: self.proposer,
            },
            signature: self.signature,
        }
    }
}

/// A block-sync request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncRequest {
    /// "What is your height?"
    Status,
    /// Finalized blocks `from..=to` with their certificates (at most [`MAX_SYNC_BATCH`]).
    Blocks {
        /// First height wanted.
        from: u64,
        /// Last height wanted.
        to: u64,
    },
}

/// The answer to a [`SyncRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncResponse {
    /// The peer's chain and head height.
    Status {
        /// The peer's genesis hash (peers of another genesis are refused earlier; this is a
        /// second check).
        genesis: Hash,
        /// The peer's finalized height.
        height: u64,
    },
    /// Blocks in height order, each with its certificate.
    Blocks(Vec<(Block, Certificate)>),
    /// The request could not be served.
    Error(String),
}

impl SyncRequest {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        codec::encode(self)
    }
    /// Decodes canonical bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<SyncRequest, DecodeError> {
        codec::decode_canonical(bytes)
    }
}

impl SyncResponse {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        codec::encode(self)
    }
    /// Decodes canonical bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<SyncResponse, DecodeError> {
        codec::decode_canonical(bytes)
    }
}

/// The commit certificate of the consensus engine in the protocol's form, which storage
/// verifies. The precommit signatures are over the same bytes
/// (`pov_protocol::block::vote_sign_bytes`), so they carry over unchanged.
pub fn certificate_from_engine(commit: &crate::consensus::CommitCertificate) -> Certificate {
    Certificate {
        height: commit.height,
        round: commit.round,
        block_hash: commit.value,
        signatures: commit
            .precommits
            .iter()
            .map(|p| pov_protocol::block::CommitSig {
                validator: p.vote.validator,
                signature: p.signature,
            })
            .collect(),
    }
}

/// A consensus message as gossiped: with a sender-chosen nonce so that deliberate
/// re-broadcasts are new gossip messages (gossipsub drops exact repeats for a while).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The message.
    pub message: ConsensusMessage,
    /// Distinguishes re-sends of the same message.
    pub nonce: u64,
}

impl Envelope {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        codec::encode(self)
    }
    /// Decodes canonical bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Envelope, DecodeError> {
        codec::decode_canonical(bytes)
    }
}

/// A transaction as gossiped, with a sender-chosen nonce so that re-gossip of a pending
/// transaction is not swallowed by gossipsub's duplicate cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxEnvelope {
    /// The signed transaction.
    pub tx: pov_protocol::Transaction,
    /// Distinguishes re-sends.
    pub nonce: u64,
}

impl TxEnvelope {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        codec::encode(self)
    }
    /// Decodes canonical bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<TxEnvelope, DecodeError> {
        codec::decode_canonical(bytes)
    }
}
