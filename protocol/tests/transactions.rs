//! Signed transactions through `State::apply`: each rule of spec section 5, and that a
//! rejected transaction changes nothing.

use pov_crypto::{Address, Hash, Keypair};
use pov_protocol::genesis::Genesis;
use pov_protocol::{Admission, Amount, Asset, Rule, State, Transaction, TxBody, TxError};

fn a(s: &str) -> Amount {
    s.parse().expect("amount")
}

fn dev_state() -> (State, Vec<Keypair>) {
    let genesis = Genesis::dev();
    let keys = (0..4).map(Keypair::dev).collect();
    (genesis.state().expect("dev genesis is valid"), keys)
}

/// The dev genesis's hash, which its transactions sign.
fn dev_hash() -> Hash {
    Genesis::dev().hash()
}

fn contribute(kind: &str) -> TxBody {
    TxBody::Contribute {
        kind: kind.into(),
        title: "A logo".into(),
        uri: "https://example.org/logo.svg".into(),
        content_hash: None,
    }
}

/// Applies `tx` expecting a rejection, and checks the state did not move at all.
fn rejected(state: &mut State, tx: &Transaction) -> TxError {
    let before = state.to_bytes();
    let err = state.apply(tx).expect_err("must be rejected");
    assert_eq!(
        state.to_bytes(),
        before,
        "a rejected transaction changed the state"
    );
    err
}

#[test]
fn contribution_pays_its_fee_and_gets_an_id() {
    let (mut state, keys) = dev_state();
    let tx = Transaction::sign(&keys[1], "pov-devnet", &dev_hash(), 1, contribute("work"));
    let events = state.apply(&tx).expect("applies");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].rule, Rule::Fee);
    assert_eq!(events[0].amount, a("-1"));
    assert_eq!(events[0].contribution, Some(0));
    assert_eq!(state.member(1).expect("bob").tokens, a("99"));
    assert_eq!(state.member(1).expect("bob").nonce, 1);
    assert_eq!(state.contribution(0).expect("exists").contributor, 1);
    assert_eq!(state.total_tokens(), a("399"));
}

#[test]
fn envelope_errors_are_specific_and_change_nothing() {
    let (mut state, keys) = dev_state();
    let wrong_nonce = Transaction::sign(&keys[0], "pov-devnet", &dev_hash(), 2, contribute("work"));
    assert_eq!(
        rejected(&mut state, &wrong_nonce),
        TxError::Nonce {
            expected: 1,
            got: 2
        }
    );
    let wrong_chain = Transaction::sign(&keys[0], "other", &dev_hash(), 1, contribute("work"));
    assert!(matches!(
        rejected(&mut state, &wrong_chain),
        TxError::WrongChain { .. }
    ));
    // A chain id edited after signing breaks the signature too; the chain is named first.
    let mut moved = Transaction::sign(&keys[0], "pov-devnet", &dev_hash(), 1, contribute("work"));
    moved.chain_id = "other".into();
    assert_eq!(
        rejected(&mut state, &moved),
        TxError::WrongChain {
            expected: "pov-devnet".into(),
            got: "other".into()
        }
    );
    let mut forged = Transaction::sign(&keys[0], "pov-devnet", &dev_hash(), 1, contribute("work"));
    forged.nonce = 1;
    forged.body = contribute("work");
    forged.signature.0[0] ^= 1;
    assert!(matches!(
        rejected(&mut state, &forged),
        TxError::Signature(_)
    ));
    // Another cooperative that chose the same chain id (another devnet, say): its genesis
    // differs, and a transaction signed for it does not verify here.
    let mut other_genesis = Genesis::dev();
    other_genesis.genesis_time_ms += 1;
    assert_eq!(other_genesis.chain_id, state.chain_id());
    let elsewhere = Transaction::sign(
        &keys[0],
        "pov-devnet",
        &other_genesis.hash(),
        1,
        contribute("work"),
    );
    assert!(matches!(
        rejected(&mut state, &elsewhere),
        TxError::Signature(_)
    ));
    // ... and the same transaction signed for this genesis applies.
    assert_eq!(state.genesis_hash(), &dev_hash());
    let here = Transaction::sign(&keys[0], "pov-devnet", &dev_hash(), 1, contribute("work"));
    state.clone().apply(&here).expect("signed for this genesis");
    let stranger = Keypair::dev(77);
    let unknown = Transaction::sign(&stranger, "pov-devnet", &dev_hash(), 1, contribute("work"));
    assert_eq!(
        rejected(&mut state, &unknown),
        TxError::UnknownSender(stranger.address())
    );
    let kind = Transaction::sign(&keys[0], "pov-devnet", &dev_hash(), 1, contribute("poetry"));
    assert_eq!(
        rejected(&mut state, &kind),
        TxError::UnknownKind("poetry".into())
    );
    let long = Transaction::sign(
        &keys[0],
        "pov-devnet",
        &dev_hash(),
        1,
        TxBody::Contribute {
            kind: "work".into(),
            title: "x".repeat(201),
            uri: "u".into(),
            content_hash: None,
        },
    );
    assert!(matches!(
        rejected(&mut state, &long),
        TxError::TooLong { field: "title", .. }
    ));
    let empty = Transaction::sign(
        &keys[0],
        "pov-devnet",
        &dev_hash(),
        1,
        TxBody::Contribute {
            kind: "work".into(),
            title: "t".into(),
            uri: String::new(),
            content_hash: None,
        },
    );
    assert_eq!(rejected(&mut state, &empty), TxError::NoContent);
}

