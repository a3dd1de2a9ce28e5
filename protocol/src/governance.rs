//! Parameter changes decided by Proof-of-Value (spec section 11).
//!
//! A cooperative changes its own rules the way it values work:
//!
//! 1. **Propose.** A `ProposeParams { title, uri, changes }` transaction names one or more
//!    parameters by path ([`ParamPath`]) with a full new value each ([`ParamValue`]). It is
//!    refused at submission when `governance.enabled` is false, when a path is unknown or
//!    its value has the wrong type, or when the parameters that would result (today's, with
//!    the changes applied in order) fail genesis validation. It pays `governance.fee`
//!    (burned) and creates a contribution of the reserved kind `governance`, whose snapshot
//!    of parameters is the governance table's ([`crate::params::GovernanceParams`]).
//! 2. **Evaluate.** Members evaluate it with `Evaluate` exactly as any contribution (spec
//!    section 4: stake, redistribution, events) on `[0, 1]` (reject, accept) with the median
//!    rule and no contributor reward, in blocks up to and including `H + expiry_blocks` (`H`
//!    the block that included it; `expiry_blocks` as it was at submission). Later
//!    evaluations are refused, so an expired proposal can no longer pass.
//! 3. **Pass.** It passes at the first evaluation whose step 5 finds the median `m_c = 1`:
//!    members holding at least half of all reputation have a live evaluation of 1. The
//!    proposal is queued; passing changes no balance.
//! 4. **Take effect.** At the start of the next block ([`crate::State::begin_block`]), the
//!    queued proposals take effect in the order they passed, so the later one wins on a path
//!    both touch. Each proposal's changes apply together: if, combined with what passed
//!    before it, they no longer make valid parameters (two proposals each valid alone),
//!    none of them applies and the proposal is void. Every applied path emits a
//!    `param-change` event with its old and new value, and records its provenance (the
//!    proposal and height), which the state root covers. A contribution already submitted
//!    keeps its snapshot; a later fall of the median undoes nothing.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::amount::Amount;
use crate::genesis::Problem;
use crate::params::{
    Admission, EvalValue, GovernanceParams, Grant, Params, Revote, RewardRule, Sealed, TypeParams,
    GOVERNANCE_KIND,
};
use crate::state::ContributionId;

/// Most changes one proposal may carry (a bound on the work one transaction can cause).
pub const MAX_CHANGES: usize = 32;
/// Longest parameter path, in bytes.
pub const MAX_PATH_BYTES: usize = 128;

/// A field of a contribution type that a path can name (`types.<kind>.<field>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TypeField {
    /// `fee`
    Fee,
    /// `stake`
    Stake,
    /// `distribution`
    Distribution,
    /// `fee_exponent`
    FeeExponent,
    /// `evaluation_set`
    EvaluationSet,
    /// `reward`
    Reward,
    /// `evaluator_fund`
    EvaluatorFund,
    /// `sealed`: the windows of a sealed type, or `none` for an open one (v1.2).
    Sealed,
    /// `sealed.commit_blocks` (setting it on an open type seals it, both windows this long).
    SealedCommitBlocks,
    /// `sealed.reveal_blocks` (setting it on an open type seals it, both windows this long).
    SealedRevealBlocks,
}

impl TypeField {
    /// Every field with a value of its own, in the order `GET /params` lists them (the
    /// two windows of `sealed` are listed within it).
    pub const ALL: [TypeField; 8] = [
        TypeField::Fee,
        TypeField::Stake,
        TypeField::Distribution,
        TypeField::FeeExponent,
        TypeField::EvaluationSet,
        TypeField::Reward,
        TypeField::EvaluatorFund,
        TypeField::Sealed,
    ];

    fn name(self) -> &'static str {
        match self {
            TypeField::Fee => "fee",
            TypeField::Stake => "stake",
            TypeField::Distribution => "distribution",
            TypeField::FeeExponent => "fee_exponent",
            TypeField::EvaluationSet => "evaluation_set",
            TypeField::Reward => "reward",
            TypeField::EvaluatorFund => "evaluator_fund",
            TypeField::Sealed => "sealed",
            TypeField::SealedCommitBlocks => "sealed.commit_blocks",
            TypeField::SealedRevealBlocks => "sealed.reveal_blocks",
        }
    }
}

/// A field of the `governance` table that a path can name (`governance.<field>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GovernanceField {
    /// `fee`
    Fee,
    /// `stake`
    Stake,
    /// `distribution`
    Distribution,
    /// `fee_exponent`
    FeeExponent,
    /// `expiry_blocks`
    ExpiryBlocks,
    /// `enabled`
    Enabled,
}

