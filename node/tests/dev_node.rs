//! `povd --dev` as a real process: blocks at once, a transaction from submission to final,
//! a graceful stop that loses nothing, a restart that carries on, and `povd replay`.

use std::process::Command;
use std::time::{Duration, Instant};

use pov_crypto::Keypair;
use pov_protocol::genesis::Genesis;
use pov_protocol::{Transaction, TxBody};
use pov_tests::{free_ports, NodeProcess};

#[test]
fn dev_node_finalizes_transactions_and_restarts_where_it_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("dev");
    let node = NodeProcess::start_dev(&home, free_ports(1));
    assert!(
        node.wait_height(2, Duration::from_secs(30)),
        "dev node produces blocks: {}",
        node.log_tail()
    );

    // bob contributes; the transaction goes through the API, is final, and says what it did.
    let tx = Transaction::sign(
        &Keypair::dev(1),
        "pov-devnet",
        &Genesis::dev().hash(),
        1,
        TxBody::Contribute {
            kind: "work".into(),
            title: "A test contribution".into(),
            uri: "https://example.org/work".into(),
            content_hash: None,
        },
    );
    let body = serde_json::to_string(&tx).expect("json");
    let (status, answer) =
        pov_tests::http::post_json(&format!("{}/tx", node.api), &body).expect("answer");
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["hash"], tx.hash().to_string());
    let start = Instant::now();
    let info = loop {
        let info = node.get(&format!("/tx/{}", tx.hash())).expect("known");
        if info["status"] == "final" {
            break info;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not final: {info}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(info["events"][0]["rule"], "fee");
    assert_eq!(info["events"][0]["amount"], "-1");
    let bob = node
        .get(&format!("/accounts/{}", Keypair::dev(1).address()))
        .expect("bob");
    assert_eq!(bob["tokens"], "99");
    assert_eq!(bob["next_nonce"], 2);
    let c = node.get("/contributions/0").expect("contribution");
    assert_eq!(c["title"], "A test contribution");

    // The metrics count the block, the transaction and the work done for it.
    let metrics = pov_tests::http::get_text(&format!("{}/metrics", node.api)).expect("metrics");
    let value = |name: &str| {
        pov_tests::http::metric(&metrics, name).unwrap_or_else(|| panic!("{name} in {metrics}"))
    };
    assert!(value("pov_height") >= 1.0);
    assert!(value("pov_blocks_committed_total") >= 1.0);
    assert_eq!(value("pov_txs_committed_total"), 1.0);
    // One signature check for the one transaction: the mempool's, which the proposal and
    // the commit reuse through the verified-transaction cache.
    assert_eq!(value("pov_tx_signature_checks_total"), 1.0);
    // Two executions: the mempool's check and the proposal's; the commit reuses the
    // proposal's state instead of executing the block again.
    assert_eq!(value("pov_tx_executions_total"), 2.0);
    assert!(value("pov_storage_bytes_written_total") > 0.0);
    assert_eq!(
        value("pov_api_txs_submitted_total{result=\"accepted\"}"),
        1.0
    );
    assert!(value("process_resident_memory_bytes") > 0.0);

    // A replayed nonce is refused with the reason, as JSON, with 422.
    let (status, body) =
        pov_tests::http::post_json(&format!("{}/tx", node.api), &body).expect("answer");
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "tx_rejected");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("nonce"),
        "{body}"
    );

    // Bad queries and unknown things get JSON errors with fitting statuses.
    let (status, body) =
        pov_tests::http::get_with_status(&format!("{}/contributions?limit=x", node.api))
            .expect("answer");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_request")),
        "{body}"
    );
    let (status, body) =
        pov_tests::http::get_with_status(&format!("{}/contributions/99", node.api))
            .expect("answer");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    let history = node
        .get(&format!(
            "/accounts/{}/history?since=1",
            Keypair::dev(1).address()
        ))
        .expect("history");
    assert_eq!(history["events"][0]["rule"], "fee");
    assert_eq!(history["events"][0]["balance_after"], "99");

    // The event stream announces final blocks.
    let stream = pov_tests::http::read_sse_until(
        &format!("{}/events", node.api),
        "\"height\"",
        Duration::from_secs(15),
    );
    assert!(
        stream.contains("event: block"),
        "no block event in: {stream}"
    );

    // Graceful stop: exit 0, and everything reported final is still there after a restart.
    let before = node.get("/status").expect("status");
    let height = before["height"].as_u64().expect("height");
    assert!(node.stop().success(), "povd exits 0 on SIGTERM");
    let node = NodeProcess::start_dev(&home, free_ports(1));
    assert!(
        node.wait_height(height + 1, Duration::from_secs(30)),
        "carries on after restart: {}",
        node.log_tail()
    );
    let block = node
        .get(&format!("/blocks/{height}"))
        .expect("old block kept");
    assert_eq!(block["hash"], before["head_hash"]);
    assert!(node.stop().success());

    // The stored chain replays from genesis to the stored root.
    let out = Command::new(env!("CARGO_BIN_EXE_povd"))
        .args(["replay", "--home"])
        .arg(&home)
        .output()
        .expect("replay runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("matches"));
}

