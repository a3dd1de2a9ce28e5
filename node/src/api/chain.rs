//! `GET /genesis` and `GET /params`: the cooperative itself, readable from any node, so a
//! member or a joining operator never depends on the organizer's copy to see the rules.

use axum::extract::{Query, State as AxState};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pov_protocol::genesis::time_text;
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
/// in the genesis's names.
pub(crate) async fn params(AxState(api): AxState<ApiState>) -> ApiResult {
    let store = read(&api.shared.store);
    let params = serde_json::to_value(store.state().params())
        .map_err(|e| ApiError::internal(format!("parameters as JSON: {e}")))?;
    Ok(Json(json!({
        "height": store.height(),
        "params": params,
    })))
}
