//! [`Store`]: the chain, its state and its indexes, over any [`Engine`].

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pov_crypto::{Address, Hash};
use pov_protocol::block::{Block, BlockHeader, Certificate, Parent, ValidatorSet};
use pov_protocol::genesis::Genesis;
use pov_protocol::{
    codec, Amount, Asset, Contribution, ContributionId, Event, Member, MemberId, State,
    Transaction, TxBody,
};

use crate::engine::{
    prefix_end, Engine, MemoryEngine, Scan, SledEngine, SledOptions, Tree, WriteBatch,
};
use crate::error::StoreError;
use crate::marker::{Mark, Marker};
use crate::read::{self, StoredBlock};
use crate::replay::{self, ReplayOptions, ReplayReport};
use crate::schema::{
    self, Action, BlockLines, ContributionActivity, Head, Line, MemberActivity, TxRecord,
    FORMAT_VERSION,
};
use crate::state_io::{self, Persisted};

/// How to open a store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// Rebuild the state by replaying every block from genesis even when the stored state
    /// checks out (`povd --verify`).
    pub verify: bool,
    /// sled tuning (ignored by other engines).
    pub sled: SledOptions,
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

/// What a successful [`Store::commit`] returns: the block is on disk, flushed, and may be
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
    /// transactions that apply).
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
    /// Line within the transaction (see [`crate::schema`]; 0 for contributions).
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

/// A node's chain on disk: finalized blocks with their certificates, the current state,
/// and the indexes the API needs, kept consistent by committing each block in one atomic,
/// flushed write.
///
/// The store owns the in-memory [`State`] at the head; reads of blocks and history go to
/// the engine. One writer: [`Store::commit`] takes `&mut self` (a node wraps the store in
/// a lock).
pub struct Store {
    engine: Box<dyn Engine>,
    genesis: Genesis,
    validators: ValidatorSet,
    genesis_root: Hash,
    state: State,
    head: Option<Head>,
    persisted: Persisted,
    marker: Option<Marker>,
    poisoned: Option<String>,
    opened: OpenReport,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("engine", &self.engine.name())
            .field("location", &self.engine.location())
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the store in the data directory `dir` for `genesis`: sled's files
    /// in `dir/sled`, the final-head marker in `dir/final-head`. Checks the database
    /// against the marker and the stored state against the head block, and rebuilds the
    /// state by replay if that check fails or `options.verify` asks for it.
    pub fn open(dir: &Path, genesis: Genesis, options: &OpenOptions) -> Result<Store, StoreError> {
        let engine = SledEngine::open(&engine_dir(dir), &options.sled)?;
        Store::start(Box::new(engine), genesis, options, Some(Marker::new(dir)))
    }

    /// A store that keeps everything in memory (tests, simulations).
    pub fn in_memory(genesis: Genesis) -> Result<Store, StoreError> {
        Store::with_engine(
            Box::new(MemoryEngine::new()),
            genesis,
            &OpenOptions::default(),
        )
    }

    /// Opens a store over any engine (without a final-head marker): initializes an empty
    /// one, refuses one made for another genesis, checks the stored state against the head
    /// block, replays if needed.
    pub fn with_engine(
        engine: Box<dyn Engine>,
        genesis: Genesis,
        options: &OpenOptions,
    ) -> Result<Store, StoreError> {
        Store::start(engine, genesis, options, None)
    }

