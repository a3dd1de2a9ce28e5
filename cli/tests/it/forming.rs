//! What `pov` catches itself before anything reaches a node (issue 13): a transfer of 0 or
//! less, warnings of a genesis that is valid but fragile, and `devnet init`'s instructions.
//! (Names from the chain, `list members`, `genesis fetch` and the other node-facing parts run
//! against real nodes in `tests/walkthrough.rs`.)

use pov_crypto::Keypair;

use crate::support::Pov;

#[test]
fn a_transfer_of_nothing_or_less_is_refused_before_the_node_is_asked() {
    // Nothing listens on port 9: reaching the node would exit 5, not 3.
    let pov = Pov::with_node("http://127.0.0.1:9");
    pov.ok(&["keys", "add-dev"]);
    for amount in ["-5", "0"] {
        let (_, err) = pov.fails(3, &["transfer", "bob", amount, "--from", "alice"]);
        assert!(
            err.contains("AMOUNT must be more than 0") && err.contains("nothing was signed"),
            "{err}"
        );
    }
}

#[test]
fn a_fragile_genesis_is_valid_and_says_why_it_is_fragile() {
    let pov = Pov::new();
    pov.ok(&["genesis", "new", "--chain-id", "bakery-coop"]);
    let dan = Keypair::dev(3).address().to_string();
    pov.ok(&[
        "genesis",
        "add-member",
        &dan,
        "--name",
        "dan",
        "--reputation",
        "10",
    ]);
    for i in 10..13 {
        let v = Keypair::dev(i).address().to_string();
        pov.ok(&["genesis", "add-validator", &v]);
    }
    let out = pov.run(&["genesis", "validate"]);
    assert!(out.status.success(), "warnings do not fail validation");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: validators: 3 validators tolerate no failure"),
        "{err}"
    );
    assert!(
        err.contains("warning: members[0].tokens: dan has 0 tokens")
            && err.contains("dan cannot contribute"),
        "{err}"
    );
    let json = pov.json(&["genesis", "validate"]);
    let fields: Vec<&str> = json["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["validators", "members[0].tokens"]);
    // A fourth validator of equal power tolerates one failure: that warning goes.
    pov.ok(&[
        "genesis",
        "add-validator",
        &Keypair::dev(13).address().to_string(),
    ]);
    let json = pov.json(&["genesis", "validate"]);
    assert_eq!(json["warnings"].as_array().map(Vec::len), Some(1), "{json}");
}

#[test]
fn devnet_init_says_how_to_start_each_node() {
    let pov = Pov::new();
    let dir = pov.path("devnet").display().to_string();
    let out = pov.ok(&["devnet", "init", "--validators", "2", "--dir", &dir]);
    assert!(out.contains(&format!("povd --home {dir}/node0")), "{out}");
    assert!(out.contains(&format!("povd --home {dir}/node1")), "{out}");
    assert!(!out.contains("nodeI"), "{out}");
}
