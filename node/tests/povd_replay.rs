//! `povd replay --home DIR` on a chain built with the storage API: exit 0 and the right root
//! when the store is sound, non-zero when the stored state or head was tampered with.

use std::path::Path;
use std::process::Command;

use pov_protocol::genesis::Genesis;
use pov_protocol::test_utils::Workload;
use pov_storage::engine::{Engine, SledEngine, SledOptions, Tree, WriteBatch};
use pov_storage::test_utils::commit_next;
use pov_storage::{schema, OpenOptions, Store};

/// A home with genesis.toml and a chain of 25 blocks in data/; returns the head's root.
fn build_home(home: &Path) -> String {
    let genesis = Genesis::dev();
    std::fs::write(home.join("genesis.toml"), genesis.to_toml()).expect("write genesis");
    let mut store =
        Store::open(&home.join("data"), genesis, &OpenOptions::default()).expect("open store");
    let workload = Workload::dev(4);
    for _ in 0..25 {
        commit_next(&mut store, &workload, 12, &|_| false).expect("commit");
    }
    store.state_root().to_string()
}

fn povd_replay(home: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_povd"))
        .args(["replay", "--home"])
        .arg(home)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run povd");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn printed_root(stdout: &str) -> Option<&str> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("state_root "))
        .map(str::trim)
}

/// Rewrites one stored value through the engine, behind the store's back.
fn tamper(home: &Path, tree: Tree, key: &[u8], edit: impl FnOnce(Vec<u8>) -> Vec<u8>) {
    let engine = SledEngine::open(&home.join("data").join("sled"), &SledOptions::default())
        .expect("open engine");
    let bytes = engine.get(tree, key).expect("get").expect("present");
    let mut batch = WriteBatch::new();
    batch.put(tree, key.to_vec(), edit(bytes));
    engine.write(&batch).expect("write");
    engine.flush().expect("flush");
}

#[test]
fn replay_verifies_a_sound_chain_and_prints_its_root() {
    let home = tempfile::tempdir().expect("tempdir");
    let root = build_home(home.path());
    let (code, stdout, stderr) = povd_replay(home.path());
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(printed_root(&stdout), Some(root.as_str()), "{stdout}");
    assert!(stdout.contains("height 25"), "{stdout}");
}

#[test]
fn replay_fails_when_the_stored_state_was_changed() {
    let home = tempfile::tempdir().expect("tempdir");
    let root = build_home(home.path());
    // Give alice ten tokens more: valid bytes, wrong state.
    tamper(
        home.path(),
        Tree::State,
        &schema::state::member(0),
        |bytes| {
            let mut alice: pov_protocol::Member =
                pov_protocol::codec::decode_canonical(&bytes).expect("decode");
            alice.tokens = alice
                .tokens
                .checked_add(pov_protocol::Amount::from_int(10))
                .expect("add");
            pov_protocol::codec::encode(&alice)
        },
    );
    let (code, stdout, stderr) = povd_replay(home.path());
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    // The recomputed root is still the chain's; the stored state's differs.
    assert_eq!(printed_root(&stdout), Some(root.as_str()), "{stdout}");
    assert!(stdout.contains("DIFFERS"), "{stdout}");
}

#[test]
fn replay_fails_when_the_stored_head_root_was_changed() {
    let home = tempfile::tempdir().expect("tempdir");
    build_home(home.path());
    tamper(home.path(), Tree::Meta, schema::meta::HEAD, |bytes| {
        let mut head: pov_storage::Head =
            pov_protocol::codec::decode_canonical(&bytes).expect("decode");
        head.state_root = pov_crypto::Hash([9; 32]);
        pov_protocol::codec::encode(&head)
    });
    let (code, stdout, stderr) = povd_replay(home.path());
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("DIFFERS"), "{stdout}");
}

#[test]
fn replay_of_a_missing_home_is_a_clear_error() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, _, stderr) = povd_replay(&home.path().join("nowhere"));
    assert_eq!(code, 2);
    assert!(stderr.contains("genesis.toml"), "{stderr}");
}
