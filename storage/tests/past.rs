//! The state after a past block, from a checkpoint and a bounded replay: every height
//! rebuilds to its header's state root, never replaying as many blocks as the checkpoint
//! interval; a height above the head, a checkpoint gap larger than the bound and a damaged
//! checkpoint are refused with the reason; a snapshot reads past states, blocks and history
//! as they were final when it was taken.

use pov_protocol::genesis::Genesis;
use pov_protocol::test_utils::Workload;
use pov_storage::engine::{Engine, MemoryEngine, SledEngine, SledOptions, Tree, WriteBatch};
use pov_storage::test_utils::commit_next;
use pov_storage::{schema, HistoryQuery, OpenOptions, Store, StoreError};

fn options(interval: u64) -> OpenOptions {
    OpenOptions {
        checkpoint_interval: interval,
        ..OpenOptions::default()
    }
}

fn grow(store: &mut Store, blocks: u64) {
    let workload = Workload::dev(4);
    for _ in 0..blocks {
        commit_next(store, &workload, 4, &|_| false).expect("commit");
    }
}

#[test]
fn every_past_height_rebuilds_to_its_root_within_the_bound() {
    let mut store = Store::with_engine(Box::new(MemoryEngine::new()), Genesis::dev(), &options(5))
        .expect("store");
    grow(&mut store, 23);
    for height in 0..=23u64 {
        let rebuild = store.rebuild(height).expect("plan");
        assert!(
            rebuild.blocks.len() < 5,
            "height {height}: {}",
            rebuild.blocks.len()
        );
        assert_eq!(rebuild.blocks.len() as u64, height % 5, "height {height}");
        let state = rebuild.run().expect("rebuilds");
        assert_eq!(state.height(), height);
        let want = match height {
            0 => Genesis::dev().state().expect("genesis").state_root(),
            h => store.header(h).expect("read").expect("header").state_root,
        };
        assert_eq!(state.state_root(), want, "height {height}");
    }
    // The head's own state, rebuilt, is the store's.
    let head = store.rebuild(23).expect("plan").run().expect("rebuilds");
    assert_eq!(&head, store.state());
    let err = store.rebuild(24).expect_err("not final");
    assert!(
        matches!(err, StoreError::PastState { height: 24, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("above the last final block (23)"),
        "{err}"
    );
}

#[test]
fn a_smaller_interval_than_the_checkpoints_were_written_with_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path(), Genesis::dev(), &options(10)).expect("open");
    grow(&mut store, 12);
    drop(store);
    let store = Store::open(dir.path(), Genesis::dev(), &options(4)).expect("reopen");
    // Checkpoints at 10 only: height 9 would need 9 blocks from genesis.
    let err = store.rebuild(9).expect_err("too far");
    assert!(
        err.to_string()
            .contains("replaying 9 blocks is more than the 3 allowed"),
        "{err}"
    );
    store
        .rebuild(12)
        .expect("2 blocks from 10")
        .run()
        .expect("ok");
    store.rebuild(3).expect("3 from genesis").run().expect("ok");
}

/// A checkpoint replaced by another valid state (that of the next height) is caught by the
/// root check, whether blocks are replayed on it or not.
#[test]
fn a_damaged_checkpoint_is_reported_not_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wrong = {
        let mut store = Store::open(dir.path(), Genesis::dev(), &options(10)).expect("open");
        grow(&mut store, 12);
        store.rebuild(11).expect("plan").run().expect("state 11")
    };
    {
        let engine =
            SledEngine::open(&dir.path().join("sled"), &SledOptions::default()).expect("engine");
        let mut batch = WriteBatch::new();
        batch.put(
            Tree::Chain,
            schema::chain::checkpoint(10),
            pov_protocol::codec::encode(&wrong),
        );
        engine.write(&batch).expect("write");
        engine.flush().expect("flush");
    }
    let store = Store::open(dir.path(), Genesis::dev(), &options(10)).expect("reopen");
    for height in [10, 11, 12] {
        let err = store
            .rebuild(height)
            .and_then(|r| r.run())
            .expect_err("damaged");
        assert!(matches!(err, StoreError::PastState { .. }), "{err}");
    }
    store.rebuild(9).expect("before it").run().expect("ok");
}

/// A snapshot shares the head state (no copy), and reads only what was final when it was
/// taken while commits go on: blocks, headers, history and past states up to its head.
#[test]
fn a_snapshot_reads_what_was_final_when_it_was_taken() {
    let mut store = Store::with_engine(Box::new(MemoryEngine::new()), Genesis::dev(), &options(5))
        .expect("store");
    grow(&mut store, 7);
    let snapshot = store.snapshot();
    assert!(
        std::ptr::eq(snapshot.state().as_ref(), store.state()),
        "the snapshot shares the store's state"
    );
    let alice = store
        .state()
        .member_by_address(&pov_crypto::Keypair::dev(0).address())
        .expect("alice")
        .0;
    grow(&mut store, 4);
    assert_eq!(snapshot.height(), 7);
    assert_eq!(
        snapshot.state().height(),
        7,
        "commits replace the state, never change it"
    );
    assert!(snapshot.block(7).expect("read").is_some());
    assert!(snapshot.block(8).expect("read").is_none(), "8 came after");
    assert!(snapshot.header(8).expect("read").is_none());
    let rebuilt = snapshot.rebuild(7).expect("plan").run().expect("rebuilds");
    assert_eq!(&rebuilt, snapshot.state().as_ref());
    assert!(snapshot.rebuild(8).is_err(), "not final in the snapshot");
    for newest_first in [false, true] {
        let query = HistoryQuery {
            after: None,
            newest_first,
            limit: 10_000,
        };
        let seen = snapshot.member_history(alice, query).expect("history");
        let all = store.member_history(alice, query).expect("history");
        let want: Vec<_> = all.iter().filter(|e| e.position.height <= 7).collect();
        assert!(
            all.len() > want.len(),
            "alice's history grew after the snapshot"
        );
        assert_eq!(
            seen.iter().collect::<Vec<_>>(),
            want,
            "newest first: {newest_first}"
        );
    }
}
