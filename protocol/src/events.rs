//! Events: every change of a balance, with the rule that made it (spec section 4, step 7),
//! and what the start of a block did (parameter changes taking effect, spec section 11;
//! sealed contributions settling, spec section 12).
//!
//! Events are the answer to "why did my reputation change?": they are returned by every
//! applied transaction, stored with its block, and replayed line by line by `pov explain`.

use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::state::{ContributionId, MemberId};

/// The rule of the protocol that changed a balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// The contribution fee, burned from the contributor's tokens.
    Fee,
    /// The evaluator's reputation burned as stake (step 3).
    Stake,
    /// Reputation shared with earlier evaluators who gave the same value (step 4).
    Redistribution,
    /// The referrer's share of a referred member's gains.
    Referral,
    /// Tokens and reputation minted for the contributor (step 5).
    ContributorReward,
    /// Tokens paid from a contribution's evaluator fund (step 1).
    EvaluatorFund,
    /// Tokens moved by a `Transfer` transaction.
    Transfer,
    /// The initial grant of an admitted member.
    Admission,
}

impl Rule {
    /// The rule's name as the spec writes it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Fee => "fee",
            Rule::Stake => "stake",
            Rule::Redistribution => "redistribution",
            Rule::Referral => "referral",
            Rule::ContributorReward => "contributor-reward",
            Rule::EvaluatorFund => "evaluator-fund",
            Rule::Transfer => "transfer",
            Rule::Admission => "admission",
        }
    }
}

/// Which balance changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Asset {
    /// Non-transferable reputation.
    Reputation,
    /// Transferable tokens.
    Tokens,
}

/// One change of one member's balance.
///
/// The member is named by its [`MemberId`] (its admission index, stable forever) rather
/// than its 32-byte address: a single evaluation can touch hundreds of members, and events
/// are stored with every block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The rule that made the change.
    pub rule: Rule,
    /// The member whose balance changed.
    pub member: MemberId,
    /// Which balance.
    pub asset: Asset,
    /// The signed change (negative for fees, stakes and outgoing transfers).
    pub amount: Amount,
    /// The contribution the change belongs to, if any.
    pub contribution: Option<ContributionId>,
}

/// Something the start of a block did, before its transactions (spec sections 11 and 12).
///
/// [`crate::State::begin_block`] returns these in order; a node stores them with the block.
/// Section 12's settlement of sealed contributions happens at the same point: per
/// contribution, in ascending id, its balance changes and then its `settled` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockEvent {
    /// `param-change`: one parameter of a passed proposal took effect, with its old and new
    /// value.
    ParamChange(crate::governance::ParamChangeEvent),
    /// A passed proposal whose changes no longer made valid parameters, combined with those
    /// that took effect before it: nothing of it applied.
    ProposalVoid(crate::governance::VoidEvent),
    /// A balance change made by a settlement (spec section 12): redistribution, referral or
    /// contributor reward, exactly as an evaluation's events.
    Balance(Event),
    /// `settled`: a sealed contribution settled and closed; how many committed, revealed
    /// and forfeited (spec section 12).
    Settled(crate::sealed::SettledEvent),
    /// A revealed evaluation that settlement could not process (an arithmetic overflow):
    /// its changes were undone and it counts nowhere; the settlement went on without it.
    SettlementSkipped(crate::sealed::SkippedEvent),
}
