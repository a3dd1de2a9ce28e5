//! What the store's operations take and return: open options and report, commit receipts
//! and timings, query results, history pages, status and verification.

use std::path::PathBuf;
use std::time::Duration;

use pov_crypto::Hash;
use pov_protocol::{Contribution, Event, Member, MemberId, Transaction};

use crate::engine::SledOptions;
use crate::replay::ReplayReport;
use crate::schema::{ContributionActivity, Head};

/// How to open a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    /// Rebuild the state by replaying every block from genesis even when the stored state
    /// checks out (`povd --verify`).
    pub verify: bool,
    /// sled tuning (ignored by other engines).
    pub sled: SledOptions,
    /// Write a state checkpoint every this many blocks (at least 1): the most blocks
    /// [`Store::rebuild`](super::Store::rebuild) replays to rebuild a past state, less one.
    pub checkpoint_interval: u64,
    /// Also write a state checkpoint once this many transactions were committed since the
    /// last one (at least 1): about the most transactions recomputing a past block's events
    /// replays.
    pub checkpoint_txs: u64,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            verify: false,
            sled: SledOptions::default(),
            checkpoint_interval: crate::schema::CHECKPOINT_INTERVAL,
            checkpoint_txs: crate::schema::CHECKPOINT_TXS,
        }
    }
}

/// How the store came up: whether the stored state was used as is, or rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReport {
    /// Height of the head when opened (0: only the genesis).
    pub height: u64,
    /// Why the state was rebuilt from genesis, if it was.
    pub rebuilt: Option<String>,
    /// The replay that rebuilt it, if one ran.
    pub replay: Option<ReplayReport>,
}

/// What a successful [`Store::commit`](super::Store::commit) returns: the block is on disk, flushed, and may be
/// reported final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitReceipt {
    /// The block's height.
    pub height: u64,
    /// The block's hash.
    pub hash: Hash,
    /// The state root after it.
    pub state_root: Hash,
    /// Transactions in the block.
    pub txs: usize,
    /// Events the block produced.
    pub events: usize,
    /// Key-value operations written for it.
    pub writes: usize,
    /// Bytes of keys and values written for it.
    pub bytes: usize,
    /// Where the time went, for logs, metrics and benchmarks.
    pub timings: CommitTimings,
}

/// The phases of a commit, timed: where a slow commit spends its time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitTimings {
    /// Certificate check and block execution (with the state root).
    pub execute: Duration,
    /// Building the write batch (encoding, history, state diff).
    pub index: Duration,
    /// The engine's atomic write.
    pub write: Duration,
    /// The engine's flush (and the final-head marker).
    pub flush: Duration,
}

/// A transaction found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxInfo {
    /// The transaction.
    pub tx: Transaction,
    /// Height of its block.
    pub height: u64,
    /// Its position in the block.
    pub index: u32,
    /// Hash of its block.
    pub block_hash: Hash,
    /// Time of its block, in milliseconds.
    pub time_ms: u64,
    /// Every balance change it made, in order (it applied: finalized blocks hold only
    /// transactions that apply), recomputed from its block.
    pub events: Vec<Event>,
}

/// A member's current account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The member's permanent number (what events and history use).
    pub id: MemberId,
    /// Balances, nonce, referrer.
    pub member: Member,
}

/// Where a history line sits: block height, transaction index, and line within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Block height.
    pub height: u64,
    /// Transaction index in the block.
    pub tx_index: u32,
    /// Line within the transaction: 0 when it created the member's account, 1 for the
    /// member's own transaction, `2 + i` for its event `i` (always 0 for contributions).
    pub n: u32,
}

/// One line of history with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry<T> {
    /// Where it happened.
    pub position: Position,
    /// What happened.
    pub activity: T,
}

/// A page of history: where to start, which way, how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Start strictly after (or, newest first, strictly before) this position; `None`
    /// starts at the oldest (or newest) line.
    pub after: Option<Position>,
    /// Newest first (what "why did my reputation change?" wants).
    pub newest_first: bool,
    /// At most this many lines.
    pub limit: usize,
}

impl HistoryQuery {
    /// The newest `limit` lines, newest first.
    pub fn latest(limit: usize) -> HistoryQuery {
        HistoryQuery {
            after: None,
            newest_first: true,
            limit,
        }
    }

    /// The oldest `limit` lines, oldest first.
    pub fn oldest(limit: usize) -> HistoryQuery {
        HistoryQuery {
            after: None,
            newest_first: false,
            limit,
        }
    }
}

/// A contribution with its evaluation history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContributionInfo {
    /// The contribution as it is now (with its live evaluations).
    pub contribution: Contribution,
    /// Its submission and evaluations, live and replaced, per the query.
    pub history: Vec<HistoryEntry<ContributionActivity>>,
}

/// What a node's status shows about its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreStatus {
    /// The engine (`"sled 0.34.7"`).
    pub engine: &'static str,
    /// Where the data lives.
    pub location: PathBuf,
    /// The head, if any block was committed.
    pub head: Option<Head>,
    /// Bytes on disk (sled's own count: its data file and blobs).
    pub size_on_disk: u64,
}

/// The result of checking the stored chain against a replay from genesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The stored head.
    pub head: Option<Head>,
    /// The state root the head record holds (the genesis state's at height 0).
    pub head_root: Hash,
    /// The root of the state entries on disk, or why they could not be read.
    pub stored_state_root: Result<Hash, String>,
    /// The replay.
    pub replay: ReplayReport,
}

impl Verification {
    /// True when the replay reproduced both the head's root and the stored state's.
    pub fn matches(&self) -> bool {
        self.replay.state_root == self.head_root
            && self.stored_state_root.as_ref() == Ok(&self.replay.state_root)
    }
}

/// A block executed on the store's head state and not committed: what
/// [`crate::Store::execute`] and [`crate::Store::build_block`] return, and
/// [`crate::Store::commit_prepared`] takes, so that a node executes each block once.
///
/// It can only be made by the store, from its own head state, so committing it cannot
/// install a state that did not come from executing the block; it remembers which head it
/// was executed on, and is ignored (the block executed again) if the head moved since.
#[derive(Debug, Clone)]
pub struct ExecutedBlock {
    pub(crate) parent: Hash,
    pub(crate) hash: Hash,
    pub(crate) members_before: usize,
    pub(crate) contributions_before: u64,
    pub(crate) state: pov_protocol::State,
    pub(crate) outcome: pov_protocol::block::BlockOutcome,
}

impl ExecutedBlock {
    /// The executed block's hash.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// The hash of the head it was executed on (the block's parent).
    pub fn parent(&self) -> Hash {
        self.parent
    }

    /// The state after the block.
    pub fn state(&self) -> &pov_protocol::State {
        &self.state
    }

    /// What the block did: events per transaction and the state root.
    pub fn outcome(&self) -> &pov_protocol::block::BlockOutcome {
        &self.outcome
    }
}
