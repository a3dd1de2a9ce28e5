//! Proof of misbehaviour the core hands out: double-sign evidence.
//!
//! (The other proof it hands out, the commit certificate of a decision, is
//! [`pov_protocol::block::Certificate`]: storage and offline verifiers check it too, so it is
//! defined once, below this crate.)

use pov_crypto::{Address, SignatureError};
use pov_protocol::serde::{Deserialize, Serialize};

use super::error::EvidenceError;
use super::types::SignedVote;

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
}

impl Evidence {
    /// Checks the evidence, verifying both signatures.
    pub fn verify(&self) -> Result<(), EvidenceError> {
        self.verify_with(SignedVote::verify)
    }

    /// Like [`Evidence::verify`], with the signature check supplied by the caller.
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
        }
    }
}
