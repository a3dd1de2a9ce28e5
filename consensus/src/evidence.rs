//! Proof of misbehaviour the core hands out: double votes and double proposals.
//!
//! (The other proof it hands out, the commit certificate of a decision, is
//! [`pov_protocol::block::Certificate`]: storage and offline verifiers check it too, so it is
//! defined once, below this crate.)

use pov_crypto::{Address, SignatureError};
use pov_protocol::serde::{Deserialize, Serialize};

use super::error::EvidenceError;
use super::types::{SignedProposal, SignedVote, VoteKind};

/// Proof that a validator misbehaved, for the host to gossip, store and act on.
///
/// Its serde form is canonical postcard (variants are index-tagged: append new ones at the
/// end).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(crate = "pov_protocol::serde")]
pub enum Evidence {
    /// Two different signed votes of one validator for the same height, round and kind.
    DoubleSign {
        /// The equivocating validator.
        validator: Address,
        /// The vote the core saw first (the one it counted).
        vote_a: SignedVote,
        /// The conflicting vote.
        vote_b: SignedVote,
    },
    /// Two different signed proposals of one proposer for the same height and round.
    DoubleProposal {
        /// The equivocating proposer.
        proposer: Address,
        /// The proposal the core saw first.
        proposal_a: SignedProposal,
        /// The conflicting proposal.
        proposal_b: SignedProposal,
    },
}

/// Which message an offence is about: a proposal, or a vote of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Offence {
    /// Two proposals.
    Proposal,
    /// Two votes of this kind.
    Vote(VoteKind),
}

impl Evidence {
    /// The validator that misbehaved.
    pub fn offender(&self) -> Address {
        match self {
            Evidence::DoubleSign { validator, .. } => *validator,
            Evidence::DoubleProposal { proposer, .. } => *proposer,
        }
    }

    /// The height of the offence.
    pub fn height(&self) -> u64 {
        match self {
            Evidence::DoubleSign { vote_a, .. } => vote_a.vote.height,
            Evidence::DoubleProposal { proposal_a, .. } => proposal_a.proposal.height,
        }
    }

    /// The round of the offence.
    pub fn round(&self) -> u32 {
        match self {
            Evidence::DoubleSign { vote_a, .. } => vote_a.vote.round,
            Evidence::DoubleProposal { proposal_a, .. } => proposal_a.proposal.round,
        }
    }

    /// What was signed twice.
    pub fn offence(&self) -> Offence {
        match self {
            Evidence::DoubleSign { vote_a, .. } => Offence::Vote(vote_a.vote.kind),
            Evidence::DoubleProposal { .. } => Offence::Proposal,
        }
    }

    /// The same evidence with its two messages in a fixed order (by signature bytes), so
    /// that two nodes that saw them in different orders store and gossip the same bytes.
    pub fn normalized(self) -> Evidence {
        match self {
            Evidence::DoubleSign {
                validator,
                vote_a,
                vote_b,
            } if vote_b.signature.0 < vote_a.signature.0 => Evidence::DoubleSign {
                validator,
                vote_a: vote_b,
                vote_b: vote_a,
            },
            Evidence::DoubleProposal {
                proposer,
                proposal_a,
                proposal_b,
            } if proposal_b.signature.0 < proposal_a.signature.0 => Evidence::DoubleProposal {
                proposer,
                proposal_a: proposal_b,
                proposal_b: proposal_a,
            },
            other => other,
        }
    }

    /// Checks the evidence, verifying both signatures.
    pub fn verify(&self) -> Result<(), EvidenceError> {
        self.verify_with(SignedVote::verify)?;
        if let Evidence::DoubleProposal {
            proposal_a,
            proposal_b,
            ..
        } = self
        {
            proposal_a.verify()?;
            proposal_b.verify()?;
        }
        Ok(())
    }

    /// Like [`Evidence::verify`], with the vote signature check supplied by the caller
    /// (proposals' signatures are not checked here: [`Evidence::verify`] does).
    pub fn verify_with<F>(&self, mut check_signature: F) -> Result<(), EvidenceError>
    where
        F: FnMut(&SignedVote) -> Result<(), SignatureError>,
    {
        match self {
            Evidence::DoubleSign {
                validator,
                vote_a,
                vote_b,
            } => {
                let (a, b) = (&vote_a.vote, &vote_b.vote);
                let same_slot = a.validator == *validator
                    && b.validator == *validator
                    && a.kind == b.kind
                    && a.height == b.height
                    && a.round == b.round;
                if !same_slot || a.value == b.value {
                    return Err(EvidenceError::NotConflicting);
                }
                check_signature(vote_a)?;
                check_signature(vote_b)?;
                Ok(())
            }
            Evidence::DoubleProposal {
                proposer,
                proposal_a,
                proposal_b,
            } => {
                let (a, b) = (&proposal_a.proposal, &proposal_b.proposal);
                let same_slot = a.proposer == *proposer
                    && b.proposer == *proposer
                    && a.height == b.height
                    && a.round == b.round;
                if !same_slot || a == b {
                    return Err(EvidenceError::NotConflicting);
                }
                Ok(())
            }
        }
    }
}
