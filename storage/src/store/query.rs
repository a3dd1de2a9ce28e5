//! Reading the store: the head and its state, blocks by height, hash or range,
//! transactions by hash, accounts, and pages of member and contribution history, all from
//! indexes (never a scan of the chain).

use std::collections::HashMap;
use std::ops::RangeInclusive;

use pov_crypto::{Address, Hash};
use pov_protocol::block::{BlockHeader, Parent, ValidatorSet};
use pov_protocol::genesis::Genesis;
use pov_protocol::{BlockEvent, ContributionId, MemberId, State, Transaction};

use super::{
    Account, ContributionInfo, HistoryEntry, HistoryQuery, OpenReport, Position, Snapshot, Store,
    StoreStatus, TxInfo,
};
use crate::engine::{prefix_end, Scan, Tree};
use crate::error::StoreError;
use crate::read::{self, StoredBlock};
use crate::schema::{
    self, BlockLines, ContributionActivity, Head, Line, MemberActivity, MemberBlock, TxRecord,
};
use crate::state_io;

impl Store {
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

    /// The genesis's validator set, which finalizes every block (built and checked once,
    /// when the store opens).
    pub fn validators(&self) -> &ValidatorSet {
        &self.validators
    }

    /// The state at the head.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The block at `height`, with its certificate.
    pub fn block(&self, height: u64) -> Result<Option<StoredBlock>, StoreError> {
        read::block(self.engine.as_ref(), height)
    }

    /// The header at `height` (cheaper than the whole block).
    pub fn header(&self, height: u64) -> Result<Option<BlockHeader>, StoreError> {
        read::header(self.engine.as_ref(), height)
    }

