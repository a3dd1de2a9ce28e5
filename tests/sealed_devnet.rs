//! Sealed evaluations (protocol 1.2) on a devnet of four `povd` validators, driven through
//! `pov` alone: `pov devnet init --set` seals the `work` type; alice contributes; bob, carol
//! and dave commit hidden values at once through three different nodes (`pov evaluate`,
//! which keeps each salt encrypted in the keystore folder); an early `pov reveal` is refused;
//! bob and carol reveal (`pov reveal --all`, `pov reveal 0`), dave does not and forfeits; the
//! contribution settles at the start of the block after the reveal window on every node.
//!
//! Checked through the API on the way: no value is visible anywhere before settlement (not
//! in the contribution, not in its evaluations), the commitments and who revealed are; after
//! settlement the values, the forfeit and what settlement did are; the `settled` event is in
//! the event stream, the earlier committer's gain from the later one's agreeing value is in
//! its history as a block-start line; and all four nodes hold the same state root.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use pov_crypto::Keypair;
use pov_tests::{binary, free_ports, NodeProcess};
use serde_json::Value;

const VALIDATORS: usize = 4;
/// Blocks of each window: room for three concurrent commits to become final on a loaded
/// machine, short enough for a test of seconds.
const WINDOW: u64 = 8;

/// Runs `pov ARGS` with `home` as its home, against `node`.
fn pov(home: &Path, node: &str, args: &[&str]) -> Output {
    Command::new(binary("pov"))
        .args(args)
        .env("POV_HOME", home)
        .env("POV_NODE", node)
        .env_remove("POV_FROM")
        .env_remove("POV_OUTPUT")
        .output()
        .expect("pov runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output, what: &str) -> String {
    assert!(out.status.success(), "{what} failed:\n{}", text(&out));
    text(&out)
}

/// Every key named `value` anywhere in `v`, with what it holds.
fn values_in(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if k == "value" {
                    out.push(x.clone());
                }
                values_in(x, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| values_in(x, out)),
        _ => {}
    }
}

