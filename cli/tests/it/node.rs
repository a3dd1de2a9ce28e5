//! Node commands against a real `povd --dev` (`support/povd.rs`): rejections with the node's
//! reason (exit 6), an unreachable node (exit 5), key errors (exit 7), `--no-wait`,
//! transfers, another chain, status in both forms. The devnet scenario is in `e2e.rs`.
//!
//! Answers no real node gives (a proxy's HTML error page, a 200 that is not JSON) come
//! from a stand-in at the end of this file: the only one, for exactly those.

use std::io::{BufRead, BufReader, Write};

use pov_crypto::Keypair;

use crate::support::povd::DevNode;
use crate::support::{amount, Pov};

#[test]
fn rejected_transactions_exit_6_with_the_nodes_reason() {
    let node = DevNode::start();
    let pov = Pov::with_node(&node.url);
    pov.ok(&["keys", "add-dev"]);
    pov.ok(&[
        "contribute",
        "--kind",
        "work",
        "--title",
        "t",
        "--uri",
        "u",
        "--from",
        "carol",
    ]);
    let (_, err) = pov.fails(6, &["evaluate", "0", "9", "--from", "alice"]);
    assert!(err.contains("not in the evaluation set"), "{err}");
    pov.ok(&["evaluate", "0", "3", "--from", "alice"]);
    let (out, _) = pov.fails(
        6,
        &["evaluate", "0", "3", "--from", "alice", "--output", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON error on stdout");
    assert_eq!(v["error"]["code"], "tx_rejected");
    assert!(v["error"]["message"]
        .as_str()
        .expect("message")
        .contains("same-value re-vote"));
    // Refused before signing: a kind the cooperative does not have.
    let (_, err) = pov.fails(
        3,
        &[
            "contribute",
            "--kind",
            "poetry",
            "--title",
            "t",
            "--uri",
            "u",
            "--from",
            "carol",
        ],
    );
    assert!(err.contains("unknown contribution kind"), "{err}");
    assert!(err.contains("nothing was signed"), "{err}");
    // Refused before signing: a contribution needs a URI or a file.
    pov.fails(
        3,
        &[
            "contribute",
            "--kind",
            "work",
            "--title",
            "t",
            "--from",
            "carol",
        ],
    );
}

#[test]
fn unreachable_node_exits_5() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let pov = Pov::with_node(&format!("127.0.0.1:{port}"));
    let (_, err) = pov.fails(5, &["status"]);
    assert!(err.contains("cannot reach the node"), "{err}");
    pov.ok(&["keys", "add-dev"]);
    pov.fails(5, &["evaluate", "0", "1", "--from", "alice"]);
    let (out, _) = pov.fails(5, &["show", "account", "alice", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON error");
    assert_eq!(v["error"]["code"], "node_unreachable");
}

#[test]
fn keys_and_passphrases_fail_with_exit_7() {
    let node = DevNode::start();
    let pov = Pov::with_node(&node.url);
    let bob = Keypair::dev(1).address().to_string();
    let (_, err) = pov.fails(7, &["transfer", &bob, "1", "--from", "nobody"]);
    assert!(err.contains("no key named \"nobody\""), "{err}");
    // Dev names are not keys unless asked for, loudly.
    let (_, err) = pov.fails(7, &["evaluate", "0", "1", "--from", "alice"]);
    assert!(
        err.contains("pov keys add-dev") && err.contains("--insecure-dev-keys"),
        "{err}"
    );
    pov.ok(&["keys", "new", "carl"]);
    let mut wrong = Pov::with_node(&node.url);
    wrong.home = pov.home; // same keystore, another passphrase
    wrong.passphrase = Some("not it".into());
    wrong.cwd = wrong.home.path().to_path_buf();
    let (_, err) = wrong.fails(7, &["transfer", &bob, "1", "--from", "carl"]);
    assert!(err.contains("wrong passphrase for key \"carl\""), "{err}");
    wrong.passphrase = None;
    let (_, err) = wrong.fails(7, &["transfer", &bob, "1", "--from", "carl"]);
    assert!(err.contains("POV_PASSPHRASE"), "{err}");
}

#[test]
fn transfers_no_wait_and_insecure_dev_keys() {
    let node = DevNode::start();
    let pov = Pov::with_node(&node.url);
    let out = pov.json(&[
        "transfer",
        "bob",
        "2.5",
        "--from",
        "alice",
        "--insecure-dev-keys",
        "--no-wait",
    ]);
    assert_eq!(out["status"], "pending");
    let hash = out["hash"].as_str().expect("hash").to_string();
    let start = std::time::Instant::now();
    let final_tx = loop {
        let tx = pov.json(&["show", "tx", &hash]);
        if tx["status"] == "final" || start.elapsed() > std::time::Duration::from_secs(60) {
            break tx;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(final_tx["status"], "final", "{final_tx}");
    let bob = Keypair::dev(1).address().to_string();
    let shown = pov.json(&["show", "account", &bob]);
    assert_eq!(amount(&shown["tokens"]), "102.5".parse().expect("amount"));
    // Text output of a waited transfer names the rule and the signed change.
    let text = pov.ok(&[
        "transfer",
        &bob,
        "1",
        "--from",
        "alice",
        "--insecure-dev-keys",
    ]);
    assert!(text.contains("final in block"), "{text}");
    assert!(text.contains("transfer") && text.contains("-1"), "{text}");
    // A bad amount is refused before anything is signed.
    pov.fails(
        3,
        &[
            "transfer",
            &bob,
            "1e3",
            "--from",
            "alice",
            "--insecure-dev-keys",
        ],
    );
}

#[test]
fn a_node_of_another_chain_is_refused_before_signing() {
    let node = DevNode::start();
    let pov = Pov::with_node(&node.url);
    pov.ok(&["keys", "add-dev"]);
    pov.ok(&["config", "set", "chain_id", "bakery-coop"]);
    let (_, err) = pov.fails(3, &["evaluate", "0", "1", "--from", "alice"]);
    assert!(err.contains("serves chain \"pov-devnet\""), "{err}");
}

#[test]
fn status_in_both_forms() {
    let node = DevNode::start();
    let pov = Pov::with_node(&node.url);
    let v = pov.json(&["status"]);
    assert_eq!(v["chain_id"], "pov-devnet");
    assert_eq!(v["node"], node.url.as_str());
    assert_eq!(
        v["genesis_hash"],
        pov_protocol::genesis::Genesis::dev()
            .hash()
            .to_string()
            .as_str()
    );
    let text = pov.ok(&["status"]);
    assert!(text.contains("chain id      pov-devnet"), "{text}");
    assert!(text.contains("block time"), "{text}");
}

/// A server that answers every request with one fixed HTTP response, then closes: the
/// stand-in for what sits between `pov` and a node when things go wrong (a proxy's error
/// page, a misconfigured server). A real `povd` never answers like this, so it cannot be
/// made to; everything a real node can answer is tested against one above.
fn stand_in(response: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = stream.write_all(response.as_bytes());
        }
    });
    url
}

#[test]
fn answers_that_are_not_the_api_fail_as_not_a_node_without_their_page() {
    let proxy = stand_in(
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 22\r\nConnection: close\r\n\r\n<h1>bad gateway</h1>\r\n",
    );
    let pov = Pov::with_node(&proxy);
    let (out, _) = pov.fails(5, &["status", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON error");
    assert_eq!(v["error"]["code"], "not_a_node", "{v}");
    let message = v["error"]["message"].as_str().expect("message");
    assert!(message.contains("HTTP 502"), "{v}");
    assert!(!message.contains("<h1>"), "the page is not printed: {v}");

    let html = stand_in(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\nConnection: close\r\n\r\n<html></html>",
    );
    let pov = Pov::with_node(&html);
    let (out, _) = pov.fails(5, &["status", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON error");
    assert_eq!(v["error"]["code"], "not_a_node", "{v}");
    let (_, err) = pov.fails(5, &["status"]);
    assert!(err.contains("is not a povd node"), "{err}");
    assert!(!err.contains("<html>"), "{err}");
}
