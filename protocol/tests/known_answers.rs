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

use pov_crypto::{Address, Hash, Keypair, Salt};
use pov_protocol::block::{
    precommit_sign_bytes, tx_root, vote_sign_bytes, BlockHeader, Certificate, CommitSig, PRECOMMIT,
    PREVOTE,
};
use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_protocol::{codec, merkle, sealed, Amount, ParamChange, State, Transaction, TxBody};

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

/// The genesis hash the pinned transactions sign: a fixed value (blake3 of `genesis`), so
/// that a change to the genesis form moves the genesis values below and not these.
fn signed_genesis() -> Hash {
    pov_crypto::hash(b"genesis")
}

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
                &signed_genesis(),
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
                &signed_genesis(),
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
                &signed_genesis(),
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
                &signed_genesis(),
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
                &signed_genesis(),
                3,
                TxBody::Admit {
                    member: Keypair::dev(9).address(),
                    name: "carl".into(),
                },
            ),
        ),
        (
            "propose-params",
            Transaction::sign(
                &bob(),
                CHAIN,
                &signed_genesis(),
                4,
                TxBody::ProposeParams {
                    title: "Cheaper work".into(),
                    uri: String::new(),
                    changes: vec![
                        ParamChange::parse("types.work.fee", "0.5").expect("change"),
                        ParamChange::parse("governance.enabled", "false").expect("change"),
                    ],
                },
            ),
        ),
        (
            "commit",
            Transaction::sign(
                &alice(),
                CHAIN,
                &signed_genesis(),
                5,
                TxBody::Commit {
                    contribution: 7,
                    commitment: commitment_answer(),
                },
            ),
        ),
        (
            "reveal",
            Transaction::sign(
                &alice(),
                CHAIN,
                &signed_genesis(),
                6,
                TxBody::Reveal {
                    contribution: 7,
                    value: 3,
                    salt: salt(),
                },
            ),
        ),
    ]
}

/// The salt of the pinned commitment: bytes 0, 1, ..., 31.
fn salt() -> Salt {
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = i as u8;
    }
    Salt(bytes)
}

/// Alice's commitment to value 3 on contribution 7 with [`salt`] (spec section 12).
fn commitment_answer() -> Hash {
    sealed::commitment(CHAIN, 7, &alice().address(), 3, &salt())
}

