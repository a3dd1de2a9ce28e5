//! What a committed block did, its events, recomputed rather than stored.
//!
//! One evaluation changes the reputation of every earlier evaluator who agreed with it:
//! hundreds of events in a busy cooperative. Storing them (format versions 2 to 4) made them
//! most of the bytes a node wrote, kilobytes per evaluation. Since format version 5 the
//! store keeps only which blocks changed each member's balances (and how many times), and
//! recomputes a block's events when asked: the state before the block is the nearest
//! checkpoint with the blocks after it replayed ([`Snapshot::rebuild`], at most
//! [`CHECKPOINT_TXS`] transactions by default), and executing the block on it gives exactly
//! the events its commit produced (execution is deterministic and checked against the
//! block's state root).
//!
//! The events of the last blocks this process committed or recomputed are kept in memory
//! (up to [`RECENT_EVENTS`] events, and always the last one), so what a node reports right after
//! a commit, and "why did my reputation just change?", cost nothing. Several blocks asked
//! at once are recomputed in one forward pass when they share a checkpoint.
//!
//! [`CHECKPOINT_TXS`]: crate::schema::CHECKPOINT_TXS

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use pov_protocol::block::{Block, Parent};
use pov_protocol::{Amount, Asset, BlockEvent, Event, MemberId, State};

use super::Snapshot;
use crate::error::StoreError;

/// Events of recently committed blocks kept in memory, at most about this many in all (a
/// few MiB): older blocks' events are recomputed.
pub(crate) const RECENT_EVENTS: usize = 200_000;

/// The balance changes one block made: its start's (settlements of sealed contributions,
/// spec section 12) and its transactions'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Effects {
    /// Balance changes of the block's start, in order (the `balance` events among
    /// [`BlockOutcome::start`](pov_protocol::block::BlockOutcome)).
    pub(crate) start: Vec<Event>,
    /// The balance (of the event's asset) right after each of `start`.
    pub(crate) start_balances: Vec<Amount>,
    /// Events per transaction, in block order.
    pub(crate) events: Vec<Vec<Event>>,
    /// The balance (of the event's asset) right after each event.
    pub(crate) balances_after: Vec<Vec<Amount>>,
}

impl Effects {
    /// The effects of a block from its start's balance changes, its transactions' events
    /// and the state after it.
    pub(crate) fn new(
        state_after: &State,
        start: Vec<Event>,
        events: Vec<Vec<Event>>,
    ) -> Result<Self, StoreError> {
        let (start_balances, balances_after) = balances_after(state_after, &start, &events)?;
        Ok(Effects {
            start,
            start_balances,
            events,
            balances_after,
        })
    }

