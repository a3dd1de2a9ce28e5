//! The consensus host's sync client against a hostile peer, driven directly (no network, no
//! runtime): answers that break the protocol are refused whole and get their sender banned,
//! and nothing of them reaches the store.

use std::sync::Arc;

use pov_node::config::NodeConfig;
use pov_node::host::{Host, HostConfig, Input, Output, Timer};
use pov_node::shared::{read, Shared};
use pov_node::wal::MemoryLog;
use pov_node::wire::{SyncRequest, SyncResponse, MAX_SYNC_BATCH};
use pov_protocol::block::{Block, Certificate};
use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_protocol::test_utils::{certify, Workload};
use pov_storage::test_utils::commit_next;
use pov_storage::Store;

const NOW: u64 = 1_767_225_700_000;
const PEER: usize = 7;
const CHAIN: u64 = 40;

/// The honest chain of the dev genesis, `CHAIN` blocks long, as a peer serves it.
fn chain() -> Vec<(Block, Certificate)> {
    let mut store = Store::in_memory(Genesis::dev()).expect("store");
    let workload = Workload::dev(4);
    for _ in 0..CHAIN {
        commit_next(&mut store, &workload, 3, &|_| false).expect("commit");
    }
    (1..=CHAIN)
        .map(|h| {
            let stored = store.block(h).expect("read").expect("stored");
            (stored.block, stored.certificate)
        })
        .collect()
}

/// A full node of the dev genesis at height 0, with one peer.
fn node() -> (Host<usize>, Arc<Shared>) {
    let store = Store::in_memory(Genesis::dev()).expect("store");
    let shared = Arc::new(Shared::new(store, 100, None).expect("shared"));
    let mut host = Host::new(
        shared.clone(),
        None,
        Box::new(MemoryLog::new()),
        HostConfig::from_node_config(&NodeConfig::default()),
    );
    let _ = host.start(NOW, Vec::new()).expect("start");
    let _ = host.handle(NOW, Input::PeerUp(PEER)).expect("peer up");
    (host, shared)
}

fn handle(host: &mut Host<usize>, input: Input<usize>) -> Vec<Output<usize>> {
    host.handle(NOW, input).expect("handled")
}

fn requests(outputs: &[Output<usize>]) -> Vec<SyncRequest> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Request {
                peer: PEER,
                request,
            } => Some(request.clone()),
            _ => None,
        })
        .collect()
}

fn bans(outputs: &[Output<usize>]) -> Vec<String> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Ban { peer: PEER, reason } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

/// Polls, answers the status with `CHAIN`, and returns the blocks request that follows.
fn ask_for_blocks(host: &mut Host<usize>) -> (u64, u64) {
    let out = handle(host, Input::Timer(Timer::SyncPoll));
    assert_eq!(requests(&out), vec![SyncRequest::Status]);
    let out = handle(
        host,
        Input::SyncReply {
            peer: PEER,
            request: SyncRequest::Status,
            response: Some(SyncResponse::Status {
                genesis: Genesis::dev().hash(),
                height: CHAIN,
            }),
        },
    );
    match requests(&out).as_slice() {
        [SyncRequest::Blocks { from, to }] => (*from, *to),
        other => panic!("expected one blocks request, got {other:?}"),
    }
}

fn reply(host: &mut Host<usize>, blocks: Vec<(Block, Certificate)>) -> Vec<Output<usize>> {
    handle(
        host,
        Input::SyncReply {
            peer: PEER,
            request: SyncRequest::Blocks {
                from: 1,
                to: MAX_SYNC_BATCH,
            },
            response: Some(SyncResponse::Blocks(blocks)),
        },
    )
}

#[test]
fn an_honest_answer_is_committed_without_a_ban() {
    let chain = chain();
    let (mut host, shared) = node();
    let (from, to) = ask_for_blocks(&mut host);
    assert_eq!((from, to), (1, MAX_SYNC_BATCH));
    let out = reply(&mut host, chain[..to as usize].to_vec());
    assert!(bans(&out).is_empty(), "{out:?}");
    assert_eq!(read(&shared.store).height(), MAX_SYNC_BATCH);
    // Still behind: the next round starts at once.
    assert_eq!(requests(&out), vec![SyncRequest::Status]);
}

#[test]
fn an_answer_stuffed_with_heights_not_asked_for_is_refused_whole() {
    let chain = chain();
    for stuffed in [
        // More entries than asked for (a frame can hold tens of thousands).
        {
            let mut blocks = chain[..MAX_SYNC_BATCH as usize].to_vec();
            blocks.extend(std::iter::repeat_n(chain[0].clone(), 5_000));
            blocks
        },
        // The same (held, valid) height over and over.
        vec![chain[0].clone(); MAX_SYNC_BATCH as usize],
        // Out of order.
        vec![chain[1].clone(), chain[0].clone()],
        // Not starting where asked.
        vec![chain[5].clone()],
    ] {
        let (mut host, shared) = node();
        let _ = ask_for_blocks(&mut host);
        let out = reply(&mut host, stuffed);
        assert_eq!(bans(&out).len(), 1, "{out:?}");
        assert_eq!(
            read(&shared.store).height(),
            0,
            "nothing of it was committed"
        );
    }
}

