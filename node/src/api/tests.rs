//! The API in-process, over a real socket, for what a running `povd` shows only for an
//! instant: stopping (the flag is set between the end of the event loop and the end of the
//! server, so a black-box test cannot aim at it), and a request caught in the middle of its
//! read of the store (a gated engine holds it there) while a commit must go through.
//! Everything else is tested as a black box against a real node, in `node/tests/api.rs`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use libp2p::PeerId;
use pov_crypto::Keypair;
use pov_protocol::genesis::Genesis;
use pov_protocol::proof::ReputationProof;
use pov_protocol::test_utils::Workload;
use pov_protocol::{Transaction, TxBody};
use pov_storage::engine::{Engine, EngineError, KeyValue, MemoryEngine, Scan, Tree, WriteBatch};
use pov_storage::test_utils::commit_next;
use pov_storage::{OpenOptions, Store};

use super::{router, with_limits, ApiLimits, ApiState};
use crate::config::ConsensusTiming;
use crate::health::StallPolicy;
use crate::network::NetworkHandle;
use crate::shared::{lock, read, Shared, HISTORY_READS_AT_ONCE};

#[test]
fn a_stopping_node_refuses_transactions_with_503_and_keeps_answering_reads() {
    let store = Store::in_memory(Genesis::dev()).expect("store");
    let shared = Arc::new(Shared::new(store, 10, None).expect("shared"));
    // No network behind the handle: publishing fails at once (and is only logged), as on
    // a node whose network task has ended.
    let (commands, network) = tokio::sync::mpsc::unbounded_channel();
    drop(network);
    let api = ApiState {
        shared: shared.clone(),
        net: NetworkHandle::new(commands, PeerId::random()),
        stall: StallPolicy::from_timing(&ConsensusTiming::default()),
        event_streams: Arc::new(tokio::sync::Semaphore::new(4)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    runtime.spawn(async move { axum::serve(listener, router(api)).await });

    let tx = Transaction::sign(
        &Keypair::dev(1),
        "pov-devnet",
        &Genesis::dev().hash(),
        1,
        TxBody::Contribute {
            kind: "work".into(),
            title: "t".into(),
            uri: "u".into(),
            content_hash: None,
        },
    );
    let body = serde_json::to_string(&tx).expect("json");
    // Not stopping: admitted.
    let (status, answer) = pov_tests::http::post_json(&format!("{url}/tx"), &body).expect("answer");
    assert_eq!(status, 202, "{answer}");

    shared.stopping.store(true, Ordering::Relaxed);
    let next = Transaction::sign(
        &Keypair::dev(1),
        "pov-devnet",
        &Genesis::dev().hash(),
        2,
        tx.body.clone(),
    );
    let body = serde_json::to_string(&next).expect("json");
    let (status, answer) = pov_tests::http::post_json(&format!("{url}/tx"), &body).expect("answer");
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], "unavailable", "{answer}");
    assert_eq!(
        answer["error"]["message"], "the node is stopping",
        "{answer}"
    );
    assert_eq!(
        lock(&shared.mempool).len(),
        1,
        "the refused one was not admitted"
    );
    // Bytes too, not only JSON.
    let (status, _) =
        pov_tests::http::post_bytes(&format!("{url}/tx"), &next.to_bytes()).expect("answer");
    assert_eq!(status, 503);
    // Reads still work while stopping.
    let (status, doc) = pov_tests::http::get_with_status(&format!("{url}/status")).expect("answer");
    assert_eq!((status, doc["mempool"].as_u64()), (200, Some(1)), "{doc}");
}

// ---- reads that a commit must not wait for ----

/// A storage engine whose next read of one tree, once armed, parks until the test opens the
/// gate: it holds a request at the exact point where it reads the store, so the test can
/// tell whether the store's lock is held across that read.
struct Gated {
    inner: MemoryEngine,
    gate: Arc<Gate>,
}

#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    /// The tree whose next reads park, and how many more of them may (later ones, the
    /// commit's included, pass).
    armed: Option<(Tree, usize)>,
    parked: usize,
    open: bool,
}

impl Gate {
    /// The next read of `tree` parks.
    fn arm(&self, tree: Tree) {
        self.arm_many(tree, 1);
    }

    /// The next `count` reads of `tree` park.
    fn arm_many(&self, tree: Tree, count: usize) {
        let mut s = self.state.lock().expect("gate");
        *s = GateState {
            armed: Some((tree, count)),
            parked: 0,
            open: false,
        };
    }

    fn pass(&self, tree: Tree) {
        let mut s = self.state.lock().expect("gate");
        match s.armed {
            Some((armed, left)) if armed == tree && left > 0 => {
                s.armed = Some((armed, left - 1));
            }
            _ => return,
        }
        s.parked += 1;
        self.changed.notify_all();
        while !s.open {
            s = self.changed.wait(s).expect("gate");
        }
    }

