//! Issue 5, item 6: a single-node devnet started by the test (`povd --dev`), then, through
//! `pov` alone, keys, a contribution, evaluations by dev members until half the reputation
//! has evaluated, and the contributor's minted tokens and reputation read back with
//! `pov show account --output json`, equal to what the protocol library computes for the
//! same transactions (`scenario.rs`).
//!
//! The node is a real `povd --dev` child process (`support/povd.rs`).

use crate::support::povd::DevNode;
use crate::support::Pov;

#[test]
fn devnet_end_to_end_through_pov_alone() {
    let devnet = DevNode::start();
    let pov = Pov::with_node(&devnet.url);
    let outcome = crate::scenario::devnet(&pov);

    // The block that made the reward is a real, final block with a certificate.
    let history = pov.json(&["explain", &outcome.carl.to_string(), "--full"]);
    let height = history["events"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["rule"] == "contributor-reward"))
        .and_then(|e| e["height"].as_u64())
        .expect("the reward's block");
    let block = pov.json(&["show", "block", &height.to_string()]);
    assert_eq!(block["height"], height);
    assert!(block["certificate"]["signatures"]
        .as_array()
        .is_some_and(|s| !s.is_empty()));
    // The node's state equals the library's once the library is at the node's height too
    // (empty blocks since the last transaction only move the height).
    let status = pov.json(&["status"]);
    let mut state = outcome.state.clone();
    crate::scenario::advance(&mut state, status["height"].as_u64().expect("height"));
    assert_eq!(
        status["state_root"],
        state.state_root().to_string().as_str()
    );

    // Open contributions, by contributor; the evaluated one reached median 4 of top 5.
    let open = pov.json(&["list", "contributions", "--open", "--by", "carl"]);
    assert_eq!(open["count"], 1, "{open}");
    assert_eq!(open["items"][0]["id"], outcome.contribution);
    assert_eq!(open["items"][0]["median_max"], 4);
    let none = pov.json(&["list", "contributions", "--by", "bob"]);
    assert_eq!(none["count"], 0, "{none}");

    // The admission's block and transaction, by height and by hash, in both forms.
    let admission = history["events"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["rule"] == "admission"))
        .expect("carl's admission event")
        .clone();
    let height = admission["height"].as_u64().expect("height").to_string();
    let tx_hash = admission["tx_hash"].as_str().expect("tx hash").to_string();
    let block = pov.json(&["show", "block", &height]);
    assert!(
        block["txs"]
            .as_array()
            .is_some_and(|t| t.iter().any(|h| h == tx_hash.as_str())),
        "{block}"
    );
    let tx = pov.json(&["show", "tx", &tx_hash]);
    assert_eq!(tx["status"], "final");
    assert_eq!(tx["summary"][0]["rule"], "admission", "{tx}");
    let text = pov.ok(&["show", "block", &height]);
    assert!(text.contains(&tx_hash), "{text}");
    let text = pov.ok(&["show", "contribution", &outcome.contribution.to_string()]);
    assert!(text.contains("minted") && text.contains("alice"), "{text}");
}
