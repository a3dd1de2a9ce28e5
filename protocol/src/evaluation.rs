//! The Proof-of-Value evaluation rule (spec section 4), step by step.
//!
//! A member `k` evaluates contribution `c` with value `v`:
//!
//! 0. **Checks.** `v` must be in `c`'s evaluation set, `c` must exist, `k` must hold at least
//!    `min_reputation_to_evaluate`, and under `revote = reject-same` `k`'s live evaluation of
//!    `c` must not already be `v`. A changed value replaces the old live evaluation (moving
//!    to the end of the insertion order) and is processed in full.
//! 1. **Evaluator fund.** If `c` has a fund left and `k` never evaluated `c` before: with
//!    `U = R - V'` (`V'` the reputation engaged on `c` before this evaluation), `k` is paid
//!    `t = F_c * r_k / U` tokens from the fund.
//! 2. **Snapshot.** With the new evaluation counted as live: `r = r_k`, `V` = reputation of all
//!    live evaluators of `c`, `W` = reputation of live evaluators whose value is `v`, and `R`.
//! 3. **Stake.** `k` burns `s * r * (1 - (V/R)^β)` reputation: early evaluators, who take the
//!    most risk of disagreeing with the community, pay the most.
//! 4. **Redistribution.** With `q = d * r / W`, every *other* live evaluator with value `v`
//!    multiplies its reputation by `1 + q`, in insertion order; each one's referrer earns
//!    `referral_fraction` of the gain. This is how early agreement pays.
//! 5. **Contributor reward.**
//!    - `threshold`: only for the top value. `score = W / R` (the top value's share). If it
//!      beats `max_c`, the newly covered part of the score (all of it the first time it passes
//!      θ) is minted times the factors, and `max_c := score`.
//!    - `median`: `m_c` is the lower weighted median over the whole cooperative (reputation
//!      that has not evaluated counts as the lowest value). If `m_c > m*_c`, the difference
//!      between the value tables at `m_c` and `m*_c` is minted and `m*_c := m_c`; a later fall
//!      never claws back. Nothing is minted until at least half of `R` has evaluated.
//!
//!    Minted amounts earn the contributor's referrer its share. With `R = 0` nothing is
//!    staked or minted.
//! 6. `R` moves by exactly the deltas applied (every change goes through `Change::credit`).
//!
//! A parameter proposal (spec section 11) is evaluated by these same steps, with its
//! snapshot of the governance table (the median rule on `[0, 1]`, both tables zero), and two
//! additions: step 0 refuses an evaluation after the proposal's last height, and the
//! proposal **passes** at the evaluation whose step 5 first raises `m*_c` to 1 (members with
//! at least half of `R` accept). Passing queues it for the start of the next block
//! ([`crate::governance`]); it changes no balance.
//!
//! Every arithmetic step rounds to 12 places (see [`crate::amount`]). All reads of the
//! snapshot happen before any write, and the contribution itself is updated only after
//! every fallible step, so a failure leaves nothing half-done.

use crate::amount::Amount;
use crate::error::TxError;
use crate::events::{Asset, Rule};
use crate::params::{EvalValue, Revote, RewardRule};
use crate::state::{Change, ContributionId, LiveEvaluation, MemberId};

/// How an evaluation is processed: as an `Evaluate` transaction, or as one revealed
/// commitment inside a settlement (spec section 12).
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Section 4 in full: checks, evaluator fund, stake, redistribution, reward.
    Open,
    /// Section 12's settlement: steps 2, 4 and 5 only, with `r` as recorded at commit; the
    /// live evaluations so far are the ones processed so far in this settlement.
    Settle {
        /// The reputation recorded with the commitment.
        r: Amount,
        /// The commitment's place in commitment order.
        seq: u64,
    },
}

/// Applies `k`'s evaluation of `c` with value `v` inside `change`.
pub(crate) fn evaluate(
    change: &mut Change<'_>,
    k: MemberId,
    c: ContributionId,
    v: EvalValue,
) -> Result<(), TxError> {
    run(change, k, c, v, Mode::Open)
}

/// Processes one revealed commitment of `k` (value `v`, reputation `r` recorded at commit,
/// place `seq` in commitment order) during the settlement of `c` (spec section 12).
pub(crate) fn settle_one(
    change: &mut Change<'_>,
    k: MemberId,
    c: ContributionId,
    v: EvalValue,
    r: Amount,
    seq: u64,
) -> Result<(), TxError> {
    run(change, k, c, v, Mode::Settle { r, seq })
}

