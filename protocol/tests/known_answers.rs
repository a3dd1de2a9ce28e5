//! Known answers for every consensus byte form: the exact bytes (or their blake3) that two
//! nodes of one cooperative must agree on, written here as hex.
//!
//! Every other test computes its expected value with the same code it checks, so an
//! encoding change (a renamed domain tag, a reordered field, another Merkle tag, a new
//! postcard version) passes them all and splits a running cooperative between two builds.
//! These values were computed once and are fixed: a change to any of them is a change of
//! the protocol.
//!
//! **Changing an encoding on purpose.** When a change is meant (a new transaction field, a
//! new genesis table), this test fails and lists every value that moved, with its new hex.
//! Then, in the same commit:
//! 1. update those values here, and only those (a value that moved and was not meant to is
//!    the bug this file exists to catch);
//! 2. record the change in `docs/protocol.md`, section "Byte forms and protocol versions":
//!    what changed, which forms it moves, and that nodes of the old and the new build cannot
//!    share a chain (an existing cooperative needs a coordinated upgrade or a new genesis);
//! 3. if the change is to signed bytes, also bump their domain tag (`pov/tx/v1` ->
//!    `pov/tx/v2`), so an old signature can never verify under the new layout.
//!
//! The dev keys are derived from public seeds and ed25519 signing is deterministic
//! (RFC 8032), so signatures and whole transactions are fixed values too. The values were
//! checked against other implementations of the documented layouts (Python's blake3, the
//! `cryptography` package's Ed25519, postcard built by hand): `scripts/check_known_answers.py`,
//! which a deliberate change extends.

use pov_crypto::{Address, Hash, Keypair};
use pov_protocol::block::{
    precommit_sign_bytes, tx_root, vote_sign_bytes, BlockHeader, Certificate, CommitSig, PRECOMMIT,
    PREVOTE,
};
use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_protocol::{codec, merkle, Amount, State, Transaction, TxBody};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Collects every mismatch, so that a deliberate change lists all moved values at once.
#[derive(Default)]
struct Answers {
    mismatches: Vec<String>,
}

impl Answers {
    fn bytes(&mut self, name: &str, got: &[u8], want: &str) {
        let got = hex(got);
        if got != want {
            self.mismatches
                .push(format!("{name}:\n    want {want}\n    got  {got}"));
        }
    }

    fn hash(&mut self, name: &str, got: Hash, want: &str) {
        self.bytes(name, got.as_bytes(), want);
    }

    fn done(self) {
        assert!(
            self.mismatches.is_empty(),
            "consensus bytes changed (read the top of protocol/tests/known_answers.rs):\n{}",
            self.mismatches.join("\n")
        );
    }
}

const CHAIN: &str = "pov-devnet";

fn alice() -> Keypair {
    Keypair::dev(0)
}

fn bob() -> Keypair {
    Keypair::dev(1)
}

/// One transaction of each body, with every optional field set in at least one.
fn transactions() -> Vec<(&'static str, Transaction)> {
    vec![
        (
            "contribute with content hash",
            Transaction::sign(
                &alice(),
                CHAIN,
                1,
                TxBody::Contribute {
                    kind: "work".into(),
                    title: "Fix the roof".into(),
                    uri: "https://example.org/roof".into(),
                    content_hash: Some(pov_crypto::hash(b"the roof")),
                },
            ),
        ),
        (
            "contribute without content hash",
            Transaction::sign(
                &alice(),
                CHAIN,
                2,
                TxBody::Contribute {
                    kind: "work".into(),
                    title: "t".into(),
                    uri: String::new(),
                    content_hash: None,
                },
            ),
        ),
        (
            "evaluate",
            Transaction::sign(
                &bob(),
                CHAIN,
                300,
                TxBody::Evaluate {
                    contribution: 7,
                    value: -2,
                },
            ),
        ),
        (
            "transfer",
            Transaction::sign(
                &bob(),
                CHAIN,
                1,
                TxBody::Transfer {
                    to: alice().address(),
                    amount: "2.5".parse().expect("amount"),
                },
            ),
        ),
        (
            "admit",
            Transaction::sign(
                &alice(),
                CHAIN,
                3,
                TxBody::Admit {
                    member: Keypair::dev(9).address(),
                },
            ),
        ),
    ]
}