    /// Waits (at most 30 s, for a loaded machine) until a read is parked.
    fn wait_parked(&self) {
        self.wait_parked_many(1);
    }

    /// Waits (at most 30 s) until `count` reads are parked.
    fn wait_parked_many(&self, count: usize) {
        let s = self.state.lock().expect("gate");
        let (s, _) = self
            .changed
            .wait_timeout_while(s, Duration::from_secs(30), |s| s.parked < count)
            .expect("gate");
        assert!(
            s.parked >= count,
            "{} of {count} requests reached the store within 30 s",
            s.parked
        );
    }

    fn open(&self) {
        self.state.lock().expect("gate").open = true;
        self.changed.notify_all();
    }
}

/// Opens the gate when dropped: a failing test must not leave a request parked, or the
/// runtime (which waits for its tasks) would never shut down.
struct OpenOnDrop(Arc<Gate>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

impl Engine for Gated {
    fn name(&self) -> &'static str {
        "gated memory"
    }
    fn location(&self) -> std::path::PathBuf {
        self.inner.location()
    }
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        self.gate.pass(tree);
        self.inner.get(tree, key)
    }
    fn scan(&self, scan: Scan<'_>) -> Result<Vec<KeyValue>, EngineError> {
        self.gate.pass(scan.tree);
        self.inner.scan(scan)
    }
    fn write(&self, batch: &WriteBatch) -> Result<(), EngineError> {
        self.inner.write(batch)
    }
    fn flush(&self) -> Result<(), EngineError> {
        self.inner.flush()
    }
    fn size_on_disk(&self) -> Result<u64, EngineError> {
        self.inner.size_on_disk()
    }
}

