//! `GET /overview`: the cooperative at a glance, in one small answer (the explorer's front
//! and cooperative pages): the chain, its totals, and each validator with whether it signed
//! the head block.

use axum::extract::State as AxState;
use axum::Json;
use serde_json::json;

use super::{ApiError, ApiResult, ApiState};
use crate::shared::read;

/// Chain id, height, head, member and contribution counts, total reputation and tokens, and
/// the validators (`signing`: its signature is in the head block's certificate).
pub(crate) async fn overview(AxState(api): AxState<ApiState>) -> ApiResult {
    let store = read(&api.shared.store);
    let state = store.state();
    let height = store.height();
    let head = if height > 0 {
        store
            .block(height)
            .map_err(|e| ApiError::internal(e.to_string()))?
    } else {
        None
    };
    let signers: Vec<_> = head
        .as_ref()
        .map(|b| {
            b.certificate
                .signatures
                .iter()
                .map(|s| s.validator)
                .collect()
        })
        .unwrap_or_default();
    let validators: Vec<_> = store
        .validators()
        .validators()
        .iter()
        .map(|v| {
            json!({
                "address": v.address.to_string(),
                "power": v.power,
                "signing": head.is_some().then(|| signers.contains(&v.address)),
            })
        })
        .collect();
    Ok(Json(json!({
        "chain_id": state.chain_id(),
        "genesis_hash": store.genesis().hash().to_string(),
        "height": height,
        "head_hash": head.as_ref().map(|b| b.block.hash().to_string()),
        "time_ms": head.as_ref().map_or(store.genesis().genesis_time_ms, |b| b.block.header.time_ms),
        "members": state.members().len(),
        "contributions": state.contributions().len(),
        "total_reputation": state.total_reputation().to_string(),
        "total_tokens": state.total_tokens().to_string(),
        "validators": validators,
    })))
}
