//! Reading the store: the head and its state, blocks by height, hash or range,
//! transactions by hash, accounts, and pages of member and contribution history, all from
//! indexes (never a scan of the chain).

use std::ops::RangeInclusive;

use pov_crypto::{Address, Hash};
use pov_protocol::block::{BlockHeader, Parent, ValidatorSet};
use pov_protocol::genesis::Genesis;
use pov_protocol::{BlockEvent, ContributionId, MemberId, State, Transaction};

use super::{
    Account, ContributionInfo, HistoryEntry, HistoryQuery, OpenReport, Position, Store,
    StoreStatus, TxInfo,
};
use crate::engine::{prefix_end, Scan, Tree};
use crate::error::StoreError;
use crate::read::{self, StoredBlock};
use crate::schema::{self, BlockLines, Head, MemberActivity, TxRecord};
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
