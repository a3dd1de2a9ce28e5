//! `pov verify-proof`, `pov genesis import-member` and `pov genesis validate --proofs`,
//! offline (no node), on proofs of a real certified chain built with the protocol's test
//! chain builders: what a valid proof prints, exit 8 with the reason for a proof that does
//! not verify, a cooperative founded on a proof, and its provenance re-checked by field.

use pov_crypto::Keypair;
use pov_protocol::block::Parent;
use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_protocol::proof::ReputationProof;
use pov_protocol::test_utils::{build_block, certify, Workload};

use crate::support::Pov;

/// A proof of bob at height 3 of a three-block dev chain.
fn dev_chain_proof() -> ReputationProof {
    let genesis = Genesis::dev();
    let validators = genesis.validator_set().expect("validators");
    let key = dev_validator_key(0);
    let workload = Workload::dev(4);
    let mut state = genesis.state().expect("state");
    let mut parent = genesis.parent();
    let mut last = None;
    for h in 1..=3 {
        let txs = workload.next_txs(&state, h, 5);
        let block = build_block(
            &state,
            &parent,
            &validators,
            &key,
            parent.time_ms + 1000,
            txs,
            &|_| false,
        )
        .expect("block");
        let certificate = certify(&block, 0, &[&key]);
        state
            .apply_block(&block, &parent, &validators, &|_| false)
            .expect("apply");
        parent = Parent {
            height: h,
            hash: block.hash(),
            time_ms: block.header.time_ms,
        };
        last = Some((block.header, certificate));
    }
    let (header, certificate) = last.expect("three blocks");
    ReputationProof::new(
        genesis.hash(),
        &header,
        &certificate,
        &state,
        &Keypair::dev(1).address(),
    )
    .expect("bob is a member")
}

/// A sandbox holding the dev genesis and bob's proof as files.
fn sandbox() -> (Pov, ReputationProof) {
    let pov = Pov::new();
    let proof = dev_chain_proof();
    std::fs::write(pov.path("dev.toml"), Genesis::dev().to_toml()).expect("genesis");
    std::fs::write(pov.path("bob.proof.json"), proof.to_json()).expect("proof");
    (pov, proof)
}

#[test]
fn verify_proof_says_what_a_valid_proof_proves() {
    let (pov, proof) = sandbox();
    let text = pov.ok(&["verify-proof", "bob.proof.json", "--genesis", "dev.toml"]);
    let proven = proof.verify(&Genesis::dev()).expect("valid");
    for want in [
        "valid: every check passed".to_string(),
        format!("bob ({})", Keypair::dev(1).address()),
        "pov-devnet".to_string(),
        format!("height        3, block {}", proven.block_hash),
        format!("reputation    {}", proven.reputation),
        "validators with power 1 of 1: be69e4ff…".to_string(),
        proof.hash().to_string(),
    ] {
        assert!(text.contains(&want), "{want:?} not in:\n{text}");
    }
    let json = pov.json(&["verify-proof", "bob.proof.json", "--genesis", "dev.toml"]);
    assert_eq!(json["valid"], true);
    assert_eq!(json["height"], 3);
    assert_eq!(json["reputation"], proven.reputation.to_string().as_str());
    assert_eq!(json["time"], "2026-01-01T00:00:03Z");
}

