//! The conformance runner of spec section 9: replays evaluation vectors through the real
//! state machine.
//!
//! A vector file holds one vector object or `{"vectors": [...]}`. A vector gives parameters
//! (the 2016 reference's names under `params`, or `pov`'s own under `pov_params`), the
//! members' starting balances, which member submitted each contribution, and a list of
//! steps. [`simulate`] ignores whatever expected values the file carries and writes in its
//! own: `after` (each member's `[reputation, tokens]`) and `max_score_after` (threshold rule)
//! or `median_max_after` (median rule) after every step, or `{"rejected": reason}` for a
//! step the state machine refuses. [`compare`] checks one such output against a file's
//! expected values within a relative tolerance.
//!
//! Heights (spec sections 11 and 12): the contributions of `contributors` are included at
//! height 0 (their fees already paid), and each step is one block from height 1 on, a
//! rejected one included. Steps are an evaluation (`evaluator`, `contribution`, `value`),
//! `{"contribute": [member]}` (a `work` contribution paying the current fee),
//! `{"propose": [member, {PATH: VALUE, ...}]}` (a parameter proposal paying the governance
//! fee; values as strings), `{"commit": [member, contribution, value, salt]}` and
//! `{"reveal": [member, contribution]}` (section 12, with `"sealed"` in `pov_params`; the
//! reveal opens the member's live commitment with the value and salt of the commit step
//! that made it) or `{"advance": n}` (`n` empty blocks). Contributions and proposals share
//! ids. Member `i` of a vector signs with the development key `i` on chain `conformance`.

use std::collections::BTreeMap;

use pov_crypto::{Keypair, Salt};
use rust_decimal::Decimal;
use serde_json::{Number, Value};
use thiserror::Error;

use crate::amount::Amount;
use crate::governance::{ParamChange, ParamPath, ParamValue, ValueKind};
use crate::params::{EvalValue, GovernanceParams, Params, Revote, RewardRule, Sealed, TypeParams};
use crate::state::{ContributionId, MemberId, State};
use crate::tx::TxBody;

/// The contribution type every vector's contributions belong to (spec section 11).
const KIND: &str = "work";

/// The chain id of every vector's state (commitments include it).
const CHAIN_ID: &str = "conformance";

/// Most empty blocks one `advance` step may ask for (each is a real block start).
const MAX_ADVANCE: u64 = 1_000_000;

/// A vector file that cannot be run, with the place of the problem.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{location}: {message}")]
pub struct ConformanceError {
    /// Where: the vector's index and name and the JSON path inside it.
    pub location: String,
    /// What is wrong there.
    pub message: String,
}

fn err(location: impl Into<String>, message: impl Into<String>) -> ConformanceError {
    ConformanceError {
        location: location.into(),
        message: message.into(),
    }
}

/// Runs every vector of a file and returns the file with computed results written in.
pub fn simulate(file: &Value) -> Result<Value, ConformanceError> {
    let mut out = file.clone();
    match out.get_mut("vectors") {
        Some(Value::Array(vectors)) => {
            for (i, vector) in vectors.iter_mut().enumerate() {
                let name = vector_name(vector, i);
                run_vector(vector, &name)?;
            }
        }
        Some(_) => return Err(err("vectors", "must be an array of vector objects")),
        None => {
            let name = vector_name(&out, 0);
            run_vector(&mut out, &name)?;
        }
    }
    Ok(out)
}

fn vector_name(vector: &Value, index: usize) -> String {
    match vector.get("name").and_then(Value::as_str) {
        Some(name) => format!("vector {index} ({name})"),
        None => format!("vector {index}"),
    }
}

/// Which max a vector reports after each step.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Report {
    MaxScore,
    MedianMax,
}

/// What a vector's `pov_params` (or `params`) set.
struct VectorParams {
    work: TypeParams,
    revote: Revote,
    /// The `work` type's fee for `contribute` steps (the initial contributions paid theirs).
    fee: Amount,
    governance: GovernanceParams,
    min_reputation_to_evaluate: Amount,
}

