//! The HTTP JSON API (`docs/api.md` is its contract): status, transaction submission and
//! lookup, accounts with their history, contributions, blocks, and an SSE event stream.
//!
//! One file per resource group (`status`, `tx`, `accounts`, `contributions`, `proposals`,
//! `blocks`, `events`, `evidence`, ...); this one holds what they share: the state handlers
//! reach, errors and the routes; [`request`] reads what clients send (bodies, parameters).
//! Handlers read the shared store under a short read lock and never hold it across an
//! `.await`. Amounts are strings (exact); addresses and hashes lowercase hex. Every error is
//! `{"error": {"code", "message"}}` with a fitting status.

mod accounts;
mod blocks;
mod chain;
mod contributions;
mod evaluations;
mod events;
mod evidence;
mod explain;
mod explorer;
mod members;
mod metrics;
mod overview;
mod proofs;
mod proposals;
pub mod request;
mod serve;
mod status;
#[cfg(test)]
mod tests;
mod timeline;
mod tx;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pov_protocol::{Event, State};
use serde_json::{json, Value};

use crate::health::StallPolicy;
use crate::network::NetworkHandle;
use crate::shared::Shared;

use request::{param, parse_address, parse_hash, Params};
pub use serve::{serve, with_limits, ApiLimits};

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    /// The node's shared state.
    pub shared: Arc<Shared>,
    /// To gossip submitted transactions.
    pub net: NetworkHandle,
    /// When a missing block counts as a stall (`/status`'s `stalled`).
    pub stall: StallPolicy,
    /// Slots for open `/events` streams (`api.max_event_streams`).
    pub event_streams: Arc<tokio::sync::Semaphore>,
}

/// An API error: status, stable code, message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub(crate) fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

pub(crate) type ApiResult = Result<Json<Value>, ApiError>;

/// A turn at the reads that may replay blocks ([`Shared::history_reads`]): waits at most
/// [`proofs::WAIT`], then 503 `busy`. The caller moves the permit into the blocking task
/// that reads, so a request that times out does not free its turn while its read goes on.
pub(crate) async fn history_turn(
    shared: &Shared,
) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    tokio::time::timeout(proofs::WAIT, shared.history_reads.clone().acquire_owned())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                format!(
                    "{} history reads are running (they may replay blocks); retry in a few seconds",
                    crate::shared::HISTORY_READS_AT_ONCE
                ),
            )
        })
}

/// The API's routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/status", get(status::status))
        .route("/tx", post(tx::submit))
        .route(
            "/txs",
            post(tx::submit_batch).layer(axum::extract::DefaultBodyLimit::max(tx::MAX_BATCH_BYTES)),
        )
        .route("/tx/{hash}", get(tx::tx))
        .route("/accounts/{address}", get(accounts::account))
        .route("/accounts/{address}/history", get(accounts::history))
        .route("/accounts/{address}/explain", get(explain::explain))
        .route("/accounts/{address}/timeline", get(timeline::timeline))
        .route("/contributions", get(contributions::contributions))
        .route("/contributions/{id}", get(contributions::contribution))
        .route("/contributions/{id}/evaluations", get(evaluations::page))
        .route("/blocks/{height}", get(blocks::block))
        .route("/events", get(events::events))
        .route("/genesis", get(chain::genesis))
        .route("/params", get(chain::params))
        .route("/members", get(members::members))
        .route("/evidence", get(evidence::evidence))
        .route("/metrics", get(metrics::metrics))
        .route("/overview", get(overview::overview))
        .route("/", get(explorer::index))
        .route("/explorer/{file}", get(explorer::asset))
        .route("/proofs/{member}", get(proofs::proof))
        .route("/proposals", get(proposals::proposals))
        .route("/proposals/{id}", get(proposals::proposal))
        .fallback(|| async { ApiError::not_found("no such route (see docs/api.md)") })
        .method_not_allowed_fallback(
            |method: axum::http::Method, uri: axum::http::Uri| async move {
                ApiError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    format!(
                        "{method} is not allowed on {} (see docs/api.md)",
                        uri.path()
                    ),
                )
            },
        )
        .with_state(state)
}

/// A member's name, when it has one.
pub(crate) fn name_of(state: &State, id: u32) -> Option<&str> {
    state
        .member(id)
        .map(|m| m.name.as_str())
        .filter(|n| !n.is_empty())
}

/// An event as JSON, with the member's address (and name, if any) resolved.
pub(crate) fn event_json(state: &State, e: &Event) -> Value {
    json!({
        "rule": e.rule.name(),
        "member": state.member(e.member).map(|m| m.address.to_string()),
        "name": name_of(state, e.member),
        "member_id": e.member,
        "asset": e.asset,
        "amount": e.amount.to_string(),
        "contribution": e.contribution,
    })
}
