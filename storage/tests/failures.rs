//! The store when the disk or the data betray it: a failed write, a failed marker write, a
//! marker that cannot be read or was lost, an I/O error reading the state, a database of
//! another layout version, a marker or a head record naming another block, and a certified
//! block whose transaction signature is forged. Each is refused with an error that says
//! what (or, for a lost marker, repaired), and nothing reported final is lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_protocol::test_utils::{certify, Workload};
use pov_protocol::{Transaction, TxBody};
use pov_storage::engine::{
    Engine, EngineError, EngineErrorKind, KeyValue, MemoryEngine, Scan, SledEngine, SledOptions,
    Tree, WriteBatch,
};
use pov_storage::test_utils::commit_next;
use pov_storage::{schema, OpenOptions, Store, StoreError};

fn grow(store: &mut Store, blocks: u64) {
    let workload = Workload::dev(4);
    for _ in 0..blocks {
        commit_next(store, &workload, 4, &|_| false).expect("commit");
    }
}

fn open(dir: &std::path::Path) -> Result<Store, StoreError> {
    Store::open(dir, Genesis::dev(), &OpenOptions::default())
}

/// The error opening `dir` gives (a store that opens is a failure).
fn refused(dir: &std::path::Path) -> StoreError {
    match open(dir) {
        Ok(store) => panic!("opened at height {}, must be refused", store.height()),
        Err(e) => e,
    }
}

/// A memory engine, shared so that a store can be reopened over it, whose writes fail on
/// demand (a disk that refuses a write).
struct FailingWrites {
    inner: Arc<MemoryEngine>,
    fail: Arc<AtomicBool>,
}

impl Engine for FailingWrites {
    fn name(&self) -> &'static str {
        "failing-writes"
    }
    fn location(&self) -> std::path::PathBuf {
        "<failing-writes>".into()
    }
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        self.inner.get(tree, key)
    }
    fn scan(&self, scan: Scan<'_>) -> Result<Vec<KeyValue>, EngineError> {
        self.inner.scan(scan)
    }
    fn write(&self, batch: &WriteBatch) -> Result<(), EngineError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(EngineError {
                kind: EngineErrorKind::Io,
                path: "<failing-writes>".into(),
                message: "writing".into(),
                source: Some(std::io::Error::other("no space left on device")),
            });
        }
        self.inner.write(batch)
    }
    fn flush(&self) -> Result<(), EngineError> {
        self.inner.flush()
    }
    fn size_on_disk(&self) -> Result<u64, EngineError> {
        Ok(0)
    }
}

/// A memory engine, shared, whose reads of the state's chain-wide entry fail on demand (a
/// disk that returns an I/O error where the state lies).
struct FailingStateRead {
    inner: Arc<MemoryEngine>,
    fail: Arc<AtomicBool>,
}

impl Engine for FailingStateRead {
    fn name(&self) -> &'static str {
        "failing-state-read"
    }
    fn location(&self) -> std::path::PathBuf {
        "<failing-state-read>".into()
    }
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        if tree == Tree::State && key == schema::state::GLOBAL && self.fail.load(Ordering::SeqCst) {
            return Err(EngineError {
                kind: EngineErrorKind::Io,
                path: "<failing-state-read>".into(),
                message: "reading".into(),
                source: Some(std::io::Error::other("input/output error")),
            });
        }
        self.inner.get(tree, key)
    }
    fn scan(&self, scan: Scan<'_>) -> Result<Vec<KeyValue>, EngineError> {
        self.inner.scan(scan)
    }
    fn write(&self, batch: &WriteBatch) -> Result<(), EngineError> {
        self.inner.write(batch)
    }
    fn flush(&self) -> Result<(), EngineError> {
        self.inner.flush()
    }
    fn size_on_disk(&self) -> Result<u64, EngineError> {
        Ok(0)
    }
}