#[test]
fn a_proof_that_does_not_verify_exits_8_with_the_reason() {
    let (pov, proof) = sandbox();
    // Another cooperative's genesis.
    let mut other = Genesis::dev();
    other.chain_id = "another-coop".into();
    std::fs::write(pov.path("other.toml"), other.to_toml()).expect("write");
    let (_, err) = pov.fails(
        8,
        &["verify-proof", "bob.proof.json", "--genesis", "other.toml"],
    );
    assert!(err.contains("another cooperative"), "{err}");
    // One byte of the member's entry changed.
    let mut tampered = proof.clone();
    tampered.member_entry.0[40] ^= 1;
    std::fs::write(pov.path("tampered.json"), tampered.to_json()).expect("write");
    let (_, err) = pov.fails(
        8,
        &["verify-proof", "tampered.json", "--genesis", "dev.toml"],
    );
    assert!(err.contains("was not a member at height 3"), "{err}");
    // Not a proof at all; and a genesis that is not one is bad input (3), not a bad proof.
    std::fs::write(pov.path("junk.json"), "{\"format\": \"pov-proof/1\"}").expect("write");
    let (_, err) = pov.fails(8, &["verify-proof", "junk.json", "--genesis", "dev.toml"]);
    assert!(err.contains("missing field"), "{err}");
    let (_, err) = pov.fails(
        3,
        &["verify-proof", "bob.proof.json", "--genesis", "junk.json"],
    );
    assert!(err.contains("junk.json"), "{err}");
    // JSON errors carry the stable code.
    let out = pov.run(&[
        "verify-proof",
        "tampered.json",
        "--genesis",
        "dev.toml",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(8));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json error");
    assert_eq!(v["error"]["code"], "proof_invalid");
}

#[test]
fn a_cooperative_founded_on_a_proof_validates_and_checks_its_provenance() {
    let (pov, proof) = sandbox();
    pov.ok(&[
        "genesis",
        "new",
        "--chain-id",
        "bakery-two",
        "--genesis-time",
        "2026-02-01T00:00:00Z",
    ]);
    let out = pov.json(&[
        "genesis",
        "import-member",
        "bob.proof.json",
        "--source-genesis",
        "dev.toml",
        "--scale",
        "0.5",
        "--tokens",
        "20",
    ]);
    let proven = proof.verify(&Genesis::dev()).expect("valid");
    let half = proven
        .reputation
        .checked_mul("0.5".parse().expect("amount"))
        .expect("mul");
    assert!(
        out["change"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("with {half} reputation")),
        "{out}"
    );
    let g = Genesis::parse_toml(&std::fs::read_to_string(pov.path("genesis.toml")).expect("read"))
        .expect("parses");
    let member = &g.members[0];
    assert_eq!(
        (member.name.as_str(), member.public_key),
        ("bob", Keypair::dev(1).address())
    );
    assert_eq!(member.reputation, half);
    let provenance = member.provenance.as_ref().expect("provenance");
    assert_eq!(provenance.proof, proof.hash());
    assert_eq!(provenance.source_genesis, Genesis::dev().hash());
    assert_eq!(provenance.height, 3);

    pov.ok(&[
        "genesis",
        "add-validator",
        &dev_validator_key(5).address().to_string(),
    ]);
    std::fs::create_dir(pov.path("proofs")).expect("dir");
    std::fs::copy(pov.path("bob.proof.json"), pov.path("proofs/bob.json")).expect("copy");
    let text = pov.ok(&[
        "genesis",
        "validate",
        "--proofs",
        "proofs",
        "--source-genesis",
        "dev.toml",
    ]);
    assert!(text.contains("provenance of 1 member(s) checked"), "{text}");
    let text = pov.ok(&["genesis", "validate"]);
    assert!(text.contains("add --proofs DIR"), "{text}");

    // Provenance that no longer matches its proof is reported by field.
    let edited = std::fs::read_to_string(pov.path("genesis.toml"))
        .expect("read")
        .replace("height = 3", "height = 2");
    std::fs::write(pov.path("genesis.toml"), edited).expect("write");
    let (_, err) = pov.fails(
        3,
        &[
            "genesis",
            "validate",
            "--proofs",
            "proofs",
            "--source-genesis",
            "dev.toml",
        ],
    );
    assert!(
        err.contains("members[0].provenance.height: 2 recorded, the proof is of height 3"),
        "{err}"
    );
    // Without the source genesis, the provenance cannot be checked: said so.
    let (_, err) = pov.fails(3, &["genesis", "validate", "--proofs", "proofs"]);
    assert!(err.contains("no source genesis given has hash"), "{err}");
    // A proof that does not verify is never imported.
    let mut tampered = proof.clone();
    tampered.certificate.0[10] ^= 1;
    std::fs::write(pov.path("bad.json"), tampered.to_json()).expect("write");
    let (_, err) = pov.fails(
        8,
        &[
            "genesis",
            "import-member",
            "bad.json",
            "--source-genesis",
            "dev.toml",
            "--scale",
            "1",
        ],
    );
    assert!(err.contains("does not verify"), "{err}");
}

#[test]
fn a_proof_file_bigger_than_any_proof_is_refused_unread() {
    let (pov, _) = sandbox();
    // 2 MiB of hex in a field: a real proof is a few KB; before the cap the whole file was
    // read and parsed (200 MB cost 0.5 GB of memory and over a minute).
    let huge = format!(
        "{{\"format\": \"pov-proof/1\", \"genesis_hash\": \"{}\"}}",
        "00".repeat(1024 * 1024)
    );
    std::fs::write(pov.path("huge.json"), &huge).expect("write");
    let (_, err) = pov.fails(8, &["verify-proof", "huge.json", "--genesis", "dev.toml"]);
    assert!(err.contains("huge.json: more than 1048576 bytes"), "{err}");
    // The same through `genesis validate --proofs`: bad input, named.
    std::fs::create_dir(pov.path("proofs")).expect("dir");
    std::fs::write(pov.path("proofs/huge.json"), &huge).expect("write");
    let (_, err) = pov.fails(
        3,
        &["genesis", "validate", "dev.toml", "--proofs", "proofs"],
    );
    assert!(err.contains("huge.json: more than 1048576 bytes"), "{err}");
}