#[test]
fn dev_keys_are_the_published_ones() {
    let mut a = Answers::default();
    a.bytes(
        "dev key 0 (alice) address",
        alice().address().as_bytes(),
        "40791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e91",
    );
    a.bytes(
        "dev key 1 (bob) address",
        bob().address().as_bytes(),
        "6d1850e5c156724ba3a88d7b9ac1ca4179d902ebab4eceb542209bca62438bd4",
    );
    a.bytes(
        "dev validator key 0 address",
        dev_validator_key(0).address().as_bytes(),
        "be69e4ffa61f51419537fa398f252169efa3b7ff5f24757414840cb16a38339d",
    );
    a.done();
}

#[test]
fn amounts_encode_as_their_mantissa() {
    let mut a = Answers::default();
    for (text, want) in [
        ("0", "00"),
        ("1", "80c0a8ca9a3a"),
        ("-1", "ffbfa8ca9a3a"),
        ("0.000000000001", "02"),
        (
            "79228162514264337.593543950335",
            "feffffffffffffffffffffffff3f",
        ),
    ] {
        let amount: Amount = text.parse().expect("amount");
        a.bytes(&format!("amount {text}"), &codec::encode(&amount), want);
    }
    a.done();
}

#[test]
fn transaction_signing_bytes_bytes_and_hashes() {
    let want: [(&str, &str, &str); 5] = [
        (
            "706f762f74782f76310a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e91010004776f726b0c4669782074686520726f6f661868747470733a2f2f6578616d706c652e6f72672f726f6f660146dcb5516974927852412a2ddb0b788d78d31c769f7bd67d816f3e71a4d0b13c",
            "0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e91010004776f726b0c4669782074686520726f6f661868747470733a2f2f6578616d706c652e6f72672f726f6f660146dcb5516974927852412a2ddb0b788d78d31c769f7bd67d816f3e71a4d0b13c259e91e6c0412a54fb313dc1c15fbaabac40ea9b3f58be70265a95bb4e6c47d7a5acbbc6dc92301b3e68a9a1eae54b476bc77bbe96942007221fd3cddbe45008",
            "80ea1b76d518d3a3a77942dda2e355937fde17bd5b8b926496f44d5c28ba6725",
        ),
        (
            "706f762f74782f76310a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e91020004776f726b01740000",
            "0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e91020004776f726b01740000e2956faa4f984a378f9e4d13e36c12c3f47c7b8dbc4551f9ec459473e204910690a711509a602ed58dda9aabdea776409cfa14a1201d89bca77afc9f8e58b103",
            "4e71c5968a7da4a001fecf73ed41c618c742f06863116bd78aee47cb1a470f3f",
        ),
        (
            "706f762f74782f76310a706f762d6465766e65746d1850e5c156724ba3a88d7b9ac1ca4179d902ebab4eceb542209bca62438bd4ac02010703",
            "0a706f762d6465766e65746d1850e5c156724ba3a88d7b9ac1ca4179d902ebab4eceb542209bca62438bd4ac0201070334639d49a9214c7360e8d5d9710ffcd8f93fe3e05af42fdb635eeb8dc508a11b30b7f8aa01ab86968ac8d7fb324996eada0c9452a38e68dd3854147dd9d42f07",
            "7bdffa0ffd530bc88c97c939a6091109618f89bae299d0d2c2e7d55ac4a836cb",
        ),
        (
            "706f762f74782f76310a706f762d6465766e65746d1850e5c156724ba3a88d7b9ac1ca4179d902ebab4eceb542209bca62438bd4010240791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e9180a0e5b9c29101",
            "0a706f762d6465766e65746d1850e5c156724ba3a88d7b9ac1ca4179d902ebab4eceb542209bca62438bd4010240791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e9180a0e5b9c2910145a485b50b88eda51eed11938ddd34317aae179e9f9c4722bfd441ad21bcc81e4df18df3aa519a9cb189f27ea5bbd8194c154ecc3486d455e0eaf2a0fb3d8c0a",
            "64f83ae626d8699cbe6fedb29f58e6d02c683214e11eae72879fa9ed3568fe73",
        ),
        (
            "706f762f74782f76310a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e9103030d89ae8027f6296da728e50d3a625df22d463499f61e369688eedaae7cf334b2",
            "0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e9103030d89ae8027f6296da728e50d3a625df22d463499f61e369688eedaae7cf334b220912ee1bdf439b6487b15b4c6033db5fe6fd4bfe16f17f9429a9a700cd7f167a541e7c8966bedd21359840a6edd60fab3205796a0220b4c7a242be97419c109",
            "a4cabcfc466965278e5742026bdc9a2e99775d2db065d0fd0aca13cdd4d7f088",
        ),
    ];
    let mut a = Answers::default();
    for ((name, tx), (signing, bytes, hash)) in transactions().into_iter().zip(want) {
        a.bytes(
            &format!("{name}: signing bytes"),
            &tx.signing_bytes(),
            signing,
        );
        a.bytes(&format!("{name}: canonical bytes"), &tx.to_bytes(), bytes);
        a.hash(&format!("{name}: hash"), tx.hash(), hash);
        // The pinned bytes are a valid, canonical, verifying transaction.
        let decoded = Transaction::from_bytes(&tx.to_bytes()).expect("canonical");
        assert!(decoded.verify_signature().is_ok(), "{name}");
    }
    a.done();
}