/// `POST /txs`: a batch is answered transaction by transaction, in order, in both encodings;
/// a sender's consecutive nonces may share a batch; what is refused says why.
#[test]
fn a_batch_is_answered_per_transaction_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProcess::start_dev(&dir.path().join("dev"), free_ports(1));
    assert!(
        node.wait_height(1, Duration::from_secs(30)),
        "dev node up: {}",
        node.log_tail()
    );
    let contribute = |key: u32, nonce: u64| {
        Transaction::sign(
            &Keypair::dev(key),
            "pov-devnet",
            &Genesis::dev().hash(),
            nonce,
            TxBody::Contribute {
                kind: "work".into(),
                title: format!("batch {key}.{nonce}"),
                uri: "https://example.org/work".into(),
                content_hash: None,
            },
        )
    };
    let url = format!("{}/txs", node.api);

    // JSON: two of alice's nonces in order, a gap, an element that is no transaction.
    let (a1, a2, gap) = (contribute(0, 1), contribute(0, 2), contribute(1, 5));
    let body = serde_json::json!([a1, a2, gap, {"not": "a transaction"}]).to_string();
    let (status, answer) = pov_tests::http::post_json(&url, &body).expect("answer");
    assert_eq!(status, 200, "{answer}");
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len(), 4, "{answer}");
    assert_eq!(results[0]["hash"], a1.hash().to_string());
    assert_eq!(results[0]["status"], "accepted");
    assert_eq!(results[1]["hash"], a2.hash().to_string());
    assert_eq!(results[1]["status"], "accepted");
    assert_eq!(results[2]["error"]["code"], "tx_rejected", "{answer}");
    assert!(results[2]["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("nonce")));
    assert_eq!(results[3]["error"]["code"], "bad_request", "{answer}");

    // Postcard bytes of a Vec<Transaction>: one already pending, one new.
    let b1 = contribute(1, 1);
    let bytes = pov_protocol::codec::encode(&vec![a1.clone(), b1.clone()]);
    let (status, _, text) =
        pov_tests::http::raw("POST", &url, Some("application/octet-stream"), &bytes)
            .expect("answer");
    assert_eq!(status, 200, "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(answer["results"][0]["status"], "known", "{answer}");
    assert_eq!(answer["results"][1]["status"], "accepted", "{answer}");

    // Bytes that are no list, and too many transactions, are refused whole.
    let (status, _, _) =
        pov_tests::http::raw("POST", &url, Some("application/octet-stream"), b"\xff\xff")
            .expect("answer");
    assert_eq!(status, 400);
    let many = vec![b1.clone(); 2_001];
    let (status, _, text) = pov_tests::http::raw(
        "POST",
        &url,
        Some("application/octet-stream"),
        &pov_protocol::codec::encode(&many),
    )
    .expect("answer");
    assert_eq!(status, 413, "{text}");

    // All three accepted ones become final, each checked once.
    let start = Instant::now();
    for tx in [&a1, &a2, &b1] {
        while node.get(&format!("/tx/{}", tx.hash())).expect("known")["status"] != "final" {
            assert!(start.elapsed() < Duration::from_secs(30), "not final");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let metrics = pov_tests::http::get_text(&format!("{}/metrics", node.api)).expect("metrics");
    assert_eq!(
        pov_tests::http::metric(&metrics, "pov_txs_committed_total"),
        Some(3.0)
    );
    // The gap's signature was checked too (it was refused for its nonce after).
    assert_eq!(
        pov_tests::http::metric(&metrics, "pov_tx_signature_checks_total"),
        Some(4.0)
    );
}
