//! `GET /members`: every member with its name, paged, or the members of one name.

use axum::extract::{Query, State as AxState};
use axum::Json;
use pov_protocol::{Member, MemberId, State};
use serde_json::{json, Value};

use super::{param, ApiResult, ApiState, Params};
use crate::shared::read;

/// Members per page unless `limit` says otherwise, and the most one page holds.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

/// One member as the API shows it.
pub(crate) fn member_json(state: &State, id: MemberId, m: &Member) -> Value {
    let referrer = m.referrer.and_then(|r| state.member(r));
    json!({
        "member_id": id,
        "address": m.address.to_string(),
        "name": (!m.name.is_empty()).then_some(m.name.as_str()),
        "reputation": m.reputation.to_string(),
        "tokens": m.tokens.to_string(),
        "nonce": m.nonce,
        "referrer": referrer.map(|r| r.address.to_string()),
        "referrer_name": referrer.filter(|r| !r.name.is_empty()).map(|r| r.name.as_str()),
    })
}

/// `?after=ID&limit=N&name=NAME`: members by id, ascending; `next` is the `after` of the
/// next page (or `null`). With `name`, only the members of that name (none or one: names are
/// unique), whatever the page.
pub(crate) async fn members(AxState(api): AxState<ApiState>, Query(q): Query<Params>) -> ApiResult {
    let after: Option<u32> = param(&q, "after")?;
    let limit = param::<usize>(&q, "limit")?
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    let store = read(&api.shared.store);
    let state = store.state();
    if let Some(name) = q.get("name") {
        let items: Vec<Value> = state
            .members()
            .iter()
            .enumerate()
            .filter(|(_, m)| !name.is_empty() && m.name == *name)
            .take(MAX_LIMIT)
            .map(|(i, m)| member_json(state, i as MemberId, m))
            .collect();
        return Ok(Json(json!({"items": items, "next": null})));
    }
    let start = after.map_or(0, |a| a as usize + 1);
    let mut items = Vec::new();
    let mut next = None;
    for (i, m) in state.members().iter().enumerate().skip(start) {
        if items.len() == limit {
            next = i.checked_sub(1);
            break;
        }
        items.push(member_json(state, i as MemberId, m));
    }
    Ok(Json(json!({
        "items": items,
        "next": next,
        "total": state.members().len(),
    })))
}