/// A node's shared state over a gated store of 15 blocks with a checkpoint every 10 (a proof
/// at height 13 replays blocks 11 to 13), and its API with `request_timeout`, served on a
/// real socket. The guard opens the gate before the runtime is dropped.
fn gated_api(request_timeout: Duration) -> (Arc<Shared>, Arc<Gate>, String, Served) {
    let gate = Arc::new(Gate::default());
    let engine = Gated {
        inner: MemoryEngine::new(),
        gate: gate.clone(),
    };
    let options = OpenOptions {
        checkpoint_interval: 10,
        ..OpenOptions::default()
    };
    let mut store = Store::with_engine(Box::new(engine), Genesis::dev(), &options).expect("store");
    let workload = Workload::dev(4);
    for _ in 0..15 {
        commit_next(&mut store, &workload, 4, &|_| false).expect("commit");
    }
    let shared = Arc::new(Shared::new(store, 10, None).expect("shared"));
    let (commands, network) = tokio::sync::mpsc::unbounded_channel();
    drop(network);
    let api = ApiState {
        shared: shared.clone(),
        net: NetworkHandle::new(commands, PeerId::random()),
        stall: StallPolicy::from_timing(&ConsensusTiming::default()),
        event_streams: Arc::new(tokio::sync::Semaphore::new(4)),
    };
    let limits = ApiLimits {
        request_timeout,
        ..ApiLimits::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    runtime.spawn(async move { axum::serve(listener, with_limits(router(api), &limits)).await });
    let served = Served {
        _open: OpenOnDrop(gate.clone()),
        _runtime: runtime,
    };
    (shared, gate, url, served)
}

/// The API's runtime, and the guard that opens the gate first when the test ends (fields
/// drop in order).
struct Served {
    _open: OpenOnDrop,
    _runtime: tokio::runtime::Runtime,
}

/// Commits the next block, asserting that nothing holds the store's lock (a reader would
/// make the node's commit wait).
fn commit_without_waiting(shared: &Shared) {
    let mut store = match shared.store.try_write() {
        Ok(store) => store,
        Err(e) => panic!("a commit would wait: the store's lock is held ({e})"),
    };
    commit_next(&mut store, &Workload::dev(4), 4, &|_| false).expect("commit");
}

#[test]
fn a_commit_goes_through_while_proofs_read_past_and_head_states() {
    let (shared, gate, url, _served) = gated_api(Duration::from_secs(30));
    let alice = Keypair::dev(0).address();
    for (height, head_after) in [(13, 16), (16, 17)] {
        // Parked at its first read of the chain (the checkpoint or the block).
        gate.arm(Tree::Chain);
        let asked = format!("{url}/proofs/{alice}?height={height}");
        let request = std::thread::spawn(move || pov_tests::http::get_with_status(&asked));
        gate.wait_parked();
        commit_without_waiting(&shared);
        assert_eq!(read(&shared.store).height(), head_after);
        gate.open();
        let (status, body) = request.join().expect("thread").expect("answer");
        assert_eq!(status, 200, "height {height}: {body}");
        let proof = ReputationProof::from_json(&body.to_string()).expect("a proof");
        let proven = proof.verify(&Genesis::dev()).expect("it verifies");
        assert_eq!(proven.height, height, "the proof is of the height asked");
    }
}

#[test]
fn a_proof_keeps_its_turn_after_its_client_is_answered_503() {
    // Requests end after one second; the first one's rebuild goes on (parked) after that.
    let (_shared, gate, url, _served) = gated_api(Duration::from_secs(1));
    let alice = Keypair::dev(0).address();
    gate.arm(Tree::Chain);
    let first = format!("{url}/proofs/{alice}?height=12");
    let first = std::thread::spawn(move || pov_tests::http::get_with_status(&first));
    gate.wait_parked();
    let (status, body) = first.join().expect("thread").expect("answer");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("timeout"))
    );
    // The first proof is still being built: a second one waits for its turn and is refused,
    // rather than starting a second rebuild beside it.
    let second = format!("{url}/proofs/{alice}?height=13");
    let (status, body) = pov_tests::http::get_with_status(&second).expect("answer");
    assert_eq!(status, 503, "{body}");
    gate.open();
    // Once the first is built, the turn is free again.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = pov_tests::http::get_with_status(&second).expect("answer");
        if status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the turn never came back: {status} {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_commit_goes_through_while_a_member_or_contribution_history_is_read() {
    let (shared, gate, url, _served) = gated_api(Duration::from_secs(30));
    let alice = Keypair::dev(0).address();
    let member = |path: &str| format!("/accounts/{alice}/{path}");
    for path in [
        member("history?limit=1000"),
        member("explain"),
        member("timeline"),
        "/contributions/0/evaluations".to_string(),
    ] {
        let before = read(&shared.store).height();
        gate.arm(Tree::History);
        let asked = format!("{url}{path}");
        let request = std::thread::spawn(move || pov_tests::http::get_with_status(&asked));
        gate.wait_parked();
        commit_without_waiting(&shared);
        gate.open();
        let (status, body) = request.join().expect("thread").expect("answer");
        assert_eq!(status, 200, "{path}: {body}");
        if path.contains("history") {
            let events = body["events"].as_array().expect("events");
            assert!(!events.is_empty(), "{body}");
            assert!(
                events.iter().all(|e| e["height"].as_u64() <= Some(before)),
                "only what was final when asked: {body}"
            );
        } else if path.contains("evaluations") {
            let items = body["items"].as_array().expect("items");
            assert!(!items.is_empty(), "{body}");
            assert!(
                items.iter().all(|e| e["height"].as_u64() <= Some(before)),
                "only what was final when asked: {body}"
            );
        } else {
            assert_eq!(body["height"], before, "{path}: {body}");
        }
    }
}

#[test]
fn a_commit_goes_through_while_a_final_transaction_is_read() {
    let (shared, gate, url, _served) = gated_api(Duration::from_secs(30));
    let stored = read(&shared.store)
        .block(3)
        .expect("read")
        .expect("block 3");
    let hash = stored.block.txs.first().expect("a transaction").hash();
    // Parked at its first read of the chain: the transaction's record.
    gate.arm(Tree::Chain);
    let asked = format!("{url}/tx/{hash}");
    let request = std::thread::spawn(move || pov_tests::http::get_with_status(&asked));
    gate.wait_parked();
    commit_without_waiting(&shared);
    gate.open();
    let (status, body) = request.join().expect("thread").expect("answer");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["height"].as_u64()),
        (Some("final"), Some(3))
    );
    assert!(
        !body["events"].as_array().expect("events").is_empty(),
        "{body}"
    );
}

#[test]
fn reads_that_may_replay_blocks_beyond_their_turns_get_503_busy() {
    let (_shared, gate, url, _served) = gated_api(Duration::from_secs(30));
    let alice = Keypair::dev(0).address();
    // Every turn taken by a read held at the store.
    gate.arm_many(Tree::History, HISTORY_READS_AT_ONCE);
    let held: Vec<_> = (0..HISTORY_READS_AT_ONCE)
        .map(|_| {
            let asked = format!("{url}/accounts/{alice}/explain");
            std::thread::spawn(move || pov_tests::http::get_with_status(&asked))
        })
        .collect();
    gate.wait_parked_many(HISTORY_READS_AT_ONCE);
    // One more waits for a turn (5 s) and is told to retry, whichever of them it is.
    let (status, body) =
        pov_tests::http::get_with_status(&format!("{url}/accounts/{alice}/timeline"))
            .expect("answer");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("busy")),
        "{body}"
    );
    gate.open();
    for request in held {
        let (status, body) = request.join().expect("thread").expect("answer");
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) =
        pov_tests::http::get_with_status(&format!("{url}/accounts/{alice}/timeline"))
            .expect("answer");
    assert_eq!(status, 200, "a turn is free again: {body}");
}