fn run_vector(vector: &mut Value, name: &str) -> Result<(), ConformanceError> {
    let obj = vector
        .as_object_mut()
        .ok_or_else(|| err(name, "a vector must be a JSON object"))?;
    let vp = match obj.get("pov_params") {
        Some(pp) => pov_params(pp, &format!("{name}: pov_params"))?,
        None => {
            let params = obj
                .get("params")
                .ok_or_else(|| err(name, "needs `params` or `pov_params`"))?;
            reference_params(params, &format!("{name}: params"))?
        }
    };
    let report = match vp.work.reward {
        RewardRule::Threshold { .. } => Report::MaxScore,
        RewardRule::Median { .. } => Report::MedianMax,
    };
    let mut params = Params::default();
    params.types.clear();
    params.types.insert(KIND.to_string(), vp.work.clone());
    params.revote = vp.revote;
    params.governance = vp.governance;
    params.min_reputation_to_evaluate = vp.min_reputation_to_evaluate;
    let problems = crate::genesis::validate_params(&params);
    if let Some(p) = problems.first() {
        return Err(err(format!("{name}: pov_params"), p.to_string()));
    }
    let mut state = State::new(CHAIN_ID, params.clone());
    // The value and salt of each member's live commitment per contribution, for reveals.
    let mut sealed_values: BTreeMap<(MemberId, ContributionId), (EvalValue, Salt)> =
        BTreeMap::new();

    let initial = obj
        .get("initial_state_after_contribution_fees")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            err(
                name,
                "`initial_state_after_contribution_fees` must be an array",
            )
        })?;
    for (i, m) in initial.iter().enumerate() {
        let at = format!("{name}: initial_state_after_contribution_fees[{i}]");
        let reputation = amount_field(m, "reputation", &at)?;
        let tokens = amount_field(m, "tokens", &at)?;
        let address = Keypair::dev(i as u32).address();
        state
            .add_founding_member(address, format!("m{i}"), reputation, tokens)
            .map_err(|e| err(&at, e.to_string()))?;
    }
    let members = initial.len();

    let contributors = obj
        .get("contributors")
        .and_then(Value::as_array)
        .ok_or_else(|| err(name, "`contributors` must be an array of member indices"))?;
    // The initial contributions' fees are already paid: submit them with a zero fee, then
    // put the vector's fee in place for `contribute` steps.
    let mut free = params.clone();
    if let Some(work) = free.types.get_mut(KIND) {
        work.fee = Amount::ZERO;
    }
    state.set_params(free);
    for (i, c) in contributors.iter().enumerate() {
        let at = format!("{name}: contributors[{i}]");
        let member = member_index(c, members, &at)?;
        state
            .contribute(
                member,
                KIND,
                &format!("contribution {i}"),
                &format!("vector:{i}"),
                None,
            )
            .map_err(|e| err(&at, e.to_string()))?;
    }
    if let Some(work) = params.types.get_mut(KIND) {
        work.fee = vp.fee;
    }
    state.set_params(params);

    let steps = obj
        .get_mut("steps")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| err(name, "`steps` must be an array"))?;
    for (i, step) in steps.iter_mut().enumerate() {
        let at = format!("{name}: steps[{i}]");
        let s = step
            .as_object_mut()
            .ok_or_else(|| err(&at, "a step must be an object"))?;
        let action = read_step(s, members, &at)?;
        s.remove("rejected");
        s.remove("max_score_after");
        s.remove("median_max_after");
        let blocks = match action {
            Step::Advance(n) => n,
            _ => 1,
        };
        for _ in 0..blocks {
            let next = state.height() + 1;
            state
                .begin_block(next)
                .map_err(|e| err(&at, e.to_string()))?;
        }
        let outcome: Result<(), String> = match action {
            Step::Advance(_) => Ok(()),
            Step::Evaluate {
                evaluator,
                contribution,
                value,
            } => state
                .evaluate(evaluator, contribution, value)
                .map(drop)
                .map_err(|e| e.to_string()),
            Step::Contribute(member) => {
                let n = state.contributions().len();
                state
                    .contribute(
                        member,
                        KIND,
                        &format!("contribution {n}"),
                        &format!("vector:{n}"),
                        None,
                    )
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
            Step::Propose(member, changes) => match changes {
                Ok(changes) => {
                    let n = state.contributions().len();
                    state
                        .propose(member, &format!("proposal {n}"), "", changes)
                        .map(drop)
                        .map_err(|e| e.to_string())
                }
                Err(reason) => Err(reason),
            },
            Step::Commit {
                member,
                contribution,
                value,
                salt,
            } => {
                let address = Keypair::dev(member).address();
                let commitment =
                    crate::sealed::commitment(CHAIN_ID, contribution, &address, value, &salt);
                let body = TxBody::Commit {
                    contribution,
                    commitment,
                };
                let result = state.submit(member, &body).map(drop);
                if result.is_ok() {
                    sealed_values.insert((member, contribution), (value, salt));
                }
                result.map_err(|e| e.to_string())
            }
            Step::Reveal {
                member,
                contribution,
            } => {
                // Without a commit step to open, reveal something: the state refuses it.
                let (value, salt) = sealed_values
                    .get(&(member, contribution))
                    .copied()
                    .unwrap_or_default();
                let body = TxBody::Reveal {
                    contribution,
                    value,
                    salt,
                };
                state
                    .submit(member, &body)
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
        };
        if let Err(reason) = &outcome {
            s.insert("rejected".into(), Value::String(reason.clone()));
        }
        s.insert("after".into(), balances(&state));
        if outcome.is_ok() {
            let maxima: Vec<Value> = state
                .contributions()
                .iter()
                .map(|c| match report {
                    Report::MaxScore => c.max_score.map(number).unwrap_or(Value::Null),
                    Report::MedianMax => Value::from(c.median_max),
                })
                .collect();
            let key = match report {
                Report::MaxScore => "max_score_after",
                Report::MedianMax => "median_max_after",
            };
            s.insert(key.into(), Value::Array(maxima));
        }
    }
    Ok(())
}

/// One step of a vector.
enum Step {
    Evaluate {
        evaluator: MemberId,
        contribution: u64,
        value: EvalValue,
    },
    Contribute(MemberId),
    /// The proposer and its changes, or why they cannot be read as changes (an unknown path
    /// or a value of the wrong type: the state machine would refuse the transaction, so the
    /// step is rejected rather than the vector).
    Propose(MemberId, Result<Vec<ParamChange>, String>),
    Commit {
        member: MemberId,
        contribution: ContributionId,
        value: EvalValue,
        salt: Salt,
    },
    Reveal {
        member: MemberId,
        contribution: ContributionId,
    },
    Advance(u64),
}

fn read_step(
    s: &serde_json::Map<String, Value>,
    members: usize,
    at: &str,
) -> Result<Step, ConformanceError> {
    if let Some(v) = s.get("advance") {
        let n = v.as_u64().filter(|n| *n <= MAX_ADVANCE).ok_or_else(|| {
            err(
                format!("{at}.advance"),
                format!("must be a block count from 0 to {MAX_ADVANCE}"),
            )
        })?;
        return Ok(Step::Advance(n));
    }
    if let Some(v) = s.get("contribute") {
        let member = v
            .as_array()
            .filter(|a| a.len() == 1)
            .ok_or_else(|| err(format!("{at}.contribute"), "must be [member]"))?;
        return Ok(Step::Contribute(member_index(
            &member[0],
            members,
            &format!("{at}.contribute[0]"),
        )?));
    }
    if let Some(v) = s.get("propose") {
        let pair = v.as_array().filter(|a| a.len() == 2).ok_or_else(|| {
            err(
                format!("{at}.propose"),
                "must be [member, {PATH: VALUE, ...}]",
            )
        })?;
        let member = member_index(&pair[0], members, &format!("{at}.propose[0]"))?;
        let map = pair[1].as_object().ok_or_else(|| {
            err(
                format!("{at}.propose[1]"),
                "must be an object {PATH: VALUE, ...}",
            )
        })?;
        let changes = map
            .iter()
            .map(|(path, value)| vector_change(path, value))
            .collect::<Result<Vec<_>, String>>();
        return Ok(Step::Propose(member, changes));
    }
    if let Some(v) = s.get("commit") {
        let at = format!("{at}.commit");
        let parts = v
            .as_array()
            .filter(|a| a.len() == 4)
            .ok_or_else(|| err(&at, "must be [member, contribution, value, salt]"))?;
        let member = member_index(&parts[0], members, &format!("{at}[0]"))?;
        let contribution = parts[1]
            .as_u64()
            .ok_or_else(|| err(format!("{at}[1]"), "must be a contribution id"))?;
        let value = parts[2]
            .as_i64()
            .ok_or_else(|| err(format!("{at}[2]"), "must be an integer value"))?;
        let salt = parts[3]
            .as_str()
            .and_then(|t| t.parse::<Salt>().ok())
            .ok_or_else(|| err(format!("{at}[3]"), "must be a salt of 64 hex digits"))?;
        return Ok(Step::Commit {
            member,
            contribution,
            value,
            salt,
        });
    }
    if let Some(v) = s.get("reveal") {
        let at = format!("{at}.reveal");
        let parts = v
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or_else(|| err(&at, "must be [member, contribution]"))?;
        let member = member_index(&parts[0], members, &format!("{at}[0]"))?;
        let contribution = parts[1]
            .as_u64()
            .ok_or_else(|| err(format!("{at}[1]"), "must be a contribution id"))?;
        return Ok(Step::Reveal {
            member,
            contribution,
        });
    }
    let evaluator = member_index(
        s.get("evaluator").ok_or_else(|| {
            err(
                at,
                "missing `evaluator` (or `contribute`, `propose`, `commit`, `reveal`, `advance`)",
            )
        })?,
        members,
        &format!("{at}.evaluator"),
    )?;
    let contribution = s
        .get("contribution")
        .and_then(Value::as_u64)
        .ok_or_else(|| err(at, "`contribution` must be a non-negative integer"))?;
    let value: EvalValue = s
        .get("value")
        .and_then(Value::as_i64)
        .ok_or_else(|| err(at, "`value` must be an integer"))?;
    Ok(Step::Evaluate {
        evaluator,
        contribution,
        value,
    })
}

/// One `PATH: VALUE` of a `propose` step. Values are strings (or plain JSON numbers, lists
/// and objects); a whole type or reward rule may also be written in `pov_params` form.
fn vector_change(path: &str, value: &Value) -> Result<ParamChange, String> {
    let p = ParamPath::parse(path).map_err(|e| e.to_string())?;
    let kind = p.kind();
    let parsed = match (kind, value) {
        (ValueKind::Type, Value::Object(o))
            if o.get("reward").is_some_and(|r| r.get("rule").is_some()) =>
        {
            let vp = pov_params(value, path).map_err(|e| e.to_string())?;
            ParamValue::Type(Box::new(vp.work))
        }
        (ValueKind::Reward, Value::Object(o)) if o.contains_key("rule") => {
            return Err(format!(
                "{path}: write the reward rule with the type's evaluation set, as types.<kind>"
            ));
        }
        (_, Value::String(text)) => ParamValue::parse(kind, text).map_err(|e| e.to_string())?,
        (_, other) => ParamValue::parse(kind, &other.to_string()).map_err(|e| e.to_string())?,
    };
    Ok(ParamChange {
        path: p.to_string(),
        value: parsed,
    })
}

fn balances(state: &State) -> Value {
    Value::Array(
        state
            .members()
            .iter()
            .map(|m| Value::Array(vec![number(m.reputation), number(m.tokens)]))
            .collect(),
    )
}

/// An amount as a JSON number (output only: the nearest double).
fn number(a: Amount) -> Value {
    Number::from_f64(a.to_f64_lossy())
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn member_index(v: &Value, members: usize, at: &str) -> Result<MemberId, ConformanceError> {
    let i = v
        .as_u64()
        .ok_or_else(|| err(at, "must be a member index (a non-negative integer)"))?;
    if i as usize >= members {
        return Err(err(
            at,
            format!("member {i} does not exist ({members} members)"),
        ));
    }
    Ok(i as MemberId)
}

/// Reads a JSON number or string as an amount, rounding a double's decimal text to 12 places.
fn amount_value(v: &Value, at: &str) -> Result<Amount, ConformanceError> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return Err(err(at, "must be a number or a decimal string")),
    };
    let d = Decimal::from_str_exact(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| err(at, format!("{text:?} is not a decimal number")))?;
    let a = Amount::round(d).map_err(|e| err(at, e.to_string()))?;
    if a.is_negative() {
        return Err(err(at, format!("{text} is negative")));
    }
    Ok(a)
}

