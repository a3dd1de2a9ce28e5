//! An operator's view of a start-up error: `povd` on a data directory another `povd` holds
//! refuses to start and prints the store's advice once, not once per layer that wraps it.

use std::process::Command;
use std::time::Duration;

use pov_tests::{free_ports, NodeProcess};

/// The advice the store gives with a locked database (`StoreError::Locked`).
const ADVICE: &str = "stop the other node first";

#[test]
fn a_locked_data_directory_is_refused_with_the_advice_printed_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("dev");
    let first = NodeProcess::start_dev(&home, free_ports(1));
    assert!(
        first.wait_height(1, Duration::from_secs(30)),
        "the first node runs: {}",
        first.log_tail()
    );

    let second = Command::new(env!("CARGO_BIN_EXE_povd"))
        .args(["--dev", "--home"])
        .arg(&home)
        .args(["--api-addr", "127.0.0.1:0"])
        .env("RUST_LOG", "off")
        .output()
        .expect("povd runs");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "a second node must not start");
    assert!(
        stderr.contains("is in use by another process"),
        "says why: {stderr}"
    );
    assert_eq!(
        stderr.matches(ADVICE).count(),
        1,
        "the advice exactly once: {stderr}"
    );
    assert!(first.stop().success());
}
