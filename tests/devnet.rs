//! Four `povd` validators as separate processes, set up by `pov devnet init`: three start,
//! the fourth joins late and catches up by block sync; one is killed with SIGKILL and
//! restarted (and must not double-sign); about 300 transactions go in through the APIs of
//! all four; every node ends at the same blocks, state roots and balances.

use std::process::Command;
use std::time::{Duration, Instant};

use pov_crypto::{Hash, Keypair};
use pov_protocol::{Amount, Transaction, TxBody};
use pov_tests::{binary, free_ports, NodeProcess};
use serde_json::Value;

const VALIDATORS: usize = 4;
const CONTRIBUTIONS_PER_MEMBER: u64 = 10;

/// Submits `tx`, waiting while the node answers that the sender holds its share of the
/// mempool (each member here sends more than a pool's per-sender share at once), as a
/// wallet does: the share frees up as blocks take the sender's earlier transactions.
fn submit(node: &NodeProcess, tx: &Transaction) {
    let body = serde_json::to_string(tx).expect("json");
    let start = Instant::now();
    loop {
        match pov_tests::http::post_json(&format!("{}/tx", node.api), &body) {
            Ok((202, _)) => return,
            Ok((503, answer))
                if answer["error"]["code"] == "mempool_full"
                    && start.elapsed() < Duration::from_secs(120) =>
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            other => panic!(
                "{} refused nonce {} from {}: {other:?}",
                node.api, tx.nonce, tx.sender
            ),
        }
    }
}

