//! Committing test chains (feature `test-utils`; never in a production build): the storage
//! half of `pov_protocol::test_utils`, which builds the blocks.

use pov_protocol::genesis::dev_validator_key;
use pov_protocol::test_utils::{build_block, certify, Workload};
use pov_protocol::Transaction;

use crate::{CommitReceipt, Store, StoreError};

/// Builds, certifies (with the dev validator key `dev_validator_key(0)`, the only validator
/// of `Genesis::dev` and `genesis_with_members`) and commits the next block of up to `count`
/// transactions from `workload`, one second after its parent.
///
/// `verified` is passed to both execution and commit: benchmarks use `|_| true` to leave
/// signature checks out of what they measure.
pub fn commit_next(
    store: &mut Store,
    workload: &Workload,
    count: usize,
    verified: &dyn Fn(&Transaction) -> bool,
) -> Result<CommitReceipt, StoreError> {
    // A store whose last write failed has a state ahead of its head: no block builds on it.
    store.check_writable()?;
    let key = dev_validator_key(0);
    let parent = store.parent();
    let height = parent.height + 1;
    let txs = workload.next_txs(store.state(), height, count);
    let block = build_block(
        store.state(),
        &parent,
        store.validators(),
        &key,
        parent.time_ms + 1000,
        txs,
        verified,
    )
    .map_err(|error| StoreError::InvalidBlock { height, error })?;
    let certificate = certify(&block, 0, &[&key]);
    store.commit_with(&block, &certificate, verified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pov_protocol::genesis::Genesis;

    #[test]
    fn commit_next_grows_the_chain_by_one_certified_block() {
        let mut store = Store::in_memory(Genesis::dev()).expect("store");
        let workload = Workload::dev(4);
        for h in 1..=3 {
            let receipt = commit_next(&mut store, &workload, 10, &|_| false).expect("commit");
            assert_eq!(receipt.height, h);
            assert!(receipt.txs > 0);
            let stored = store.block(h).expect("read").expect("stored");
            assert_eq!(stored.block.hash(), receipt.hash);
            assert_eq!(
                stored.block.header.time_ms,
                Genesis::dev().parent().time_ms + 1000 * h
            );
        }
    }
}
