//! What nodes send each other, in canonical postcard bytes: consensus messages (gossip)
//! and block-sync requests (request-response).
//!
//! The consensus engine's types carry their own canonical encoding (serde, postcard), so
//! they go on the wire as they are. Every decoded message is checked against the canonical
//! form (`codec::decode_canonical`), so a message id (the blake3 of its bytes) names exactly
//! one message.

use pov_consensus::{Evidence, Message, SignedProposal, SignedVote};
use pov_crypto::Hash;
use pov_protocol::block::{Block, Certificate};
use pov_protocol::codec::{self, DecodeError};
use serde::{Deserialize, Serialize};

/// Most blocks one sync response carries (bounds response size and work per request).
pub const MAX_SYNC_BATCH: u64 = 32;
/// Most block bytes one sync response carries: half the network's 16 MiB message cap, so a
/// batch of large blocks never exceeds it (at least one block is always sent).
pub const MAX_SYNC_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// A proposal as gossiped: the signed proposal with the block whose hash it proposes, so
/// that a proposal is self-contained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalMessage {
    /// The proposer's signed proposal.
    pub proposal: SignedProposal,
    /// The block whose hash is `proposal.proposal.value`.
    pub block: Block,
}

/// A gossiped consensus message (also the record of the consensus log).
///
/// The engine's own types travel as they are, in their canonical postcard form: the bytes
/// are those of the first release, which spelled the same fields out by hand (a vote's kind
/// is the byte 0 or 1, nil is the `None` tag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsensusMessage {
    /// A proposal with its block.
    Proposal(Box<ProposalMessage>),
    /// A prevote or precommit.
    Vote(SignedVote),
    /// Proof that a validator signed two messages for one slot (checked by every node
    /// that relays it; never written to the consensus log).
    Evidence(Evidence),
}

impl ConsensusMessage {
    /// The wire form of an engine message (a proposal needs its block).
    pub fn from_engine(message: &Message, block: Option<&Block>) -> Option<ConsensusMessage> {
        match message {
            Message::Vote(vote) => Some(ConsensusMessage::Vote(*vote)),
            Message::Proposal(proposal) => {
                Some(ConsensusMessage::Proposal(Box::new(ProposalMessage {
                    proposal: *proposal,
                    block: block?.clone(),
                })))
            }
        }
    }

