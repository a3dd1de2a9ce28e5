//! Property tests of the state machine's invariants over random operation sequences.
//!
//! Each property counts what its cases reached (applied and refused transactions of each
//! body, events of each rule, mints) and asserts a minimum for each: a generator that
//! drifted so that, say, no evaluation ever applied would fail here instead of passing
//! while checking nothing.

mod support;

use support::accounting::{check_events_account_for_changes, sum};

use std::cell::RefCell;
use std::collections::BTreeMap;

use pov_crypto::Keypair;
use pov_protocol::genesis::Genesis;
use pov_protocol::{
    Amount, Asset, Event, Params, Revote, RewardRule, Rule, State, Transaction, TxBody, TxError,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Founding members; keys `MEMBERS..KEYS` start outside and can be admitted.
const MEMBERS: u32 = 6;
const KEYS: u32 = 9;

/// One random step of a cooperative's life.
#[derive(Debug, Clone)]
enum Op {
    Contribute {
        by: u32,
    },
    /// `pick` chooses among the contributions that exist when the op runs, or rarely the
    /// next id (so most evaluations name a real contribution, some do not).
    Evaluate {
        by: u32,
        pick: prop::sample::Index,
        value: i64,
    },
    Transfer {
        from: u32,
        to: u32,
        cents: i64,
    },
    Admit {
        by: u32,
        newcomer: u32,
    },
}

impl Op {
    fn name(&self) -> &'static str {
        match self {
            Op::Contribute { .. } => "contribute",
            Op::Evaluate { .. } => "evaluate",
            Op::Transfer { .. } => "transfer",
            Op::Admit { .. } => "admit",
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => sender().prop_map(|by| Op::Contribute { by }),
        12 => (sender(), any::<prop::sample::Index>(), value()).prop_map(|(by, pick, value)| Op::Evaluate { by, pick, value }),
        4 => (sender(), 0..KEYS, 0i64..5000).prop_map(|(from, to, cents)| Op::Transfer { from, to, cents }),
        2 => (0..MEMBERS, MEMBERS..KEYS).prop_map(|(by, newcomer)| Op::Admit { by, newcomer }),
    ]
}

/// Mostly a founding member, sometimes a key that may not have been admitted yet.
fn sender() -> impl Strategy<Value = u32> {
    prop_oneof![3 => 0..MEMBERS, 1 => MEMBERS..KEYS]
}

/// Mostly values of the evaluation set (0..5), sometimes one just outside it.
fn value() -> impl Strategy<Value = i64> {
    prop_oneof![12 => 0i64..6, 1 => Just(-1i64), 1 => Just(6i64)]
}

/// The contribution an evaluation names: one of the `n` that exist, or (one time in
/// `8n + 1`) the next id, which does not.
fn contribution_of(state: &State, pick: &prop::sample::Index) -> u64 {
    let n = state.contributions().len();
    (pick.index(8 * n + 1) / 8) as u64
}

/// Runs `cases` cases of `check`, which notes what each reached in the tally it is given,
/// then asserts every `(what, min)` of `expected` was reached at least `min` times.
fn run_counting<S: Strategy>(
    cases: u32,
    strategy: S,
    expected: &[(&str, usize)],
    check: impl Fn(S::Value, &mut Tally) -> Result<(), TestCaseError>,
) {
    let tally = RefCell::new(Tally::default());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&strategy, |value| check(value, &mut tally.borrow_mut())) {
        panic!("{e}");
    }
    let counts = tally.into_inner().0;
    println!("reached in {cases} cases: {counts:?}");
    for (what, min) in expected {
        let n = counts.get(*what).copied().unwrap_or(0);
        assert!(
            n >= *min,
            "{what:?} reached {n} times in {cases} cases (want {min}): {counts:?}"
        );
    }
}

/// How often each outcome was reached.
#[derive(Default)]
struct Tally(BTreeMap<String, usize>);

impl Tally {
    fn note(&mut self, what: impl Into<String>) {
        *self.0.entry(what.into()).or_default() += 1;
    }
}

fn reputations() -> impl Strategy<Value = Vec<i64>> {
    proptest::collection::vec(0i64..100, MEMBERS as usize)
}

fn keys() -> Vec<Keypair> {
    (0..KEYS).map(Keypair::dev).collect()
}

