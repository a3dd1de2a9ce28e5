//! `GET /contributions/{id}/evaluations`: a contribution's evaluations in the order they
//! were processed (re-votes included), each with the stake its evaluator paid, what it
//! shared with the earlier evaluators who agreed, what it minted for the contributor, and
//! what later aligned evaluations gave its evaluator.
//!
//! Bounded: a page holds at most `MAX_LIMIT` evaluations; what later evaluations gave
//! needs every evaluation's events, so it is computed only for contributions of at most
//! `MAX_SCAN` evaluations (`received` is `null` beyond). Evaluations' events may be
//! recomputed by replaying blocks, so the page takes a turn at such reads
//! ([`crate::shared::Shared::history_reads`]) and reads a snapshot of the store off its
//! lock.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State as AxState};
use axum::Json;
use pov_crypto::Hash;
use pov_protocol::{Amount, Asset, ContributionId, Event, MemberId, Rule};
use pov_storage::{ContributionActivity, HistoryQuery, Snapshot};
use serde_json::{json, Value};

use super::{name_of, param, ApiError, ApiResult, ApiState, Params};
use crate::shared::read;

const DEFAULT_LIMIT: usize = 50;
/// Evaluations in one page at most.
pub(crate) const MAX_LIMIT: usize = 200;
/// Contributions with more evaluations than this get no `received` figures.
pub(crate) const MAX_SCAN: usize = 2_000;
/// Contribution history lines read at most (a page beyond is empty).
const MAX_HISTORY: usize = 1_000_000;

/// What one evaluation did, from its transaction's events.
#[derive(Default)]
struct Effects {
    stake: Amount,
    shared: Amount,
    shared_with: u64,
    minted_tokens: Amount,
    minted_reputation: Amount,
    fund: Amount,
    received: Amount,
    received_from: u64,
}

fn effects(events: &[Event], id: ContributionId, evaluator: MemberId) -> Result<Effects, ApiError> {
    let mut x = Effects::default();
    let add = |slot: &mut Amount, a: Amount| -> Result<(), ApiError> {
        *slot = slot
            .checked_add(a)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(())
    };
    for e in events.iter().filter(|e| e.contribution == Some(id)) {
        match (e.rule, e.asset) {
            (Rule::Stake, _) if e.member == evaluator => add(&mut x.stake, e.amount)?,
            (Rule::Redistribution, _) => {
                add(&mut x.shared, e.amount)?;
                x.shared_with += 1;
            }
            (Rule::ContributorReward, Asset::Tokens) => add(&mut x.minted_tokens, e.amount)?,
            (Rule::ContributorReward, Asset::Reputation) => {
                add(&mut x.minted_reputation, e.amount)?
            }
            (Rule::EvaluatorFund, _) if e.member == evaluator => add(&mut x.fund, e.amount)?,
            _ => {}
        }
    }
    Ok(x)
}

/// `?after=N&limit=N`: the evaluations after the `N`-th (0-based, in processing order).
pub(crate) async fn page(
    AxState(api): AxState<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> ApiResult {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{id:?} is not a contribution id")))?;
    let after: Option<usize> = param(&q, "after")?;
    let limit = param::<usize>(&q, "limit")?
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    // Each evaluation's events may be recomputed by replaying blocks: a turn at such reads,
    // and a snapshot read in a blocking task, off the store's lock.
    let turn = super::history_turn(&api.shared).await?;
    let snapshot = read(&api.shared.store).snapshot();
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        page_from(&snapshot, id, after, limit)
    })
    .await
    .map_err(|e| ApiError::internal(format!("reading the evaluations failed: {e}")))?
    .map(Json)
}

/// The page, read from `snapshot`.
fn page_from(
    snapshot: &Snapshot,
    id: ContributionId,
    after: Option<usize>,
    limit: usize,
) -> Result<Value, ApiError> {
    let state = snapshot.state();
    let internal = |e: &dyn std::fmt::Display| ApiError::internal(e.to_string());
    let info = snapshot
        .contribution(id, HistoryQuery::oldest(MAX_HISTORY))
        .map_err(|e| internal(&e))?
        .ok_or_else(|| ApiError::not_found(format!("no contribution {id}")))?;
    let entries: Vec<(u64, MemberId, i64, Hash)> = info
        .history
        .iter()
        .filter_map(|h| match h.activity {
            ContributionActivity::Evaluated {
                evaluator,
                value,
                tx,
            } => Some((h.position.height, evaluator, value, tx)),
            // A sealed contribution's commits and reveals are no evaluations (its values are
            // shown by GET /contributions/{id} once it has settled).
            ContributionActivity::Submitted { .. }
            | ContributionActivity::Committed { .. }
            | ContributionActivity::Revealed { .. }
            | ContributionActivity::Settled { .. } => None,
        })
        .collect();
    let start = after.map_or(0, |a| a.saturating_add(1));
    let end = start.saturating_add(limit).min(entries.len());
    let events_of = |tx: &Hash| -> Result<Vec<Event>, ApiError> {
        Ok(snapshot
            .tx(tx)
            .map_err(|e| internal(&e))?
            .map(|info| info.events)
            .unwrap_or_default())
    };
    let scan = entries.len() <= MAX_SCAN;
    let mut all: BTreeMap<usize, Effects> = BTreeMap::new();
    if scan {
        // Every evaluation's events, in order: a redistribution goes to its recipient's
        // evaluation live at the time (its latest so far).
        let mut latest: BTreeMap<MemberId, usize> = BTreeMap::new();
        for (i, (_, evaluator, _, tx)) in entries.iter().enumerate() {
            let events = events_of(tx)?;
            for e in events
                .iter()
                .filter(|e| e.rule == Rule::Redistribution && e.contribution == Some(id))
            {
                if let Some(x) = latest.get(&e.member).and_then(|j| all.get_mut(j)) {
                    x.received = x.received.checked_add(e.amount).map_err(|e| internal(&e))?;
                    x.received_from += 1;
                }
            }
            all.insert(i, effects(&events, id, *evaluator)?);
            latest.insert(*evaluator, i);
        }
    } else {
        for (i, (_, evaluator, _, tx)) in entries.iter().enumerate().take(end).skip(start) {
            all.insert(i, effects(&events_of(tx)?, id, *evaluator)?);
        }
    }
    let items: Vec<Value> = (start..end)
        .filter_map(|i| Some((i, entries.get(i)?, all.get(&i)?)))
        .map(|(i, (height, evaluator, value, tx), x)| {
            json!({
                "n": i,
                "member": state.member(*evaluator).map(|m| m.address.to_string()),
                "name": name_of(state, *evaluator),
                "member_id": evaluator,
                "value": value,
                "height": height,
                "tx": tx.to_string(),
                "stake": x.stake.to_string(),
                "shared": {"total": x.shared.to_string(), "with": x.shared_with},
                "received": scan.then(|| json!({"total": x.received.to_string(), "from": x.received_from})),
                "minted": {"tokens": x.minted_tokens.to_string(), "reputation": x.minted_reputation.to_string()},
                "fund": x.fund.to_string(),
            })
        })
        .collect();
    let next = (end < entries.len()).then(|| end - 1);
    Ok(json!({
        "contribution": id,
        "total": entries.len(),
        "items": items,
        "next": next,
    }))
}
