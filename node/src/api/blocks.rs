//! `GET /blocks/{height}`: a final block's header, what its start did (parameter changes,
//! settlements of sealed contributions), its transactions and certificate.

use axum::extract::{Path, State as AxState};
use axum::Json;
use pov_protocol::{BlockEvent, State};
use serde_json::{json, Value};

use super::{event_json, ApiError, ApiResult, ApiState};
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
        "start": stored.start.iter().map(|e| start_json(store.state(), e)).collect::<Vec<_>>(),
        "certificate": {
            "round": stored.certificate.round,
            "signatures": stored.certificate.signatures,
        },
    })))
}

/// What a block's start did, as JSON: a `param-change` with the proposal, path, old and new
/// value, or a `proposal-void` with its reason; a sealed contribution's settlement as its
/// `balance` changes, then `settled` (or `settlement-skipped`).
fn start_json(state: &State, event: &BlockEvent) -> Value {
    match event {
        BlockEvent::Balance(e) => {
            let mut v = event_json(state, e);
            if let Value::Object(map) = &mut v {
                map.insert("event".into(), json!("balance"));
            }
            v
        }
        BlockEvent::Settled(s) => json!({"event": "settled", "contribution": s.contribution,
            "committed": s.committed, "revealed": s.revealed, "forfeited": s.forfeited}),
        BlockEvent::SettlementSkipped(s) => json!({"event": "settlement-skipped",
            "contribution": s.contribution, "member": s.member, "reason": s.reason}),
        BlockEvent::ParamChange(e) => json!({"event": "param-change", "proposal": e.proposal,
            "path": e.change.path, "old": e.change.old.as_ref().map(|v| v.to_json()),
            "new": e.change.new.to_json()}),
        BlockEvent::ProposalVoid(e) => json!({"event": "proposal-void", "proposal": e.proposal,
            "reason": e.reason}),
    }
}