fn amount_field(obj: &Value, key: &str, at: &str) -> Result<Amount, ConformanceError> {
    let v = obj
        .get(key)
        .ok_or_else(|| err(at, format!("missing `{key}`")))?;
    amount_value(v, &format!("{at}.{key}"))
}

/// Parameters in the 2016 reference's names: threshold rule, binary set, re-votes reprocessed.
fn reference_params(p: &Value, at: &str) -> Result<VectorParams, ConformanceError> {
    let fund = if p
        .get("REWARD_TOKENS_TO_EVALUATORS")
        .and_then(Value::as_bool)
        == Some(true)
    {
        amount_field(p, "token_fund_for_evaluators", at)?
    } else {
        Amount::ZERO
    };
    let tp = TypeParams {
        fee: Amount::ZERO, // already paid in the initial state
        stake: amount_field(p, "stake", at)?,
        distribution: amount_field(p, "distribution_stake", at)?,
        fee_exponent: amount_field(p, "BETA", at)?,
        evaluation_set: vec![0, 1],
        reward: RewardRule::Threshold {
            threshold: amount_field(p, "reward_threshold", at)?,
            token_factor: amount_field(p, "token_reward_factor", at)?,
            reputation_factor: amount_field(p, "reputation_reward_factor", at)?,
        },
        evaluator_fund: fund,
        sealed: None,
    };
    Ok(VectorParams {
        work: tp,
        revote: Revote::Reprocess,
        fee: Amount::ZERO,
        governance: GovernanceParams::default(),
        min_reputation_to_evaluate: Amount::ZERO,
    })
}

