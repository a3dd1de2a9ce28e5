//! `GET /evidence`: the proofs of misbehaviour this node holds (validators that signed two
//! different votes, or two proposals, for one slot), in height order.

use axum::extract::{Query, State as AxState};
use axum::Json;
use pov_consensus::{Evidence, Offence, VoteKind};
use serde_json::{json, Value};

use super::{param, ApiError, ApiResult, ApiState, Params};
use crate::shared::read;

/// One piece of evidence as JSON: who, where, what, and the two signed messages.
fn evidence_json(evidence: &Evidence) -> Value {
    let offence = match evidence.offence() {
        Offence::Proposal => "double_proposal",
        Offence::Vote(VoteKind::Prevote) => "double_prevote",
        Offence::Vote(VoteKind::Precommit) => "double_precommit",
    };
    json!({
        "offence": offence,
        "validator": evidence.offender().to_string(),
        "height": evidence.height(),
        "round": evidence.round(),
        "proof": evidence,
    })
}

/// `?from=HEIGHT&limit=N` (default 0 and 100, at most 1000).
pub(crate) async fn evidence(
    AxState(api): AxState<ApiState>,
    Query(params): Query<Params>,
) -> ApiResult {
    let from: u64 = param(&params, "from")?.unwrap_or(0);
    let limit = param::<usize>(&params, "limit")?
        .unwrap_or(100)
        .clamp(1, 1000);
    let store = read(&api.shared.store);
    let items = store
        .evidence(from, limit)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(json!({
        "items": items.iter().map(evidence_json).collect::<Vec<_>>(),
    })))
}