#[test]
fn sealed_commitment() {
    let mut a = Answers::default();
    a.hash(
        "commitment to 3 on contribution 7 by alice",
        commitment_answer(),
        "18fa7224af1e4b76eff2a118cdab64a9679fd99c6600e6c7e9e65fd4e821bdfd",
    );
    a.hash(
        "the same on another chain",
        sealed::commitment("bakery-coop", 7, &alice().address(), 3, &salt()),
        "96c58f258fd4f0db4b5e7c3813fb261b98a137a98594b698527a28cf45e24344",
    );
    a.done();
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
    let want: [(&str, &str, &str); 8] = [
        (
            "706f762f74782f7633df840a304e772ef4cdfb23293d8adadde8d43567bde4b0190c3d954f696f0b0a0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e91010004776f726b0c4669782074686520726f6f661868747470733a2f2f6578616d706c652e6f72672f726f6f660146dcb5516974927852412a2ddb0b788d78d31c769f7bd67d816f3e71a4d0b13c",
            "0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e91010004776f726b0c4669782074686520726f6f661868747470733a2f2f6578616d706c652e6f72672f726f6f660146dcb5516974927852412a2ddb0b788d78d31c769f7bd67d816f3e71a4d0b13c66f7839962b08596fe58739abe4444f9d1cfcf97c5a025995fb4e157da7005d849cb0c6d81bf70366ab686baab23684560c4e0fb0f6a50da124eb43edd8c020f",
            "614cc2eb86ef6ed29b36dd271350a1aa4ed6fdcd0448e2ca15c903e19b44ae4d",
        ),
        (
            "706f762f74782f7633df840a304e772ef4cdfb23293d8adadde8d43567bde4b0190c3d954f696f0b0a0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e91020004776f726b01740000",
            "0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e91020004776f726b017400001eea27f6eb98f8009f727ed34702c828d5af0d99c3775f38aa5a6c1cbaa35413e4241f6b07a8dfaa903b160dcca9001d92772b763df840d4a45d338e5f2b2709",
            "003cd9c4a952996bde24aeca927e2be1705dc34735c1e716a699f7c685640009",
        ),
        (
            "706f762f74782f7633df840a304e772ef4cdfb23293d8adadde8d43567bde4b0190c3d954f696f0b0a0a706f762d6465766e65746d1850e5c156724ba3a88d7b9ac1ca4179d902ebab4eceb542209bca62438bd4ac02010703",
            "0a706f762d6465766e65746d1850e5c156724ba3a88d7b9ac1ca4179d902ebab4eceb542209bca62438bd4ac020107037737555d6b5fdd4620b61dbde1ca5e50855cb47b577e22c7199b8c4670306dedca51fdae5bb329a5af9f032f36aad1d50945cb8a040be4235242f8e58b1c4307",
            "325d2c7cbc8db7d33b8dc03f92a7a59250b95e40b267041075b34bd0b29326d2",
        ),
        (
            "706f762f74782f7633df840a304e772ef4cdfb23293d8adadde8d43567bde4b0190c3d954f696f0b0a0a706f762d6465766e65746d1850e5c156724ba3a88d7b9ac1ca4179d902ebab4eceb542209bca62438bd4010240791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e9180a0e5b9c29101",
            "0a706f762d6465766e65746d1850e5c156724ba3a88d7b9ac1ca4179d902ebab4eceb542209bca62438bd4010240791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e9180a0e5b9c291010d13efc13e6761c9ec22ebc8d90adb09ceda58ba998a1f001d07a8d1a2d6f0fbd6073969fc8bb1ebc751214a9dd474c06e18185fa3419b87f854f4c4da8bb401",
            "2ef3314a40be14c47472c4ce477724ba9e1ea74c81820c7aa2eb165eab8a9a38",
        ),
        (
            "706f762f74782f7633df840a304e772ef4cdfb23293d8adadde8d43567bde4b0190c3d954f696f0b0a0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e9103030d89ae8027f6296da728e50d3a625df22d463499f61e369688eedaae7cf334b2046361726c",
            "0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e9103030d89ae8027f6296da728e50d3a625df22d463499f61e369688eedaae7cf334b2046361726c125d19dd8de34ad3eabe5faf2e0ebdd051ea29588e68381d7f1684af40da3abf030ed4b1af5f0e3cbfdd35ddbbb21d6b087b0650fdb29427143208da4a298f0a",
            "66af6ac3f0ec9e91e4f0d535bed246961abda9e97a15b2ede4292ba3ce7bb9b1",
        ),
        ("706f762f74782f7633df840a304e772ef4cdfb23293d8adadde8d43567bde4b0190c3d954f696f0b0a0a706f762d6465766e65746d1850e5c156724ba3a88d7b9ac1ca4179d902ebab4eceb542209bca62438bd404040c4368656170657220776f726b00020e74797065732e776f726b2e6665650080a094a58d1d12676f7665726e616e63652e656e61626c65640200", "0a706f762d6465766e65746d1850e5c156724ba3a88d7b9ac1ca4179d902ebab4eceb542209bca62438bd404040c4368656170657220776f726b00020e74797065732e776f726b2e6665650080a094a58d1d12676f7665726e616e63652e656e61626c656402005013ff160996a59fbf9bcdeeffdcb0473e8121f150610d711b850e18f7d4698337ad5149f31f9b8b1286a863771a7aa530ee77a564873480cb233a7f00b48d0b", "0e8593da293dbad25f8fcce1755d8e501eac19ddc855f7b1b8f18be49c968ae0"),
        (
            "706f762f74782f7633df840a304e772ef4cdfb23293d8adadde8d43567bde4b0190c3d954f696f0b0a0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e9105050718fa7224af1e4b76eff2a118cdab64a9679fd99c6600e6c7e9e65fd4e821bdfd",
            "0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e9105050718fa7224af1e4b76eff2a118cdab64a9679fd99c6600e6c7e9e65fd4e821bdfd5f47ade3fa925d0ea358f0ad2bac3a4489ba7740a5e5898b61f45b1c2e8c29da7829c2cf54070481be5c81eef87b3562f540d09214d734ea31e612f78c80a80a",
            "9fd6b893fcbca06c14eec7e9c939e30401231f41f42483c0e9027211892c89f6",
        ),
        (
            "706f762f74782f7633df840a304e772ef4cdfb23293d8adadde8d43567bde4b0190c3d954f696f0b0a0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e9106060706000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "0a706f762d6465766e657440791195ef383510f352b8336902b2d40c40c315eb4eb3b898c6f1cfbd376e9106060706000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f04a4bf3887f0d96221e27707489d6e6da3a07f14e469247b7216527f32b68154e8a112234ad67b267378773daafeb838f595ce6ad39441e3419210ce9d76c300",
            "6ae916ce73f63bbdd2b305d25d485fae6139156c204e8cfff530cfb02d8e01c7",
        ),
    ];
    let mut a = Answers::default();
    for ((name, tx), (signing, bytes, hash)) in transactions().into_iter().zip(want) {
        a.bytes(
            &format!("{name}: signing bytes"),
            &tx.signing_bytes(&signed_genesis()),
            signing,
        );
        a.bytes(&format!("{name}: canonical bytes"), &tx.to_bytes(), bytes);
        a.hash(&format!("{name}: hash"), tx.hash(), hash);
        // The pinned bytes are a valid, canonical, verifying transaction.
        let decoded = Transaction::from_bytes(&tx.to_bytes()).expect("canonical");
        assert!(
            decoded.verify_signature(&signed_genesis()).is_ok(),
            "{name}"
        );
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
    a.bytes("header canonical bytes", &codec::encode(&header), "0a706f762d6465766e6574013a5fb94d4502b06698ca495746c7d53661960f93399b40bc6b0c24f487fb21e1e8d7eab6b733be69e4ffa61f51419537fa398f252169efa3b7ff5f24757414840cb16a38339d004912bedee14ba0de7f410644fefd01888393770224ed5346f383949b8bc8a991bbc552a06f36b86a561c63ce63ae6dd84beda2990742f8e4f51d5a296e2060bc5951d11bb316e797d865954d9ccd9ad62db056313d23a752a9515896916f3a");
    a.hash(
        "header hash",
        header.hash(),
        "85ad5a756ba2088bb9f8fb4afca139e88a7cc5af397bcad411acb17354cf1c10",
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
        "010285ad5a756ba2088bb9f8fb4afca139e88a7cc5af397bcad411acb17354cf1c1001be69e4ffa61f51419537fa398f252169efa3b7ff5f24757414840cb16a38339d17408c47ef6972aa24fe1eff77a0ea7d13f7e612eade0d82214b3a41bb49df91cb2e2681e6060de2a4d5c035f48fd14136dc63125897a943e1d23b713351d405",
    );
    a.done();
}

/// A second genesis, as an operator would write it: two kinds (one under the threshold
/// rule, one sealed), every optional parameter set, two validators, one with an address.
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

[params.types.care.sealed]
commit_blocks = 100
reveal_blocks = 50

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
        "3a5fb94d4502b06698ca495746c7d53661960f93399b40bc6b0c24f487fb21e1",
    );
    a.hash(
        "second genesis hash",
        other_genesis().hash(),
        "18aeed2b336ed5b77e464842688ab7376989a3faca4cf86f1eae2af32b576266",
    );
    a.hash(
        "dev genesis state root",
        Genesis::dev().state().expect("state").state_root(),
        "78447c14e2196c429d22839d2a6e80b61f6b4b56dcbe931bc7965860e49af7a5",
    );
    a.hash(
        "second genesis state root",
        other_genesis().state().expect("state").state_root(),
        "c370a0cd856feae81e3692940ebc43330a7ce13c5720b9238ed700b4082acca6",
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
        "tx root of the eight transactions",
        tx_root(&txs),
        "9116e961b20a7ba65e4ccb5f6f1fc92ab5c4934afe88e11dc16032838ec4a9be",
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
        let tx = Transaction::sign(
            &Keypair::dev(who),
            CHAIN,
            &genesis.hash(),
            nonces[who as usize],
            body,
        );
        state.apply(&tx)
    };
    send(
        &mut state,
        0,
        TxBody::Admit {
            member: carl.address(),
            name: String::new(),
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
        "9bb018c5badbd1753a49bf5a42cab5bba02540071c1cfee5efac8b4ca579c4bd",
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
        "b4d883eb955f335c851327824fc122a9bbea1377c8ef57a3e196d98d54db2ff2",
    );
    a.done();
}

