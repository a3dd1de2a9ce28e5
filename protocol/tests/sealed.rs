//! Sealed evaluations (spec section 12): the windows, the refusals, settlement, and the
//! properties the issue asks for, over random commitments and reveals:
//! - settlement changes balances by exactly what its events say, and `R` and the token
//!   supply stay the sums of the balances through every block start and transaction;
//! - the same commitments revealed in any order of reveal transactions (and across any
//!   blocks of the reveal window) settle to the same state: only commitment order matters;
//! - a changed commitment moves to the end of the order and pays the stake again.

mod support;

use support::accounting::{check_events_account_for_changes, sum};

use std::cell::RefCell;
use std::collections::BTreeMap;

use pov_crypto::{Keypair, Salt};
use pov_protocol::genesis::{Genesis, GenesisMember};
use pov_protocol::sealed::{commitment, Phase};
use pov_protocol::{
    Amount, Asset, BlockEvent, ContributionId, Event, MemberId, Rule, Sealed, State, TxBody,
    TxError,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const MEMBERS: u32 = 6;

/// A cooperative of `reps.len()` founding members whose `work` type is sealed with the
/// given windows (the dev genesis otherwise: median rule on 0..5).
fn cooperative(reps: &[i64], windows: Sealed) -> State {
    let mut genesis = Genesis::dev();
    genesis.members = reps
        .iter()
        .enumerate()
        .map(|(i, r)| GenesisMember {
            public_key: Keypair::dev(i as u32).address(),
            name: format!("m{i}"),
            reputation: Amount::from_int(*r),
            tokens: Amount::from_int(30),
            provenance: None,
        })
        .collect();
    if let Some(work) = genesis.params.types.get_mut("work") {
        work.sealed = Some(windows);
    }
    genesis.state().expect("valid genesis")
}

/// The salt member `k` uses for its `n`th commitment in these tests.
fn salt(k: MemberId, n: u8) -> Salt {
    let mut bytes = [7u8; 32];
    bytes[0] = k as u8;
    bytes[1] = n;
    Salt(bytes)
}

fn commit_body(state: &State, k: MemberId, c: ContributionId, value: i64, salt: &Salt) -> TxBody {
    let address = state.member(k).expect("member").address;
    TxBody::Commit {
        contribution: c,
        commitment: commitment(state.chain_id(), c, &address, value, salt),
    }
}

/// Moves `state` to the start of block `height`, one block at a time, returning what the
/// block starts did.
fn advance_to(state: &mut State, height: u64) -> Vec<BlockEvent> {
    let mut events = Vec::new();
    while state.height() < height {
        let next = state.height() + 1;
        events.extend(state.begin_block(next).expect("next block"));
    }
    events
}

/// Every balance changed by exactly the sum of its events, and so did both totals; and
/// the totals are the sums of the balances.
fn check_accounting(before: &State, after: &State, events: &[Event]) -> Result<(), TestCaseError> {
    check_events_account_for_changes(before, after, events)?;
    prop_assert_eq!(after.total_reputation(), sum(after, Asset::Reputation));
    prop_assert_eq!(after.total_tokens(), sum(after, Asset::Tokens));
    for m in after.members() {
        prop_assert!(!m.reputation.is_negative() && !m.tokens.is_negative());
    }
    Ok(())
}

/// The balance events among what a block start did.
fn balance_events(start: &[BlockEvent]) -> Vec<Event> {
    start
        .iter()
        .filter_map(|e| match e {
            BlockEvent::Balance(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Examples: windows, refusals, what settlement does.

const WINDOWS: Sealed = Sealed {
    commit_blocks: 2,
    reveal_blocks: 2,
};

/// A cooperative at height 1 with contribution 0 (by member 0) included at height 1:
/// commits at heights 2..=3, reveals at 4..=5, settlement at the start of 6.
fn one_contribution() -> State {
    let mut state = cooperative(&[40, 30, 20, 10], WINDOWS);
    advance_to(&mut state, 1);
    state
        .contribute(0, "work", "t", "u", None)
        .expect("contribute");
    state
}

#[test]
fn windows_and_phases_follow_the_inclusion_height() {
    let mut state = one_contribution();
    let c = state.contribution(0).expect("c").clone();
    let w = c.windows(state.height()).expect("sealed");
    assert_eq!((w.commit_end, w.reveal_end, w.settles_at), (3, 5, 6));
    let mut phases = Vec::new();
    for h in 1..=6 {
        // Only the start of block 6 settles: it is the only one with work to do.
        assert_eq!(state.start_is_empty(h), h != 6, "start of {h}");
        advance_to(&mut state, h);
        let c = state.contribution(0).expect("c");
        phases.push(c.windows(state.height()).expect("sealed").phase);
    }
    // Seen from the block after each height.
    assert_eq!(
        phases,
        [
            Phase::Commit,
            Phase::Commit,
            Phase::Reveal,
            Phase::Reveal,
            Phase::Settling,
            Phase::Settled
        ]
    );
}

#[test]
fn evaluate_is_refused_and_commit_only_in_its_window() {
    let mut state = one_contribution();
    let before = state.to_bytes();
    // Height 1: the block that included it; the commit window opens at 2.
    let body = commit_body(&state, 1, 0, 4, &salt(1, 0));
    let e = state.submit(1, &body).expect_err("too early");
    assert!(
        matches!(
            e,
            TxError::OutsideCommitWindow {
                first: 2,
                last: 3,
                height: 1,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(state.to_bytes(), before);
    advance_to(&mut state, 2);
    let e = state.evaluate(1, 0, 4).expect_err("sealed");
    assert!(
        matches!(e, TxError::SealedEvaluate { contribution: 0 }),
        "{e}"
    );
    assert!(e.to_string().contains("sealed"), "{e}");
    state.submit(1, &body).expect("in the window");
    advance_to(&mut state, 4);
    let e = state
        .submit(2, &commit_body(&state, 2, 0, 4, &salt(2, 0)))
        .expect_err("late");
    assert!(
        matches!(e, TxError::OutsideCommitWindow { height: 4, .. }),
        "{e}"
    );
}

#[test]
fn reveal_refusals_say_why_and_change_nothing() {
    let mut state = one_contribution();
    advance_to(&mut state, 2);
    state
        .submit(1, &commit_body(&state, 1, 0, 4, &salt(1, 0)))
        .expect("commit");
    state
        .submit(2, &commit_body(&state, 2, 0, 9, &salt(2, 0)))
        .expect("a value outside the set commits: it is hidden");
    let reveal = |value, salt| TxBody::Reveal {
        contribution: 0,
        value,
        salt,
    };
    // Too early.
    let e = state
        .submit(1, &reveal(4, salt(1, 0)))
        .expect_err("commit window");
    assert!(
        matches!(
            e,
            TxError::OutsideRevealWindow {
                first: 4,
                last: 5,
                ..
            }
        ),
        "{e}"
    );
    advance_to(&mut state, 4);
    let before = state.to_bytes();
    for (k, body, want) in [
        (1, reveal(3, salt(1, 0)), "do not match"),
        (1, reveal(4, salt(1, 1)), "do not match"),
        (2, reveal(9, salt(2, 0)), "not in"),
        (3, reveal(4, salt(3, 0)), "no commitment"),
    ] {
        let e = state.submit(k, &body).expect_err("refused");
        assert!(e.to_string().contains(want), "{e}");
        assert_eq!(state.to_bytes(), before);
    }
    state.submit(1, &reveal(4, salt(1, 0))).expect("matches");
    let e = state.submit(1, &reveal(4, salt(1, 0))).expect_err("twice");
    assert!(
        matches!(e, TxError::AlreadyRevealed { contribution: 0 }),
        "{e}"
    );
    // After settlement the contribution is closed.
    let start = advance_to(&mut state, 6);
    assert!(start.iter().any(|e| matches!(e, BlockEvent::Settled(s) if s.committed == 2 && s.revealed == 1 && s.forfeited == 1)), "{start:?}");
    let e = state
        .submit(3, &commit_body(&state, 3, 0, 4, &salt(3, 0)))
        .expect_err("closed");
    assert!(
        matches!(
            e,
            TxError::Closed {
                contribution: 0,
                height: 6
            }
        ),
        "{e}"
    );
    let e = state.submit(2, &reveal(9, salt(2, 0))).expect_err("closed");
    assert!(matches!(e, TxError::Closed { .. }), "{e}");
}

#[test]
fn commit_and_reveal_on_an_open_type_are_refused() {
    let mut state = cooperative(&[40, 30], WINDOWS);
    advance_to(&mut state, 1);
    let mut params = state.params().types["work"].clone();
    params.sealed = None;
    let mut genesis = Genesis::dev();
    genesis.params.types.insert("work".into(), params);
    let mut open = genesis.state().expect("state");
    advance_to(&mut open, 1);
    open.contribute(0, "work", "t", "u", None)
        .expect("contribute");
    advance_to(&mut open, 2);
    let e = open
        .submit(1, &commit_body(&open, 1, 0, 1, &salt(1, 0)))
        .expect_err("open");
    assert!(matches!(e, TxError::NotSealed { contribution: 0 }), "{e}");
}

/// The stake is taken at commit with `r` = the sender's reputation then and `V` counting
/// every live commitment (this one included); settlement uses that recorded `r` for
/// redistribution, takes no second stake, and forfeits the unrevealed stake.
#[test]
fn stake_at_commit_recorded_r_at_settlement_and_forfeit() {
    let mut state = one_contribution();
    advance_to(&mut state, 2);
    // R and V as they are when each commit applies.
    let stake = |r: i64, engaged: Amount, r_total: Amount| -> Amount {
        let share = engaged
            .checked_div(r_total)
            .and_then(|x| x.pow("0.5".parse().expect("b")))
            .expect("share");
        "0.02"
            .parse::<Amount>()
            .expect("s")
            .checked_mul(Amount::from_int(r))
            .and_then(|x| x.checked_mul(Amount::ONE.checked_sub(share).expect("1-x")))
            .expect("stake")
    };
    // m3 (10) commits 2 first, then m1 (30) commits 2, m2 (20) commits 5 and never reveals.
    let want = stake(10, Amount::from_int(10), state.total_reputation());
    let ev = state
        .submit(3, &commit_body(&state, 3, 0, 2, &salt(3, 0)))
        .expect("commit");
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].rule, ev[0].member, ev[0].amount),
        (Rule::Stake, 3, Amount::ZERO.checked_sub(want).expect("neg"))
    );
    // V counts m3 at its reputation now (after its stake) and m1's 30.
    let engaged = state
        .member(3)
        .expect("m3")
        .reputation
        .checked_add(Amount::from_int(30))
        .expect("V");
    let want = stake(30, engaged, state.total_reputation());
    let ev = state
        .submit(1, &commit_body(&state, 1, 0, 2, &salt(1, 0)))
        .expect("commit");
    assert_eq!(ev[0].amount, Amount::ZERO.checked_sub(want).expect("neg"));
    let m2_before = state.member(2).expect("m2").reputation;
    state
        .submit(2, &commit_body(&state, 2, 0, 5, &salt(2, 0)))
        .expect("commit");
    let m2_staked = state.member(2).expect("m2").reputation;
    assert!(m2_staked < m2_before);
    let recorded = state
        .contribution(0)
        .expect("c")
        .sealed
        .as_ref()
        .expect("sealed")
        .commitments[1]
        .reputation;
    assert_eq!(recorded, Amount::from_int(30));
    advance_to(&mut state, 4);
    for k in [1, 3] {
        state
            .submit(
                k,
                &TxBody::Reveal {
                    contribution: 0,
                    value: 2,
                    salt: salt(k, 0),
                },
            )
            .expect("reveal");
    }
    let m3_before = state.member(3).expect("m3").reputation;
    let before = state.clone();
    let start = advance_to(&mut state, 6);
    let events = balance_events(&start);
    check_accounting(&before, &state, &events).expect("accounting");
    // No stake at settlement; m2 forfeits (its reputation is what the stake left).
    assert!(events.iter().all(|e| e.rule != Rule::Stake), "{events:?}");
    assert_eq!(state.member(2).expect("m2").reputation, m2_staked);
    // m1 (second in order) redistributes d * r / W to m3 with r = 30 as recorded and
    // W = m3's and m1's current reputations.
    let w = before
        .member(3)
        .expect("m3")
        .reputation
        .checked_add(before.member(1).expect("m1").reputation)
        .expect("w");
    let factor = "0.08"
        .parse::<Amount>()
        .expect("d")
        .checked_mul(Amount::from_int(30))
        .and_then(|x| x.checked_div(w))
        .and_then(|q| Amount::ONE.checked_add(q))
        .expect("1 + q");
    let gain = m3_before
        .checked_mul(factor)
        .and_then(|x| x.checked_sub(m3_before))
        .expect("gain");
    let redistributed: Vec<&Event> = events
        .iter()
        .filter(|e| e.rule == Rule::Redistribution)
        .collect();
    assert_eq!(redistributed.len(), 1, "{events:?}");
    assert_eq!(
        (redistributed[0].member, redistributed[0].amount),
        (3, gain)
    );
    let c = state.contribution(0).expect("c");
    let s = c
        .sealed
        .as_ref()
        .and_then(|s| s.settlement)
        .expect("settled");
    assert_eq!(
        (s.height, s.committed, s.revealed, s.forfeited),
        (6, 3, 2, 1)
    );
    assert_eq!(c.evaluations.len(), 2);
}

/// Two contributions settling at one height settle in ascending id, each followed by its
/// `settled` event.
#[test]
fn contributions_due_together_settle_in_ascending_id() {
    let mut state = cooperative(&[40, 30, 20, 10], WINDOWS);
    advance_to(&mut state, 1);
    for _ in 0..2 {
        state
            .contribute(0, "work", "t", "u", None)
            .expect("contribute");
    }
    advance_to(&mut state, 2);
    for c in [1, 0] {
        for k in 0..4 {
            state
                .submit(k, &commit_body(&state, k, c, 5, &salt(k, c as u8)))
                .expect("commit");
        }
    }
    advance_to(&mut state, 4);
    for c in [1, 0] {
        for k in 0..4 {
            state
                .submit(
                    k,
                    &TxBody::Reveal {
                        contribution: c,
                        value: 5,
                        salt: salt(k, c as u8),
                    },
                )
                .expect("reveal");
        }
    }
    let start = advance_to(&mut state, 6);
    let order: Vec<ContributionId> = start
        .iter()
        .filter_map(|e| match e {
            BlockEvent::Balance(e) => e.contribution,
            BlockEvent::Settled(s) => Some(s.contribution),
            _ => None,
        })
        .collect();
    let first_one = order.iter().position(|c| *c == 1).expect("1 settles");
    assert!(order[..first_one].iter().all(|c| *c == 0), "{order:?}");
    assert!(
        matches!(start[first_one - 1], BlockEvent::Settled(s) if s.contribution == 0),
        "{start:?}"
    );
    assert!(
        matches!(start.last(), Some(BlockEvent::Settled(s)) if s.contribution == 1),
        "{start:?}"
    );
    // Everyone agreed on 5 with all of R: both minted the top entry.
    for c in state.contributions() {
        assert_eq!(c.minted_tokens, Amount::from_int(20));
    }
}

// ---------------------------------------------------------------------------------------
// Properties.

/// One step of a random sealed scenario: member `by` does something on contribution `c`.
#[derive(Debug, Clone)]
enum Op {
    Commit {
        by: u32,
        c: u64,
        value: i64,
    },
    /// Reveals one of the live commitments the test made (`pick`), or, when `stray`, has a
    /// member reveal something on a contribution that it may never have committed to.
    Reveal {
        pick: prop::sample::Index,
        stray: bool,
    },
    Evaluate {
        by: u32,
        c: u64,
        value: i64,
    },
}

/// Mostly a member, sometimes a key without an account.
fn by() -> impl Strategy<Value = u32> {
    prop_oneof![10 => 0..MEMBERS, 1 => Just(MEMBERS)]
}

/// Mostly one of the two contributions, sometimes the id after them.
fn contribution() -> impl Strategy<Value = u64> {
    prop_oneof![10 => 0u64..2, 1 => Just(2u64)]
}

/// Mostly values of the set (0..5), sometimes one outside it (hidden until the reveal).
fn value() -> impl Strategy<Value = i64> {
    prop_oneof![12 => 0i64..6, 1 => Just(-1i64), 1 => Just(6i64)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (by(), contribution(), value()).prop_map(|(by, c, value)| Op::Commit { by, c, value }),
        5 => (any::<prop::sample::Index>(), prop::bool::weighted(0.15)).prop_map(|(pick, stray)| Op::Reveal { pick, stray }),
        1 => (0..MEMBERS, 0u64..2, 0i64..6).prop_map(|(by, c, value)| Op::Evaluate { by, c, value }),
    ]
}

/// When an op runs: mostly inside its own window (`offset` blocks into it), one time in
/// eight at any height from 2 to 9, so that late and early ones are refused.
#[derive(Debug, Clone, Copy)]
struct When {
    anywhere: bool,
    offset: u64,
}

fn when() -> impl Strategy<Value = When> {
    (prop::bool::weighted(0.125), 0u64..8).prop_map(|(anywhere, offset)| When { anywhere, offset })
}

impl When {
    /// The height of the op for contributions included at height 1 with these windows.
    fn height(self, op: &Op, w: Sealed) -> u64 {
        if self.anywhere {
            return 2 + self.offset;
        }
        match op {
            Op::Reveal { .. } => 2 + w.commit_blocks + self.offset % w.reveal_blocks,
            _ => 2 + self.offset % w.commit_blocks,
        }
    }
}

fn windows() -> impl Strategy<Value = Sealed> {
    (1u64..4, 1u64..4).prop_map(|(commit_blocks, reveal_blocks)| Sealed {
        commit_blocks,
        reveal_blocks,
    })
}

fn count(tally: &RefCell<BTreeMap<String, usize>>, what: impl Into<String>) {
    *tally.borrow_mut().entry(what.into()).or_default() += 1;
}

/// Runs `cases` cases, then asserts each `(what, min)` was reached: a generator that
/// drifted (no reveal ever matching, say) fails instead of checking nothing.
fn run_counting<S: Strategy>(
    cases: u32,
    strategy: S,
    expected: &[(&str, usize)],
    check: impl Fn(S::Value, &RefCell<BTreeMap<String, usize>>) -> Result<(), TestCaseError>,
) {
    let tally = RefCell::new(BTreeMap::new());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&strategy, |value| check(value, &tally)) {
        panic!("{e}");
    }
    let counts = tally.into_inner();
    println!("reached in {cases} cases: {counts:?}");
    for (what, min) in expected {
        let n = counts.get(*what).copied().unwrap_or(0);
        assert!(
            n >= *min,
            "{what:?} reached {n} times in {cases} cases (want {min}): {counts:?}"
        );
    }
}

/// Settlement (and every commit, reveal and refused step) changes balances by exactly
/// what its events say; `R` and the supply stay the sums of the balances; the `settled`
/// event's counts are the live commitments; a settled contribution is closed.
#[test]
fn settlement_conserves_as_its_events_say() {
    let scenario = (
        proptest::collection::vec(0i64..100, MEMBERS as usize),
        windows(),
        proptest::collection::vec((when(), op()), 1..40),
    );
    // About a third of what a run reaches on average, so that no seed fails by chance.
    let expected = [
        ("commit applied", 150),
        ("commit refused", 40),
        ("reveal applied", 60),
        ("reveal refused", 100),
        ("evaluate refused", 25),
        ("settled with a forfeit", 30),
        ("settled with a reveal", 30),
        ("event redistribution", 8),
        ("event contributor-reward", 10),
    ];
    run_counting(64, scenario, &expected, |(reps, windows, ops), tally| {
        let mut state = cooperative(&reps, windows);
        advance_to(&mut state, 1);
        // Two contributions at height 1 (ids 0 and 1); id 2 never exists.
        for _ in 0..2 {
            state
                .contribute(0, "work", "t", "u", None)
                .expect("contribute");
        }
        let mut ops: Vec<(u64, Op)> = ops
            .into_iter()
            .map(|(w, op)| (w.height(&op, windows), op))
            .collect();
        ops.sort_by_key(|(at, _)| *at);
        let end = 1 + windows.commit_blocks + windows.reveal_blocks + 1;
        let mut salts: BTreeMap<(u32, u64), (i64, u8)> = BTreeMap::new();
        let mut n = 0u8;
        let mut ops = ops.into_iter().peekable();
        for height in 2..=end {
            let before = state.clone();
            let start = state.begin_block(height).expect("next block");
            check_accounting(&before, &state, &balance_events(&start))?;
            for e in &start {
                match e {
                    BlockEvent::Balance(e) => count(tally, format!("event {}", e.rule.name())),
                    BlockEvent::Settled(s) => {
                        let c = state.contribution(s.contribution).expect("c");
                        let sealed = c.sealed.as_ref().expect("sealed");
                        prop_assert_eq!(s.committed, sealed.commitments.len() as u64);
                        prop_assert_eq!(s.revealed + s.forfeited, s.committed);
                        let opened = sealed
                            .commitments
                            .iter()
                            .filter(|m| m.revealed.is_some())
                            .count() as u64;
                        prop_assert_eq!(s.revealed, opened);
                        prop_assert_eq!(c.evaluations.len() as u64, opened);
                        if s.forfeited > 0 {
                            count(tally, "settled with a forfeit");
                        }
                        if s.revealed > 0 {
                            count(tally, "settled with a reveal");
                        }
                    }
                    _ => {}
                }
            }
            while let Some((_, op)) = ops.next_if(|(at, _)| *at <= height) {
                let before = state.clone();
                let (name, result) = match op {
                    Op::Commit { by, c, value } => {
                        n = n.wrapping_add(1);
                        let body = match state.member(by) {
                            Some(_) => commit_body(&state, by, c, value, &salt(by, n)),
                            None => TxBody::Commit {
                                contribution: c,
                                commitment: pov_crypto::hash(b"x"),
                            },
                        };
                        let result = state.submit(by, &body);
                        if result.is_ok() {
                            salts.insert((by, c), (value, n));
                        }
                        ("commit", result)
                    }
                    Op::Reveal { pick, stray } => {
                        let live: Vec<_> = salts.iter().collect();
                        let ((by, c), (value, n)) = if stray || live.is_empty() {
                            let i = pick.index(21) as u32;
                            ((i % (MEMBERS + 1), u64::from(i % 3)), (1, 0))
                        } else {
                            let ((by, c), v) = live[pick.index(live.len())];
                            ((*by, *c), *v)
                        };
                        let body = TxBody::Reveal {
                            contribution: c,
                            value,
                            salt: salt(by, n),
                        };
                        ("reveal", state.submit(by, &body))
                    }
                    Op::Evaluate { by, c, value } => ("evaluate", state.evaluate(by, c, value)),
                };
                match result {
                    Ok(events) => {
                        count(tally, format!("{name} applied"));
                        check_accounting(&before, &state, &events)?;
                    }
                    Err(_) => {
                        count(tally, format!("{name} refused"));
                        prop_assert_eq!(state.to_bytes(), before.to_bytes());
                    }
                }
            }
        }
        for c in state.contributions() {
            prop_assert!(
                c.sealed.as_ref().and_then(|s| s.settlement).is_some(),
                "contribution {} settled",
                c.id
            );
        }
        // Closed: nothing more is accepted.
        let before = state.to_bytes();
        let commit = commit_body(&state, 0, 0, 1, &salt(0, 0));
        let reveal = TxBody::Reveal {
            contribution: 0,
            value: 1,
            salt: salt(0, 0),
        };
        let refused = state.submit(0, &commit).is_err() && state.submit(0, &reveal).is_err();
        prop_assert!(refused, "a settled contribution is closed");
        prop_assert_eq!(state.to_bytes(), before);
        Ok(())
    });
}

/// A commitment to reveal: member, value.
fn commitments() -> impl Strategy<Value = Vec<(u32, i64)>> {
    proptest::collection::vec((0..MEMBERS, 0i64..6), 1..12)
}

/// Runs the commitments in the commit window, then the reveals of `reveal_order` (members;
/// each reveal at the reveal-window block `block_of[i] % reveal_blocks`), then settles.
fn settle_with(
    reps: &[i64],
    windows: Sealed,
    commits: &[(u32, i64)],
    reveals: &[(u32, u64)],
) -> State {
    let mut state = cooperative(reps, windows);
    advance_to(&mut state, 1);
    state
        .contribute(0, "work", "t", "u", None)
        .expect("contribute");
    advance_to(&mut state, 2);
    let mut live = BTreeMap::new();
    for (i, (k, value)) in commits.iter().enumerate() {
        let s = salt(*k, i as u8);
        state
            .submit(*k, &commit_body(&state, *k, 0, *value, &s))
            .expect("commit");
        live.insert(*k, (*value, s));
    }
    let first_reveal = 2 + windows.commit_blocks;
    let mut reveals = reveals.to_vec();
    reveals.sort_by_key(|(_, block)| block % windows.reveal_blocks);
    for (k, block) in reveals {
        advance_to(&mut state, first_reveal + block % windows.reveal_blocks);
        let (value, salt) = live[&k];
        state
            .submit(
                k,
                &TxBody::Reveal {
                    contribution: 0,
                    value,
                    salt,
                },
            )
            .expect("reveal");
    }
    advance_to(&mut state, first_reveal + windows.reveal_blocks);
    assert!(state
        .contribution(0)
        .and_then(|c| c.sealed.as_ref())
        .and_then(|s| s.settlement)
        .is_some());
    state
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// The same commitments, revealed by the same members in any order of reveal
    /// transactions and spread over any blocks of the reveal window, settle to the same
    /// state: only commitment order matters.
    #[test]
    fn reveal_order_does_not_matter(
        reps in proptest::collection::vec(1i64..100, MEMBERS as usize),
        windows in windows(),
        commits in commitments(),
        revealers in proptest::sample::subsequence((0..MEMBERS).collect::<Vec<_>>(), 0..=MEMBERS as usize),
        blocks in proptest::collection::vec(0u64..4, MEMBERS as usize),
        shuffle in any::<prop::sample::Index>(),
    ) {
        let committed: Vec<u32> = commits.iter().map(|(k, _)| *k).collect();
        let revealers: Vec<u32> = revealers.into_iter().filter(|k| committed.contains(k)).collect();
        let in_order: Vec<(u32, u64)> = revealers.iter().map(|k| (*k, 0)).collect();
        // Another order: rotated, reversed, and spread over the reveal window.
        let mut other: Vec<(u32, u64)> = revealers.iter().map(|k| (*k, blocks[*k as usize])).collect();
        if !other.is_empty() {
            let at = shuffle.index(other.len());
            other.rotate_left(at);
            other.reverse();
        }
        let a = settle_with(&reps, windows, &commits, &in_order);
        let b = settle_with(&reps, windows, &commits, &other);
        prop_assert_eq!(a.state_root(), b.state_root());
        prop_assert_eq!(a.to_bytes(), b.to_bytes());
    }

    /// A changed commitment moves to the end of the commitment order and pays the stake
    /// again, computed with the sender's reputation then and every live commitment's.
    #[test]
    fn a_changed_commitment_moves_to_the_end_and_pays_again(
        reps in proptest::collection::vec(1i64..100, MEMBERS as usize),
        commits in commitments(),
        again in 0..MEMBERS,
        value in 0i64..6,
    ) {
        let mut state = cooperative(&reps, WINDOWS);
        advance_to(&mut state, 1);
        state.contribute(0, "work", "t", "u", None).expect("contribute");
        advance_to(&mut state, 2);
        for (i, (k, v)) in commits.iter().enumerate() {
            state.submit(*k, &commit_body(&state, *k, 0, *v, &salt(*k, i as u8))).expect("commit");
        }
        let live = |s: &State| s.contribution(0).and_then(|c| c.sealed.clone()).expect("sealed").commitments;
        let before = live(&state);
        let r = state.member(again).expect("m").reputation;
        let engaged = Amount::sum(
            before.iter().filter(|m| m.member != again).map(|m| state.member(m.member).expect("m").reputation)
        ).and_then(|v| v.checked_add(r)).expect("V");
        let r_total = state.total_reputation();
        let share = engaged.checked_div(r_total).and_then(|x| x.pow("0.5".parse().expect("b"))).expect("share");
        let want = "0.02".parse::<Amount>().expect("s")
            .checked_mul(r)
            .and_then(|x| x.checked_mul(Amount::ONE.checked_sub(share).expect("1-x")))
            .expect("stake");
        let events = state.submit(again, &commit_body(&state, again, 0, value, &salt(again, 99))).expect("commit again");
        let stakes: Vec<&Event> = events.iter().filter(|e| e.rule == Rule::Stake).collect();
        prop_assert_eq!(stakes.len(), usize::from(!want.is_zero()));
        if let Some(e) = stakes.first() {
            prop_assert_eq!(e.amount, Amount::ZERO.checked_sub(want).expect("neg"));
        }
        let after = live(&state);
        let last = after.last().expect("one live commitment");
        prop_assert_eq!(last.member, again);
        prop_assert_eq!(last.reputation, r);
        prop_assert!(after[..after.len() - 1].iter().all(|m| m.member != again && m.seq < last.seq));
        let others_before: Vec<u32> = before.iter().map(|m| m.member).filter(|k| *k != again).collect();
        let others_after: Vec<u32> = after[..after.len() - 1].iter().map(|m| m.member).collect();
        prop_assert_eq!(others_before, others_after);
    }
}