/// An I/O error while reading the state is the disk failing, not damaged data: opening
/// reports it instead of replaying the chain and rewriting the state over a failing disk.
#[test]
fn an_io_error_reading_the_state_is_reported_not_replayed_over() {
    let inner = Arc::new(MemoryEngine::new());
    let fail = Arc::new(AtomicBool::new(false));
    let engine = || {
        Box::new(FailingStateRead {
            inner: inner.clone(),
            fail: fail.clone(),
        })
    };
    let mut store =
        Store::with_engine(engine(), Genesis::dev(), &OpenOptions::default()).expect("store");
    grow(&mut store, 2);
    let root = store.state_root();
    drop(store);
    fail.store(true, Ordering::SeqCst);
    let err = match Store::with_engine(engine(), Genesis::dev(), &OpenOptions::default()) {
        Ok(store) => panic!("opened ({:?}), must be refused", store.open_report()),
        Err(e) => e,
    };
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    fail.store(false, Ordering::SeqCst);
    let store =
        Store::with_engine(engine(), Genesis::dev(), &OpenOptions::default()).expect("reopen");
    assert_eq!((store.height(), store.state_root()), (2, root));
    assert_eq!(store.open_report().rebuilt, None);
}

#[test]
fn a_failed_write_poisons_the_store_until_reopened() {
    let inner = Arc::new(MemoryEngine::new());
    let fail = Arc::new(AtomicBool::new(false));
    let engine = || {
        Box::new(FailingWrites {
            inner: inner.clone(),
            fail: fail.clone(),
        })
    };
    let mut store =
        Store::with_engine(engine(), Genesis::dev(), &OpenOptions::default()).expect("store");
    grow(&mut store, 2);
    let root = store.state_root();
    fail.store(true, Ordering::SeqCst);
    let workload = Workload::dev(4);
    let err = commit_next(&mut store, &workload, 4, &|_| false).expect_err("write fails");
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    assert_eq!(cause.as_deref(), Some("no space left on device"), "{err}");
    assert_eq!(
        store.height(),
        2,
        "a block whose write failed is not the head"
    );
    // The disk recovers, but the store does not trust its memory any more.
    fail.store(false, Ordering::SeqCst);
    let err = commit_next(&mut store, &workload, 4, &|_| false).expect_err("poisoned");
    assert!(matches!(err, StoreError::Poisoned(_)), "{err}");
    assert!(err.to_string().contains("reopen"), "{err}");
    drop(store);
    // Reopened, it reads the truth from the engine and goes on.
    let mut store =
        Store::with_engine(engine(), Genesis::dev(), &OpenOptions::default()).expect("reopen");
    assert_eq!((store.height(), store.state_root()), (2, root));
    grow(&mut store, 1);
    assert_eq!(store.height(), 3);
}

#[test]
fn a_failed_marker_write_is_not_reported_final_but_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path()).expect("open");
    grow(&mut store, 2);
    // The marker is written through `final-head.tmp`: a directory there makes it fail.
    let blocker = dir.path().join("final-head.tmp");
    std::fs::create_dir(&blocker).expect("mkdir");
    let workload = Workload::dev(4);
    let err = commit_next(&mut store, &workload, 4, &|_| false).expect_err("marker fails");
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    assert!(err.to_string().contains("final-head marker"), "{err}");
    assert!(matches!(
        commit_next(&mut store, &workload, 4, &|_| false),
        Err(StoreError::Poisoned(_))
    ));
    drop(store);
    std::fs::remove_dir(&blocker).expect("rmdir");
    // The block was flushed before the marker failed: it is there after a reopen, and the
    // chain goes on from it.
    let mut store = open(dir.path()).expect("reopen");
    assert_eq!(store.height(), 3);
    grow(&mut store, 1);
    assert_eq!(store.height(), 4);
}

#[test]
fn a_database_of_another_format_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path()).expect("open");
    grow(&mut store, 1);
    drop(store);
    {
        let engine =
            SledEngine::open(&dir.path().join("sled"), &SledOptions::default()).expect("engine");
        let mut batch = WriteBatch::new();
        batch.put(
            Tree::Meta,
            schema::meta::VERSION.to_vec(),
            (schema::FORMAT_VERSION + 1).to_be_bytes().to_vec(),
        );
        engine.write(&batch).expect("write");
        engine.flush().expect("flush");
    }
    let err = refused(dir.path());
    assert!(
        matches!(err, StoreError::Version { found, supported, .. }
            if found == schema::FORMAT_VERSION + 1 && supported == schema::FORMAT_VERSION),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
    assert!(text.contains("use a matching povd"), "{text}");
}

