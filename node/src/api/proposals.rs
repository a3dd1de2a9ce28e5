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

/// The most contributions one page looks at (under the store's read lock, which commits
/// wait for): a page may end with fewer than `limit` proposals and a `next`.
pub(crate) const MAX_SCAN: usize = 10_000;

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
/// `next` is the `after` of the next page, or `null`. At most [`MAX_SCAN`] contributions
/// are looked at per page, so a hostile client cannot hold the store for long.
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
    let (page, next) = page(store.state().contributions(), start, limit, MAX_SCAN, |p| {
        wanted.is_none_or(|w| w == status(p, head))
    });
    let items: Vec<Value> = page
        .into_iter()
        .map(|(c, p)| proposal_json(&store, c, p))
        .collect();
    Ok(Json(json!({"items": items, "next": next})))
}

/// One page of proposals among `contributions`: those `keep` accepts, from id `start` on, at
/// most `limit`, looking at no more than `max_scan` contributions. Returns them and the
/// `after` of the next page (`None` at the end).
fn page(
    contributions: &[Contribution],
    start: u64,
    limit: usize,
    max_scan: usize,
    keep: impl Fn(&Proposal) -> bool,
) -> (Vec<(&Contribution, &Proposal)>, Option<u64>) {
    let rest = contributions
        .get(usize::try_from(start).unwrap_or(usize::MAX)..)
        .unwrap_or_default();
    let mut items = Vec::new();
    for (scanned, c) in rest.iter().enumerate() {
        if scanned == max_scan {
            // The page ends here; the next one goes on after the last contribution looked at.
            return (items, c.id.checked_sub(1));
        }
        let Some(p) = &c.proposal else { continue };
        if !keep(p) {
            continue;
        }
        if items.len() == limit {
            return (items, c.id.checked_sub(1));
        }
        items.push((c, p));
    }
    (items, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pov_protocol::genesis::Genesis;
    use pov_protocol::ParamChange;

    #[test]
    fn a_page_stops_at_the_limit_or_the_scan_bound_and_says_where_to_go_on() {
        let mut state = Genesis::dev().state().expect("state");
        // Ids 0..=9 contributions, 10 and 11 proposals, 12..=20 contributions, 21 a proposal.
        let propose = |state: &mut State| {
            let fee = ParamChange::parse("types.work.fee", "2").expect("change");
            state.propose(2, "t", "", vec![fee]).expect("proposal");
        };
        for _ in 0..10 {
            state
                .contribute(1, "work", "t", "u", None)
                .expect("contribution");
        }
        propose(&mut state);
        propose(&mut state);
        for _ in 0..9 {
            state
                .contribute(1, "work", "t", "u", None)
                .expect("contribution");
        }
        propose(&mut state);
        let all = state.contributions();
        let ids = |items: &[(&Contribution, &Proposal)]| -> Vec<u64> {
            items.iter().map(|(c, _)| c.id).collect()
        };

        let (items, next) = page(all, 0, 50, 1000, |_| true);
        assert_eq!((ids(&items), next), (vec![10, 11, 21], None));
        // The limit: the next page starts right after the last proposal given.
        let (items, next) = page(all, 0, 1, 1000, |_| true);
        assert_eq!((ids(&items), next), (vec![10], Some(10)));
        let (items, next) = page(all, 11, 1, 1000, |_| true);
        assert_eq!((ids(&items), next), (vec![11], Some(20)));
        // The scan bound: 12 contributions looked at (ids 0..=11), then a next page.
        let (items, next) = page(all, 0, 50, 12, |_| true);
        assert_eq!((ids(&items), next), (vec![10, 11], Some(11)));
        let (items, next) = page(all, 12, 50, 5, |_| true);
        assert_eq!(
            (ids(&items), next),
            (vec![], Some(16)),
            "a page may be empty"
        );
        let (items, next) = page(all, 17, 50, 5, |_| true);
        assert_eq!((ids(&items), next), (vec![21], None));
        // The filter, and a start past the end.
        let (items, _) = page(all, 0, 50, 1000, |p| p.expires_at == 0);
        assert!(items.is_empty());
        assert_eq!(page(all, 99, 50, 1000, |_| true).1, None);
    }
}
