//! Peer discovery between real nodes on 127.0.0.1: nodes that only know one bootnode find
//! each other, and a node of another chain is never handed out.

use std::time::Duration;

use libp2p::multiaddr::Protocol;
use tokio::time;

use super::discovery::{dialable, MAX_ADDRS_PER_PEER};
use super::tests::{config, eventually, init_tracing, Node, GENESIS, OTHER_GENESIS, QUIET};
use super::*;

/// B and C know only A; each learns the other from A's routing table and connects to it.
/// F, of another chain, also dials A: A refuses it, and neither B nor C ever hears of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_of_a_bootnode_find_each_other_and_never_a_foreign_node() {
    init_tracing();
    let a = Node::start(config(GENESIS, vec![])).await;
    let f = Node::with_bootnodes(OTHER_GENESIS, &[&a]).await;
    let b = Node::with_bootnodes(GENESIS, &[&a]).await;
    let c = Node::with_bootnodes(GENESIS, &[&a]).await;

    eventually("B and C discover each other through A", || async {
        b.handle.peers().await.contains(&c.id()) && c.handle.peers().await.contains(&b.id())
    })
    .await;
    time::sleep(QUIET).await;
    for node in [&a, &b, &c] {
        let state = node.handle.debug_state().await.expect("running");
        assert!(
            !node.handle.peers().await.contains(&f.id()),
            "a node of another chain became a peer"
        );
        if node.id() != a.id() {
            assert!(
                !state.connected.contains(&f.id()),
                "B or C was told about the foreign node"
            );
        }
    }
    for node in [a, b, c, f] {
        node.handle.shutdown().await;
    }
}

#[test]
fn announced_addresses_are_filtered_and_bounded() {
    let peer = PeerId::random();
    let other = PeerId::random();
    let tcp = |i: u16| -> Multiaddr {
        format!("/ip4/10.0.0.1/tcp/{}", 1000 + i)
            .parse()
            .expect("addr")
    };
    let mut announced: Vec<Multiaddr> = vec![
        "/ip4/0.0.0.0/tcp/26656".parse().expect("addr"),
        "/ip4/10.0.0.1/udp/26656".parse().expect("addr"),
        "/ip4/10.0.0.1/tcp/0".parse().expect("addr"),
        tcp(0).with(Protocol::P2p(other)),
        tcp(1).with(Protocol::P2p(peer)),
        tcp(1),
    ];
    announced.extend((2..40).map(tcp));
    let kept = dialable(&peer, &announced);
    assert_eq!(kept.len(), MAX_ADDRS_PER_PEER);
    assert_eq!(
        kept[0],
        tcp(1),
        "own /p2p suffix stripped, duplicate dropped"
    );
    assert_eq!(kept[1], tcp(2));
    assert!(kept.iter().all(|a| a.iter().count() == 2), "{kept:?}");
    let _ = Duration::ZERO;
}
