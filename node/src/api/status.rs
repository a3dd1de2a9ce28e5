//! `GET /status`: the node's chain, head, peers, sync state and counters.

use std::sync::atomic::Ordering;

use axum::extract::State as AxState;
use axum::Json;
use serde_json::json;

use super::{ApiResult, ApiState};
use crate::shared::{lock, read};

/// The node's status (`docs/api.md`).
pub(crate) async fn status(AxState(api): AxState<ApiState>) -> ApiResult {
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
