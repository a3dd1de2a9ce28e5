//! Sealed evaluations (spec section 12, protocol 1.2): commit, reveal, settle.
//!
//! Open evaluation invites herding: a later evaluator sees every earlier value and is paid,
//! through redistribution, for agreeing with it. A contribution type with
//! `sealed = { commit_blocks, reveal_blocks }` hides the values until everyone has
//! committed, and keeps "earlier is better" by settling in commitment order. For a
//! contribution included at height `H0`:
//!
//! 1. **Commit window**, heights `H0+1 ..= H0+commit_blocks`. A member sends
//!    `Commit { contribution, commitment }` with [`commitment`] = blake3 of a domain tag, the
//!    chain id, the contribution, the sender, the value and a 32-byte secret salt. The checks
//!    of section 4 apply except the value's (it is hidden). The **stake** of section 4
//!    step 3 is taken now: `s * r * (1 - (V/R)^β)` with `r` the sender's reputation now and
//!    `V` the reputation of members holding a live commitment, this one included. `r` is
//!    recorded with the commitment. A later `Commit` by the same member replaces the earlier
//!    one, pays the stake again and moves to the end of the order.
//! 2. **Reveal window**, the next `reveal_blocks` heights. `Reveal { contribution, value,
//!    salt }` opens the sender's live commitment; refused if it does not match, if the value
//!    is not in the evaluation set, or if it is already open.
//! 3. **Settlement**, at the start of the first block after the reveal window, before its
//!    transactions (contributions settling at one height go in ascending id). The revealed
//!    commitments are processed one by one in commitment order, each as section 4 steps 2,
//!    4 and 5 with no second stake: `r` is the reputation recorded at commit; `V`, `W` and
//!    the median count only the evaluations processed so far in this settlement; every other
//!    quantity (reputations, `R`) is current as it evolves through the settlement. So
//!    redistribution reaches only earlier committers with the same value. Unrevealed
//!    commitments forfeit their stake (burned at commit) and count nowhere. A `settled`
//!    event says how many committed, revealed and forfeited; the contribution is closed.
//!
//! Where the spec is silent (docs/protocol.md records each choice):
//! - **Evaluator fund.** Step 1 of section 4 does not depend on the value, so a sealed
//!   contribution pays it at the member's first commitment (`V'` = reputation holding a
//!   live commitment, the sender's excluded); a replacement commitment is not a first time.
//! - **Who counts as `k` in step 2.** `V` and `W` count the settling member with its current
//!   reputation, like every other member of the snapshot; only `r` is the recorded one.
//! - **Overflow during settlement.** A revealed commitment whose processing overflows is
//!   undone and skipped (a `SettlementSkipped` event), so that no input can stop the chain.
//! - A commitment whose reveal was refused (say, its value is not in the set) stays
//!   unrevealed and forfeits.

use pov_crypto::{Address, Hash, Salt};
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::error::TxError;
use crate::events::{Asset, BlockEvent, Rule};
use crate::params::{EvalValue, Sealed};
use crate::state::{Change, Contribution, ContributionId, MemberId, State};

/// The domain tag of a commitment's hash (spec section 12).
pub const COMMITMENT_DOMAIN: &[u8] = b"pov/seal/v1";

/// The commitment to `value` with `salt` by `sender` on `contribution` of chain `chain_id`:
/// `blake3("pov/seal/v1" ‖ chain_id ‖ contribution (u64 LE) ‖ sender ‖ value (i64 LE) ‖
/// salt)`. The chain, contribution and sender are in it so that nobody can copy another
/// member's commitment and reveal it once the other has revealed.
pub fn commitment(
    chain_id: &str,
    contribution: ContributionId,
    sender: &Address,
    value: EvalValue,
    salt: &Salt,
) -> Hash {
    pov_crypto::hash_parts(&[
        COMMITMENT_DOMAIN,
        chain_id.as_bytes(),
        &contribution.to_le_bytes(),
        sender.as_bytes(),
        &value.to_le_bytes(),
        salt.as_bytes(),
    ])
}

/// A sealed contribution's evaluation state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedState {
    /// The live commitments, in commitment order (a replacement moves to the end).
    pub commitments: Vec<Commitment>,
    /// Set when the contribution settled (and closed).
    pub settlement: Option<Settlement>,
}

/// One member's live commitment on a sealed contribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    /// The member.
    pub member: MemberId,
    /// The hash committed to.
    pub commitment: Hash,
    /// The member's reputation when it committed: the `r` of its settlement.
    pub reputation: Amount,
    /// The height of the block that included the commitment.
    pub height: u64,
    /// Its place in commitment order (the contribution's insertion sequence).
    pub seq: u64,
    /// The value, once revealed. Public on chain from the reveal on, since the `Reveal`
    /// transaction carries it; the API shows it only after settlement.
    pub revealed: Option<EvalValue>,
}

