//! The seed corpora of the fuzz targets (`fuzz/seeds/<target>/`): real encodings of every
//! kind of input each target reads, made here from the real types so that they stay true
//! when a format changes.
//!
//! The test checks that every seed is accepted by the decoder its target starts with, and
//! that the committed files are exactly these seeds. After a change of an encoding, rewrite
//! them with `POV_WRITE_FUZZ_SEEDS=1 cargo test -p pov-node --lib fuzz_seeds` and commit
//! `fuzz/seeds/`. (A unit test, not an integration test: it adds no test binary to link.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pov_consensus::{Evidence, NilOrVal, Proposal, SignedVote, Vote, VoteKind};
use pov_crypto::{Hash, Keypair, Salt};
use pov_protocol::block::{Block, Certificate};
use pov_protocol::codec::{decode_canonical, encode};
use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_protocol::governance::ParamChange;
use pov_protocol::test_utils::{build_block, certify, genesis_with_members, Workload};
use pov_protocol::{Amount, Transaction, TxBody};

use crate::wire::{
    ConsensusMessage, Envelope, ProposalMessage, SyncRequest, SyncResponse, TxEnvelope,
};

/// Seeds by target, then by file name.
type Seeds = BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>;

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds")
}

/// One signed transaction of every kind, from dev member 0 on the dev chain.
fn transactions(genesis: &Genesis) -> Vec<(&'static str, Transaction)> {
    let chain_id = genesis.chain_id.as_str();
    let genesis_hash = genesis.hash();
    let key = Keypair::dev(0);
    let other = Keypair::dev(1).address();
    let salt = Salt([7; 32]);
    let bodies = vec![
        (
            "contribute",
            TxBody::Contribute {
                kind: "work".into(),
                title: "a first contribution".into(),
                uri: "https://example.org/1".into(),
                content_hash: Some(pov_crypto::hash(b"work")),
            },
        ),
        (
            "evaluate",
            TxBody::Evaluate {
                contribution: 0,
                value: 3,
            },
        ),
        (
            "transfer",
            TxBody::Transfer {
                to: other,
                amount: Amount::from_int(5),
            },
        ),
        (
            "admit",
            TxBody::Admit {
                member: Keypair::dev(9).address(),
                name: "erin".into(),
            },
        ),
        (
            "propose-params",
            TxBody::ProposeParams {
                title: "cheaper work".into(),
                uri: String::new(),
                changes: vec![ParamChange::parse("types.work.fee", "1").expect("a valid change")],
            },
        ),
        (
            "commit",
            TxBody::Commit {
                contribution: 0,
                commitment: pov_protocol::sealed::commitment(chain_id, 0, &key.address(), 2, &salt),
            },
        ),
        (
            "reveal",
            TxBody::Reveal {
                contribution: 0,
                value: 2,
                salt,
            },
        ),
    ];
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, (name, body))| {
            let tx = Transaction::sign(&key, chain_id, &genesis_hash, i as u64 + 1, body);
            (name, tx)
        })
        .collect()
}

/// A two-block dev chain of workload transactions, each block with its certificate.
fn blocks(genesis: &Genesis) -> Vec<(Block, Certificate)> {
    let validators = genesis.validator_set().expect("dev validator set");
    let key = dev_validator_key(0);
    let workload = Workload::dev(4);
    let mut state = genesis.state().expect("dev genesis");
    let mut parent = genesis.parent();
    let mut out = Vec::new();
    for height in 1..=2 {
        let txs = workload.next_txs(&state, height, 3);
        let block = build_block(
            &state,
            &parent,
            &validators,
            &key,
            parent.time_ms + 1000,
            txs,
            &|_| false,
        )
        .expect("workload block");
        state
            .apply_block(&block, &parent, &validators, &|_| false)
            .expect("workload block applies");
        parent = pov_protocol::block::Parent {
            height,
            hash: block.hash(),
            time_ms: block.header.time_ms,
        };
        let certificate = certify(&block, 0, &[&key]);
        out.push((block, certificate));
    }
    out
}

