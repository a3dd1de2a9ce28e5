//! The cooperative's parameters (spec section 3): per contribution type and chain-wide.
//!
//! The genesis fixes the starting values; from protocol 1.1 on a passed parameter proposal
//! (spec section 11, [`crate::governance`]) can change them. A contribution keeps its own
//! copy of its type's parameters, so a later change never alters an evaluation already
//! running.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::amount::Amount;

/// A value a member may give a contribution (an entry of an evaluation set).
pub type EvalValue = i64;

/// The rules of one contribution type ("code", "design", "care", ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeParams {
    /// Tokens the contributor pays, burned, to submit (keeps spam costly).
    pub fee: Amount,
    /// `s`: the fraction of an evaluator's reputation put at stake.
    pub stake: Amount,
    /// `d`: the fraction of an evaluator's reputation shared with earlier aligned evaluators.
    pub distribution: Amount,
    /// `β`: how strongly the stake shrinks as more reputation has engaged.
    pub fee_exponent: Amount,
    /// The allowed values, strictly increasing.
    pub evaluation_set: Vec<EvalValue>,
    /// How the contributor is rewarded.
    pub reward: RewardRule,
    /// Tokens minted per contribution for its first-time evaluators (0 = none).
    #[serde(default)]
    pub evaluator_fund: Amount,
    /// Sealed evaluation (spec section 12, v1.2): values are committed, revealed and
    /// settled together, so that nobody can copy earlier values. `None`: open, as in v1.
    #[serde(default)]
    pub sealed: Option<Sealed>,
}

/// The windows of a sealed contribution type (spec section 12), in blocks after the block
/// that included the contribution: `commit_blocks` heights for `Commit`, then
/// `reveal_blocks` heights for `Reveal`, then settlement at the start of the next block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    /// How many blocks the commit window lasts (at least 1).
    pub commit_blocks: u64,
    /// How many blocks the reveal window lasts (at least 1).
    pub reveal_blocks: u64,
}

/// The longest window a sealed type may have, in blocks (about three years of one-second
/// blocks): it keeps every settlement height far from `u64::MAX`.
pub const MAX_SEALED_WINDOW: u64 = 100_000_000;

impl Sealed {
    /// The last height of the commit window of a contribution included at `included`.
    pub fn commit_end(&self, included: u64) -> u64 {
        included.saturating_add(self.commit_blocks)
    }

    /// The last height of the reveal window of a contribution included at `included`.
    pub fn reveal_end(&self, included: u64) -> u64 {
        self.commit_end(included).saturating_add(self.reveal_blocks)
    }

    /// The height at whose start a contribution included at `included` settles.
    pub fn settles_at(&self, included: u64) -> u64 {
        self.reveal_end(included).saturating_add(1)
    }
}

/// The contributor reward rule of spec section 4, step 5.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum RewardRule {
    /// Backfeed 2016: binary sets; reward grows with the share of reputation voting the top
    /// value once it passes a threshold.
    Threshold {
        /// θ: the share of reputation that must vote the top value before anything is minted.
        threshold: Amount,
        /// Tokens minted per unit of score.
        token_factor: Amount,
        /// Reputation minted per unit of score.
        reputation_factor: Amount,
    },
    /// Technical Summary: mint up to the table entry of the reputation-weighted median.
    Median {
        /// Tokens for each value of the evaluation set, in the set's order.
        token_value: Vec<Amount>,
        /// Reputation for each value of the evaluation set, in the set's order.
        reputation_value: Vec<Amount>,
    },
}

/// What happens when a member evaluates a contribution again with the value it already gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Revote {
    /// Rejected: repeating a vote would only farm redistribution (pov's default).
    #[default]
    RejectSame,
    /// Processed in full, with all its costs (the 2016 reference's behaviour).
    Reprocess,
}

/// How new members join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Admission {
    /// A member with reputation admits newcomers with an `Admit` transaction.
    #[default]
    Invite,
    /// Any unknown key's first valid transaction creates its account, with nothing granted.
    Open,
}

/// What an admitted member starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// Reputation minted for the newcomer.
    pub reputation: Amount,
    /// Tokens minted for the newcomer.
    pub tokens: Amount,
}

/// All parameters of a cooperative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The contribution types, by name (sorted, so the encoding is canonical).
    pub types: BTreeMap<String, TypeParams>,
    /// The re-vote policy.
    #[serde(default)]
    pub revote: Revote,
    /// Share of a referred member's gains minted again for its referrer.
    #[serde(default = "default_referral_fraction")]
    pub referral_fraction: Amount,
    /// How members join.
    #[serde(default)]
    pub admission: Admission,
    /// What an admitted member starts with.
    #[serde(default)]
    pub initial_grant: Grant,
    /// Reputation below which a member may not evaluate.
    #[serde(default)]
    pub min_reputation_to_evaluate: Amount,
    /// How parameter proposals are evaluated (spec section 11).
    #[serde(default)]
    pub governance: GovernanceParams,
}

