//! Reputation proofs (spec section 10) over real, certified chains: a proof verifies with
//! the genesis alone and states the member's figures; every byte flipped, every field
//! removed, every field swapped with one from another height, member or chain fails; a
//! certificate of 2/3 of the power or less fails; a member absent at the height and another
//! cooperative's genesis fail with a reason that says so. And portable reputation: a genesis
//! member founded on a proof, its provenance checked by field.

use pov_crypto::{Address, Keypair};
use pov_protocol::block::{BlockHeader, Certificate, Parent};
use pov_protocol::genesis::{dev_validator_key, Genesis, GenesisValidator, MemberProvenance};
use pov_protocol::proof::{ProofError, ReputationProof};
use pov_protocol::test_utils::{build_block, certify, Workload};
use pov_protocol::{Amount, State, Transaction, TxBody};

/// Four validators of power 1 (so 3 signatures are a quorum, 2 are not).
fn genesis(chain_id: &str) -> Genesis {
    let mut g = Genesis::dev();
    g.chain_id = chain_id.to_string();
    g.validators = (0..4)
        .map(|i| GenesisValidator {
            public_key: dev_validator_key(i).address(),
            power: 1,
            addr: None,
        })
        .collect();
    g
}

/// A certified chain: the state, header and certificate after every block.
struct Chain {
    genesis: Genesis,
    states: Vec<State>,
    headers: Vec<BlockHeader>,
    certificates: Vec<Certificate>,
}

impl Chain {
    /// `blocks` blocks of the dev workload; at `admit_at`, alice admits dev key 9 ("ivy").
    fn build(genesis: Genesis, blocks: u64, admit_at: u64) -> Chain {
        let validators = genesis.validator_set().expect("validators");
        let keys: Vec<Keypair> = (0..4).map(dev_validator_key).collect();
        let signers: Vec<&Keypair> = keys.iter().take(3).collect();
        let workload = Workload::dev(4);
        let mut state = genesis.state().expect("genesis state");
        let mut parent = genesis.parent();
        let mut chain = Chain {
            genesis,
            states: vec![state.clone()],
            headers: Vec::new(),
            certificates: Vec::new(),
        };
        for h in 1..=blocks {
            let mut txs = workload.next_txs(&state, h, 6);
            if h == admit_at {
                let alice = Keypair::dev(0);
                let mut scratch = state.clone();
                scratch.begin_block(h).expect("begin");
                for tx in &txs {
                    scratch.apply(tx).expect("workload applies");
                }
                let nonce = scratch.members()[0].nonce + 1;
                txs.push(Transaction::sign(
                    &alice,
                    state.chain_id(),
                    state.genesis_hash(),
                    nonce,
                    TxBody::Admit {
                        member: Keypair::dev(9).address(),
                        name: "ivy".into(),
                    },
                ));
            }
            let block = build_block(
                &state,
                &parent,
                &validators,
                &keys[0],
                parent.time_ms + 1000,
                txs,
                &|_| false,
            )
            .expect("block");
            let certificate = certify(&block, 0, &signers);
            state
                .apply_block(&block, &parent, &validators, &|_| false)
                .expect("apply");
            parent = Parent {
                height: h,
                hash: block.hash(),
                time_ms: block.header.time_ms,
            };
            chain.states.push(state.clone());
            chain.headers.push(block.header);
            chain.certificates.push(certificate);
        }
        chain
    }

    fn prove(&self, height: u64, member: &Address) -> ReputationProof {
        let i = height as usize;
        ReputationProof::new(
            self.genesis.hash(),
            &self.headers[i - 1],
            &self.certificates[i - 1],
            &self.states[i],
            member,
        )
        .expect("a member at that height")
    }
}

fn alice() -> Address {
    Keypair::dev(0).address()
}

fn bob() -> Address {
    Keypair::dev(1).address()
}

fn ivy() -> Address {
    Keypair::dev(9).address()
}

fn coop() -> Chain {
    Chain::build(genesis("bakery"), 6, 4)
}

/// The proof's JSON as an object, to edit field by field.
fn fields(proof: &ReputationProof) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(proof).expect("json") {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("a proof is an object"),
    }
}

fn verify_json(text: &str, genesis: &Genesis) -> Result<(), ProofError> {
    ReputationProof::from_json(text)?.verify(genesis).map(drop)
}