/// The dev cooperative with `work` sealed (2 commit blocks, 2 reveal blocks) after one
/// sealed contribution went through commit, a replacement commit, reveal, one forfeit and
/// settlement (spec section 12).
fn sealed_scenario() -> State {
    let mut genesis = Genesis::dev();
    if let Some(work) = genesis.params.types.get_mut("work") {
        work.sealed = Some(pov_protocol::Sealed {
            commit_blocks: 2,
            reveal_blocks: 2,
        });
    }
    let mut state = genesis.state().expect("state");
    let genesis_hash = genesis.hash();
    let mut nonces = [0u64; 4];
    let mut send = |state: &mut State, who: u32, body: TxBody| {
        nonces[who as usize] += 1;
        let tx = Transaction::sign(
            &Keypair::dev(who),
            CHAIN,
            &genesis_hash,
            nonces[who as usize],
            body,
        );
        state.apply(&tx).expect("applies")
    };
    let seal = |who: u32, value: i64| {
        let mut s = salt();
        s.0[0] = who as u8;
        (
            sealed::commitment(CHAIN, 0, &Keypair::dev(who).address(), value, &s),
            s,
        )
    };
    state.begin_block(1).expect("block 1");
    send(
        &mut state,
        0,
        TxBody::Contribute {
            kind: "work".into(),
            title: "Fix the roof".into(),
            uri: "https://example.org/roof".into(),
            content_hash: None,
        },
    );
    state.begin_block(2).expect("block 2");
    for (who, value) in [(1, 4), (2, 3)] {
        let (commitment, _) = seal(who, value);
        send(
            &mut state,
            who,
            TxBody::Commit {
                contribution: 0,
                commitment,
            },
        );
    }
    state.begin_block(3).expect("block 3");
    for (who, value) in [(3, 5), (1, 5)] {
        let (commitment, _) = seal(who, value);
        send(
            &mut state,
            who,
            TxBody::Commit {
                contribution: 0,
                commitment,
            },
        );
    }
    state.begin_block(4).expect("block 4");
    for (who, value) in [(2, 3), (1, 5)] {
        let (_, salt) = seal(who, value);
        send(
            &mut state,
            who,
            TxBody::Reveal {
                contribution: 0,
                value,
                salt,
            },
        );
    }
    state.begin_block(5).expect("block 5");
    let start = state.begin_block(6).expect("block 6 settles");
    assert!(
        matches!(start.last(), Some(pov_protocol::BlockEvent::Settled(s)) if s.forfeited == 1),
        "{start:?}"
    );
    state
}