#[test]
fn vote_signing_bytes() {
    let validator = dev_validator_key(0).address();
    let block = pov_crypto::hash(b"block");
    let mut a = Answers::default();
    a.bytes(
        "prevote for a block",
        &vote_sign_bytes(PREVOTE, 5, 1, Some(&block), &validator),
        "706f762f766f74652f76310100000000000000050000000101a98489a784bbc2177d6cb7324cc042f52f9d5104a6b675e4409b5f227dc68530be69e4ffa61f51419537fa398f252169efa3b7ff5f24757414840cb16a38339d",
    );
    a.bytes(
        "prevote nil",
        &vote_sign_bytes(PREVOTE, 5, 1, None, &validator),
        "706f762f766f74652f763101000000000000000500000001000000000000000000000000000000000000000000000000000000000000000000be69e4ffa61f51419537fa398f252169efa3b7ff5f24757414840cb16a38339d",
    );
    a.bytes(
        "precommit for a block",
        &precommit_sign_bytes(0x0102_0304_0506_0708, 0x0a0b_0c0d, &block, &validator),
        "706f762f766f74652f76310201020304050607080a0b0c0d01a98489a784bbc2177d6cb7324cc042f52f9d5104a6b675e4409b5f227dc68530be69e4ffa61f51419537fa398f252169efa3b7ff5f24757414840cb16a38339d",
    );
    a.bytes(
        "precommit nil",
        &vote_sign_bytes(PRECOMMIT, 5, 0, None, &validator),
        "706f762f766f74652f763102000000000000000500000000000000000000000000000000000000000000000000000000000000000000000000be69e4ffa61f51419537fa398f252169efa3b7ff5f24757414840cb16a38339d",
    );
    a.done();
}

fn header() -> BlockHeader {
    let genesis = Genesis::dev();
    BlockHeader {
        chain_id: CHAIN.into(),
        height: 1,
        prev_hash: genesis.hash(),
        time_ms: genesis.genesis_time_ms + 1000,
        proposer: dev_validator_key(0).address(),
        tx_root: pov_crypto::hash(b"tx root"),
        state_root: pov_crypto::hash(b"state root"),
        validator_set_hash: genesis.validator_set().expect("dev validator set").hash(),
    }
}

#[test]
fn header_hash_validator_set_and_certificate() {
    let mut a = Answers::default();
    let genesis = Genesis::dev();
    a.bytes(
        "dev validator set",
        &codec::encode(&genesis.validator_set().expect("dev validator set")),
        "01be69e4ffa61f51419537fa398f252169efa3b7ff5f24757414840cb16a38339d01",
    );
    a.hash(
        "dev validator set hash",
        genesis.validator_set().expect("dev validator set").hash(),
        "bc5951d11bb316e797d865954d9ccd9ad62db056313d23a752a9515896916f3a",
    );
    let header = header();
    a.bytes("header canonical bytes", &codec::encode(&header), "0a706f762d6465766e657401f15115003f19210cbf7e189970f6a6cbc0c4637c6a84971478ba5e7787d4aeede8d7eab6b733be69e4ffa61f51419537fa398f252169efa3b7ff5f24757414840cb16a38339d004912bedee14ba0de7f410644fefd01888393770224ed5346f383949b8bc8a991bbc552a06f36b86a561c63ce63ae6dd84beda2990742f8e4f51d5a296e2060bc5951d11bb316e797d865954d9ccd9ad62db056313d23a752a9515896916f3a");
    a.hash(
        "header hash",
        header.hash(),
        "4209ab41309dab9bf8620ab063578109c5e2316809751e5536a81d0f9e26444a",
    );
    let key = dev_validator_key(0);
    let certificate = Certificate {
        height: 1,
        round: 2,
        block_hash: header.hash(),
        signatures: vec![CommitSig {
            validator: key.address(),
            signature: key.sign(&precommit_sign_bytes(1, 2, &header.hash(), &key.address())),
        }],
    };
    certificate
        .verify(
            &genesis.validator_set().expect("dev validator set"),
            1,
            &header.hash(),
        )
        .expect("the pinned certificate verifies");
    a.bytes(
        "certificate canonical bytes",
        &codec::encode(&certificate),
        "01024209ab41309dab9bf8620ab063578109c5e2316809751e5536a81d0f9e26444a01be69e4ffa61f51419537fa398f252169efa3b7ff5f24757414840cb16a38339d84cda3e47e76e171117fbe76c40db03b12933148731d5d2d39b52b7a0e05234e681aa55bdea3d798d69d51d950ef87144f8f0a1721fbacbf4219d7a01d2a590d",
    );
    a.done();
}

