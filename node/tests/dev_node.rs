//! `povd --dev` as a real process: blocks at once, a transaction from submission to final,
//! a graceful stop that loses nothing, a restart that carries on, and `povd replay`.

use std::process::Command;
use std::time::{Duration, Instant};

use pov_crypto::Keypair;
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
    assert!(value("pov_tx_executions_total") >= 2.0);
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
