//! The mempool: signed transactions waiting for a block.
//!
//! Admission runs every check a block would: signature (`verify_strict`), chain, nonce and
//! the protocol's rules. It does so against a *pending* state: the last finalized state with
//! every already admitted transaction applied in arrival order. A new transaction must apply
//! on top of that, so a sender's transactions are admitted only with consecutive nonces and
//! a sender can never queue more than it can pay for. After each finalized block the pending
//! state is rebuilt from the new state and the remaining transactions re-applied; those that
//! no longer apply (they were included, or a competing transaction spent the tokens) are
//! dropped. The pending state has begun the next block (parameter changes that passed in the
//! last block are in force, and heights are the next block's), so a transaction is checked
//! under the rules it will be applied with. Signatures are checked through the node's
//! [`VerifiedTxs`] cache, which proposal checks, commits and sync share (spec section 7
//! allows caching by transaction hash).

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use pov_crypto::Hash;
use pov_protocol::{State, Transaction, TxError};
use thiserror::Error;

use crate::verified::VerifiedTxs;

/// Why a transaction was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MempoolError {
    /// The pool holds its maximum number of transactions.
    #[error("mempool full ({0} transactions): try again after the next block")]
    Full(usize),
    /// The transaction breaks a rule (the reason says which).
    #[error(transparent)]
    Rejected(#[from] TxError),
}

/// What became of an admitted transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admitted {
    /// Newly admitted: gossip it.
    New(Hash),
    /// Already in the pool: nothing to do (duplicates are dropped quietly).
    Known(Hash),
}

/// Pending transactions in arrival order, with the state they lead to.
#[derive(Debug, Clone)]
pub struct Mempool {
    txs: VecDeque<(Hash, Transaction)>,
    hashes: HashSet<Hash>,
    pending: State,
    limit: usize,
    verified: Arc<VerifiedTxs>,
}

impl Mempool {
    /// An empty pool over the finalized `state`, holding at most `limit` transactions.
    pub fn new(state: &State, limit: usize) -> Mempool {
        let cache = Arc::new(VerifiedTxs::new(limit.saturating_mul(2)));
        Mempool::with_cache(state, limit, cache)
    }

    /// An empty pool that checks signatures through the node's shared cache.
    pub fn with_cache(state: &State, limit: usize, verified: Arc<VerifiedTxs>) -> Mempool {
        Mempool {
            txs: VecDeque::new(),
            hashes: HashSet::new(),
            pending: next_block_state(state),
            limit,
            verified,
        }
    }

    /// The signature cache this pool checks through.
    pub fn verified(&self) -> &Arc<VerifiedTxs> {
        &self.verified
    }

    /// Checks and admits a transaction.
    pub fn insert(&mut self, tx: Transaction) -> Result<Admitted, MempoolError> {
        let hash = tx.hash();
        self.insert_hashed(tx, hash)
    }

    /// [`Mempool::insert`] for a transaction whose hash the caller computed (and whose
    /// signature it may have checked through the cache already, outside the pool's lock).
    pub fn insert_hashed(&mut self, tx: Transaction, hash: Hash) -> Result<Admitted, MempoolError> {
        if self.hashes.contains(&hash) {
            return Ok(Admitted::Known(hash));
        }
        if self.txs.len() >= self.limit {
            return Err(MempoolError::Full(self.limit));
        }
        // The chain first: a transaction of another cooperative (or one whose chain id was
        // edited, which also breaks its signature) is reported as what it is.
        if tx.chain_id != self.pending.chain_id() {
            return Err(TxError::WrongChain {
                expected: self.pending.chain_id().to_string(),
                got: tx.chain_id.clone(),
            }
            .into());
        }
        self.verified.check(&tx, hash).map_err(TxError::from)?;
        self.pending.apply_verified(&tx)?;
        self.hashes.insert(hash);
        self.txs.push_back((hash, tx));
        Ok(Admitted::New(hash))
    }

    /// True when the transaction is in the pool (and so its signature was verified).
    pub fn contains(&self, hash: &Hash) -> bool {
        self.hashes.contains(hash)
    }

