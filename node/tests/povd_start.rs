//! `povd` start-up as an operator meets it, with real processes: a p2p port already taken
//! by another node fails start-up with exit 2; a genesis time ahead is waited for (block 1 is
//! not before it); `povd config` edits a home, and `povd init --force` re-initializes one.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_tests::{free_ports, NodeProcess};

fn povd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_povd"))
}

/// A home for the dev genesis with `genesis_time_ms`, validator 0's key, and the given ports.
fn init(dir: &Path, genesis_time_ms: u64, api: u16, p2p: u16) -> std::path::PathBuf {
    let mut genesis = Genesis::dev();
    genesis.genesis_time_ms = genesis_time_ms;
    let file = dir.join("genesis.toml");
    std::fs::write(&file, genesis.to_toml()).expect("write genesis");
    let key = dir.join("validator.key");
    std::fs::write(
        &key,
        format!("{}\n", hex::encode(dev_validator_key(0).secret_bytes())),
    )
    .expect("write key");
    let home = dir.join("home");
    let out = povd()
        .args(["init", "--home"])
        .arg(&home)
        .arg("--genesis")
        .arg(&file)
        .arg("--validator-key")
        .arg(&key)
        .args(["--api-addr", &format!("127.0.0.1:{api}")])
        .args(["--p2p-addr", &format!("/ip4/127.0.0.1/tcp/{p2p}")])
        .output()
        .expect("povd init runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    home
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

/// Waits for `check` to hold, at most `limit`.
fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn a_p2p_port_in_use_fails_start_up_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ports = free_ports(3);
    let home = init(dir.path(), 0, ports, ports + 1);
    let first = NodeProcess::start(&home, &format!("http://127.0.0.1:{ports}"));
    assert!(
        first.wait_height(1, Duration::from_secs(30)),
        "first node runs\n{}",
        first.log_tail()
    );
    // A second node of its own, told to listen on the first one's p2p port.
    let other = tempfile::tempdir().expect("tempdir");
    let second = init(other.path(), 0, ports + 2, ports + 1);
    let mut child = povd()
        .arg("--home")
        .arg(&second)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("povd runs");
    let exited = wait_for(Duration::from_secs(20), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !exited {
        let _ = child.kill();
    }
    let out = child.wait_with_output().expect("povd output");
    assert!(exited, "a second node started on a p2p port in use");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("/tcp/{}", ports + 1)) && stderr.contains("already in use"),
        "{stderr}"
    );
    assert!(first.stop().success());
}

#[test]
fn a_genesis_time_ahead_is_waited_for_and_block_1_is_not_before_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ports = free_ports(2);
    let start_ms = now_ms() + 4_000;
    let home = init(dir.path(), start_ms, ports, ports + 1);
    let node = NodeProcess::start(&home, &format!("http://127.0.0.1:{ports}"));
    assert!(
        wait_for(Duration::from_secs(20), || node.get("/status").is_some()),
        "API up while waiting\n{}",
        node.log_tail()
    );
    let status = node.get("/status").expect("status");
    assert_eq!(status["height"], 0, "{status}");
    assert!(
        node.wait_height(1, Duration::from_secs(30)),
        "blocks after the genesis time\n{}",
        node.log_tail()
    );
    let block = node.get("/blocks/1").expect("block 1");
    let time = block["header"]["time_ms"].as_u64().expect("time_ms");
    assert!(
        time >= start_ms,
        "block 1 at {time}, genesis time {start_ms}"
    );
    let log = std::fs::read_to_string(home.join("povd.log")).expect("log");
    assert!(log.contains("the chain starts"), "{log}");
    assert!(node.stop().success());
}

#[test]
fn config_set_edits_a_home_and_init_force_reinitializes_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = init(dir.path(), 0, 7070, 26656);
    let run = |args: &[&str]| {
        let out = povd()
            .args(args)
            .arg("--home")
            .arg(&home)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&[
        "config",
        "set",
        "p2p.bootnodes",
        "/ip4/10.0.0.5/tcp/26656,/ip4/10.0.0.6/tcp/26656",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("p2p.bootnodes"), "{out}");
    let (_, shown, _) = run(&["config", "show"]);
    assert!(shown.contains("/ip4/10.0.0.6/tcp/26656"), "{shown}");

    // Refused edits name what is wrong and change nothing.
    let (code, _, err) = run(&["config", "set", "api.lisen", "127.0.0.1:1"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("api.lisen") && err.contains("api.listen"),
        "{err}"
    );
    let (code, _, err) = run(&["config", "set", "p2p.listen", "not-an-address"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not a multiaddr"), "{err}");
    let (code, _, err) = run(&["config", "set", "mempool.max_txs", "-3"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("whole number"), "{err}");
    assert_eq!(run(&["config", "show"]).1, shown);
    let (code, _, _) = run(&["config", "unset", "p2p.bootnodes"]);
    assert_eq!(code, Some(0));
    assert!(run(&["config", "show"]).1.contains("bootnodes = []"));

    // init again: refused without --force; with it, the node keeps its identity.
    let node_key = std::fs::read(home.join("node.key")).expect("node.key");
    let genesis = dir.path().join("genesis.toml");
    let again = |force: bool| {
        let mut cmd = povd();
        cmd.args(["init", "--home"])
            .arg(&home)
            .arg("--genesis")
            .arg(&genesis)
            .args(["--bootnode", "/ip4/10.0.0.7/tcp/26656"]);
        if force {
            cmd.arg("--force");
        }
        cmd.output().expect("runs")
    };
    let out = again(false);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    let out = again(true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("re-initialized"));
    assert_eq!(
        std::fs::read(home.join("node.key")).expect("node.key"),
        node_key
    );
    assert!(run(&["config", "show"])
        .1
        .contains("/ip4/10.0.0.7/tcp/26656"));
}