    fn start(
        engine: Box<dyn Engine>,
        genesis: Genesis,
        options: &OpenOptions,
        marker: Option<Marker>,
    ) -> Result<Store, StoreError> {
        let genesis_state = genesis.state()?;
        let genesis_root = genesis_state.state_root();
        let location = engine.location();
        let mark = match &marker {
            Some(m) => m.read()?,
            None => None,
        };
        check_identity(
            engine.as_ref(),
            &genesis,
            &genesis_state,
            mark.as_ref(),
            marker.as_ref(),
        )?;

        let head = read::head(engine.as_ref())?;
        let (height, head_root) = match &head {
            Some(h) => (h.height, h.state_root),
            None => (0, genesis_root),
        };
        if let Some(h) = &head {
            check_head_block(engine.as_ref(), h)?;
        }
        if let (Some(mark), Some(marker)) = (&mark, &marker) {
            check_mark(engine.as_ref(), height, mark, marker)?;
        }

        let mut rebuilt = if options.verify {
            Some("verification was requested (--verify)".to_string())
        } else {
            None
        };
        let mut loaded = None;
        if rebuilt.is_none() {
            match state_io::load(engine.as_ref()) {
                Ok((state, persisted)) => {
                    let root = state.state_root();
                    if root == head_root {
                        loaded = Some((state, persisted));
                    } else {
                        rebuilt = Some(format!(
                            "the stored state's root {root} differs from {head_root}, the root of the head block at height {height}"
                        ));
                    }
                }
                Err(e) if e.is_corruption() => {
                    rebuilt = Some(format!("the stored state cannot be read: {e}"));
                }
                Err(e) => return Err(e),
            }
        }

        let (state, persisted, replay) = match loaded {
            Some((state, persisted)) => (state, persisted, None),
            None => {
                let reason = rebuilt.as_deref().unwrap_or_default();
                tracing::warn!(
                    dir = %location.display(),
                    height,
                    "rebuilding the state by replaying {height} blocks from genesis: {reason}"
                );
                let (state, report) =
                    replay::replay(engine.as_ref(), &genesis, height, ReplayOptions::default())?;
                if report.state_root != head_root {
                    return Err(StoreError::corrupt(
                        &location,
                        format!(
                            "replaying to height {height} gives state root {}, but the head record says {head_root}",
                            report.state_root
                        ),
                    ));
                }
                let mut batch = WriteBatch::new();
                let persisted = state_io::rewrite(engine.as_ref(), &state, &mut batch)?;
                engine.write(&batch)?;
                engine.flush()?;
                tracing::warn!(
                    dir = %location.display(),
                    height,
                    state_root = %report.state_root,
                    txs = report.txs,
                    seconds = report.elapsed.as_secs_f64(),
                    "state rebuilt from genesis and written back"
                );
                (state, persisted, Some(report))
            }
        };

        if read::header(engine.as_ref(), height + 1)?.is_some() {
            // Written by a batch whose head update did not land: sled broke atomicity. The
            // block is final (it has a certificate) but was never reported so; it will be
            // committed again, with identical content, when the node catches up.
            tracing::warn!(
                dir = %location.display(),
                height = height + 1,
                "found a block above the head; it will be overwritten when the node commits that height again"
            );
        }
        if let (Some(marker), Some(h)) = (&marker, &head) {
            if mark.map(|m| m.height) != Some(h.height) {
                // A crash between the engine's flush and the marker's write, or a marker
                // lost: the database is the longer record and checked out, so bring the
                // marker up to it.
                marker.write(h)?;
            }
        }
        tracing::info!(
            dir = %location.display(),
            engine = engine.name(),
            height,
            state_root = %head_root,
            "chain store open"
        );

        Ok(Store {
            engine,
            validators: genesis.validator_set(),
            genesis,
            genesis_root,
            state,
            head,
            persisted,
            marker,
            poisoned: None,
            opened: OpenReport {
                height,
                rebuilt,
                replay,
            },
        })
    }

    /// How the store came up (whether the state was rebuilt, and why).
    pub fn open_report(&self) -> &OpenReport {
        &self.opened
    }

    /// The genesis the store was opened with.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The last committed block, or `None` at genesis.
    pub fn head(&self) -> Option<Head> {
        self.head
    }

    /// Height of the last committed block (0 at genesis).
    pub fn height(&self) -> u64 {
        self.head.map_or(0, |h| h.height)
    }

    /// The state root at the head (the genesis state's before block 1).
    pub fn state_root(&self) -> Hash {
        self.head.map_or(self.genesis_root, |h| h.state_root)
    }

    /// What the next block must build on.
    pub fn parent(&self) -> Parent {
        match self.head {
            Some(h) => Parent {
                height: h.height,
                hash: h.hash,
                time_ms: h.time_ms,
            },
            None => self.genesis.parent(),
        }
    }

