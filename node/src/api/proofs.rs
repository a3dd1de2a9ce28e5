//! `GET /proofs/{member}?height=H`: a reputation proof (spec section 10) of a member at a
//! final height, the last one by default. The answer is the proof document itself
//! (`pov-proof/1`), which `pov prove` saves and `pov verify-proof` checks offline.
//!
//! Work is bounded (see [`crate::shared::ProofWork`]): one proof is built at a time (a
//! request waits at most [`WAIT`] for its turn, then gets 503 `busy`); the state after a
//! past block is rebuilt from the nearest storage checkpoint, replaying fewer blocks than the
//! checkpoint interval, off the store lock; the last rebuilt state is reused.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::Json;
use pov_crypto::Address;
use pov_protocol::proof::{ProveError, ReputationProof};
use pov_protocol::State;

use super::{param, ApiError, ApiResult, ApiState, Params};
use crate::shared::{lock, read};

/// How long a request waits for another proof to be built before it is told to retry.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

/// The member named in the path: an address, or a non-empty name held on chain.
fn member(state: &State, text: &str) -> Result<Address, ApiError> {
    if let Ok(address) = text.parse::<Address>() {
        return Ok(address);
    }
    state
        .member_by_name(text)
        .map(|(_, m)| m.address)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "{text:?} is neither an address nor the name of a member"
            ))
        })
}

/// The proof of a member at a final height.
pub(crate) async fn proof(
    AxState(api): AxState<ApiState>,
    Path(who): Path<String>,
    Query(q): Query<Params>,
) -> ApiResult {
    let asked: Option<u64> = param(&q, "height")?;
    let work = &api.shared.proofs;
    let _permit = tokio::time::timeout(WAIT, work.permit.clone().acquire_owned())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "another reputation proof is being built; retry in a few seconds",
            )
        })?;

    // Everything read from the store is read under one short lock.
    let (address, height, stored, base) = {
        let store = read(&api.shared.store);
        let address = member(store.state(), &who)?;
        let head = store.height();
        if head == 0 {
            return Err(ApiError::not_found(
                "no block is final yet: a proof is of a final block",
            ));
        }
        let height = asked.unwrap_or(head);
        if height == 0 {
            return Err(ApiError::bad_request(
                "height 0 is the genesis, which has no certificate: proofs start at height 1",
            ));
        }
        if height > head {
            return Err(ApiError::not_found(format!(
                "block {height} is not final yet (the last final block is {head})"
            )));
        }
        let stored = store
            .block(height)
            .map_err(|e| ApiError::internal(e.to_string()))?
            .ok_or_else(|| ApiError::internal(format!("block {height} is missing")))?;
        let cached = lock(&work.last)
            .as_ref()
            .filter(|(h, _)| *h == height)
            .map(|(_, s)| s.clone());
        let base = if height == head {
            Base::Ready(Arc::new(store.state().clone()))
        } else if let Some(state) = cached {
            Base::Ready(state)
        } else {
            Base::Rebuild(Box::new(
                store
                    .rebuild(height)
                    .map_err(|e| ApiError::internal(e.to_string()))?,
            ))
        };
        (address, height, stored, base)
    };

    let genesis_hash = api.shared.genesis_hash;
    let last = match &base {
        Base::Rebuild(_) => true,
        Base::Ready(_) => false,
    };
    let built = tokio::task::spawn_blocking(move || {
        let state = match base {
            Base::Ready(state) => state,
            Base::Rebuild(rebuild) => Arc::new(rebuild.run().map_err(|e| e.to_string())?),
        };
        let proof = ReputationProof::new(
            genesis_hash,
            &stored.block.header,
            &stored.certificate,
            &state,
            &address,
        );
        Ok::<_, String>((state, proof))
    })
    .await
    .map_err(|e| ApiError::internal(format!("building the proof failed: {e}")))?
    .map_err(ApiError::internal)?;
    let (state, proof) = built;
    if last {
        *lock(&work.last) = Some((height, state));
    }
    match proof {
        Ok(proof) => serde_json::to_value(&proof)
            .map(Json)
            .map_err(|e| ApiError::internal(e.to_string())),
        Err(e @ ProveError::NotAMember { .. }) => Err(ApiError::not_found(e.to_string())),
        Err(e @ ProveError::WrongState { .. }) => Err(ApiError::internal(e.to_string())),
    }
}

/// The state a proof is made from: at hand, or to be rebuilt off the lock.
enum Base {
    Ready(Arc<State>),
    Rebuild(Box<pov_storage::Rebuild>),
}
