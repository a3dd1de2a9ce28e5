//! Damaged data files: every case either opens to the full, verified chain, or fails with
//! an error that names the file or directory and says what to do. Never a panic (a panic
//! here fails the test), never a silently shorter chain.

use std::path::{Path, PathBuf};

use pov_protocol::genesis::Genesis;
use pov_protocol::test_utils::{SplitMix64, Workload};
use pov_storage::engine::{Engine, SledEngine, SledOptions, Tree, WriteBatch};
use pov_storage::test_utils::commit_next;
use pov_storage::{schema, OpenOptions, ReplayOptions, Store, StoreError};

const HEIGHT: u64 = 30;

/// A chain of `HEIGHT` blocks in `dir`.
fn build(dir: &Path) -> pov_crypto::Hash {
    let mut store = Store::open(dir, Genesis::dev(), &OpenOptions::default()).expect("open");
    let workload = Workload::dev(4);
    for _ in 0..HEIGHT {
        commit_next(&mut store, &workload, 20, &|_| false).expect("commit");
    }
    store.state_root()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// Opens the damaged copy and checks the outcome; returns whether it opened.
fn check(dir: &Path, root: pov_crypto::Hash, case: &str) -> bool {
    match Store::open(dir, Genesis::dev(), &OpenOptions::default()) {
        Ok(store) => {
            // Opening is only acceptable with the whole chain, and a replay that agrees.
            assert_eq!(store.height(), HEIGHT, "{case}: opened a shorter chain");
            assert_eq!(store.state_root(), root, "{case}");
            let v = store.verify(ReplayOptions::default());
            assert!(
                matches!(&v, Ok(v) if v.matches()),
                "{case}: opened but does not verify: {v:?}"
            );
            true
        }
        Err(err) => {
            let text = err.to_string();
            assert!(
                text.contains(&dir.display().to_string()),
                "{case}: error does not name the data directory: {text}"
            );
            assert!(
                text.contains("povd replay") || text.contains("check the disk"),
                "{case}: error does not say what to do: {text}"
            );
            assert!(
                matches!(err, StoreError::Corrupt { .. } | StoreError::Io { .. }),
                "{case}: {err:?}"
            );
            false
        }
    }
}

fn db_file(dir: &Path) -> PathBuf {
    dir.join("sled").join("db")
}

#[test]
fn truncated_or_corrupted_files_give_a_clear_error_or_the_whole_chain() {
    let base = tempfile::tempdir().expect("tempdir");
    let source = base.path().join("source");
    let root = build(&source);
    let db = std::fs::read(db_file(&source)).expect("read db");

    type Damage = Box<dyn Fn(&Path)>;
    let len = db.len();
    let mut cases: Vec<(String, Damage)> = vec![
        (
            "db truncated to half".into(),
            Box::new(move |d| {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(db_file(d))
                    .expect("open");
                f.set_len(len as u64 / 2).expect("truncate");
            }),
        ),
        (
            "db truncated to zero".into(),
            Box::new(|d| std::fs::write(db_file(d), b"").expect("write")),
        ),
        (
            "db deleted".into(),
            Box::new(|d| std::fs::remove_file(db_file(d)).expect("rm")),
        ),
        (
            "conf truncated".into(),
            Box::new(|d| {
                let conf = d.join("sled").join("conf");
                let bytes = std::fs::read(&conf).expect("read");
                std::fs::write(&conf, &bytes[..bytes.len() / 2]).expect("write");
            }),
        ),
        (
            "final-head marker garbage".into(),
            Box::new(|d| std::fs::write(d.join("final-head"), "12 not-a-hash").expect("write")),
        ),
    ];
    let fixed = cases.len();
    // A fixed seed, for reproducible damage.
    let mut rng = SplitMix64::new(0x5eed);
    for i in 0..40 {
        let kind = rng.below(3);
        let offset = rng.below(len as u64) as usize;
        let noise: Vec<u8> = (0..64).map(|_| rng.next_u64() as u8).collect();
        let flips: Vec<(usize, u8)> = (0..8)
            .map(|_| (rng.below(len as u64) as usize, 1u8 << rng.below(8)))
            .collect();
        let db = db.clone();
        let (name, damage): (String, Damage) = match kind {
            0 => (
                format!("#{i}: 64 random bytes at {offset}"),
                Box::new(move |d| {
                    let mut b = db.clone();
                    let end = (offset + 64).min(b.len());
                    b[offset..end].copy_from_slice(&noise[..end - offset]);
                    std::fs::write(db_file(d), b).expect("write");
                }),
            ),
            1 => (
                format!("#{i}: truncated to {offset} bytes"),
                Box::new(move |d| std::fs::write(db_file(d), &db[..offset]).expect("write")),
            ),
            _ => (
                format!("#{i}: 8 flipped bits"),
                Box::new(move |d| {
                    let mut b = db.clone();
                    for (at, bit) in &flips {
                        b[*at] ^= bit;
                    }
                    std::fs::write(db_file(d), b).expect("write");
                }),
            ),
        };
        cases.push((name, damage));
    }

    let (mut opened, mut refused) = (0, 0);
    for (i, (case, damage)) in cases.iter().enumerate() {
        let dir = base.path().join(format!("case{i}"));
        copy_dir(&source, &dir);
        damage(&dir);
        let whole = check(&dir, root, case);
        // The fixed cases destroy data no store could recover: each must be refused.
        assert!(i >= fixed || !whole, "{case}: opened, but must be refused");
        if whole {
            opened += 1;
        } else {
            refused += 1;
        }
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
    println!(
        "{opened} damaged copies opened whole and verified, {refused} refused with a clear error"
    );
    assert!(refused >= fixed);
}

#[test]
fn a_damaged_block_record_is_named_in_the_error() {
    let base = tempfile::tempdir().expect("tempdir");
    let dir = base.path().join("data");
    build(&dir);
    {
        let engine = SledEngine::open(&dir.join("sled"), &SledOptions::default()).expect("engine");
        let mut batch = WriteBatch::new();
        batch.put(
            Tree::Chain,
            schema::chain::header(HEIGHT),
            b"not a header".to_vec(),
        );
        engine.write(&batch).expect("write");
        engine.flush().expect("flush");
    }
    let err = Store::open(&dir, Genesis::dev(), &OpenOptions::default()).expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains(&format!("header of block {HEIGHT}")),
        "{text}"
    );
    assert!(text.contains("tree `chain`"), "{text}");
    assert!(text.contains("povd replay"), "{text}");

    // A damaged transaction deep in the chain: the stored state still opens (it checks out
    // against the head), but a replay finds the block and says which.
    let dir = base.path().join("data2");
    build(&dir);
    {
        let engine = SledEngine::open(&dir.join("sled"), &SledOptions::default()).expect("engine");
        let mut batch = WriteBatch::new();
        batch.put(Tree::Chain, schema::chain::tx(7, 3), b"garbage".to_vec());
        engine.write(&batch).expect("write");
        engine.flush().expect("flush");
    }
    let store = Store::open(&dir, Genesis::dev(), &OpenOptions::default()).expect("opens");
    let err = store
        .verify(ReplayOptions::default())
        .expect_err("replay finds it");
    assert!(
        err.to_string().contains("transaction 3 of block 7"),
        "{err}"
    );
    drop(store);
    let err = Store::open(
        &dir,
        Genesis::dev(),
        &OpenOptions {
            verify: true,
            ..OpenOptions::default()
        },
    )
    .expect_err("verify on open finds it");
    assert!(err.is_corruption(), "{err}");
}
