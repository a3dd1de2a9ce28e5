//! A transaction as it arrives (API body, gossip): decoding, the canonical form, the JSON
//! form, and every check the node runs on it (chain, signature, rules) against the dev chain,
//! directly and through the mempool's admission.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pov_node::mempool::Mempool;
use pov_protocol::Transaction;

fuzz_target!(|data: &[u8]| {
    let Ok(tx) = Transaction::from_bytes(data) else {
        return;
    };
    // Canonical: the decoded value's bytes are exactly the input, so its hash names it.
    assert_eq!(tx.to_bytes(), data, "decoded bytes are not canonical");
    let _ = tx.hash();
    // Its JSON form (POST /tx with JSON, GET /tx) reads back as the same transaction.
    let json = serde_json::to_string(&tx).expect("a transaction serializes to JSON");
    let back: Transaction = serde_json::from_str(&json).expect("a transaction's JSON parses");
    assert_eq!(back, tx, "JSON round trip changed the transaction");

    let chain = pov_fuzz::chain();
    for state in [&chain.genesis_state, &chain.busy_state] {
        let mut copy = state.clone();
        if copy.apply(&tx).is_err() {
            assert_eq!(&copy, state, "a refused transaction changed the state");
        }
        let mut pool = Mempool::new(state, 16);
        let _ = pool.insert(tx.clone());
    }
});
