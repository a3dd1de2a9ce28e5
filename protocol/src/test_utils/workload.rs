//! [`Workload`]: a deterministic stream of valid transactions for test and benchmark chains.

use pov_crypto::Keypair;

use super::SplitMix64;
use crate::state::State;
use crate::tx::{Transaction, TxBody};

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
    /// members for `n = 4`, or [`genesis_with_members`](super::genesis_with_members)).
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
        let mut rng = SplitMix64::new(height.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ count as u64);
        let mut scratch = state.clone();
        let mut out = Vec::with_capacity(count);
        let chain_id = state.chain_id().to_string();
        let genesis_hash = *state.genesis_hash();
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
            let tx = Transaction::sign(key, &chain_id, &genesis_hash, nonce, body);
            if scratch.apply_verified(&tx).is_ok() {
                out.push(tx);
            }
        }
        out
    }
}
