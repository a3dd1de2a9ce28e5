//! Checks shared by the state machine's property tests (`properties.rs`, `sealed.rs`):
//! that events account for every balance change, and the sums the totals must equal.

use std::collections::BTreeMap;

use pov_protocol::{Amount, Asset, Event, MemberId, State};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// The sum of one asset over every member's balance, which `R` or the supply must equal.
pub fn sum(state: &State, asset: Asset) -> Amount {
    Amount::sum(state.members().iter().map(|m| match asset {
        Asset::Reputation => m.reputation,
        Asset::Tokens => m.tokens,
    }))
    .expect("sum")
}

/// Every balance of every member (new ones from zero) changed by exactly the sum of its
/// events, and so did the totals.
pub fn check_events_account_for_changes(
    before: &State,
    after: &State,
    events: &[Event],
) -> Result<(), TestCaseError> {
    let mut deltas: BTreeMap<(MemberId, Asset), Amount> = BTreeMap::new();
    for e in events {
        let d = deltas.entry((e.member, e.asset)).or_insert(Amount::ZERO);
        *d = d.checked_add(e.amount).expect("delta");
    }
    for (id, m) in after.members().iter().enumerate() {
        let id = id as MemberId;
        let (rep0, tok0) = before
            .member(id)
            .map_or((Amount::ZERO, Amount::ZERO), |b| (b.reputation, b.tokens));
        for (asset, was, now) in [
            (Asset::Reputation, rep0, m.reputation),
            (Asset::Tokens, tok0, m.tokens),
        ] {
            let delta = deltas.get(&(id, asset)).copied().unwrap_or(Amount::ZERO);
            prop_assert_eq!(
                now.checked_sub(was).expect("sub"),
                delta,
                "member {} {:?}: events say {}",
                id,
                asset,
                delta
            );
        }
    }
    for (asset, was, now) in [
        (
            Asset::Reputation,
            before.total_reputation(),
            after.total_reputation(),
        ),
        (Asset::Tokens, before.total_tokens(), after.total_tokens()),
    ] {
        let total = Amount::sum(
            deltas
                .iter()
                .filter(|((_, a), _)| *a == asset)
                .map(|(_, d)| *d),
        )
        .expect("sum");
        prop_assert_eq!(
            now.checked_sub(was).expect("sub"),
            total,
            "{:?} total",
            asset
        );
    }
    Ok(())
}
