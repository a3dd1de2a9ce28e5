//! The API in-process, over a real socket, for the one state a running `povd` shows only for
//! an instant: stopping (the flag is set between the end of the event loop and the end of
//! the server, so a black-box test cannot aim at it). Everything else is tested as a black
//! box against a real node, in `node/tests/api.rs`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use libp2p::PeerId;
use pov_crypto::Keypair;
use pov_protocol::genesis::Genesis;
use pov_protocol::{Transaction, TxBody};
use pov_storage::Store;

use super::{router, ApiState};
use crate::config::ConsensusTiming;
use crate::health::StallPolicy;
use crate::network::NetworkHandle;
use crate::shared::{lock, Shared};

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
