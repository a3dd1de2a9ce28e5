//! Parameter changes decided by Proof-of-Value (spec section 11), through signed
//! transactions in blocks: submission rules, passing at exactly half of all reputation,
//! effect from the next block in pass order, expiry, events, provenance, replay; and the
//! v1.1 `Admit { member, name }`.

use pov_crypto::Keypair;
use pov_protocol::block::BlockOutcome;
use pov_protocol::genesis::{Genesis, GenesisMember};
use pov_protocol::governance::{ParamPath, ProposalOutcome, Provenance};
use pov_protocol::{
    Amount, BlockEvent, ChainEntry, ParamChange, ParamValue, Rule, State, Transaction, TxBody,
};
use proptest::prelude::*;

/// A cooperative driven block by block with signed transactions.
struct Chain {
    state: State,
    keys: Vec<Keypair>,
}

fn amount(text: &str) -> Amount {
    text.parse().expect("amount")
}

fn change(path: &str, value: &str) -> ParamChange {
    ParamChange::parse(path, value).expect("valid change")
}

impl Chain {
    /// Members with these reputations (100 tokens each), dev genesis otherwise.
    fn new(reputations: &[i64]) -> Chain {
        Chain::with(reputations, |_| {})
    }

    fn with(reputations: &[i64], edit: impl FnOnce(&mut Genesis)) -> Chain {
        let keys: Vec<Keypair> = (0..reputations.len() as u32).map(Keypair::dev).collect();
        let mut genesis = Genesis::dev();
        genesis.members = keys
            .iter()
            .zip(reputations)
            .enumerate()
            .map(|(i, (k, r))| GenesisMember {
                public_key: k.address(),
                name: format!("m{i}"),
                reputation: Amount::from_int(*r),
                tokens: Amount::from_int(100),
                provenance: None,
            })
            .collect();
        edit(&mut genesis);
        Chain {
            state: genesis.state().expect("valid genesis"),
            keys,
        }
    }

    fn tx(&self, member: usize, body: TxBody) -> Transaction {
        let nonce = self.state.members()[member].nonce + 1;
        Transaction::sign(
            &self.keys[member],
            self.state.chain_id(),
            self.state.genesis_hash(),
            nonce,
            body,
        )
    }

    /// Runs one block holding `bodies` (each signed by its member, in order).
    fn block(&mut self, bodies: Vec<(usize, TxBody)>) -> Result<BlockOutcome, String> {
        let mut scratch = self.state.clone();
        let height = scratch.height() + 1;
        // Sign against the scratch state so that nonces follow within the block.
        let mut txs = Vec::new();
        scratch.begin_block(height).map_err(|e| e.to_string())?;
        for (member, body) in bodies {
            let nonce = scratch.members()[member].nonce + 1;
            let tx = Transaction::sign(
                &self.keys[member],
                scratch.chain_id(),
                scratch.genesis_hash(),
                nonce,
                body,
            );
            scratch.apply(&tx).map_err(|e| e.to_string())?;
            txs.push(tx);
        }
        self.state
            .execute_txs(height, &txs, &|_| false)
            .map_err(|e| e.to_string())
    }

    fn one(&mut self, member: usize, body: TxBody) -> Result<BlockOutcome, String> {
        self.block(vec![(member, body)])
    }

    fn empty(&mut self) -> BlockOutcome {
        self.block(vec![]).expect("an empty block applies")
    }

    fn propose(&mut self, member: usize, changes: Vec<ParamChange>) -> Result<u64, String> {
        let id = self.state.contributions().len() as u64;
        self.one(member, propose_body(changes))?;
        Ok(id)
    }

    fn contribute(&mut self, member: usize) -> u64 {
        let id = self.state.contributions().len() as u64;
        self.one(member, contribute_body()).expect("contribute");
        id
    }

    fn evaluate(&mut self, member: usize, c: u64, value: i64) -> Result<BlockOutcome, String> {
        self.one(member, evaluate_body(c, value))
    }

    fn passed_at(&self, id: u64) -> Option<u64> {
        self.state.contribution(id)?.proposal.as_ref()?.passed_at
    }

    fn work(&self) -> &pov_protocol::TypeParams {
        &self.state.params().types["work"]
    }
}

