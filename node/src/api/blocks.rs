//! `GET /blocks/{height}`: a final block's header, transactions and certificate.

use axum::extract::{Path, State as AxState};
use axum::Json;
use serde_json::json;

use super::{ApiError, ApiResult, ApiState};
use crate::shared::read;

/// The final block at a height.
pub(crate) async fn block(
    AxState(api): AxState<ApiState>,
    Path(height): Path<String>,
) -> ApiResult {
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