fn wait_final(node: &NodeProcess, hashes: &[String], limit: Duration) {
    let start = Instant::now();
    for hash in hashes {
        loop {
            let status = node
                .get(&format!("/tx/{hash}"))
                .map(|v| v["status"].clone());
            if status == Some(Value::from("final")) {
                break;
            }
            assert!(
                start.elapsed() < limit,
                "transaction {hash} not final after {limit:?}: {status:?}\n{}",
                node.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn four_validators_agree_on_every_block_and_state_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    let devnet = dir.path().join("devnet");
    let p2p = free_ports(VALIDATORS as u16);
    let api = free_ports(VALIDATORS as u16);
    let out = Command::new(binary("pov"))
        .args(["devnet", "init", "--validators", "4", "--dir"])
        .arg(&devnet)
        .args([
            "--p2p-port",
            &p2p.to_string(),
            "--api-port",
            &api.to_string(),
        ])
        .output()
        .expect("pov runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(devnet.join("devnet.json")).expect("devnet.json"),
    )
    .expect("json");
    let entries = manifest["nodes"].as_array().expect("nodes").clone();
    assert_eq!(entries.len(), VALIDATORS);
    let home = |i: usize| std::path::PathBuf::from(entries[i]["home"].as_str().expect("home"));
    let url = |i: usize| entries[i]["api"].as_str().expect("api").to_string();

    // Three of four validators hold more than 2/3 of the power: they make progress alone.
    let mut nodes: Vec<NodeProcess> = (0..3)
        .map(|i| NodeProcess::start(&home(i), &url(i)))
        .collect();
    for n in &nodes {
        assert!(
            n.wait_height(3, Duration::from_secs(60)),
            "no progress:\n{}",
            n.log_tail()
        );
    }
    // The fourth starts late and must catch up by block sync.
    nodes.push(NodeProcess::start(&home(3), &url(3)));
    let target = nodes[0].height();
    assert!(
        nodes[3].wait_height(target, Duration::from_secs(60)),
        "late node did not sync to {target}:\n{}",
        nodes[3].log_tail()
    );

    // Transactions sign the genesis hash, which every node reports.
    let genesis_hash: Hash = nodes[0]
        .get("/status")
        .and_then(|v| v["genesis_hash"].as_str()?.parse().ok())
        .expect("the genesis hash in /status");

    // Phase 1: each member submits contributions, each through a different node.
    let members: Vec<Keypair> = (0..4).map(Keypair::dev).collect();
    let mut nonces = [0u64; 4];
    let mut hashes = Vec::new();
    for (m, key) in members.iter().enumerate() {
        for c in 0..CONTRIBUTIONS_PER_MEMBER {
            nonces[m] += 1;
            let tx = Transaction::sign(
                key,
                "pov-devnet",
                &genesis_hash,
                nonces[m],
                TxBody::Contribute {
                    kind: "work".into(),
                    title: format!("work {c} of member {m}"),
                    uri: format!("https://example.org/{m}/{c}"),
                    content_hash: None,
                },
            );
            submit(&nodes[m], &tx);
            hashes.push(tx.hash().to_string());
        }
    }
    wait_final(&nodes[0], &hashes, Duration::from_secs(120));

    // A validator is killed outright (SIGKILL) and restarted: it loses nothing final,
    // restores its consensus log, and catches up by sync while the other three go on.
    let before_kill = nodes[2].height();
    let _ = nodes[2].child.kill();
    let _ = nodes[2].child.wait();
    let resume = nodes[0].height() + 3;
    assert!(
        nodes[0].wait_height(resume, Duration::from_secs(60)),
        "{}",
        nodes[0].log_tail()
    );
    nodes[2] = NodeProcess::start(&home(2), &url(2));
    let block = nodes[2].get(&format!("/blocks/{before_kill}")).or_else(|| {
        std::thread::sleep(Duration::from_secs(2));
        nodes[2].get(&format!("/blocks/{before_kill}"))
    });
    assert!(
        block.is_some(),
        "block {before_kill} final before the kill is gone"
    );
    assert!(
        nodes[2].wait_height(resume, Duration::from_secs(60)),
        "restarted validator did not catch up:\n{}",
        nodes[2].log_tail()
    );

    // Phase 2: every member evaluates every contribution and makes a transfer, through
    // its own node.
    let total_contributions = 4 * CONTRIBUTIONS_PER_MEMBER;
    let mut phase2 = Vec::new();
    for (m, key) in members.iter().enumerate() {
        for c in 0..total_contributions {
            nonces[m] += 1;
            let value = ((c + m as u64) % 6) as i64;
            let tx = Transaction::sign(
                key,
                "pov-devnet",
                &genesis_hash,
                nonces[m],
                TxBody::Evaluate {
                    contribution: c,
                    value,
                },
            );
            submit(&nodes[m], &tx);
            phase2.push(tx.hash().to_string());
        }
        for _ in 0..25 {
            nonces[m] += 1;
            let tx = Transaction::sign(
                key,
                "pov-devnet",
                &genesis_hash,
                nonces[m],
                TxBody::Transfer {
                    to: members[(m + 1) % 4].address(),
                    amount: Amount::from_int(1),
                },
            );
            submit(&nodes[m], &tx);
            phase2.push(tx.hash().to_string());
        }
    }
    let submitted = hashes.len() + phase2.len();
    assert!(submitted >= 300, "submitted {submitted}");
    for n in &nodes {
        wait_final(n, &phase2, Duration::from_secs(180));
    }

    // Every node reaches one common height with the same block and state root.
    let common = nodes.iter().map(NodeProcess::height).max().unwrap_or(0) + 1;
    for n in &nodes {
        assert!(
            n.wait_height(common, Duration::from_secs(60)),
            "{}",
            n.log_tail()
        );
    }
    let blocks: Vec<Value> = nodes
        .iter()
        .map(|n| n.get(&format!("/blocks/{common}")).expect("block"))
        .collect();
    for b in &blocks[1..] {
        assert_eq!(b["hash"], blocks[0]["hash"], "same block at {common}");
        assert_eq!(b["header"]["state_root"], blocks[0]["header"]["state_root"]);
    }
    // Balances agree too, and the transfers moved what they should (25 out, 25 in).
    let accounts: Vec<Value> = nodes
        .iter()
        .map(|n| {
            n.get(&format!("/accounts/{}", members[0].address()))
                .expect("account")
        })
        .collect();
    for a in &accounts[1..] {
        assert_eq!(a["reputation"], accounts[0]["reputation"]);
        assert_eq!(a["tokens"], accounts[0]["tokens"]);
    }
    assert_eq!(accounts[0]["nonce"], nonces[0]);
    // Alice's whole history fits one page of the largest size.
    let history = nodes[0]
        .get(&format!(
            "/accounts/{}/history?limit=1000",
            members[0].address()
        ))
        .expect("history");
    assert_eq!(history["next"], Value::Null, "one page");
    let transfers: Vec<&str> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["rule"] == "transfer")
        .filter_map(|e| e["amount"].as_str())
        .collect();
    let out = transfers.iter().filter(|a| **a == "-1").count();
    let into = transfers.iter().filter(|a| **a == "1").count();
    assert_eq!(
        (out, into, transfers.len()),
        (25, 25, 50),
        "alice sent 25 tokens to bob and received 25 from dave: {transfers:?}"
    );

    // The restarted validator replayed its consensus log instead of signing anew: no node,
    // and in particular none of the three that saw its votes before and after the kill,
    // holds evidence of a double sign.
    for n in &nodes {
        let status = n.get("/status").expect("status");
        assert_eq!(
            status["evidence"],
            0,
            "{} saw double-sign evidence:\n{}",
            n.api,
            n.log_tail()
        );
    }

    for n in nodes {
        assert!(n.stop().success(), "povd exits 0 on SIGTERM");
    }
}
