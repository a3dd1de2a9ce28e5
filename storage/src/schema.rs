//! The on-disk layout: which tree holds what, under which key, encoded how.
//!
//! Every value is the canonical postcard encoding of a protocol or record type (decoding
//! re-encodes and compares, so a flipped byte is caught as often as possible rather than
//! read as a different value). Integers in keys are big-endian, so a tree's key order is
//! height order, member order and so on, and ranges are prefix scans.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `meta` | `version` | [`FORMAT_VERSION`] (u32, big-endian) |
//! | `meta` | `genesis` | the genesis hash (32 bytes) |
//! | `meta` | `head` | [`Head`] (absent until block 1) |
//! | `chain` | `h ‖ height` | [`BlockHeader`] |
//! | `chain` | `c ‖ height` | [`Certificate`] |
//! | `chain` | `s ‖ height` | what the block's start did, `Vec<`[`BlockEvent`]`>` (absent when nothing) |
//! | `chain` | `k ‖ height` | a checkpoint: the whole [`State`] after that block, every [`CHECKPOINT_INTERVAL`] blocks and every [`CHECKPOINT_TXS`] transactions by default |
//! | `chain` | `t ‖ height ‖ index (u32)` | [`Transaction`] |
//! | `chain` | `n ‖ block hash` | height (u64, big-endian) |
//! | `chain` | `x ‖ tx hash` | [`TxRecord`] (where it is) |
//! | `chain` | `e ‖ height ‖ round (u32) ‖ offence (u8) ‖ offender` | [`pov_consensus::Evidence`] (the first proof kept per offence) |
//! | `state` | `g` | [`GlobalRecord`] (chain id, genesis hash, height, parameters, `R`, token supply, governance) |
//! | `state` | `m ‖ member id (u32)` | [`pov_protocol::Member`] (balances, nonce, referrer) |
//! | `state` | `c ‖ contribution id (u64)` | [`pov_protocol::Contribution`] (with live evaluations) |
//! | `history` | `m ‖ member ‖ height` | [`MemberBlock`]: the member's own lines, and how many balance changes |
//! | `history` | `c ‖ contribution ‖ height` | [`BlockLines`] of [`ContributionActivity`] |
//!
//! History is grouped per block: one record holds all of a member's (or a contribution's)
//! lines in one block. A busy block touches most members dozens of times each (every
//! aligned evaluator gets a redistribution event), and sled's cost is per key: one key per
//! event made commits ten times slower (measured, see `docs/storage.md`).
//!
//! Balance changes (events) are not stored (since format version 5): one evaluation
//! changes the reputation of every earlier aligned evaluator, hundreds of events, which made
//! them most of the bytes written. A block's events are recomputed on demand by executing it
//! again on the state before it (the nearest checkpoint, with the blocks after it
//! replayed): `store/effects.rs`. What is stored is which blocks changed a member's
//! balances, and how many times, so history pages find them without a scan and a
//! recomputation that disagrees is reported, never served.
//!
//! Within a block, lines are ordered by `(tx index, n)`, where `n` is 0 when the
//! transaction created the member's account, 1 for the member's own transaction, `2 + i`
//! for event `i` of the transaction (contributions: always 0). Lines of the block's start
//! (settlements) have tx index [`START_LINES`] and `n` = their order.
//!
//! [`BlockHeader`]: pov_protocol::block::BlockHeader
//! [`Certificate`]: pov_protocol::block::Certificate
//! [`Transaction`]: pov_protocol::Transaction
//! [`BlockEvent`]: pov_protocol::BlockEvent
//! [`State`]: pov_protocol::State

use pov_crypto::{Address, Hash};
use pov_protocol::governance::GovernanceState;
use pov_protocol::params::Params;
use pov_protocol::{Amount, ContributionId, EvalValue, Event, MemberId};
use serde::{Deserialize, Serialize};