fn wait_until(node: &NodeProcess, what: &str, limit: Duration, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < limit,
            "{what} not reached after {limit:?}:\n{}",
            node.log_tail()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_sealed_contribution_commits_reveals_and_settles_through_pov_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let devnet = dir.path().join("devnet");
    let wallet: PathBuf = dir.path().join("wallet");
    let p2p = free_ports(VALIDATORS as u16);
    let api = free_ports(VALIDATORS as u16);
    let window = WINDOW.to_string();
    let init = ok(
        Command::new(binary("pov"))
            .args(["devnet", "init", "--validators", "4", "--dir"])
            .arg(&devnet)
            .args([
                "--p2p-port",
                &p2p.to_string(),
                "--api-port",
                &api.to_string(),
            ])
            .args([
                "--set",
                &format!("types.work.sealed.commit_blocks={window}"),
            ])
            .args([
                "--set",
                &format!("types.work.sealed.reveal_blocks={window}"),
            ])
            .env("POV_HOME", &wallet)
            .output()
            .expect("pov runs"),
        "devnet init",
    );
    assert!(init.contains("now sealed"), "{init}");
    let homes: Vec<PathBuf> = (0..VALIDATORS)
        .map(|i| devnet.join(format!("node{i}")))
        .collect();
    let urls: Vec<String> = (0..VALIDATORS)
        .map(|i| format!("http://127.0.0.1:{}", api + i as u16))
        .collect();
    let nodes: Vec<NodeProcess> = (0..VALIDATORS)
        .map(|i| NodeProcess::start(&homes[i], &urls[i]))
        .collect();
    for n in &nodes {
        assert!(
            n.wait_height(2, Duration::from_secs(90)),
            "{}",
            n.log_tail()
        );
    }
    ok(pov(&wallet, &urls[0], &["keys", "add-dev"]), "keys add-dev");
    let params = nodes[0].get("/params").expect("params");
    assert_eq!(
        params["params"]["types"]["work"]["sealed"]["commit_blocks"],
        WINDOW
    );

    // alice contributes.
    let out = ok(
        pov(
            &wallet,
            &urls[0],
            &[
                "contribute",
                "--kind",
                "work",
                "--title",
                "Fix the roof",
                "--uri",
                "https://example.org/roof",
                "--from",
                "alice",
            ],
        ),
        "contribute",
    );
    assert!(out.contains("contribution #0"), "{out}");
    let contribution = |n: &NodeProcess| n.get("/contributions/0").expect("contribution 0");
    let c = contribution(&nodes[0]);
    assert_eq!(c["sealed"]["phase"], "commit", "{c}");
    let commit_ends = c["sealed"]["commit_ends"].as_u64().expect("commit_ends");
    let settles_at = c["sealed"]["settles_at"].as_u64().expect("settles_at");
    assert_eq!(settles_at, commit_ends + WINDOW + 1);

    // bob, carol and dave commit at once, each through a node of its own.
    let committers = [("bob", "4", 1), ("carol", "4", 2), ("dave", "2", 3)];
    let handles: Vec<_> = committers
        .iter()
        .map(|(who, value, node)| {
            let (wallet, url) = (wallet.clone(), urls[*node].clone());
            let (who, value) = (who.to_string(), value.to_string());
            std::thread::spawn(move || {
                pov(&wallet, &url, &["evaluate", "0", &value, "--from", &who])
            })
        })
        .collect();
    for h in handles {
        let out = ok(h.join().expect("thread"), "evaluate (commit)");
        assert!(out.contains("lose that file"), "{out}");
        assert!(out.contains("pov reveal 0"), "{out}");
    }
    let seals = wallet.join("keys").join("seals");
    assert!(seals.is_dir(), "the salts are kept in {}", seals.display());

    // Before the reveal window: three commitments, no value anywhere, and an early reveal
    // is refused before anything is signed.
    let c = contribution(&nodes[2]);
    assert_eq!(c["sealed"]["commitments"], 3, "{c}");
    assert_eq!(c["evaluations"], Value::Array(vec![]), "{c}");
    let mut seen = Vec::new();
    values_in(&c, &mut seen);
    assert!(
        seen.is_empty(),
        "values visible during the commit window: {c}"
    );
    let early = pov(&wallet, &urls[1], &["reveal", "0", "--from", "bob"]);
    assert!(!early.status.success());
    assert!(
        text(&early).contains("reveal window opens after height"),
        "{}",
        text(&early)
    );

    // Reveal window: bob with --all, carol by id; dave forgets.
    wait_until(
        &nodes[0],
        "the reveal window",
        Duration::from_secs(120),
        || nodes[0].height() >= commit_ends,
    );
    let events = {
        let url = format!("{}/events", urls[3]);
        std::thread::spawn(move || {
            pov_tests::http::read_sse_until(&url, "event: settled", Duration::from_secs(120))
        })
    };
    ok(
        pov(&wallet, &urls[1], &["reveal", "--all", "--from", "bob"]),
        "reveal --all",
    );
    ok(
        pov(&wallet, &urls[2], &["reveal", "0", "--from", "carol"]),
        "reveal",
    );
    let c = contribution(&nodes[0]);
    if c["sealed"]["phase"] == "reveal" {
        let mut seen = Vec::new();
        values_in(&c, &mut seen);
        assert!(seen.is_empty(), "values visible before settlement: {c}");
        assert_eq!(c["evaluations"], Value::Array(vec![]), "{c}");
        let revealed = c["sealed"]["committers"]
            .as_array()
            .expect("committers")
            .iter()
            .filter(|m| m["revealed"] == true)
            .count();
        assert_eq!(revealed, 2, "{c}");
    }
    let shown = ok(
        pov(&wallet, &urls[3], &["show", "contribution", "0"]),
        "show contribution",
    );
    assert!(
        shown.contains("values stay hidden until settlement")
            || shown.contains("settled at height"),
        "{shown}"
    );

    // Settlement, on every node at the same height and root.
    for n in &nodes {
        wait_until(n, "settlement", Duration::from_secs(120), || {
            n.height() >= settles_at
        });
    }
    let c = contribution(&nodes[3]);
    let settlement = &c["sealed"]["settlement"];
    assert_eq!(settlement["height"], settles_at, "{c}");
    assert_eq!(
        (
            settlement["committed"].clone(),
            settlement["revealed"].clone(),
            settlement["forfeited"].clone()
        ),
        (Value::from(3), Value::from(2), Value::from(1)),
        "{c}"
    );
    let values: Vec<(String, Value)> = settlement["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap_or_default().to_string(),
                v["value"].clone(),
            )
        })
        .collect();
    for (who, value, _) in committers {
        let want = if who == "dave" {
            Value::Null
        } else {
            Value::from(value.parse::<i64>().expect("value"))
        };
        assert!(
            values.contains(&(who.to_string(), want)),
            "{who}: {values:?}"
        );
    }
    assert_eq!(c["evaluations"].as_array().map(Vec::len), Some(2), "{c}");
    let rules: Vec<&str> = settlement["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["rule"].as_str())
        .collect();
    assert!(rules.contains(&"redistribution"), "{rules:?}");
    let shown = ok(
        pov(&wallet, &urls[0], &["show", "contribution", "0"]),
        "show contribution",
    );
    assert!(shown.contains("1 forfeited"), "{shown}");
    assert!(shown.contains("what settlement did"), "{shown}");
    assert!(shown.contains("redistribution"), "{shown}");

    // The event stream carried the settlement. bob and carol committed the same value at
    // once: whichever committed first gains from the other's at settlement, and its history
    // has that as a block-start line.
    let stream = events.join().expect("events thread");
    assert!(stream.contains("event: settled"), "{stream}");
    let first = settlement["values"]
        .as_array()
        .expect("values")
        .iter()
        .find(|v| v["name"] == "bob" || v["name"] == "carol")
        .and_then(|v| v["member_id"].as_u64())
        .expect("bob or carol");
    let earlier = Keypair::dev(first as u32).address();
    let history = nodes[1]
        .get(&format!("/accounts/{earlier}/history"))
        .expect("history");
    let settled_lines: Vec<&Value> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["block_start"] == true && e["height"] == settles_at)
        .collect();
    assert!(
        settled_lines.iter().any(|e| e["rule"] == "redistribution"),
        "{history}"
    );

    // Every node agrees on the settlement block.
    let roots: Vec<Value> = nodes
        .iter()
        .map(|n| {
            n.get(&format!("/blocks/{settles_at}")).expect("block")["header"]["state_root"].clone()
        })
        .collect();
    assert!(roots.windows(2).all(|w| w[0] == w[1]), "{roots:?}");
}
