//! The pre-signed workload: a genesis of N members of equal reputation, a contribution from
//! each of the first C members, every member's evaluation of every contribution (values
//! clustered like real votes), and token transfers mixed in.
//!
//! Everything is signed before the clock starts, so the harness measures the nodes, not
//! its own signing. Keys are derived from a fixed seed, so the same arguments give the same
//! transactions, byte for byte.

use pov_crypto::{Hash, Keypair};
use pov_protocol::genesis::{dev_validator_key, Genesis, GenesisMember, GenesisValidator};
use pov_protocol::{Amount, Transaction, TxBody};

/// The chain id of every bench devnet.
pub const CHAIN_ID: &str = "pov-bench";

/// One signed transaction, ready to send.
#[derive(Debug, Clone)]
pub struct Signed {
    /// Its hash (what finality is tracked by).
    pub hash: Hash,
    /// Its canonical bytes.
    pub bytes: Vec<u8>,
    /// The sending member (its transactions must reach a node in nonce order).
    pub sender: u32,
    /// What kind of transaction it is (for the report).
    pub kind: Kind,
}

/// The kinds of transactions in the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A contribution.
    Contribute,
    /// An evaluation.
    Evaluate,
    /// A token transfer.
    Transfer,
}

/// The genesis and the transactions of one run.
#[derive(Debug)]
pub struct Workload {
    /// The genesis (validators are filled in by the cluster).
    pub genesis: Genesis,
    /// Phase 1: one contribution per contributing member.
    pub contributions: Vec<Signed>,
    /// Phase 2, the measured one: evaluations and transfers, each sender's in nonce order.
    pub measured: Vec<Signed>,
}

/// The key of bench member `i`.
pub fn member_key(i: u32) -> Keypair {
    let seed = pov_crypto::hash_parts(&[b"pov/bench-member/v1", &i.to_le_bytes()]);
    Keypair::from_seed(seed.0)
}

/// A small deterministic generator (SplitMix64), so workloads are reproducible.
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
        self.next() % n.max(1)
    }
}

fn sign(
    key: &Keypair,
    genesis_hash: &pov_crypto::Hash,
    sender: u32,
    nonce: u64,
    body: TxBody,
    kind: Kind,
) -> Signed {
    let tx = Transaction::sign(key, CHAIN_ID, genesis_hash, nonce, body);
    Signed {
        hash: tx.hash(),
        bytes: tx.to_bytes(),
        sender,
        kind,
    }
}

impl Workload {
    /// Signs the workload for `members` members, `contributions` contributions and
    /// `transfers` transfers, on the genesis that `finish` makes of the workload's (the
    /// cluster's validators go in there: transactions sign the genesis hash).
    pub fn new(
        members: u32,
        contributions: u32,
        transfers: u32,
        finish: impl FnOnce(Genesis) -> Genesis,
    ) -> Workload {
        let keys: Vec<Keypair> = (0..members).map(member_key).collect();
        let mut genesis = Genesis::dev();
        genesis.chain_id = CHAIN_ID.to_string();
        genesis.members = keys
            .iter()
            .enumerate()
            .map(|(i, k)| GenesisMember {
                public_key: k.address(),
                name: format!("m{i}"),
                reputation: Amount::from_int(100),
                tokens: Amount::from_int(1_000),
                provenance: None,
            })
            .collect();
        genesis.validators = vec![GenesisValidator {
            public_key: dev_validator_key(0).address(),
            power: 1,
            addr: None,
        }];
        let genesis = finish(genesis);
        let gh = genesis.hash();
        let mut nonces = vec![0u64; members as usize];
        let mut next_nonce = |m: u32| {
            let n = &mut nonces[m as usize];
            *n += 1;
            *n
        };

        let contribution_txs = (0..contributions)
            .map(|c| {
                let body = TxBody::Contribute {
                    kind: "work".to_string(),
                    title: format!("bench contribution {c}"),
                    uri: format!("https://example.org/bench/{c}"),
                    content_hash: None,
                };
                sign(
                    &keys[c as usize],
                    &gh,
                    c,
                    next_nonce(c),
                    body,
                    Kind::Contribute,
                )
            })
            .collect();

        // Every member evaluates every contribution, contribution by contribution; a
        // contribution's "true" value is c mod 6, given by two thirds of the members, the rest
        // spread over the other values. Transfers are spread evenly through the sequence.
        let mut rng = Rng(0x005e_ed0f_b37c);
        let evaluations = u64::from(members) * u64::from(contributions);
        let total = evaluations + u64::from(transfers);
        let every = if transfers == 0 {
            u64::MAX
        } else {
            (total / u64::from(transfers)).max(1)
        };
        let mut measured = Vec::with_capacity(total as usize);
        let mut transfers_left = transfers;
        for c in 0..contributions {
            let truth = i64::from(c % 6);
            for m in 0..members {
                if transfers_left > 0 && (measured.len() as u64 + 1).is_multiple_of(every) {
                    transfers_left -= 1;
                    measured.push(transfer(&keys, &gh, &mut rng, &mut next_nonce));
                }
                let value = if rng.below(3) < 2 {
                    truth
                } else {
                    (truth + 1 + rng.below(5) as i64) % 6
                };
                let body = TxBody::Evaluate {
                    contribution: u64::from(c),
                    value,
                };
                measured.push(sign(
                    &keys[m as usize],
                    &gh,
                    m,
                    next_nonce(m),
                    body,
                    Kind::Evaluate,
                ));
            }
        }
        while transfers_left > 0 {
            transfers_left -= 1;
            measured.push(transfer(&keys, &gh, &mut rng, &mut next_nonce));
        }
        Workload {
            genesis,
            contributions: contribution_txs,
            measured,
        }
    }
}

fn transfer(
    keys: &[Keypair],
    genesis_hash: &pov_crypto::Hash,
    rng: &mut Rng,
    next_nonce: &mut impl FnMut(u32) -> u64,
) -> Signed {
    let n = keys.len() as u64;
    let from = rng.below(n) as u32;
    let mut to = rng.below(n) as u32;
    if to == from {
        to = (to + 1) % n as u32;
    }
    let body = TxBody::Transfer {
        to: keys[to as usize].address(),
        amount: Amount::ONE,
    };
    let nonce = next_nonce(from);
    sign(
        &keys[from as usize],
        genesis_hash,
        from,
        nonce,
        body,
        Kind::Transfer,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workload_applies_in_order_on_its_genesis() {
        let work = Workload::new(20, 3, 7, |g| g);
        assert_eq!(work.measured.len(), 20 * 3 + 7);
        let mut state = work.genesis.state().expect("a valid genesis");
        state.begin_block(1).expect("block 1");
        for s in work.contributions.iter().chain(&work.measured) {
            let tx = Transaction::from_bytes(&s.bytes).expect("canonical");
            assert_eq!(tx.hash(), s.hash);
            state.apply(&tx).expect("applies");
        }
        assert_eq!(state.contributions().len(), 3);
        // Deterministic: the same arguments sign the same bytes.
        let again = Workload::new(20, 3, 7, |g| g);
        assert_eq!(again.measured[11].bytes, work.measured[11].bytes);
    }
}