impl GovernanceField {
    /// Every field, in the order `GET /params` lists them.
    pub const ALL: [GovernanceField; 6] = [
        GovernanceField::Fee,
        GovernanceField::Stake,
        GovernanceField::Distribution,
        GovernanceField::FeeExponent,
        GovernanceField::ExpiryBlocks,
        GovernanceField::Enabled,
    ];

    fn name(self) -> &'static str {
        match self {
            GovernanceField::Fee => "fee",
            GovernanceField::Stake => "stake",
            GovernanceField::Distribution => "distribution",
            GovernanceField::FeeExponent => "fee_exponent",
            GovernanceField::ExpiryBlocks => "expiry_blocks",
            GovernanceField::Enabled => "enabled",
        }
    }
}

/// A parameter a proposal can change: one of spec section 3 or a chain-wide one, or a whole
/// table (`types.<kind>`, `initial_grant`, `governance`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ParamPath {
    /// `types.<kind>`: a whole contribution type (adds one, or replaces it).
    Type(String),
    /// `types.<kind>.<field>`: one parameter of an existing type.
    TypeField(String, TypeField),
    /// `revote`
    Revote,
    /// `referral_fraction`
    ReferralFraction,
    /// `admission`
    Admission,
    /// `initial_grant`: both halves of the grant.
    InitialGrant,
    /// `initial_grant.reputation`
    InitialGrantReputation,
    /// `initial_grant.tokens`
    InitialGrantTokens,
    /// `min_reputation_to_evaluate`
    MinReputationToEvaluate,
    /// `governance`: the whole table.
    Governance,
    /// `governance.<field>`
    GovernanceField(GovernanceField),
}

/// The type of value a path takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A decimal amount (`"0.05"`).
    Amount,
    /// A whole number of blocks (`"604800"`).
    Count,
    /// `true` or `false`.
    Flag,
    /// An evaluation set, a JSON list of integers (`[0, 1, 2]`).
    Set,
    /// `reject-same` or `reprocess`.
    Revote,
    /// `invite` or `open`.
    Admission,
    /// A reward rule as JSON (`{"median": {"token_value": [...], "reputation_value": [...]}}`).
    Reward,
    /// A grant as JSON (`{"reputation": "1", "tokens": "10"}`).
    Grant,
    /// A whole contribution type as JSON (the fields of `[params.types.<kind>]`).
    Type,
    /// The whole governance table as JSON.
    Governance,
    /// `none`, or a sealed type's windows as JSON.
    Sealed,
}

impl ValueKind {
    /// What a value of this kind looks like, for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            ValueKind::Amount => "an amount (like \"0.05\")",
            ValueKind::Count => "a whole number",
            ValueKind::Flag => "true or false",
            ValueKind::Set => "a list of integers (like [0, 1, 2])",
            ValueKind::Revote => "reject-same or reprocess",
            ValueKind::Admission => "invite or open",
            ValueKind::Reward => {
                "a reward rule as JSON (like {\"median\": {\"token_value\": [...], \"reputation_value\": [...]}})"
            }
            ValueKind::Grant => "a grant as JSON (like {\"reputation\": \"1\", \"tokens\": \"10\"})",
            ValueKind::Type => "a contribution type as JSON (fee, stake, distribution, fee_exponent, evaluation_set, reward)",
            ValueKind::Governance => "the governance table as JSON",
            ValueKind::Sealed => {
                "none, or the windows as JSON (like {\"commit_blocks\": 100, \"reveal_blocks\": 50})"
            }
        }
    }
}

/// Why a path does not name a parameter.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PathError {
    /// Nothing has that name.
    #[error("unknown parameter path {path:?}: {hint}")]
    Unknown {
        /// The path as given.
        path: String,
        /// What would be valid there.
        hint: String,
    },
    /// A field of a contribution type that does not exist.
    #[error("unknown parameter path {path:?}: there is no contribution type {kind:?} (set types.{kind} as a whole to add one)")]
    NoSuchType {
        /// The path as given.
        path: String,
        /// The missing type.
        kind: String,
    },
    /// The reserved kind.
    #[error("{path:?}: the kind `governance` is reserved for parameter proposals")]
    Reserved {
        /// The path as given.
        path: String,
    },
}

