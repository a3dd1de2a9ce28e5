//! End-to-end tests: real nodes on 127.0.0.1 (port 0, mDNS off), all in this process, each
//! bounded in time.

use std::{future::Future, time::Duration};

use libp2p::multiaddr::Protocol;
use tokio::{sync::mpsc, time};

use super::*;

pub(super) const GENESIS: [u8; 32] = [1; 32];
pub(super) const OTHER_GENESIS: [u8; 32] = [2; 32];
/// What the node will pass: blocks of 1,000 transactions fit comfortably.
const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;
/// Bound on any single wait for something that should happen.
pub(super) const PATIENCE: Duration = Duration::from_secs(15);
/// How long we watch for something that must not happen.
pub(super) const QUIET: Duration = Duration::from_millis(1500);

pub(super) fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

pub(super) fn config(genesis: [u8; 32], bootnodes: Vec<Multiaddr>) -> NetworkConfig {
    NetworkConfig {
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid multiaddr")],
        bootnodes,
        mdns: false,
        discovery: true,
        genesis_hash: genesis,
        keypair: Keypair::generate_ed25519(),
        max_message_bytes: MAX_MESSAGE_BYTES,
        limits: crate::network::Limits::default(),
    }
}

/// A running node as the tests see it.
pub(super) struct Node {
    pub(super) handle: NetworkHandle,
    pub(super) events: mpsc::Receiver<NetworkEvent>,
    /// Its bound address with `/p2p/<peer id>`, ready to be someone's bootnode.
    pub(super) addr: Multiaddr,
}

impl Node {
    pub(super) async fn start(config: NetworkConfig) -> Node {
        let (handle, events) = spawn(config).expect("network starts");
        let bound = time::timeout(PATIENCE, handle.listen_addrs())
            .await
            .expect("listen addresses reported in time");
        let addr = bound
            .into_iter()
            .next()
            .expect("one bound address")
            .with(Protocol::P2p(handle.local_peer_id()));
        Node {
            handle,
            events,
            addr,
        }
    }

    pub(super) async fn with_bootnodes(genesis: [u8; 32], bootnodes: &[&Node]) -> Node {
        let addrs = bootnodes.iter().map(|n| n.addr.clone()).collect();
        Node::start(config(genesis, addrs)).await
    }

    pub(super) fn id(&self) -> PeerId {
        self.handle.local_peer_id()
    }

    /// Next gossip message within `within`, skipping peer (dis)connection events.
    async fn next_gossip(
        &mut self,
        within: Duration,
    ) -> Option<(Topic, MessageId, PeerId, Vec<u8>)> {
        let deadline = time::Instant::now() + within;
        loop {
            match time::timeout_at(deadline, self.events.recv()).await {
                Err(_) | Ok(None) => return None,
                Ok(Some(NetworkEvent::Gossip {
                    topic,
                    id,
                    source,
                    data,
                })) => return Some((topic, id, source, data)),
                Ok(Some(_)) => {}
            }
        }
    }

    /// Next gossip message, which must arrive.
    async fn expect_gossip(&mut self) -> (Topic, MessageId, PeerId, Vec<u8>) {
        self.next_gossip(PATIENCE)
            .await
            .expect("gossip message arrives in time")
    }
}

/// Polls `check` every 50 ms until it holds; panics with `what` after [`PATIENCE`].
pub(super) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(time::Instant::now() < deadline, "timed out waiting: {what}");
        time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `node` sees `peer` as a verified peer subscribed to every topic.
async fn wait_gossip_ready(node: &Node, peer: PeerId) {
    eventually("peer connected and subscribed", || async {
        let mut ready = node.handle.peers().await.contains(&peer);
        for topic in Topic::ALL {
            ready &= node.handle.topic_peers(topic).await.contains(&peer);
        }
        ready
    })
    .await;
}