/// What a settlement did, kept on the contribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// The block at whose start it settled.
    pub height: u64,
    /// Live commitments at the end of the commit window.
    pub committed: u64,
    /// Those revealed (and processed, unless skipped).
    pub revealed: u64,
    /// Those not revealed: their stakes stay burned.
    pub forfeited: u64,
}

/// The `settled` event: one sealed contribution settled and closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledEvent {
    /// The contribution.
    pub contribution: ContributionId,
    /// Live commitments.
    pub committed: u64,
    /// Revealed commitments.
    pub revealed: u64,
    /// Unrevealed commitments, whose stakes are forfeited.
    pub forfeited: u64,
}

/// A revealed commitment that settlement could not process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedEvent {
    /// The contribution.
    pub contribution: ContributionId,
    /// The member whose evaluation was skipped.
    pub member: MemberId,
    /// Why.
    pub reason: String,
}

/// Where a sealed contribution stands, seen from the next block (the one a transaction sent
/// now would land in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The next block is in the commit window.
    Commit,
    /// The next block is in the reveal window.
    Reveal,
    /// The next block settles it, at its start.
    Settling,
    /// Settled and closed.
    Settled,
}

impl Phase {
    /// The phase's name as the API and the CLI print it.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Commit => "commit",
            Phase::Reveal => "reveal",
            Phase::Settling => "settling",
            Phase::Settled => "settled",
        }
    }
}

/// A sealed contribution's windows and phase, for queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// The last height of the commit window.
    pub commit_end: u64,
    /// The last height of the reveal window.
    pub reveal_end: u64,
    /// The height at whose start it settles (or settled).
    pub settles_at: u64,
    /// Where it stands for the block after `height`.
    pub phase: Phase,
}

impl Contribution {
    /// The windows and phase of a sealed contribution as of state height `height` (`None`
    /// for an open one).
    pub fn windows(&self, height: u64) -> Option<Windows> {
        let sealed = self.params.sealed?;
        let next = height.saturating_add(1);
        let commit_end = sealed.commit_end(self.height);
        let reveal_end = sealed.reveal_end(self.height);
        let settled = self.sealed.as_ref().and_then(|s| s.settlement).is_some();
        let phase = if settled {
            Phase::Settled
        } else if next <= commit_end {
            Phase::Commit
        } else if next <= reveal_end {
            Phase::Reveal
        } else {
            Phase::Settling
        };
        Some(Windows {
            commit_end,
            reveal_end,
            settles_at: sealed.settles_at(self.height),
            phase,
        })
    }
}

/// The height at whose start an unsettled sealed contribution settles (`None` for an open
/// or already settled one): what [`State`] indexes to find the due ones.
pub(crate) fn settles_at(c: &Contribution) -> Option<u64> {
    let sealed = c.params.sealed?;
    match &c.sealed {
        Some(s) if s.settlement.is_none() => Some(sealed.settles_at(c.height)),
        _ => None,
    }
}

/// The sealed parameters and state of `c`, or why a commitment or reveal cannot touch it.
fn sealed_parts(c: &Contribution) -> Result<(Sealed, &SealedState), TxError> {
    let not_sealed = TxError::NotSealed { contribution: c.id };
    let params = c.params.sealed.ok_or(not_sealed.clone())?;
    let state = c.sealed.as_ref().ok_or(not_sealed)?;
    if let Some(settlement) = state.settlement {
        return Err(TxError::Closed {
            contribution: c.id,
            height: settlement.height,
        });
    }
    Ok((params, state))
}