    /// What the start of block `height` did before its transactions (parameter changes
    /// taking effect, spec section 11): empty when nothing, or when there is no such block.
    /// Cheaper than [`Store::block`] when only these are wanted.
    pub fn start_events(&self, height: u64) -> Result<Vec<BlockEvent>, StoreError> {
        read::start(self.engine.as_ref(), height)
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

    /// A transaction by hash, with its block, position and events ([`Snapshot::tx`] of the
    /// head).
    pub fn tx(&self, hash: &Hash) -> Result<Option<TxInfo>, StoreError> {
        self.snapshot().tx(hash)
    }

    /// A page of a member's history ([`Snapshot::member_history`] of the head).
    pub fn member_history(
        &self,
        member: MemberId,
        query: HistoryQuery,
    ) -> Result<Vec<HistoryEntry<MemberActivity>>, StoreError> {
        self.snapshot().member_history(member, query)
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

    /// A contribution as it is now, with a page of its history ([`Snapshot::contribution`]
    /// of the head).
    pub fn contribution(
        &self,
        id: ContributionId,
        query: HistoryQuery,
    ) -> Result<Option<ContributionInfo>, StoreError> {
        self.snapshot().contribution(id, query)
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

impl Snapshot {
    /// A contribution as it is now, with a page of its history (submission and every
    /// evaluation, including those later replaced by a re-vote), up to the snapshot's head.
    pub fn contribution(
        &self,
        id: ContributionId,
        query: HistoryQuery,
    ) -> Result<Option<ContributionInfo>, StoreError> {
        let Some(contribution) = self.state().contribution(id).cloned() else {
            return Ok(None);
        };
        let engine = self.engine.as_ref();
        let mut blocks = Vec::new();
        for (height, key, bytes) in self.history_records(
            &schema::history::contribution_prefix(id),
            |height| schema::history::contribution(id, height),
            query,
        )? {
            let lines: BlockLines<ContributionActivity> =
                read::decode(engine, Tree::History, &key, &bytes, "a history record")?;
            blocks.push((height, lines));
        }
        let history = page(blocks, query);
        Ok(Some(ContributionInfo {
            contribution,
            history,
        }))
    }

    /// A transaction by hash, with its block, position and events; `None` when it is not in
    /// a block at or below the snapshot's head. Its events are recomputed when they are no
    /// longer in memory (see `effects.rs`).
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
        if record.height > self.height() {
            return Ok(None);
        }
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
        let mut events = None;
        self.for_each_effects(&[record.height], |_, effects| {
            events = effects.events.get(record.index as usize).cloned();
            Ok(())
        })?;
        let events = events.ok_or_else(|| {
                StoreError::corrupt(
                    &engine.location(),
                    format!(
                        "transaction {hash} is indexed at position {} of block {}, which has fewer transactions",
                        record.index, record.height
                    ),
                )
            })?;
        Ok(Some(TxInfo {
            tx,
            height: record.height,
            index: record.index,
            block_hash: header.hash(),
            time_ms: header.time_ms,
            events,
        }))
    }

    /// A page of a member's history: its transactions, its account's creation, and every
    /// change of its balances with the rule, contribution and balance after it (those are
    /// recomputed from the blocks: only the blocks the page needs are).
    pub fn member_history(
        &self,
        member: MemberId,
        query: HistoryQuery,
    ) -> Result<Vec<HistoryEntry<MemberActivity>>, StoreError> {
        let engine = self.engine.as_ref();
        let mut records: Vec<(u64, MemberBlock)> = Vec::new();
        let mut lines = 0usize;
        for (height, key, bytes) in self.history_records(
            &schema::history::member_prefix(member),
            |height| schema::history::member(member, height),
            query,
        )? {
            if lines >= query.limit {
                break;
            }
            let record: MemberBlock =
                read::decode(engine, Tree::History, &key, &bytes, "a history record")?;
            // The block of `after` may hold lines on both sides of it: not counted.
            if query.after.map(|p| p.height) != Some(height) {
                lines = lines
                    .saturating_add(record.lines.len())
                    .saturating_add(record.balance_changes as usize);
            }
            records.push((height, record));
        }
        let changed: Vec<u64> = records
            .iter()
            .filter(|(_, r)| r.balance_changes > 0)
            .map(|(h, _)| *h)
            .collect();
        // The member's balance lines of each block that changed its balances.
        let mut balance_lines: HashMap<u64, BlockLines<MemberActivity>> = HashMap::new();
        self.for_each_effects(&changed, |height, effects| {
            let mut lines = Vec::new();
            // The start's lines sort after the block's transactions (see `START_LINES`).
            for (j, (event, balance)) in effects
                .start
                .iter()
                .zip(&effects.start_balances)
                .enumerate()
            {
                if event.member == member {
                    lines.push(Line {
                        tx_index: schema::START_LINES,
                        n: j as u32,
                        activity: MemberActivity::Balance {
                            event: event.clone(),
                            balance_after: *balance,
                        },
                    });
                }
            }
            for (i, (events, balances)) in effects
                .events
                .iter()
                .zip(&effects.balances_after)
                .enumerate()
            {
                for (j, (event, balance)) in events.iter().zip(balances).enumerate() {
                    if event.member == member {
                        lines.push(Line {
                            tx_index: i as u32,
                            n: 2 + j as u32,
                            activity: MemberActivity::Balance {
                                event: event.clone(),
                                balance_after: *balance,
                            },
                        });
                    }
                }
            }
            balance_lines.insert(height, lines);
            Ok(())
        })?;
        let mut blocks = Vec::with_capacity(records.len());
        for (height, record) in records {
            let MemberBlock {
                mut lines,
                balance_changes,
            } = record;
            let recomputed = balance_lines.remove(&height).unwrap_or_default();
            if recomputed.len() != balance_changes as usize {
                return Err(StoreError::corrupt(
                    &engine.location(),
                    format!(
                        "block {height} changed member {member}'s balances {balance_changes} times when committed, but {} times when recomputed",
                        recomputed.len()
                    ),
                ));
            }
            if !recomputed.is_empty() {
                lines.extend(recomputed);
                lines.sort_by_key(|l| (l.tx_index, l.n));
            }
            blocks.push((height, lines));
        }
        Ok(page(blocks, query))
    }

    /// The history records (one per block) under `prefix` that a page of `query` may need,
    /// in the query's order, with their heights: only blocks at or below the snapshot's
    /// head (records are written once, with their block, and never change).
    pub(super) fn history_records(
        &self,
        prefix: &[u8],
        key_at: impl Fn(u64) -> Vec<u8>,
        query: HistoryQuery,
    ) -> Result<Vec<HistoryRecord>, StoreError> {
        let head = self.height();
        // The block of `after` is scanned too (it may hold lines on both sides of it); lines
        // are filtered by `page`. Nothing above the head is.
        let (start, end) = match (query.after, query.newest_first) {
            (Some(p), false) if p.height > head => return Ok(Vec::new()),
            (Some(p), false) => (key_at(p.height), prefix_end(&key_at(head))),
            (Some(p), true) => (prefix.to_vec(), prefix_end(&key_at(p.height.min(head)))),
            (None, _) => (prefix.to_vec(), prefix_end(&key_at(head))),
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
        records
            .into_iter()
            .map(|(key, bytes)| {
                let height = schema::history::height(&key).ok_or_else(|| {
                    StoreError::corrupt(
                        &self.engine.location(),
                        format!("history key {} is malformed", state_io::hex(&key)),
                    )
                })?;
                Ok((height, key, bytes))
            })
            .collect()
    }
}

/// A history record as read: its block's height, its key and its bytes.
type HistoryRecord = (u64, Vec<u8>, Vec<u8>);

/// The query's page of lines from per-block lines (in the query's block order).
fn page<T>(blocks: Vec<(u64, BlockLines<T>)>, query: HistoryQuery) -> Vec<HistoryEntry<T>> {
    let mut out = Vec::new();
    for (height, lines) in blocks {
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
                    return out;
                }
                out.push(entry);
            }
        }
    }
    out
}