    /// The state at the head.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Commits a finalized block, checking every transaction signature. See
    /// [`Store::commit_with`].
    pub fn commit(
        &mut self,
        block: &Block,
        certificate: &Certificate,
    ) -> Result<CommitReceipt, StoreError> {
        self.commit_with(block, certificate, &|_| false)
    }

    /// Commits a finalized block: checks its certificate against the genesis validators,
    /// executes it on the state (a failing transaction or a wrong root refuses the block and
    /// changes nothing), writes the block, certificate, transactions, indexes, history,
    /// changed state entries and the new head in one atomic batch, flushes it, and only then
    /// returns. A receipt means the block survives a crash and may be reported final.
    ///
    /// `verified` says which transactions' signatures were already checked (the mempool's
    /// cache, spec section 7); others are checked here.
    ///
    /// If writing or flushing fails, the block may or may not be on disk: the store then
    /// refuses further commits ([`StoreError::Poisoned`]) until reopened, which re-reads the
    /// truth from disk.
    pub fn commit_with(
        &mut self,
        block: &Block,
        certificate: &Certificate,
        verified: &dyn Fn(&Transaction) -> bool,
    ) -> Result<CommitReceipt, StoreError> {
        if let Some(reason) = &self.poisoned {
            return Err(StoreError::Poisoned(reason.clone()));
        }
        let started = Instant::now();
        let height = block.header.height;
        let hash = block.hash();
        certificate
            .verify(&self.validators, height, &hash)
            .map_err(|error| StoreError::Certificate { height, error })?;
        let parent = self.parent();
        let members_before = self.state.members().len();
        let contributions_before = self.state.contributions().len() as u64;
        let outcome = self
            .state
            .apply_block(block, &parent, &self.validators, verified)
            .map_err(|error| StoreError::InvalidBlock { height, error })?;

        // The state now holds the block. From here on a failure leaves memory ahead of disk.
        let executed = Instant::now();
        let head = Head {
            height,
            hash,
            state_root: outcome.state_root,
            time_ms: block.header.time_ms,
        };
        let built = self.block_batch(
            block,
            certificate,
            &head,
            &outcome.events,
            members_before,
            contributions_before,
        );
        let (batch, persisted) = match built {
            Ok(b) => b,
            Err(e) => return Err(self.poison(e)),
        };
        let indexed = Instant::now();
        if let Err(e) = self.engine.write(&batch) {
            return Err(self.poison(e.into()));
        }
        let written = Instant::now();
        if let Err(e) = self.engine.flush() {
            return Err(self.poison(e.into()));
        }
        if let Some(marker) = &self.marker {
            // The block is durable; if its witness cannot be written the disk is failing,
            // and the block is reported not final (it is, and will be found on reopen).
            if let Err(e) = marker.write(&head) {
                return Err(self.poison(e));
            }
        }
        self.head = Some(head);
        self.persisted = persisted;
        let timings = CommitTimings {
            execute: executed - started,
            index: indexed - executed,
            write: written - indexed,
            flush: written.elapsed(),
        };
        let receipt = CommitReceipt {
            height,
            hash,
            state_root: head.state_root,
            txs: block.txs.len(),
            events: outcome.events.iter().map(Vec::len).sum(),
            writes: batch.len(),
            bytes: batch.byte_size(),
            timings,
        };
        tracing::debug!(
            height,
            txs = receipt.txs,
            writes = receipt.writes,
            bytes = receipt.bytes,
            execute_ms = timings.execute.as_secs_f64() * 1e3,
            index_ms = timings.index.as_secs_f64() * 1e3,
            write_ms = timings.write.as_secs_f64() * 1e3,
            flush_ms = timings.flush.as_secs_f64() * 1e3,
            "block committed and flushed"
        );
        Ok(receipt)
    }

    fn poison(&mut self, error: StoreError) -> StoreError {
        tracing::error!(%error, "writing a block failed; the store refuses writes until reopened");
        self.poisoned = Some(error.to_string());
        error
    }

