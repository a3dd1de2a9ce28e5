//! `POST /tx` (submit a signed transaction) and `GET /tx/{hash}` (pending or final).

use std::sync::atomic::Ordering;

use axum::extract::{Path, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
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
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let parsed = if is_json {
        serde_json::from_slice::<Transaction>(&body)
            .map_err(|e| format!("malformed transaction JSON: {e}"))
    } else {
        Transaction::from_bytes(&body).map_err(|e| {
            // Without `Content-Type: application/json` the body is read as postcard bytes; a
            // JSON body sent without the header is the usual reason those fail.
            let hint = if body.first() == Some(&b'{') {
                " (the body looks like JSON: send it with Content-Type: application/json)"
            } else {
                ""
            };
            format!("malformed transaction bytes: {e}{hint}")
        })
    };
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
        tx: tx.clone(),
        nonce: crate::shared::now_ms(),
    };
    let bytes = envelope.to_bytes();
    let admitted = lock(&api.shared.mempool).insert(tx);
    api.shared.metrics.submitted(match &admitted {
        Ok(Admitted::New(_)) => "accepted",
        Ok(Admitted::Known(_)) => "known",
        Err(MempoolError::Full(_)) => "full",
        Err(MempoolError::Rejected(_)) => "rejected",
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

/// A transaction by hash: pending in the mempool, or final with its events.
pub(crate) async fn tx(AxState(api): AxState<ApiState>, Path(hash): Path<String>) -> ApiResult {
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
