//! Blocks, their headers and commit certificates (spec section 6).
//!
//! A block is final when a [`Certificate`] carries precommit signatures over
//! `(chain, height, round, block hash)` from validators holding more than 2/3 of the voting
//! power. This module checks a block against its parent and executes it against a state;
//! ordering blocks is the job of `pov-consensus`. The validator set lives in [`crate::validators`]
//! (re-exported here).

use std::collections::BTreeSet;

use pov_crypto::{Address, Hash, Signature, SignatureError};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::codec;
use crate::error::TxError;
use crate::events::{BlockEvent, Event};
use crate::state::State;
use crate::tx::Transaction;
pub use crate::validators::{Validator, ValidatorSet};

/// Prefix of the bytes a validator signs for a consensus vote.
pub const VOTE_DOMAIN: &[u8] = b"pov/vote/v1";
/// The kind byte of a prevote in [`vote_sign_bytes`].
pub const PREVOTE: u8 = 1;
/// The kind byte of a precommit in [`vote_sign_bytes`].
pub const PRECOMMIT: u8 = 2;

/// Most transactions in one block (protocol 1.2.1; the spec sets no limit). A block is
/// checked, executed and stored whole, and every node must do so within a block interval:
/// without a bound, one proposer could make a block no node can finish in time.
pub const MAX_BLOCK_TXS: usize = 5_000;

/// Most bytes in one block: its canonical encoding, header and transactions (protocol
/// 1.2.1). 4 MiB keeps a proposal with its block, and a sync answer of one block with its
/// certificate, far under the 16 MiB a node accepts in one network message, so every valid
/// block can always be gossiped and synced.
pub const MAX_BLOCK_BYTES: usize = 4 * 1024 * 1024;

/// A block header: what validators sign (through its hash) and light clients follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    /// The cooperative.
    pub chain_id: String,
    /// 1 for the first block after genesis.
    pub height: u64,
    /// The parent's hash (the genesis hash for height 1).
    pub prev_hash: Hash,
    /// Proposer's clock in milliseconds since the Unix epoch; never below the parent's.
    pub time_ms: u64,
    /// The validator that proposed it.
    pub proposer: Address,
    /// Merkle root of the transaction hashes.
    pub tx_root: Hash,
    /// State root after applying the block.
    pub state_root: Hash,
    /// Hash of the validator set that finalizes it.
    pub validator_set_hash: Hash,
}

impl BlockHeader {
    /// The block's hash: blake3 of the header's canonical bytes.
    pub fn hash(&self) -> Hash {
        pov_crypto::hash(&codec::encode(self))
    }
}

/// A block: a header and its transactions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The transactions, applied in order.
    pub txs: Vec<Transaction>,
}

impl Block {
    /// Assembles the block on `parent` that holds `txs`, proposed by `proposer` for the
    /// validator set `validators`, given `after`: the state after executing `txs` on the
    /// parent's state (it gives the chain id and the state root).
    ///
    /// The one place a header is filled in, so that a node's proposals and the chains tests
    /// build cannot differ in a field: the time is `time_ms` raised to the parent's (a
    /// header's time never goes backwards, spec section 6), the tx root is computed here.
    pub fn assemble(
        after: &State,
        parent: &Parent,
        validators: &ValidatorSet,
        proposer: Address,
        time_ms: u64,
        txs: Vec<Transaction>,
    ) -> Block {
        let header = BlockHeader {
            chain_id: after.chain_id().to_string(),
            height: parent.height + 1,
            prev_hash: parent.hash,
            time_ms: time_ms.max(parent.time_ms),
            proposer,
            tx_root: tx_root(&txs),
            state_root: after.state_root(),
            validator_set_hash: validators.hash(),
        };
        Block { header, txs }
    }

    /// The block's hash (its header's).
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }
}

/// The Merkle root of a list of transactions.
pub fn tx_root(txs: &[Transaction]) -> Hash {
    let leaves: Vec<Hash> = txs
        .iter()
        .map(|tx| crate::merkle::leaf_hash(tx.hash().as_bytes()))
        .collect();
    crate::merkle::root(&leaves)
}

/// One validator's precommit signature inside a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSig {
    /// The validator.
    pub validator: Address,
    /// Its signature over [`precommit_sign_bytes`].
    pub signature: Signature,
}

/// Proof that a block is final: precommits of more than 2/3 of the power.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// The block's height.
    pub height: u64,
    /// The consensus round that decided it.
    pub round: u32,
    /// The block's hash.
    pub block_hash: Hash,
    /// The precommits.
    pub signatures: Vec<CommitSig>,
}