fn run(
    change: &mut Change<'_>,
    k: MemberId,
    c: ContributionId,
    v: EvalValue,
    mode: Mode,
) -> Result<(), TxError> {
    let state = &*change.state;
    let contribution = state
        .contribution(c)
        .ok_or(TxError::UnknownContribution(c))?;
    let p = &contribution.params;
    let open = matches!(mode, Mode::Open);
    if open && p.sealed.is_some() {
        return Err(TxError::SealedEvaluate { contribution: c });
    }
    if let Some(proposal) = &contribution.proposal {
        if state.height() > proposal.expires_at {
            return Err(TxError::ProposalExpired {
                proposal: c,
                expires_at: proposal.expires_at,
                height: state.height(),
            });
        }
    }
    let vi = p.value_index(v).ok_or_else(|| TxError::ValueNotInSet {
        value: v,
        set: p.evaluation_set.clone(),
    })?;
    let members = state.members_slice();
    let r_k = members[k as usize].reputation;
    let min = state.params().min_reputation_to_evaluate;
    if open && r_k < min {
        return Err(TxError::ReputationTooLow {
            have: r_k,
            need: min,
        });
    }
    let previous = contribution.evaluations.iter().position(|e| e.member == k);
    if open && state.params().revote == Revote::RejectSame {
        if let Some(pos) = previous {
            if contribution.evaluations[pos].value == v {
                return Err(TxError::SameValueRevote {
                    contribution: c,
                    value: v,
                });
            }
        }
    }

    // One pass over the live evaluations: reputation per value, with k's old value left out.
    let mut weights = vec![0i128; p.evaluation_set.len()];
    for e in &contribution.evaluations {
        if e.member == k {
            continue;
        }
        let idx = p.value_index(e.value).unwrap_or(0);
        weights[idx] += members[e.member as usize].reputation.mantissa();
    }
    let engaged_before: i128 = weights.iter().sum();
    let r_total = state.total_reputation();
    let first_time = !contribution.evaluated_ever.contains(&k);
    let stake = p.stake;
    let distribution = p.distribution;
    let exponent = p.fee_exponent;
    let reward = p.reward.clone();
    let set = p.evaluation_set.clone();
    let contributor = contribution.contributor;
    let mut fund = contribution.fund;
    let mut max_score = contribution.max_score;
    let mut median_max = contribution.median_max;
    let mut minted_tokens = contribution.minted_tokens;
    let mut minted_reputation = contribution.minted_reputation;
    let is_pending_proposal = contribution
        .proposal
        .as_ref()
        .is_some_and(|p| p.passed_at.is_none());
    let mut passes = false;

    // Step 1: evaluator fund. V' excludes k: a first-time evaluator has no live evaluation.
    // (A sealed contribution pays it at commit, see `crate::sealed`.)
    if open && first_time && !fund.is_zero() {
        let unengaged = r_total.checked_sub(Amount::from_mantissa(engaged_before)?)?;
        if unengaged > Amount::ZERO {
            let t = fund.checked_mul(r_k)?.checked_div(unengaged)?;
            change.credit(k, Asset::Tokens, t, Rule::EvaluatorFund, Some(c))?;
            fund = fund.checked_sub(t)?;
        }
    }

    // Step 2: snapshot (the fund paid tokens, so reputations are unchanged since the pass).
    // In a settlement `r` is the reputation recorded at commit, while V and W count k with
    // its current reputation, as every other member of the snapshot.
    let r = match mode {
        Mode::Open => r_k,
        Mode::Settle { r, .. } => r,
    };
    weights[vi] += r_k.mantissa();
    let engaged = Amount::from_mantissa(engaged_before + r_k.mantissa())?;
    let same_value = Amount::from_mantissa(weights[vi])?;

    // Step 3: stake (a sealed contribution's was taken at commit).
    if open && r_total > Amount::ZERO && r > Amount::ZERO {
        let share = engaged.checked_div(r_total)?.pow(exponent)?;
        let fee = stake
            .checked_mul(r)?
            .checked_mul(Amount::ONE.checked_sub(share)?)?;
        change.credit(
            k,
            Asset::Reputation,
            Amount::ZERO.checked_sub(fee)?,
            Rule::Stake,
            Some(c),
        )?;
    }

    // Step 4: redistribution to the other live evaluators with the same value.
    if same_value > Amount::ZERO {
        let factor =
            Amount::ONE.checked_add(distribution.checked_mul(r)?.checked_div(same_value)?)?;
        let peers: Vec<MemberId> = change
            .state
            .contribution(c)
            .map(|contribution| {
                contribution
                    .evaluations
                    .iter()
                    .filter(|e| e.member != k && e.value == v)
                    .map(|e| e.member)
                    .collect()
            })
            .unwrap_or_default();
        for j in peers {
            let old = change.state.members_slice()[j as usize].reputation;
            let gain = old.checked_mul(factor)?.checked_sub(old)?;
            change.credit_with_referral(
                j,
                Asset::Reputation,
                gain,
                Rule::Redistribution,
                Some(c),
            )?;
        }
    }

    // Step 5: contributor reward, from the snapshot of step 2.
    if r_total > Amount::ZERO {
        match &reward {
            RewardRule::Threshold {
                threshold,
                token_factor,
                reputation_factor,
            } => {
                if v == *set.last().unwrap_or(&v) {
                    let score = same_value.checked_div(r_total)?;
                    let previous_max = max_score.unwrap_or(Amount::ZERO);
                    if score > previous_max {
                        let base = if previous_max >= *threshold {
                            score.checked_sub(previous_max)?
                        } else if score > *threshold {
                            score
                        } else {
                            Amount::ZERO
                        };
                        max_score = Some(score);
                        if base > Amount::ZERO {
                            let tokens = token_factor.checked_mul(base)?;
                            let reputation = reputation_factor.checked_mul(base)?;
                            mint(change, contributor, tokens, reputation, c)?;
                            minted_tokens = minted_tokens.checked_add(tokens)?;
                            minted_reputation = minted_reputation.checked_add(reputation)?;
                        }
                    }
                }
            }
            RewardRule::Median {
                token_value,
                reputation_value,
            } => {
                let m = weighted_median(&weights, engaged, r_total)?;
                let m_star = set.iter().position(|x| *x == median_max).unwrap_or(0);
                if m > m_star {
                    let at = |table: &Vec<Amount>, i: usize| {
                        table.get(i).copied().unwrap_or(Amount::ZERO)
                    };
                    let tokens = at(token_value, m).checked_sub(at(token_value, m_star))?;
                    let reputation =
                        at(reputation_value, m).checked_sub(at(reputation_value, m_star))?;
                    mint(change, contributor, tokens, reputation, c)?;
                    minted_tokens = minted_tokens.checked_add(tokens)?;
                    minted_reputation = minted_reputation.checked_add(reputation)?;
                    median_max = set[m];
                    // A proposal's set is [0, 1]: its median first reaching 1 is the pass.
                    passes = is_pending_proposal && median_max == 1;
                }
            }
        }
    }

    // Every fallible step is done: record the evaluation on the contribution.
    let contribution = &mut change.state.contributions_mut()[c as usize];
    if let Some(pos) = previous {
        contribution.evaluations.remove(pos);
    }
    let seq = match mode {
        Mode::Open => {
            contribution.next_seq += 1;
            contribution.next_seq - 1
        }
        Mode::Settle { seq, .. } => seq,
    };
    contribution.evaluations.push(LiveEvaluation {
        member: k,
        value: v,
        seq,
    });
    contribution.evaluated_ever.insert(k);
    contribution.evaluation_count += 1;
    contribution.fund = fund;
    contribution.max_score = max_score;
    contribution.median_max = median_max;
    contribution.minted_tokens = minted_tokens;
    contribution.minted_reputation = minted_reputation;
    if passes {
        let height = change.state.height();
        if let Some(p) = change.state.contributions_mut()[c as usize]
            .proposal
            .as_mut()
        {
            p.passed_at = Some(height);
        }
        change.state.governance_mut().pending.push(c);
    }
    Ok(())
}

