//! The HTTP JSON API (`docs/api.md` is its contract): status, transaction submission and
//! lookup, accounts with their history, contributions, blocks, and an SSE event stream.
//!
//! Handlers read the shared store under a short read lock and never hold it across an
//! `.await`. Amounts are strings (exact); addresses and hashes lowercase hex. Every error is
//! `{"error": {"code", "message"}}` with a fitting status.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use pov_crypto::{Address, Hash};
use pov_protocol::{Amount, Contribution, Event, RewardRule, State, Transaction};
use pov_storage::{HistoryQuery, MemberActivity};
use serde_json::{json, Value};

use crate::mempool::{Admitted, MempoolError};
use crate::network::{NetworkHandle, Topic};
use crate::service::{lock, read, NodeEvent, Shared};

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    /// The node's shared state.
    pub shared: Arc<Shared>,
    /// To gossip submitted transactions.
    pub net: NetworkHandle,
}

/// An API error: status, stable code, message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

/// The API's routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/status", get(status))
        .route("/tx", post(submit))
        .route("/tx/{hash}", get(tx))
        .route("/accounts/{address}", get(account))
        .route("/accounts/{address}/history", get(history))
        .route("/contributions", get(contributions))
        .route("/contributions/{id}", get(contribution))
        .route("/blocks/{height}", get(block))
        .route("/events", get(events))
        .fallback(|| async { ApiError::not_found("no such route (see docs/api.md)") })
        .with_state(state)
}

fn parse_hash(text: &str) -> Result<Hash, ApiError> {
    text.parse()
        .map_err(|e| ApiError::bad_request(format!("{text:?} is not a hash: {e}")))
}

fn parse_address(text: &str) -> Result<Address, ApiError> {
    text.parse()
        .map_err(|e| ApiError::bad_request(format!("{text:?} is not an address: {e}")))
}

async fn status(AxState(api): AxState<ApiState>) -> ApiResult {
    let shared = &api.shared;
    let store = read(&shared.store);
    let head = store.head();
    let size = store.size_on_disk().unwrap_or(0);
    Ok(Json(json!({
        "chain_id": store.genesis().chain_id,
        "genesis_hash": shared.genesis_hash.to_string(),
        "height": store.height(),
        "head_hash": head.as_ref().map(|h| h.hash.to_string()),
        "state_root": store.state_root().to_string(),
        "time_ms": store.parent().time_ms,
        "peers": shared.peers.load(Ordering::Relaxed),
        "syncing": shared.syncing.load(Ordering::Relaxed),
        "validator": shared.validator.map(|a| a.to_string()),
        "mempool": lock(&shared.mempool).len(),
        "db_size_bytes": size,
        "evidence": shared.evidence.load(Ordering::Relaxed),
        "version": env!("CARGO_PKG_VERSION"),
    })))
}

async fn submit(
    AxState(api): AxState<ApiState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let parsed = if is_json {
        serde_json::from_slice::<Transaction>(&body)
            .map_err(|e| format!("malformed transaction JSON: {e}"))
    } else {
        Transaction::from_bytes(&body).map_err(|e| format!("malformed transaction bytes: {e}"))
    };
    let tx = match parsed {
        Ok(tx) => tx,
        Err(message) => return ApiError::bad_request(message).into_response(),
    };
    if api.shared.stopping.load(Ordering::Relaxed) {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the node is stopping",
        )
        .into_response();
    }
    let envelope = crate::wire::TxEnvelope {
        tx: tx.clone(),
        nonce: crate::service::now_ms(),
    };
    let bytes = envelope.to_bytes();
    let admitted = lock(&api.shared.mempool).insert(tx);
    match admitted {
        Ok(Admitted::New(hash)) => {
            if let Err(e) = api.net.publish(Topic::Transactions, bytes).await {
                tracing::debug!(error = %e, "transaction gossip not sent");
            }
            (
                StatusCode::ACCEPTED,
                Json(json!({"hash": hash.to_string()})),
            )
                .into_response()
        }
        Ok(Admitted::Known(hash)) => (
            StatusCode::ACCEPTED,
            Json(json!({"hash": hash.to_string()})),
        )
            .into_response(),
        Err(MempoolError::Full(n)) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "mempool_full",
            format!("mempool full ({n} transactions): try again after the next block"),
        )
        .into_response(),
        Err(MempoolError::Rejected(e)) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tx_rejected",
            e.to_string(),
        )
        .into_response(),
    }
}