/// The bytes a validator signs for a consensus vote: the one layout shared by the consensus
/// engine (which signs) and certificate checks (which verify).
///
/// Layout: `"pov/vote/v1"`, kind ([`PREVOTE`] or [`PRECOMMIT`]), height (u64 big-endian),
/// round (u32 big-endian), 0 for nil or 1 for a value, the value (32 zero bytes for nil),
/// the validator's address. A vote for a block is bound to its chain through the block
/// hash, whose header holds the chain id; a nil vote is not, so a validator key must serve
/// one cooperative only (docs/consensus.md).
pub fn vote_sign_bytes(
    kind: u8,
    height: u64,
    round: u32,
    value: Option<&Hash>,
    validator: &Address,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(VOTE_DOMAIN.len() + 1 + 8 + 4 + 1 + 32 + 32);
    out.extend_from_slice(VOTE_DOMAIN);
    out.push(kind);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&round.to_be_bytes());
    match value {
        Some(hash) => {
            out.push(1);
            out.extend_from_slice(hash.as_bytes());
        }
        None => {
            out.push(0);
            out.extend_from_slice(Hash::ZERO.as_bytes());
        }
    }
    out.extend_from_slice(validator.as_bytes());
    out
}

/// The bytes `validator` signs to precommit `block_hash` at `height` and `round`.
pub fn precommit_sign_bytes(
    height: u64,
    round: u32,
    block_hash: &Hash,
    validator: &Address,
) -> Vec<u8> {
    vote_sign_bytes(PRECOMMIT, height, round, Some(block_hash), validator)
}

/// Why a certificate does not prove finality.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CertificateError {
    /// It certifies another block or height.
    #[error("certificate is for height {got_height} block {got_hash}, expected height {height} block {hash}")]
    WrongBlock {
        /// Expected height.
        height: u64,
        /// Expected block hash.
        hash: Hash,
        /// Certified height.
        got_height: u64,
        /// Certified block hash.
        got_hash: Hash,
    },
    /// A signer is not a validator.
    #[error("certificate signer {0} is not a validator")]
    UnknownValidator(Address),
    /// A validator signed twice.
    #[error("validator {0} appears twice in the certificate")]
    Duplicate(Address),
    /// A signature does not verify.
    #[error("certificate signature of {0} does not verify")]
    BadSignature(Address),
    /// The signers hold 2/3 of the power or less.
    #[error("certificate power {got} of {total} is not more than 2/3")]
    NoQuorum {
        /// Power of valid signers.
        got: u64,
        /// Total power.
        total: u64,
    },
}

impl Certificate {
    /// Checks every signature and the quorum for `block_hash` at `height`.
    pub fn verify(
        &self,
        validators: &ValidatorSet,
        height: u64,
        block_hash: &Hash,
    ) -> Result<(), CertificateError> {
        self.verify_with(validators, height, block_hash, |sig, message| {
            sig.signature.verify(&sig.validator, message)
        })
    }

    /// Like [`Certificate::verify`], with the signature check supplied by the caller: for
    /// hosts that already verified some of these precommits when they arrived as gossip and
    /// cache the result (spec section 7 allows it), and for simulations that check by
    /// re-signing with known keys. `check_signature` gets each signature with the exact
    /// bytes it must cover.
    ///
    /// The one certificate rule of the node: storage, block sync, the engine's tests and
    /// offline verifiers all come here, and the quorum is [`ValidatorSet::is_quorum`].
    pub fn verify_with<F>(
        &self,
        validators: &ValidatorSet,
        height: u64,
        block_hash: &Hash,
        mut check_signature: F,
    ) -> Result<(), CertificateError>
    where
        F: FnMut(&CommitSig, &[u8]) -> Result<(), SignatureError>,
    {
        if self.height != height || self.block_hash != *block_hash {
            return Err(CertificateError::WrongBlock {
                height,
                hash: *block_hash,
                got_height: self.height,
                got_hash: self.block_hash,
            });
        }
        let mut seen = BTreeSet::new();
        let mut power = 0u64;
        for sig in &self.signatures {
            let p = validators
                .power_of(&sig.validator)
                .ok_or(CertificateError::UnknownValidator(sig.validator))?;
            if !seen.insert(sig.validator) {
                return Err(CertificateError::Duplicate(sig.validator));
            }
            let message =
                precommit_sign_bytes(self.height, self.round, &self.block_hash, &sig.validator);
            check_signature(sig, &message)
                .map_err(|_| CertificateError::BadSignature(sig.validator))?;
            // Distinct validators of one set: the sum is at most the set's total, which
            // fits in a u64.
            power += p;
        }
        if !validators.is_quorum(power) {
            return Err(CertificateError::NoQuorum {
                got: power,
                total: validators.total_power(),
            });
        }
        Ok(())
    }
}

