//! The verified-transaction cache: one signature check per transaction per node.
//!
//! Checking an ed25519 signature with `verify_strict` is the costliest step of a
//! transaction's path (about 50 µs). Without a shared record a node would check the same
//! transaction when the API or gossip admits it, again when a proposal holding it is
//! checked, again when the decided block is committed, and again on every node that syncs
//! it. Spec section 7 allows caching a verification by transaction hash (the hash covers
//! the signature, so a cached hash vouches for exactly those bytes); this cache is that
//! record, shared by the mempool, proposal checks, commits and sync.
//!
//! It holds at most `capacity` hashes and forgets the oldest first: a transaction whose
//! entry was forgotten is simply checked again, so the bound costs speed, never
//! correctness.
//!
//! Refusals are remembered too, apart and fewer ([`MAX_REFUSED`]): the same forged bytes,
//! re-sent through the API or re-wrapped in fresh gossip envelopes, are refused by their hash
//! without a second signature check. (New forged bytes still cost one check each; gossip
//! pays that with the relaying peer's score, the API with its per-IP connection cap.)

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use pov_crypto::{Hash, SignatureError};
use pov_protocol::Transaction;

/// Most refused transactions remembered (a hash and an error each, under 100 bytes).
pub const MAX_REFUSED: usize = 1_024;

/// Hashes of transactions whose signature this node checked and found valid, and of a few
/// it found invalid.
#[derive(Debug)]
pub struct VerifiedTxs {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    set: HashSet<Hash>,
    order: VecDeque<Hash>,
    capacity: usize,
    /// Refused transactions and why, at most [`MAX_REFUSED`], oldest forgotten first.
    refused: HashMap<Hash, SignatureError>,
    refused_order: VecDeque<Hash>,
}