#[test]
fn a_proof_verifies_with_the_genesis_alone_and_states_the_figures() {
    let chain = coop();
    for height in [1, 4, 6] {
        let proof = chain.prove(height, &bob());
        let text = proof.to_json();
        let proven = ReputationProof::from_json(&text)
            .expect("parses")
            .verify(&chain.genesis)
            .expect("verifies");
        let state = &chain.states[height as usize];
        let (_, member) = state.member_by_address(&bob()).expect("bob");
        assert_eq!(proven.height, height);
        assert_eq!(proven.member, bob());
        assert_eq!(proven.name, "bob");
        assert_eq!(proven.reputation, member.reputation);
        assert_eq!(proven.tokens, member.tokens);
        assert_eq!(proven.total_reputation, state.total_reputation());
        assert_eq!(proven.total_tokens, state.total_tokens());
        assert_eq!(
            proven.share,
            member
                .reputation
                .checked_div(state.total_reputation())
                .expect("share")
        );
        assert_eq!(proven.time_ms, chain.headers[height as usize - 1].time_ms);
        assert_eq!((proven.signed_power, proven.total_power), (3, 4));
        assert_eq!(
            proven
                .signers
                .iter()
                .map(|s| s.validator)
                .collect::<Vec<_>>(),
            (0..3)
                .map(|i| dev_validator_key(i).address())
                .collect::<Vec<_>>()
        );
        assert_eq!(proven.proof_hash, proof.hash());
    }
    // The workload moved bob's reputation: the proofs of two heights say different things.
    let early = chain.prove(1, &bob()).verify(&chain.genesis).expect("ok");
    let late = chain.prove(6, &bob()).verify(&chain.genesis).expect("ok");
    assert_ne!(early.reputation, late.reputation);
}

#[test]
fn the_proof_hash_ignores_formatting() {
    let proof = coop().prove(5, &alice());
    let compact = serde_json::to_string(&proof).expect("json");
    let pretty = proof.to_json();
    assert_ne!(compact, pretty);
    let a = ReputationProof::from_json(&compact).expect("compact");
    let b = ReputationProof::from_json(&pretty).expect("pretty");
    assert_eq!(a.hash(), b.hash());
    assert_ne!(a.hash(), coop().prove(4, &alice()).hash());
}

#[test]
fn every_byte_of_the_document_flipped_fails() {
    let chain = coop();
    let text = chain.prove(5, &bob()).to_json();
    let bytes = text.as_bytes();
    let mut checked = 0;
    for i in 0..bytes.len() {
        let mut flipped = bytes.to_vec();
        flipped[i] ^= 0x01;
        let Ok(flipped) = String::from_utf8(flipped) else {
            continue;
        };
        assert!(
            verify_json(&flipped, &chain.genesis).is_err(),
            "flipping byte {i} ({:?}) still verifies",
            bytes[i] as char
        );
        checked += 1;
    }
    assert!(checked > 1000, "{checked}");
}

#[test]
fn every_byte_of_every_field_flipped_fails_with_a_reason() {
    let chain = coop();
    let proof = chain.prove(5, &bob());
    let map = fields(&proof);
    let mut checked = 0;
    for (name, value) in &map {
        if name == "format" {
            continue;
        }
        let hex_text = value.as_str().expect("hex");
        let bytes = hex::decode(hex_text).expect("hex");
        for i in 0..bytes.len() {
            for mask in [0x01u8, 0x80] {
                let mut b = bytes.clone();
                b[i] ^= mask;
                let mut m = map.clone();
                m.insert(name.clone(), hex::encode(&b).into());
                let tampered: ReputationProof =
                    serde_json::from_value(m.into()).expect("still a document");
                let err = tampered
                    .verify(&chain.genesis)
                    .expect_err("a flipped byte must fail");
                assert!(!err.to_string().is_empty());
                checked += 1;
            }
        }
        // A byte more or a byte less fails too.
        for b in [
            [bytes.clone(), vec![0]].concat(),
            bytes[..bytes.len() - 1].to_vec(),
        ] {
            let mut m = map.clone();
            m.insert(name.clone(), hex::encode(&b).into());
            let tampered: ReputationProof = serde_json::from_value(m.into()).expect("document");
            assert!(tampered.verify(&chain.genesis).is_err(), "{name} resized");
        }
    }
    assert!(checked > 1500, "{checked}");
}