#[test]
fn transfers_move_tokens_and_conserve_supply() {
    let (mut state, keys) = dev_state();
    let supply = state.total_tokens();
    let tx = Transaction::sign(
        &keys[0],
        "pov-devnet",
        &dev_hash(),
        1,
        TxBody::Transfer {
            to: keys[2].address(),
            amount: a("12.5"),
        },
    );
    let events = state.apply(&tx).expect("applies");
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e.rule == Rule::Transfer && e.asset == Asset::Tokens));
    assert_eq!(state.member(0).expect("alice").tokens, a("87.5"));
    assert_eq!(state.member(2).expect("carol").tokens, a("112.5"));
    assert_eq!(state.total_tokens(), supply);

    let too_much = Transaction::sign(
        &keys[0],
        "pov-devnet",
        &dev_hash(),
        2,
        TxBody::Transfer {
            to: keys[2].address(),
            amount: a("1000"),
        },
    );
    assert!(matches!(
        rejected(&mut state, &too_much),
        TxError::InsufficientTokens { .. }
    ));
    let to_self = Transaction::sign(
        &keys[0],
        "pov-devnet",
        &dev_hash(),
        2,
        TxBody::Transfer {
            to: keys[0].address(),
            amount: a("1"),
        },
    );
    assert_eq!(rejected(&mut state, &to_self), TxError::SelfTransfer);
    let zero = Transaction::sign(
        &keys[0],
        "pov-devnet",
        &dev_hash(),
        2,
        TxBody::Transfer {
            to: keys[1].address(),
            amount: Amount::ZERO,
        },
    );
    assert!(matches!(
        rejected(&mut state, &zero),
        TxError::NonPositiveAmount(_)
    ));
    let nobody = Transaction::sign(
        &keys[0],
        "pov-devnet",
        &dev_hash(),
        2,
        TxBody::Transfer {
            to: Keypair::dev(55).address(),
            amount: a("1"),
        },
    );
    assert!(matches!(
        rejected(&mut state, &nobody),
        TxError::UnknownMember(_)
    ));
}