fn cooperative(reps: &[i64], revote: Revote, keys: &[Keypair]) -> State {
    let mut genesis = Genesis::dev();
    genesis.params.revote = revote;
    genesis.members = keys
        .iter()
        .take(MEMBERS as usize)
        .zip(reps)
        .enumerate()
        .map(|(i, (k, r))| pov_protocol::genesis::GenesisMember {
            public_key: k.address(),
            name: format!("m{i}"),
            reputation: Amount::from_int(*r),
            tokens: Amount::from_int(30),
            provenance: None,
        })
        .collect();
    genesis.state().expect("valid genesis")
}

/// Turns an op into a signed transaction with the sender's next nonce.
fn to_tx(state: &State, keys: &[Keypair], op: &Op) -> Transaction {
    let (sender, body) = match op {
        Op::Contribute { by } => (
            *by,
            TxBody::Contribute {
                kind: "work".into(),
                title: "t".into(),
                uri: "u".into(),
                content_hash: None,
            },
        ),
        Op::Evaluate { by, pick, value } => (
            *by,
            TxBody::Evaluate {
                contribution: contribution_of(state, pick),
                value: *value,
            },
        ),
        Op::Transfer { from, to, cents } => (
            *from,
            TxBody::Transfer {
                to: keys[*to as usize].address(),
                amount: Amount::from_mantissa(i128::from(*cents) * 10_000_000_000).expect("amount"),
            },
        ),
        Op::Admit { by, newcomer } => (
            *by,
            TxBody::Admit {
                member: keys[*newcomer as usize].address(),
                name: String::new(),
            },
        ),
    };
    let address = keys[sender as usize].address();
    let nonce = state
        .member_by_address(&address)
        .map_or(0, |(_, m)| m.nonce)
        + 1;
    Transaction::sign(
        &keys[sender as usize],
        state.chain_id(),
        state.genesis_hash(),
        nonce,
        body,
    )
}

/// R equals the sum of reputations, the supply the sum of tokens, nothing is ever
/// negative, transfers conserve tokens, a rejected transaction changes nothing, and the
/// events of an applied one account for every change of every balance.
#[test]
fn totals_and_balances_hold() {
    let ops = (reputations(), proptest::collection::vec(op(), 1..60));
    // About a third of what a run reaches on average, so that no seed fails by chance.
    let expected = [
        ("applied contribute", 70),
        ("applied evaluate", 150),
        ("applied transfer", 35),
        ("applied admit", 30),
        ("refused contribute", 10),
        ("refused evaluate", 150),
        ("refused transfer", 70),
        ("refused admit", 20),
        ("event fee", 70),
        ("event stake", 150),
        ("event redistribution", 35),
        ("event contributor-reward", 15),
        ("event referral", 3),
        ("event transfer", 70),
        ("event admission", 60),
    ];
    run_counting(64, ops, &expected, |(reps, ops), tally| {
        let keys = keys();
        let mut state = cooperative(&reps, Revote::RejectSame, &keys);
        for op in &ops {
            let tx = to_tx(&state, &keys, op);
            let before = state.clone();
            match state.apply_verified(&tx) {
                Ok(events) => {
                    tally.note(format!("applied {}", op.name()));
                    if matches!(op, Op::Transfer { .. }) {
                        prop_assert_eq!(state.total_tokens(), before.total_tokens());
                        prop_assert!(events.iter().all(|e| e.rule == Rule::Transfer));
                    }
                    for e in &events {
                        tally.note(format!("event {}", e.rule.name()));
                    }
                    check_events_account_for_changes(&before, &state, &events)?;
                }
                Err(_) => {
                    tally.note(format!("refused {}", op.name()));
                    prop_assert_eq!(state.to_bytes(), before.to_bytes());
                }
            }
            prop_assert_eq!(state.total_reputation(), sum(&state, Asset::Reputation));
            prop_assert_eq!(state.total_tokens(), sum(&state, Asset::Tokens));
            for m in state.members() {
                prop_assert!(!m.reputation.is_negative() && !m.tokens.is_negative());
            }
        }
        Ok(())
    });
}