/// (1) A-B-C in a line (no A-C link): A's gossip reaches B on the right topic, and reaches C
/// only once B accepts it; a message B rejects never reaches C.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_is_forwarded_only_after_accept() {
    init_tracing();
    // Discovery off: it would link A and C through B.
    let line = |bootnodes: &[&Node]| NetworkConfig {
        discovery: false,
        ..config(GENESIS, bootnodes.iter().map(|n| n.addr.clone()).collect())
    };
    let mut b = Node::start(line(&[])).await;
    let a = Node::start(line(&[&b])).await;
    let mut c = Node::start(line(&[&b])).await;
    wait_gossip_ready(&a, b.id()).await;
    wait_gossip_ready(&c, b.id()).await;
    wait_gossip_ready(&b, a.id()).await;
    wait_gossip_ready(&b, c.id()).await;
    assert!(
        !a.handle.peers().await.contains(&c.id()),
        "A and C must not be linked"
    );

    // Warm up until B's mesh reaches C: A publishes, B accepts, until C gets one.
    let mut warmed = false;
    for round in 0..20u32 {
        a.handle
            .publish(Topic::Transactions, format!("warm-up {round}").into_bytes())
            .await
            .expect("publish");
        let (_, id, source, _) = b.expect_gossip().await;
        b.handle.report(id, source, Verdict::Accept);
        if c.next_gossip(Duration::from_millis(500)).await.is_some() {
            warmed = true;
            break;
        }
    }
    assert!(warmed, "C never received gossip through B");
    while c.next_gossip(Duration::from_millis(300)).await.is_some() {}

    // Held until B's verdict, then forwarded.
    let held = b"consensus vote".to_vec();
    a.handle
        .publish(Topic::Consensus, held.clone())
        .await
        .expect("publish");
    let (topic, id, source, data) = b.expect_gossip().await;
    assert_eq!((topic, source, &data), (Topic::Consensus, a.id(), &held));
    assert_eq!(
        id,
        MessageId::new(blake3::hash(&held).as_bytes()),
        "id is the content hash"
    );
    assert!(
        c.next_gossip(QUIET).await.is_none(),
        "C got the message before B's verdict"
    );
    b.handle.report(id.clone(), source, Verdict::Accept);
    let (topic, c_id, relay, data) = c.expect_gossip().await;
    assert_eq!(
        (topic, c_id, relay, data),
        (Topic::Consensus, id, b.id(), held)
    );

    // Rejected by B: never reaches C, while the next accepted message does.
    let bad = b"invalid transaction".to_vec();
    a.handle
        .publish(Topic::Transactions, bad.clone())
        .await
        .expect("publish");
    let (topic, id, source, data) = b.expect_gossip().await;
    assert_eq!((topic, &data), (Topic::Transactions, &bad));
    b.handle.report(id, source, Verdict::Reject);
    let good = b"valid transaction".to_vec();
    a.handle
        .publish(Topic::Transactions, good.clone())
        .await
        .expect("publish");
    let (_, id, source, data) = b.expect_gossip().await;
    assert_eq!(data, good);
    b.handle.report(id, source, Verdict::Accept);
    let (_, _, _, data) = c.expect_gossip().await;
    assert_eq!(
        data, good,
        "C must get the accepted message, and not the rejected one"
    );
    assert!(
        c.next_gossip(QUIET).await.is_none(),
        "C got the rejected message"
    );

    for node in [&a, &b, &c] {
        node.handle.shutdown().await;
    }
}

/// (2) Sync request and response of 1 MiB each, well above any 64 KiB default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_response_round_trip_of_a_one_mib_answer() {
    init_tracing();
    let mut b = Node::start(config(GENESIS, vec![])).await;
    let a = Node::with_bootnodes(GENESIS, &[&b]).await;
    eventually("A sees B", || async {
        a.handle.peers().await.contains(&b.id())
    })
    .await;

    // Requests are small by design (at most MAX_REQUEST_BYTES); answers may be megabytes.
    let too_big = vec![0u8; super::config::MAX_REQUEST_BYTES + 1];
    let refused = a.handle.request(b_id_of(&a).await, too_big).await;
    assert!(
        matches!(refused, Err(NetworkError::MessageTooLarge { .. })),
        "{refused:?}"
    );
    let request: Vec<u8> = (0..1000).map(|i| (i % 251) as u8).collect();
    let response: Vec<u8> = (0..1024 * 1024).map(|i| (i % 241) as u8).collect();
    let (expected_request, answer) = (request.clone(), response.clone());
    let a_id = a.id();
    let server = tokio::spawn(async move {
        loop {
            match time::timeout(PATIENCE, b.events.recv()).await {
                Ok(Some(NetworkEvent::Request { peer, data, reply })) => {
                    assert_eq!(peer, a_id);
                    assert_eq!(data, expected_request);
                    reply.send(answer).expect("requester still waiting");
                    return b;
                }
                Ok(Some(_)) => {}
                _ => panic!("no request reached B"),
            }
        }
    });
    let got = time::timeout(PATIENCE, a.handle.request(b_id_of(&a).await, request))
        .await
        .expect("request answered in time")
        .expect("request succeeds");
    assert_eq!(got, response);
    let mut b = server.await.expect("server task");

    // Dropping the reply fails the request instead of hanging it.
    let decline = tokio::spawn(async move {
        if let Ok(Some(NetworkEvent::Request { reply, .. })) = time::timeout(PATIENCE, async {
            loop {
                match b.events.recv().await {
                    Some(event @ NetworkEvent::Request { .. }) => return Some(event),
                    Some(_) => {}
                    None => return None,
                }
            }
        })
        .await
        {
            drop(reply);
        }
        b
    });
    let declined = time::timeout(PATIENCE, a.handle.request(b_id_of(&a).await, b"x".to_vec()))
        .await
        .expect("declined request fails in time");
    assert!(
        matches!(declined, Err(NetworkError::Request(_))),
        "{declined:?}"
    );
    let b = decline.await.expect("decline task");

    // Over the limit: refused locally.
    let too_big = vec![0u8; super::config::MAX_REQUEST_BYTES + 1];
    let refused = a.handle.request(b.id(), too_big).await;
    assert!(
        matches!(refused, Err(NetworkError::MessageTooLarge { .. })),
        "{refused:?}"
    );

    a.handle.shutdown().await;
    b.handle.shutdown().await;
}