    /// The balance changes among what a block's start did, in order.
    pub(crate) fn start_balance_events(start: &[BlockEvent]) -> Vec<Event> {
        start
            .iter()
            .filter_map(|e| match e {
                BlockEvent::Balance(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    fn len(&self) -> usize {
        self.start.len() + self.events.iter().map(Vec::len).sum::<usize>()
    }
}

/// The effects of the last blocks committed (or recomputed), newest last.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    blocks: Mutex<VecDeque<(u64, Arc<Effects>)>>,
}

impl Recent {
    fn get(&self, height: u64) -> Option<Arc<Effects>> {
        let blocks = self.blocks.lock().unwrap_or_else(|p| p.into_inner());
        blocks
            .iter()
            .find(|(h, _)| *h == height)
            .map(|(_, e)| Arc::clone(e))
    }

    /// Keeps `effects` of block `height`, dropping the oldest blocks beyond the budget.
    pub(crate) fn insert(&self, height: u64, effects: Arc<Effects>) {
        let mut blocks = self.blocks.lock().unwrap_or_else(|p| p.into_inner());
        if blocks.iter().any(|(h, _)| *h == height) {
            return;
        }
        blocks.push_back((height, effects));
        let mut total: usize = blocks.iter().map(|(_, e)| e.len()).sum();
        while total > RECENT_EVENTS && blocks.len() > 1 {
            if let Some((_, dropped)) = blocks.pop_front() {
                total -= dropped.len();
            }
        }
    }
}

impl Snapshot {
    /// Calls `f` with the effects of each committed block at `heights`, in height order,
    /// from memory or recomputed; blocks that share a checkpoint are recomputed in one
    /// forward pass. One block's effects are held at a time (a busy block's are megabytes).
    pub(crate) fn for_each_effects(
        &self,
        heights: &[u64],
        mut f: impl FnMut(u64, &Effects) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut wanted: Vec<u64> = heights.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        // The state after `parent.height`, from the last recomputation of this call.
        let mut cursor: Option<(State, Parent)> = None;
        for height in wanted {
            if let Some(effects) = self.recent.get(height) {
                f(height, &effects)?;
                continue;
            }
            if height == 0 || height > self.height() {
                return Err(StoreError::PastState {
                    height,
                    reason: format!(
                        "no committed block has this height (the head is at {})",
                        self.height()
                    ),
                });
            }
            let before = height - 1;
            let base = self.checkpoint_height(before)?;
            let (mut state, mut parent) = match cursor.take() {
                Some((s, p)) if p.height <= before && p.height >= base => (s, p),
                _ => (self.rebuild(before)?.run()?, self.parent_at(before)?),
            };
            let validators = self.validators();
            let unavailable = |at: u64, e: String| StoreError::PastState {
                height,
                reason: format!("replaying block {at} failed: {e}"),
            };
            for stored in self.blocks(parent.height + 1..=before, usize::MAX)? {
                let block = &stored.block;
                state
                    .apply_block(block, &parent, validators, &|_| true)
                    .map_err(|e| unavailable(block.header.height, e.to_string()))?;
                parent = parent_of(block);
            }
            let stored = self.block(height)?.ok_or_else(|| {
                StoreError::corrupt(
                    &self.engine.location(),
                    format!("block {height} is missing below the head"),
                )
            })?;
            let block = &stored.block;
            let (after, outcome) = state
                .after_block(block, &parent, validators, &|_| true)
                .map_err(|e| unavailable(height, e.to_string()))?;
            let start = Effects::start_balance_events(&outcome.start);
            let effects = Arc::new(Effects::new(&after, start, outcome.events)?);
            self.recent.insert(height, Arc::clone(&effects));
            f(height, &effects)?;
            cursor = Some((after, parent_of(block)));
        }
        Ok(())
    }

    /// What a block at `height + 1` builds on.
    fn parent_at(&self, height: u64) -> Result<Parent, StoreError> {
        if height == 0 {
            return Ok(self.genesis.parent());
        }
        let header = self.header(height)?.ok_or_else(|| {
            StoreError::corrupt(
                &self.engine.location(),
                format!("the header of block {height} is missing below the head"),
            )
        })?;
        Ok(Parent {
            height,
            hash: header.hash(),
            time_ms: header.time_ms,
        })
    }
}

/// What the block after `block` builds on.
fn parent_of(block: &Block) -> Parent {
    Parent {
        height: block.header.height,
        hash: block.hash(),
        time_ms: block.header.time_ms,
    }
}

/// The balance after each event of a block, its start's and then each transaction's, found
/// by walking the events backwards from the balances after the block.
#[allow(clippy::type_complexity)]
fn balances_after(
    state: &State,
    start: &[Event],
    events: &[Vec<Event>],
) -> Result<(Vec<Amount>, Vec<Vec<Amount>>), StoreError> {
    let mut current: HashMap<(MemberId, Asset), Amount> = HashMap::new();
    let mut out: Vec<Vec<Amount>> = events.iter().map(|e| vec![Amount::ZERO; e.len()]).collect();
    let mut start_out = vec![Amount::ZERO; start.len()];
    let tx_lines = events.iter().enumerate().rev().flat_map(|(i, tx_events)| {
        tx_events
            .iter()
            .enumerate()
            .rev()
            .map(move |(j, e)| (Some(i), j, e))
    });
    let start_lines = start.iter().enumerate().rev().map(|(j, e)| (None, j, e));
    for (i, j, event) in tx_lines.chain(start_lines) {
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
        match i {
            Some(i) => out[i][j] = balance,
            None => start_out[j] = balance,
        }
        let before = balance
            .checked_sub(event.amount)
            .map_err(|e| StoreError::Internal(format!("balance history: {e}")))?;
        current.insert((event.member, event.asset), before);
    }
    Ok((start_out, out))
}

#[cfg(test)]
mod tests {
    // The store's behaviour is tested in tests/store.rs against both engines; here only
    // the pieces that are private.
    use super::*;
    use pov_protocol::genesis::Genesis;

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
        let (start, after) =
            balances_after(&state, &[], &[e1.clone(), e2.clone()]).expect("balances");
        // alice starts with 100 tokens and pays a fee of 1 twice.
        assert!(start.is_empty());
        assert_eq!(after[0][0], Amount::from_int(99));
        assert_eq!(after[1][0], Amount::from_int(98));
        // The same first change as the block's start (a settlement's, say): it comes first.
        let (start, after) = balances_after(&state, &e1, &[e2]).expect("balances");
        assert_eq!(start, vec![Amount::from_int(99)]);
        assert_eq!(after[0][0], Amount::from_int(98));
    }

    #[test]
    fn recent_keeps_the_last_block_and_drops_the_oldest_beyond_the_budget() {
        let recent = Recent::default();
        let event = Event {
            member: 0,
            asset: Asset::Tokens,
            amount: Amount::from_int(1),
            rule: pov_protocol::Rule::Fee,
            contribution: None,
        };
        let block = |n: usize| {
            Arc::new(Effects {
                start: Vec::new(),
                start_balances: Vec::new(),
                events: vec![vec![event.clone(); n]],
                balances_after: vec![vec![Amount::ZERO; n]],
            })
        };
        recent.insert(1, block(RECENT_EVENTS / 2));
        recent.insert(2, block(RECENT_EVENTS / 2));
        assert!(recent.get(1).is_some() && recent.get(2).is_some());
        recent.insert(3, block(1));
        assert!(recent.get(1).is_none(), "over the budget, the oldest goes");
        assert!(recent.get(2).is_some() && recent.get(3).is_some());
        recent.insert(4, block(RECENT_EVENTS * 2));
        assert!(recent.get(4).is_some(), "the last block is always kept");
        assert!(recent.get(3).is_none());
    }
}