impl VerifiedTxs {
    /// An empty cache remembering up to `capacity` transactions (at least one).
    pub fn new(capacity: usize) -> VerifiedTxs {
        VerifiedTxs {
            inner: Mutex::new(Inner {
                set: HashSet::new(),
                order: VecDeque::new(),
                capacity: capacity.max(1),
                refused: HashMap::new(),
                refused_order: VecDeque::new(),
            }),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True when the transaction with this hash was verified (and not forgotten since).
    pub fn contains(&self, hash: &Hash) -> bool {
        self.inner().set.contains(hash)
    }

    /// True when the transaction with this hash was refused (and not forgotten since).
    pub fn is_refused(&self, hash: &Hash) -> bool {
        self.inner().refused.contains_key(hash)
    }

    /// Checks `tx`'s signature (for the chain of `genesis_hash`: a node's cache serves one
    /// chain) unless the cache vouches for `hash` (the hash of exactly these bytes) or
    /// remembers refusing it, and remembers the outcome. The check itself runs outside the
    /// lock.
    pub fn check(
        &self,
        tx: &Transaction,
        hash: Hash,
        genesis_hash: &Hash,
    ) -> Result<(), SignatureError> {
        {
            let inner = self.inner();
            if inner.set.contains(&hash) {
                return Ok(());
            }
            if let Some(error) = inner.refused.get(&hash) {
                return Err(error.clone());
            }
        }
        match tx.verify_signature(genesis_hash) {
            Ok(()) => {
                self.insert(hash);
                Ok(())
            }
            Err(error) => {
                self.refuse(hash, error.clone());
                Err(error)
            }
        }
    }

    /// Records that the transaction with this hash has a bad signature.
    fn refuse(&self, hash: Hash, error: SignatureError) {
        let mut inner = self.inner();
        if inner.refused.insert(hash, error).is_some() {
            return;
        }
        inner.refused_order.push_back(hash);
        while inner.refused_order.len() > MAX_REFUSED {
            if let Some(old) = inner.refused_order.pop_front() {
                inner.refused.remove(&old);
            }
        }
    }

    /// Records that the transaction with this hash has a valid signature.
    fn insert(&self, hash: Hash) {
        let mut inner = self.inner();
        if !inner.set.insert(hash) {
            return;
        }
        inner.order.push_back(hash);
        while inner.order.len() > inner.capacity {
            if let Some(old) = inner.order.pop_front() {
                inner.set.remove(&old);
            }
        }
    }

    /// Number of remembered transactions.
    pub fn len(&self) -> usize {
        self.inner().set.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Fewest signatures worth a second thread (below, spawning costs more than it saves).
const PARALLEL_MIN: usize = 64;

/// Checks the signatures of `txs` (each with its hash) with the strict rule, spread over the
/// machine's cores, and returns the hashes of those that verify: one `verify_strict` each,
/// exactly what checking them one by one gives.
///
/// Block sync uses it on a batch of certified blocks before committing them in order: on
/// a syncing node signature checks are the largest cost (about 30% of its CPU in the
/// profile, `docs/performance.md`), and a batch of up to 32,000 transactions would not fit
/// the cache, so the result is returned to the caller rather than remembered. A hash missing
/// from the answer is checked again at commit, which refuses the block.
pub fn verify_in_parallel(txs: &[(&Transaction, Hash)], genesis_hash: &Hash) -> HashSet<Hash> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        .min(txs.len() / PARALLEL_MIN)
        .max(1);
    let check = |chunk: &[(&Transaction, Hash)]| -> Vec<Hash> {
        chunk
            .iter()
            .filter(|(tx, _)| tx.verify_signature(genesis_hash).is_ok())
            .map(|(_, hash)| *hash)
            .collect()
    };
    if threads == 1 {
        return check(txs).into_iter().collect();
    }
    let size = txs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = txs
            .chunks(size)
            .map(|chunk| scope.spawn(move || check(chunk)))
            .collect();
        let mut out = HashSet::with_capacity(txs.len());
        for handle in handles {
            // A checking thread cannot panic on any input; if one did, its transactions
            // are simply not vouched for and are checked again at commit.
            if let Ok(hashes) = handle.join() {
                out.extend(hashes);
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pov_crypto::Keypair;
    use pov_protocol::TxBody;

    fn tx(n: u64) -> Transaction {
        Transaction::sign(
            &Keypair::dev(0),
            "pov-devnet",
            &Hash::ZERO,
            n,
            TxBody::Evaluate {
                contribution: 0,
                value: 1,
            },
        )
    }

    #[test]
    fn a_verified_transaction_is_not_checked_again() {
        let cache = VerifiedTxs::new(10);
        let t = tx(1);
        let before = pov_protocol::counters::signature_checks();
        cache.check(&t, t.hash(), &Hash::ZERO).expect("valid");
        cache.check(&t, t.hash(), &Hash::ZERO).expect("cached");
        // Other tests of this process may check signatures meanwhile: at least one check was
        // made here, and the second call made none of its own (it found the hash).
        assert!(pov_protocol::counters::signature_checks() > before);
        assert!(cache.contains(&t.hash()));
    }

    #[test]
    fn a_bad_signature_is_refused_and_remembered_as_refused() {
        let cache = VerifiedTxs::new(10);
        let mut t = tx(1);
        t.signature.0[0] ^= 1;
        let first = cache.check(&t, t.hash(), &Hash::ZERO).expect_err("forged");
        assert!(!cache.contains(&t.hash()));
        assert!(cache.is_refused(&t.hash()));
        // Sent again, the same bytes get the same answer without a second check.
        assert_eq!(cache.check(&t, t.hash(), &Hash::ZERO), Err(first));
        // A cached hash vouches only for the exact bytes: the forged copy has its own hash.
        let good = tx(1);
        cache.check(&good, good.hash(), &Hash::ZERO).expect("valid");
        assert_ne!(good.hash(), t.hash());
        assert!(!cache.is_refused(&good.hash()));
        assert!(cache.check(&t, t.hash(), &Hash::ZERO).is_err());
    }

    #[test]
    fn refusals_are_remembered_within_a_bound() {
        let cache = VerifiedTxs::new(10);
        let forged: Vec<Transaction> = (1..=(MAX_REFUSED as u64 + 5))
            .map(|n| {
                let mut t = tx(n);
                t.signature.0[0] ^= 1;
                t
            })
            .collect();
        for t in &forged {
            assert!(cache.check(t, t.hash(), &Hash::ZERO).is_err());
        }
        assert!(!cache.is_refused(&forged[0].hash()));
        assert!(cache.is_refused(&forged[forged.len() - 1].hash()));
    }

    #[test]
    fn the_oldest_entries_are_forgotten_beyond_capacity() {
        let cache = VerifiedTxs::new(2);
        let txs: Vec<Transaction> = (1..=3).map(tx).collect();
        for t in &txs {
            cache.check(t, t.hash(), &Hash::ZERO).expect("valid");
        }
        assert_eq!(cache.len(), 2);
        assert!(!cache.contains(&txs[0].hash()));
        assert!(cache.contains(&txs[1].hash()) && cache.contains(&txs[2].hash()));
    }

    #[test]
    fn checking_in_parallel_vouches_for_exactly_the_valid_signatures() {
        let mut txs: Vec<Transaction> = (1..=300).map(tx).collect();
        for i in [0, 77, 299] {
            txs[i].signature.0[0] ^= 1;
        }
        let hashed: Vec<(&Transaction, Hash)> = txs.iter().map(|t| (t, t.hash())).collect();
        let ok = verify_in_parallel(&hashed, &Hash::ZERO);
        assert_eq!(ok.len(), 297);
        for (t, hash) in &hashed {
            assert_eq!(
                ok.contains(hash),
                t.verify_signature(&Hash::ZERO).is_ok(),
                "nonce {}",
                t.nonce
            );
        }
        // Another chain's genesis: nothing verifies. Few transactions: one thread, same rule.
        assert!(verify_in_parallel(&hashed, &Hash([1; 32])).is_empty());
        assert_eq!(verify_in_parallel(&hashed[..5], &Hash::ZERO).len(), 4);
    }
}