#[test]
fn every_field_removed_fails() {
    let chain = coop();
    let map = fields(&chain.prove(5, &bob()));
    for name in map.keys() {
        let mut m = map.clone();
        m.remove(name);
        let text = serde_json::Value::Object(m).to_string();
        let err = verify_json(&text, &chain.genesis).expect_err(name);
        assert!(err.to_string().contains(name.as_str()), "{name}: {err}");
    }
    // And an unknown field is refused, not ignored.
    let mut m = map.clone();
    m.insert("note".into(), "trust me".into());
    assert!(verify_json(&serde_json::Value::Object(m).to_string(), &chain.genesis).is_err());
}

#[test]
fn every_field_swapped_with_another_heights_members_or_chains_fails() {
    let chain = coop();
    let other = Chain::build(genesis("brewery"), 6, 4);
    let base = fields(&chain.prove(5, &bob()));
    let donors = [
        ("another height", chain.prove(4, &bob())),
        ("another member", chain.prove(5, &alice())),
        ("another chain", other.prove(5, &bob())),
    ];
    // Fields that must differ for each donor (others may: a member's entry can be the same
    // bytes at two heights or in two chains, and then swapping it changes nothing).
    let must: [&[&str]; 3] = [
        &["header", "certificate", "chain_entry", "chain_path"],
        &["member_entry", "member_path"],
        // The chain entry's path is made of member and contribution leaves, which need not
        // differ between two cooperatives.
        &["genesis_hash", "header", "certificate", "chain_entry"],
    ];
    for ((what, donor), must) in donors.iter().zip(must) {
        let donor = fields(donor);
        let mut swapped = Vec::new();
        for name in base.keys() {
            if donor[name] == base[name] {
                continue; // the same bytes: nothing was swapped
            }
            let mut m = base.clone();
            m.insert(name.clone(), donor[name].clone());
            let text = serde_json::Value::Object(m).to_string();
            assert!(
                verify_json(&text, &chain.genesis).is_err(),
                "{name} from {what} still verifies"
            );
            swapped.push(name.as_str());
        }
        for name in must {
            assert!(swapped.contains(name), "{what}: {name} was not swapped");
        }
    }
}

#[test]
fn a_certificate_of_two_thirds_or_less_fails() {
    let chain = coop();
    let proof = chain.prove(5, &bob());
    let header = &chain.headers[4];
    let state = &chain.states[5];
    let block_hash = header.hash();
    let keys: Vec<Keypair> = (0..4).map(dev_validator_key).collect();
    let signed_by = |n: usize| -> ReputationProof {
        let block = pov_protocol::block::Block {
            header: header.clone(),
            txs: Vec::new(),
        };
        let signers: Vec<&Keypair> = keys.iter().take(n).collect();
        let certificate = certify(&block, 0, &signers);
        assert_eq!(certificate.block_hash, block_hash);
        ReputationProof::new(chain.genesis.hash(), header, &certificate, state, &bob())
            .expect("proof")
    };
    for n in [0, 1, 2] {
        let err = signed_by(n).verify(&chain.genesis).expect_err("no quorum");
        assert!(
            matches!(&err, ProofError::Certificate { .. }),
            "{n} signers: {err}"
        );
        assert!(err.to_string().contains("not more than 2/3"), "{err}");
    }
    assert!(signed_by(3).verify(&chain.genesis).is_ok());
    assert!(signed_by(4).verify(&chain.genesis).is_ok());
    assert!(proof.verify(&chain.genesis).is_ok());
    // Three validators of power 1: exactly two thirds is not enough.
    let mut three = genesis("bakery");
    three.validators.truncate(3);
    let chain3 = Chain::build(three, 2, 0);
    let h = &chain3.headers[1];
    let block = pov_protocol::block::Block {
        header: h.clone(),
        txs: Vec::new(),
    };
    let certificate = certify(&block, 0, &[&keys[0], &keys[1]]);
    let proof = ReputationProof::new(
        chain3.genesis.hash(),
        h,
        &certificate,
        &chain3.states[2],
        &bob(),
    )
    .expect("proof");
    let err = proof.verify(&chain3.genesis).expect_err("2 of 3");
    assert!(err.to_string().contains("power 2 of 3"), "{err}");
}