    /// Everything one block writes.
    fn block_batch(
        &self,
        block: &Block,
        certificate: &Certificate,
        head: &Head,
        events: &[Vec<Event>],
        members_before: usize,
        contributions_before: u64,
    ) -> Result<(WriteBatch, Persisted), StoreError> {
        let height = head.height;
        let mut batch = WriteBatch::new();
        batch.put(
            Tree::Chain,
            schema::chain::header(height),
            codec::encode(&block.header),
        );
        batch.put(
            Tree::Chain,
            schema::chain::certificate(height),
            codec::encode(certificate),
        );
        batch.put(
            Tree::Chain,
            schema::chain::block_hash(&head.hash),
            height.to_be_bytes().to_vec(),
        );

        let balances_after = balances_after(&self.state, events)?;
        let mut members: HashMap<MemberId, BlockLines<MemberActivity>> = HashMap::new();
        let mut contributions: HashMap<ContributionId, BlockLines<ContributionActivity>> =
            HashMap::new();
        let mut member_line = |member: MemberId, tx_index: u32, n: u32, activity| {
            members.entry(member).or_default().push(Line {
                tx_index,
                n,
                activity,
            });
        };
        let mut next_contribution = contributions_before;
        let mut joined = std::collections::HashSet::new();
        for (i, tx) in block.txs.iter().enumerate() {
            let index = i as u32;
            let tx_bytes = tx.to_bytes();
            let tx_hash = pov_crypto::hash(&tx_bytes);
            let tx_events = events.get(i).cloned().unwrap_or_default();
            batch.put(Tree::Chain, schema::chain::tx(height, index), tx_bytes);

            let sender = self.member_id(&tx.sender)?;
            if sender as usize >= members_before && joined.insert(sender) {
                // Open admission: the sender's first transaction created its account.
                let activity = MemberActivity::Joined {
                    tx: tx_hash,
                    referrer: None,
                };
                member_line(sender, index, 0, activity);
            }
            let (contribution, action) = match &tx.body {
                TxBody::Contribute { .. } => {
                    let id = next_contribution;
                    next_contribution += 1;
                    let activity = ContributionActivity::Submitted {
                        contributor: sender,
                        tx: tx_hash,
                    };
                    (
                        Some((id, activity)),
                        Action::Contributed { contribution: id },
                    )
                }
                TxBody::Evaluate {
                    contribution,
                    value,
                } => {
                    let activity = ContributionActivity::Evaluated {
                        evaluator: sender,
                        value: *value,
                        tx: tx_hash,
                    };
                    let action = Action::Evaluated {
                        contribution: *contribution,
                        value: *value,
                    };
                    (Some((*contribution, activity)), action)
                }
                TxBody::Transfer { to, amount } => (
                    None,
                    Action::Transferred {
                        to: *to,
                        amount: *amount,
                    },
                ),
                TxBody::Admit { member } => {
                    let id = self.member_id(member)?;
                    if joined.insert(id) {
                        let activity = MemberActivity::Joined {
                            tx: tx_hash,
                            referrer: Some(sender),
                        };
                        member_line(id, index, 0, activity);
                    }
                    (None, Action::Admitted { member: *member })
                }
            };
            if let Some((id, activity)) = contribution {
                contributions.entry(id).or_default().push(Line {
                    tx_index: index,
                    n: 0,
                    activity,
                });
            }
            let sent = MemberActivity::Sent {
                tx: tx_hash,
                action,
            };
            member_line(sender, index, 1, sent);
            for (j, event) in tx_events.iter().enumerate() {
                let activity = MemberActivity::Balance {
                    event: event.clone(),
                    balance_after: balances_after[i][j],
                };
                member_line(event.member, index, 2 + j as u32, activity);
            }
            let record = TxRecord {
                height,
                index,
                events: tx_events,
            };
            batch.put(
                Tree::Chain,
                schema::chain::tx_hash(&tx_hash),
                codec::encode(&record),
            );
        }
        for (member, mut lines) in members {
            lines.sort_by_key(|l| (l.tx_index, l.n));
            batch.put(
                Tree::History,
                schema::history::member(member, height),
                codec::encode(&lines),
            );
        }
        for (id, lines) in contributions {
            batch.put(
                Tree::History,
                schema::history::contribution(id, height),
                codec::encode(&lines),
            );
        }

        let persisted = self.persisted.diff(&self.state, &mut batch);
        batch.put(Tree::Meta, schema::meta::HEAD.to_vec(), codec::encode(head));
        Ok((batch, persisted))
    }