/// Mints the contributor's reward, with its referrer's share.
fn mint(
    change: &mut Change<'_>,
    contributor: MemberId,
    tokens: Amount,
    reputation: Amount,
    c: ContributionId,
) -> Result<(), TxError> {
    change.credit_with_referral(
        contributor,
        Asset::Tokens,
        tokens,
        Rule::ContributorReward,
        Some(c),
    )?;
    change.credit_with_referral(
        contributor,
        Asset::Reputation,
        reputation,
        Rule::ContributorReward,
        Some(c),
    )
}

/// Index (into the evaluation set) of the lower weighted median over the whole cooperative.
///
/// `weights[i]` is the reputation (mantissa) whose live value is the set's `i`-th value;
/// the `R - V` that has not evaluated counts at the lowest value. The median is the first
/// value at which the running weight exceeds `R / 2`, compared as `2 * running > R` so that
/// no rounding enters the comparison.
pub(crate) fn weighted_median(
    weights: &[i128],
    engaged: Amount,
    r_total: Amount,
) -> Result<usize, TxError> {
    let mut running = r_total.checked_sub(engaged)?.mantissa();
    let total = r_total.mantissa();
    for (i, w) in weights.iter().enumerate() {
        running += w;
        if 2 * running > total {
            return Ok(i);
        }
    }
    Ok(weights.len().saturating_sub(1))
}

/// Where a contribution's evaluation stands now, with current reputations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Reputation of the members with a live evaluation (`V`).
    pub engaged: Amount,
    /// The lower weighted median over the whole cooperative, as the median rule would
    /// compute it now (`None` while `R = 0`).
    pub median: Option<EvalValue>,
}

impl crate::state::State {
    /// The current tally of a contribution (for queries; the rules compute their own
    /// snapshot inside each evaluation).
    pub fn tally(&self, c: ContributionId) -> Option<Tally> {
        let contribution = self.contribution(c)?;
        let p = &contribution.params;
        let mut weights = vec![0i128; p.evaluation_set.len()];
        for e in &contribution.evaluations {
            let idx = p.value_index(e.value).unwrap_or(0);
            weights[idx] += self.member(e.member).map_or(0, |m| m.reputation.mantissa());
        }
        let engaged = Amount::from_mantissa(weights.iter().sum()).ok()?;
        let total = self.total_reputation();
        let median = if total > Amount::ZERO {
            weighted_median(&weights, engaged, total)
                .ok()
                .and_then(|i| p.evaluation_set.get(i).copied())
        } else {
            None
        };
        Some(Tally { engaged, median })
    }
}
