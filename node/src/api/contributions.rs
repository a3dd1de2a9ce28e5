//! `GET /contributions` (a filtered page) and `GET /contributions/{id}`.
//!
//! A sealed contribution (protocol 1.2) also has a `sealed` object: its phase, the heights
//! where its windows end, who committed, when, the commitment hash and whether it was
//! revealed (all public on chain), the reputation the commitments engage, and, only after
//! settlement, the values and what settlement did. Its
//! `evaluations` stay empty until settlement (the state fills them then).

use axum::extract::{Path, Query, State as AxState};
use axum::Json;
use pov_protocol::sealed::Phase;
use pov_protocol::{Amount, BlockEvent, Contribution, RewardRule, State};
use pov_storage::Store;
use serde_json::{json, Value};

use super::{event_json, name_of, param, parse_address, ApiError, ApiResult, ApiState, Params};
use crate::shared::read;

fn is_open(state: &State, c: &Contribution) -> bool {
    if let Some(w) = c.windows(state.height()) {
        return w.phase != Phase::Settled;
    }
    match &c.params.reward {
        RewardRule::Median { .. } => c.median_max < c.params.top_value(),
        RewardRule::Threshold { .. } => c.max_score.is_none_or(|s| s < Amount::ONE),
    }
}

/// A sealed contribution's `sealed` object (`Value::Null` for an open one). `store` gives
/// the settlement's events, from the start of the block that settled it; a list of many
/// contributions passes `None` and leaves them out.
fn sealed_json(state: &State, store: Option<&Store>, c: &Contribution) -> Value {
    let (Some(w), Some(sealed), Some(params)) = (
        c.windows(state.height()),
        c.sealed.as_ref(),
        c.params.sealed,
    ) else {
        return Value::Null;
    };
    let address = |id: u32| state.member(id).map(|m| m.address.to_string());
    let engaged = Amount::sum(
        sealed
            .commitments
            .iter()
            .filter_map(|m| state.member(m.member).map(|x| x.reputation)),
    )
    .unwrap_or(Amount::ZERO);
    // Blocks of the current phase still to come, the next one included.
    let next = state.height().saturating_add(1);
    let blocks_left = match w.phase {
        Phase::Commit => Some(w.commit_end.saturating_add(1).saturating_sub(next)),
        Phase::Reveal => Some(w.reveal_end.saturating_add(1).saturating_sub(next)),
        Phase::Settling => Some(0),
        Phase::Settled => None,
    };
    let committers: Vec<Value> = sealed
        .commitments
        .iter()
        .map(|m| {
            json!({"member": address(m.member), "name": name_of(state, m.member),
                   "member_id": m.member, "height": m.height, "seq": m.seq,
                   "commitment": m.commitment.to_string(), "revealed": m.revealed.is_some()})
        })
        .collect();
    let mut out = json!({
        "commit_blocks": params.commit_blocks,
        "reveal_blocks": params.reveal_blocks,
        "phase": w.phase.name(),
        "commit_ends": w.commit_end,
        "reveal_ends": w.reveal_end,
        "settles_at": w.settles_at,
        "blocks_left_in_phase": blocks_left,
        "commitments": sealed.commitments.len(),
        "committed_reputation": engaged.to_string(),
        "committers": committers,
        "settlement": Value::Null,
    });
    if let Some(s) = sealed.settlement {
        let values: Vec<Value> = sealed
            .commitments
            .iter()
            .map(|m| {
                json!({"member": address(m.member), "name": name_of(state, m.member),
                       "member_id": m.member, "value": m.revealed,
                       "recorded_reputation": m.reputation.to_string(), "seq": m.seq})
            })
            .collect();
        let events: Option<Vec<Value>> = store.map(|store| {
            store
                .block(s.height)
                .ok()
                .flatten()
                .map(|b| b.start)
                .unwrap_or_default()
                .iter()
                .filter_map(|e| match e {
                    BlockEvent::Balance(e) if e.contribution == Some(c.id) => {
                        Some(event_json(state, e))
                    }
                    _ => None,
                })
                .collect()
        });
        out["settlement"] = json!({
            "height": s.height, "committed": s.committed, "revealed": s.revealed,
            "forfeited": s.forfeited, "values": values, "events": events,
        });
    }
    out
}

