//! Consensus messages and the exact bytes a validator signs for each of them.
//!
//! Sign-bytes are fixed-width and big-endian, behind a domain tag, so that a vote can never
//! be read as a proposal (or as anything else `pov` signs), and so that every implementation
//! produces the same bytes without a serializer in the loop.

use pov_crypto::{Address, Hash, Keypair, Signature, SignatureError};
use pov_protocol::serde::{Deserialize, Serialize};

use super::error::ConsensusError;
use super::value::NilOrVal;

/// Domain tag in front of every vote's sign-bytes.
pub const VOTE_DOMAIN: &[u8] = pov_protocol::block::VOTE_DOMAIN;
/// Domain tag in front of every proposal's sign-bytes.
pub const PROPOSAL_DOMAIN: &[u8] = b"pov/proposal/v1";

/// Which of the two voting phases of a round a vote belongs to.
///
/// On the wire (postcard) a prevote is 0 and a precommit 1: keep the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(crate = "pov_protocol::serde")]
pub enum VoteKind {
    /// First phase: "I accept this round's proposal for this value" (or nil: I do not).
    Prevote,
    /// Second phase: "more than 2/3 prevoted this value, and I lock on it" (or nil).
    Precommit,
}

impl VoteKind {
    /// The byte that stands for the kind in sign-bytes (never 0, so a zeroed buffer is no vote).
    fn tag(self) -> u8 {
        match self {
            VoteKind::Prevote => pov_protocol::block::PREVOTE,
            VoteKind::Precommit => pov_protocol::block::PRECOMMIT,
        }
    }
}

/// The phase a validator is in within a round (`step_p` in the paper).
///
/// Ordered as in the paper so that `step >= Step::Prevote` reads like its guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Waiting for the round's proposal.
    Propose,
    /// Prevoted; waiting for more than 2/3 prevotes.
    Prevote,
    /// Precommitted; waiting for a decision or for the round to end.
    Precommit,
}

/// One validator's vote for a value (or for nil) at one height, round and phase.
///
/// Its serde form is the wire and consensus-log form (canonical postcard, fields in this
/// order); what the validator signs is [`Vote::sign_bytes`], not that.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(crate = "pov_protocol::serde")]
pub struct Vote {
    /// Prevote or precommit.
    pub kind: VoteKind,
    /// The height (block number) being decided.
    pub height: u64,
    /// The round within the height.
    pub round: u32,
    /// The block hash voted for, or nil.
    pub value: NilOrVal<Hash>,
    /// The voter, whose key signs the vote.
    pub validator: Address,
}

/// Number of bytes in [`Vote::sign_bytes`].
pub const VOTE_SIGN_BYTES_LEN: usize = 11 + 1 + 8 + 4 + 1 + 32 + 32;

impl Vote {
    /// The canonical bytes a validator signs for this vote.
    ///
    /// Layout: `"pov/vote/v1"`, kind (1 = prevote, 2 = precommit), height (u64 BE),
    /// round (u32 BE), 0 for nil or 1 for a value, the value (32 zero bytes for nil), the
    /// validator address. No chain id: spec section 6 defines a commit signature as one over
    /// (height, round, hash), and the block hash already commits to the chain id.
    pub fn sign_bytes(&self) -> Vec<u8> {
        pov_protocol::block::vote_sign_bytes(
            self.kind.tag(),
            self.height,
            self.round,
            self.value.as_ref().value(),
            &self.validator,
        )
    }

    /// Signs the vote with `keypair`, which must be the key of `self.validator`.
    pub fn sign(self, keypair: &Keypair) -> Result<SignedVote, ConsensusError> {
        check_signer(self.validator, keypair)?;
        Ok(self.sign_unchecked(keypair))
    }

    /// Signs without checking that `keypair` belongs to `self.validator` (the core only
    /// signs votes it built with its own address).
    pub(crate) fn sign_unchecked(self, keypair: &Keypair) -> SignedVote {
        SignedVote {
            signature: keypair.sign(&self.sign_bytes()),
            vote: self,
        }
    }
}

/// A vote together with its validator's signature over [`Vote::sign_bytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(crate = "pov_protocol::serde")]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// ed25519 signature of `vote.validator` over `vote.sign_bytes()`.
    pub signature: Signature,
}

impl SignedVote {
    /// Checks the signature under the strict rule of `pov-crypto`.
    ///
    /// The core trusts its inputs: the host calls this (or an equivalent cached check) on
    /// every vote that arrives from the network before handing it to the core.
    pub fn verify(&self) -> Result<(), SignatureError> {
        self.signature
            .verify(&self.vote.validator, &self.vote.sign_bytes())
    }
}