/// Parameters in `pov`'s own names (spec section 9, `pov_params`, with section 11's `fee`,
/// `governance` and `min_reputation_to_evaluate`).
fn pov_params(p: &Value, at: &str) -> Result<VectorParams, ConformanceError> {
    let set: Vec<EvalValue> = p
        .get("evaluation_set")
        .and_then(Value::as_array)
        .ok_or_else(|| err(at, "`evaluation_set` must be an array of integers"))?
        .iter()
        .map(|v| {
            v.as_i64()
                .ok_or_else(|| err(format!("{at}.evaluation_set"), "values must be integers"))
        })
        .collect::<Result<_, _>>()?;
    if set.is_empty() || set.windows(2).any(|w| w[0] >= w[1]) {
        return Err(err(
            format!("{at}.evaluation_set"),
            "must be non-empty and strictly increasing",
        ));
    }
    let revote = match p.get("revote").and_then(Value::as_str) {
        None | Some("reject-same") => Revote::RejectSame,
        Some("reprocess") => Revote::Reprocess,
        Some(other) => {
            return Err(err(
                format!("{at}.revote"),
                format!("{other:?} is not `reject-same` or `reprocess`"),
            ))
        }
    };
    let optional = |key: &str| -> Result<Amount, ConformanceError> {
        match p.get(key) {
            None | Some(Value::Null) => Ok(Amount::ZERO),
            Some(v) => amount_value(v, &format!("{at}.{key}")),
        }
    };
    let rw = p.get("reward").ok_or_else(|| err(at, "missing `reward`"))?;
    let rat = format!("{at}.reward");
    let reward = match rw.get("rule").and_then(Value::as_str) {
        Some("median") => RewardRule::Median {
            token_value: table(rw, "token_value", &set, &rat)?,
            reputation_value: table(rw, "reputation_value", &set, &rat)?,
        },
        Some("threshold") => RewardRule::Threshold {
            threshold: amount_field(rw, "threshold", &rat)?,
            token_factor: amount_field(rw, "token_factor", &rat)?,
            reputation_factor: amount_field(rw, "reputation_factor", &rat)?,
        },
        _ => return Err(err(rat, "`rule` must be \"median\" or \"threshold\"")),
    };
    let fee = match p.get("fee") {
        None | Some(Value::Null) => Amount::ONE,
        Some(v) => amount_value(v, &format!("{at}.fee"))?,
    };
    let sealed = match p.get("sealed") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let sat = format!("{at}.sealed");
            let blocks = |key: &str| {
                v.get(key)
                    .and_then(Value::as_u64)
                    .ok_or_else(|| err(&sat, format!("`{key}` must be a whole number of blocks")))
            };
            Some(Sealed {
                commit_blocks: blocks("commit_blocks")?,
                reveal_blocks: blocks("reveal_blocks")?,
            })
        }
    };
    let tp = TypeParams {
        fee,
        stake: amount_field(p, "stake", at)?,
        distribution: amount_field(p, "distribution", at)?,
        fee_exponent: amount_field(p, "fee_exponent", at)?,
        evaluation_set: set,
        reward,
        evaluator_fund: optional("evaluator_fund")?,
        sealed,
    };
    let mut governance = GovernanceParams::default();
    if let Some(g) = p.get("governance").filter(|g| !g.is_null()) {
        let gat = format!("{at}.governance");
        let obj = g
            .as_object()
            .ok_or_else(|| err(&gat, "must be an object"))?;
        for (key, v) in obj {
            let here = format!("{gat}.{key}");
            match key.as_str() {
                "fee" => governance.fee = amount_value(v, &here)?,
                "stake" => governance.stake = amount_value(v, &here)?,
                "distribution" => governance.distribution = amount_value(v, &here)?,
                "fee_exponent" => governance.fee_exponent = amount_value(v, &here)?,
                "expiry_blocks" => {
                    governance.expiry_blocks = v
                        .as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                        .ok_or_else(|| err(&here, "must be a whole number of blocks"))?;
                }
                "enabled" => {
                    governance.enabled = v
                        .as_bool()
                        .ok_or_else(|| err(&here, "must be true or false"))?;
                }
                other => return Err(err(&gat, format!("unknown key {other:?}"))),
            }
        }
    }
    Ok(VectorParams {
        fee,
        work: tp,
        revote,
        governance,
        min_reputation_to_evaluate: optional("min_reputation_to_evaluate")?,
    })
}