fn contribution_json(state: &State, store: Option<&Store>, c: &Contribution) -> Value {
    let tally = state.tally(c.id);
    let engaged = tally.map(|t| t.engaged).unwrap_or(Amount::ZERO);
    let share = if state.total_reputation() > Amount::ZERO {
        engaged
            .checked_div(state.total_reputation())
            .unwrap_or(Amount::ZERO)
    } else {
        Amount::ZERO
    };
    let address = |id: u32| state.member(id).map(|m| m.address.to_string());
    json!({
        "id": c.id,
        "contributor": address(c.contributor),
        "contributor_name": name_of(state, c.contributor),
        "kind": c.kind,
        "title": c.title,
        "uri": c.uri,
        "content_hash": c.content_hash.map(|h| h.to_string()),
        "evaluations": c.evaluations.iter().map(|e| json!({
            "member": address(e.member), "name": name_of(state, e.member),
            "member_id": e.member, "value": e.value, "seq": e.seq,
        })).collect::<Vec<_>>(),
        "engaged_reputation": engaged.to_string(),
        "engaged_share": share.to_string(),
        // A sealed contribution has no live evaluation before settlement: no median yet.
        "median": tally.and_then(|t| t.median).filter(|_| {
            c.sealed.as_ref().is_none_or(|s| s.settlement.is_some())
        }),
        "median_max": c.median_max,
        "max_score": c.max_score.map(|s| s.to_string()),
        "minted_tokens": c.minted_tokens.to_string(),
        "minted_reputation": c.minted_reputation.to_string(),
        "evaluation_count": c.evaluation_count,
        "reward_rule": match c.params.reward { RewardRule::Median { .. } => "median", RewardRule::Threshold { .. } => "threshold" },
        "evaluation_set": c.params.evaluation_set,
        "open": is_open(state, c),
        "sealed": sealed_json(state, store, c),
    })
}

/// One contribution with its evaluations and tally.
pub(crate) async fn contribution(
    AxState(api): AxState<ApiState>,
    Path(id): Path<String>,
) -> ApiResult {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{id:?} is not a contribution id")))?;
    let store = read(&api.shared.store);
    let c = store
        .state()
        .contribution(id)
        .ok_or_else(|| ApiError::not_found(format!("no contribution {id}")))?;
    Ok(Json(contribution_json(store.state(), Some(&store), c)))
}

/// `?open=true&by=ADDRESS&after=ID&limit=N`
pub(crate) async fn contributions(
    AxState(api): AxState<ApiState>,
    Query(params): Query<Params>,
) -> ApiResult {
    let open: Option<bool> = param(&params, "open")?;
    let after: Option<u64> = param(&params, "after")?;
    let limit = param::<usize>(&params, "limit")?
        .unwrap_or(50)
        .clamp(1, 500);
    let by_text: Option<String> = params.get("by").cloned();
    let store = read(&api.shared.store);
    let state = store.state();
    let by = match &by_text {
        Some(text) => {
            let address = parse_address(text)?;
            Some(
                state
                    .member_by_address(&address)
                    .map(|(id, _)| id)
                    .ok_or_else(|| ApiError::not_found(format!("{address} is not a member")))?,
            )
        }
        None => None,
    };
    let start = after.map_or(0, |a| a.saturating_add(1));
    let mut items = Vec::new();
    let mut next = None;
    for c in state
        .contributions()
        .iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
    {
        if by.is_some_and(|b| b != c.contributor) || (open == Some(true) && !is_open(state, c)) {
            continue;
        }
        if items.len() == limit {
            next = items.last().and_then(|v: &Value| v.get("id").cloned());
            break;
        }
        items.push(contribution_json(state, None, c));
    }
    Ok(Json(json!({"items": items, "next": next})))
}