#[test]
fn a_member_absent_at_the_height_cannot_be_proven_and_a_grafted_entry_fails() {
    let chain = coop();
    // ivy is admitted at height 4: a node cannot make her proof at height 3.
    let err = ReputationProof::new(
        chain.genesis.hash(),
        &chain.headers[2],
        &chain.certificates[2],
        &chain.states[3],
        &ivy(),
    )
    .expect_err("not yet a member");
    assert!(
        err.to_string().contains("was not a member at height 3"),
        "{err}"
    );
    let later = chain.prove(4, &ivy());
    assert_eq!(later.verify(&chain.genesis).expect("ok").name, "ivy");
    // Her entry and path of height 4 grafted onto the header of height 3.
    let mut grafted = chain.prove(3, &bob());
    grafted.member_entry = later.member_entry.clone();
    grafted.member_path = later.member_path.clone();
    let err = grafted.verify(&chain.genesis).expect_err("grafted");
    assert!(
        matches!(err, ProofError::NotAMember { height: 3, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("was not a member at height 3"),
        "{err}"
    );
}

#[test]
fn a_proof_of_another_cooperative_says_so() {
    let chain = coop();
    let proof = chain.prove(5, &bob());
    let other = genesis("brewery");
    let err = proof.verify(&other).expect_err("another genesis");
    assert!(matches!(err, ProofError::OtherGenesis { .. }));
    assert!(err.to_string().contains("another cooperative"), "{err}");
    // Same chain id, other members: still another cooperative (the genesis hash differs).
    let mut twin = genesis("bakery");
    twin.members[3].tokens = Amount::from_int(99);
    assert!(matches!(
        proof.verify(&twin),
        Err(ProofError::OtherGenesis { .. })
    ));
}

#[test]
fn upper_case_and_prefixed_hex_are_refused() {
    let chain = coop();
    let map = fields(&chain.prove(5, &bob()));
    for field in ["genesis_hash", "header"] {
        for edit in [
            |s: &str| s.to_uppercase(),
            |s: &str| format!("0x{s}"),
            |s: &str| format!("{s}0"),
        ] {
            let mut m = map.clone();
            let text = edit(map[field].as_str().expect("hex"));
            m.insert(field.into(), text.into());
            assert!(
                verify_json(&serde_json::Value::Object(m).to_string(), &chain.genesis).is_err(),
                "{field}"
            );
        }
    }
}

// ---- portable reputation ----

/// A new cooperative founding alice on her proof from `source`, scaled by 1/10.
fn founded_on(source: &Chain, proof: &ReputationProof) -> Genesis {
    let proven = proof.verify(&source.genesis).expect("verifies");
    let scale: Amount = "0.1".parse().expect("scale");
    let provenance = MemberProvenance {
        source_genesis: source.genesis.hash(),
        height: proven.height,
        proof: proof.hash(),
        reputation: proven.reputation,
        scale,
    };
    let mut g = genesis("new-coop");
    g.members[0].reputation = provenance.scaled().expect("scaled");
    g.members[0].provenance = Some(provenance);
    g
}

#[test]
fn a_member_founded_on_a_proof_validates_and_its_provenance_checks() {
    let source = coop();
    let proof = source.prove(6, &alice());
    let g = founded_on(&source, &proof);
    assert!(g.validate().is_empty(), "{:?}", g.validate());
    assert!(g
        .check_provenance(
            std::slice::from_ref(&proof),
            std::slice::from_ref(&source.genesis)
        )
        .is_empty());
    // The provenance is part of the chain's identity, and survives TOML.
    let mut without = g.clone();
    without.members[0].provenance = None;
    assert_ne!(g.hash(), without.hash());
    let again = Genesis::from_toml(&g.to_toml()).expect("round trip");
    assert_eq!(again, g);
    assert!(
        g.to_toml().contains("[members.provenance]"),
        "{}",
        g.to_toml()
    );
    assert!(!without.to_toml().contains("provenance"));
    // The new cooperative starts.
    assert!(g.state().is_ok());
}

#[test]
fn provenance_mismatches_are_reported_by_field() {
    let source = coop();
    let proof = source.prove(6, &alice());
    let good = founded_on(&source, &proof);
    let check = |g: &Genesis, proofs: &[ReputationProof], sources: &[Genesis]| -> Vec<String> {
        let mut all: Vec<String> = g.validate().iter().map(|p| p.to_string()).collect();
        all.extend(
            g.check_provenance(proofs, sources)
                .iter()
                .map(|p| p.to_string()),
        );
        all
    };
    let proofs = std::slice::from_ref(&proof);
    let sources = std::slice::from_ref(&source.genesis);
    type Edit = Box<dyn Fn(&mut Genesis)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|g| g.members[0].provenance.as_mut().expect("p").height = 5),
            "members[0].provenance.height: 5 recorded, the proof is of height 6",
        ),
        (
            Box::new(|g| {
                let p = g.members[0].provenance.as_mut().expect("p");
                p.reputation = p.reputation.checked_add(Amount::ONE).expect("add");
                g.members[0].reputation = p.scaled().expect("scaled");
            }),
            "members[0].provenance.reputation",
        ),
        (
            Box::new(|g| g.members[0].reputation = Amount::from_int(1000)),
            "members[0].reputation: 1000 is not the proven reputation times the scale",
        ),
        (
            Box::new(|g| g.members[0].public_key = Keypair::dev(3).address()),
            "members[0].public_key: the proof is of member",
        ),
        (
            Box::new(|g| {
                g.members[0].provenance.as_mut().expect("p").proof = pov_crypto::hash(b"x")
            }),
            "members[0].provenance.proof: no proof given has hash",
        ),
        (
            Box::new(|g| {
                g.members[0].provenance.as_mut().expect("p").source_genesis = pov_crypto::hash(b"x")
            }),
            "members[0].provenance.source_genesis: no source genesis given",
        ),
    ];
    assert!(check(&good, proofs, sources).is_empty());
    for (edit, want) in cases {
        let mut g = good.clone();
        edit(&mut g);
        let problems = check(&g, proofs, sources);
        assert!(
            problems.iter().any(|p| p.starts_with(want)),
            "{want:?} not in {problems:?}"
        );
    }
    // A tampered proof file is named by its hash no longer; one that keeps the hash cannot
    // exist, so the check reports it missing.
    let mut tampered = proof.clone();
    tampered.member_entry.0[40] ^= 1;
    let problems = check(&good, std::slice::from_ref(&tampered), sources);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("no proof given has hash")),
        "{problems:?}"
    );
}