fn vote(kind: VoteKind, height: u64, value: NilOrVal<Hash>, key: &Keypair) -> SignedVote {
    Vote {
        kind,
        height,
        round: 0,
        value,
        validator: key.address(),
    }
    .sign(key)
    .expect("own key")
}

/// Every seed of every target.
fn all() -> Seeds {
    let genesis = Genesis::dev();
    let txs = transactions(&genesis);
    let chain = blocks(&genesis);
    let (block, certificate) = chain[1].clone();
    let mut seeds = Seeds::new();
    let mut add = |target: &'static str, name: &str, bytes: Vec<u8>| {
        seeds
            .entry(target)
            .or_default()
            .insert(name.to_string(), bytes);
    };

    for (name, tx) in &txs {
        add("tx", name, tx.to_bytes());
        add(
            "api_request",
            &format!("tx-{name}"),
            [&[0u8][..], &tx.to_bytes()].concat(),
        );
    }
    let json = serde_json::to_vec(&txs[0].1).expect("json");
    add("api_request", "tx-json", [&[1u8][..], &json].concat());
    let list: Vec<Transaction> = txs.iter().map(|(_, t)| t.clone()).collect();
    add("api_request", "txs", [&[0u8][..], &encode(&list)].concat());
    let json = serde_json::to_vec(&list).expect("json");
    add("api_request", "txs-json", [&[1u8][..], &json].concat());
    let query = format!(
        "since=3&after=7&limit=10&open=true&by={}",
        Keypair::dev(0).address()
    );
    add(
        "api_request",
        "query",
        [&[0u8][..], query.as_bytes()].concat(),
    );
    add(
        "api_request",
        "hash",
        [&[0u8][..], block.hash().to_string().as_bytes()].concat(),
    );

    add("tx_execute", "all-kinds", encode(&list));
    add("tx_execute", "workload", encode(&block.txs));

    add("block", "height-1", encode(&chain[0].0));
    add("block", "height-2", encode(&block));
    add("certificate", "one-validator", encode(&certificate));
    let four: Vec<Keypair> = (0..4).map(dev_validator_key).collect();
    let signers: Vec<&Keypair> = four.iter().skip(1).collect();
    add(
        "certificate",
        "three-of-four",
        encode(&certify(&block, 1, &signers)),
    );

    let key = dev_validator_key(0);
    let value = NilOrVal::Val(block.hash());
    let prevote = vote(VoteKind::Prevote, 2, value, &key);
    let precommit = vote(VoteKind::Precommit, 2, value, &key);
    let nil = vote(VoteKind::Prevote, 2, NilOrVal::Nil, &key);
    let proposal = Proposal {
        height: 2,
        round: 0,
        value: block.hash(),
        pol_round: None,
        proposer: key.address(),
    }
    .sign(&key)
    .expect("own key");
    let other = Proposal {
        value: pov_crypto::hash(b"another block"),
        ..proposal.proposal
    }
    .sign(&key)
    .expect("own key");
    let messages = [
        ("prevote", ConsensusMessage::Vote(prevote)),
        ("precommit", ConsensusMessage::Vote(precommit)),
        ("nil-prevote", ConsensusMessage::Vote(nil)),
        (
            "proposal",
            ConsensusMessage::Proposal(Box::new(ProposalMessage {
                proposal,
                block: block.clone(),
            })),
        ),
        (
            "double-sign",
            ConsensusMessage::Evidence(Evidence::DoubleSign {
                validator: key.address(),
                vote_a: prevote,
                vote_b: nil,
            }),
        ),
        (
            "double-proposal",
            ConsensusMessage::Evidence(Evidence::DoubleProposal {
                proposer: key.address(),
                proposal_a: proposal,
                proposal_b: other,
            }),
        ),
    ];
    for (name, message) in messages {
        add(
            "wire",
            &format!("envelope-{name}"),
            Envelope { message, nonce: 1 }.to_bytes(),
        );
    }
    let envelope = TxEnvelope {
        txs: list.clone(),
        nonce: 2,
    };
    add("wire", "tx-envelope", envelope.to_bytes());
    add("wire", "sync-status", SyncRequest::Status.to_bytes());
    add(
        "wire",
        "sync-blocks",
        SyncRequest::Blocks { from: 1, to: 2 }.to_bytes(),
    );
    add(
        "wire",
        "sync-block",
        SyncRequest::Block { hash: block.hash() }.to_bytes(),
    );
    let replies = [
        (
            "reply-status",
            SyncResponse::Status {
                genesis: genesis.hash(),
                height: 2,
            },
        ),
        ("reply-blocks", SyncResponse::Blocks(chain.clone())),
        ("reply-block", SyncResponse::Block(Some(Box::new(block)))),
        ("reply-error", SyncResponse::Error("busy".into())),
    ];
    for (name, reply) in replies {
        add("wire", name, reply.to_bytes());
    }

    add("genesis", "dev.toml", genesis.to_toml().into_bytes());
    add(
        "genesis",
        "dev.json",
        serde_json::to_vec_pretty(&genesis).expect("json"),
    );
    let mut last = genesis.clone();
    last.genesis_time_ms = pov_protocol::genesis::LAST_GENESIS_TIME_MS;
    add(
        "genesis",
        "last-time.json",
        serde_json::to_vec_pretty(&last).expect("json"),
    );
    add(
        "genesis",
        "six-members.toml",
        genesis_with_members(6).to_toml().into_bytes(),
    );
    seeds
}