/// What a block's parent fixes for it: height, hash and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parent {
    /// The parent's height (0 for genesis).
    pub height: u64,
    /// The parent's hash (the genesis hash for height 0).
    pub hash: Hash,
    /// The parent's time in milliseconds.
    pub time_ms: u64,
}

/// Why a block is not a valid successor of its parent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlockError {
    /// The header names another chain.
    #[error("block is for chain {got:?}, not {expected:?}")]
    WrongChain {
        /// This chain.
        expected: String,
        /// The header's chain.
        got: String,
    },
    /// Not the next height.
    #[error("block height {got} does not follow {parent}")]
    Height {
        /// Parent height.
        parent: u64,
        /// Header height.
        got: u64,
    },
    /// `prev_hash` is not the parent's hash.
    #[error("block's prev_hash {got} is not the parent's hash {expected}")]
    PrevHash {
        /// Parent hash.
        expected: Hash,
        /// Header's prev_hash.
        got: Hash,
    },
    /// Time went backwards.
    #[error("block time {got} ms is before its parent's {parent} ms")]
    Time {
        /// Parent time.
        parent: u64,
        /// Header time.
        got: u64,
    },
    /// The proposer is not a validator.
    #[error("proposer {0} is not a validator")]
    Proposer(Address),
    /// The header commits to another validator set.
    #[error("validator set hash {got} is not {expected}")]
    ValidatorSet {
        /// Our set's hash.
        expected: Hash,
        /// The header's.
        got: Hash,
    },
    /// More transactions than [`MAX_BLOCK_TXS`].
    #[error("block holds {count} transactions, more than the limit of {max}")]
    TooManyTxs {
        /// How many it holds.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Larger than [`MAX_BLOCK_BYTES`].
    #[error("block is {bytes} bytes, more than the limit of {max}")]
    TooLarge {
        /// Its canonical size (at least this much: counting stops past the limit).
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The header's tx root does not match its transactions.
    #[error("tx_root {got} does not match the transactions ({expected})")]
    TxRoot {
        /// Computed root.
        expected: Hash,
        /// Header's root.
        got: Hash,
    },
    /// A transaction failed: a block may only hold applicable transactions.
    #[error("transaction {index} ({hash}) is invalid: {error}")]
    Transaction {
        /// Its position in the block.
        index: usize,
        /// Its hash.
        hash: Hash,
        /// Why.
        error: TxError,
    },
    /// The state is not at the height before the block's.
    #[error("block {got} cannot start on a state at height {state}")]
    StateHeight {
        /// The state's height.
        state: u64,
        /// The block's height.
        got: u64,
    },
    /// The state root after execution differs from the header's.
    #[error("state root after execution is {computed}, header says {header}")]
    StateRoot {
        /// What this node computed.
        computed: Hash,
        /// What the header claims.
        header: Hash,
    },
}

/// The result of an applied block: what its start did, each transaction's events and the
/// new state root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutcome {
    /// What the start of the block did, before its transactions ([`State::begin_block`]).
    pub start: Vec<BlockEvent>,
    /// Events per transaction, in block order.
    pub events: Vec<Vec<Event>>,
    /// The state root after the block.
    pub state_root: Hash,
}

/// The size of the block of `header` and `txs` in canonical bytes.
pub fn block_size(header: &BlockHeader, txs: &[Transaction]) -> usize {
    let txs_bytes: usize = txs.iter().map(|tx| tx.to_bytes().len()).sum();
    codec::encode(header).len() + varint_len(txs.len()) + txs_bytes
}

/// Bytes of `n` as a postcard varint.
fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - n.leading_zeros();
    (bits as usize).div_ceil(7).max(1)
}

/// Checks a block's size against [`MAX_BLOCK_TXS`] and [`MAX_BLOCK_BYTES`], and its tx
/// root, encoding each transaction once. The count is checked before any work.
fn check_txs(header: &BlockHeader, txs: &[Transaction]) -> Result<(), BlockError> {
    if txs.len() > MAX_BLOCK_TXS {
        return Err(BlockError::TooManyTxs {
            count: txs.len(),
            max: MAX_BLOCK_TXS,
        });
    }
    let mut bytes = codec::encode(header).len() + varint_len(txs.len());
    let mut leaves = Vec::with_capacity(txs.len());
    for tx in txs {
        let encoded = tx.to_bytes();
        bytes += encoded.len();
        if bytes > MAX_BLOCK_BYTES {
            return Err(BlockError::TooLarge {
                bytes,
                max: MAX_BLOCK_BYTES,
            });
        }
        leaves.push(crate::merkle::leaf_hash(
            pov_crypto::hash(&encoded).as_bytes(),
        ));
    }
    let root = crate::merkle::root(&leaves);
    if header.tx_root != root {
        return Err(BlockError::TxRoot {
            expected: root,
            got: header.tx_root,
        });
    }
    Ok(())
}

