//! The API's view of the cooperative itself, on a real `povd --dev`: `GET /genesis` (JSON and
//! TOML, whose hash is the chain's), `GET /params`, `GET /members` (paged, by name), names
//! next to addresses, the health fields of `/status`, and JSON errors for a wrong method or
//! a JSON body sent without its Content-Type.

use std::time::Duration;

use pov_crypto::Keypair;
use pov_protocol::genesis::Genesis;
use pov_protocol::{Transaction, TxBody};
use pov_tests::http::{get_with_status, post_json, raw};
use pov_tests::{free_ports, NodeProcess};

#[test]
fn the_cooperative_is_readable_from_the_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProcess::start_dev(&dir.path().join("dev"), free_ports(1));
    assert!(
        node.wait_height(1, Duration::from_secs(30)),
        "{}",
        node.log_tail()
    );
    let url = |path: &str| format!("{}{path}", node.api);

    // The genesis, as JSON and as the TOML a joining node saves: same hash as the chain's.
    let dev = Genesis::dev();
    let genesis = node.get("/genesis").expect("genesis");
    assert_eq!(genesis["hash"], dev.hash().to_string());
    assert_eq!(genesis["chain_id"], "pov-devnet");
    assert_eq!(genesis["members"][1]["name"], "bob");
    let (status, ct, text) = raw("GET", &url("/genesis?format=toml"), None, b"").expect("toml");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/plain"), "{ct}");
    assert_eq!(Genesis::from_toml(&text).expect("valid").hash(), dev.hash());
    let (status, body) = get_with_status(&url("/genesis?format=xml")).expect("answer");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );

    // The parameters in force.
    let params = node.get("/params").expect("params");
    assert_eq!(params["params"]["types"]["work"]["fee"], "1");
    assert_eq!(params["params"]["admission"], "invite");

    // Members, paged, and by name.
    let page = node.get("/members?limit=3").expect("members");
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["name"], "alice");
    assert_eq!(page["next"], 2);
    assert_eq!(page["total"], 4);
    let rest = node.get("/members?after=2").expect("members");
    assert_eq!(rest["items"][0]["name"], "dave");
    assert_eq!(rest["next"], serde_json::Value::Null);
    let zero = node.get("/members?limit=0").expect("members");
    assert_eq!(
        zero["items"].as_array().map(Vec::len),
        Some(1),
        "limit=0 means 1"
    );
    let bob = node.get("/members?name=bob").expect("by name");
    assert_eq!(
        bob["items"][0]["address"],
        Keypair::dev(1).address().to_string()
    );
    let nobody = node.get("/members?name=zed").expect("by name");
    assert_eq!(nobody["items"].as_array().map(Vec::len), Some(0));

    // Names beside addresses in what a transaction did.
    let tx = Transaction::sign(
        &Keypair::dev(1),
        "pov-devnet",
        &Genesis::dev().hash(),
        1,
        TxBody::Contribute {
            kind: "work".into(),
            title: "Names".into(),
            uri: "https://example.org".into(),
            content_hash: None,
        },
    );
    let body = serde_json::to_string(&tx).expect("json");
    let (status, _) = post_json(&url("/tx"), &body).expect("answer");
    assert_eq!(status, 202);
    let start = std::time::Instant::now();
    let info = loop {
        let info = node.get(&format!("/tx/{}", tx.hash())).expect("tx");
        if info["status"] == "final" || start.elapsed() > Duration::from_secs(30) {
            break info;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(info["events"][0]["name"], "bob", "{info}");
    let c = node.get("/contributions/0").expect("contribution");
    assert_eq!(c["contributor_name"], "bob");

    // A JSON body without its Content-Type gets a hint; a wrong method a JSON error.
    let (status, _, text) = raw("POST", &url("/tx"), None, body.as_bytes()).expect("answer");
    assert_eq!(status, 400);
    assert!(text.contains("Content-Type: application/json"), "{text}");
    let (status, ct, text) = raw("DELETE", &url("/status"), None, b"").expect("answer");
    assert_eq!(status, 405);
    assert!(ct.starts_with("application/json"), "{ct}");
    let err: serde_json::Value = serde_json::from_str(&text).expect("JSON error");
    assert_eq!(err["error"]["code"], "method_not_allowed");

    // Health: a lone dev validator sees itself, all the power.
    let status = node.get("/status").expect("status");
    assert_eq!(status["validators_seen"]["power"], 1, "{status}");
    assert_eq!(status["validators_seen"]["more_than_two_thirds"], true);
    assert_eq!(status["stalled"], false);
    assert!(status["last_block_age_ms"].as_u64().is_some(), "{status}");
    assert!(node.stop().success());
}
