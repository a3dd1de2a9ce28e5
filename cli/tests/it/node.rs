//! Node commands against the API stand-in (`support/mock_node.rs`): the devnet scenario,
//! rejections (exit 6), an unreachable node (exit 5), key errors (exit 7), `--no-wait`,
//! transfers, queries and their text forms. The real node runs in `e2e.rs`.

use pov_crypto::Keypair;

use crate::support::mock_node::MockNode;
use crate::support::{amount, Pov};

#[test]
fn devnet_scenario_against_the_api_stand_in() {
    let node = MockNode::start();
    let pov = Pov::with_node(&node.url);
    let outcome = crate::scenario::devnet(&pov);
    assert_eq!(outcome.contribution, 0);

    // Open contributions, by contributor; the evaluated one reached median 4 of top 5.
    let open = pov.json(&["list", "contributions", "--open", "--by", "carl"]);
    assert_eq!(open["count"], 1, "{open}");
    assert_eq!(open["items"][0]["median_max"], 4);
    let none = pov.json(&["list", "contributions", "--by", "bob"]);
    assert_eq!(none["count"], 0);

    // Blocks and transactions by hash.
    let block = pov.json(&["show", "block", "1"]);
    let tx_hash = block["txs"][0].as_str().expect("tx").to_string();
    let tx = pov.json(&["show", "tx", &tx_hash]);
    assert_eq!(tx["status"], "final");
    assert_eq!(tx["summary"][0]["rule"], "admission");
    let text = pov.ok(&["show", "block", "1"]);
    assert!(text.contains(&tx_hash), "{text}");
    let text = pov.ok(&["show", "contribution", "0"]);
    assert!(text.contains("minted") && text.contains("alice"), "{text}");
}

#[test]
fn rejected_transactions_exit_6_with_the_nodes_reason() {
    let node = MockNode::start();
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
    let (_, err) = pov.fails(
        6,
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
    let node = MockNode::start();
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
    let node = MockNode::start();
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
    let mut final_tx = serde_json::Value::Null;
    for _ in 0..100 {
        final_tx = pov.json(&["show", "tx", &hash]);
        if final_tx["status"] == "final" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(final_tx["status"], "final");
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
    let node = MockNode::start();
    let pov = Pov::with_node(&node.url);
    pov.ok(&["keys", "add-dev"]);
    pov.ok(&["config", "set", "chain_id", "bakery-coop"]);
    let (_, err) = pov.fails(3, &["evaluate", "0", "1", "--from", "alice"]);
    assert!(err.contains("serves chain \"pov-devnet\""), "{err}");
}

#[test]
fn status_in_both_forms() {
    let node = MockNode::start();
    let pov = Pov::with_node(&node.url);
    let v = pov.json(&["status"]);
    assert_eq!(v["chain_id"], "pov-devnet");
    assert_eq!(v["node"], node.url.as_str());
    let text = pov.ok(&["status"]);
    assert!(text.contains("chain id      pov-devnet"), "{text}");
    assert!(text.contains("2026-01-01T00:00:00.000Z"), "{text}");
}
