//! Committing a finalized block: check its certificate, execute it, and write the block,
//! its indexes and history, the changed state and the new head in one atomic batch, flushed
//! before the block is reported final. The block's events are kept in memory for a while
//! (`effects.rs`), not written.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use pov_crypto::Address;
use pov_protocol::block::{Block, BlockOutcome, Certificate, MAX_BLOCK_BYTES, MAX_BLOCK_TXS};
use pov_protocol::{codec, BlockEvent, ContributionId, MemberId, Transaction, TxBody};

use super::effects::Effects;
use super::{CommitReceipt, CommitTimings, ExecutedBlock, Store};
use crate::engine::{Tree, WriteBatch};
use crate::error::StoreError;
use crate::schema::{
    self, Action, BlockLines, ContributionActivity, Head, Line, MemberActivity, MemberBlock,
    TxRecord,
};
use crate::state_io::Persisted;

/// Bytes [`Store::build_block`] keeps free in a block for its header and transaction count
/// (a header is under 300 bytes with the longest chain id).
const BLOCK_HEADER_ROOM: usize = 1024;

impl Store {
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
        self.commit_prepared(block, certificate, None, verified)
    }

    /// Executes `block` on the head state without changing the store: the state after it and
    /// what it did (an invalid block, or one that does not build on the head, is an error).
    /// Handing the result to [`Store::commit_prepared`] commits the block without executing
    /// it again: a node checks a proposal this way and keeps the result for the decision.
    pub fn execute(
        &self,
        block: &Block,
        verified: &dyn Fn(&Transaction) -> bool,
    ) -> Result<ExecutedBlock, StoreError> {
        let height = block.header.height;
        let parent = self.parent();
        let (state, outcome) = self
            .state
            .after_block(block, &parent, &self.validators, verified)
            .map_err(|error| StoreError::InvalidBlock { height, error })?;
        Ok(ExecutedBlock {
            parent: parent.hash,
            hash: block.hash(),
            members_before: self.state.members().len(),
            contributions_before: self.state.contributions().len() as u64,
            state,
            outcome,
        })
    }

    /// Builds the block this node proposes at the head's next height: `candidates` in order,
    /// those that do not apply left out, stamped `time_ms` (raised to the parent's), with the
    /// state root computed once; returns the block and its execution for
    /// [`Store::commit_prepared`]. `verified` says which candidates' signatures were checked.
    pub fn build_block(
        &self,
        candidates: Vec<Transaction>,
        proposer: pov_crypto::Address,
        time_ms: u64,
        verified: &dyn Fn(&Transaction) -> bool,
    ) -> Result<(Block, ExecutedBlock), StoreError> {
        let parent = self.parent();
        let height = parent.height + 1;
        let mut state = pov_protocol::State::clone(&self.state);
        let start = state
            .begin_block(height)
            .map_err(|error| StoreError::InvalidBlock { height, error })?;
        let mut txs = Vec::with_capacity(candidates.len());
        let mut events = Vec::with_capacity(candidates.len());
        // The protocol's block limits: room for the header (its size varies by a few bytes
        // with the height and time) and the transaction count, then transactions while they
        // fit. The first that does not fit ends the block, which keeps the pool's order (a
        // sender's later transactions need it first).
        let mut bytes = BLOCK_HEADER_ROOM;
        for tx in candidates.into_iter().take(MAX_BLOCK_TXS) {
            let size = tx.to_bytes().len();
            if bytes + size > MAX_BLOCK_BYTES {
                break;
            }
            let applied = if verified(&tx) {
                state.apply_verified(&tx)
            } else {
                state.apply(&tx)
            };
            if let Ok(e) = applied {
                bytes += size;
                events.push(e);
                txs.push(tx);
            }
        }
        let block = Block::assemble(&state, &parent, &self.validators, proposer, time_ms, txs);
        let outcome = BlockOutcome {
            start,
            events,
            state_root: block.header.state_root,
        };
        let executed = ExecutedBlock {
            parent: parent.hash,
            hash: block.hash(),
            members_before: self.state.members().len(),
            contributions_before: self.state.contributions().len() as u64,
            state,
            outcome,
        };
        Ok((block, executed))
    }

    /// [`Store::commit_with`], reusing `executed` (from [`Store::execute`] or
    /// [`Store::build_block`] of this block on the current head) instead of executing the
    /// block again. An execution of another block, or on an older head, is ignored and the
    /// block executed here.
    pub fn commit_prepared(
        &mut self,
        block: &Block,
        certificate: &Certificate,
        executed: Option<ExecutedBlock>,
        verified: &dyn Fn(&Transaction) -> bool,
    ) -> Result<CommitReceipt, StoreError> {
        self.check_writable()?;
        let started = Instant::now();
        let height = block.header.height;
        let hash = block.hash();
        certificate
            .verify(&self.validators, height, &hash)
            .map_err(|error| StoreError::Certificate { height, error })?;
        let head_hash = self.parent().hash;
        let executed = match executed {
            Some(e) if e.hash == hash && e.parent == head_hash => e,
            _ => self.execute(block, verified)?,
        };
        let ExecutedBlock {
            state,
            outcome,
            members_before,
            contributions_before,
            ..
        } = executed;
        self.state = Arc::new(state);

        // The state now holds the block. From here on a failure leaves memory ahead of disk.
        let executed = Instant::now();
        let head = Head {
            height,
            hash,
            state_root: outcome.state_root,
            time_ms: block.header.time_ms,
        };
        let checkpoint = self.checkpoint_due(block);
        let events = outcome.events.iter().map(Vec::len).sum();
        let built = self
            .block_batch(
                block,
                certificate,
                &head,
                &outcome,
                members_before,
                contributions_before,
            )
            .and_then(|b| {
                let start = Effects::start_balance_events(&outcome.start);
                Ok((b, Effects::new(&self.state, start, outcome.events)?))
            });
        let ((batch, persisted), effects) = match built {
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
        self.txs_since_checkpoint = Some(if checkpoint {
            0
        } else {
            self.txs_since_checkpoint
                .unwrap_or(0)
                .saturating_add(block.txs.len() as u64)
        });
        self.recent.insert(height, Arc::new(effects));
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
            events,
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

    /// Refuses with [`StoreError::Poisoned`] when an earlier write failed: the state in
    /// memory may then be ahead of the disk, and only reopening tells which.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        match &self.poisoned {
            Some(reason) => Err(StoreError::Poisoned(reason.clone())),
            None => Ok(()),
        }
    }

    fn poison(&mut self, error: StoreError) -> StoreError {
        tracing::error!(
            error = &error as &dyn std::error::Error,
            "writing a block failed; the store refuses writes until reopened"
        );
        self.poisoned = Some(error.with_causes());
        error
    }

    /// Everything one block writes.
    fn block_batch(
        &self,
        block: &Block,
        certificate: &Certificate,
        head: &Head,
        outcome: &BlockOutcome,
        members_before: usize,
        contributions_before: u64,
    ) -> Result<(WriteBatch, Persisted), StoreError> {
        let height = head.height;
        let events = &outcome.events;
        let mut batch = WriteBatch::new();
        if !outcome.start.is_empty() {
            batch.put(
                Tree::Chain,
                schema::chain::start(height),
                codec::encode(&outcome.start),
            );
        }
        if self.checkpoint_due(block) {
            // `self.state` already holds the block (see `commit_with`).
            batch.put(
                Tree::Chain,
                schema::chain::checkpoint(height),
                codec::encode(self.state.as_ref()),
            );
        }
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

        let mut balance_changes: HashMap<MemberId, u32> = HashMap::new();
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
        let mut joined = HashSet::new();
        for (i, tx) in block.txs.iter().enumerate() {
            let index = i as u32;
            let tx_bytes = tx.to_bytes();
            let tx_hash = pov_crypto::hash(&tx_bytes);
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
                TxBody::ProposeParams { .. } => {
                    let id = next_contribution;
                    next_contribution += 1;
                    let activity = ContributionActivity::Submitted {
                        contributor: sender,
                        tx: tx_hash,
                    };
                    (Some((id, activity)), Action::Proposed { contribution: id })
                }
                TxBody::Commit { contribution, .. } => {
                    let activity = ContributionActivity::Committed {
                        member: sender,
                        tx: tx_hash,
                    };
                    let action = Action::Committed {
                        contribution: *contribution,
                    };
                    (Some((*contribution, activity)), action)
                }
                TxBody::Reveal { contribution, .. } => {
                    let activity = ContributionActivity::Revealed {
                        member: sender,
                        tx: tx_hash,
                    };
                    let action = Action::Revealed {
                        contribution: *contribution,
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
                TxBody::Admit { member, .. } => {
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
            for event in events.get(i).into_iter().flatten() {
                *balance_changes.entry(event.member).or_default() += 1;
            }
            let record = TxRecord { height, index };
            batch.put(
                Tree::Chain,
                schema::chain::tx_hash(&tx_hash),
                codec::encode(&record),
            );
        }
        for e in &outcome.start {
            match e {
                BlockEvent::Balance(event) => {
                    *balance_changes.entry(event.member).or_default() += 1;
                }
                BlockEvent::Settled(s) => {
                    let activity = ContributionActivity::Settled {
                        committed: s.committed,
                        revealed: s.revealed,
                        forfeited: s.forfeited,
                    };
                    contributions.entry(s.contribution).or_default().push(Line {
                        tx_index: schema::START_LINES,
                        n: 0,
                        activity,
                    });
                }
                _ => {}
            }
        }
        for member in balance_changes.keys() {
            members.entry(*member).or_default();
        }
        for (member, mut lines) in members {
            lines.sort_by_key(|l| (l.tx_index, l.n));
            let record = MemberBlock {
                lines,
                balance_changes: balance_changes.get(&member).copied().unwrap_or(0),
            };
            batch.put(
                Tree::History,
                schema::history::member(member, height),
                codec::encode(&record),
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

    /// Whether committing `block` writes a state checkpoint: every `checkpoint_interval`
    /// blocks, once `checkpoint_txs` transactions were committed since the last one, and
    /// with the first block after opening (when that count is not known).
    fn checkpoint_due(&self, block: &Block) -> bool {
        block.header.height.is_multiple_of(self.checkpoint_interval)
            || self
                .txs_since_checkpoint
                .is_none_or(|n| n.saturating_add(block.txs.len() as u64) >= self.checkpoint_txs)
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
}
