//! `GET /contributions` (a filtered page) and `GET /contributions/{id}`.

use axum::extract::{Path, Query, State as AxState};
use axum::Json;
use pov_protocol::{Amount, Contribution, RewardRule, State};
use serde_json::{json, Value};

use super::{name_of, param, parse_address, ApiError, ApiResult, ApiState, Params};
use crate::shared::read;

fn is_open(c: &Contribution) -> bool {
    match &c.params.reward {
        RewardRule::Median { .. } => c.median_max < c.params.top_value(),
        RewardRule::Threshold { .. } => c.max_score.is_none_or(|s| s < Amount::ONE),
    }
}

fn contribution_json(state: &State, c: &Contribution) -> Value {
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
        "median": tally.and_then(|t| t.median),
        "median_max": c.median_max,
        "max_score": c.max_score.map(|s| s.to_string()),
        "minted_tokens": c.minted_tokens.to_string(),
        "minted_reputation": c.minted_reputation.to_string(),
        "evaluation_count": c.evaluation_count,
        "reward_rule": match c.params.reward { RewardRule::Median { .. } => "median", RewardRule::Threshold { .. } => "threshold" },
        "evaluation_set": c.params.evaluation_set,
        "open": is_open(c),
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
    Ok(Json(contribution_json(store.state(), c)))
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
        if by.is_some_and(|b| b != c.contributor) || (open == Some(true) && !is_open(c)) {
            continue;
        }
        if items.len() == limit {
            next = items.last().and_then(|v: &Value| v.get("id").cloned());
            break;
        }
        items.push(contribution_json(state, c));
    }
    Ok(Json(json!({"items": items, "next": next})))
}
