//! The mempool: signed transactions waiting for a block.
//!
//! Admission runs every check a block would: signature (`verify_strict`), chain, nonce and
//! the protocol's rules. It does so against a *pending* state: the last finalized state with
//! every already admitted transaction applied in arrival order. A new transaction must apply
//! on top of that, so a sender's transactions are admitted only with consecutive nonces and
//! a sender can never queue more than it can pay for. After each finalized block the pending
//! state is rebuilt from the new state and the remaining transactions re-applied; those that
//! no longer apply (they were included, or a competing transaction spent the tokens) are
//! dropped. Re-applying is skipped when the block held exactly the pool's first transactions,
//! in order, on the state the pool built on (what a proposer reaps), and the rest cannot turn
//! out differently one block later (see [`Mempool::after_block`]): the pending state then
//! already is the new state with the rest applied. The pending state has begun the next block (parameter changes that passed in the
//! last block are in force, and heights are the next block's), so a transaction is checked
//! under the rules it will be applied with. Signatures are checked through the node's
//! [`VerifiedTxs`] cache, which proposal checks, commits and sync share (spec section 7
//! allows caching by transaction hash).
//!
//! **Shares.** One sender may hold at most [`Shares::per_sender`] pending transactions, and
//! senders without reputation (new accounts under open admission, members who hold none)
//! at most [`Shares::without_reputation`] together: otherwise one account, or a swarm of
//! free ones, could fill every slot and lock everyone else out until the pool drains. An
//! account without reputation stakes nothing when it evaluates, so its transactions cost
//! the cooperative work and the sender nothing; their share is small on purpose.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use pov_crypto::{Address, Hash};
use pov_protocol::{State, Transaction, TxBody, TxError};
use thiserror::Error;

use crate::verified::VerifiedTxs;

/// Why a transaction was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MempoolError {
    /// The pool holds its maximum number of transactions.
    #[error("mempool full ({0} transactions): try again after the next block")]
    Full(usize),
    /// The sender holds its share of the pool.
    #[error("{sender} has {max} pending transactions, the most one sender may have: try again after the next block")]
    SenderFull {
        /// The sender.
        sender: Address,
        /// Its share.
        max: usize,
    },
    /// Senders without reputation hold their share of the pool, together.
    #[error("senders without reputation have {0} pending transactions, the most they may have together: try again after the next block")]
    NoReputationFull(usize),
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

/// How much of the pool one sender, and all senders without reputation together, may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shares {
    /// Most pending transactions from one sender.
    pub per_sender: usize,
    /// Most pending transactions from senders without reputation, together.
    pub without_reputation: usize,
}

impl Shares {
    /// The shares of a pool of `limit` transactions: a hundredth of it per sender (at
    /// least 16) and a tenth for senders without reputation (at least 16).
    pub fn of(limit: usize) -> Shares {
        Shares {
            per_sender: (limit / 100).max(16),
            without_reputation: (limit / 10).max(16),
        }
    }
}

/// Pending transactions in arrival order, with the state they lead to.
#[derive(Debug, Clone)]
pub struct Mempool {
    txs: VecDeque<(Hash, Transaction)>,
    hashes: HashSet<Hash>,
    pending: State,
    limit: usize,
    shares: Shares,
    /// Pending transactions per sender.
    per_sender: HashMap<Address, usize>,
    /// Senders among `per_sender` that had no reputation when their transactions came.
    without_reputation: HashSet<Address>,
    /// Pending transactions of the senders in `without_reputation`.
    held_without_reputation: usize,
    verified: Arc<VerifiedTxs>,
    /// Pending transactions re-applied by re-checks after blocks, since the pool was made.
    reapplied: u64,
}

/// Whether `sender` holds no reputation in `state` (not a member yet, or a member with none).
fn has_no_reputation(state: &State, sender: &Address) -> bool {
    state
        .member_by_address(sender)
        .is_none_or(|(_, m)| m.reputation <= pov_protocol::Amount::ZERO)
}

impl Mempool {
    /// An empty pool over the finalized `state`, holding at most `limit` transactions.
    pub fn new(state: &State, limit: usize) -> Mempool {
        let cache = Arc::new(VerifiedTxs::new(limit.saturating_mul(2)));
        Mempool::with_cache(state, limit, cache)
    }