/// A value table `{"VALUE": amount}` as a list aligned with the evaluation set.
fn table(
    rw: &Value,
    key: &str,
    set: &[EvalValue],
    at: &str,
) -> Result<Vec<Amount>, ConformanceError> {
    let at = format!("{at}.{key}");
    let map = rw
        .get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| err(&at, "must be an object from value to amount"))?;
    let mut by_value: BTreeMap<EvalValue, Amount> = BTreeMap::new();
    for (k, v) in map {
        let value: EvalValue = k
            .trim()
            .parse()
            .map_err(|_| err(&at, format!("key {k:?} is not an integer value")))?;
        by_value.insert(value, amount_value(v, &format!("{at}.{k}"))?);
    }
    set.iter()
        .map(|x| {
            by_value
                .get(x)
                .copied()
                .ok_or_else(|| err(&at, format!("no entry for value {x}")))
        })
        .collect()
}

/// The largest relative error between a file's expected figures and computed ones, and the
/// steps where one is rejected and the other not.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Numbers compared.
    pub numbers: usize,
    /// Largest relative error seen (absolute error where the expected value is 0).
    pub max_relative_error: f64,
    /// Where it was seen.
    pub worst: String,
    /// Steps whose rejection differs, by location.
    pub rejection_mismatches: Vec<String>,
    /// Places where the structure differs (missing arrays, different lengths).
    pub shape_mismatches: Vec<String>,
}