    fn member_id(&self, address: &Address) -> Result<MemberId, StoreError> {
        self.state
            .member_by_address(address)
            .map(|(id, _)| id)
            .ok_or_else(|| {
                StoreError::Internal(format!(
                    "member {address} of an applied block is not in the state"
                ))
            })
    }

    /// Replays every stored block from genesis and returns what it computed, without
    /// changing anything.
    pub fn replay(&self, options: ReplayOptions) -> Result<ReplayReport, StoreError> {
        replay::replay(self.engine.as_ref(), &self.genesis, self.height(), options).map(|(_, r)| r)
    }

    /// Replays from genesis and compares with the stored head and state (what
    /// `povd replay` prints).
    pub fn verify(&self, options: ReplayOptions) -> Result<Verification, StoreError> {
        verify_engine(self.engine.as_ref(), &self.genesis, options)
    }

    /// The block at `height`, with its certificate.
    pub fn block(&self, height: u64) -> Result<Option<StoredBlock>, StoreError> {
        read::block(self.engine.as_ref(), height)
    }

    /// The header at `height` (cheaper than the whole block).
    pub fn header(&self, height: u64) -> Result<Option<BlockHeader>, StoreError> {
        read::header(self.engine.as_ref(), height)
    }

    /// The block with this hash, with its certificate.
    pub fn block_by_hash(&self, hash: &Hash) -> Result<Option<StoredBlock>, StoreError> {
        match read::height_of(self.engine.as_ref(), hash)? {
            Some(height) => read::block(self.engine.as_ref(), height),
            None => Ok(None),
        }
    }

    /// The blocks whose heights are in `heights`, in order, at most `limit` of them.
    pub fn blocks(
        &self,
        heights: RangeInclusive<u64>,
        limit: usize,
    ) -> Result<Vec<StoredBlock>, StoreError> {
        let (from, to) = (*heights.start(), (*heights.end()).min(self.height()));
        let mut out = Vec::new();
        let mut h = from.max(1);
        while h <= to && out.len() < limit {
            match self.block(h)? {
                Some(b) => out.push(b),
                None => {
                    return Err(StoreError::corrupt(
                        &self.engine.location(),
                        format!("block {h} is missing below the head"),
                    ))
                }
            }
            h += 1;
        }
        Ok(out)
    }

    /// A transaction by hash, with its block, position and events.
    pub fn tx(&self, hash: &Hash) -> Result<Option<TxInfo>, StoreError> {
        let engine = self.engine.as_ref();
        let Some(record): Option<TxRecord> = read::get(
            engine,
            Tree::Chain,
            &schema::chain::tx_hash(hash),
            &format!("the record of transaction {hash}"),
        )?
        else {
            return Ok(None);
        };
        let key = schema::chain::tx(record.height, record.index);
        let what = format!("transaction {} of block {}", record.index, record.height);
        let tx: Transaction = read::get(engine, Tree::Chain, &key, &what)?.ok_or_else(|| {
            StoreError::corrupt(&engine.location(), format!("{what} is indexed but missing"))
        })?;
        let header = read::header(engine, record.height)?.ok_or_else(|| {
            StoreError::corrupt(
                &engine.location(),
                format!("block {} of transaction {hash} is missing", record.height),
            )
        })?;
        Ok(Some(TxInfo {
            tx,
            height: record.height,
            index: record.index,
            block_hash: header.hash(),
            time_ms: header.time_ms,
            events: record.events,
        }))
    }

    /// A member's current account, by address.
    pub fn account(&self, address: &Address) -> Option<Account> {
        self.state
            .member_by_address(address)
            .map(|(id, m)| Account {
                id,
                member: m.clone(),
            })
    }

