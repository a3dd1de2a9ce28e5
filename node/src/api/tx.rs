//! `POST /tx` (submit a signed transaction), `POST /txs` (many at once, answered one by
//! one) and `GET /tx/{hash}` (pending or final).

use std::sync::atomic::Ordering;

use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use pov_protocol::Transaction;
use serde_json::{json, Value};

use super::{event_json, parse_hash, ApiError, ApiResult, ApiState};
use crate::mempool::{Admitted, MempoolError};
use crate::network::Topic;
use crate::shared::{lock, read};

/// Admits a transaction (postcard bytes or JSON) to the mempool and gossips it.
pub(crate) async fn submit(
    AxState(api): AxState<ApiState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let parsed = super::request::transaction(&body, super::request::is_json(&headers));
    let tx = match parsed {
        Ok(tx) => tx,
        Err(message) => {
            api.shared.metrics.submitted("malformed");
            return ApiError::bad_request(message).into_response();
        }
    };
    if api.shared.stopping.load(Ordering::Relaxed) {
        api.shared.metrics.submitted("unavailable");
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the node is stopping",
        )
        .into_response();
    }
    let envelope = crate::wire::TxEnvelope {
        txs: vec![tx.clone()],
        nonce: crate::shared::now_ms(),
    };
    let bytes = envelope.to_bytes();
    let admitted = lock(&api.shared.mempool).insert(tx);
    api.shared.metrics.submitted(match &admitted {
        Ok(Admitted::New(_)) => "accepted",
        Ok(Admitted::Known(_)) => "known",
        Err(MempoolError::Rejected(_)) => "rejected",
        Err(_) => "full",
    });
    match admitted {
        Ok(Admitted::New(hash)) => {
            if let Err(e) = api.net.publish(Topic::Transactions, bytes).await {
                tracing::debug!(
                    error = &e as &dyn std::error::Error,
                    "transaction gossip not sent"
                );
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
        Err(MempoolError::Rejected(e)) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tx_rejected",
            e.to_string(),
        )
        .into_response(),
        // The pool, or the sender's share of it, is full.
        Err(e) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "mempool_full",
            e.to_string(),
        )
        .into_response(),
    }
}

/// Most transactions one `POST /txs` may carry.
pub(crate) const MAX_BATCH_TXS: usize = crate::wire::MAX_GOSSIP_TXS;
/// Most bytes one `POST /txs` body may have (a batch of large contributions fits).
pub(crate) const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// A batch element after its signature check: the transaction and its hash, or the code and
/// message it is refused with.
type Checked = Result<(Transaction, pov_crypto::Hash), (&'static str, String)>;

/// One answer of a batch: accepted (new or already known) with its hash, or refused.
fn batch_answer(result: Result<(Admitted, &'static str), (&'static str, String)>) -> Value {
    match result {
        Ok((Admitted::New(hash) | Admitted::Known(hash), status)) => {
            json!({"hash": hash.to_string(), "status": status})
        }
        Err((code, message)) => json!({"error": {"code": code, "message": message}}),
    }
}

/// Admits many transactions at once: the body is the canonical postcard bytes of a
/// `Vec<Transaction>`, or (with `Content-Type: application/json`) a JSON array of
/// transactions. Answers `{"results": [...]}`, one per transaction in order: `{"hash",
/// "status": "accepted" | "known"}` or `{"error": {"code", "message"}}`. Signatures are
/// checked before the mempool is locked, and the admitted ones are gossiped as one message.
pub(crate) async fn submit_batch(
    AxState(api): AxState<ApiState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let parsed = super::request::transactions(&body, super::request::is_json(&headers));
    let items = match parsed {
        Ok(items) if items.len() > MAX_BATCH_TXS => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_many_transactions",
                format!(
                    "{} transactions in one request; at most {MAX_BATCH_TXS}",
                    items.len()
                ),
            )
            .into_response()
        }
        Ok(items) => items,
        Err(message) => {
            api.shared.metrics.submitted("malformed");
            return ApiError::bad_request(message).into_response();
        }
    };
    if api.shared.stopping.load(Ordering::Relaxed) {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the node is stopping",
        )
        .into_response();
    }
    let shared = api.shared.clone();
    let admitted = tokio::task::spawn_blocking(move || {
        // Verify outside the mempool's lock (the costly part), then admit in order.
        let checked: Vec<Checked> = items
            .into_iter()
            .map(|item| {
                let tx = item.map_err(|m| ("bad_request", m))?;
                let hash = tx.hash();
                shared
                    .verified
                    .check(&tx, hash, &shared.genesis_hash)
                    .map_err(|e| ("tx_rejected", pov_protocol::TxError::from(e).to_string()))?;
                Ok((tx, hash))
            })
            .collect();
        let mut gossip = Vec::new();
        let mut pool = lock(&shared.mempool);
        let answers: Vec<Value> = checked
            .into_iter()
            .map(|item| {
                let result = item.and_then(|(tx, hash)| {
                    let copy = tx.clone();
                    match pool.insert_hashed(tx, hash) {
                        Ok(Admitted::New(h)) => {
                            gossip.push(copy);
                            Ok((Admitted::New(h), "accepted"))
                        }
                        Ok(known) => Ok((known, "known")),
                        Err(MempoolError::Rejected(e)) => Err(("tx_rejected", e.to_string())),
                        Err(e) => Err(("mempool_full", e.to_string())),
                    }
                });
                shared.metrics.submitted(match &result {
                    Ok((_, status)) => status,
                    Err(("mempool_full", _)) => "full",
                    Err(("bad_request", _)) => "malformed",
                    Err(_) => "rejected",
                });
                batch_answer(result)
            })
            .collect();
        (answers, gossip)
    })
    .await;
    let Ok((answers, gossip)) = admitted else {
        return ApiError::internal("the batch could not be processed").into_response();
    };
    if !gossip.is_empty() {
        let envelope = crate::wire::TxEnvelope {
            txs: gossip,
            nonce: crate::shared::now_ms(),
        };
        if let Err(e) = api
            .net
            .publish(Topic::Transactions, envelope.to_bytes())
            .await
        {
            tracing::debug!(error = %e, "transaction gossip not sent");
        }
    }
    (StatusCode::OK, Json(json!({"results": answers}))).into_response()
}

/// A transaction by hash: pending in the mempool, or final with its events.
pub(crate) async fn tx(AxState(api): AxState<ApiState>, Path(hash): Path<String>) -> ApiResult {
    let hash = parse_hash(&hash)?;
    if let Some(tx) = lock(&api.shared.mempool).get(&hash) {
        return Ok(Json(
            json!({"hash": hash.to_string(), "status": "pending", "tx": tx}),
        ));
    }
    // Its events may be recomputed by replaying blocks: from a snapshot, off the store's
    // lock, in a blocking task.
    let turn = super::history_turn(&api.shared).await?;
    let snapshot = read(&api.shared.store).snapshot();
    let (info, snapshot) = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        (snapshot.tx(&hash), snapshot)
    })
    .await
    .map_err(|e| ApiError::internal(format!("reading the transaction failed: {e}")))?;
    let info = info
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found(format!("no transaction {hash}")))?;
    let events: Vec<Value> = info
        .events
        .iter()
        .map(|e| event_json(snapshot.state(), e))
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
