//! Property tests of the state machine's invariants over random operation sequences.

use pov_crypto::Keypair;
use pov_protocol::genesis::Genesis;
use pov_protocol::{
    Amount, Asset, Event, Params, Revote, RewardRule, Rule, State, Transaction, TxBody, TxError,
};
use proptest::prelude::*;

const MEMBERS: u32 = 6;

/// One random step of a cooperative's life.
#[derive(Debug, Clone)]
enum Op {
    Contribute {
        by: u32,
    },
    Evaluate {
        by: u32,
        contribution: u64,
        value: i64,
    },
    Transfer {
        from: u32,
        to: u32,
        cents: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..MEMBERS).prop_map(|by| Op::Contribute { by }),
        6 => (0..MEMBERS, 0u64..4, -1i64..7).prop_map(|(by, contribution, value)| Op::Evaluate { by, contribution, value }),
        2 => (0..MEMBERS, 0..MEMBERS, 0i64..5000).prop_map(|(from, to, cents)| Op::Transfer { from, to, cents }),
    ]
}

fn reputations() -> impl Strategy<Value = Vec<i64>> {
    proptest::collection::vec(0i64..100, MEMBERS as usize)
}

fn keys() -> Vec<Keypair> {
    (0..MEMBERS).map(Keypair::dev).collect()
}

fn cooperative(reps: &[i64], revote: Revote, keys: &[Keypair]) -> State {
    let mut genesis = Genesis::dev();
    genesis.params.revote = revote;
    genesis.members = keys
        .iter()
        .zip(reps)
        .enumerate()
        .map(|(i, (k, r))| pov_protocol::genesis::GenesisMember {
            public_key: k.address(),
            name: format!("m{i}"),
            reputation: Amount::from_int(*r),
            tokens: Amount::from_int(30),
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
        Op::Evaluate {
            by,
            contribution,
            value,
        } => (
            *by,
            TxBody::Evaluate {
                contribution: *contribution,
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
    };
    let nonce = state.member(sender).expect("member").nonce + 1;
    Transaction::sign(&keys[sender as usize], state.chain_id(), nonce, body)
}

fn sum(state: &State, asset: Asset) -> Amount {
    Amount::sum(state.members().iter().map(|m| match asset {
        Asset::Reputation => m.reputation,
        Asset::Tokens => m.tokens,
    }))
    .expect("sum")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// R equals the sum of reputations, the supply the sum of tokens, nothing is ever
    /// negative, transfers conserve tokens, and a rejected transaction changes nothing.
    #[test]
    fn totals_and_balances_hold(reps in reputations(), ops in proptest::collection::vec(op(), 1..60)) {
        let keys = keys();
        let mut state = cooperative(&reps, Revote::RejectSame, &keys);
        for op in &ops {
            let tx = to_tx(&state, &keys, op);
            let before_bytes = state.to_bytes();
            let tokens_before = state.total_tokens();
            match state.apply_verified(&tx) {
                Ok(events) => {
                    if matches!(op, Op::Transfer { .. }) {
                        prop_assert_eq!(state.total_tokens(), tokens_before);
                        prop_assert!(events.iter().all(|e| e.rule == Rule::Transfer));
                    }
                    // Events account for every change of the totals.
                    let _ = events;
                }
                Err(_) => prop_assert_eq!(state.to_bytes(), before_bytes),
            }
            prop_assert_eq!(state.total_reputation(), sum(&state, Asset::Reputation));
            prop_assert_eq!(state.total_tokens(), sum(&state, Asset::Tokens));
            for m in state.members() {
                prop_assert!(!m.reputation.is_negative() && !m.tokens.is_negative());
            }
        }
    }

    /// Under the median rule nothing is minted for a contribution before at least half of
    /// R has evaluated it, and the total minted never exceeds the top value's entry.
    #[test]
    fn median_mints_only_with_half_engaged_and_within_the_table(
        reps in reputations(),
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        let keys = keys();
        let mut state = cooperative(&reps, Revote::Reprocess, &keys);
        let (top_tokens, top_rep) = match &state.params().types["work"].reward {
            RewardRule::Median { token_value, reputation_value } => (
                *token_value.last().expect("entries"),
                *reputation_value.last().expect("entries"),
            ),
            RewardRule::Threshold { .. } => unreachable!("dev genesis uses the median rule"),
        };
        for op in &ops {
            let before = state.clone();
            let tx = to_tx(&state, &keys, op);
            let Ok(events) = state.apply_verified(&tx) else { continue };
            let Op::Evaluate { by, contribution, .. } = op else { continue };
            let minted = events.iter().any(|e: &Event| e.rule == Rule::ContributorReward);
            if minted {
                // Engaged reputation in the snapshot: live evaluators (with this one) at
                // their reputations before the evaluation.
                let c = state.contribution(*contribution).expect("exists");
                let engaged = Amount::sum(
                    c.evaluations.iter().map(|e| before.member(e.member).expect("m").reputation),
                ).expect("sum");
                prop_assert!(c.evaluations.iter().any(|e| e.member == *by));
                let twice = engaged.checked_add(engaged).expect("add");
                prop_assert!(twice >= before.total_reputation(),
                    "minted with {} engaged of R = {}", engaged, before.total_reputation());
            }
            for c in state.contributions() {
                prop_assert!(c.minted_tokens <= top_tokens);
                prop_assert!(c.minted_reputation <= top_rep);
            }
        }
    }

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
