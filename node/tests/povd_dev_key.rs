//! A validator signing with one of the public development keys is warned about it at start
//! when the chain is not a devnet, and only then.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_tests::free_ports;

const WARNING: &str = "PUBLIC development key";

/// Initializes a home for `genesis` with dev validator key 0, starts povd until it says it
/// started, and returns its log.
fn start_log(dir: &Path, genesis: &Genesis) -> String {
    std::fs::create_dir_all(dir).expect("dir");
    let file = dir.join("genesis.toml");
    std::fs::write(&file, genesis.to_toml()).expect("write genesis");
    let key = dir.join("validator.key");
    std::fs::write(
        &key,
        format!("{}\n", hex::encode(dev_validator_key(0).secret_bytes())),
    )
    .expect("write key");
    let home = dir.join("home");
    let ports = free_ports(2);
    let out = Command::new(env!("CARGO_BIN_EXE_povd"))
        .args(["init", "--home"])
        .arg(&home)
        .arg("--genesis")
        .arg(&file)
        .arg("--validator-key")
        .arg(&key)
        .args(["--api-addr", &format!("127.0.0.1:{ports}")])
        .args(["--p2p-addr", &format!("/ip4/127.0.0.1/tcp/{}", ports + 1)])
        .output()
        .expect("povd init runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = dir.join("povd.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_povd"))
        .arg("--home")
        .arg(&home)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("povd starts");
    let start = Instant::now();
    let mut text = String::new();
    while start.elapsed() < Duration::from_secs(30) {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("povd started") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.contains("povd started"), "{text}");
    text
}

#[test]
fn a_public_dev_validator_key_is_warned_about_on_a_non_dev_chain_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut coop = Genesis::dev();
    coop.chain_id = "bakery-coop".into();
    let log = start_log(&dir.path().join("coop"), &coop);
    assert!(
        log.contains(WARNING),
        "no warning on a non-dev chain:\n{log}"
    );

    let log = start_log(&dir.path().join("dev"), &Genesis::dev());
    assert!(!log.contains(WARNING), "a devnet is warned about:\n{log}");
}
