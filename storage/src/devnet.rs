//! Deterministic chains for tests, benchmarks and single-validator devnets.
//!
//! The crash tests, the `povd replay` test and the benchmarks all need long chains of real,
//! signed, certified blocks whose every transaction applies. [`Workload`] produces the
//! transactions for the next block from the current state (so a process that restarts at
//! any height continues the same way), [`build_block`] executes them on a copy to fill in
//! the header's state root, and [`certify`] signs the commit certificate.

use pov_crypto::Keypair;
use pov_protocol::block::{
    precommit_sign_bytes, tx_root, Block, BlockError, BlockHeader, Certificate, CommitSig, Parent,
    ValidatorSet,
};
use pov_protocol::genesis::{Genesis, GenesisMember};
use pov_protocol::{Amount, State, Transaction, TxBody};

use crate::{CommitReceipt, Store, StoreError};

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
    let mut scratch = state.clone();
    let outcome = scratch.execute_txs(&txs, verified)?;
    let header = BlockHeader {
        chain_id: state.chain_id().to_string(),
        height: parent.height + 1,
        prev_hash: parent.hash,
        time_ms: time_ms.max(parent.time_ms),
        proposer: proposer.address(),
        tx_root: tx_root(&txs),
        state_root: outcome.state_root,
        validator_set_hash: validators.hash(),
    };
    Ok(Block { header, txs })
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

/// Builds, certifies (with the dev validator key `dev_validator_key(0)`, the only validator
/// of [`Genesis::dev`] and [`genesis_with_members`]) and commits the next block of up to
/// `count` transactions from `workload`, one second after its parent.
///
/// `verified` is passed to both execution and commit: benchmarks use `|_| true` to leave
/// signature checks out of what they measure.
pub fn commit_next(
    store: &mut Store,
    workload: &Workload,
    count: usize,
    verified: &dyn Fn(&Transaction) -> bool,
) -> Result<CommitReceipt, StoreError> {
    let key = pov_protocol::genesis::dev_validator_key(0);
    let parent = store.parent();
    let height = parent.height + 1;
    let txs = workload.next_txs(store.state(), height, count);
    let validators = store.genesis().validator_set();
    let block = build_block(
        store.state(),
        &parent,
        &validators,
        &key,
        parent.time_ms + 1000,
        txs,
        verified,
    )
    .map_err(|error| StoreError::InvalidBlock { height, error })?;
    let certificate = certify(&block, 0, &[&key]);
    store.commit_with(&block, &certificate, verified)
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
        })
        .collect();
    genesis
}

/// splitmix64: a tiny deterministic generator.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// A deterministic stream of valid transactions from known member keys: mostly
/// evaluations of recent contributions, some new contributions.
#[derive(Debug)]
pub struct Workload {
    keys: Vec<Keypair>,
    /// Percentage of transactions that submit a contribution (when the sender can pay).
    pub contribute_percent: u64,
    /// Evaluations pick among this many most recent contributions.
    pub recent: u64,
}

impl Workload {
    /// Transactions from the members with keys `Keypair::dev(0..n)` (the dev genesis's four
    /// members for `n = 4`, or [`genesis_with_members`]).
    pub fn dev(n: u32) -> Workload {
        Workload {
            keys: (0..n).map(Keypair::dev).collect(),
            contribute_percent: 10,
            recent: 20,
        }
    }

    /// Up to `count` signed transactions that all apply, in order, on `state`; the same
    /// `state`, `height` and `count` always give the same transactions.
    ///
    /// Each candidate is applied to a scratch copy and dropped if it fails (a member out of
    /// tokens, a repeated vote), so a block built from them is always valid.
    pub fn next_txs(&self, state: &State, height: u64, count: usize) -> Vec<Transaction> {
        let mut rng = Rng(height.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ count as u64);
        let mut scratch = state.clone();
        let mut out = Vec::with_capacity(count);
        let chain_id = state.chain_id().to_string();
        let mut attempts = 0;
        while out.len() < count && attempts < count * 3 + 10 {
            attempts += 1;
            let key = &self.keys[rng.below(self.keys.len() as u64) as usize];
            let Some((id, member)) = scratch.member_by_address(&key.address()) else {
                continue;
            };
            let nonce = member.nonce + 1;
            let contributions = scratch.contributions().len() as u64;
            let body = if contributions == 0 || rng.below(100) < self.contribute_percent {
                TxBody::Contribute {
                    kind: "work".to_string(),
                    title: format!("work {height}.{}", out.len()),
                    uri: format!("https://example.org/{height}/{}", out.len()),
                    content_hash: None,
                }
            } else {
                let window = contributions.min(self.recent);
                let contribution = contributions - 1 - rng.below(window);
                let mut value = rng.below(6) as i64;
                let live = scratch.contribution(contribution).and_then(|c| {
                    c.evaluations
                        .iter()
                        .find(|e| e.member == id)
                        .map(|e| e.value)
                });
                if live == Some(value) {
                    value = (value + 1) % 6;
                }
                TxBody::Evaluate {
                    contribution,
                    value,
                }
            };
            let tx = Transaction::sign(key, &chain_id, nonce, body);
            if scratch.apply_verified(&tx).is_ok() {
                out.push(tx);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pov_protocol::genesis::dev_validator_key;

    #[test]
    fn workload_blocks_apply_and_certify() {
        let genesis = Genesis::dev();
        let mut state = genesis.state().expect("genesis");
        let validators = genesis.validator_set();
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
}