/// Version of this layout. Bumped on any incompatible change, so an old binary refuses a
/// newer database instead of misreading it.
///
/// 3: sealed evaluations (protocol 1.2): history lines of a block's start, commitments and
/// reveals. 4: the state's chain-wide entry holds the genesis hash (protocol 1.2.1). 5: events
/// are no longer stored (recomputed from the blocks), [`TxRecord`] lost its events and a
/// member's history record became a [`MemberBlock`].
pub const FORMAT_VERSION: u32 = 5;

/// By default a checkpoint of the whole state is written with every block whose height is a
/// multiple of this, so the state after any past block is rebuilt by replaying fewer blocks
/// than this from the nearest checkpoint (reputation proofs of past heights:
/// `docs/reputation-proofs.md`). [`crate::OpenOptions::checkpoint_interval`] changes it.
pub const CHECKPOINT_INTERVAL: u64 = 1000;

/// By default a checkpoint is also written once this many transactions were committed since
/// the last one (and with the first block after the store is opened), so recomputing a past
/// block's events replays at most about this many transactions, however full the blocks.
/// [`crate::OpenOptions::checkpoint_txs`] changes it.
pub const CHECKPOINT_TXS: u64 = 20_000;

/// Keys of the `meta` tree.
pub mod meta {
    /// The layout version.
    pub const VERSION: &[u8] = b"version";
    /// The genesis hash the database was created for.
    pub const GENESIS: &[u8] = b"genesis";
    /// The head of the chain.
    pub const HEAD: &[u8] = b"head";
}

/// Key prefixes and key builders of the `chain` tree.
pub mod chain {
    use pov_crypto::Hash;

    /// Block headers by height.
    pub const HEADER: u8 = b'h';
    /// Commit certificates by height.
    pub const CERTIFICATE: u8 = b'c';
    /// What the start of a block did, by height.
    pub const START: u8 = b's';
    /// State checkpoints by height.
    pub const CHECKPOINT: u8 = b'k';
    /// Transactions by height and position.
    pub const TX: u8 = b't';
    /// Block hash to height.
    pub const BLOCK_HASH: u8 = b'n';
    /// Transaction hash to its record.
    pub const TX_HASH: u8 = b'x';
    /// Evidence of misbehaviour, one record per offence.
    pub const EVIDENCE: u8 = b'e';

    /// `h ‖ height`.
    pub fn header(height: u64) -> Vec<u8> {
        super::key(HEADER, &[&height.to_be_bytes()])
    }

    /// `c ‖ height`.
    pub fn certificate(height: u64) -> Vec<u8> {
        super::key(CERTIFICATE, &[&height.to_be_bytes()])
    }

    /// `k ‖ height`.
    pub fn checkpoint(height: u64) -> Vec<u8> {
        super::key(CHECKPOINT, &[&height.to_be_bytes()])
    }

    /// `s ‖ height`.
    pub fn start(height: u64) -> Vec<u8> {
        super::key(START, &[&height.to_be_bytes()])
    }

    /// `t ‖ height ‖ index`.
    pub fn tx(height: u64, index: u32) -> Vec<u8> {
        super::key(TX, &[&height.to_be_bytes(), &index.to_be_bytes()])
    }

    /// `t ‖ height`: the prefix of a block's transactions.
    pub fn txs_of(height: u64) -> Vec<u8> {
        super::key(TX, &[&height.to_be_bytes()])
    }

    /// `n ‖ block hash`.
    pub fn block_hash(hash: &Hash) -> Vec<u8> {
        super::key(BLOCK_HASH, &[hash.as_bytes()])
    }

    /// `x ‖ tx hash`.
    pub fn tx_hash(hash: &Hash) -> Vec<u8> {
        super::key(TX_HASH, &[hash.as_bytes()])
    }