    /// The engine's form of a proposal (without its block) or vote; `None` for evidence.
    pub fn to_engine(&self) -> Option<Message> {
        match self {
            ConsensusMessage::Proposal(p) => Some(Message::Proposal(p.proposal)),
            ConsensusMessage::Vote(v) => Some(Message::Vote(*v)),
            ConsensusMessage::Evidence(_) => None,
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
    /// One block by hash, final or only proposed: a validator that restarted locked on a
    /// block another validator built needs it to re-propose it.
    Block {
        /// The block's hash.
        hash: Hash,
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
    /// The block asked for by hash, if the peer has it.
    Block(Option<Box<Block>>),
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

/// A consensus message as gossiped: with a sender-chosen nonce so that deliberate
/// re-broadcasts are new gossip messages (gossipsub drops exact repeats for a while).
///
/// The nonce comes first (since protocol 1.2.1): the network takes what follows it as the
/// message's identity and lets each identity through at most once a second, so that
/// copies of a real message under fresh nonces cannot be multiplied
/// (`network/repeats.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Distinguishes re-sends of the same message.
    pub nonce: u64,
    /// The message.
    pub message: ConsensusMessage,
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

/// Most transactions one gossip message carries (a `POST /txs` batch is gossiped as one
/// message; re-gossip sends pending transactions in messages of this size).
pub const MAX_GOSSIP_TXS: usize = 2_000;

/// Transactions as gossiped: many per message (one message per API batch, not one per
/// transaction), with a sender-chosen nonce so that re-gossip of pending transactions is not
/// swallowed by gossipsub's duplicate cache. The nonce comes first, as in [`Envelope`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxEnvelope {
    /// Distinguishes re-sends.
    pub nonce: u64,
    /// The signed transactions, in the order the sender admitted them (a sender's nonces
    /// ascending).
    pub txs: Vec<pov_protocol::Transaction>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use pov_consensus::{NilOrVal, Proposal, Vote, VoteKind};
    use pov_crypto::Keypair;
    use pov_protocol::block::BlockHeader;
    use pov_protocol::genesis::Genesis;

    /// The bytes the first release put on the wire and in consensus logs for these messages
    /// (captured from its hand-written wire types): the engine's types must encode the same.
    /// The envelope's nonce moved to the front in protocol 1.2.1.
    const VOTE_ENVELOPE: &str = "090101050201fbf7129093429293d558b3993ca13988daba893f4a191bc2b1c1e5b52a0d01729e76590ddaa8d01aae431592f45116b308c849d5c6c330e63cbe8afa7dc588950e6168e70ef7d2622ce8e46feab14ab0c43808fcbbe7d6413bc0779e22fc08dd48fd956726366d66f400e2ab920cea8141081d748c29f66679d83286ebb1b204";
    const NIL_VOTE: &str = "01000502009e76590ddaa8d01aae431592f45116b308c849d5c6c330e63cbe8afa7dc58895d4454aa3c1e85161e156ed43028993ec31ba54ac57d790d315d71c545419a937e5f453b37137321be448bb2cc5cdb273eb6d939893c4a8d1fb5d84bb5db33900";
    const PROPOSAL: &str = "0003015b28511f776cbb3bbdf9d20f87582fbdc2a4d7e0c2f7f80e5e82f08825dff5e601009e76590ddaa8d01aae431592f45116b308c849d5c6c330e63cbe8afa7dc58895db4fd15867e3f5f989ce4723c6db8af93148f2071847d14b91a38f9c8bae4249fedbf950463fd63cdcea5b013bc8b5ac5c031bf119e32e74787ec4d0a8992c070a706f762d6465766e65740373f291693e31fe77be7bfb78ebc9042b2e2c437c87eca0c122e0e8a0bbfbe625d2099e76590ddaa8d01aae431592f45116b308c849d5c6c330e63cbe8afa7dc5889500000000000000000000000000000000000000000000000000000000000000003d1d92230feb6db469532f26d9e2d7ab2b9a7982924c2706ac5a89679756e6bfbc5951d11bb316e797d865954d9ccd9ad62db056313d23a752a9515896916f3a00";

    #[test]
    fn engine_types_encode_as_the_first_release_wire_format() {
        let k = Keypair::dev(7);
        let genesis = Genesis::dev();
        let block = Block {
            header: BlockHeader {
                chain_id: genesis.chain_id.clone(),
                height: 3,
                prev_hash: pov_crypto::hash(b"p"),
                time_ms: 1234,
                proposer: k.address(),
                tx_root: pov_protocol::block::tx_root(&[]),
                state_root: pov_crypto::hash(b"s"),
                validator_set_hash: genesis.validator_set().expect("dev set").hash(),
            },
            txs: vec![],
        };
        let vote = |kind, value, signed: &[u8]| {
            ConsensusMessage::Vote(SignedVote {
                vote: Vote {
                    kind,
                    height: 5,
                    round: 2,
                    value,
                    validator: k.address(),
                },
                signature: k.sign(signed),
            })
        };
        let precommit = vote(
            VoteKind::Precommit,
            NilOrVal::Val(pov_crypto::hash(b"v")),
            b"x",
        );
        let envelope = Envelope {
            message: precommit,
            nonce: 9,
        };
        assert_eq!(hex::encode(envelope.to_bytes()), VOTE_ENVELOPE);
        let nil = vote(VoteKind::Prevote, NilOrVal::Nil, b"y");
        assert_eq!(hex::encode(nil.to_bytes()), NIL_VOTE);
        let proposal = ConsensusMessage::Proposal(Box::new(ProposalMessage {
            proposal: SignedProposal {
                proposal: Proposal {
                    height: 3,
                    round: 1,
                    value: block.hash(),
                    pol_round: Some(0),
                    proposer: k.address(),
                },
                signature: k.sign(b"z"),
            },
            block,
        }));
        assert_eq!(hex::encode(proposal.to_bytes()), PROPOSAL);
        for (message, hex_text) in [(nil, NIL_VOTE), (proposal, PROPOSAL)] {
            let bytes = hex::decode(hex_text).expect("hex");
            assert_eq!(ConsensusMessage::from_bytes(&bytes), Ok(message));
        }
    }
}