const TOP_LEVEL_HINT: &str = "valid paths are types.<kind>, types.<kind>.<fee|stake|distribution|fee_exponent|evaluation_set|reward|evaluator_fund|sealed>, types.<kind>.sealed.<commit_blocks|reveal_blocks>, revote, referral_fraction, admission, initial_grant, initial_grant.<reputation|tokens>, min_reputation_to_evaluate, governance, governance.<fee|stake|distribution|fee_exponent|expiry_blocks|enabled>";

impl ParamPath {
    /// Reads a path's text. Whether a `types.<kind>.<field>` path names an existing type is
    /// checked against parameters by [`ParamPath::resolve`].
    pub fn parse(text: &str) -> Result<ParamPath, PathError> {
        let unknown = |hint: &str| PathError::Unknown {
            path: text.to_string(),
            hint: hint.to_string(),
        };
        if text.len() > MAX_PATH_BYTES {
            return Err(unknown("paths are at most 128 bytes"));
        }
        let parts: Vec<&str> = text.split('.').collect();
        let path = match parts.as_slice() {
            ["types", kind] if !kind.is_empty() => ParamPath::Type((*kind).to_string()),
            ["types", kind, field] if !kind.is_empty() => {
                let field = TypeField::ALL
                    .into_iter()
                    .find(|f| f.name() == *field)
                    .ok_or_else(|| {
                        unknown("a contribution type's fields are fee, stake, distribution, fee_exponent, evaluation_set, reward, evaluator_fund, sealed")
                    })?;
                ParamPath::TypeField((*kind).to_string(), field)
            }
            ["types", kind, "sealed", window] if !kind.is_empty() => {
                let field = match *window {
                    "commit_blocks" => TypeField::SealedCommitBlocks,
                    "reveal_blocks" => TypeField::SealedRevealBlocks,
                    _ => return Err(unknown("a sealed type's windows are commit_blocks and reveal_blocks")),
                };
                ParamPath::TypeField((*kind).to_string(), field)
            }
            ["revote"] => ParamPath::Revote,
            ["referral_fraction"] => ParamPath::ReferralFraction,
            ["admission"] => ParamPath::Admission,
            ["initial_grant"] => ParamPath::InitialGrant,
            ["initial_grant", "reputation"] => ParamPath::InitialGrantReputation,
            ["initial_grant", "tokens"] => ParamPath::InitialGrantTokens,
            ["min_reputation_to_evaluate"] => ParamPath::MinReputationToEvaluate,
            ["governance"] => ParamPath::Governance,
            ["governance", field] => ParamPath::GovernanceField(
                GovernanceField::ALL
                    .into_iter()
                    .find(|f| f.name() == *field)
                    .ok_or_else(|| {
                        unknown("the governance table's fields are fee, stake, distribution, fee_exponent, expiry_blocks, enabled")
                    })?,
            ),
            _ => return Err(unknown(TOP_LEVEL_HINT)),
        };
        if let ParamPath::Type(kind) | ParamPath::TypeField(kind, _) = &path {
            if kind == GOVERNANCE_KIND {
                return Err(PathError::Reserved {
                    path: text.to_string(),
                });
            }
        }
        Ok(path)
    }

    /// Parses a path and checks that it names something in `params` (a field of a type
    /// needs the type to exist; a whole type may be new).
    pub fn resolve(text: &str, params: &Params) -> Result<ParamPath, PathError> {
        let path = ParamPath::parse(text)?;
        if let ParamPath::TypeField(kind, _) = &path {
            if !params.types.contains_key(kind) {
                return Err(PathError::NoSuchType {
                    path: text.to_string(),
                    kind: kind.clone(),
                });
            }
        }
        Ok(path)
    }

    /// The type of value this path takes.
    pub fn kind(&self) -> ValueKind {
        match self {
            ParamPath::Type(_) => ValueKind::Type,
            ParamPath::TypeField(_, f) => match f {
                TypeField::EvaluationSet => ValueKind::Set,
                TypeField::Reward => ValueKind::Reward,
                TypeField::Sealed => ValueKind::Sealed,
                TypeField::SealedCommitBlocks | TypeField::SealedRevealBlocks => ValueKind::Count,
                _ => ValueKind::Amount,
            },
            ParamPath::Revote => ValueKind::Revote,
            ParamPath::Admission => ValueKind::Admission,
            ParamPath::InitialGrant => ValueKind::Grant,
            ParamPath::Governance => ValueKind::Governance,
            ParamPath::GovernanceField(GovernanceField::ExpiryBlocks) => ValueKind::Count,
            ParamPath::GovernanceField(GovernanceField::Enabled) => ValueKind::Flag,
            ParamPath::ReferralFraction
            | ParamPath::InitialGrantReputation
            | ParamPath::InitialGrantTokens
            | ParamPath::MinReputationToEvaluate
            | ParamPath::GovernanceField(_) => ValueKind::Amount,
        }
    }