// ---- the documented example ----

/// The example of `docs/protocol.md`: alice at height 1 of the dev genesis, block 1 empty,
/// one second after the genesis, certified by the dev validator.
fn documented_example() -> ReputationProof {
    let genesis = Genesis::dev();
    let validators = genesis.validator_set().expect("validators");
    let key = dev_validator_key(0);
    let state = genesis.state().expect("state");
    let parent = genesis.parent();
    let block = build_block(
        &state,
        &parent,
        &validators,
        &key,
        parent.time_ms + 1000,
        Vec::new(),
        &|_| false,
    )
    .expect("block");
    let certificate = certify(&block, 0, &[&key]);
    let mut after = state.clone();
    after
        .apply_block(&block, &parent, &validators, &|_| false)
        .expect("apply");
    ReputationProof::new(
        genesis.hash(),
        &block.header,
        &certificate,
        &after,
        &alice(),
    )
    .expect("alice")
}

#[test]
fn the_documented_example_is_a_real_proof() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    let doc = std::fs::read_to_string(path).expect("docs/protocol.md");
    let want = documented_example();
    let marker = "<!-- proof example: protocol/tests/proofs.rs keeps it true -->";
    let block = doc
        .split_once(marker)
        .and_then(|(_, rest)| rest.split_once("```json\n"))
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(json, _)| json)
        .unwrap_or_else(|| {
            panic!(
                "docs/protocol.md has no example after {marker:?}; it should be:\n{}",
                want.to_json()
            )
        });
    let documented = ReputationProof::from_json(block).expect("the example parses");
    assert_eq!(
        documented,
        want,
        "the example in docs/protocol.md is stale; it should be:\n{}",
        want.to_json()
    );
    let proven = documented.verify(&Genesis::dev()).expect("it verifies");
    assert_eq!((proven.height, proven.name.as_str()), (1, "alice"));
    assert!(
        doc.contains(&format!("`{}`", proven.proof_hash)),
        "the doc names the hash {}",
        proven.proof_hash
    );
}