/// `Commit { contribution, commitment }` by `k` (spec section 12).
pub(crate) fn commit(
    change: &mut Change<'_>,
    k: MemberId,
    c: ContributionId,
    commitment: Hash,
) -> Result<(), TxError> {
    let state = &*change.state;
    let contribution = state
        .contribution(c)
        .ok_or(TxError::UnknownContribution(c))?;
    let (sealed, live) = sealed_parts(contribution)?;
    let height = state.height();
    let first = contribution.height.saturating_add(1);
    let last = sealed.commit_end(contribution.height);
    if height < first || height > last {
        return Err(TxError::OutsideCommitWindow {
            contribution: c,
            first,
            last,
            height,
        });
    }
    let members = state.members_slice();
    let r_k = members[k as usize].reputation;
    let min = state.params().min_reputation_to_evaluate;
    if r_k < min {
        return Err(TxError::ReputationTooLow {
            have: r_k,
            need: min,
        });
    }
    // V': the reputation of members holding a live commitment, k's earlier one left out.
    let engaged_before: Amount = Amount::sum(
        live.commitments
            .iter()
            .filter(|m| m.member != k)
            .map(|m| members[m.member as usize].reputation),
    )?;
    let r_total = state.total_reputation();
    let p = &contribution.params;
    let (stake, exponent) = (p.stake, p.fee_exponent);
    let first_time = !contribution.evaluated_ever.contains(&k);
    let mut fund = contribution.fund;

    // Section 4 step 1, at the first commitment (it does not depend on the value).
    if first_time && !fund.is_zero() {
        let unengaged = r_total.checked_sub(engaged_before)?;
        if unengaged > Amount::ZERO {
            let t = fund.checked_mul(r_k)?.checked_div(unengaged)?;
            change.credit(k, Asset::Tokens, t, Rule::EvaluatorFund, Some(c))?;
            fund = fund.checked_sub(t)?;
        }
    }

    // Section 4 step 3, with V counting every live commitment, this one included.
    let r = r_k;
    let engaged = engaged_before.checked_add(r)?;
    if r_total > Amount::ZERO && r > Amount::ZERO {
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

    // Every fallible step is done: record the commitment at the end of the order.
    let contribution = &mut change.state.contributions_mut()[c as usize];
    let seq = contribution.next_seq;
    contribution.next_seq += 1;
    contribution.evaluated_ever.insert(k);
    contribution.fund = fund;
    if let Some(live) = contribution.sealed.as_mut() {
        live.commitments.retain(|m| m.member != k);
        live.commitments.push(Commitment {
            member: k,
            commitment,
            reputation: r,
            height,
            seq,
            revealed: None,
        });
    }
    Ok(())
}

/// `Reveal { contribution, value, salt }` by `k` (spec section 12).
pub(crate) fn reveal(
    change: &mut Change<'_>,
    k: MemberId,
    sender: Address,
    c: ContributionId,
    value: EvalValue,
    salt: &Salt,
) -> Result<(), TxError> {
    let state = &*change.state;
    let contribution = state
        .contribution(c)
        .ok_or(TxError::UnknownContribution(c))?;
    let (sealed, live) = sealed_parts(contribution)?;
    let height = state.height();
    let first = sealed.commit_end(contribution.height).saturating_add(1);
    let last = sealed.reveal_end(contribution.height);
    if height < first || height > last {
        return Err(TxError::OutsideRevealWindow {
            contribution: c,
            first,
            last,
            height,
        });
    }
    let position = live
        .commitments
        .iter()
        .position(|m| m.member == k)
        .ok_or(TxError::NoCommitment { contribution: c })?;
    let mine = &live.commitments[position];
    if mine.revealed.is_some() {
        return Err(TxError::AlreadyRevealed { contribution: c });
    }
    let p = &contribution.params;
    if p.value_index(value).is_none() {
        return Err(TxError::ValueNotInSet {
            value,
            set: p.evaluation_set.clone(),
        });
    }
    if commitment(state.chain_id(), c, &sender, value, salt) != mine.commitment {
        return Err(TxError::RevealMismatch { contribution: c });
    }
    if let Some(live) = change.state.contributions_mut()[c as usize].sealed.as_mut() {
        live.commitments[position].revealed = Some(value);
    }
    Ok(())
}

/// Settles every sealed contribution due at the start of block `height`, in ascending id.
pub(crate) fn settle_due(state: &mut State, height: u64) -> Vec<BlockEvent> {
    let mut events = Vec::new();
    for c in state.take_due(height) {
        settle(state, c, height, &mut events);
    }
    events
}

/// Settles contribution `c`: its revealed commitments in commitment order, then the
/// `settled` event; it is closed afterwards.
fn settle(state: &mut State, c: ContributionId, height: u64, events: &mut Vec<BlockEvent>) {
    let Some(commitments) = state
        .contribution(c)
        .and_then(|x| x.sealed.as_ref())
        .map(|s| s.commitments.clone())
    else {
        return;
    };
    let mut revealed = 0u64;
    for m in &commitments {
        let Some(value) = m.revealed else { continue };
        revealed += 1;
        let mut change = Change::begin(state);
        match crate::evaluation::settle_one(&mut change, m.member, c, value, m.reputation, m.seq) {
            Ok(()) => events.extend(change.events.drain(..).map(BlockEvent::Balance)),
            Err(e) => {
                change.rollback();
                events.push(BlockEvent::SettlementSkipped(SkippedEvent {
                    contribution: c,
                    member: m.member,
                    reason: e.to_string(),
                }));
            }
        }
    }
    let committed = commitments.len() as u64;
    let settlement = Settlement {
        height,
        committed,
        revealed,
        forfeited: committed - revealed,
    };
    if let Some(live) = state.contributions_mut()[c as usize].sealed.as_mut() {
        live.settlement = Some(settlement);
    }
    events.push(BlockEvent::Settled(SettledEvent {
        contribution: c,
        committed,
        revealed,
        forfeited: settlement.forfeited,
    }));
}