    /// An empty pool that checks signatures through the node's shared cache, with the
    /// default shares of its size ([`Shares::of`]).
    pub fn with_cache(state: &State, limit: usize, verified: Arc<VerifiedTxs>) -> Mempool {
        Mempool {
            txs: VecDeque::new(),
            hashes: HashSet::new(),
            pending: next_block_state(state),
            limit,
            shares: Shares::of(limit),
            per_sender: HashMap::new(),
            without_reputation: HashSet::new(),
            held_without_reputation: 0,
            verified,
            reapplied: 0,
        }
    }

    /// The same pool with other shares (they apply to what is admitted from now on).
    pub fn with_shares(mut self, shares: Shares) -> Mempool {
        self.shares = shares;
        self
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
        // Shares before any signature check: a sender at its share costs nothing more.
        let held = self.per_sender.get(&tx.sender).copied().unwrap_or(0);
        if held >= self.shares.per_sender {
            return Err(MempoolError::SenderFull {
                sender: tx.sender,
                max: self.shares.per_sender,
            });
        }
        let poor = if held == 0 {
            has_no_reputation(&self.pending, &tx.sender)
        } else {
            self.without_reputation.contains(&tx.sender)
        };
        if poor && self.held_without_reputation >= self.shares.without_reputation {
            return Err(MempoolError::NoReputationFull(
                self.shares.without_reputation,
            ));
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
        self.verified
            .check(&tx, hash, self.pending.genesis_hash())
            .map_err(TxError::from)?;
        self.pending.apply_verified(&tx)?;
        self.count_in(tx.sender, poor);
        self.hashes.insert(hash);
        self.txs.push_back((hash, tx));
        Ok(Admitted::New(hash))
    }

    /// Counts one more pending transaction of `sender` (`poor`: without reputation).
    fn count_in(&mut self, sender: Address, poor: bool) {
        *self.per_sender.entry(sender).or_insert(0) += 1;
        if poor {
            self.without_reputation.insert(sender);
            self.held_without_reputation += 1;
        }
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

    /// How many pending transactions re-checks after blocks re-applied so far (each is one
    /// more execution of a transaction that was already admitted).
    pub fn reapplied(&self) -> u64 {
        self.reapplied
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
    ///
    /// When the block held exactly the pool's first transactions in pool order, on the state
    /// the pool built on, the pending state already is the new state with the rest applied,
    /// but for the height they ran at. It is kept (with the next block begun) instead of
    /// re-applying the rest, when that difference cannot matter: the next block's start does
    /// nothing ([`State::start_is_empty`]) and none of the rest depends on the height (only
    /// transfers, admissions and evaluations of contributions that are neither proposals nor
    /// sealed; contributions, proposals, commitments and reveals record or check it).
    pub fn after_block(&mut self, finalized: &State, included: &[Hash]) -> usize {
        let before = self.txs.len();
        if self.is_prefix(finalized, included) {
            for (hash, _) in self.txs.drain(..included.len()) {
                self.hashes.remove(&hash);
            }
            let dropped = before - self.txs.len();
            if self.keep_pending(finalized) {
                self.recount();
                return dropped;
            }
            return dropped + self.recheck(finalized);
        }
        let included: HashSet<&Hash> = included.iter().collect();
        self.txs.retain(|(hash, _)| !included.contains(hash));
        self.hashes.retain(|hash| !included.contains(hash));
        before - self.txs.len() + self.recheck(finalized)
    }

    /// Whether `finalized` is the state the pool built on with exactly the pool's first
    /// transactions (`included`, in order) applied as the next block.
    fn is_prefix(&self, finalized: &State, included: &[Hash]) -> bool {
        finalized.height() == self.pending.height()
            && included.len() <= self.txs.len()
            && self.txs.iter().zip(included).all(|((h, _), i)| h == i)
    }

    /// After a block that held the pool's first transactions (already removed): moves the
    /// pending state to the block after `finalized` and returns true when that gives what
    /// re-applying the rest on `finalized` would; false otherwise (the caller re-applies).
    fn keep_pending(&mut self, finalized: &State) -> bool {
        let Some(next) = finalized.height().checked_add(1) else {
            return false;
        };
        let pending = &self.pending;
        let height_free = self.txs.iter().all(|(_, tx)| match &tx.body {
            TxBody::Transfer { .. } | TxBody::Admit { .. } => true,
            TxBody::Evaluate { contribution, .. } => pending
                .contribution(*contribution)
                .is_some_and(|c| c.proposal.is_none() && c.params.sealed.is_none()),
            TxBody::Contribute { .. }
            | TxBody::ProposeParams { .. }
            | TxBody::Commit { .. }
            | TxBody::Reveal { .. } => false,
        });
        // None of the rest can queue a proposal or a settlement, so when both states' next
        // start is empty, beginning it on the pending state only moves its height.
        if !height_free || !finalized.start_is_empty(next) || !pending.start_is_empty(next) {
            return false;
        }
        self.pending
            .begin_block(next)
            .is_ok_and(|events| events.is_empty())
    }

    /// Counts the pending transactions per sender again after some left without a re-check.
    /// A sender still pending keeps the class it was counted in (without reputation or not)
    /// until the next full re-check or until none of its transactions is pending.
    fn recount(&mut self) {
        self.per_sender.clear();
        for (_, tx) in &self.txs {
            *self.per_sender.entry(tx.sender).or_insert(0) += 1;
        }
        let per_sender = &self.per_sender;
        self.without_reputation
            .retain(|sender| per_sender.contains_key(sender));
        self.held_without_reputation = self
            .without_reputation
            .iter()
            .map(|sender| per_sender.get(sender).copied().unwrap_or(0))
            .sum();
    }

    /// Re-checks every pending transaction against a newly finalized state; returns how many
    /// were dropped (included in the block, or no longer valid).
    pub fn recheck(&mut self, finalized: &State) -> usize {
        let before = self.txs.len();
        let mut pending = next_block_state(finalized);
        let mut kept = VecDeque::with_capacity(before);
        self.reapplied = self.reapplied.saturating_add(before as u64);
        self.per_sender.clear();
        self.without_reputation.clear();
        self.held_without_reputation = 0;
        let txs = std::mem::take(&mut self.txs);
        for (hash, tx) in txs {
            let poor = match self.per_sender.get(&tx.sender) {
                None => has_no_reputation(&pending, &tx.sender),
                Some(_) => self.without_reputation.contains(&tx.sender),
            };
            if pending.apply_verified(&tx).is_ok() {
                self.count_in(tx.sender, poor);
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
            &Genesis::dev().hash(),
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

    #[test]
    fn one_sender_gets_its_share_of_the_pool_and_no_more() {
        let state = Genesis::dev().state().expect("state");
        let mut pool = Mempool::new(&state, 1_000).with_shares(Shares {
            per_sender: 3,
            without_reputation: 100,
        });
        let alice = Keypair::dev(0);
        let first: Vec<Hash> = (1..=3)
            .map(|n| match pool.insert(contribute(&alice, n)) {
                Ok(Admitted::New(hash)) => hash,
                other => panic!("nonce {n}: {other:?}"),
            })
            .collect();
        assert_eq!(
            pool.insert(contribute(&alice, 4)),
            Err(MempoolError::SenderFull {
                sender: alice.address(),
                max: 3
            })
        );
        // Others are not held up by alice.
        assert!(pool.insert(contribute(&Keypair::dev(1), 1)).is_ok());
        // Once a block takes some of alice's, she gets that room back.
        let mut finalized = state.clone();
        finalized.begin_block(1).expect("block 1");
        for n in 1..=2 {
            finalized.apply(&contribute(&alice, n)).expect("applies");
        }
        pool.after_block(&finalized, &first[..2]);
        assert!(pool.insert(contribute(&alice, 4)).is_ok());
        assert!(pool.insert(contribute(&alice, 5)).is_ok());
        assert!(matches!(
            pool.insert(contribute(&alice, 6)),
            Err(MempoolError::SenderFull { .. })
        ));
        // The default share of a pool of 10,000 is 100 per sender.
        assert_eq!(Shares::of(10_000).per_sender, 100);
    }

    #[test]
    fn senders_without_reputation_share_a_small_part_of_the_pool() {
        // Four members with reputation, twenty without (as if admitted and never rewarded).
        let mut genesis = Genesis::dev();
        for i in 10..30 {
            genesis.members.push(pov_protocol::genesis::GenesisMember {
                public_key: Keypair::dev(i).address(),
                name: format!("new{i}"),
                reputation: pov_protocol::Amount::ZERO,
                tokens: pov_protocol::Amount::from_int(1),
                provenance: None,
            });
        }
        let state = genesis.state().expect("state");
        let sign = |key: &Keypair| {
            Transaction::sign(
                key,
                "pov-devnet",
                &genesis.hash(),
                1,
                TxBody::Contribute {
                    kind: "work".into(),
                    title: "spam".into(),
                    uri: "u".into(),
                    content_hash: None,
                },
            )
        };
        let mut pool = Mempool::new(&state, 1_000).with_shares(Shares {
            per_sender: 10,
            without_reputation: 5,
        });
        for i in 10..15 {
            pool.insert(sign(&Keypair::dev(i)))
                .expect("within the share");
        }
        assert_eq!(
            pool.insert(sign(&Keypair::dev(15))),
            Err(MempoolError::NoReputationFull(5))
        );
        // Members with reputation still get in.
        assert!(pool.insert(sign(&Keypair::dev(0))).is_ok());
        assert_eq!(pool.len(), 6);
    }

    fn transfer(key: &Keypair, nonce: u64, to: &Keypair, tokens: i64) -> Transaction {
        Transaction::sign(
            key,
            "pov-devnet",
            &Genesis::dev().hash(),
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

    fn evaluate(key: &Keypair, nonce: u64, contribution: u64, value: i64) -> Transaction {
        Transaction::sign(
            key,
            "pov-devnet",
            &Genesis::dev().hash(),
            nonce,
            TxBody::Evaluate {
                contribution,
                value,
            },
        )
    }

    /// After a block that held exactly the pool's first transactions, the pool keeps its
    /// pending state without re-applying the rest when nothing about them depends on the
    /// height, and re-applies them otherwise (a contribution among them, a passed proposal
    /// taking effect, an evaluation of a proposal); in every case it ends equal to a pool
    /// re-checked in full on the new state.
    #[test]
    fn a_block_of_the_pools_first_transactions_skips_the_recheck_only_when_that_is_exact() {
        let (alice, bob, carol, dave) = (
            Keypair::dev(0),
            Keypair::dev(1),
            Keypair::dev(2),
            Keypair::dev(3),
        );
        // Block 1: alice's contribution 0, dave's proposal 1.
        let mut base = Genesis::dev().state().expect("state");
        let proposal = Transaction::sign(
            &dave,
            "pov-devnet",
            &Genesis::dev().hash(),
            1,
            TxBody::ProposeParams {
                title: "dearer work".into(),
                uri: "https://example.org/why".into(),
                changes: vec![
                    pov_protocol::ParamChange::parse("types.work.fee", "2").expect("change")
                ],
            },
        );
        base.execute_txs(1, &[contribute(&alice, 1), proposal], &|_| true)
            .expect("block 1");
        let transfer_to_dave = transfer(&alice, 2, &dave, 5);
        // (pool, transactions of the block: the pool's first ones, re-applied or not)
        let cases: Vec<(&str, Vec<Transaction>, usize, bool)> = vec![
            (
                "evaluations and a transfer wait",
                vec![
                    evaluate(&bob, 1, 0, 3),
                    evaluate(&carol, 1, 0, 3),
                    transfer_to_dave.clone(),
                    evaluate(&dave, 2, 0, 4),
                ],
                2,
                false,
            ),
            (
                "a contribution waits",
                vec![evaluate(&bob, 1, 0, 3), contribute(&carol, 1)],
                1,
                true,
            ),
            (
                "an evaluation of a proposal waits",
                vec![evaluate(&bob, 1, 0, 3), evaluate(&carol, 1, 1, 1)],
                1,
                true,
            ),
            (
                "the proposal passed in the block",
                vec![
                    evaluate(&alice, 2, 1, 1),
                    evaluate(&bob, 1, 1, 1),
                    evaluate(&carol, 1, 0, 3),
                ],
                2,
                true,
            ),
            (
                "the whole pool was included",
                vec![evaluate(&bob, 1, 0, 3)],
                1,
                false,
            ),
        ];
        for (what, txs, n, reapplies) in cases {
            let mut pool = Mempool::new(&base, 10);
            for tx in &txs {
                pool.insert(tx.clone()).expect("admit");
            }
            let included = pool.reap(n);
            let mut finalized = base.clone();
            finalized
                .execute_txs(2, &included, &|_| true)
                .expect("block 2");
            let mut reference = pool.clone();
            reference.recheck(&finalized);
            let hashes: Vec<Hash> = included.iter().map(Transaction::hash).collect();
            assert_eq!(pool.after_block(&finalized, &hashes), n, "{what}");
            assert_eq!(
                pool.reapplied() > 0,
                reapplies,
                "{what}: re-applied {}",
                pool.reapplied()
            );
            assert_eq!(pool.reap(10), reference.reap(10), "{what}");
            assert_eq!(pool.per_sender, reference.per_sender, "{what}: shares");
            assert_eq!(
                pool.held_without_reputation, reference.held_without_reputation,
                "{what}: shares"
            );
            assert_eq!(pool.pending_state(), reference.pending_state(), "{what}");
            assert_eq!(
                pool.pending_state().state_root(),
                reference.pending_state().state_root(),
                "{what}"
            );
        }
    }
}