/// A second genesis, as an operator would write it: two kinds (one under the threshold
/// rule), every optional parameter set, two validators, one with an address.
const OTHER_GENESIS: &str = r#"
chain_id = "bakery-coop"
genesis_time = 2026-03-01T12:30:00+01:00

[params]
revote = "reprocess"
referral_fraction = "0.1"
admission = "open"
min_reputation_to_evaluate = "0.5"

[params.initial_grant]
reputation = "2"
tokens = 0

[params.types.bread]
fee = "0.25"
stake = "0.05"
distribution = "0.1"
fee_exponent = "0.6"
evaluation_set = [0, 1]
evaluator_fund = "3"

[params.types.bread.reward.threshold]
threshold = "0.5"
token_factor = "10"
reputation_factor = "4"

[params.types.care]
fee = 1
stake = "0.02"
distribution = "0.08"
fee_exponent = "0.5"
evaluation_set = [0, 1, 2]

[params.types.care.reward.median]
token_value = [0, 1, "2.5"]
reputation_value = [0, "0.5", 1]

[[members]]
public_key = "PK0"
name = "ada"
reputation = 60
tokens = "12.75"

[[members]]
public_key = "PK1"
name = "ben"
reputation = "40.000000000001"
tokens = 0

[[validators]]
public_key = "VK0"
power = 3
addr = "/ip4/10.0.0.1/tcp/26656"

[[validators]]
public_key = "VK1"
power = 2
"#;

fn other_genesis() -> Genesis {
    let text = OTHER_GENESIS
        .replace("PK0", &Keypair::dev(0).address().to_string())
        .replace("PK1", &Keypair::dev(1).address().to_string())
        .replace("VK0", &dev_validator_key(0).address().to_string())
        .replace("VK1", &dev_validator_key(1).address().to_string());
    Genesis::from_toml(&text).expect("the second genesis is valid")
}

#[test]
fn genesis_hashes() {
    let mut a = Answers::default();
    a.hash(
        "dev genesis hash",
        Genesis::dev().hash(),
        "f15115003f19210cbf7e189970f6a6cbc0c4637c6a84971478ba5e7787d4aeed",
    );
    a.hash(
        "second genesis hash",
        other_genesis().hash(),
        "8c805a0fba5b1cb2472f3579d436db5dc6d25e0db484cb935f797fde05c0aa02",
    );
    a.hash(
        "dev genesis state root",
        Genesis::dev().state().expect("state").state_root(),
        "6568762538c6d87709e5778631cf86b984583df9d9945bcd884c61b2d7c492ab",
    );
    a.hash(
        "second genesis state root",
        other_genesis().state().expect("state").state_root(),
        "501eff7ef19b214d4aedc2bedfebeb6e1781d38735a2614ccec144a2aab0945e",
    );
    a.done();
}