/// The only peer `node` is connected to.
async fn b_id_of(node: &Node) -> PeerId {
    let peers = node.handle.peers().await;
    assert_eq!(peers.len(), 1, "expected exactly one peer");
    peers[0]
}

/// (3) A node of another chain never delivers gossip, is disconnected, and stays refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_of_another_genesis_is_disconnected_and_never_gossips() {
    init_tracing();
    let mut a = Node::start(config(GENESIS, vec![])).await;
    let mut x = Node::with_bootnodes(OTHER_GENESIS, &[&a]).await;

    // X keeps publishing while the connection lives and dies.
    for i in 0..10u32 {
        x.handle
            .publish(Topic::Consensus, format!("foreign {i}").into_bytes())
            .await
            .expect("publish never fails for lack of peers");
        time::sleep(Duration::from_millis(50)).await;
    }
    eventually("both sides block each other", || async {
        let a_state = a.handle.debug_state().await.expect("A running");
        let x_state = x.handle.debug_state().await.expect("X running");
        a_state.blocked.contains(&x.id()) && x_state.blocked.contains(&a.id())
    })
    .await;
    eventually("connection closed", || async {
        let state = a.handle.debug_state().await.expect("A running");
        !state.connected.contains(&x.id())
    })
    .await;

    // It stays closed: X does not re-dial its (foreign) bootnode, and A would refuse it.
    time::sleep(QUIET).await;
    let state = a.handle.debug_state().await.expect("A running");
    assert!(!state.connected.contains(&x.id()), "X reconnected");
    assert!(a.handle.peers().await.is_empty());
    assert!(x.handle.peers().await.is_empty());
    for node in [&mut a, &mut x] {
        while let Ok(event) = node.events.try_recv() {
            assert!(
                !matches!(
                    event,
                    NetworkEvent::Gossip { .. } | NetworkEvent::PeerConnected(_)
                ),
                "foreign peer leaked through: {event:?}"
            );
        }
    }
    a.handle.shutdown().await;
    x.handle.shutdown().await;
}

/// (4) A 300 KiB message, far above gossipsub's 64 KiB default, gossips fine; a message over
/// `max_message_bytes` is refused before it is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_message_larger_than_64_kib_is_delivered() {
    init_tracing();
    let mut b = Node::start(config(GENESIS, vec![])).await;
    let a = Node::with_bootnodes(GENESIS, &[&b]).await;
    wait_gossip_ready(&a, b.id()).await;

    let block: Vec<u8> = (0..300 * 1024).map(|i| (i % 253) as u8).collect();
    a.handle
        .publish(Topic::Consensus, block.clone())
        .await
        .expect("publish");
    let (topic, id, source, data) = b.expect_gossip().await;
    assert_eq!((topic, source), (Topic::Consensus, a.id()));
    assert!(data == block, "300 KiB payload arrived intact");
    b.handle.report(id, source, Verdict::Accept);

    let oversized = a
        .handle
        .publish(Topic::Consensus, vec![0; MAX_MESSAGE_BYTES + 1])
        .await;
    assert!(
        matches!(oversized, Err(NetworkError::MessageTooLarge { .. })),
        "{oversized:?}"
    );

    a.handle.shutdown().await;
    b.handle.shutdown().await;
}

