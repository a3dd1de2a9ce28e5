//! Crash tests that really crash: a child process commits blocks to a sled store and is
//! killed with SIGKILL at a random moment (while committing, flushing, opening or replaying),
//! again and again on the same directory. After every kill the store is reopened and must
//! hold every block the child reported final, with the root it reported, and its state must
//! equal a replay from genesis.
//!
//! The child is this same test binary, re-run with `--ignored --exact crash_writer_child`
//! and the directory in `POV_CRASH_DIR`: no extra binary to build or ship.
//!
//! Before every fourth run the parent damages the stored state (valid bytes, wrong
//! balance), so that the child's open rebuilds it by replay and rewrites it: kills then
//! also land in the middle of that repair.
//!
//! Bounded in time: `POV_CRASH_SECONDS` (default 75) or 400 kills, whichever comes first.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pov_crypto::Hash;
use pov_protocol::genesis::Genesis;
use pov_protocol::test_utils::{SplitMix64, Workload};
use pov_storage::engine::{Engine, SledEngine, SledOptions, Tree, WriteBatch};
use pov_storage::test_utils::commit_next;
use pov_storage::{schema, OpenOptions, ReplayOptions, Store};

const DIR_VAR: &str = "POV_CRASH_DIR";

/// The child: opens the store and commits blocks of 1 to 8 transactions until killed,
/// printing `final <height> <state root>` after each commit returns (after its flush).
#[test]
#[ignore = "run by crash_loop_keeps_every_final_block as its child process"]
fn crash_writer_child() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let mut store =
        Store::open(Path::new(&dir), Genesis::dev(), &OpenOptions::default()).expect("open");
    let workload = Workload::dev(4);
    let started = Instant::now();
    let mut out = std::io::stdout();
    if store.open_report().rebuilt.is_some() {
        writeln!(out, "rebuilt").expect("stdout");
        out.flush().expect("flush stdout");
    }
    // A cap in case the parent dies without killing us.
    while started.elapsed() < Duration::from_secs(60) {
        let count = 1 + (store.height() % 8) as usize;
        let receipt = commit_next(&mut store, &workload, count, &|_| false).expect("commit");
        // Written straight to the process's stdout (not the test harness's capture).
        writeln!(out, "final {} {}", receipt.height, receipt.state_root).expect("stdout");
        out.flush().expect("flush stdout");
    }
}

/// Gives member 0 one more token in the stored state, behind the store's back. Returns
/// false only when there is no stored state yet (every run so far was killed before the
/// store was first created); a store that has a chain but no member 0 is a failure.
fn damage_state(data: &Path) -> bool {
    if !data.join("sled").exists() {
        return false;
    }
    let engine = SledEngine::open(&data.join("sled"), &SledOptions::default()).expect("engine");
    let key = schema::state::member(0);
    let Some(bytes) = engine.get(Tree::State, &key).expect("get") else {
        let head = engine
            .get(Tree::Meta, schema::meta::HEAD)
            .expect("get head");
        assert!(
            head.is_none(),
            "a stored chain without member 0 in its state"
        );
        return false;
    };
    let mut member: pov_protocol::Member =
        pov_protocol::codec::decode_canonical(&bytes).expect("decode");
    member.tokens = member
        .tokens
        .checked_add(pov_protocol::Amount::ONE)
        .expect("add");
    let mut batch = WriteBatch::new();
    batch.put(Tree::State, key, pov_protocol::codec::encode(&member));
    engine.write(&batch).expect("write");
    engine.flush().expect("flush");
    true
}