#[test]
fn state_root_after_a_sealed_settlement() {
    let state = sealed_scenario();
    let mut a = Answers::default();
    a.hash(
        "state root after the sealed scenario",
        state.state_root(),
        "235e060de8cffc2cc8663a3a1b3d564fe3512f6e6feff79562af685d4915005f",
    );
    a.bytes(
        "the sealed contribution's canonical bytes",
        &codec::encode(state.contribution(0).expect("contribution 0")),
        "00010004776f726b0c4669782074686520726f6f661868747470733a2f2f6578616d706c652e6f72672f726f6f660080c0a8ca9a3a80a0be8195018080f985d40480a094a58d1d0600020406080a01060080c0a8ca9a3a8080d194b57480c0caf384a302808095e789c6048080aace938c09060080c0a8ca9a3a8080d194b5748080a2a9eae80180c09b88ba9703808095e789c6040001020202020601010a03030102030400000000000200010302206220b9a486e26f969466e2e663dd07d2692df86da0877ed94c4ec62fa840348080aace938c090201010603c01131e318ec89959a9695b4c7d67323493afe8e82cda235fe67246cc48a6977808095e789c60403020001bf96cac4fc9130788069e13a90c15d5969def9fffa680d1465fb57eab02f04f3cee0a1cab7c20d0303010a0106030201",
    );
    a.done();
}