    /// `e ‖ height ‖ round ‖ offence ‖ offender`: one key per offence, so that the same
    /// misbehaviour reported by many peers (or with other message pairs) is kept once, in
    /// height order. Offence: 0 a double proposal, 1 a double prevote, 2 a double precommit.
    pub fn evidence(
        height: u64,
        round: u32,
        offence: u8,
        offender: &pov_crypto::Address,
    ) -> Vec<u8> {
        super::key(
            EVIDENCE,
            &[
                &height.to_be_bytes(),
                &round.to_be_bytes(),
                &[offence],
                offender.as_bytes(),
            ],
        )
    }
}

/// Key prefixes and key builders of the `state` tree.
pub mod state {
    /// The chain-wide record.
    pub const GLOBAL: &[u8] = b"g";
    /// Members by id.
    pub const MEMBER: u8 = b'm';
    /// Contributions by id.
    pub const CONTRIBUTION: u8 = b'c';

    /// `m ‖ id`.
    pub fn member(id: u32) -> Vec<u8> {
        super::key(MEMBER, &[&id.to_be_bytes()])
    }

    /// `c ‖ id`.
    pub fn contribution(id: u64) -> Vec<u8> {
        super::key(CONTRIBUTION, &[&id.to_be_bytes()])
    }
}

/// Key prefixes and key builders of the `history` tree.
pub mod history {
    /// A member's activity.
    pub const MEMBER: u8 = b'm';
    /// A contribution's activity.
    pub const CONTRIBUTION: u8 = b'c';

    /// `m ‖ member ‖ height`.
    pub fn member(member: u32, height: u64) -> Vec<u8> {
        super::key(MEMBER, &[&member.to_be_bytes(), &height.to_be_bytes()])
    }

    /// `m ‖ member`: the prefix of all of a member's activity.
    pub fn member_prefix(member: u32) -> Vec<u8> {
        super::key(MEMBER, &[&member.to_be_bytes()])
    }

    /// `c ‖ contribution ‖ height`.
    pub fn contribution(contribution: u64, height: u64) -> Vec<u8> {
        super::key(
            CONTRIBUTION,
            &[&contribution.to_be_bytes(), &height.to_be_bytes()],
        )
    }

    /// `c ‖ contribution`: the prefix of all of a contribution's activity.
    pub fn contribution_prefix(contribution: u64) -> Vec<u8> {
        super::key(CONTRIBUTION, &[&contribution.to_be_bytes()])
    }

    /// The height at the end of a history key.
    pub fn height(key: &[u8]) -> Option<u64> {
        let tail = key.len().checked_sub(8).map(|at| &key[at..])?;
        Some(u64::from_be_bytes(tail.try_into().ok()?))
    }
}

fn key(prefix: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
    out.push(prefix);
    for part in parts {
        out.extend_from_slice(part);
    }
    out
}

/// The head of the stored chain: the last finalized block and the state after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Its height.
    pub height: u64,
    /// Its hash.
    pub hash: Hash,
    /// The state root after it (equal to its header's `state_root`).
    pub state_root: Hash,
    /// Its time, in milliseconds (the next block's lower bound).
    pub time_ms: u64,
}

/// Where a transaction is.
///
/// A finalized block holds only transactions that applied (spec section 5: a failing
/// transaction makes its block invalid, and such a block is refused by
/// [`crate::Store::commit`] with the transaction's index, hash and error), so every
/// transaction found here applied; its events are recomputed from its block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxRecord {
    /// The block's height.
    pub height: u64,
    /// The transaction's position in the block.
    pub index: u32,
}

/// The chain-wide part of the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalRecord {
    /// The cooperative.
    pub chain_id: String,
    /// The hash of its genesis (what transactions sign besides the chain id).
    pub genesis_hash: Hash,
    /// Its parameters.
    pub params: Params,
    /// The height of the last block applied.
    pub height: u64,
    /// `R`, the total reputation.
    pub total_reputation: Amount,
    /// The token supply.
    pub total_tokens: Amount,
    /// Passed proposals waiting for the next block, and parameter provenance.
    pub governance: GovernanceState,
}