    /// A page of a member's history: its transactions, its account's creation, and every
    /// change of its balances with the rule, contribution and balance after it.
    pub fn member_history(
        &self,
        member: MemberId,
        query: HistoryQuery,
    ) -> Result<Vec<HistoryEntry<MemberActivity>>, StoreError> {
        self.history_page(
            &schema::history::member_prefix(member),
            |height| schema::history::member(member, height),
            query,
        )
    }

    /// A contribution as it is now, with a page of its history (submission and every
    /// evaluation, including those later replaced by a re-vote).
    pub fn contribution(
        &self,
        id: ContributionId,
        query: HistoryQuery,
    ) -> Result<Option<ContributionInfo>, StoreError> {
        let Some(contribution) = self.state.contribution(id).cloned() else {
            return Ok(None);
        };
        let history = self.history_page(
            &schema::history::contribution_prefix(id),
            |height| schema::history::contribution(id, height),
            query,
        )?;
        Ok(Some(ContributionInfo {
            contribution,
            history,
        }))
    }

    /// Reads history records (one per block) under `prefix` and returns the query's lines.
    fn history_page<T>(
        &self,
        prefix: &[u8],
        key_at: impl Fn(u64) -> Vec<u8>,
        query: HistoryQuery,
    ) -> Result<Vec<HistoryEntry<T>>, StoreError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        let all = prefix_end(prefix);
        // The block of `after` is scanned too (it may hold lines on both sides of it); lines
        // are filtered below.
        let (start, end) = match (query.after, query.newest_first) {
            (Some(p), false) => (key_at(p.height), all),
            (Some(p), true) => (prefix.to_vec(), prefix_end(&key_at(p.height))),
            (None, _) => (prefix.to_vec(), all),
        };
        // Every record holds at least one line, and at most one record (the block of
        // `after`) can be filtered away entirely: `limit + 1` records are enough.
        let records = self.engine.scan(Scan {
            tree: Tree::History,
            start: &start,
            end: end.as_deref(),
            reverse: query.newest_first,
            limit: query.limit.saturating_add(1),
        })?;
        let engine = self.engine.as_ref();
        let mut out = Vec::new();
        for (key, bytes) in records {
            let height = schema::history::height(&key).ok_or_else(|| {
                StoreError::corrupt(
                    &engine.location(),
                    format!("history key {} is malformed", state_io::hex(&key)),
                )
            })?;
            let lines: BlockLines<T> =
                read::decode(engine, Tree::History, &key, &bytes, "a history record")?;
            let mut entries: Vec<HistoryEntry<T>> = lines
                .into_iter()
                .map(|line| HistoryEntry {
                    position: Position {
                        height,
                        tx_index: line.tx_index,
                        n: line.n,
                    },
                    activity: line.activity,
                })
                .collect();
            if query.newest_first {
                entries.reverse();
            }
            for entry in entries {
                let wanted = match query.after {
                    None => true,
                    Some(p) if query.newest_first => entry.position < p,
                    Some(p) => entry.position > p,
                };
                if wanted {
                    if out.len() == query.limit {
                        return Ok(out);
                    }
                    out.push(entry);
                }
            }
        }
        Ok(out)
    }

    /// Bytes the database uses on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.engine.size_on_disk()?)
    }

    /// Engine, location, head and size, for the node's status.
    pub fn status(&self) -> Result<StoreStatus, StoreError> {
        Ok(StoreStatus {
            engine: self.engine.name(),
            location: self.engine.location(),
            head: self.head,
            size_on_disk: self.size_on_disk()?,
        })
    }
}

/// The balance after each event of a block, found by walking the events backwards from
/// the balances after the block (the state before the block is gone by then).
fn balances_after(state: &State, events: &[Vec<Event>]) -> Result<Vec<Vec<Amount>>, StoreError> {
    let mut current: HashMap<(MemberId, Asset), Amount> = HashMap::new();
    let mut out: Vec<Vec<Amount>> = events.iter().map(|e| vec![Amount::ZERO; e.len()]).collect();
    for (i, tx_events) in events.iter().enumerate().rev() {
        for (j, event) in tx_events.iter().enumerate().rev() {
            let balance = match current.get(&(event.member, event.asset)) {
                Some(b) => *b,
                None => {
                    let m = state.member(event.member).ok_or_else(|| {
                        StoreError::Internal(format!("event names unknown member {}", event.member))
                    })?;
                    match event.asset {
                        Asset::Reputation => m.reputation,
                        Asset::Tokens => m.tokens,
                    }
                }
            };
            out[i][j] = balance;
            let before = balance
                .checked_sub(event.amount)
                .map_err(|e| StoreError::Internal(format!("balance history: {e}")))?;
            current.insert((event.member, event.asset), before);
        }
    }
    Ok(out)
}