    /// The path's current value in `params` (`None` for a type that does not exist).
    pub fn read(&self, params: &Params) -> Option<ParamValue> {
        let g = &params.governance;
        Some(match self {
            ParamPath::Type(kind) => ParamValue::Type(Box::new(params.types.get(kind)?.clone())),
            ParamPath::TypeField(kind, field) => {
                let t = params.types.get(kind)?;
                match field {
                    TypeField::Fee => ParamValue::Amount(t.fee),
                    TypeField::Stake => ParamValue::Amount(t.stake),
                    TypeField::Distribution => ParamValue::Amount(t.distribution),
                    TypeField::FeeExponent => ParamValue::Amount(t.fee_exponent),
                    TypeField::EvaluationSet => ParamValue::Set(t.evaluation_set.clone()),
                    TypeField::Reward => ParamValue::Reward(t.reward.clone()),
                    TypeField::EvaluatorFund => ParamValue::Amount(t.evaluator_fund),
                    TypeField::Sealed => ParamValue::Sealed(t.sealed),
                    TypeField::SealedCommitBlocks => ParamValue::Count(t.sealed?.commit_blocks),
                    TypeField::SealedRevealBlocks => ParamValue::Count(t.sealed?.reveal_blocks),
                }
            }
            ParamPath::Revote => ParamValue::Revote(params.revote),
            ParamPath::ReferralFraction => ParamValue::Amount(params.referral_fraction),
            ParamPath::Admission => ParamValue::Admission(params.admission),
            ParamPath::InitialGrant => ParamValue::Grant(params.initial_grant),
            ParamPath::InitialGrantReputation => {
                ParamValue::Amount(params.initial_grant.reputation)
            }
            ParamPath::InitialGrantTokens => ParamValue::Amount(params.initial_grant.tokens),
            ParamPath::MinReputationToEvaluate => {
                ParamValue::Amount(params.min_reputation_to_evaluate)
            }
            ParamPath::Governance => ParamValue::Governance(Box::new(g.clone())),
            ParamPath::GovernanceField(field) => match field {
                GovernanceField::Fee => ParamValue::Amount(g.fee),
                GovernanceField::Stake => ParamValue::Amount(g.stake),
                GovernanceField::Distribution => ParamValue::Amount(g.distribution),
                GovernanceField::FeeExponent => ParamValue::Amount(g.fee_exponent),
                GovernanceField::ExpiryBlocks => ParamValue::Count(g.expiry_blocks),
                GovernanceField::Enabled => ParamValue::Flag(g.enabled),
            },
        })
    }