/// Whether the target's first decoder accepts the seed (what makes it a useful start).
fn accepted(target: &str, bytes: &[u8]) -> bool {
    match target {
        "tx" => Transaction::from_bytes(bytes).is_ok(),
        "tx_execute" => decode_canonical::<Vec<Transaction>>(bytes).is_ok(),
        "block" => decode_canonical::<Block>(bytes).is_ok(),
        "certificate" => decode_canonical::<Certificate>(bytes).is_ok(),
        "wire" => {
            Envelope::from_bytes(bytes).is_ok()
                || TxEnvelope::from_bytes(bytes).is_ok()
                || SyncRequest::from_bytes(bytes).is_ok()
                || SyncResponse::from_bytes(bytes).is_ok()
        }
        "genesis" => std::str::from_utf8(bytes).is_ok_and(|text| {
            Genesis::from_toml(text).is_ok() || serde_json::from_str::<Genesis>(text).is_ok()
        }),
        "api_request" => bytes.split_first().is_some_and(|(&flag, body)| {
            let json = flag & 1 == 1;
            crate::api::request::transaction(body, json).is_ok()
                || crate::api::request::transactions(body, json).is_ok()
                || std::str::from_utf8(body).is_ok()
        }),
        _ => false,
    }
}

#[test]
fn fuzz_seeds_are_real_encodings_and_match_the_committed_corpus() {
    let seeds = all();
    for (target, files) in &seeds {
        for (name, bytes) in files {
            assert!(
                accepted(target, bytes),
                "seed {target}/{name} is not accepted"
            );
        }
    }
    let dir = seeds_dir();
    if std::env::var_os("POV_WRITE_FUZZ_SEEDS").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        for (target, files) in &seeds {
            let sub = dir.join(target);
            std::fs::create_dir_all(&sub).expect("create seed directory");
            for (name, bytes) in files {
                std::fs::write(sub.join(name), bytes).expect("write seed");
            }
        }
    }
    let regenerate = "rewrite them with POV_WRITE_FUZZ_SEEDS=1 cargo test -p pov-node --lib \
                      fuzz_seeds, and commit fuzz/seeds/";
    for (target, files) in &seeds {
        let sub = dir.join(target);
        let mut on_disk: Vec<String> = std::fs::read_dir(&sub)
            .unwrap_or_else(|e| panic!("{}: {e}; {regenerate}", sub.display()))
            .map(|entry| {
                entry
                    .expect("directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        on_disk.sort();
        let expected: Vec<String> = files.keys().cloned().collect();
        assert_eq!(on_disk, expected, "seeds of {target} differ; {regenerate}");
        for (name, bytes) in files {
            let stored = std::fs::read(sub.join(name)).expect("read seed");
            assert!(
                &stored == bytes,
                "seed {target}/{name} is out of date; {regenerate}"
            );
        }
    }
}
