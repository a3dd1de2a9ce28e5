//! Why a transaction was rejected: one variant per rule, each saying what was wrong.

use pov_crypto::{Address, KeyError, SignatureError};
use thiserror::Error;

use crate::amount::{Amount, AmountError};
use crate::params::EvalValue;
use crate::state::ContributionId;

/// A transaction that cannot be applied, and why. Applying it changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    /// The transaction names another cooperative.
    #[error("wrong chain: transaction is for {got:?}, this chain is {expected:?}")]
    WrongChain {
        /// This chain's id.
        expected: String,
        /// The transaction's chain id.
        got: String,
    },
    /// The signature does not verify.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The nonce is not the sender's next one.
    #[error("wrong nonce: expected {expected}, got {got}")]
    Nonce {
        /// The sender's nonce plus one.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The sender has no account (and admission is by invitation).
    #[error("unknown sender {0}: only members can send transactions (ask a member to admit you)")]
    UnknownSender(Address),
    /// A named member does not exist.
    #[error("unknown member {0}")]
    UnknownMember(Address),
    /// The member to admit already has an account.
    #[error("{0} is already a member")]
    AlreadyMember(Address),
    /// The key cannot hold an account.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// No contribution has that id.
    #[error("unknown contribution {0}")]
    UnknownContribution(ContributionId),
    /// The contribution type is not in the genesis.
    #[error("unknown contribution kind {0:?}")]
    UnknownKind(String),
    /// The value is not in the contribution's evaluation set.
    #[error("value {value} is not in the evaluation set {set:?}")]
    ValueNotInSet {
        /// The value given.
        value: EvalValue,
        /// The allowed values.
        set: Vec<EvalValue>,
    },
    /// Re-evaluating with the live value, under `revote = reject-same`.
    #[error("same-value re-vote: the live evaluation of contribution {contribution} already has value {value}")]
    SameValueRevote {
        /// The contribution.
        contribution: ContributionId,
        /// The repeated value.
        value: EvalValue,
    },
    /// The evaluator holds less reputation than the cooperative requires.
    #[error("reputation {have} is below the minimum {need} required to evaluate")]
    ReputationTooLow {
        /// The evaluator's reputation.
        have: Amount,
        /// `min_reputation_to_evaluate`.
        need: Amount,
    },
    /// Not enough tokens for a fee or a transfer.
    #[error("insufficient tokens: have {have}, need {need}")]
    InsufficientTokens {
        /// The sender's tokens.
        have: Amount,
        /// What the transaction costs.
        need: Amount,
    },
    /// Only members with reputation may admit newcomers.
    #[error("admitting a member requires reputation above 0")]
    AdmitWithoutReputation,
    /// A text field is longer than the protocol allows.
    #[error("{field} is {got} bytes, more than the {max} allowed")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// The limit in bytes.
        max: usize,
        /// Its length in bytes.
        got: usize,
    },
    /// A required field is empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A contribution with neither a URI nor a content hash.
    #[error("a contribution needs a uri or a content hash")]
    NoContent,
    /// A transfer of zero or a negative amount.
    #[error("transfer amount must be positive, got {0}")]
    NonPositiveAmount(Amount),
    /// A transfer to the sender itself.
    #[error("cannot transfer to yourself")]
    SelfTransfer,
    /// A step would make a balance negative.
    #[error("balance of member {member} would become negative")]
    Negative {
        /// The member.
        member: Address,
    },
    /// A non-empty member name that another member already holds (spec section 5, v1.1).
    #[error("the name {name:?} is already taken by another member")]
    NameTaken {
        /// The name.
        name: String,
    },
    /// A member name that cannot be shown safely.
    #[error("invalid member name {name:?}: {reason}")]
    BadName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// `Contribute` with the kind reserved for parameter proposals.
    #[error("the kind `governance` is reserved: propose parameter changes with a proposal (pov propose)")]
    ReservedKind,
    /// Proposals are switched off (`governance.enabled = false`).
    #[error("parameter proposals are disabled in this cooperative (governance.enabled is false)")]
    GovernanceDisabled,
    /// A proposal whose changes are not acceptable.
    #[error(transparent)]
    Proposal(Box<crate::governance::ChangeError>),
    /// An evaluation of a proposal after its last block.
    #[error("proposal expired: proposal {proposal} accepted evaluations up to height {expires_at}, this is height {height}")]
    ProposalExpired {
        /// The proposal.
        proposal: ContributionId,
        /// Its last height.
        expires_at: u64,
        /// The current height.
        height: u64,
    },
    /// `Evaluate` on a contribution of a sealed type (spec section 12).
    #[error("contribution {contribution} is sealed: commit a hidden value in its commit window and reveal it later (pov evaluate commits)")]
    SealedEvaluate {
        /// The contribution.
        contribution: ContributionId,
    },
    /// `Commit` or `Reveal` on a contribution whose type is open.
    #[error("contribution {contribution} is open, not sealed: evaluate it directly")]
    NotSealed {
        /// The contribution.
        contribution: ContributionId,
    },
    /// `Commit` outside the contribution's commit window.
    #[error("outside the commit window: contribution {contribution} takes commitments at heights {first} to {last}, this is height {height}")]
    OutsideCommitWindow {
        /// The contribution.
        contribution: ContributionId,
        /// The window's first height.
        first: u64,
        /// The window's last height.
        last: u64,
        /// The current height.
        height: u64,
    },
    /// `Reveal` outside the contribution's reveal window.
    #[error("outside the reveal window: contribution {contribution} takes reveals at heights {first} to {last}, this is height {height}")]
    OutsideRevealWindow {
        /// The contribution.
        contribution: ContributionId,
        /// The window's first height.
        first: u64,
        /// The window's last height.
        last: u64,
        /// The current height.
        height: u64,
    },
    /// `Commit` or `Reveal` on a settled (closed) sealed contribution.
    #[error("contribution {contribution} is closed: it settled at height {height}")]
    Closed {
        /// The contribution.
        contribution: ContributionId,
        /// Its settlement height.
        height: u64,
    },
    /// `Reveal` by a member without a live commitment on the contribution.
    #[error(
        "no commitment to reveal: the sender has no live commitment on contribution {contribution}"
    )]
    NoCommitment {
        /// The contribution.
        contribution: ContributionId,
    },
    /// `Reveal` of a commitment already opened.
    #[error("already revealed: the sender's commitment on contribution {contribution} is open")]
    AlreadyRevealed {
        /// The contribution.
        contribution: ContributionId,
    },
    /// `Reveal` whose value and salt do not hash to the live commitment.
    #[error(
        "the value and salt do not match the sender's commitment on contribution {contribution}"
    )]
    RevealMismatch {
        /// The contribution.
        contribution: ContributionId,
    },
    /// An arithmetic step overflowed.
    #[error(transparent)]
    Arithmetic(#[from] AmountError),
}

impl From<crate::governance::ChangeError> for TxError {
    fn from(e: crate::governance::ChangeError) -> TxError {
        TxError::Proposal(Box::new(e))
    }
}