/// Initializes an empty database for `genesis`, or checks that an existing one belongs to
/// it and has this build's format.
fn check_identity(
    engine: &dyn Engine,
    genesis: &Genesis,
    genesis_state: &State,
    mark: Option<&Mark>,
    marker: Option<&Marker>,
) -> Result<(), StoreError> {
    let location = engine.location();
    let expected = genesis.hash();
    let stored = engine.get(Tree::Meta, schema::meta::GENESIS)?;
    let Some(stored) = stored else {
        if let (Some(mark), Some(marker)) = (mark, marker) {
            return Err(StoreError::corrupt(
                &location,
                format!(
                    "the database is empty, but block {} was reported final (recorded in {}): its files were deleted, replaced or truncated",
                    mark.height,
                    marker.path().display()
                ),
            ));
        }
        // A database without a genesis record must be empty: anything else is a damaged
        // database whose identity is lost, not a new one.
        for tree in Tree::ALL {
            if !engine
                .scan(Scan {
                    limit: 1,
                    ..Scan::range(tree, &[], None)
                })?
                .is_empty()
            {
                return Err(StoreError::corrupt(
                    &location,
                    format!("the genesis record is missing but tree `{tree}` holds data"),
                ));
            }
        }
        let mut batch = WriteBatch::new();
        batch.put(
            Tree::Meta,
            schema::meta::VERSION.to_vec(),
            FORMAT_VERSION.to_be_bytes().to_vec(),
        );
        batch.put(
            Tree::Meta,
            schema::meta::GENESIS.to_vec(),
            expected.as_bytes().to_vec(),
        );
        Persisted::default().diff(genesis_state, &mut batch);
        engine.write(&batch)?;
        engine.flush()?;
        tracing::info!(dir = %location.display(), genesis = %expected, "created a new chain store");
        return Ok(());
    };
    let version = engine.get(Tree::Meta, schema::meta::VERSION)?;
    let found = version
        .as_deref()
        .and_then(|v| <[u8; 4]>::try_from(v).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| {
            StoreError::corrupt(
                &location,
                "the format version record is missing or malformed",
            )
        })?;
    if found != FORMAT_VERSION {
        return Err(StoreError::Version {
            path: location,
            found,
            supported: FORMAT_VERSION,
        });
    }
    let stored: [u8; 32] = stored
        .as_slice()
        .try_into()
        .map_err(|_| StoreError::corrupt(&location, "the genesis record is not a 32-byte hash"))?;
    let stored = Hash(stored);
    if stored != expected {
        return Err(StoreError::WrongGenesis {
            path: location,
            stored,
            expected,
        });
    }
    Ok(())
}

/// Checks the database against the final-head marker: it must hold the marked block.
fn check_mark(
    engine: &dyn Engine,
    height: u64,
    mark: &Mark,
    marker: &Marker,
) -> Result<(), StoreError> {
    let location = engine.location();
    if mark.height > height {
        return Err(StoreError::corrupt(
            &location.join("db"),
            format!(
                "the database ends at height {height}, but block {} was reported final (recorded in {}): the database lost final blocks, its files were truncated or damaged",
                mark.height,
                marker.path().display()
            ),
        ));
    }
    if mark.height > 0 {
        let header = read::header(engine, mark.height)?;
        let hash = header.as_ref().map(BlockHeader::hash);
        if hash != Some(mark.hash) {
            return Err(StoreError::corrupt(
                &location,
                format!(
                    "block {} reported final was {} (recorded in {}), the database holds {}",
                    mark.height,
                    mark.hash,
                    marker.path().display(),
                    hash.map_or("nothing".to_string(), |h| h.to_string())
                ),
            ));
        }
    }
    Ok(())
}