/// Checks a header against its parent and the validator set, and the block's size limits
/// and tx root (not the clock: "not too far in the future" depends on the local clock and is
/// the node's check).
pub fn check_header(
    header: &BlockHeader,
    txs: &[Transaction],
    chain_id: &str,
    parent: &Parent,
    validators: &ValidatorSet,
) -> Result<(), BlockError> {
    if header.chain_id != chain_id {
        return Err(BlockError::WrongChain {
            expected: chain_id.to_string(),
            got: header.chain_id.clone(),
        });
    }
    if header.height != parent.height + 1 {
        return Err(BlockError::Height {
            parent: parent.height,
            got: header.height,
        });
    }
    if header.prev_hash != parent.hash {
        return Err(BlockError::PrevHash {
            expected: parent.hash,
            got: header.prev_hash,
        });
    }
    if header.time_ms < parent.time_ms {
        return Err(BlockError::Time {
            parent: parent.time_ms,
            got: header.time_ms,
        });
    }
    if validators.power_of(&header.proposer).is_none() {
        return Err(BlockError::Proposer(header.proposer));
    }
    let set_hash = validators.hash();
    if header.validator_set_hash != set_hash {
        return Err(BlockError::ValidatorSet {
            expected: set_hash,
            got: header.validator_set_hash,
        });
    }
    check_txs(header, txs)
}

impl State {
    /// Executes block `height` on this state (at `height - 1`): its start
    /// ([`State::begin_block`]), then its transactions in order. If any fails, the state is
    /// left exactly as it was and the error names the transaction.
    ///
    /// `verified` says whether a transaction's signature was already checked (the
    /// mempool's cache); others are verified here.
    pub fn execute_txs(
        &mut self,
        height: u64,
        txs: &[Transaction],
        verified: &dyn Fn(&Transaction) -> bool,
    ) -> Result<BlockOutcome, BlockError> {
        let backup = self.clone();
        let result = self.execute_unguarded(height, txs, verified);
        if result.is_err() {
            *self = backup;
        }
        result
    }

    /// Runs the block, leaving a partly applied state on failure (callers restore).
    fn execute_unguarded(
        &mut self,
        height: u64,
        txs: &[Transaction],
        verified: &dyn Fn(&Transaction) -> bool,
    ) -> Result<BlockOutcome, BlockError> {
        let start = self.begin_block(height)?;
        let mut events = Vec::with_capacity(txs.len());
        for (index, tx) in txs.iter().enumerate() {
            let result = if verified(tx) {
                self.apply_verified(tx)
            } else {
                self.apply(tx)
            };
            match result {
                Ok(e) => events.push(e),
                Err(error) => {
                    return Err(BlockError::Transaction {
                        index,
                        hash: tx.hash(),
                        error,
                    });
                }
            }
        }
        Ok(BlockOutcome {
            start,
            events,
            state_root: self.state_root(),
        })
    }

    /// Checks and applies a whole block: header against parent, transactions, and the
    /// state root the header claims. On any error the state is unchanged.
    pub fn apply_block(
        &mut self,
        block: &Block,
        parent: &Parent,
        validators: &ValidatorSet,
        verified: &dyn Fn(&Transaction) -> bool,
    ) -> Result<BlockOutcome, BlockError> {
        let (next, outcome) = self.after_block(block, parent, validators, verified)?;
        *self = next;
        Ok(outcome)
    }

    /// [`State::apply_block`] on a copy: the state after the block and what it did, with this
    /// state unchanged either way. A node checking a proposal keeps the result, so that the
    /// block is executed once whether it is then committed or not.
    pub fn after_block(
        &self,
        block: &Block,
        parent: &Parent,
        validators: &ValidatorSet,
        verified: &dyn Fn(&Transaction) -> bool,
    ) -> Result<(State, BlockOutcome), BlockError> {
        check_header(
            &block.header,
            &block.txs,
            self.chain_id(),
            parent,
            validators,
        )?;
        let mut next = self.clone();
        let outcome = next.execute_unguarded(block.header.height, &block.txs, verified)?;
        if outcome.state_root != block.header.state_root {
            return Err(BlockError::StateRoot {
                computed: outcome.state_root,
                header: block.header.state_root,
            });
        }
        Ok((next, outcome))
    }
}
