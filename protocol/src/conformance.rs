//! The conformance runner of spec section 9: replays evaluation vectors through the real
//! state machine.
//!
//! A vector file holds one vector object or `{"vectors": [...]}`. A vector gives parameters
//! (the 2016 reference's names under `params`, or `pov`'s own under `pov_params`), the
//! members' starting balances, which member submitted each contribution, and a list of
//! evaluation steps. [`simulate`] ignores whatever expected values the file carries and
//! writes in its own: `after` (each member's `[reputation, tokens]`) and `max_score_after`
//! (threshold rule) or `median_max_after` (median rule) after every step, or
//! `{"rejected": reason}` for a step the state machine refuses. [`compare`] checks one such
//! output against a file's expected values within a relative tolerance.

use std::collections::BTreeMap;

use pov_crypto::Keypair;
use rust_decimal::Decimal;
use serde_json::{Number, Value};
use thiserror::Error;

use crate::amount::Amount;
use crate::params::{EvalValue, Params, Revote, RewardRule, TypeParams};
use crate::state::{MemberId, State};

/// The contribution type every vector's contributions belong to.
const KIND: &str = "vector";

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

fn run_vector(vector: &mut Value, name: &str) -> Result<(), ConformanceError> {
    let obj = vector
        .as_object_mut()
        .ok_or_else(|| err(name, "a vector must be a JSON object"))?;
    let (type_params, revote) = match obj.get("pov_params") {
        Some(pp) => pov_params(pp, &format!("{name}: pov_params"))?,
        None => {
            let params = obj
                .get("params")
                .ok_or_else(|| err(name, "needs `params` or `pov_params`"))?;
            reference_params(params, &format!("{name}: params"))?
        }
    };
    let report = match type_params.reward {
        RewardRule::Threshold { .. } => Report::MaxScore,
        RewardRule::Median { .. } => Report::MedianMax,
    };
    let mut params = Params::default();
    params.types.clear();
    params.types.insert(KIND.to_string(), type_params);
    params.revote = revote;
    let mut state = State::new("conformance", params);

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

    let steps = obj
        .get_mut("steps")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| err(name, "`steps` must be an array"))?;
    for (i, step) in steps.iter_mut().enumerate() {
        let at = format!("{name}: steps[{i}]");
        let s = step
            .as_object_mut()
            .ok_or_else(|| err(&at, "a step must be an object"))?;
        let evaluator = member_index(
            s.get("evaluator")
                .ok_or_else(|| err(&at, "missing `evaluator`"))?,
            members,
            &format!("{at}.evaluator"),
        )?;
        let contribution = s
            .get("contribution")
            .and_then(Value::as_u64)
            .ok_or_else(|| err(&at, "`contribution` must be a non-negative integer"))?;
        let value: EvalValue = s
            .get("value")
            .and_then(Value::as_i64)
            .ok_or_else(|| err(&at, "`value` must be an integer"))?;
        s.remove("rejected");
        s.remove("max_score_after");
        s.remove("median_max_after");
        let outcome = state.evaluate(evaluator, contribution, value);
        if let Err(e) = &outcome {
            s.insert("rejected".into(), Value::String(e.to_string()));
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
fn reference_params(p: &Value, at: &str) -> Result<(TypeParams, Revote), ConformanceError> {
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
    };
    Ok((tp, Revote::Reprocess))
}

/// Parameters in `pov`'s own names (spec section 9, `pov_params`).
fn pov_params(p: &Value, at: &str) -> Result<(TypeParams, Revote), ConformanceError> {
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
    let tp = TypeParams {
        fee: Amount::ZERO,
        stake: amount_field(p, "stake", at)?,
        distribution: amount_field(p, "distribution", at)?,
        fee_exponent: amount_field(p, "fee_exponent", at)?,
        evaluation_set: set,
        reward,
        evaluator_fund: optional("evaluator_fund")?,
    };
    Ok((tp, revote))
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
