//! Errors of the consensus core, one enum per kind of caller mistake or bad data.

use pov_crypto::{Address, SignatureError};
use thiserror::Error;

use super::types::VoteKind;

/// Why the core refused a host request (start a height, restore, sign).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConsensusError {
    /// Heights only move forward; going back would let the node vote twice at a height.
    #[error("cannot start height {requested}: the core is already at height {current}")]
    HeightNotIncreasing {
        /// The height the core is at.
        current: u64,
        /// The height that was asked for.
        requested: u64,
    },
    /// A message handed to restore was not signed by this node.
    #[error(
        "persisted message is signed by {signer}, not by this node ({own}); wrong consensus log?"
    )]
    ForeignPersistedMessage {
        /// Who signed it.
        signer: Address,
        /// This node's address.
        own: Address,
    },
    /// A message handed to restore belongs to another height.
    #[error("persisted message is for height {found}, but height {expected} is being restored")]
    WrongPersistedHeight {
        /// The height being restored.
        expected: u64,
        /// The message's height.
        found: u64,
    },
    /// A persisted message's signature is not this node's signature over it.
    #[error("persisted message at round {round} has a signature this node did not make; the consensus log is corrupt")]
    BadPersistedSignature {
        /// The message's round.
        round: u32,
    },
    /// The log holds two different own votes for one slot: the node already equivocated.
    #[error(
        "consensus log holds two different {kind:?} votes for round {round}; refusing to start"
    )]
    ConflictingPersistedVotes {
        /// The round of the two votes.
        round: u32,
        /// Their kind.
        kind: VoteKind,
    },
    /// The log holds two different own proposals for one round.
    #[error("consensus log holds two different proposals for round {round}; refusing to start")]
    ConflictingPersistedProposals {
        /// The round of the two proposals.
        round: u32,
    },
    /// A message was to be signed with a key that is not its signer's.
    #[error("message names signer {expected} but the key is {key}")]
    WrongSigner {
        /// The address the message names.
        expected: Address,
        /// The key's address.
        key: Address,
    },
}

/// Why a piece of evidence does not prove misbehaviour.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvidenceError {
    /// The two messages are not for the same slot by the named validator, or do not differ.
    #[error(
        "the two messages are not two different messages of one validator for one height, round and kind"
    )]
    NotConflicting,
    /// A signature does not verify.
    #[error(transparent)]
    BadSignature(#[from] SignatureError),
}
