//! Closing a store and reopening it at once in the same process must work: sled releases its
//! file lock asynchronously after a handle is dropped, which once made an immediate reopen
//! fail with "could not acquire lock" (seen in CI).

use pov_protocol::genesis::Genesis;
use pov_protocol::test_utils::Workload;
use pov_storage::engine::{SledEngine, SledOptions};
use pov_storage::test_utils::commit_next;
use pov_storage::{OpenOptions, Store};

#[test]
fn a_dropped_store_can_be_reopened_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let workload = Workload::dev(4);
    for round in 0..20u64 {
        let mut store =
            Store::open(&data, Genesis::dev(), &OpenOptions::default()).expect("store reopens");
        assert_eq!(
            store.height(),
            round,
            "every committed block survives the reopen"
        );
        commit_next(&mut store, &workload, 3, &|_| false).expect("commit");
        drop(store);
        // The raw engine too, as tools that repair or inspect a database do.
        let engine = SledEngine::open(&data.join("sled"), &SledOptions::default())
            .expect("engine reopens at once");
        drop(engine);
    }
}