#[test]
fn a_block_with_a_bad_certificate_or_state_root_gets_its_sender_banned() {
    let chain = chain();
    let impostor = dev_validator_key(5);

    // A certificate signed by a key that is not a validator.
    let (mut host, shared) = node();
    let _ = ask_for_blocks(&mut host);
    let mut blocks = chain[..3].to_vec();
    blocks[1].1 = certify(&blocks[1].0, 0, &[&impostor]);
    let out = reply(&mut host, blocks);
    let banned = bans(&out);
    assert_eq!(banned.len(), 1, "{out:?}");
    assert!(banned[0].contains("does not verify"), "{banned:?}");
    assert_eq!(
        read(&shared.store).height(),
        1,
        "blocks before the bad one stay"
    );

    // A wrong state root, certified by the real validator (who would have to be faulty).
    let (mut host, shared) = node();
    let _ = ask_for_blocks(&mut host);
    let mut blocks = chain[..1].to_vec();
    blocks[0].0.header.state_root = pov_crypto::hash(b"wrong");
    blocks[0].1 = certify(&blocks[0].0, 0, &[&dev_validator_key(0)]);
    let out = reply(&mut host, blocks);
    assert_eq!(bans(&out).len(), 1, "{out:?}");
    assert_eq!(read(&shared.store).height(), 0);
}

#[test]
fn a_status_of_another_genesis_or_an_answer_of_the_wrong_kind_gets_a_ban() {
    let (mut host, _) = node();
    let out = handle(&mut host, Input::Timer(Timer::SyncPoll));
    assert_eq!(requests(&out), vec![SyncRequest::Status]);
    let out = handle(
        &mut host,
        Input::SyncReply {
            peer: PEER,
            request: SyncRequest::Status,
            response: Some(SyncResponse::Status {
                genesis: pov_crypto::hash(b"another cooperative"),
                height: 1_000,
            }),
        },
    );
    assert_eq!(bans(&out).len(), 1, "{out:?}");
    assert!(requests(&out).is_empty(), "{out:?}");

    let (mut host, _) = node();
    let _ = handle(&mut host, Input::Timer(Timer::SyncPoll));
    let out = reply(&mut host, Vec::new());
    assert_eq!(bans(&out).len(), 1, "blocks for a status request: {out:?}");

    // A failed request or an error answer is not misbehaviour.
    let (mut host, _) = node();
    let _ = handle(&mut host, Input::Timer(Timer::SyncPoll));
    let out = handle(
        &mut host,
        Input::SyncReply {
            peer: PEER,
            request: SyncRequest::Status,
            response: None,
        },
    );
    assert!(bans(&out).is_empty(), "{out:?}");
}

/// A certified block holding a transaction whose signature does not verify (its validators
/// would have to be faulty): the batch's signatures are checked before the commits, and the
/// forged one is vouched for by nothing, so the block is refused and its sender banned.
#[test]
fn a_certified_block_with_a_forged_signature_gets_its_sender_banned() {
    use pov_protocol::test_utils::build_block;
    let chain = chain();
    let genesis = Genesis::dev();
    let mut state = genesis.state().expect("genesis state");
    state
        .apply_block(
            &chain[0].0,
            &genesis.parent(),
            &genesis.validator_set().expect("validators"),
            &|_| false,
        )
        .expect("block 1");
    let parent = pov_protocol::block::Parent {
        height: 1,
        hash: chain[0].0.hash(),
        time_ms: chain[0].0.header.time_ms,
    };
    let mut txs = chain[1].0.txs.clone();
    txs[0].signature.0[0] ^= 1;
    let validator = dev_validator_key(0);
    let forged = build_block(
        &state,
        &parent,
        &genesis.validator_set().expect("validators"),
        &validator,
        chain[1].0.header.time_ms,
        txs,
        &|_| true,
    )
    .expect("built trusting every signature");
    let certificate = certify(&forged, 0, &[&validator]);

    let (mut host, shared) = node();
    let _ = ask_for_blocks(&mut host);
    let out = reply(&mut host, vec![chain[0].clone(), (forged, certificate)]);
    let banned = bans(&out);
    assert_eq!(banned.len(), 1, "{out:?}");
    assert!(banned[0].contains("does not verify"), "{banned:?}");
    assert_eq!(read(&shared.store).height(), 1, "the honest block stays");
}
