//! `GET /accounts/{address}/explain`: a member's balance changes grouped by contribution and
//! rule, with totals that add up to its balance (`pov_protocol::explain` does the grouping).
//! It reads a [`Snapshot`] in a blocking task, never under the store's lock.
//!
//! The answer's size is bounded by `limit` (contributions listed one by one; the rest are
//! summed into one entry) and by the eight rules, whatever the member's history holds; the
//! work is one pass over the member's history index since `since`.

use axum::extract::{Path, Query, State as AxState};
use axum::Json;
use pov_crypto::Address;
use pov_protocol::explain::{Balances, Explainer};
use pov_protocol::Asset;
use pov_storage::{HistoryQuery, MemberActivity, Position, Snapshot};
use serde_json::{json, Value};

use super::{name_of, param, parse_address, ApiError, ApiResult, ApiState, Params};
use crate::shared::read;

/// Contributions listed one by one unless `limit` says otherwise.
pub(crate) const DEFAULT_LIMIT: usize = 10;
/// At most this many contributions listed one by one.
pub(crate) const MAX_LIMIT: usize = 500;
/// History lines read from the store at a time.
const PAGE: usize = 10_000;

/// `?since=HEIGHT&limit=N`: the changes from block `since` on (default 0, everything).
pub(crate) async fn explain(
    AxState(api): AxState<ApiState>,
    Path(address): Path<String>,
    Query(q): Query<Params>,
) -> ApiResult {
    let address = parse_address(&address)?;
    let since: u64 = param(&q, "since")?.unwrap_or(0);
    let limit = param::<usize>(&q, "limit")?
        .unwrap_or(DEFAULT_LIMIT)
        .min(MAX_LIMIT);
    let turn = super::history_turn(&api.shared).await?;
    let snapshot = read(&api.shared.store).snapshot();
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        explain_from(&snapshot, address, since, limit)
    })
    .await
    .map_err(|e| ApiError::internal(format!("explaining failed: {e}")))?
    .map(Json)
}

/// The explanation, read from `snapshot` (off the store's lock: the history index may hold
/// tens of thousands of lines).
fn explain_from(
    snapshot: &Snapshot,
    address: Address,
    since: u64,
    limit: usize,
) -> Result<Value, ApiError> {
    let state = snapshot.state();
    let (id, member) = state
        .member_by_address(&address)
        .ok_or_else(|| ApiError::not_found(format!("{address} is not a member")))?;
    let internal = |e: &dyn std::fmt::Display| ApiError::internal(e.to_string());
    let mut query = HistoryQuery::oldest(PAGE);
    query.after = since.checked_sub(1).map(|h| Position {
        height: h,
        tx_index: u32::MAX,
        n: u32::MAX,
    });
    // The balances before the first change counted: the first change's balance after it,
    // less the change; an asset that did not change since has its balance now.
    let mut opening: (Option<_>, Option<_>) = (None, None);
    let mut explainer = Explainer::new(id);
    loop {
        let page = snapshot
            .member_history(id, query)
            .map_err(|e| internal(&e))?;
        let full = page.len() == PAGE;
        query.after = page.last().map(|e| e.position).or(query.after);
        for entry in page {
            if let MemberActivity::Balance {
                event,
                balance_after,
            } = entry.activity
            {
                let slot = match event.asset {
                    Asset::Reputation => &mut opening.0,
                    Asset::Tokens => &mut opening.1,
                };
                if slot.is_none() {
                    *slot = Some(
                        balance_after
                            .checked_sub(event.amount)
                            .map_err(|e| internal(&e))?,
                    );
                }
                explainer.add(&event).map_err(|e| internal(&e))?;
            }
        }
        if !full {
            break;
        }
    }
    let opening = Balances {
        reputation: opening.0.unwrap_or(member.reputation),
        tokens: opening.1.unwrap_or(member.tokens),
    };
    let explanation = explainer
        .finish(opening, state, limit)
        .map_err(|e| internal(&e))?;
    let mut body = serde_json::to_value(&explanation).map_err(|e| internal(&e))?;
    body["address"] = json!(address.to_string());
    body["name"] = json!(name_of(state, id));
    body["since"] = json!(since);
    body["height"] = json!(snapshot.height());
    body["balance"] = json!({
        "reputation": member.reputation.to_string(),
        "tokens": member.tokens.to_string(),
    });
    Ok(body)
}