/// Under the median rule nothing is minted for a contribution before at least half of
/// R has evaluated it, and the total minted never exceeds the top value's entry.
#[test]
fn median_mints_only_with_half_engaged_and_within_the_table() {
    let ops = (reputations(), proptest::collection::vec(op(), 1..80));
    run_counting(
        64,
        ops,
        &[("minted", 20), ("evaluated, nothing minted", 200)],
        |(reps, ops), tally| {
            let keys = keys();
            let mut state = cooperative(&reps, Revote::Reprocess, &keys);
            let (top_tokens, top_rep) = match &state.params().types["work"].reward {
                RewardRule::Median {
                    token_value,
                    reputation_value,
                } => (
                    *token_value.last().expect("entries"),
                    *reputation_value.last().expect("entries"),
                ),
                RewardRule::Threshold { .. } => unreachable!("dev genesis uses the median rule"),
            };
            for op in &ops {
                let before = state.clone();
                let tx = to_tx(&state, &keys, op);
                let Ok(events) = state.apply_verified(&tx) else {
                    continue;
                };
                let Op::Evaluate { by, pick, .. } = op else {
                    continue;
                };
                let contribution = &contribution_of(&before, pick);
                let (by, _) = state
                    .member_by_address(&keys[*by as usize].address())
                    .expect("an evaluator is a member");
                let minted = events
                    .iter()
                    .any(|e: &Event| e.rule == Rule::ContributorReward);
                if minted {
                    tally.note("minted");
                    // Engaged reputation in the snapshot: live evaluators (with this one) at
                    // their reputations before the evaluation.
                    let c = state.contribution(*contribution).expect("exists");
                    let engaged = Amount::sum(
                        c.evaluations
                            .iter()
                            .map(|e| before.member(e.member).expect("m").reputation),
                    )
                    .expect("sum");
                    prop_assert!(c.evaluations.iter().any(|e| e.member == by));
                    let twice = engaged.checked_add(engaged).expect("add");
                    prop_assert!(
                        twice >= before.total_reputation(),
                        "minted with {} engaged of R = {}",
                        engaged,
                        before.total_reputation()
                    );
                } else {
                    tally.note("evaluated, nothing minted");
                }
                for c in state.contributions() {
                    prop_assert!(c.minted_tokens <= top_tokens);
                    prop_assert!(c.minted_reputation <= top_rep);
                }
            }
            Ok(())
        },
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// The same transactions give the same state root, also after every transaction and
    /// the state itself go through their canonical bytes.
    #[test]
    fn same_transactions_same_root(reps in reputations(), ops in proptest::collection::vec(op(), 1..40)) {
        let keys = keys();
        let mut a = cooperative(&reps, Revote::RejectSame, &keys);
        let mut b = cooperative(&reps, Revote::RejectSame, &keys);
        for op in &ops {
            let tx = to_tx(&a, &keys, op);
            let decoded = Transaction::from_bytes(&tx.to_bytes()).expect("round trip");
            prop_assert_eq!(&decoded, &tx);
            let ra = a.apply(&tx).map_err(|e| e.to_string());
            let rb = b.apply(&decoded).map_err(|e| e.to_string());
            prop_assert_eq!(ra, rb);
        }
        prop_assert_eq!(a.state_root(), b.state_root());
        let bytes = a.to_bytes();
        let restored: State = pov_protocol::codec::decode_canonical(&bytes).expect("state decodes");
        prop_assert_eq!(restored.state_root(), a.state_root());
        prop_assert_eq!(restored, a);
    }

    /// Under reject-same, repeating the live value is refused and changes nothing; under
    /// reprocess it is processed again.
    #[test]
    fn same_value_revote_policy(reps in reputations(), by in 0..MEMBERS, value in 0i64..6) {
        let keys = keys();
        let mut strict = cooperative(&reps, Revote::RejectSame, &keys);
        strict.contribute(0, "work", "t", "u", None).expect("contribution");
        strict.evaluate(by, 0, value).expect("first evaluation");
        let before = strict.to_bytes();
        prop_assert_eq!(
            strict.evaluate(by, 0, value),
            Err(TxError::SameValueRevote { contribution: 0, value })
        );
        prop_assert_eq!(strict.to_bytes(), before);

        let mut lax = cooperative(&reps, Revote::Reprocess, &keys);
        lax.contribute(0, "work", "t", "u", None).expect("contribution");
        lax.evaluate(by, 0, value).expect("first evaluation");
        prop_assert!(lax.evaluate(by, 0, value).is_ok());
        prop_assert_eq!(lax.contribution(0).expect("c").evaluation_count, 2);
    }
}

#[test]
fn default_params_are_the_documented_ones() {
    let p = Params::default();
    let t = &p.types["work"];
    assert_eq!(t.stake.to_string(), "0.02");
    assert_eq!(t.distribution.to_string(), "0.08");
    assert_eq!(t.fee_exponent.to_string(), "0.5");
    assert_eq!(t.evaluation_set, vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(p.revote, Revote::RejectSame);
}