#[test]
fn a_marker_naming_another_block_at_the_same_height_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path()).expect("open");
    grow(&mut store, 3);
    let head = store.head().expect("head");
    drop(store);
    let other = pov_crypto::hash(b"another block 3");
    std::fs::write(
        dir.path().join("final-head"),
        format!("{} {} {}\n", head.height, other, head.state_root),
    )
    .expect("write marker");
    let err = refused(dir.path());
    assert!(err.is_corruption(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("block 3 reported final was {other}"))
            && text.contains(&head.hash.to_string()),
        "{text}"
    );
}

#[test]
fn a_certified_block_with_a_forged_transaction_signature_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path()).expect("open");
    grow(&mut store, 1);
    let before = (store.head(), store.state().clone());
    let genesis = store.genesis().clone();
    let alice = pov_crypto::Keypair::dev(0);
    let nonce = store.state().member(0).expect("alice").nonce + 1;
    let mut forged = Transaction::sign(
        &alice,
        &genesis.chain_id,
        &genesis.hash(),
        nonce,
        TxBody::Transfer {
            to: pov_crypto::Keypair::dev(1).address(),
            amount: pov_protocol::Amount::from_int(50),
        },
    );
    forged.signature.0[3] ^= 1;
    // Everything else about the block is right, including the state root the transaction
    // would lead to: only the signature is wrong.
    let mut after = store.state().clone();
    after
        .apply_verified(&forged)
        .expect("applies when not verified");
    let parent = store.parent();
    let block = pov_protocol::block::Block {
        header: pov_protocol::block::BlockHeader {
            chain_id: genesis.chain_id.clone(),
            height: parent.height + 1,
            prev_hash: parent.hash,
            time_ms: parent.time_ms + 1,
            proposer: dev_validator_key(0).address(),
            tx_root: pov_protocol::block::tx_root(std::slice::from_ref(&forged)),
            state_root: after.state_root(),
            validator_set_hash: genesis.validator_set().expect("validators").hash(),
        },
        txs: vec![forged.clone()],
    };
    let certificate = certify(&block, 0, &[&dev_validator_key(0)]);
    let err = store.commit(&block, &certificate).expect_err("forged");
    match &err {
        StoreError::InvalidBlock { height: 2, error } => {
            let text = error.to_string();
            assert!(text.contains(&forged.hash().to_string()), "{text}");
            assert!(text.contains("signature"), "{text}");
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!((store.head(), store.state()), (before.0, &before.1));
    drop(store);
    let store = open(dir.path()).expect("reopen");
    assert_eq!(store.height(), 1);
    assert!(store.block(2).expect("read").is_none());
}

#[test]
fn a_marker_that_cannot_be_read_is_refused_not_taken_as_absent() {
    // Ignoring it would also drop the check that no final block was lost.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("final-head")).expect("mkdir");
    let err = refused(dir.path());
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("cannot read the final-head marker"),
        "{err}"
    );
}

#[test]
fn a_lost_marker_is_written_again_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path()).expect("open");
    grow(&mut store, 2);
    let head = store.head().expect("head");
    drop(store);
    let marker = dir.path().join("final-head");
    std::fs::remove_file(&marker).expect("rm marker");
    let store = open(dir.path()).expect("reopen");
    assert_eq!(store.height(), 2);
    // Back, naming the head, so that a later loss of final blocks is seen again.
    let text = std::fs::read_to_string(&marker).expect("marker rewritten");
    assert_eq!(
        text.trim(),
        format!("{} {} {}", head.height, head.hash, head.state_root)
    );
}

#[test]
fn a_head_record_naming_another_block_than_the_stored_one_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path()).expect("open");
    grow(&mut store, 3);
    let head = store.head().expect("head");
    drop(store);
    // The state root is right, only the hash is not: opening must not take the head from
    // this record, or the next block would be checked against a parent that is not there.
    let other = pov_crypto::hash(b"another block 3");
    {
        let engine =
            SledEngine::open(&dir.path().join("sled"), &SledOptions::default()).expect("engine");
        let mut batch = WriteBatch::new();
        let forged = pov_storage::Head {
            hash: other,
            ..head
        };
        batch.put(
            Tree::Meta,
            schema::meta::HEAD.to_vec(),
            pov_protocol::codec::encode(&forged),
        );
        engine.write(&batch).expect("write");
        engine.flush().expect("flush");
    }
    let err = refused(dir.path());
    assert!(err.is_corruption(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("does not match the stored block at height 3")
            && text.contains(&other.to_string())
            && text.contains(&head.hash.to_string()),
        "{text}"
    );
}