    /// Up to `max` transactions in arrival order (which keeps each sender's nonces in order).
    pub fn reap(&self, max: usize) -> Vec<Transaction> {
        self.txs
            .iter()
            .take(max)
            .map(|(_, tx)| tx.clone())
            .collect()
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// The state with every pending transaction applied (for `next_nonce`).
    pub fn pending_state(&self) -> &State {
        &self.pending
    }

    /// A transaction still pending, by hash.
    pub fn get(&self, hash: &Hash) -> Option<&Transaction> {
        if !self.hashes.contains(hash) {
            return None;
        }
        self.txs.iter().find(|(h, _)| h == hash).map(|(_, tx)| tx)
    }

    /// Brings the pool up to a newly finalized state after a block holding the transactions
    /// `included` (their hashes); returns how many were dropped (included, or no longer
    /// valid). The included ones are dropped by hash, without executing them again; the rest
    /// are re-checked on the new state ([`Mempool::recheck`]).
    pub fn after_block(&mut self, finalized: &State, included: &[Hash]) -> usize {
        let before = self.txs.len();
        let included: HashSet<&Hash> = included.iter().collect();
        self.txs.retain(|(hash, _)| !included.contains(hash));
        self.hashes.retain(|hash| !included.contains(hash));
        before - self.txs.len() + self.recheck(finalized)
    }

    /// Re-checks every pending transaction against a newly finalized state; returns how many
    /// were dropped (included in the block, or no longer valid).
    pub fn recheck(&mut self, finalized: &State) -> usize {
        let before = self.txs.len();
        let mut pending = next_block_state(finalized);
        let mut kept = VecDeque::with_capacity(before);
        for (hash, tx) in self.txs.drain(..) {
            if pending.apply_verified(&tx).is_ok() {
                kept.push_back((hash, tx));
            } else {
                self.hashes.remove(&hash);
            }
        }
        self.txs = kept;
        self.pending = pending;
        before - self.txs.len()
    }
}

/// `state` with the next block begun: what the next block's transactions will apply to.
fn next_block_state(state: &State) -> State {
    let mut next = state.clone();
    let height = state.height().saturating_add(1);
    if let Err(e) = next.begin_block(height) {
        // Only a height of u64::MAX could fail: nothing will be admitted then anyway.
        tracing::error!(error = %e, height, "cannot begin the next block for the mempool");
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use pov_crypto::Keypair;
    use pov_protocol::genesis::Genesis;
    use pov_protocol::TxBody;

    fn contribute(key: &Keypair, nonce: u64) -> Transaction {
        Transaction::sign(
            key,
            "pov-devnet",
            nonce,
            TxBody::Contribute {
                kind: "work".into(),
                title: format!("t{nonce}"),
                uri: "u".into(),
                content_hash: None,
            },
        )
    }

    #[test]
    fn admits_in_nonce_order_and_drops_duplicates() {
        let state = Genesis::dev().state().expect("state");
        let mut pool = Mempool::new(&state, 10);
        let alice = Keypair::dev(0);
        assert!(matches!(
            pool.insert(contribute(&alice, 1)),
            Ok(Admitted::New(_))
        ));
        assert!(matches!(
            pool.insert(contribute(&alice, 1)),
            Ok(Admitted::Known(_))
        ));
        // A gap is refused with the nonce it expects.
        assert_eq!(
            pool.insert(contribute(&alice, 3)),
            Err(MempoolError::Rejected(TxError::Nonce {
                expected: 2,
                got: 3
            }))
        );
        assert!(matches!(
            pool.insert(contribute(&alice, 2)),
            Ok(Admitted::New(_))
        ));
        assert_eq!(pool.len(), 2);
        assert_eq!(pool.pending_state().member(0).expect("alice").nonce, 2);
    }

    #[test]
    fn another_chains_transaction_is_refused_as_such_before_its_signature() {
        let state = Genesis::dev().state().expect("state");
        let mut pool = Mempool::new(&state, 10);
        let mut moved = contribute(&Keypair::dev(0), 1);
        moved.chain_id = "bakery-coop".into();
        assert_eq!(
            pool.insert(moved),
            Err(MempoolError::Rejected(TxError::WrongChain {
                expected: "pov-devnet".into(),
                got: "bakery-coop".into()
            }))
        );
    }

    #[test]
    fn bad_signatures_and_a_full_pool_are_refused() {
        let state = Genesis::dev().state().expect("state");
        let mut pool = Mempool::new(&state, 1);
        let mut forged = contribute(&Keypair::dev(0), 1);
        forged.signature.0[0] ^= 1;
        assert!(matches!(
            pool.insert(forged),
            Err(MempoolError::Rejected(TxError::Signature(_)))
        ));
        pool.insert(contribute(&Keypair::dev(0), 1)).expect("first");
        assert_eq!(
            pool.insert(contribute(&Keypair::dev(1), 1)),
            Err(MempoolError::Full(1))
        );
    }

    fn transfer(key: &Keypair, nonce: u64, to: &Keypair, tokens: i64) -> Transaction {
        Transaction::sign(
            key,
            "pov-devnet",
            nonce,
            TxBody::Transfer {
                to: to.address(),
                amount: pov_protocol::Amount::from_int(tokens),
            },
        )
    }

    /// A competing transaction of the same sender (same nonce, another body) is finalized
    /// through another validator: the pooled one with that nonce and the later ones that
    /// depended on it are dropped, the other senders' stay, and the sender can submit again
    /// from the new state.
    #[test]
    fn recheck_after_a_competing_transaction_drops_that_senders_later_nonces() {
        let (alice, bob, carol) = (Keypair::dev(0), Keypair::dev(1), Keypair::dev(2));
        let mut state = Genesis::dev().state().expect("state");
        let mut pool = Mempool::new(&state, 10);
        let spend_60 = transfer(&bob, 1, &alice, 60);
        let spend_30 = transfer(&bob, 2, &alice, 30);
        let unrelated = contribute(&carol, 1);
        for tx in [&spend_60, &spend_30, &unrelated] {
            pool.insert(tx.clone()).expect("admit");
        }
        // bob's competing nonce 1 spends 95 of his 100 tokens.
        let competing = transfer(&bob, 1, &carol, 95);
        state
            .execute_txs(1, std::slice::from_ref(&competing), &|_| false)
            .expect("block");
        assert_eq!(pool.recheck(&state), 2);
        assert_eq!(pool.reap(10), vec![unrelated.clone()]);
        assert!(!pool.contains(&spend_60.hash()) && !pool.contains(&spend_30.hash()));
        assert!(pool.get(&spend_30.hash()).is_none());
        let (_, pending_bob) = pool
            .pending_state()
            .member_by_address(&bob.address())
            .expect("bob");
        assert_eq!(pending_bob.nonce, 1);

        // Resubmission after the drop: the dropped transactions are not "known" any more,
        // they are judged again (and now fail); a new one from the new state is admitted.
        assert_eq!(
            pool.insert(spend_60),
            Err(MempoolError::Rejected(TxError::Nonce {
                expected: 2,
                got: 1
            }))
        );
        assert!(matches!(
            pool.insert(spend_30),
            Err(MempoolError::Rejected(TxError::InsufficientTokens { .. }))
        ));
        let again = transfer(&bob, 2, &alice, 3);
        assert_eq!(pool.insert(again.clone()), Ok(Admitted::New(again.hash())));
        assert_eq!(pool.reap(10), vec![unrelated, again]);
    }

    #[test]
    fn recheck_drops_included_transactions() {
        let mut state = Genesis::dev().state().expect("state");
        let mut pool = Mempool::new(&state, 10);
        let alice = Keypair::dev(0);
        for n in 1..=3 {
            pool.insert(contribute(&alice, n)).expect("admit");
        }
        // The first two were finalized in a block.
        let included = pool.reap(2);
        state.execute_txs(1, &included, &|_| true).expect("block");
        assert_eq!(pool.recheck(&state), 2);
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.reap(10)[0].nonce, 3);
    }

    /// The pool after `after_block` equals one re-checked in full on the new state, whether or
    /// not the block was the pool's own prefix.
    #[test]
    fn after_block_matches_a_full_recheck() {
        let genesis = Genesis::dev();
        let state = genesis.state().expect("state");
        let (alice, bob) = (Keypair::dev(0), Keypair::dev(1));
        let txs = vec![
            contribute(&alice, 1),
            contribute(&bob, 1),
            contribute(&alice, 2),
            contribute(&bob, 2),
        ];
        for block in [vec![0usize, 1], vec![1, 3], vec![1, 0]] {
            let mut pool = Mempool::new(&state, 10);
            for tx in &txs {
                pool.insert(tx.clone()).expect("admit");
            }
            let included: Vec<Transaction> = block.iter().map(|i| txs[*i].clone()).collect();
            let mut finalized = state.clone();
            finalized
                .execute_txs(1, &included, &|_| true)
                .expect("block");
            let mut reference = pool.clone();
            reference.recheck(&finalized);
            let hashes: Vec<Hash> = included.iter().map(Transaction::hash).collect();
            let dropped = pool.after_block(&finalized, &hashes);
            assert_eq!(dropped, 2, "block {block:?}");
            assert_eq!(pool.reap(10), reference.reap(10), "block {block:?}");
            assert_eq!(
                pool.pending_state(),
                reference.pending_state(),
                "block {block:?}"
            );
        }
    }
}