    /// Writes `value` at this path in `params`. The value's kind must be the path's, and a
    /// field's type must exist (both are checked at submission; here they are re-checked
    /// and refused rather than trusted).
    pub fn write(&self, params: &mut Params, value: &ParamValue) -> Result<(), ChangeError> {
        let mismatch = || ChangeError::WrongKind {
            path: self.to_string(),
            expected: self.kind(),
        };
        let amount = || match value {
            ParamValue::Amount(a) => Ok(*a),
            _ => Err(mismatch()),
        };
        match self {
            ParamPath::Type(kind) => match value {
                ParamValue::Type(t) => {
                    params.types.insert(kind.clone(), (**t).clone());
                }
                _ => return Err(mismatch()),
            },
            ParamPath::TypeField(kind, field) => {
                let t = params.types.get_mut(kind).ok_or_else(|| {
                    ChangeError::Path(PathError::NoSuchType {
                        path: self.to_string(),
                        kind: kind.clone(),
                    })
                })?;
                match (field, value) {
                    (TypeField::EvaluationSet, ParamValue::Set(set)) => {
                        t.evaluation_set = set.clone();
                    }
                    (TypeField::Reward, ParamValue::Reward(r)) => t.reward = r.clone(),
                    (TypeField::Fee, ParamValue::Amount(a)) => t.fee = *a,
                    (TypeField::Stake, ParamValue::Amount(a)) => t.stake = *a,
                    (TypeField::Distribution, ParamValue::Amount(a)) => t.distribution = *a,
                    (TypeField::FeeExponent, ParamValue::Amount(a)) => t.fee_exponent = *a,
                    (TypeField::EvaluatorFund, ParamValue::Amount(a)) => t.evaluator_fund = *a,
                    (TypeField::Sealed, ParamValue::Sealed(sealed)) => t.sealed = *sealed,
                    (TypeField::SealedCommitBlocks, ParamValue::Count(n)) => {
                        let sealed = t.sealed.get_or_insert(Sealed {
                            commit_blocks: *n,
                            reveal_blocks: *n,
                        });
                        sealed.commit_blocks = *n;
                    }
                    (TypeField::SealedRevealBlocks, ParamValue::Count(n)) => {
                        let sealed = t.sealed.get_or_insert(Sealed {
                            commit_blocks: *n,
                            reveal_blocks: *n,
                        });
                        sealed.reveal_blocks = *n;
                    }
                    _ => return Err(mismatch()),
                }
            }
            ParamPath::Revote => match value {
                ParamValue::Revote(r) => params.revote = *r,
                _ => return Err(mismatch()),
            },
            ParamPath::Admission => match value {
                ParamValue::Admission(a) => params.admission = *a,
                _ => return Err(mismatch()),
            },
            ParamPath::InitialGrant => match value {
                ParamValue::Grant(g) => params.initial_grant = *g,
                _ => return Err(mismatch()),
            },
            ParamPath::Governance => match value {
                ParamValue::Governance(g) => params.governance = (**g).clone(),
                _ => return Err(mismatch()),
            },
            ParamPath::ReferralFraction => params.referral_fraction = amount()?,
            ParamPath::InitialGrantReputation => params.initial_grant.reputation = amount()?,
            ParamPath::InitialGrantTokens => params.initial_grant.tokens = amount()?,
            ParamPath::MinReputationToEvaluate => params.min_reputation_to_evaluate = amount()?,
            ParamPath::GovernanceField(field) => {
                let g = &mut params.governance;
                match (field, value) {
                    (GovernanceField::ExpiryBlocks, ParamValue::Count(n)) => g.expiry_blocks = *n,
                    (GovernanceField::Enabled, ParamValue::Flag(b)) => g.enabled = *b,
                    (GovernanceField::Fee, ParamValue::Amount(a)) => g.fee = *a,
                    (GovernanceField::Stake, ParamValue::Amount(a)) => g.stake = *a,
                    (GovernanceField::Distribution, ParamValue::Amount(a)) => g.distribution = *a,
                    (GovernanceField::FeeExponent, ParamValue::Amount(a)) => g.fee_exponent = *a,
                    _ => return Err(mismatch()),
                }
            }
        }
        Ok(())
    }

    /// Every leaf path of `params` (one per parameter, in a fixed order): what `GET /params`
    /// lists with each value's provenance.
    pub fn leaves(params: &Params) -> Vec<ParamPath> {
        let mut out = Vec::new();
        for kind in params.types.keys() {
            for field in TypeField::ALL {
                out.push(ParamPath::TypeField(kind.clone(), field));
            }
        }
        out.extend([
            ParamPath::Revote,
            ParamPath::ReferralFraction,
            ParamPath::Admission,
            ParamPath::InitialGrantReputation,
            ParamPath::InitialGrantTokens,
            ParamPath::MinReputationToEvaluate,
        ]);
        for field in GovernanceField::ALL {
            out.push(ParamPath::GovernanceField(field));
        }
        out
    }

    /// The path that contains this one (`types.work` for `types.work.fee`), if any.
    pub fn parent(&self) -> Option<ParamPath> {
        match self {
            ParamPath::TypeField(
                kind,
                TypeField::SealedCommitBlocks | TypeField::SealedRevealBlocks,
            ) => Some(ParamPath::TypeField(kind.clone(), TypeField::Sealed)),
            ParamPath::TypeField(kind, _) => Some(ParamPath::Type(kind.clone())),
            ParamPath::InitialGrantReputation | ParamPath::InitialGrantTokens => {
                Some(ParamPath::InitialGrant)
            }
            ParamPath::GovernanceField(_) => Some(ParamPath::Governance),
            _ => None,
        }
    }
}

impl fmt::Display for ParamPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamPath::Type(kind) => write!(f, "types.{kind}"),
            ParamPath::TypeField(kind, field) => write!(f, "types.{kind}.{}", field.name()),
            ParamPath::Revote => f.write_str("revote"),
            ParamPath::ReferralFraction => f.write_str("referral_fraction"),
            ParamPath::Admission => f.write_str("admission"),
            ParamPath::InitialGrant => f.write_str("initial_grant"),
            ParamPath::InitialGrantReputation => f.write_str("initial_grant.reputation"),
            ParamPath::InitialGrantTokens => f.write_str("initial_grant.tokens"),
            ParamPath::MinReputationToEvaluate => f.write_str("min_reputation_to_evaluate"),
            ParamPath::Governance => f.write_str("governance"),
            ParamPath::GovernanceField(field) => write!(f, "governance.{}", field.name()),
        }
    }
}