#[test]
fn crash_loop_keeps_every_final_block() {
    let budget = Duration::from_secs(
        std::env::var("POV_CRASH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(75),
    );
    let seed = std::env::var("POV_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    println!("crash loop: seed {seed} (POV_CRASH_SEED to repeat), budget {budget:?}");
    // The kill delays come from the seed, which is printed so a failure can be re-run.
    let mut rng = SplitMix64::new(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let exe = std::env::current_exe().expect("test binary");
    let started = Instant::now();

    let (mut kills, mut reported, mut rebuilt, mut killed_before_first_commit) = (0, 0, 0, 0);
    let (mut damaged, mut rebuilt_by_child) = (0, 0);
    let mut last_height = 0;
    while started.elapsed() < budget && kills < 400 {
        if kills % 4 == 3 && damage_state(&data) {
            damaged += 1;
        }
        // Mostly short delays (kills during open and early commits), some long ones.
        let delay = match rng.below(4) {
            0 => rng.below(60),
            _ => rng.between(20, 419),
        };
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_writer_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DIR_VAR, &data)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the writer");
        let stdout = child.stdout.take().expect("child stdout");
        let mut stderr = child.stderr.take().expect("child stderr");
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        let reader = std::thread::spawn(move || {
            let mut finals: Vec<(u64, Hash)> = Vec::new();
            let mut rebuilt = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                rebuilt |= line == "rebuilt";
                let mut parts = line.split_whitespace();
                if parts.next() != Some("final") {
                    continue;
                }
                let height = parts.next().and_then(|h| h.parse().ok());
                let root = parts.next().and_then(|r| r.parse().ok());
                if let (Some(h), Some(r)) = (height, root) {
                    finals.push((h, r));
                }
            }
            (finals, rebuilt)
        });
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().expect("SIGKILL the writer");
        let status = child.wait().expect("reap the writer");
        let (finals, child_rebuilt) = reader.join().expect("reader thread");
        if child_rebuilt {
            rebuilt_by_child += 1;
        }
        let errors = errors.join().expect("stderr thread");
        // Killed by our SIGKILL, not ended by a failure of its own.
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "the writer ended by itself ({status}) after {delay} ms:\n{errors}"
        );
        kills += 1;
        reported += finals.len();
        if finals.is_empty() {
            killed_before_first_commit += 1;
        }

        // Reopen: every block reported final is there, with its root.
        let store = Store::open(&data, Genesis::dev(), &OpenOptions::default())
            .unwrap_or_else(|e| panic!("kill {kills} (after {delay} ms): reopen failed: {e}"));
        if store.open_report().rebuilt.is_some() {
            rebuilt += 1;
        }
        for (height, root) in &finals {
            let header = store
                .header(*height)
                .expect("read header")
                .unwrap_or_else(|| {
                    panic!("kill {kills}: block {height} was reported final and is gone")
                });
            assert_eq!(
                header.state_root, *root,
                "kill {kills}: block {height} has another root than reported"
            );
        }
        let max_reported = finals.last().map_or(0, |f| f.0);
        assert!(
            store.height() >= max_reported.max(last_height),
            "kill {kills}: head went back"
        );
        last_height = store.height();

        // And the state is exactly a replay from genesis.
        let replay = store.replay(ReplayOptions::default()).expect("replay");
        assert_eq!(replay.height, store.height());
        assert_eq!(
            replay.state_root,
            store.state_root(),
            "kill {kills}: state differs from replay"
        );
        assert_eq!(store.state().state_root(), store.state_root());
    }
    println!(
        "crash loop: {kills} SIGKILLs in {:.1} s ({killed_before_first_commit} before the first commit), \
         {reported} blocks reported final, all present; head at {last_height}; \
         state damaged before {damaged} runs; rebuilt by the child's open {rebuilt_by_child} times, \
         by the parent's reopen {rebuilt} times",
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= 10, "too few iterations to mean anything: {kills}");
    assert!(damaged >= 1, "the state was never damaged");
    assert!(last_height > 0, "the writer never committed a block");
    // The rebuilds counted above depend on where the kills fall (a child killed after its
    // rebuild but before saying so is counted by no one), so the repair is also checked
    // once for certain: damaged after the last kill, the state is rebuilt on open and
    // equals a replay.
    assert!(damage_state(&data), "no stored state to damage at the end");
    let store = Store::open(&data, Genesis::dev(), &OpenOptions::default()).expect("reopen");
    assert!(
        store.open_report().rebuilt.is_some(),
        "a damaged state was not rebuilt: {:?}",
        store.open_report()
    );
    let replay = store.replay(ReplayOptions::default()).expect("replay");
    assert_eq!(replay.state_root, store.state_root());
    assert_eq!(store.state().state_root(), store.state_root());
}
