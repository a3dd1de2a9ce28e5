//! `GET /status`: the node's chain, head, peers, sync state and counters, and whether the
//! chain moves and could (`health.rs`).

use std::sync::atomic::Ordering;

use axum::extract::State as AxState;
use axum::Json;
use serde_json::json;

use super::{ApiResult, ApiState};
use crate::health::Health;
use crate::shared::{lock, read};

/// The node's status (`docs/api.md`).
pub(crate) async fn status(AxState(api): AxState<ApiState>) -> ApiResult {
    let shared = &api.shared;
    let health = Health::of(shared, &api.stall);
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
        "last_block_age_ms": health.last_block_age_ms,
        "starts_in_ms": health.starts_in_ms,
        "stalled": health.stalled,
        "stall_after_ms": u64::try_from(api.stall.after.as_millis()).unwrap_or(u64::MAX),
        "validators_seen": {
            "count": health.seen.len(),
            "power": health.seen_power,
            "of_count": health.validators,
            "of_power": health.total_power,
            "more_than_two_thirds": health.quorum_seen,
            "within_ms": crate::health::SEEN_WINDOW_MS,
        },
        "version": env!("CARGO_PKG_VERSION"),
    })))
}