/// A full new value for one parameter. Each path takes exactly one variant, so a change has
/// one canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParamValue {
    /// An amount.
    Amount(Amount),
    /// A count of blocks.
    Count(u64),
    /// A switch.
    Flag(bool),
    /// An evaluation set.
    Set(Vec<EvalValue>),
    /// The re-vote policy.
    Revote(Revote),
    /// The admission policy.
    Admission(Admission),
    /// A reward rule.
    Reward(RewardRule),
    /// The initial grant.
    Grant(Grant),
    /// A whole contribution type (boxed: it is much larger than the other values).
    Type(Box<TypeParams>),
    /// The whole governance table (boxed, as a type).
    Governance(Box<GovernanceParams>),
    /// A type's sealed windows, or `None` for an open type (v1.2).
    Sealed(Option<Sealed>),
}

/// Why a value's text does not fit its path.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{text:?} is not {}: {reason}", .kind.describe())]
pub struct ValueError {
    /// The kind the path takes.
    pub kind: ValueKind,
    /// The text given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ParamValue {
    /// Reads a value's text for a path of `kind` (the CLI's `--set PATH=VALUE` and the
    /// conformance vectors' `propose` step): amounts and counts as numbers, words as words,
    /// tables and lists as JSON.
    pub fn parse(kind: ValueKind, text: &str) -> Result<ParamValue, ValueError> {
        let fail = |reason: String| ValueError {
            kind,
            text: text.to_string(),
            reason,
        };
        let json = |t: &str| -> Result<serde_json::Value, ValueError> {
            serde_json::from_str(t).map_err(|e| fail(e.to_string()))
        };
        let t = text.trim();
        Ok(match kind {
            ValueKind::Amount => {
                let a: Amount = t
                    .parse()
                    .map_err(|e: crate::AmountError| fail(e.to_string()))?;
                if a.is_negative() {
                    return Err(fail("it is negative".into()));
                }
                ParamValue::Amount(a)
            }
            ValueKind::Count => ParamValue::Count(t.parse().map_err(|_| {
                fail("expected a whole number from 0 to 18446744073709551615".into())
            })?),
            ValueKind::Flag => match t {
                "true" => ParamValue::Flag(true),
                "false" => ParamValue::Flag(false),
                _ => return Err(fail("expected true or false".into())),
            },
            ValueKind::Revote => ParamValue::Revote(
                serde_json::from_value(serde_json::Value::String(t.into()))
                    .map_err(|_| fail("expected reject-same or reprocess".into()))?,
            ),
            ValueKind::Admission => ParamValue::Admission(
                serde_json::from_value(serde_json::Value::String(t.into()))
                    .map_err(|_| fail("expected invite or open".into()))?,
            ),
            ValueKind::Set => {
                ParamValue::Set(serde_json::from_value(json(t)?).map_err(|e| fail(e.to_string()))?)
            }
            ValueKind::Reward => ParamValue::Reward(
                serde_json::from_value(json(t)?).map_err(|e| fail(e.to_string()))?,
            ),
            ValueKind::Grant => ParamValue::Grant(
                serde_json::from_value(json(t)?).map_err(|e| fail(e.to_string()))?,
            ),
            ValueKind::Type => {
                ParamValue::Type(serde_json::from_value(json(t)?).map_err(|e| fail(e.to_string()))?)
            }
            ValueKind::Governance => ParamValue::Governance(
                serde_json::from_value(json(t)?).map_err(|e| fail(e.to_string()))?,
            ),
            ValueKind::Sealed => match t {
                "none" | "null" => ParamValue::Sealed(None),
                _ => ParamValue::Sealed(Some(
                    serde_json::from_value(json(t)?).map_err(|e| fail(e.to_string()))?,
                )),
            },
        })
    }

    /// The kind of this value.
    pub fn kind(&self) -> ValueKind {
        match self {
            ParamValue::Amount(_) => ValueKind::Amount,
            ParamValue::Count(_) => ValueKind::Count,
            ParamValue::Flag(_) => ValueKind::Flag,
            ParamValue::Set(_) => ValueKind::Set,
            ParamValue::Revote(_) => ValueKind::Revote,
            ParamValue::Admission(_) => ValueKind::Admission,
            ParamValue::Reward(_) => ValueKind::Reward,
            ParamValue::Grant(_) => ValueKind::Grant,
            ParamValue::Type(_) => ValueKind::Type,
            ParamValue::Governance(_) => ValueKind::Governance,
            ParamValue::Sealed(_) => ValueKind::Sealed,
        }
    }

