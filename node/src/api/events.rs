//! `GET /events`: final blocks, minted rewards, parameter changes and settlements of sealed
//! contributions as a server-sent event stream.

use std::convert::Infallible;

use axum::extract::State as AxState;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use serde_json::json;

use axum::http::StatusCode;

use super::{ApiError, ApiState};
use crate::shared::NodeEvent;
use pov_protocol::BlockEvent;

/// Streams [`NodeEvent`]s to one subscriber; a slow one skips what it missed. Each open
/// stream holds one of `api.max_event_streams` slots until it is closed.
pub(crate) async fn events(
    AxState(api): AxState<ApiState>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let slot = api.event_streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "too many open event streams (api.max_event_streams); try again later",
        )
    })?;
    let rx = api.shared.events.subscribe();
    let stream = futures::stream::unfold((rx, slot), |(mut rx, slot)| async move {
        loop {
            match rx.recv().await {
                Ok(event) => {
                    let sse = match event {
                        NodeEvent::Block { height, hash, txs } => {
                            SseEvent::default().event("block").data(
                                json!({"height": height, "hash": hash.to_string(),
                                   "txs": txs.iter().map(|h| h.to_string()).collect::<Vec<_>>()})
                                .to_string(),
                            )
                        }
                        NodeEvent::Reward {
                            height,
                            event,
                            member,
                        } => SseEvent::default().event("reward").data(
                            json!({"height": height, "contribution": event.contribution,
                                   "member": member.to_string(), "rule": event.rule.name(),
                                   "asset": event.asset, "amount": event.amount.to_string()})
                            .to_string(),
                        ),
                        NodeEvent::Start { height, event } => start_event(height, &event),
                    };
                    return Some((Ok(sse), (rx, slot)));
                }
                // A slow subscriber skipped some events; keep streaming the rest.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// A block-start event as SSE: `param-change` (spec section 11) or `proposal-void`; a
/// sealed contribution's `settled` (or `settlement-skipped`), spec section 12. (Settlement's
/// balance changes go out as `reward` events, see `Host::after_commit`.)
fn start_event(height: u64, event: &BlockEvent) -> SseEvent {
    match event {
        BlockEvent::Settled(s) => SseEvent::default().event("settled").data(
            json!({"height": height, "contribution": s.contribution, "committed": s.committed,
                   "revealed": s.revealed, "forfeited": s.forfeited})
            .to_string(),
        ),
        BlockEvent::SettlementSkipped(s) => SseEvent::default().event("settlement-skipped").data(
            json!({"height": height, "contribution": s.contribution, "member": s.member,
                   "reason": s.reason})
            .to_string(),
        ),
        BlockEvent::Balance(e) => SseEvent::default().event("balance").data(
            json!({"height": height, "contribution": e.contribution, "member_id": e.member,
                   "rule": e.rule.name(), "asset": e.asset, "amount": e.amount.to_string()})
            .to_string(),
        ),
        BlockEvent::ParamChange(e) => SseEvent::default().event("param-change").data(
            json!({"height": height, "proposal": e.proposal, "path": e.change.path,
                   "old": e.change.old.as_ref().map(|v| v.to_json()),
                   "new": e.change.new.to_json()})
            .to_string(),
        ),
        BlockEvent::ProposalVoid(e) => SseEvent::default().event("proposal-void").data(
            json!({"height": height, "proposal": e.proposal, "reason": e.reason}).to_string(),
        ),
    }
}
