//! The state the node's parts share: the store, the mempool, the event channel for API
//! subscribers and the status counters, with the lock helpers every reader uses.
//!
//! The consensus host writes (commits blocks, re-checks the mempool, sends events); the API
//! and the sync server read. Locks are held briefly and never across an `.await`. Nothing
//! here knows about the event loop, so the API depends on this module and not on the loop.

use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use pov_crypto::{Address, Hash};
use pov_protocol::{BlockEvent, Event};
use pov_storage::Store;
use tokio::sync::broadcast;

use crate::health::Liveness;
use crate::mempool::Mempool;
use crate::metrics::Metrics;
use crate::verified::VerifiedTxs;

/// What API subscribers are told (the SSE stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEvent {
    /// A block became final.
    Block {
        /// Its height.
        height: u64,
        /// Its hash.
        hash: Hash,
        /// Its transactions' hashes.
        txs: Vec<Hash>,
    },
    /// A contributor reward was minted.
    Reward {
        /// The block's height.
        height: u64,
        /// The minted event (contributor or referral).
        event: Event,
        /// The member's address.
        member: Address,
    },
    /// The start of a block did something before its transactions (spec section 11): a
    /// passed proposal's parameter took effect (`param-change`), or a passed proposal was
    /// void.
    Start {
        /// The block's height.
        height: u64,
        /// What it did.
        event: BlockEvent,
    },
}

/// State shared between the consensus host, the API and the sync server.
#[derive(Debug)]
pub struct Shared {
    /// The chain on disk and the current state.
    pub store: RwLock<Store>,
    /// Pending transactions.
    pub mempool: Mutex<Mempool>,
    /// Final blocks and rewards, for subscribers. (A tokio broadcast channel: sending needs
    /// no runtime, so the host can run without one.)
    pub events: broadcast::Sender<NodeEvent>,
    /// Connected peers.
    pub peers: AtomicUsize,
    /// True while catching up by block sync.
    pub syncing: AtomicBool,
    /// This node's validator address, if it is one.
    pub validator: Option<Address>,
    /// The genesis hash (chain identity; transactions sign it).
    pub genesis_hash: Hash,
    /// The chain id (transactions name it), read without the store's lock.
    pub chain_id: String,
    /// Offences on record in the store (double votes and proposals), plus conflicting
    /// commit certificates seen in block sync since start.
    pub evidence: AtomicUsize,
    /// Set when the node is stopping (or its event loop died): the API refuses writes.
    pub stopping: AtomicBool,
    /// When each validator's signed consensus messages last arrived (`health.rs`).
    pub liveness: Mutex<Liveness>,
    /// Transactions whose signature this node checked: the mempool, proposal checks,
    /// commits and sync share it, so each transaction is verified once.
    pub verified: Arc<VerifiedTxs>,
    /// What `GET /metrics` reports.
    pub metrics: Metrics,
    /// Bounds the work of building reputation proofs (`GET /proofs`).
    pub proofs: ProofWork,
    /// Turns at API reads that may replay blocks to recompute events (a member's history,
    /// `explain`, `timeline`, a final transaction): [`HISTORY_READS_AT_ONCE`] at a time.
    pub history_reads: Arc<tokio::sync::Semaphore>,
}

/// API reads that may replay blocks (see [`Shared::history_reads`]) running at once: each
/// may replay thousands of transactions, and the machine's cores are the consensus loop's
/// first.
pub const HISTORY_READS_AT_ONCE: usize = 2;

/// What bounds the work reputation proofs cost a node: one proof is built at a time (each
/// hashes the whole state, and one of a past height replays up to a checkpoint interval of
/// blocks), and the last rebuilt past state is kept, so asking again for the same height
/// costs no replay.
#[derive(Debug)]
pub struct ProofWork {
    /// One permit: the proof being built.
    pub permit: std::sync::Arc<tokio::sync::Semaphore>,
    /// The last past state rebuilt, by height.
    pub last: Mutex<Option<(u64, std::sync::Arc<pov_protocol::State>)>>,
}

impl Default for ProofWork {
    fn default() -> Self {
        ProofWork {
            permit: std::sync::Arc::new(tokio::sync::Semaphore::new(1)),
            last: Mutex::new(None),
        }
    }
}

impl Shared {
    /// Shared state over an opened store, with an empty mempool of at most `mempool_limit`
    /// transactions and the counters at zero (the evidence count at what the store holds).
    pub fn new(
        store: Store,
        mempool_limit: usize,
        validator: Option<Address>,
    ) -> Result<Shared, pov_storage::StoreError> {
        let verified = Arc::new(VerifiedTxs::new(verified_capacity(mempool_limit)));
        let mempool = Mempool::with_cache(store.state(), mempool_limit, verified.clone());
        let evidence = store.evidence_count()?;
        let genesis_hash = store.genesis().hash();
        let chain_id = store.genesis().chain_id.clone();
        let (events, _) = broadcast::channel(1024);
        Ok(Shared {
            store: RwLock::new(store),
            mempool: Mutex::new(mempool),
            events,
            peers: AtomicUsize::new(0),
            syncing: AtomicBool::new(false),
            validator,
            genesis_hash,
            chain_id,
            evidence: AtomicUsize::new(evidence),
            stopping: AtomicBool::new(false),
            liveness: Mutex::new(Liveness::default()),
            verified,
            metrics: Metrics::new(),
            proofs: ProofWork::default(),
            history_reads: Arc::new(tokio::sync::Semaphore::new(HISTORY_READS_AT_ONCE)),
        })
    }
}

/// How many verified transactions a node remembers: the pending ones twice over (a block's
/// worth may be checked before its transactions reach the mempool), and at least two sync
/// batches of large blocks (verified ahead of their commit). About 100 bytes each.
fn verified_capacity(mempool_limit: usize) -> usize {
    mempool_limit.saturating_mul(2).max(65_536)
}

/// Read access to the store; a poisoned lock (a panicked writer) is still readable.
pub fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

/// Write access to the store.
pub fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

/// The mempool lock.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Milliseconds since the Unix epoch, from the wall clock. Only the drivers (the production
/// event loop, the API) read it; the consensus host is handed the time with each input.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