/// A proposer's proposal of a value for one height and round.
///
/// Its serde form is the wire and consensus-log form; what the proposer signs is
/// [`Proposal::sign_bytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(crate = "pov_protocol::serde")]
pub struct Proposal {
    /// The height being decided.
    pub height: u64,
    /// The round this proposal is for.
    pub round: u32,
    /// The proposed block's hash; the host carries the block itself beside the proposal.
    pub value: Hash,
    /// The round in which the proposer saw more than 2/3 prevotes for `value` (the paper's
    /// `validRound`), or `None` (the paper's -1) for a fresh value.
    pub pol_round: Option<u32>,
    /// The proposer, who must be [`crate::ValidatorSet::proposer`] of
    /// `(height, round)`.
    pub proposer: Address,
}

/// Number of bytes in [`Proposal::sign_bytes`].
pub const PROPOSAL_SIGN_BYTES_LEN: usize = 15 + 8 + 4 + 32 + 1 + 4 + 32;

impl Proposal {
    /// The canonical bytes a proposer signs for this proposal.
    ///
    /// Layout: `"pov/proposal/v1"`, height (u64 BE), round (u32 BE), value, 0 for no POL
    /// round or 1 for one, the POL round (u32 BE, 0 when absent), the proposer address.
    pub fn sign_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PROPOSAL_SIGN_BYTES_LEN);
        out.extend_from_slice(PROPOSAL_DOMAIN);
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.round.to_be_bytes());
        out.extend_from_slice(self.value.as_bytes());
        out.push(u8::from(self.pol_round.is_some()));
        out.extend_from_slice(&self.pol_round.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(self.proposer.as_bytes());
        out
    }

    /// Signs the proposal with `keypair`, which must be the key of `self.proposer`.
    pub fn sign(self, keypair: &Keypair) -> Result<SignedProposal, ConsensusError> {
        check_signer(self.proposer, keypair)?;
        Ok(self.sign_unchecked(keypair))
    }

    /// Signs without the key check (the core only signs its own proposals).
    pub(crate) fn sign_unchecked(self, keypair: &Keypair) -> SignedProposal {
        SignedProposal {
            signature: keypair.sign(&self.sign_bytes()),
            proposal: self,
        }
    }
}

/// A proposal together with its proposer's signature over [`Proposal::sign_bytes`].
///
/// Signed so that any node can relay it (a lagging peer needs the decided round's proposal
/// to decide) without the receiver having to trust the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(crate = "pov_protocol::serde")]
pub struct SignedProposal {
    /// The proposal.
    pub proposal: Proposal,
    /// ed25519 signature of `proposal.proposer` over `proposal.sign_bytes()`.
    pub signature: Signature,
}

impl SignedProposal {
    /// Checks the signature under the strict rule of `pov-crypto` (the host's job, as for votes).
    pub fn verify(&self) -> Result<(), SignatureError> {
        self.signature
            .verify(&self.proposal.proposer, &self.proposal.sign_bytes())
    }
}

/// Everything one validator sends to the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Message {
    /// A proposal (the host attaches the block whose hash is the value).
    Proposal(SignedProposal),
    /// A prevote or precommit.
    Vote(SignedVote),
}

impl Message {
    /// The height the message is about.
    pub fn height(&self) -> u64 {
        match self {
            Message::Proposal(p) => p.proposal.height,
            Message::Vote(v) => v.vote.height,
        }
    }

    /// The round the message is about.
    pub fn round(&self) -> u32 {
        match self {
            Message::Proposal(p) => p.proposal.round,
            Message::Vote(v) => v.vote.round,
        }
    }

    /// The validator whose signature the message carries.
    pub fn signer(&self) -> Address {
        match self {
            Message::Proposal(p) => p.proposal.proposer,
            Message::Vote(v) => v.vote.validator,
        }
    }

    /// The bytes the signer signed.
    pub fn sign_bytes(&self) -> Vec<u8> {
        match self {
            Message::Proposal(p) => p.proposal.sign_bytes(),
            Message::Vote(v) => v.vote.sign_bytes(),
        }
    }

    /// The signature the message carries.
    pub fn signature(&self) -> Signature {
        match self {
            Message::Proposal(p) => p.signature,
            Message::Vote(v) => v.signature,
        }
    }

    /// Checks the signature (see [`SignedVote::verify`]).
    pub fn verify(&self) -> Result<(), SignatureError> {
        self.signature().verify(&self.signer(), &self.sign_bytes())
    }
}

fn check_signer(expected: Address, keypair: &Keypair) -> Result<(), ConsensusError> {
    let key = keypair.address();
    if key == expected {
        Ok(())
    } else {
        Err(ConsensusError::WrongSigner { expected, key })
    }
}
