//! `GET /genesis` and `GET /params`: the cooperative itself, readable from any node, so a
//! member or a joining operator never depends on the organizer's copy to see the rules, nor
//! on anyone's word for where a rule in force came from.

use axum::extract::{Query, State as AxState};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pov_protocol::genesis::time_text;
use pov_protocol::governance::ParamPath;
use serde_json::json;

use super::{ApiError, ApiResult, ApiState, Params};
use crate::shared::read;

/// The genesis this node runs: its hash (the chain's identity), its fields as JSON and its
/// canonical TOML; with `?format=toml`, the TOML alone (`text/plain`), ready to save as the
/// `genesis.toml` of a new node (check its hash against the one the organizer announced).
pub(crate) async fn genesis(
    AxState(api): AxState<ApiState>,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    let genesis = read(&api.shared.store).genesis().clone();
    match q.get("format").map(String::as_str) {
        None | Some("json") => {}
        Some("toml") => {
            return Ok((
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                genesis.to_toml(),
            )
                .into_response())
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "query parameter format={other:?} is not valid: use json or toml"
            )))
        }
    }
    let mut body = serde_json::to_value(&genesis)
        .map_err(|e| ApiError::internal(format!("genesis as JSON: {e}")))?;
    body["hash"] = json!(genesis.hash().to_string());
    body["genesis_time"] = json!(time_text(genesis.genesis_time_ms));
    body["toml"] = json!(genesis.to_toml());
    Ok(Json(body).into_response())
}

/// The parameters in force now (those of the genesis until the cooperative changes them),
/// in the genesis's names, and for every parameter path its value and where it came from
/// (spec section 11): the proposal and the height from which its value holds, or none for a
/// value of the genesis.
pub(crate) async fn params(AxState(api): AxState<ApiState>) -> ApiResult {
    let store = read(&api.shared.store);
    let state = store.state();
    let params = serde_json::to_value(state.params())
        .map_err(|e| ApiError::internal(format!("parameters as JSON: {e}")))?;
    let paths: Vec<_> = ParamPath::leaves(state.params())
        .into_iter()
        .map(|path| {
            let set_by = state.governance().provenance_of(&path);
            json!({
                "path": path.to_string(),
                "value": path.read(state.params()).map(|v| v.to_json()),
                "proposal": set_by.map(|p| p.proposal),
                "since": set_by.map_or(0, |p| p.height),
            })
        })
        .collect();
    Ok(Json(json!({
        "height": store.height(),
        "params": params,
        "paths": paths,
    })))
}