    /// The value as plain JSON (amounts as strings), as the API shows it.
    pub fn to_json(&self) -> serde_json::Value {
        let v = match self {
            ParamValue::Amount(a) => serde_json::to_value(a),
            ParamValue::Count(n) => serde_json::to_value(n),
            ParamValue::Flag(b) => serde_json::to_value(b),
            ParamValue::Set(s) => serde_json::to_value(s),
            ParamValue::Revote(r) => serde_json::to_value(r),
            ParamValue::Admission(a) => serde_json::to_value(a),
            ParamValue::Reward(r) => serde_json::to_value(r),
            ParamValue::Grant(g) => serde_json::to_value(g),
            ParamValue::Type(t) => serde_json::to_value(t),
            ParamValue::Governance(g) => serde_json::to_value(g),
            ParamValue::Sealed(s) => serde_json::to_value(s),
        };
        v.unwrap_or(serde_json::Value::Null)
    }
}

impl fmt::Display for ParamValue {
    /// The text [`ParamValue::parse`] reads back: plain for scalars and words, JSON for the
    /// rest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let ParamValue::Sealed(None) = self {
            return f.write_str("none");
        }
        match self.to_json() {
            serde_json::Value::String(s) => f.write_str(&s),
            other => write!(f, "{other}"),
        }
    }
}

/// One change of a proposal: a path and its full new value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamChange {
    /// The parameter, as text (`types.work.fee`).
    pub path: String,
    /// Its new value.
    pub value: ParamValue,
}

impl ParamChange {
    /// A change from the text forms `PATH` and `VALUE` (the value read as the path's kind).
    pub fn parse(path: &str, value: &str) -> Result<ParamChange, ChangeError> {
        let p = ParamPath::parse(path)?;
        let value = ParamValue::parse(p.kind(), value)?;
        Ok(ParamChange {
            path: p.to_string(),
            value,
        })
    }
}

/// Why a proposal's changes cannot apply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChangeError {
    /// The path names nothing.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The path is not written in its one canonical form.
    #[error("parameter path {given:?} must be written {canonical:?}")]
    NonCanonicalPath {
        /// As given.
        given: String,
        /// As it must be written.
        canonical: String,
    },
    /// The value has another type than the path takes.
    #[error("{path} takes {}", .expected.describe())]
    WrongKind {
        /// The path.
        path: String,
        /// What it takes.
        expected: ValueKind,
    },
    /// The value's text does not parse.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// No change at all.
    #[error("a proposal needs at least one change")]
    Empty,
    /// More changes than one proposal may carry.
    #[error("a proposal carries at most {MAX_CHANGES} changes, this one {0}")]
    TooMany(usize),
    /// The same path twice in one proposal.
    #[error("{0} appears twice in the proposal")]
    Duplicate(String),
    /// The parameters that would result are not a valid genesis's.
    #[error("the parameters would be invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
}

/// Applies `changes` in order to a copy of `params` and validates the result as genesis
/// validation would. Returns the new parameters and, per change, the value it replaced
/// (`None` when it adds a contribution type).
pub fn apply_changes(
    params: &Params,
    changes: &[ParamChange],
) -> Result<(Params, Vec<Option<ParamValue>>), ChangeError> {
    if changes.is_empty() {
        return Err(ChangeError::Empty);
    }
    if changes.len() > MAX_CHANGES {
        return Err(ChangeError::TooMany(changes.len()));
    }
    let mut next = params.clone();
    let mut old = Vec::with_capacity(changes.len());
    let mut seen = std::collections::BTreeSet::new();
    for change in changes {
        let path = ParamPath::resolve(&change.path, &next)?;
        let canonical = path.to_string();
        if canonical != change.path {
            return Err(ChangeError::NonCanonicalPath {
                given: change.path.clone(),
                canonical,
            });
        }
        if !seen.insert(canonical.clone()) {
            return Err(ChangeError::Duplicate(canonical));
        }
        old.push(path.read(&next));
        path.write(&mut next, &change.value)?;
    }
    let problems = crate::genesis::validate_params(&next);
    if !problems.is_empty() {
        return Err(ChangeError::Invalid(problems));
    }
    Ok((next, old))
}

