//! `GET /accounts/{address}` and `GET /accounts/{address}/history`.

use axum::extract::{Path, Query, State as AxState};
use axum::Json;
use pov_crypto::Hash;
use pov_protocol::{Amount, Transaction};
use pov_storage::{HistoryQuery, MemberActivity};
use serde_json::{json, Value};

use super::{event_json, name_of, param, parse_address, ApiError, ApiResult, ApiState, Params};
use crate::shared::{lock, read};

/// A member's balances, nonce (and the next one to use), share of reputation, and for a
/// founding member whose reputation was carried over from another cooperative, its
/// provenance (spec section 10).
pub(crate) async fn account(
    AxState(api): AxState<ApiState>,
    Path(address): Path<String>,
) -> ApiResult {
    let address = parse_address(&address)?;
    let store = read(&api.shared.store);
    let state = store.state();
    let (id, m) = state
        .member_by_address(&address)
        .ok_or_else(|| ApiError::not_found(format!("{address} is not a member")))?;
    let next_nonce = lock(&api.shared.mempool)
        .pending_state()
        .member_by_address(&address)
        .map_or(m.nonce, |(_, p)| p.nonce)
        + 1;
    let share = if state.total_reputation() > Amount::ZERO {
        m.reputation
            .checked_div(state.total_reputation())
            .map(|s| s.to_string())
            .unwrap_or_default()
    } else {
        "0".into()
    };
    let provenance = store
        .genesis()
        .members
        .iter()
        .find(|g| g.public_key == address)
        .and_then(|g| g.provenance.as_ref())
        .map(|p| {
            json!({
                "source_genesis": p.source_genesis.to_string(),
                "height": p.height,
                "proof": p.proof.to_string(),
                "reputation": p.reputation.to_string(),
                "scale": p.scale.to_string(),
            })
        });
    Ok(Json(json!({
        "address": address.to_string(),
        "member_id": id,
        "provenance": provenance,
        "name": m.name,
        "reputation": m.reputation.to_string(),
        "tokens": m.tokens.to_string(),
        "nonce": m.nonce,
        "next_nonce": next_nonce,
        "referrer": m.referrer.and_then(|r| state.member(r)).map(|r| r.address.to_string()),
        "referrer_name": m.referrer.and_then(|r| name_of(state, r)),
        "share_of_reputation": share,
    })))
}

/// A member's balance changes, oldest first, from `?since=HEIGHT`.
pub(crate) async fn history(
    AxState(api): AxState<ApiState>,
    Path(address): Path<String>,
    Query(q): Query<Params>,
) -> ApiResult {
    let address = parse_address(&address)?;
    let since: u64 = param(&q, "since")?.unwrap_or(0);
    let store = read(&api.shared.store);
    let state = store.state();
    let (id, _) = state
        .member_by_address(&address)
        .ok_or_else(|| ApiError::not_found(format!("{address} is not a member")))?;
    // Start at `since` in the index itself, so a long history is never cut short.
    let mut query = HistoryQuery::oldest(100_000);
    query.after = since.checked_sub(1).map(|h| pov_storage::Position {
        height: h,
        tx_index: u32::MAX,
        n: u32::MAX,
    });
    let entries = store
        .member_history(id, query)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut events = Vec::new();
    let mut tx_hashes: std::collections::HashMap<u64, Vec<Hash>> = std::collections::HashMap::new();
    for entry in entries {
        if let MemberActivity::Balance {
            event,
            balance_after,
        } = entry.activity
        {
            let height = entry.position.height;
            let hashes = tx_hashes.entry(height).or_insert_with(|| {
                store
                    .block(height)
                    .ok()
                    .flatten()
                    .map(|b| b.block.txs.iter().map(Transaction::hash).collect())
                    .unwrap_or_default()
            });
            let tx_hash = hashes.get(entry.position.tx_index as usize).copied();
            let mut line = event_json(state, &event);
            if let Value::Object(map) = &mut line {
                map.insert("height".into(), json!(entry.position.height));
                map.insert("tx_index".into(), json!(entry.position.tx_index));
                map.insert("tx_hash".into(), json!(tx_hash.map(|h| h.to_string())));
                // A settlement at the start of the block (no transaction made it).
                let start = entry.position.tx_index == pov_storage::START_LINES;
                map.insert("block_start".into(), json!(start));
                map.insert("balance_after".into(), json!(balance_after.to_string()));
            }
            events.push(line);
        }
    }
    Ok(Json(
        json!({"address": address.to_string(), "events": events}),
    ))
}
