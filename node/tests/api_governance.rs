//! Parameter changes by Proof-of-Value (spec section 11) through the API of a real
//! `povd --dev`: a proposal is open and not passed after evaluations below half of all
//! reputation, passes at the evaluation that reaches half, and its change rules the next
//! block: `GET /proposals/{id}` says so, `GET /params` gives the value with the proposal and
//! height that set it, the block's start carries the `param-change`, and so does the event
//! stream. Bad requests get JSON errors.

use std::time::{Duration, Instant};

use pov_crypto::Keypair;
use pov_protocol::governance::ParamChange;
use pov_protocol::{Transaction, TxBody};
use pov_tests::http::{get_with_status, post_json, read_sse_until};
use pov_tests::{free_ports, NodeProcess};

/// Submits a transaction and waits until it is final; returns its block height.
fn final_height(node: &NodeProcess, tx: &Transaction) -> u64 {
    let body = serde_json::to_string(tx).expect("json");
    let (status, answer) = post_json(&format!("{}/tx", node.api), &body).expect("answer");
    assert_eq!(status, 202, "{answer}");
    let start = Instant::now();
    loop {
        if let Some(info) = node.get(&format!("/tx/{}", tx.hash())) {
            if info["status"] == "final" {
                return info["height"].as_u64().expect("height");
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not final\n{}",
            node.log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn evaluate(node: &NodeProcess, who: u32, value: i64) -> u64 {
    final_height(
        node,
        &Transaction::sign(
            &Keypair::dev(who),
            "pov-devnet",
            &pov_protocol::genesis::Genesis::dev().hash(),
            1,
            TxBody::Evaluate {
                contribution: 0,
                value,
            },
        ),
    )
}

/// The `paths` entry of `GET /params` for `path`.
fn path_entry(params: &serde_json::Value, path: &str) -> serde_json::Value {
    params["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .find(|p| p["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in {params}"))
        .clone()
}

#[test]
fn a_proposal_passes_at_half_of_all_reputation_and_rules_the_next_block() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProcess::start_dev(&dir.path().join("dev"), free_ports(1));
    assert!(
        node.wait_height(1, Duration::from_secs(30)),
        "{}",
        node.log_tail()
    );
    let url = |path: &str| format!("{}{path}", node.api);

    // Before: every value is the genesis's.
    let params = node.get("/params").expect("params");
    let fee = path_entry(&params, "types.work.fee");
    assert_eq!(
        (&fee["value"], &fee["proposal"], &fee["since"]),
        (&"1".into(), &serde_json::Value::Null, &0.into())
    );
    assert_eq!(path_entry(&params, "governance.fee")["value"], "10");

    // carol (20 of 100 reputation) proposes a work fee of 2.
    let proposed = final_height(
        &node,
        &Transaction::sign(
            &Keypair::dev(2),
            "pov-devnet",
            &pov_protocol::genesis::Genesis::dev().hash(),
            1,
            TxBody::ProposeParams {
                title: "Raise the work fee".into(),
                uri: String::new(),
                changes: vec![ParamChange::parse("types.work.fee", "2").expect("change")],
            },
        ),
    );
    let p = node.get("/proposals/0").expect("proposal");
    assert_eq!(p["status"], "open", "{p}");
    assert_eq!(p["height"], proposed);
    assert_eq!(p["expires_at"], proposed + 604_800);
    assert_eq!(p["changes"][0]["path"], "types.work.fee");
    assert_eq!(
        (&p["changes"][0]["value"], &p["changes"][0]["now"]),
        (&"2".into(), &"1".into())
    );
    assert_eq!(p["proposer_name"], "carol");

    // The event stream, listened to before the proposal can pass.
    let events = url("/events");
    let listener = std::thread::spawn(move || {
        read_sse_until(&events, "types.work.fee", Duration::from_secs(60))
    });

    // alice (40) accepts: 40% is not half, so it stays open.
    evaluate(&node, 0, 1);
    let p = node.get("/proposals/0").expect("proposal");
    assert_eq!(
        (&p["status"], &p["passed_at"]),
        (&"open".into(), &serde_json::Value::Null),
        "{p}"
    );
    let accepted: f64 = p["accepted_share"]
        .as_str()
        .expect("share")
        .parse()
        .expect("number");
    assert!(accepted > 0.35 && accepted < 0.5, "{p}");
    let still = node.get("/params").expect("params");
    assert_eq!(path_entry(&still, "types.work.fee")["value"], "1");

    // bob (30) accepts: members holding half of all reputation accept, it passes here...
    let passed = evaluate(&node, 1, 1);
    let p = node.get("/proposals/0").expect("proposal");
    assert_eq!(p["passed_at"], passed, "{p}");
    assert_eq!(p["effective_from"], passed + 1);

    // ... and rules from the next block on.
    assert!(
        node.wait_height(passed + 1, Duration::from_secs(30)),
        "{}",
        node.log_tail()
    );
    let p = node.get("/proposals/0").expect("proposal");
    assert_eq!(p["status"], "applied", "{p}");
    assert_eq!(p["applied"]["height"], passed + 1);
    let change = &p["applied"]["changes"][0];
    assert_eq!(
        (&change["path"], &change["old"], &change["new"]),
        (&"types.work.fee".into(), &"1".into(), &"2".into())
    );
    let after = node.get("/params").expect("params");
    assert_eq!(after["params"]["types"]["work"]["fee"], "2");
    let fee = path_entry(&after, "types.work.fee");
    assert_eq!(
        (&fee["value"], &fee["proposal"], &fee["since"]),
        (&"2".into(), &0.into(), &(passed + 1).into())
    );
    assert_eq!(
        path_entry(&after, "types.work.stake")["proposal"],
        serde_json::Value::Null,
        "a path no proposal touched keeps the genesis as its source"
    );
    let block = node.get(&format!("/blocks/{}", passed + 1)).expect("block");
    assert_eq!(block["start"][0]["event"], "param-change", "{block}");
    assert_eq!(block["start"][0]["proposal"], 0);
    assert_eq!(block["start"][0]["old"], "1");
    let block = node.get(&format!("/blocks/{passed}")).expect("block");
    assert_eq!(block["start"], serde_json::json!([]));
    let seen = listener.join().expect("listener");
    assert!(
        seen.contains("event: param-change")
            && seen.contains(&format!("\"height\":{}", passed + 1))
            && seen.contains("\"new\":\"2\""),
        "{seen}"
    );

    // Lists by status.
    let applied = node.get("/proposals?status=applied").expect("list");
    assert_eq!(applied["items"][0]["id"], 0);
    let open = node.get("/proposals?status=open").expect("list");
    assert_eq!(open["items"], serde_json::json!([]));

    // Bad requests.
    for (path, status, code) in [
        ("/proposals/7", 404, "not_found"),
        ("/proposals/x", 400, "bad_request"),
        ("/proposals?status=won", 400, "bad_request"),
        ("/proposals?limit=-1", 400, "bad_request"),
    ] {
        let (got, body) = get_with_status(&url(path)).expect("answer");
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}: {body}"
        );
    }
}
