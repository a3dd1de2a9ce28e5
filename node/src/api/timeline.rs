//! `GET /accounts/{address}/timeline`: a member's reputation and tokens over time, as at
//! most `points` points (the explorer's chart), and its latest evaluations.
//!
//! Bounded whatever the member's history: the points are thinned to one per stretch of
//! blocks (the balance at its end), and the evaluations are the latest `EVALUATIONS`. It
//! reads a [`Snapshot`] in a blocking task, never under the store's lock.

use std::collections::VecDeque;

use axum::extract::{Path, Query, State as AxState};
use axum::Json;
use pov_crypto::Address;
use pov_protocol::{Amount, Asset};
use pov_storage::{Action, HistoryQuery, MemberActivity, Snapshot};
use serde_json::{json, Value};

use super::{param, parse_address, ApiError, ApiResult, ApiState, Params};
use crate::shared::read;

const DEFAULT_POINTS: usize = 200;
/// Points at most.
pub(crate) const MAX_POINTS: usize = 1_000;
/// The latest evaluations listed.
pub(crate) const EVALUATIONS: usize = 50;
/// History lines read from the store at a time.
const PAGE: usize = 10_000;

/// `?points=N`: `{"points": [{"height", "reputation", "tokens"}], "evaluations": [...]}`,
/// the first point the balances before the first change, the last the balances now.
pub(crate) async fn timeline(
    AxState(api): AxState<ApiState>,
    Path(address): Path<String>,
    Query(q): Query<Params>,
) -> ApiResult {
    let address = parse_address(&address)?;
    let points = param::<usize>(&q, "points")?
        .unwrap_or(DEFAULT_POINTS)
        .clamp(2, MAX_POINTS);
    let turn = super::history_turn(&api.shared).await?;
    let snapshot = read(&api.shared.store).snapshot();
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        timeline_from(&snapshot, address, points)
    })
    .await
    .map_err(|e| ApiError::internal(format!("reading the timeline failed: {e}")))?
    .map(Json)
}

/// The timeline, read from `snapshot` (off the store's lock: the history index may hold tens
/// of thousands of lines).
fn timeline_from(snapshot: &Snapshot, address: Address, points: usize) -> Result<Value, ApiError> {
    let state = snapshot.state();
    let (id, member) = state
        .member_by_address(&address)
        .ok_or_else(|| ApiError::not_found(format!("{address} is not a member")))?;
    let internal = |e: &dyn std::fmt::Display| ApiError::internal(e.to_string());
    // (height, reputation, tokens) after each block that changed a balance.
    let mut series: Vec<(u64, Option<Amount>, Option<Amount>)> = Vec::new();
    let mut first: (Option<Amount>, Option<Amount>) = (None, None);
    let mut evaluations: VecDeque<serde_json::Value> = VecDeque::new();
    let mut query = HistoryQuery::oldest(PAGE);
    loop {
        let page = snapshot
            .member_history(id, query)
            .map_err(|e| internal(&e))?;
        let full = page.len() == PAGE;
        query.after = page.last().map(|e| e.position).or(query.after);
        for entry in page {
            let height = entry.position.height;
            match entry.activity {
                MemberActivity::Balance {
                    event,
                    balance_after,
                } => {
                    if series.last().is_none_or(|p| p.0 != height) {
                        series.push((height, None, None));
                    }
                    let opening = || balance_after.checked_sub(event.amount).ok();
                    if let Some(point) = series.last_mut() {
                        match event.asset {
                            Asset::Reputation => {
                                first.0 = first.0.or_else(opening);
                                point.1 = Some(balance_after);
                            }
                            Asset::Tokens => {
                                first.1 = first.1.or_else(opening);
                                point.2 = Some(balance_after);
                            }
                        }
                    }
                }
                MemberActivity::Sent {
                    tx,
                    action:
                        Action::Evaluated {
                            contribution,
                            value,
                        },
                } => {
                    if evaluations.len() == EVALUATIONS {
                        evaluations.pop_front();
                    }
                    let title = state.contribution(contribution).map(|c| c.title.as_str());
                    evaluations.push_back(json!({
                        "contribution": contribution, "title": title, "value": value,
                        "height": height, "tx": tx.to_string(),
                    }));
                }
                _ => {}
            }
        }
        if !full {
            break;
        }
    }
    // Carry each balance forward through the blocks that changed only the other one.
    let mut reputation = first.0.unwrap_or(member.reputation);
    let mut tokens = first.1.unwrap_or(member.tokens);
    let start =
        json!({"height": 0, "reputation": reputation.to_string(), "tokens": tokens.to_string()});
    let mut full_series = Vec::with_capacity(series.len());
    for (height, r, t) in series {
        reputation = r.unwrap_or(reputation);
        tokens = t.unwrap_or(tokens);
        full_series.push((height, reputation, tokens));
    }
    // Thin to `points`: the last point of each equal stretch of blocks.
    let head = snapshot.height().max(1);
    let buckets = (points - 2) as u64;
    let mut out = vec![start];
    let mut last_bucket = None;
    for (i, (height, r, t)) in full_series.iter().enumerate() {
        let bucket = height.saturating_mul(buckets) / head;
        let is_last_of_bucket = full_series
            .get(i + 1)
            .is_none_or(|next| next.0.saturating_mul(buckets) / head != bucket);
        if is_last_of_bucket && last_bucket != Some(bucket) {
            out.push(
                json!({"height": height, "reputation": r.to_string(), "tokens": t.to_string()}),
            );
            last_bucket = Some(bucket);
        }
    }
    Ok(json!({
        "address": address.to_string(),
        "height": snapshot.height(),
        "points": out,
        "evaluations": evaluations,
    }))
}
