//! `GET /proofs/{member}` on a real `povd --dev`: proofs of the last and of past heights
//! verify offline with the genesis alone; a member by on-chain name; a member admitted later
//! cannot be proven before its admission; heights that are not final, the genesis and bad
//! parameters are refused with JSON errors.

use std::time::{Duration, Instant};

use pov_crypto::Keypair;
use pov_protocol::genesis::Genesis;
use pov_protocol::proof::ReputationProof;
use pov_protocol::{Transaction, TxBody};
use pov_tests::{free_ports, NodeProcess};

fn proof_at(node: &NodeProcess, path: &str) -> ReputationProof {
    let raw = node
        .get(path)
        .unwrap_or_else(|| panic!("{path}: no answer\n{}", node.log_tail()));
    serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{path}: {e}: {raw}"))
}

/// Submits a transaction and waits until it is final; returns its block height.
fn final_height(node: &NodeProcess, tx: &Transaction) -> u64 {
    let body = serde_json::to_string(tx).expect("json");
    let (status, answer) =
        pov_tests::http::post_json(&format!("{}/tx", node.api), &body).expect("answer");
    assert_eq!(status, 202, "{answer}");
    let start = Instant::now();
    loop {
        let info = node.get(&format!("/tx/{}", tx.hash())).expect("known");
        if info["status"] == "final" {
            return info["height"].as_u64().expect("height");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not final: {info}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn proofs_from_a_real_node_verify_offline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProcess::start_dev(&dir.path().join("dev"), free_ports(1));
    assert!(
        node.wait_height(2, Duration::from_secs(30)),
        "{}",
        node.log_tail()
    );
    let genesis = Genesis::dev();
    let alice = Keypair::dev(0);
    let ivy = Keypair::dev(9).address();
    let admitted = final_height(
        &node,
        &Transaction::sign(
            &alice,
            "pov-devnet",
            &genesis.hash(),
            1,
            TxBody::Admit {
                member: ivy,
                name: "ivy".into(),
            },
        ),
    );

    // The last final height, by address and by on-chain name.
    let latest = proof_at(&node, &format!("/proofs/{}", alice.address()));
    let proven = latest.verify(&genesis).expect("verifies");
    assert_eq!(proven.member, alice.address());
    assert!(proven.height >= admitted);
    assert_eq!((proven.signed_power, proven.total_power), (1, 1));
    let by_name = proof_at(&node, "/proofs/ivy").verify(&genesis).expect("ok");
    assert_eq!((by_name.member, by_name.name.as_str()), (ivy, "ivy"));

    // A past height, rebuilt: it states the figures of then (before ivy's admission granted
    // her 1 reputation).
    let past = proof_at(&node, &format!("/proofs/{}?height=1", alice.address()));
    let then = past.verify(&genesis).expect("verifies");
    assert_eq!(then.height, 1);
    assert_eq!(
        then.total_reputation,
        proven
            .total_reputation
            .checked_sub(pov_protocol::Amount::ONE)
            .expect("grant")
    );
    // Asking again for the same height is served from the rebuilt state, identically.
    assert_eq!(
        proof_at(&node, &format!("/proofs/{}?height=1", alice.address())),
        past
    );

    // ivy was admitted at `admitted`: not a member the block before.
    let before = admitted - 1;
    let (status, body) =
        pov_tests::http::get_with_status(&format!("{}/proofs/{ivy}?height={before}", node.api))
            .expect("answer");
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("was not a member at height {before}")),
        "{body}"
    );
    let at = proof_at(&node, &format!("/proofs/{ivy}?height={admitted}"));
    assert_eq!(at.verify(&genesis).expect("ok").height, admitted);

    for (path, status, words) in [
        ("/proofs/ivy?height=99999999", 404, "is not final yet"),
        ("/proofs/ivy?height=0", 400, "genesis"),
        ("/proofs/ivy?height=soon", 400, "height"),
        ("/proofs/nobody", 404, "neither an address nor the name"),
    ] {
        let (got, body) =
            pov_tests::http::get_with_status(&format!("{}{path}", node.api)).expect("answer");
        assert_eq!(got, status, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(words),
            "{path}: {body}"
        );
    }
}
