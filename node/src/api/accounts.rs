//! `GET /accounts/{address}` and `GET /accounts/{address}/history`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxState};
use axum::Json;
use pov_protocol::{Amount, Transaction};
use pov_storage::{HistoryQuery, MemberActivity, Position, Snapshot};
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

/// Most events one history page holds unless `limit` says fewer.
const HISTORY_PAGE: usize = 100;
/// Most events one history page may hold.
const HISTORY_PAGE_MAX: usize = 1_000;

/// A member's balance changes, one page at a time:
/// `?since=HEIGHT&after=CURSOR&limit=N&order=oldest|newest` (oldest first by default).
///
/// The store's lock is held only to find the member and take a [`Snapshot`]; the history
/// index and the blocks (for transaction hashes) are read from the snapshot in a blocking
/// task, so a commit never waits for them.
pub(crate) async fn history(
    AxState(api): AxState<ApiState>,
    Path(address): Path<String>,
    Query(q): Query<Params>,
) -> ApiResult {
    let address = parse_address(&address)?;
    let since: u64 = param(&q, "since")?.unwrap_or(0);
    let limit = param::<usize>(&q, "limit")?
        .unwrap_or(HISTORY_PAGE)
        .clamp(1, HISTORY_PAGE_MAX);
    let newest_first = match q.get("order").map(String::as_str) {
        None | Some("oldest") => false,
        Some("newest") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "query parameter order={other:?} is not valid (oldest or newest)"
            )))
        }
    };
    let after = match q.get("after") {
        None => None,
        Some(text) => Some(parse_cursor(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "query parameter after={text:?} is not a cursor (HEIGHT.TX.LINE, as in next)"
            ))
        })?),
    };
    let turn = super::history_turn(&api.shared).await?;
    let (id, snapshot) = {
        let store = read(&api.shared.store);
        let (id, _) = store
            .state()
            .member_by_address(&address)
            .ok_or_else(|| ApiError::not_found(format!("{address} is not a member")))?;
        (id, store.snapshot())
    };
    // Where the page starts: the cursor, else `since` (oldest first only).
    let cursor = after.or_else(|| {
        (!newest_first)
            .then(|| since.checked_sub(1))
            .flatten()
            .map(|h| Position {
                height: h,
                tx_index: u32::MAX,
                n: u32::MAX,
            })
    });
    let page = HistoryPage {
        id,
        since,
        limit,
        newest_first,
        cursor,
    };
    let (events, next) = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        page.read(&snapshot)
    })
    .await
    .map_err(|e| ApiError::internal(format!("reading the history failed: {e}")))?
    .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(
        json!({"address": address.to_string(), "events": events, "next": next}),
    ))
}

/// What one page of a member's history asks for.
struct HistoryPage {
    id: pov_protocol::MemberId,
    since: u64,
    limit: usize,
    newest_first: bool,
    cursor: Option<Position>,
}

impl HistoryPage {
    /// The page's events (JSON) and the cursor of the next page, read from `snapshot`
    /// (off the store's lock).
    fn read(
        self,
        snapshot: &Snapshot,
    ) -> Result<(Vec<Value>, Option<String>), pov_storage::StoreError> {
        let HistoryPage {
            id,
            since,
            limit,
            newest_first,
            mut cursor,
        } = self;
        // (position, event JSON without its transaction hash), at most `limit`.
        let mut page: Vec<(Position, Value)> = Vec::new();
        let mut more = true;
        while page.len() < limit && more {
            let query = HistoryQuery {
                after: cursor,
                newest_first,
                limit,
            };
            let lines = snapshot.member_history(id, query)?;
            more = lines.len() == limit;
            if let Some(last) = lines.last() {
                cursor = Some(last.position);
            }
            for entry in lines {
                if page.len() == limit {
                    more = true;
                    break;
                }
                if newest_first && entry.position.height < since {
                    more = false;
                    break;
                }
                if let MemberActivity::Balance {
                    event,
                    balance_after,
                } = entry.activity
                {
                    let mut line = event_json(snapshot.state(), &event);
                    if let Value::Object(map) = &mut line {
                        map.insert("height".into(), json!(entry.position.height));
                        map.insert("tx_index".into(), json!(entry.position.tx_index));
                        // A settlement at the start of the block (no transaction made it).
                        let start = entry.position.tx_index == pov_storage::START_LINES;
                        map.insert("block_start".into(), json!(start));
                        map.insert("balance_after".into(), json!(balance_after.to_string()));
                    }
                    page.push((entry.position, line));
                }
            }
        }
        // Transaction hashes: one block read per height on the page.
        let mut blocks: HashMap<u64, Option<Vec<Transaction>>> = HashMap::new();
        let mut events = Vec::with_capacity(page.len());
        for (position, mut line) in page.iter().cloned() {
            let txs = blocks.entry(position.height).or_insert_with(|| {
                let stored = snapshot.block(position.height);
                stored.ok().flatten().map(|b| b.block.txs)
            });
            let tx_hash = txs
                .as_ref()
                .and_then(|txs| txs.get(position.tx_index as usize))
                .map(|tx| tx.hash().to_string());
            if let Value::Object(map) = &mut line {
                map.insert("tx_hash".into(), json!(tx_hash));
            }
            events.push(line);
        }
        let next = if more {
            page.last().map(|(p, _)| cursor_text(p))
        } else {
            None
        };
        Ok((events, next))
    }
}

/// A history cursor as the API writes it: `HEIGHT.TX.LINE`.
fn cursor_text(p: &Position) -> String {
    format!("{}.{}.{}", p.height, p.tx_index, p.n)
}

/// Reads a cursor written by [`cursor_text`].
fn parse_cursor(text: &str) -> Option<Position> {
    let mut parts = text.split('.');
    let position = Position {
        height: parts.next()?.parse().ok()?,
        tx_index: parts.next()?.parse().ok()?,
        n: parts.next()?.parse().ok()?,
    };
    parts.next().is_none().then_some(position)
}