fn event_json(state: &State, e: &Event) -> Value {
    json!({
        "rule": e.rule.name(),
        "member": state.member(e.member).map(|m| m.address.to_string()),
        "member_id": e.member,
        "asset": e.asset,
        "amount": e.amount.to_string(),
        "contribution": e.contribution,
    })
}

async fn tx(AxState(api): AxState<ApiState>, Path(hash): Path<String>) -> ApiResult {
    let hash = parse_hash(&hash)?;
    if let Some(tx) = lock(&api.shared.mempool).get(&hash) {
        return Ok(Json(
            json!({"hash": hash.to_string(), "status": "pending", "tx": tx}),
        ));
    }
    let store = read(&api.shared.store);
    let info = store
        .tx(&hash)
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found(format!("no transaction {hash}")))?;
    let events: Vec<Value> = info
        .events
        .iter()
        .map(|e| event_json(store.state(), e))
        .collect();
    Ok(Json(json!({
        "hash": hash.to_string(),
        "status": "final",
        "height": info.height,
        "index": info.index,
        "block_hash": info.block_hash.to_string(),
        "time_ms": info.time_ms,
        "tx": info.tx,
        "events": events,
    })))
}

async fn account(AxState(api): AxState<ApiState>, Path(address): Path<String>) -> ApiResult {
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
    Ok(Json(json!({
        "address": address.to_string(),
        "member_id": id,
        "name": m.name,
        "reputation": m.reputation.to_string(),
        "tokens": m.tokens.to_string(),
        "nonce": m.nonce,
        "next_nonce": next_nonce,
        "referrer": m.referrer.and_then(|r| state.member(r)).map(|r| r.address.to_string()),
        "share_of_reputation": share,
    })))
}

/// Query parameters, parsed by hand so that a bad one gets a JSON error naming it.
type Params = std::collections::HashMap<String, String>;

fn param<T: std::str::FromStr>(params: &Params, name: &str) -> Result<Option<T>, ApiError> {
    match params.get(name) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!("query parameter {name}={text:?} is not valid"))
        }),
    }
}

async fn history(
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
                map.insert("balance_after".into(), json!(balance_after.to_string()));
            }
            events.push(line);
        }
    }
    Ok(Json(
        json!({"address": address.to_string(), "events": events}),
    ))
}

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
        "kind": c.kind,
        "title": c.title,
        "uri": c.uri,
        "content_hash": c.content_hash.map(|h| h.to_string()),
        "evaluations": c.evaluations.iter().map(|e| json!({
            "member": address(e.member), "member_id": e.member, "value": e.value, "seq": e.seq,
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

async fn contribution(AxState(api): AxState<ApiState>, Path(id): Path<String>) -> ApiResult {
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
async fn contributions(AxState(api): AxState<ApiState>, Query(params): Query<Params>) -> ApiResult {
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

async fn block(AxState(api): AxState<ApiState>, Path(height): Path<String>) -> ApiResult {
    let height: u64 = height
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{height:?} is not a block height")))?;
    let store = read(&api.shared.store);
    let stored = store
        .block(height)
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no block at height {height} (head is {})",
                store.height()
            ))
        })?;
    let b = &stored.block;
    Ok(Json(json!({
        "height": b.header.height,
        "hash": b.hash().to_string(),
        "header": b.header,
        "txs": b.txs.iter().map(|t| t.hash().to_string()).collect::<Vec<_>>(),
        "certificate": {
            "round": stored.certificate.round,
            "signatures": stored.certificate.signatures,
        },
    })))
}

async fn events(
    AxState(api): AxState<ApiState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = api.shared.events.subscribe();
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(event) => {
                    let sse = match event {
                        NodeEvent::Block { height, hash, txs } => {
                            SseEvent::default().event("block").data(
                                json!({"height": height, "hash": hash.to_string(),
                                   "txs": txs.iter().map(|h| h.to_string()).collect::<Vec<_>>()})
                                .to_string(),
                            )
                        }
                        NodeEvent::Reward {
                            height,
                            event,
                            member,
                        } => SseEvent::default().event("reward").data(
                            json!({"height": height, "contribution": event.contribution,
                                   "member": member.to_string(), "rule": event.rule.name(),
                                   "asset": event.asset, "amount": event.amount.to_string()})
                            .to_string(),
                        ),
                    };
                    return Some((Ok(sse), rx));
                }
                // A slow subscriber skipped some events; keep streaming the rest.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