/// One line of history inside a block's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line<T> {
    /// The transaction's position in the block.
    pub tx_index: u32,
    /// The line's order within the transaction (see the module docs).
    pub n: u32,
    /// What happened.
    pub activity: T,
}

/// The transaction index of history lines made by a block's start (settlements of sealed
/// contributions, protocol 1.2): they ran before the block's transactions but sort after
/// them, so that every position stays unique and ordered; `n` counts them.
pub const START_LINES: u32 = u32::MAX;

/// All of one member's (or contribution's) history lines in one block, in order.
pub type BlockLines<T> = Vec<Line<T>>;

/// A member's stored history in one block: its own lines ([`MemberActivity::Sent`] and
/// [`MemberActivity::Joined`]), and the number of its balance changes in the block, whose
/// [`MemberActivity::Balance`] lines are recomputed from the block when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberBlock {
    /// The member's own lines, in order.
    pub lines: BlockLines<MemberActivity>,
    /// How many of the block's events changed one of the member's balances.
    pub balance_changes: u32,
}

/// What a transaction did, in a member's or contribution's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Submitted a contribution (which got this id).
    Contributed {
        /// The new contribution.
        contribution: ContributionId,
    },
    /// Evaluated a contribution.
    Evaluated {
        /// The contribution.
        contribution: ContributionId,
        /// The value given.
        value: EvalValue,
    },
    /// Sent tokens.
    Transferred {
        /// The recipient.
        to: Address,
        /// How many.
        amount: Amount,
    },
    /// Admitted a new member.
    Admitted {
        /// The newcomer.
        member: Address,
    },
    /// Proposed parameter changes (a proposal, which got this contribution id).
    Proposed {
        /// The new proposal.
        contribution: ContributionId,
    },
    /// Committed a hidden value on a sealed contribution (protocol 1.2).
    Committed {
        /// The contribution.
        contribution: ContributionId,
    },
    /// Revealed its commitment on a sealed contribution (the value is kept out of the
    /// history: the API shows values only after settlement).
    Revealed {
        /// The contribution.
        contribution: ContributionId,
    },
}

/// One line of a member's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberActivity {
    /// The member's own transaction.
    Sent {
        /// Its hash.
        tx: Hash,
        /// What it did.
        action: Action,
    },
    /// The member's account was created by this transaction.
    Joined {
        /// The transaction that created it.
        tx: Hash,
        /// Who admitted it, if anyone.
        referrer: Option<MemberId>,
    },
    /// One of the member's balances changed (recomputed from the block, never stored).
    Balance {
        /// The change, with the rule that made it.
        event: Event,
        /// The balance of that asset right after the change ("reputation over time").
        balance_after: Amount,
    },
}

/// One line of a contribution's history: its submission and every evaluation, including
/// those a re-vote later replaced (the contribution itself holds only the live ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContributionActivity {
    /// The contribution was submitted.
    Submitted {
        /// By whom.
        contributor: MemberId,
        /// The transaction.
        tx: Hash,
    },
    /// A member evaluated it.
    Evaluated {
        /// The evaluator.
        evaluator: MemberId,
        /// The value.
        value: EvalValue,
        /// The transaction.
        tx: Hash,
    },
    /// A member committed a hidden value (sealed types, protocol 1.2).
    Committed {
        /// The member.
        member: MemberId,
        /// The transaction.
        tx: Hash,
    },
    /// A member revealed its commitment (the value is not kept here; it is in the
    /// contribution's state, shown after settlement).
    Revealed {
        /// The member.
        member: MemberId,
        /// The transaction.
        tx: Hash,
    },
    /// The contribution settled at the start of the block and closed (sealed types).
    Settled {
        /// Live commitments.
        committed: u64,
        /// Revealed ones, processed in commitment order.
        revealed: u64,
        /// Unrevealed ones, whose stakes stay burned.
        forfeited: u64,
    },
}