/// Checks that the head record and the head block agree (hash and state root).
fn check_head_block(engine: &dyn Engine, head: &Head) -> Result<(), StoreError> {
    let location = engine.location();
    let header = read::header(engine, head.height)?.ok_or_else(|| {
        StoreError::corrupt(
            &location,
            format!(
                "the head is at height {} but that block is missing",
                head.height
            ),
        )
    })?;
    if header.hash() != head.hash || header.state_root != head.state_root {
        return Err(StoreError::corrupt(
            &location,
            format!(
                "the head record (block {}, state root {}) does not match the stored block at height {} (block {}, state root {})",
                head.hash,
                head.state_root,
                head.height,
                header.hash(),
                header.state_root
            ),
        ));
    }
    Ok(())
}

/// Replays the chain in `engine` and compares with what is stored, changing nothing.
pub(crate) fn verify_engine(
    engine: &dyn Engine,
    genesis: &Genesis,
    options: ReplayOptions,
) -> Result<Verification, StoreError> {
    let stored = engine.get(Tree::Meta, schema::meta::GENESIS)?;
    if stored.as_deref() != Some(genesis.hash().as_bytes().as_slice()) {
        return Err(match stored {
            Some(bytes) if bytes.len() == 32 => {
                let mut h = [0u8; 32];
                h.copy_from_slice(&bytes);
                StoreError::WrongGenesis {
                    path: engine.location(),
                    stored: Hash(h),
                    expected: genesis.hash(),
                }
            }
            _ => StoreError::corrupt(
                &engine.location(),
                "the genesis record is missing or malformed",
            ),
        });
    }
    let head = read::head(engine)?;
    let head_root = match &head {
        Some(h) => h.state_root,
        None => genesis.state()?.state_root(),
    };
    let stored_state_root = state_io::load(engine)
        .map(|(state, _)| state.state_root())
        .map_err(|e| e.to_string());
    let (_, replay) = replay::replay(engine, genesis, head.map_or(0, |h| h.height), options)?;
    Ok(Verification {
        head,
        head_root,
        stored_state_root,
        replay,
    })
}

/// The engine's directory inside a data directory.
fn engine_dir(dir: &Path) -> PathBuf {
    dir.join("sled")
}

/// Replays the chain stored in the data directory `dir` and compares it with the stored head
/// and state, without repairing anything (`povd replay`). Refuses a directory that holds no
/// database, and one that lost blocks reported final.
pub fn verify_dir(
    dir: &Path,
    genesis: &Genesis,
    options: ReplayOptions,
) -> Result<Verification, StoreError> {
    let engine_dir = engine_dir(dir);
    if !engine_dir.join("db").exists() {
        return Err(StoreError::Io {
            path: engine_dir,
            message: "no chain database here".to_string(),
        });
    }
    let engine = SledEngine::open(&engine_dir, &SledOptions::default())?;
    let marker = Marker::new(dir);
    if let Some(mark) = marker.read()? {
        let height = read::head(&engine)?.map_or(0, |h| h.height);
        check_mark(&engine, height, &mark, &marker)?;
    }
    verify_engine(&engine, genesis, options)
}

#[cfg(test)]
mod tests {
    // The store's behaviour is tested in tests/store.rs against both engines; here only
    // the pieces that are private.
    use super::*;

    #[test]
    fn balances_after_walks_back_from_the_final_balances() {
        let mut state = Genesis::dev().state().expect("dev genesis");
        let e1 = state
            .contribute(0, "work", "t", "https://example.org", None)
            .expect("contribute")
            .1;
        let e2 = state
            .contribute(0, "work", "t2", "https://example.org", None)
            .expect("contribute")
            .1;
        let after = balances_after(&state, &[e1, e2]).expect("balances");
        // alice starts with 100 tokens and pays a fee of 1 twice.
        assert_eq!(after[0][0], Amount::from_int(99));
        assert_eq!(after[1][0], Amount::from_int(98));
    }
}
