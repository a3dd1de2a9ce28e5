//! The consensus host driven directly (no network, no runtime): what it does with evidence.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use pov_consensus::{Evidence, NilOrVal, SignedVote, Vote, VoteKind};
use pov_crypto::Keypair;
use pov_node::config::NodeConfig;
use pov_node::host::{Host, HostConfig, Input, Output};
use pov_node::network::{Topic, Verdict};
use pov_node::shared::{read, Shared};
use pov_node::wal::MemoryLog;
use pov_node::wire::{ConsensusMessage, Envelope};
use pov_protocol::genesis::{dev_validator_key, Genesis, GenesisValidator};
use pov_storage::Store;

const NOW: u64 = 1_767_225_700_000;

/// Validator 0's host of a four-validator chain, started at height 1.
fn host() -> (Host<usize>, Arc<Shared>) {
    let mut genesis = Genesis::dev();
    genesis.validators = (0..4)
        .map(|i| GenesisValidator {
            public_key: dev_validator_key(i).address(),
            power: 1,
            addr: None,
        })
        .collect();
    let store = Store::in_memory(genesis).expect("store");
    let key = dev_validator_key(0);
    let shared = Arc::new(Shared::new(store, 100, Some(key.address())).expect("shared"));
    let mut host = Host::new(
        shared.clone(),
        Some(key),
        Box::new(MemoryLog::new()),
        HostConfig::from_node_config(&NodeConfig::default()),
    );
    let _ = host.start(NOW, Vec::new()).expect("start");
    (host, shared)
}

fn prevote(key: &Keypair, value: NilOrVal<pov_crypto::Hash>) -> SignedVote {
    Vote {
        kind: VoteKind::Prevote,
        height: 1,
        round: 0,
        value,
        validator: key.address(),
    }
    .sign(key)
    .expect("own key")
}

fn gossip(host: &mut Host<usize>, message: ConsensusMessage, nonce: u64) -> Vec<Output<usize>> {
    let data = Envelope { message, nonce }.to_bytes();
    host.handle(
        NOW,
        Input::Gossip {
            topic: Topic::Consensus,
            data,
        },
    )
    .expect("handled")
}

fn verdict(outputs: &[Output<usize>]) -> Option<Verdict> {
    outputs.iter().find_map(|o| match o {
        Output::Verdict(v) => Some(*v),
        _ => None,
    })
}

fn published_evidence(outputs: &[Output<usize>]) -> Vec<Evidence> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Publish {
                topic: Topic::Consensus,
                data,
            } => match Envelope::from_bytes(data).ok()?.message {
                ConsensusMessage::Evidence(e) => Some(e),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn double_votes_seen_by_the_engine_are_stored_and_gossiped() {
    let (mut host, shared) = host();
    let culprit = dev_validator_key(2);
    let a = prevote(&culprit, NilOrVal::Val(pov_crypto::hash(b"a")));
    let b = prevote(&culprit, NilOrVal::Nil);
    assert!(published_evidence(&gossip(&mut host, ConsensusMessage::Vote(a), 1)).is_empty());
    let outputs = gossip(&mut host, ConsensusMessage::Vote(b), 2);
    let sent = published_evidence(&outputs);
    assert_eq!(sent.len(), 1, "the new evidence is gossiped: {outputs:?}");
    assert_eq!(sent[0].offender(), culprit.address());
    let stored = read(&shared.store).evidence(0, 10).expect("evidence");
    assert_eq!(stored, sent);
    assert_eq!(shared.evidence.load(Ordering::Relaxed), 1);
}

#[test]
fn gossiped_evidence_is_checked_kept_once_and_relayed_once() {
    let (mut host, shared) = host();
    let culprit = dev_validator_key(3);
    let evidence = Evidence::DoubleSign {
        validator: culprit.address(),
        vote_a: prevote(&culprit, NilOrVal::Val(pov_crypto::hash(b"a"))),
        vote_b: prevote(&culprit, NilOrVal::Val(pov_crypto::hash(b"b"))),
    };
    let outputs = gossip(&mut host, ConsensusMessage::Evidence(evidence.clone()), 1);
    assert_eq!(
        verdict(&outputs),
        Some(Verdict::Accept),
        "new: kept and relayed"
    );
    assert_eq!(
        read(&shared.store).evidence(0, 10).expect("evidence").len(),
        1
    );
    assert_eq!(shared.evidence.load(Ordering::Relaxed), 1);
    let again = gossip(&mut host, ConsensusMessage::Evidence(evidence.clone()), 2);
    assert_eq!(
        verdict(&again),
        Some(Verdict::Ignore),
        "known: not relayed again"
    );

    // Forged: the second vote's signature is the first one's.
    let Evidence::DoubleSign {
        validator,
        vote_a,
        mut vote_b,
    } = evidence
    else {
        unreachable!("built as a double sign");
    };
    vote_b.signature = vote_a.signature;
    vote_b.vote.round = 5;
    let forged = Evidence::DoubleSign {
        validator,
        vote_a,
        vote_b,
    };
    let outputs = gossip(&mut host, ConsensusMessage::Evidence(forged), 3);
    assert_eq!(verdict(&outputs), Some(Verdict::Reject));
    // Against someone who is not a validator: no use to anyone.
    let outsider = Keypair::dev(77);
    let stranger = Evidence::DoubleSign {
        validator: outsider.address(),
        vote_a: prevote(&outsider, NilOrVal::Nil),
        vote_b: prevote(&outsider, NilOrVal::Val(pov_crypto::hash(b"c"))),
    };
    let outputs = gossip(&mut host, ConsensusMessage::Evidence(stranger), 4);
    assert_eq!(verdict(&outputs), Some(Verdict::Reject));
    assert_eq!(
        read(&shared.store).evidence(0, 10).expect("evidence").len(),
        1
    );
}