#[test]
fn admission_grants_and_referrals_pay_the_referrer() {
    let (mut state, keys) = dev_state();
    let newcomer = Keypair::dev(9);
    let admit = Transaction::sign(
        &keys[0],
        "pov-devnet",
        &dev_hash(),
        1,
        TxBody::Admit {
            member: newcomer.address(),
            name: String::new(),
        },
    );
    let events = state.apply(&admit).expect("admits");
    assert!(events.iter().all(|e| e.rule == Rule::Admission));
    let (id, m) = state
        .member_by_address(&newcomer.address())
        .expect("created");
    assert_eq!(m.referrer, Some(0));
    let grant = state.params().initial_grant;
    assert_eq!((m.reputation, m.tokens), (grant.reputation, grant.tokens));

    // Admitting twice, or a weak key, is refused.
    let again = Transaction::sign(
        &keys[0],
        "pov-devnet",
        &dev_hash(),
        2,
        TxBody::Admit {
            member: newcomer.address(),
            name: String::new(),
        },
    );
    assert_eq!(
        rejected(&mut state, &again),
        TxError::AlreadyMember(newcomer.address())
    );
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = Transaction::sign(
        &keys[0],
        "pov-devnet",
        &dev_hash(),
        2,
        TxBody::Admit {
            member: Address(identity),
            name: String::new(),
        },
    );
    assert!(matches!(rejected(&mut state, &weak), TxError::Key(_)));

    // The newcomer evaluates first, then bob agrees: the newcomer's redistribution gain
    // earns alice (its referrer) referral_fraction of it.
    state
        .contribute(3, "work", "t", "u", None)
        .expect("contribution");
    state.evaluate(id, 0, 3).expect("newcomer evaluates");
    let events = state.evaluate(1, 0, 3).expect("bob evaluates");
    let gain = events
        .iter()
        .find(|e| e.rule == Rule::Redistribution && e.member == id)
        .expect("newcomer redistributed")
        .amount;
    let referral = events
        .iter()
        .find(|e| e.rule == Rule::Referral && e.member == 0)
        .expect("alice referred")
        .amount;
    assert_eq!(
        referral,
        state
            .params()
            .referral_fraction
            .checked_mul(gain)
            .expect("mul")
    );
}

#[test]
fn a_member_without_reputation_cannot_admit() {
    let (mut state, keys) = dev_state();
    let zero = Keypair::dev(20);
    state
        .add_founding_member(zero.address(), "zero", Amount::ZERO, a("5"))
        .expect("member");
    let tx = Transaction::sign(
        &zero,
        "pov-devnet",
        &dev_hash(),
        1,
        TxBody::Admit {
            member: Keypair::dev(21).address(),
            name: String::new(),
        },
    );
    assert_eq!(rejected(&mut state, &tx), TxError::AdmitWithoutReputation);
    let _ = keys;
}

#[test]
fn open_admission_creates_unknown_senders_with_nothing() {
    let mut genesis = Genesis::dev();
    genesis.params.admission = Admission::Open;
    let mut state = genesis.state().expect("valid");
    state
        .contribute(0, "work", "t", "u", None)
        .expect("contribution");
    let stranger = Keypair::dev(42);
    let tx = Transaction::sign(
        &stranger,
        "pov-devnet",
        &genesis.hash(),
        1,
        TxBody::Evaluate {
            contribution: 0,
            value: 4,
        },
    );
    state.apply(&tx).expect("joins by evaluating");
    let (_, m) = state
        .member_by_address(&stranger.address())
        .expect("created");
    assert_eq!(
        (m.reputation, m.tokens, m.nonce),
        (Amount::ZERO, Amount::ZERO, 1)
    );
    // A failing first transaction creates nothing.
    let other = Keypair::dev(43);
    let bad = Transaction::sign(
        &other,
        "pov-devnet",
        &genesis.hash(),
        1,
        TxBody::Evaluate {
            contribution: 9,
            value: 1,
        },
    );
    assert_eq!(rejected(&mut state, &bad), TxError::UnknownContribution(9));
    assert!(state.member_by_address(&other.address()).is_none());
}