fn propose_body(changes: Vec<ParamChange>) -> TxBody {
    TxBody::ProposeParams {
        title: "change the rules".into(),
        uri: "https://example.org/why".into(),
        changes,
    }
}

fn contribute_body() -> TxBody {
    TxBody::Contribute {
        kind: "work".into(),
        title: "work".into(),
        uri: "https://example.org/w".into(),
        content_hash: None,
    }
}

fn evaluate_body(contribution: u64, value: i64) -> TxBody {
    TxBody::Evaluate {
        contribution,
        value,
    }
}

fn param_changes(outcome: &BlockOutcome) -> Vec<(u64, String, Option<ParamValue>, ParamValue)> {
    outcome
        .start
        .iter()
        .filter_map(|e| match e {
            BlockEvent::ParamChange(p) => Some((
                p.proposal,
                p.change.path.clone(),
                p.change.old.clone(),
                p.change.new.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_proposal_is_a_governance_contribution_paying_the_governance_fee() {
    let mut chain = Chain::new(&[40, 30, 20, 10]);
    let before = chain.state.members()[1].tokens;
    let outcome = chain
        .one(1, propose_body(vec![change("types.work.fee", "3")]))
        .expect("proposal accepted");
    let p = &chain.state.contributions()[0];
    assert_eq!(p.kind, "governance");
    assert_eq!(p.height, 1);
    assert_eq!(p.params.evaluation_set, vec![0, 1]);
    assert_eq!(p.params.stake, chain.state.params().governance.stake);
    let proposal = p.proposal.as_ref().expect("a proposal");
    assert_eq!(proposal.expires_at, 1 + 604_800);
    assert_eq!(proposal.passed_at, None);
    let fee = Amount::from_int(10);
    assert_eq!(
        chain.state.members()[1].tokens,
        before.checked_sub(fee).expect("sub")
    );
    assert_eq!(outcome.events[0].len(), 1);
    assert_eq!(outcome.events[0][0].rule, Rule::Fee);
    // The reserved kind is not a contribution type.
    let err = chain
        .one(
            0,
            TxBody::Contribute {
                kind: "governance".into(),
                title: "t".into(),
                uri: "u".into(),
                content_hash: None,
            },
        )
        .expect_err("reserved");
    assert!(err.contains("reserved"), "{err}");
}

#[test]
fn bad_proposals_are_refused_at_submission_with_the_reason() {
    let mut chain = Chain::new(&[40, 30, 20, 10]);
    let cases: Vec<(Vec<ParamChange>, &str)> = vec![
        (vec![], "at least one change"),
        (
            vec![ParamChange {
                path: "types.work.colour".into(),
                value: ParamValue::Amount(Amount::ONE),
            }],
            "unknown parameter path",
        ),
        (
            vec![ParamChange {
                path: "types.design.fee".into(),
                value: ParamValue::Amount(Amount::ONE),
            }],
            "no contribution type \"design\"",
        ),
        (
            vec![ParamChange {
                path: "types.governance".into(),
                value: ParamValue::Type(Box::new(pov_protocol::TypeParams::default_median())),
            }],
            "reserved",
        ),
        (
            vec![ParamChange {
                path: "types.work.fee".into(),
                value: ParamValue::Flag(true),
            }],
            "takes an amount",
        ),
        (
            vec![ParamChange {
                path: "types.work..fee".into(),
                value: ParamValue::Amount(Amount::ONE),
            }],
            "unknown parameter path",
        ),
        (vec![change("types.work.stake", "1.5")], "between 0 and 1"),
        (
            vec![change("types.work.evaluation_set", "[0, 1, 2]")],
            "has 6 entries, the evaluation set has 3",
        ),
        (vec![change("governance.expiry_blocks", "0")], "at least 1"),
        (
            vec![
                change("revote", "reprocess"),
                change("revote", "reject-same"),
            ],
            "appears twice",
        ),
    ];
    for (changes, reason) in cases {
        let before = chain.state.clone();
        let err = chain.one(0, propose_body(changes)).expect_err(reason);
        assert!(err.contains(reason), "expected {reason:?} in {err:?}");
        assert_eq!(chain.state, before, "a refused proposal changes nothing");
    }
    // Several changes that are valid only together are accepted.
    chain
        .propose(
            0,
            vec![
                change("types.work.evaluation_set", "[0, 1, 2]"),
                change(
                    "types.work.reward",
                    r#"{"median": {"token_value": ["0", "1", "3"], "reputation_value": [0, 1, 2]}}"#,
                ),
            ],
        )
        .expect("valid as a whole");
}

#[test]
fn governance_can_be_switched_off_and_then_refuses_proposals() {
    let mut chain = Chain::new(&[40, 30, 20, 10]);
    let off = chain
        .propose(0, vec![change("governance.enabled", "false")])
        .expect("propose");
    chain.evaluate(0, off, 1).expect("alice accepts");
    chain.evaluate(1, off, 1).expect("bob accepts");
    assert!(chain.passed_at(off).is_some());
    chain.empty();
    assert!(!chain.state.params().governance.enabled);
    let err = chain
        .propose(0, vec![change("governance.enabled", "true")])
        .expect_err("disabled");
    assert!(err.contains("disabled"), "{err}");
}

#[test]
fn a_proposal_passes_at_exactly_half_and_not_one_evaluation_earlier() {
    // R = 100: 30 + 19 accept (49 < 50), then 1 more makes exactly half.
    let mut chain = Chain::new(&[30, 19, 1, 50]);
    let p = chain
        .propose(3, vec![change("types.work.fee", "2")])
        .expect("propose");
    chain.evaluate(0, p, 1).expect("accept");
    chain.evaluate(1, p, 1).expect("accept");
    assert_eq!(chain.passed_at(p), None, "49% is not enough");
    // Reputation moved (stakes were burned): compute the share the rule sees.
    let r = chain.state.total_reputation();
    let accepting = chain.state.members()[0]
        .reputation
        .checked_add(chain.state.members()[1].reputation)
        .and_then(|a| a.checked_add(chain.state.members()[2].reputation))
        .expect("sum");
    assert!(accepting.checked_mul(Amount::from_int(2)).expect("mul") >= r);
    let outcome = chain.evaluate(2, p, 1).expect("accept");
    let height = chain.state.height();
    assert_eq!(chain.passed_at(p), Some(height));
    // Passing changes no balance by itself: no contributor reward, and nothing took effect.
    assert!(outcome.events[0]
        .iter()
        .all(|e| e.rule != Rule::ContributorReward));
    assert_eq!(chain.work().fee, Amount::ONE);
    assert_eq!(chain.state.governance().pending, vec![p]);
    // The next block's start has something to do (a mempool may not skip it).
    assert!(!chain.state.start_is_empty(height + 1));
    chain.empty();
    assert!(chain.state.start_is_empty(height + 2));
}

#[test]
fn changes_take_effect_from_the_next_block_and_never_touch_running_contributions() {
    let mut chain = Chain::new(&[40, 30, 20, 10]);
    let running = chain.contribute(3);
    let p = chain
        .propose(
            3,
            vec![
                change("types.work.fee", "5"),
                change("types.work.stake", "0.1"),
            ],
        )
        .expect("propose");
    chain.evaluate(0, p, 1).expect("accept");
    // The passing evaluation and a contribution in the same block: the block keeps the old
    // rules to its end.
    let tokens = chain.state.members()[2].tokens;
    let outcome = chain
        .block(vec![(1, evaluate_body(p, 1)), (2, contribute_body())])
        .expect("block");
    assert!(outcome.start.is_empty());
    let same_block = chain.state.contributions().len() as u64 - 1;
    assert_eq!(chain.passed_at(p), Some(chain.state.height()));
    assert_eq!(
        chain.state.members()[2].tokens,
        tokens.checked_sub(Amount::ONE).expect("sub"),
        "old fee within the passing block"
    );
    assert_eq!(
        chain.state.contributions()[same_block as usize]
            .params
            .stake,
        amount("0.02")
    );

    // The next block starts by applying the changes, with an event per path.
    let outcome = chain.empty();
    let height = chain.state.height();
    assert_eq!(
        param_changes(&outcome),
        vec![
            (
                p,
                "types.work.fee".to_string(),
                Some(ParamValue::Amount(Amount::ONE)),
                ParamValue::Amount(Amount::from_int(5))
            ),
            (
                p,
                "types.work.stake".to_string(),
                Some(ParamValue::Amount(amount("0.02"))),
                ParamValue::Amount(amount("0.1"))
            ),
        ]
    );
    assert_eq!(chain.work().fee, Amount::from_int(5));
    let outcome_recorded = chain.state.contribution(p).and_then(|c| c.proposal.clone());
    assert!(matches!(
        outcome_recorded.and_then(|p| p.outcome),
        Some(ProposalOutcome::Applied { height: h, .. }) if h == height
    ));
    assert_eq!(
        chain
            .state
            .governance()
            .provenance_of(&ParamPath::parse("types.work.fee").expect("path")),
        Some(Provenance {
            proposal: p,
            height
        })
    );
    assert_eq!(
        chain
            .state
            .governance()
            .provenance_of(&ParamPath::parse("types.work.distribution").expect("path")),
        None,
        "untouched parameters come from the genesis"
    );

    // Running contributions keep their snapshot; new ones take the new values.
    assert_eq!(
        chain.state.contributions()[running as usize].params.stake,
        amount("0.02")
    );
    let tokens = chain.state.members()[1].tokens;
    let fresh = chain.contribute(1);
    assert_eq!(
        chain.state.members()[1].tokens,
        tokens.checked_sub(Amount::from_int(5)).expect("sub")
    );
    assert_eq!(
        chain.state.contributions()[fresh as usize].params.stake,
        amount("0.1")
    );
    // And the stake actually burned on the running one is the old rate: alone, with
    // reputation r of R, the stake is s * r * (1 - sqrt(r / R)).
    let r = chain.state.members()[0].reputation;
    let total = chain.state.total_reputation();
    let outcome = chain.evaluate(0, running, 3).expect("evaluate");
    let stake = outcome.events[0]
        .iter()
        .find(|e| e.rule == Rule::Stake)
        .expect("stake")
        .amount;
    let share = r
        .checked_div(total)
        .and_then(|s| s.pow(amount("0.5")))
        .expect("share");
    let expected = amount("0.02")
        .checked_mul(r)
        .and_then(|x| x.checked_mul(Amount::ONE.checked_sub(share)?))
        .expect("stake");
    assert_eq!(stake, Amount::ZERO.checked_sub(expected).expect("neg"));
}

/// Runs two proposals on `types.work.fee` (to 3 and to 7), passing them in `order`, in one
/// block or in two; returns the fee in force afterwards and the provenance's proposal.
fn two_on_one_path(order: [usize; 2], same_block: bool) -> (Amount, u64) {
    let mut chain = Chain::new(&[30, 30, 20, 20]);
    let a = chain
        .propose(2, vec![change("types.work.fee", "3")])
        .expect("a");
    let b = chain
        .propose(3, vec![change("types.work.fee", "7")])
        .expect("b");
    let ids = [a, b];
    // One accept of 30% each; the second accept (another 30%) passes.
    for id in ids {
        chain.evaluate(0, id, 1).expect("first accept");
    }
    if same_block {
        chain
            .block(vec![
                (1, evaluate_body(ids[order[0]], 1)),
                (1, evaluate_body(ids[order[1]], 1)),
            ])
            .expect("both pass");
        assert_eq!(
            chain.state.governance().pending,
            vec![ids[order[0]], ids[order[1]]]
        );
        let outcome = chain.empty();
        let changes = param_changes(&outcome);
        assert_eq!(changes.len(), 2);
        // The second one's old value is the first one's new value.
        assert_eq!(changes[1].2, Some(changes[0].3.clone()));
    } else {
        chain.evaluate(1, ids[order[0]], 1).expect("first passes");
        chain.evaluate(1, ids[order[1]], 1).expect("second passes");
        chain.empty();
    }
    let by = chain
        .state
        .governance()
        .provenance_of(&ParamPath::parse("types.work.fee").expect("path"))
        .expect("set by a proposal")
        .proposal;
    (chain.work().fee, by)
}

#[test]
fn two_proposals_on_one_path_the_later_pass_wins_in_either_order() {
    for same_block in [false, true] {
        assert_eq!(
            two_on_one_path([0, 1], same_block),
            (Amount::from_int(7), 1)
        );
        assert_eq!(
            two_on_one_path([1, 0], same_block),
            (Amount::from_int(3), 0)
        );
    }
}

#[test]
fn a_proposal_expires_after_h_plus_expiry_blocks() {
    let mut chain = Chain::with(&[30, 30, 40], |g| g.params.governance.expiry_blocks = 3);
    let p = chain
        .propose(2, vec![change("referral_fraction", "0.1")])
        .expect("propose");
    let h = chain.state.height();
    chain.empty();
    chain.empty();
    chain.evaluate(0, p, 1).expect("at H + 3 still accepted");
    assert_eq!(chain.state.height(), h + 3);
    let err = chain.evaluate(1, p, 1).expect_err("at H + 4 expired");
    assert!(err.contains("expired"), "{err}");
    assert_eq!(chain.passed_at(p), None);
    // The expiry was fixed at submission: raising expiry_blocks later does not revive it.
    let q = chain
        .propose(2, vec![change("governance.expiry_blocks", "100")])
        .expect("propose");
    chain.evaluate(2, q, 1).expect("accept");
    chain.evaluate(0, q, 1).expect("passes");
    chain.empty();
    assert_eq!(chain.state.params().governance.expiry_blocks, 100);
    assert!(chain.evaluate(1, p, 1).is_err());
}

#[test]
fn a_passed_proposal_that_no_longer_fits_is_void_and_changes_nothing() {
    let mut chain = Chain::new(&[20, 20, 60]);
    // Valid alone, each: a three-value set with its tables, and six-entry tables for the
    // six-value set. Together they make tables that do not match the set.
    let three = chain
        .propose(
            2,
            vec![
                change("types.work.evaluation_set", "[0, 1, 2]"),
                change(
                    "types.work.reward",
                    r#"{"median": {"token_value": [0, 1, 2], "reputation_value": [0, 1, 2]}}"#,
                ),
            ],
        )
        .expect("three");
    let six = chain
        .propose(
            2,
            vec![change(
                "types.work.reward",
                r#"{"median": {"token_value": [0, 1, 2, 3, 4, 5], "reputation_value": [0, 1, 2, 3, 4, 5]}}"#,
            )],
        )
        .expect("six");
    chain
        .block(vec![
            (2, evaluate_body(three, 1)),
            (2, evaluate_body(six, 1)),
        ])
        .expect("both pass");
    let before = chain.state.params().clone();
    let outcome = chain.empty();
    assert_eq!(chain.work().evaluation_set, vec![0, 1, 2]);
    assert_ne!(chain.state.params(), &before);
    let void: Vec<_> = outcome
        .start
        .iter()
        .filter_map(|e| match e {
            BlockEvent::ProposalVoid(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(void.len(), 1);
    assert_eq!(void[0].proposal, six);
    assert!(
        void[0].reason.contains("the evaluation set has 3"),
        "{}",
        void[0].reason
    );
    assert!(matches!(
        chain
            .state
            .contribution(six)
            .and_then(|c| c.proposal.clone())
            .and_then(|p| p.outcome),
        Some(ProposalOutcome::Void { .. })
    ));
}

#[test]
fn whole_tables_replace_and_add_and_provenance_follows() {
    let mut chain = Chain::new(&[60, 40]);
    let mut design = pov_protocol::TypeParams::default_median();
    design.fee = Amount::from_int(2);
    let p = chain
        .propose(
            0,
            vec![ParamChange {
                path: "types.design".into(),
                value: ParamValue::Type(Box::new(design.clone())),
            }],
        )
        .expect("propose");
    chain.evaluate(0, p, 1).expect("passes");
    let outcome = chain.empty();
    assert_eq!(
        param_changes(&outcome)[0].2,
        None,
        "a new type had no old value"
    );
    assert_eq!(chain.state.params().types.get("design"), Some(&design));
    let set_at = chain.state.height();
    let q = chain
        .propose(0, vec![change("types.design.fee", "4")])
        .expect("propose");
    chain.evaluate(0, q, 1).expect("passes");
    chain.empty();
    let gov = chain.state.governance();
    let of = |path: &str| gov.provenance_of(&ParamPath::parse(path).expect("path"));
    assert_eq!(of("types.design.fee").map(|p| p.proposal), Some(q));
    assert_eq!(
        of("types.design.stake"),
        Some(Provenance {
            proposal: p,
            height: set_at
        })
    );
    // Setting the whole type again supersedes the field's own entry.
    let r = chain
        .propose(
            0,
            vec![ParamChange {
                path: "types.design".into(),
                value: ParamValue::Type(Box::new(design)),
            }],
        )
        .expect("propose");
    chain.evaluate(0, r, 1).expect("passes");
    chain.empty();
    let gov = chain.state.governance();
    let of = |path: &str| gov.provenance_of(&ParamPath::parse(path).expect("path"));
    assert_eq!(of("types.design.fee").map(|p| p.proposal), Some(r));
    assert!(!gov.provenance.contains_key("types.design.fee"));
}

#[test]
fn provenance_and_height_are_in_the_state_root_and_its_proof() {
    let mut chain = Chain::new(&[60, 40]);
    let root_before = chain.state.state_root();
    chain.empty();
    assert_ne!(
        chain.state.state_root(),
        root_before,
        "the height is in the root"
    );
    let p = chain
        .propose(0, vec![change("min_reputation_to_evaluate", "1")])
        .expect("propose");
    chain.evaluate(0, p, 1).expect("passes");
    chain.empty();
    let entry = chain.state.chain_entry();
    assert_eq!(entry.height, chain.state.height());
    assert_eq!(entry.governance.provenance.len(), 1);
    let bytes = pov_protocol::codec::encode(&entry);
    let proof = chain.state.prove_chain_entry().expect("proof");
    assert!(pov_protocol::merkle::verify(
        &proof,
        State::chain_leaf_bytes(&bytes),
        &chain.state.state_root()
    ));
    // Another provenance would not verify.
    let mut forged: ChainEntry = pov_protocol::codec::decode_canonical(&bytes).expect("decodes");
    forged.governance.provenance.clear();
    assert!(!pov_protocol::merkle::verify(
        &proof,
        State::chain_leaf_bytes(&pov_protocol::codec::encode(&forged)),
        &chain.state.state_root()
    ));
}

#[test]
fn admit_carries_a_unique_bounded_name() {
    let mut chain = Chain::new(&[60, 40]);
    let newcomer = Keypair::dev(50).address();
    chain
        .one(
            0,
            TxBody::Admit {
                member: newcomer,
                name: "zoë".into(),
            },
        )
        .expect("admit");
    let (id, m) = chain.state.member_by_name("zoë").expect("by name");
    assert_eq!(m.address, newcomer);
    assert_eq!(id, 2);
    let cases = [
        ("zoë", "already taken"),
        ("m0", "already taken"),
        (&"x".repeat(65)[..], "more than the 64 allowed"),
        ("bad\nname", "control characters"),
        (&"ab".repeat(32)[..], "read as an address"),
        (" padded", "whitespace"),
    ];
    for (i, (name, reason)) in cases.iter().enumerate() {
        let before = chain.state.clone();
        let err = chain
            .one(
                0,
                TxBody::Admit {
                    member: Keypair::dev(60 + i as u32).address(),
                    name: (*name).into(),
                },
            )
            .expect_err(reason);
        assert!(err.contains(reason), "{name:?}: {err}");
        assert_eq!(chain.state, before);
    }
    // 64 bytes exactly is fine, and so are any number of empty names.
    for (i, name) in ["é".repeat(32), String::new(), String::new()]
        .iter()
        .enumerate()
    {
        chain
            .one(
                0,
                TxBody::Admit {
                    member: Keypair::dev(70 + i as u32).address(),
                    name: name.clone(),
                },
            )
            .expect("admit");
    }
    // The name index survives encoding (it is rebuilt on decode).
    let decoded: State =
        pov_protocol::codec::decode_canonical(&chain.state.to_bytes()).expect("decodes");
    assert_eq!(decoded.member_by_name("zoë").map(|(i, _)| i), Some(2));
}

#[test]
fn a_failed_admit_releases_its_name() {
    // A grant that overflows the total reputation: the admit fails after the account (and
    // its name) were created, and the rollback must free the name again.
    let mut chain = Chain::with(&[1, 1], |g| {
        g.members[0].reputation = amount("70000000000000000");
        g.params.initial_grant.reputation = amount("10000000000000000");
    });
    let admit = |name: &str, who| TxBody::Admit {
        member: Keypair::dev(who).address(),
        name: name.into(),
    };
    let before = chain.state.clone();
    let err = chain.one(0, admit("kim", 80)).expect_err("overflow");
    assert!(err.contains("overflow"), "{err}");
    assert_eq!(chain.state, before);
    let tx = chain.tx(0, admit("kim", 80));
    assert!(chain.state.clone().apply(&tx).is_err());
    assert!(chain.state.member_by_name("kim").is_none(), "name released");
    // Journal-level: apply on the state itself (not a block's copy) and check the index.
    let mut state = chain.state.clone();
    assert!(state.apply(&tx).is_err());
    assert!(state.member_by_name("kim").is_none());
    assert_eq!(state, chain.state);
}

#[test]
fn texts_of_values_round_trip() {
    for (path, text) in [
        ("types.work.fee", "0.5"),
        ("governance.expiry_blocks", "60"),
        ("governance.enabled", "false"),
        ("revote", "reprocess"),
        ("admission", "open"),
        ("types.work.evaluation_set", "[0,1,2]"),
    ] {
        let c = change(path, text);
        let again = ParamChange::parse(path, &c.value.to_string()).expect("reparses");
        assert_eq!(again, c, "{path}");
    }
    let err = ParamChange::parse("revote", "maybe").expect_err("bad word");
    assert!(
        err.to_string().contains("reject-same or reprocess"),
        "{err}"
    );
    let err = ParamChange::parse("types.work.fee", "-1").expect_err("negative");
    assert!(err.to_string().contains("negative"), "{err}");
}

// ---- property tests ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A proposal passes at the first evaluation at whose snapshot (reputations just before
    /// it) the accepting members, this one included, hold at least half of `R`, and never
    /// before; whatever the reputations, the order, and rejections in between.
    #[test]
    fn passes_exactly_when_half_of_all_reputation_accepts(
        reps in proptest::collection::vec(1i64..100, 3..7),
        votes in proptest::collection::vec((0usize..7, 0i64..2), 1..20),
    ) {
        let n = reps.len();
        let mut chain = Chain::with(&reps, |g| g.params.revote = pov_protocol::Revote::Reprocess);
        let p = chain.propose(0, vec![change("types.work.fee", "2")]).expect("propose");
        let mut passed_expected = None;
        for (who, value) in votes {
            let who = who % n;
            // The oracle: live values after this evaluation, weighted by current reputation.
            let c = chain.state.contribution(p).expect("proposal").clone();
            let mut accept = Amount::ZERO;
            for (i, m) in chain.state.members().iter().enumerate() {
                let live = if i == who {
                    Some(value)
                } else {
                    c.evaluations.iter().find(|e| e.member as usize == i).map(|e| e.value)
                };
                if live == Some(1) {
                    accept = accept.checked_add(m.reputation).expect("sum");
                }
            }
            let half_reached =
                accept.checked_mul(Amount::from_int(2)).expect("mul") >= chain.state.total_reputation();
            chain.evaluate(who, p, value).expect("evaluation applies");
            if passed_expected.is_none() && half_reached {
                passed_expected = Some(chain.state.height());
            }
            prop_assert_eq!(chain.passed_at(p), passed_expected);
        }
    }

    /// A change applies to contributions submitted after it took effect, never to running
    /// ones, whatever the value.
    #[test]
    fn changes_apply_only_to_contributions_submitted_after(
        stake in 0u32..=100,
        before in 1usize..4,
        after in 1usize..4,
    ) {
        let mut chain = Chain::new(&[60, 40]);
        let new_stake = Amount::from_int(i64::from(stake)).checked_div(Amount::from_int(100)).expect("div");
        let old = chain.work().clone();
        let running: Vec<u64> = (0..before).map(|_| chain.contribute(1)).collect();
        let p = chain.propose(0, vec![change("types.work.stake", &new_stake.to_string())]).expect("propose");
        chain.evaluate(0, p, 1).expect("passes");
        let same_block: Vec<u64> = (0..after).map(|_| chain.contribute(1)).collect();
        prop_assert!(chain.passed_at(p).is_some());
        // The pass happened two blocks ago for the first of these: the change applied at
        // the start of the block after the passing one.
        for id in running {
            prop_assert_eq!(&chain.state.contributions()[id as usize].params, &old);
        }
        let first_after = same_block[0];
        prop_assert_eq!(chain.state.contributions()[first_after as usize].params.stake, new_stake);
        prop_assert_eq!(chain.work().stake, new_stake);
    }

    /// Of two proposals on one path, the one that passes later wins, in either order and
    /// whether they pass in one block or two.
    #[test]
    fn two_proposals_on_one_path_either_order(first_b in any::<bool>(), same_block in any::<bool>()) {
        let order = if first_b { [1, 0] } else { [0, 1] };
        let (fee, by) = two_on_one_path(order, same_block);
        let winner = order[1];
        prop_assert_eq!(fee, Amount::from_int([3, 7][winner]));
        prop_assert_eq!(by, winner as u64);
    }

    /// Evaluations are accepted up to and including `H + expiry_blocks` and refused after,
    /// for any expiry and any gap.
    #[test]
    fn expiry_is_inclusive(expiry in 1u64..8, gap in 0u64..12) {
        let mut chain = Chain::with(&[30, 30, 40], |g| g.params.governance.expiry_blocks = expiry);
        let p = chain.propose(2, vec![change("types.work.fee", "2")]).expect("propose");
        let h = chain.state.height();
        for _ in 0..gap {
            chain.empty();
        }
        let at = chain.state.height() + 1;
        let result = chain.evaluate(0, p, 1);
        prop_assert_eq!(result.is_ok(), at <= h + expiry, "height {} expiry {}", at, h + expiry);
    }

    /// A proposal whose result fails genesis validation is refused and changes nothing.
    #[test]
    fn invalid_results_are_refused(pick in 0usize..6, big in 2i64..1000) {
        let mut chain = Chain::new(&[60, 40]);
        let bad = match pick {
            0 => change("types.work.stake", &big.to_string()),
            1 => change("types.work.distribution", &big.to_string()),
            2 => change("referral_fraction", &big.to_string()),
            3 => change("types.work.fee_exponent", "0"),
            4 => change("types.work.evaluation_set", &format!("[{big}, 0]")),
            _ => change("governance.stake", &big.to_string()),
        };
        let before = chain.state.clone();
        let err = chain.one(0, propose_body(vec![bad])).expect_err("refused");
        prop_assert!(err.contains("would be invalid"), "{}", err);
        prop_assert_eq!(&chain.state, &before);
    }

    /// Replaying the same blocks from genesis, or decoding the state, gives the same root at
    /// every height, with governance in the history.
    #[test]
    fn replay_from_genesis_gives_the_same_roots(
        script in proptest::collection::vec((0usize..4, 0u8..5, 0i64..2), 5..30),
    ) {
        let mut chain = Chain::with(&[40, 30, 20, 10], |g| g.params.governance.expiry_blocks = 5);
        let genesis_state = chain.state.clone();
        let mut blocks = Vec::new();
        let mut roots = Vec::new();
        for (who, what, value) in script {
            let ids = chain.state.contributions().len() as u64;
            let body = match what {
                0 => propose_body(vec![change("types.work.fee", &format!("{}", value + 1))]),
                1 => propose_body(vec![change("min_reputation_to_evaluate", &format!("{}", value * 5))]),
                2 if ids > 0 => evaluate_body(value as u64 % ids, value),
                3 if ids > 0 => evaluate_body(ids - 1, 1),
                _ => contribute_body(),
            };
            let tx = chain.tx(who, body);
            let mut probe = chain.state.clone();
            let height = probe.height() + 1;
            let txs = match probe.execute_txs(height, std::slice::from_ref(&tx), &|_| false) {
                Ok(_) => vec![tx],
                Err(_) => vec![],
            };
            chain.state.execute_txs(height, &txs, &|_| false).expect("block");
            blocks.push(txs);
            roots.push(chain.state.state_root());
        }
        let mut replay = genesis_state;
        for (i, txs) in blocks.iter().enumerate() {
            replay.execute_txs(i as u64 + 1, txs, &|_| false).expect("replays");
            prop_assert_eq!(replay.state_root(), roots[i]);
        }
        prop_assert_eq!(&replay, &chain.state);
        let decoded: State = pov_protocol::codec::decode_canonical(&chain.state.to_bytes()).expect("decodes");
        prop_assert_eq!(decoded.state_root(), chain.state.state_root());
    }
}
