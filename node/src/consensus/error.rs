//! Errors of the consensus core, one enum per kind of caller mistake or bad data.

use pov_crypto::{Address, SignatureError};
use thiserror::Error;

use super::types::VoteKind;

/// Why a list of validators cannot be used as a validator set.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidatorSetError {
    /// No validators: nobody could ever propose or vote.
    #[error("the validator set is empty; genesis must name at least one validator")]
    Empty,
    /// The same address twice would count its power twice.
    #[error("validator {0} appears more than once; list each validator once")]
    Duplicate(Address),
    /// A validator without power can never change a tally; it is a configuration mistake.
    #[error("validator {0} has zero voting power; give it power or remove it")]
    ZeroPower(Address),
    /// The total power must fit in a u64 so that tallies cannot overflow.
    #[error("the validators' total voting power does not fit in 64 bits; use smaller powers")]
    PowerOverflow,
}

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

/// Why a commit certificate does not prove a decision.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CertificateError {
    /// A signature in it is not a precommit for the certified (height, round, value).
    #[error("signature {index} is not a precommit for the certified height, round and value")]
    WrongVote {
        /// Position in the certificate.
        index: usize,
    },
    /// A signer is not in the validator set.
    #[error("signer {0} is not a validator")]
    UnknownValidator(Address),
    /// A signer appears twice, which would count its power twice.
    #[error("validator {0} signs the certificate twice")]
    DuplicateValidator(Address),
    /// A signature does not verify.
    #[error(transparent)]
    BadSignature(#[from] SignatureError),
    /// The signers hold no more than 2/3 of the voting power.
    #[error("certificate carries power {power} of {total}; more than 2/3 is needed")]
    InsufficientPower {
        /// Power of the signers.
        power: u64,
        /// Total power of the set.
        total: u64,
    },
}

/// Why a piece of evidence does not prove misbehaviour.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvidenceError {
    /// The two votes are not for the same slot by the named validator, or do not differ.
    #[error(
        "the two votes are not two different votes of one validator for one height, round and kind"
    )]
    NotConflicting,
    /// A signature does not verify.
    #[error(transparent)]
    BadSignature(#[from] SignatureError),
}