/// The reserved contribution kind of parameter proposals: no `params.types` entry may use it.
pub const GOVERNANCE_KIND: &str = "governance";

/// The chain-wide `governance` table (spec section 11): the rules parameter proposals are
/// evaluated by. A proposal is a contribution of the reserved kind [`GOVERNANCE_KIND`],
/// evaluated on `[0, 1]` (reject, accept) with the median rule and no contributor reward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceParams {
    /// Tokens burned to propose (a proposal costs every member some attention).
    #[serde(default = "default_governance_fee")]
    pub fee: Amount,
    /// `s` for evaluations of proposals.
    #[serde(default = "default_stake")]
    pub stake: Amount,
    /// `d` for evaluations of proposals.
    #[serde(default = "default_distribution")]
    pub distribution: Amount,
    /// `β` for evaluations of proposals.
    #[serde(default = "default_fee_exponent")]
    pub fee_exponent: Amount,
    /// Blocks after the including block during which a proposal may still be evaluated
    /// (and so pass); a week of one-second blocks by default.
    #[serde(default = "default_expiry_blocks")]
    pub expiry_blocks: u64,
    /// Whether proposals are accepted at all. Once a proposal turns it off, nothing but a
    /// new genesis turns it back on.
    #[serde(default = "default_true")]
    pub enabled: bool,
}

fn default_governance_fee() -> Amount {
    Amount::from_int(10)
}

fn default_stake() -> Amount {
    dec(2, 2)
}

fn default_distribution() -> Amount {
    dec(8, 2)
}

fn default_fee_exponent() -> Amount {
    dec(5, 1)
}

fn default_expiry_blocks() -> u64 {
    604_800
}

fn default_true() -> bool {
    true
}

impl Default for GovernanceParams {
    fn default() -> Self {
        GovernanceParams {
            fee: default_governance_fee(),
            stake: default_stake(),
            distribution: default_distribution(),
            fee_exponent: default_fee_exponent(),
            expiry_blocks: default_expiry_blocks(),
            enabled: true,
        }
    }
}

impl GovernanceParams {
    /// The parameters a new proposal snapshots, as any contribution snapshots its type's:
    /// the evaluation set `[0, 1]`, the median rule with both tables at zero (passing mints
    /// nothing), no evaluator fund.
    pub fn type_params(&self) -> TypeParams {
        TypeParams {
            fee: self.fee,
            stake: self.stake,
            distribution: self.distribution,
            fee_exponent: self.fee_exponent,
            evaluation_set: vec![0, 1],
            reward: RewardRule::Median {
                token_value: vec![Amount::ZERO; 2],
                reputation_value: vec![Amount::ZERO; 2],
            },
            evaluator_fund: Amount::ZERO,
            sealed: None,
        }
    }
}

fn default_referral_fraction() -> Amount {
    Amount::round(rust_decimal::Decimal::new(2, 1)).unwrap_or(Amount::ZERO)
}

fn dec(mantissa: i64, scale: u32) -> Amount {
    Amount::round(rust_decimal::Decimal::new(mantissa, scale)).unwrap_or(Amount::ZERO)
}

impl TypeParams {
    /// The defaults a new cooperative starts from: the Technical Summary's median rule on a
    /// 0..5 scale with Backfeed's stake 0.02, distribution 0.08 and exponent 0.5.
    pub fn default_median() -> TypeParams {
        let tokens = [0, 1, 2, 5, 10, 20];
        let reputation = [0, 1, 2, 4, 7, 10];
        TypeParams {
            fee: Amount::ONE,
            stake: default_stake(),
            distribution: default_distribution(),
            fee_exponent: default_fee_exponent(),
            evaluation_set: (0..=5).collect(),
            reward: RewardRule::Median {
                token_value: tokens.iter().map(|v| Amount::from_int(*v)).collect(),
                reputation_value: reputation.iter().map(|v| Amount::from_int(*v)).collect(),
            },
            evaluator_fund: Amount::ZERO,
            sealed: None,
        }
    }

    /// Position of `value` in the evaluation set, if it is allowed.
    pub fn value_index(&self, value: EvalValue) -> Option<usize> {
        self.evaluation_set.binary_search(&value).ok()
    }

    /// The lowest allowed value (where the median starts).
    pub fn lowest_value(&self) -> EvalValue {
        self.evaluation_set.first().copied().unwrap_or_default()
    }

    /// The highest allowed value (the only one the threshold rule rewards).
    pub fn top_value(&self) -> EvalValue {
        self.evaluation_set.last().copied().unwrap_or_default()
    }
}

impl Default for Params {
    fn default() -> Self {
        let mut types = BTreeMap::new();
        types.insert("work".to_string(), TypeParams::default_median());
        Params {
            types,
            revote: Revote::RejectSame,
            referral_fraction: default_referral_fraction(),
            admission: Admission::Invite,
            initial_grant: Grant {
                reputation: Amount::from_int(1),
                tokens: Amount::from_int(10),
            },
            min_reputation_to_evaluate: Amount::ZERO,
            governance: GovernanceParams::default(),
        }
    }
}