impl Comparison {
    /// True when every number is within `tolerance` and rejections agree.
    pub fn passes(&self, tolerance: f64) -> bool {
        self.max_relative_error <= tolerance
            && self.rejection_mismatches.is_empty()
            && self.shape_mismatches.is_empty()
    }
}

/// Compares computed output with the expected values of the original file.
pub fn compare(expected: &Value, computed: &Value) -> Comparison {
    let mut cmp = Comparison::default();
    let pairs: Vec<(&Value, &Value)> = match (expected.get("vectors"), computed.get("vectors")) {
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            if a.len() != b.len() {
                cmp.shape_mismatches
                    .push("vectors: different counts".into());
            }
            a.iter().zip(b).collect()
        }
        _ => vec![(expected, computed)],
    };
    for (vi, (e, c)) in pairs.into_iter().enumerate() {
        let name = vector_name(e, vi);
        let (Some(es), Some(cs)) = (
            e.get("steps").and_then(Value::as_array),
            c.get("steps").and_then(Value::as_array),
        ) else {
            cmp.shape_mismatches.push(format!("{name}: steps missing"));
            continue;
        };
        for (si, (estep, cstep)) in es.iter().zip(cs).enumerate() {
            let at = format!("{name}: steps[{si}]");
            if estep.get("rejected").is_some() != cstep.get("rejected").is_some() {
                cmp.rejection_mismatches.push(at.clone());
            }
            for key in ["after", "max_score_after", "median_max_after"] {
                if let Some(ev) = estep.get(key) {
                    match cstep.get(key) {
                        Some(cv) => compare_values(ev, cv, &format!("{at}.{key}"), &mut cmp),
                        None => cmp.shape_mismatches.push(format!("{at}.{key} missing")),
                    }
                }
            }
        }
    }
    cmp
}

// The spec compares a run with its vectors within a relative tolerance (section 9): floats
// here judge a result after the fact, they never decide state.
#[allow(clippy::float_arithmetic)]
fn compare_values(e: &Value, c: &Value, at: &str, cmp: &mut Comparison) {
    match (e, c) {
        (Value::Array(ea), Value::Array(ca)) => {
            if ea.len() != ca.len() {
                cmp.shape_mismatches.push(format!("{at}: lengths differ"));
            }
            for (i, (ev, cv)) in ea.iter().zip(ca).enumerate() {
                compare_values(ev, cv, &format!("{at}[{i}]"), cmp);
            }
        }
        _ => {
            // `null` (never set) and 0 are the same maximum (spec section 9).
            let ef = e.as_f64().unwrap_or(0.0);
            let cf = c.as_f64().unwrap_or(0.0);
            cmp.numbers += 1;
            let error = if ef == 0.0 {
                cf.abs()
            } else {
                ((ef - cf) / ef).abs()
            };
            if error > cmp.max_relative_error || error.is_nan() {
                cmp.max_relative_error = if error.is_nan() { f64::INFINITY } else { error };
                cmp.worst = at.to_string();
            }
        }
    }
}
