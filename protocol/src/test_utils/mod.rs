//! Deterministic chains for tests and benchmarks (feature `test-utils`; never in a
//! production build).
//!
//! The storage crash tests, the `povd replay` test and the benchmarks need long chains of
//! real, signed, certified blocks whose every transaction applies. [`Workload`] produces the
//! transactions for the next block from the current state (so a process that restarts at
//! any height continues the same way), [`build_block`] executes them on a copy and assembles
//! the block with [`Block::assemble`] (the function a node's proposer uses), and [`certify`]
//! signs the commit certificate. [`SplitMix64`] is the one seeded generator of the
//! workspace's tests, simulations and benchmarks.

mod rng;
mod workload;

use pov_crypto::Keypair;

use crate::amount::Amount;
use crate::block::{
    precommit_sign_bytes, Block, BlockError, Certificate, CommitSig, Parent, ValidatorSet,
};
use crate::genesis::{Genesis, GenesisMember};
use crate::state::State;
use crate::tx::Transaction;

pub use rng::SplitMix64;
pub use workload::Workload;

/// Builds the block on `parent` that holds `txs`, proposed by `proposer` at `time_ms`; its
/// state root comes from executing the transactions on a copy of `state`.
pub fn build_block(
    state: &State,
    parent: &Parent,
    validators: &ValidatorSet,
    proposer: &Keypair,
    time_ms: u64,
    txs: Vec<Transaction>,
    verified: &dyn Fn(&Transaction) -> bool,
) -> Result<Block, BlockError> {
    let mut after = state.clone();
    after.execute_txs(parent.height + 1, &txs, verified)?;
    Ok(Block::assemble(
        &after,
        parent,
        validators,
        proposer.address(),
        time_ms,
        txs,
    ))
}

/// A commit certificate for `block` at `round`, signed by each of `signers`. (The chain is
/// bound through the block hash: the header holds the chain id.)
pub fn certify(block: &Block, round: u32, signers: &[&Keypair]) -> Certificate {
    let hash = block.hash();
    Certificate {
        height: block.header.height,
        round,
        block_hash: hash,
        signatures: signers
            .iter()
            .map(|k| CommitSig {
                validator: k.address(),
                signature: k.sign(&precommit_sign_bytes(
                    block.header.height,
                    round,
                    &hash,
                    &k.address(),
                )),
            })
            .collect(),
    }
}

/// The dev genesis with `n` members instead of four (keys `Keypair::dev(0..n)`, names
/// `m0`, `m1`, ..., reputation 1 to 100, 1,000 tokens each): a cooperative of realistic
/// size for benchmarks.
pub fn genesis_with_members(n: u32) -> Genesis {
    let mut genesis = Genesis::dev();
    genesis.members = (0..n)
        .map(|i| GenesisMember {
            public_key: Keypair::dev(i).address(),
            name: format!("m{i}"),
            reputation: Amount::from_int(1 + i64::from(i % 100)),
            tokens: Amount::from_int(1000),
            provenance: None,
        })
        .collect();
    genesis
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesis::dev_validator_key;

    #[test]
    fn workload_blocks_apply_and_certify() {
        let genesis = Genesis::dev();
        let mut state = genesis.state().expect("genesis");
        let validators = genesis.validator_set().expect("dev validator set");
        let key = dev_validator_key(0);
        let workload = Workload::dev(4);
        let mut parent = genesis.parent();
        for h in 1..=5 {
            let txs = workload.next_txs(&state, h, 20);
            assert_eq!(txs, workload.next_txs(&state, h, 20), "deterministic");
            assert!(!txs.is_empty());
            let block = build_block(
                &state,
                &parent,
                &validators,
                &key,
                parent.time_ms + 1000,
                txs,
                &|_| false,
            )
            .expect("block");
            let cert = certify(&block, 0, &[&key]);
            cert.verify(&validators, h, &block.hash())
                .expect("certificate");
            state
                .apply_block(&block, &parent, &validators, &|_| false)
                .expect("apply");
            parent = Parent {
                height: h,
                hash: block.hash(),
                time_ms: block.header.time_ms,
            };
        }
        assert!(!state.contributions().is_empty());
    }

    #[test]
    fn genesis_with_members_has_that_many_distinct_members() {
        let genesis = genesis_with_members(150);
        let state = genesis.state().expect("a valid genesis");
        assert_eq!(state.members().len(), 150);
        assert_eq!(
            state
                .member_by_address(&Keypair::dev(149).address())
                .map(|(id, _)| id),
            Some(149)
        );
    }
}