/// Which proposal last set a parameter, and from which height its value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The proposal (a contribution id).
    pub proposal: ContributionId,
    /// The block at whose start the change took effect.
    pub height: u64,
}

/// The chain-wide governance state: what waits for the next block, and where each changed
/// parameter's value came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernanceState {
    /// Proposals that passed and take effect at the start of the next block, in the order
    /// they passed.
    pub pending: Vec<ContributionId>,
    /// For every path a proposal set (as the proposal wrote it), the latest setter. Setting
    /// a table removes the entries under it, so a leaf's provenance is its own entry or else
    /// its nearest table's.
    pub provenance: BTreeMap<String, Provenance>,
}

impl GovernanceState {
    /// The provenance of a parameter: the most specific entry covering it, or `None` when
    /// the value is the genesis's.
    pub fn provenance_of(&self, path: &ParamPath) -> Option<Provenance> {
        let mut at = Some(path.clone());
        while let Some(p) = at {
            if let Some(found) = self.provenance.get(&p.to_string()) {
                return Some(*found);
            }
            at = p.parent();
        }
        None
    }

    /// Records that `path` was set by `proposal` at `height`.
    fn record(&mut self, path: &ParamPath, provenance: Provenance) {
        let text = path.to_string();
        let below = format!("{text}.");
        self.provenance.retain(|k, _| !k.starts_with(&below));
        self.provenance.insert(text, provenance);
    }
}

/// A parameter proposal's own state, kept on its contribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The changes, in the order they apply.
    pub changes: Vec<ParamChange>,
    /// The last height at which evaluations are accepted (`H + expiry_blocks`).
    pub expires_at: u64,
    /// The height of the block in which it passed.
    pub passed_at: Option<u64>,
    /// What became of it at the start of the block after it passed.
    pub outcome: Option<ProposalOutcome>,
}

/// What a passed proposal did when it was due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProposalOutcome {
    /// Its changes took effect from this height on.
    Applied {
        /// The first block ruled by the new values.
        height: u64,
        /// Each change with the value it replaced (`None`: a new contribution type).
        changes: Vec<AppliedChange>,
    },
    /// Combined with proposals that took effect before it, its changes would have made
    /// invalid parameters: none applied.
    Void {
        /// The block at whose start it was due.
        height: u64,
    },
}

/// One parameter as a proposal changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedChange {
    /// The path.
    pub path: String,
    /// The value before (`None` when the change added a contribution type).
    pub old: Option<ParamValue>,
    /// The value after.
    pub new: ParamValue,
}

/// The `param-change` event (spec section 11): one path of a passed proposal took effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamChangeEvent {
    /// The proposal.
    pub proposal: ContributionId,
    /// The path, with its old and new value.
    pub change: AppliedChange,
}

/// A passed proposal that could not take effect, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidEvent {
    /// The proposal.
    pub proposal: ContributionId,
    /// Why its changes did not apply.
    pub reason: String,
}

/// Applies every proposal queued in `state` (start of block `height`), in pass order.
pub(crate) fn take_effect(
    state: &mut crate::state::State,
    height: u64,
) -> Vec<crate::events::BlockEvent> {
    let mut events = Vec::new();
    for id in state.take_pending() {
        let Some(changes) = state
            .contribution(id)
            .and_then(|c| c.proposal.as_ref())
            .map(|p| p.changes.clone())
        else {
            continue;
        };
        match apply_changes(state.params(), &changes) {
            Ok((next, old)) => {
                let applied: Vec<AppliedChange> = changes
                    .iter()
                    .zip(old)
                    .map(|(c, old)| AppliedChange {
                        path: c.path.clone(),
                        old,
                        new: c.value.clone(),
                    })
                    .collect();
                let provenance = Provenance {
                    proposal: id,
                    height,
                };
                for change in &changes {
                    if let Ok(path) = ParamPath::parse(&change.path) {
                        state.governance_mut().record(&path, provenance);
                    }
                }
                state.set_params(next);
                for change in &applied {
                    events.push(crate::events::BlockEvent::ParamChange(ParamChangeEvent {
                        proposal: id,
                        change: change.clone(),
                    }));
                }
                state.set_outcome(
                    id,
                    ProposalOutcome::Applied {
                        height,
                        changes: applied,
                    },
                );
            }
            Err(e) => {
                events.push(crate::events::BlockEvent::ProposalVoid(VoidEvent {
                    proposal: id,
                    reason: e.to_string(),
                }));
                state.set_outcome(id, ProposalOutcome::Void { height });
            }
        }
    }
    events
}