/// (5) Shutdown stops the loop: events end, calls fail or come back empty, and peers see the
/// node leave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_the_event_loop() {
    init_tracing();
    let mut b = Node::start(config(GENESIS, vec![])).await;
    let mut a = Node::with_bootnodes(GENESIS, &[&b]).await;
    eventually("B sees A", || async {
        b.handle.peers().await.contains(&a.id())
    })
    .await;

    time::timeout(PATIENCE, a.handle.shutdown())
        .await
        .expect("shutdown returns in time");
    let drained = time::timeout(PATIENCE, async { while a.events.recv().await.is_some() {} }).await;
    assert!(drained.is_ok(), "event stream did not end");
    let published = a
        .handle
        .publish(Topic::Transactions, b"late".to_vec())
        .await;
    assert!(
        matches!(published, Err(NetworkError::Shutdown)),
        "{published:?}"
    );
    let requested = a.handle.request(b.id(), b"late".to_vec()).await;
    assert!(
        matches!(requested, Err(NetworkError::Shutdown)),
        "{requested:?}"
    );
    assert!(a.handle.peers().await.is_empty());
    assert!(a.handle.listen_addrs().await.is_empty());
    time::timeout(PATIENCE, a.handle.shutdown())
        .await
        .expect("second shutdown returns at once");

    let a_id = a.id();
    let left = time::timeout(PATIENCE, async {
        loop {
            match b.events.recv().await {
                Some(NetworkEvent::PeerDisconnected(peer)) if peer == a_id => return true,
                Some(_) => {}
                None => return false,
            }
        }
    })
    .await;
    assert!(matches!(left, Ok(true)), "B did not see A leave");
    b.handle.shutdown().await;
}

/// Peer scoring: a peer whose messages keep being rejected is disconnected and banned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_of_rejected_messages_is_banned() {
    init_tracing();
    let mut b = Node::start(config(GENESIS, vec![])).await;
    let a = Node::with_bootnodes(GENESIS, &[&b]).await;
    wait_gossip_ready(&a, b.id()).await;

    for i in 0..3u32 {
        a.handle
            .publish(Topic::Transactions, format!("junk {i}").into_bytes())
            .await
            .expect("publish");
        let (_, id, source, _) = b.expect_gossip().await;
        assert_eq!(source, a.id());
        b.handle.report(id, source, Verdict::Reject);
    }
    eventually("B bans A", || async {
        let state = b.handle.debug_state().await.expect("B running");
        state.blocked.contains(&a.id()) && !state.connected.contains(&a.id())
    })
    .await;
    // A keeps re-dialling its bootnode, but B refuses it.
    time::sleep(QUIET).await;
    assert!(!b.handle.peers().await.contains(&a.id()));

    a.handle.shutdown().await;
    b.handle.shutdown().await;
}

/// A bootnode that is down at start is dialled again until it comes up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootnode_is_redialled_until_it_comes_up() {
    init_tracing();
    // Learn a free port and B's address, then take B down.
    let b_config = config(GENESIS, vec![]);
    let b_keypair = b_config.keypair.clone();
    let b = Node::start(b_config).await;
    let b_addr = b.addr.clone();
    let b_listen: Multiaddr = b_addr
        .iter()
        .filter(|p| !matches!(p, Protocol::P2p(_)))
        .collect();
    b.handle.shutdown().await;
    drop(b);

    let a = Node::start(config(GENESIS, vec![b_addr.clone()])).await;
    time::sleep(Duration::from_millis(800)).await;
    assert!(a.handle.peers().await.is_empty());

    let b = Node::start(NetworkConfig {
        listen: vec![b_listen],
        keypair: b_keypair,
        ..config(GENESIS, vec![])
    })
    .await;
    assert_eq!(b.addr, b_addr, "B is back on the same address");
    eventually("A re-dials B", || async {
        a.handle.peers().await.contains(&b.id())
    })
    .await;

    a.handle.shutdown().await;
    b.handle.shutdown().await;
}

/// Start-up errors are returned, not panicked.
#[tokio::test]
async fn invalid_config_is_an_error() {
    let bad_size = spawn(NetworkConfig {
        max_message_bytes: 0,
        ..config(GENESIS, vec![])
    });
    assert!(matches!(bad_size, Err(NetworkError::InvalidConfig(_))));
    let bad_listen = spawn(NetworkConfig {
        listen: vec!["/ip4/127.0.0.1/udp/0".parse().expect("valid multiaddr")],
        ..config(GENESIS, vec![])
    });
    assert!(matches!(bad_listen, Err(NetworkError::Listen { .. })));
}

#[test]
fn spawn_outside_a_runtime_is_an_error() {
    assert!(matches!(
        spawn(config(GENESIS, vec![])),
        Err(NetworkError::NoRuntime)
    ));
}