#[test]
fn evaluation_rejections() {
    let (mut state, _) = dev_state();
    state
        .contribute(0, "work", "t", "u", None)
        .expect("contribution");
    assert_eq!(
        state.evaluate(1, 5, 1),
        Err(TxError::UnknownContribution(5))
    );
    assert!(matches!(
        state.evaluate(1, 0, 9),
        Err(TxError::ValueNotInSet { value: 9, .. })
    ));
    state.evaluate(1, 0, 2).expect("first");
    let before = state.to_bytes();
    assert_eq!(
        state.evaluate(1, 0, 2),
        Err(TxError::SameValueRevote {
            contribution: 0,
            value: 2
        })
    );
    assert_eq!(state.to_bytes(), before);
    // A changed value is processed in full and replaces the live evaluation.
    let events = state.evaluate(1, 0, 3).expect("changed value");
    assert!(events.iter().any(|e| e.rule == Rule::Stake));
    let live = &state.contribution(0).expect("c").evaluations;
    assert_eq!(live.len(), 1);
    assert_eq!((live[0].member, live[0].value), (1, 3));
}

#[test]
fn minimum_reputation_to_evaluate_is_enforced() {
    let mut genesis = Genesis::dev();
    genesis.params.min_reputation_to_evaluate = a("15");
    let mut state = genesis.state().expect("valid");
    state
        .contribute(0, "work", "t", "u", None)
        .expect("contribution");
    assert!(matches!(
        state.evaluate(3, 0, 1),
        Err(TxError::ReputationTooLow { .. })
    ));
    state.evaluate(2, 0, 1).expect("carol has 20");
}

#[test]
fn median_rule_mints_once_half_the_reputation_agrees() {
    // Dev genesis: alice 40, bob 30, carol 20, dave 10 (R = 100); table for value 4 is
    // 10 tokens and 7 reputation.
    let (mut state, _) = dev_state();
    state
        .contribute(3, "work", "t", "u", None)
        .expect("contribution");
    let minted =
        |events: &[pov_protocol::Event]| events.iter().any(|e| e.rule == Rule::ContributorReward);
    // bob (30) and carol (20) give 4: at most 50 of ~100 engaged -> the median stays 0.
    assert!(!minted(&state.evaluate(1, 0, 4).expect("bob")));
    assert!(!minted(&state.evaluate(2, 0, 4).expect("carol")));
    assert_eq!(state.contribution(0).expect("c").median_max, 0);
    // alice (40) gives 4: now most reputation says 4.
    let events = state.evaluate(0, 0, 4).expect("alice");
    assert!(minted(&events));
    let c = state.contribution(0).expect("c");
    assert_eq!(c.median_max, 4);
    assert_eq!(c.minted_tokens, a("10"));
    assert_eq!(c.minted_reputation, a("7"));
    // A later fall never claws back.
    state.evaluate(0, 0, 0).expect("alice changes her mind");
    assert_eq!(state.contribution(0).expect("c").minted_tokens, a("10"));
}

#[test]
fn evaluator_fund_pays_first_time_evaluators_only() {
    let mut genesis = Genesis::dev();
    if let Some(t) = genesis.params.types.get_mut("work") {
        t.evaluator_fund = a("10");
    }
    let mut state = genesis.state().expect("valid");
    state
        .contribute(3, "work", "t", "u", None)
        .expect("contribution");
    let events = state.evaluate(0, 0, 3).expect("alice");
    // U = R = 100, t = 10 * 40 / 100 = 4.
    let paid: Vec<_> = events
        .iter()
        .filter(|e| e.rule == Rule::EvaluatorFund)
        .collect();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].amount, a("4"));
    assert_eq!(state.contribution(0).expect("c").fund, a("6"));
    let events = state.evaluate(0, 0, 2).expect("alice again");
    assert!(events.iter().all(|e| e.rule != Rule::EvaluatorFund));
}

#[test]
fn transactions_have_one_canonical_encoding() {
    let tx = Transaction::sign(
        &Keypair::dev(0),
        "pov-devnet",
        &dev_hash(),
        1,
        contribute("work"),
    );
    let bytes = tx.to_bytes();
    assert_eq!(Transaction::from_bytes(&bytes).expect("decodes"), tx);
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Transaction::from_bytes(&longer).is_err());
    assert!(Transaction::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    // JSON round trip too (the API accepts JSON).
    let json = serde_json::to_string(&tx).expect("json");
    assert_eq!(
        serde_json::from_str::<Transaction>(&json).expect("back"),
        tx
    );
}
