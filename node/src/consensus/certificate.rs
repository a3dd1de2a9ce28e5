//! Proofs the core hands out: commit certificates (a decision) and double-sign evidence.

use std::collections::BTreeSet;

use pov_crypto::{Address, Hash, SignatureError};

use super::error::{CertificateError, EvidenceError};
use super::types::{SignedVote, VoteKind};
use super::validators::ValidatorSet;

/// Precommits of more than 2/3 of the power for one value in one round: the proof that the
/// value is decided at `height` (spec section 6: a block is final when it carries one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitCertificate {
    /// The decided height.
    pub height: u64,
    /// The round in which the value was decided.
    pub round: u32,
    /// The decided block hash.
    pub value: Hash,
    /// The precommits, one per validator, in address order.
    pub precommits: Vec<SignedVote>,
}

impl CommitCertificate {
    /// Checks the certificate against `validators`, verifying every signature.
    pub fn verify(&self, validators: &ValidatorSet) -> Result<(), CertificateError> {
        self.verify_with(validators, SignedVote::verify)
    }

    /// Like [`CommitCertificate::verify`], with the signature check supplied by the caller.
    ///
    /// For hosts that already verified some of these votes (when they arrived as gossip)
    /// and cache the result, as spec section 7 allows.
    pub fn verify_with<F>(
        &self,
        validators: &ValidatorSet,
        mut check_signature: F,
    ) -> Result<(), CertificateError>
    where
        F: FnMut(&SignedVote) -> Result<(), SignatureError>,
    {
        let mut signers = BTreeSet::new();
        let mut power: u64 = 0;
        for (index, signed) in self.precommits.iter().enumerate() {
            let vote = &signed.vote;
            if vote.kind != VoteKind::Precommit
                || vote.height != self.height
                || vote.round != self.round
                || vote.value != Some(self.value)
            {
                return Err(CertificateError::WrongVote { index });
            }
            let vote_power = validators
                .power_of(&vote.validator)
                .ok_or(CertificateError::UnknownValidator(vote.validator))?;
            if !signers.insert(vote.validator) {
                return Err(CertificateError::DuplicateValidator(vote.validator));
            }
            check_signature(signed)?;
            // Distinct validators of one set: the sum is at most the set's total.
            power += vote_power;
        }
        if validators.is_quorum(power) {
            Ok(())
        } else {
            Err(CertificateError::InsufficientPower {
                power,
                total: validators.total_power(),
            })
        }
    }
}

/// Proof that a validator misbehaved, for the host to gossip, store and act on.
#[derive(Clone, Debug, PartialEq, Eq)]
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
