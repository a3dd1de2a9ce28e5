//! `GET /proposals` (a filtered page) and `GET /proposals/{id}`: parameter proposals (spec
//! section 11) with what they change, how much reputation accepts them against the half
//! that passes them, and what became of them.
//!
//! A proposal is a contribution of the reserved kind `governance`, so it shares the id space
//! (and `GET /contributions/{id}` shows it too); these endpoints add what only a proposal
//! has.

use axum::extract::{Path, Query, State as AxState};
use axum::Json;
use pov_protocol::{Amount, Contribution, Proposal, State};
use pov_storage::Store;
use serde_json::{json, Value};

use super::{name_of, param, ApiError, ApiResult, ApiState, Params};
use crate::shared::read;
use pov_protocol::governance::{ParamPath, ProposalOutcome};
use pov_protocol::BlockEvent;

/// Proposals per page unless `limit` says otherwise, and the most one page holds.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

/// The words `status` takes, in a proposal's life order.
const STATUSES: [&str; 5] = ["open", "passed", "applied", "void", "expired"];

/// Where a proposal stands when the last final block is `head`.
fn status(p: &Proposal, head: u64) -> &'static str {
    match (&p.outcome, p.passed_at) {
        (Some(ProposalOutcome::Applied { .. }), _) => "applied",
        (Some(ProposalOutcome::Void { .. }), _) => "void",
        (None, Some(_)) => "passed",
        // The next block is head + 1: evaluations are accepted up to `expires_at`.
        (None, None) if head >= p.expires_at => "expired",
        (None, None) => "open",
    }
}

/// `part / whole`, or zero when there is no reputation at all.
fn share(part: Amount, whole: Amount) -> Amount {
    if whole > Amount::ZERO {
        part.checked_div(whole).unwrap_or(Amount::ZERO)
    } else {
        Amount::ZERO
    }
}

/// The reputation, now, of the members whose live evaluation is `value`.
fn reputation_at(state: &State, c: &Contribution, value: i64) -> Amount {
    Amount::sum(
        c.evaluations
            .iter()
            .filter(|e| e.value == value)
            .filter_map(|e| state.member(e.member).map(|m| m.reputation)),
    )
    .unwrap_or(Amount::ZERO)
}

/// One proposal as the API shows it. `store` gives the reason of a void proposal (its
/// block's start event).
fn proposal_json(store: &Store, c: &Contribution, p: &Proposal) -> Value {
    let state = store.state();
    let total = state.total_reputation();
    let accepted = reputation_at(state, c, 1);
    let rejected = reputation_at(state, c, 0);
    let address = |id: u32| state.member(id).map(|m| m.address.to_string());
    let changes: Vec<Value> = p
        .changes
        .iter()
        .map(|ch| {
            let now = ParamPath::parse(&ch.path)
                .ok()
                .and_then(|path| path.read(state.params()));
            json!({"path": ch.path, "value": ch.value.to_json(),
                   "now": now.map(|v| v.to_json())})
        })
        .collect();
    let (applied, void) = match &p.outcome {
        Some(ProposalOutcome::Applied { height, changes }) => (
            Some(
                json!({"height": height, "changes": changes.iter().map(|a| json!({
                "path": a.path, "old": a.old.as_ref().map(|v| v.to_json()),
                "new": a.new.to_json()})).collect::<Vec<_>>()}),
            ),
            None,
        ),
        Some(ProposalOutcome::Void { height }) => {
            let reason = store.start_events(*height).ok().and_then(|events| {
                events.into_iter().find_map(|e| match e {
                    BlockEvent::ProposalVoid(v) if v.proposal == c.id => Some(v.reason),
                    _ => None,
                })
            });
            (None, Some(json!({"height": height, "reason": reason})))
        }
        None => (None, None),
    };
    json!({
        "id": c.id,
        "proposer": address(c.contributor),
        "proposer_name": name_of(state, c.contributor),
        "title": c.title,
        "uri": c.uri,
        "height": c.height,
        "expires_at": p.expires_at,
        "status": status(p, store.height()),
        "changes": changes,
        "accepted_reputation": accepted.to_string(),
        "accepted_share": share(accepted, total).to_string(),
        "rejected_reputation": rejected.to_string(),
        "rejected_share": share(rejected, total).to_string(),
        "pass_share": "0.5",
        "evaluations": c.evaluations.iter().map(|e| json!({
            "member": address(e.member), "name": name_of(state, e.member),
            "member_id": e.member, "value": e.value, "seq": e.seq,
        })).collect::<Vec<_>>(),
        "passed_at": p.passed_at,
        "effective_from": p.passed_at.map(|h| h + 1),
        "applied": applied,
        "void": void,
    })
}

/// One proposal: its changes, evaluations, accepted share and outcome.
pub(crate) async fn proposal(AxState(api): AxState<ApiState>, Path(id): Path<String>) -> ApiResult {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{id:?} is not a proposal id")))?;
    let store = read(&api.shared.store);
    let c = store
        .state()
        .contribution(id)
        .ok_or_else(|| ApiError::not_found(format!("no proposal {id}")))?;
    let p = c.proposal.as_ref().ok_or_else(|| {
        ApiError::not_found(format!(
            "contribution {id} is a {} contribution, not a parameter proposal",
            c.kind
        ))
    })?;
    Ok(Json(proposal_json(&store, c, p)))
}

/// `?status=open|passed|applied|void|expired&after=ID&limit=N`: proposals by id, ascending;
/// `next` is the `after` of the next page, or `null`.
pub(crate) async fn proposals(
    AxState(api): AxState<ApiState>,
    Query(params): Query<Params>,
) -> ApiResult {
    let wanted = match params.get("status").map(String::as_str) {
        None => None,
        Some(s) if STATUSES.contains(&s) => Some(s),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "query parameter status={other:?} is not valid: use one of {}",
                STATUSES.join(", ")
            )))
        }
    };
    let after: Option<u64> = param(&params, "after")?;
    let limit = param::<usize>(&params, "limit")?
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    let store = read(&api.shared.store);
    let head = store.height();
    let start = after.map_or(0, |a| a.saturating_add(1));
    let mut items: Vec<Value> = Vec::new();
    let mut next = None;
    for c in store
        .state()
        .contributions()
        .iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
    {
        let Some(p) = &c.proposal else { continue };
        if wanted.is_some_and(|w| w != status(p, head)) {
            continue;
        }
        if items.len() == limit {
            next = items.last().and_then(|v| v.get("id").cloned());
            break;
        }
        items.push(proposal_json(&store, c, p));
    }
    Ok(Json(json!({"items": items, "next": next})))
}
