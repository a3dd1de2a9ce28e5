//! `GET /proofs/{member}?height=H`: a reputation proof (spec section 10) of a member at a
//! final height, the last one by default. The answer is the proof document itself
//! (`pov-proof/1`), which `pov prove` saves and `pov verify-proof` checks offline.
//!
//! Work is bounded (see [`crate::shared::ProofWork`]): one proof is built at a time (a
//! request waits at most [`WAIT`] for its turn, then gets 503 `busy`; the turn lasts until
//! the proof is built, even when its client has gone); the state after a past block is
//! rebuilt from the nearest storage checkpoint, replaying fewer blocks than the checkpoint
//! interval; the last rebuilt state is reused. Nothing of it holds the store's lock, which
//! commits need: the handler takes a [`pov_storage::Snapshot`] under the lock, and reads
//! blocks, the checkpoint and the head state from that (the head state is shared, not
//! copied).

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
    // The permit goes with the work into the blocking task below: a client that gives up
    // (or disconnects) does not free it while its proof is still being built.
    let permit = tokio::time::timeout(WAIT, work.permit.clone().acquire_owned())
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

    // Under the store's lock: only the checks and a snapshot (nothing is read or copied).
    let (address, height, snapshot) = {
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
        (address, height, store.snapshot())
    };

    let genesis_hash = api.shared.genesis_hash;
    let shared = api.shared.clone();
    let built = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let stored = snapshot
            .block(height)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("block {height} is missing"))?;
        let cached = lock(&shared.proofs.last)
            .as_ref()
            .filter(|(h, _)| *h == height)
            .map(|(_, s)| s.clone());
        let state = if height == snapshot.height() {
            snapshot.state().clone()
        } else if let Some(state) = cached {
            state
        } else {
            let state = snapshot
                .rebuild(height)
                .and_then(|r| r.run())
                .map_err(|e| e.to_string())?;
            let state = Arc::new(state);
            *lock(&shared.proofs.last) = Some((height, state.clone()));
            state
        };
        Ok::<_, String>(ReputationProof::new(
            genesis_hash,
            &stored.block.header,
            &stored.certificate,
            &state,
            &address,
        ))
    })
    .await
    .map_err(|e| ApiError::internal(format!("building the proof failed: {e}")))?
    .map_err(ApiError::internal)?;
    match built {
        Ok(proof) => serde_json::to_value(&proof)
            .map(Json)
            .map_err(|e| ApiError::internal(e.to_string())),
        Err(e @ ProveError::NotAMember { .. }) => Err(ApiError::not_found(e.to_string())),
        Err(e @ ProveError::WrongState { .. }) => Err(ApiError::internal(e.to_string())),
    }
}