#[test]
fn merkle_roots() {
    let leaves: Vec<Hash> = (0u8..5).map(|i| merkle::leaf_hash(&[i])).collect();
    let mut a = Answers::default();
    a.hash(
        "empty tree",
        merkle::root(&[]),
        "0000000000000000000000000000000000000000000000000000000000000000",
    );
    a.hash(
        "leaf of no bytes",
        merkle::leaf_hash(b""),
        "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213",
    );
    a.hash(
        "leaf of [0]",
        leaves[0],
        "1ad48f49627079d806b802c74f40c39d55fe1d78b3faf0f8017aec62cec42122",
    );
    a.hash(
        "one leaf",
        merkle::root(&leaves[..1]),
        "1ad48f49627079d806b802c74f40c39d55fe1d78b3faf0f8017aec62cec42122",
    );
    a.hash(
        "two leaves",
        merkle::root(&leaves[..2]),
        "a7c40517c3ba6ed1c930a04047fc7d941e0c6c86dff760457784186431014629",
    );
    a.hash(
        "three leaves (last promoted)",
        merkle::root(&leaves[..3]),
        "b8a32224c977fedb0f8860d7bb067da5e88821ebc3a518f29bf21afeee562d43",
    );
    a.hash(
        "four leaves",
        merkle::root(&leaves[..4]),
        "1ca3d0af7d87326223a1959c3a557cf4a73eb534e3d1aed29b1e61bcbf22a086",
    );
    a.hash(
        "five leaves",
        merkle::root(&leaves),
        "667f5c8d18ce7aa303848f8a0c385849aecfcb96b12e3dc8470435cffcfa3e84",
    );
    let proof = merkle::prove(&leaves, 4).expect("in range");
    a.bytes(
        "proof of leaf 4 of 5",
        &codec::encode(&proof),
        "0405011ca3d0af7d87326223a1959c3a557cf4a73eb534e3d1aed29b1e61bcbf22a086",
    );
    let txs: Vec<Transaction> = transactions().into_iter().map(|(_, tx)| tx).collect();
    a.hash(
        "tx root of no transactions",
        tx_root(&[]),
        "0000000000000000000000000000000000000000000000000000000000000000",
    );
    a.hash(
        "tx root of the five transactions",
        tx_root(&txs),
        "759adbf3fcfaa808cda17b50d05434c62faa134cca27420f7d7ca35f5a4a7b57",
    );
    a.done();
}

/// The dev cooperative after a fixed history: an admission, a contribution, evaluations
/// until the contributor is rewarded, a re-vote, a transfer, and a refused transaction.
fn scenario() -> State {
    let genesis = Genesis::dev();
    let mut state = genesis.state().expect("state");
    let carl = Keypair::dev(9);
    let mut nonces = [0u64; 10];
    let mut send = |state: &mut State, who: u32, body: TxBody| {
        nonces[who as usize] += 1;
        let tx = Transaction::sign(&Keypair::dev(who), CHAIN, nonces[who as usize], body);
        state.apply(&tx)
    };
    send(
        &mut state,
        0,
        TxBody::Admit {
            member: carl.address(),
        },
    )
    .expect("admit");
    send(
        &mut state,
        9,
        TxBody::Contribute {
            kind: "work".into(),
            title: "Fix the roof".into(),
            uri: "https://example.org/roof".into(),
            content_hash: None,
        },
    )
    .expect("contribute");
    for (who, value) in [(1, 4), (2, 3), (0, 4), (3, 5)] {
        send(
            &mut state,
            who,
            TxBody::Evaluate {
                contribution: 0,
                value,
            },
        )
        .expect("evaluate");
    }
    send(
        &mut state,
        2,
        TxBody::Evaluate {
            contribution: 0,
            value: 4,
        },
    )
    .expect("re-vote");
    send(
        &mut state,
        1,
        TxBody::Transfer {
            to: carl.address(),
            amount: "3.333333333333".parse().expect("amount"),
        },
    )
    .expect("transfer");
    let refused = send(
        &mut state,
        3,
        TxBody::Transfer {
            to: carl.address(),
            amount: Amount::from_int(1_000_000),
        },
    );
    assert!(refused.is_err(), "dave cannot pay a million");
    state
}

#[test]
fn state_root_after_a_fixed_scenario() {
    let state = scenario();
    let mut a = Answers::default();
    a.hash(
        "state root after the scenario",
        state.state_root(),
        "a61467255fa7854cbc72d3df021ee41144a1f30dc4aac6e00fadebdeefe006f5",
    );
    let carl: Address = Keypair::dev(9).address();
    let (_, member) = state.member_by_address(&carl).expect("carl");
    a.hash(
        "carl's state leaf",
        State::member_leaf(member),
        "66222337ac9f230133981dc2c8e21ac51650ea55d15975e4ab2c5cd6c83448f1",
    );
    a.bytes(
        "the whole state's canonical bytes (blake3)",
        pov_crypto::hash(&state.to_bytes()).as_bytes(),
        "03c9292d4ab87b11d43d9c7c46c3d671727efad679e1d4ffdbd2531eabcf4ab1",
    );
    a.done();
}
