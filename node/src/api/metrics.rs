//! `GET /metrics`: the node's metrics in the Prometheus text format (see
//! [`crate::metrics`] and `docs/running-a-node.md`).

use axum::extract::State as AxState;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::ApiState;

/// The text exposition, rendered off the async workers (it reads the store's size and
/// takes the store and mempool locks briefly).
pub(crate) async fn metrics(AxState(api): AxState<ApiState>) -> Response {
    let shared = api.shared.clone();
    let text = tokio::task::spawn_blocking(move || shared.metrics.render(&shared))
        .await
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
