//! The consensus host: everything a node does around the pure engine, as a synchronous
//! state machine that a driver feeds [`Input`]s and whose [`Output`]s it carries out.
//!
//! The host owns the engine ([`pov_consensus::Consensus`]), the consensus log, the blocks
//! of the current height and the block-sync client; it reads and writes the store and the
//! mempool through [`Shared`]. It never reads a clock (the driver passes `now_ms` with every
//! input), never waits, and never touches a socket or a runtime: the production driver
//! ([`crate::service`]) translates tokio timers and libp2p events into inputs, and a
//! simulation can drive several hosts in one thread, deterministically. The store and the
//! consensus log stay synchronous I/O: a host returns from an input only once what it had
//! to persist is durable.
//!
//! One file per job:
//! - `effects.rs`: carrying out the engine's effects, in order (persist before send).
//! - `blocks.rs`: the block host: build a proposal's block, check a proposed block (with a
//!   verdict cache, so a re-broadcast proposal is executed once), commit a decided block.
//! - `gossip.rs`: checks on gossip (transactions, proposals, votes) and their verdicts.
//! - `evidence.rs`: evidence of misbehaviour, stored and gossiped.
//! - `witness.rs`: the first message of each slot seen at recent heights, to catch
//!   equivocation that shows only after a height is decided.
//! - `sync_client.rs`: catching up from peers (status, then batches of certified blocks).
//! - `sync_server.rs`: answering peers' sync requests from the store (a pure function of
//!   the store, so it can move off the consensus loop).
//!
//! Periodic work (re-broadcast of own messages, sync polling, transaction re-gossip) is
//! scheduled by the host itself as [`Timer`]s, so a driver only has to run timers.

mod blocks;
mod effects;
mod evidence;
mod gossip;
mod sync_client;
pub mod sync_server;
mod witness;

use std::fmt::Debug;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use pov_consensus::{
    Consensus, ConsensusConfig, ConsensusError, Timeout, TimeoutConfig, TimeoutParams,
};
use pov_crypto::{Address, Keypair};
use thiserror::Error;

use crate::config::NodeConfig;
use crate::network::{Topic, Verdict};
use crate::shared::{read, Shared};
use crate::wal::{ConsensusLog, WalError};
use crate::wire::{ConsensusMessage, SyncRequest, SyncResponse};

use blocks::BlockHost;
pub use blocks::{MAX_BLOCKS_KEPT, MAX_CLOCK_DRIFT_MS, MAX_ROUNDS_AHEAD};
pub use evidence::EVIDENCE_REGOSSIP_HEIGHTS;
use sync_client::SyncClient;
use witness::Witness;

/// How often the engine's own messages of the height are sent again (the paper assumes
/// reliable delivery; a real network drops messages and partitions heal).
pub const REBROADCAST_EVERY_MS: u64 = 2_000;
/// How often the node asks a peer whether it is behind.
pub const SYNC_EVERY_MS: u64 = 1_000;
/// How often pending transactions are gossiped again (a peer may have missed them, or
/// received a later nonce first).
pub const REGOSSIP_EVERY_MS: u64 = 15_000;

/// Why the node stopped with an error.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The consensus log failed: continuing could make this validator sign twice.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// The store failed to commit a decided block.
    #[error(transparent)]
    Storage(#[from] pov_storage::StoreError),
    /// The consensus engine refused its input.
    #[error(transparent)]
    Consensus(#[from] ConsensusError),
}

/// What the host needs from the node's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostConfig {
    /// The engine's timeouts and limits.
    pub consensus: ConsensusConfig,
    /// Pause after a block is final before the next height starts.
    pub block_time_ms: u64,
    /// Most transactions in a block this node proposes.
    pub max_block_txs: usize,
}

impl HostConfig {
    /// The host settings of a node config.
    pub fn from_node_config(config: &NodeConfig) -> HostConfig {
        let t = config.consensus;
        let params = |base_ms| TimeoutParams {
            base_ms,
            delta_ms: t.timeout_delta_ms,
        };
        HostConfig {
            consensus: ConsensusConfig {
                timeouts: TimeoutConfig {
                    propose: params(t.timeout_propose_ms),
                    prevote: params(t.timeout_prevote_ms),
                    precommit: params(t.timeout_precommit_ms),
                },
                ..ConsensusConfig::default()
            },
            block_time_ms: t.block_time_ms,
            max_block_txs: config.mempool.max_block_txs,
        }
    }
}

/// A timer the host asked for with [`Output::Schedule`]; the driver hands it back as
/// [`Input::Timer`] when it fires. Timers are never cancelled: the host ignores the ones
/// that no longer apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// One of the engine's timeouts.
    Consensus(Timeout),
    /// Start the given height (after `block_time_ms`, once its parent is final).
    StartHeight(u64),
    /// Re-send this node's consensus messages of the height.
    Rebroadcast,
    /// Ask a peer whether this node is behind.
    SyncPoll,
    /// Gossip pending transactions again.
    Regossip,
}

/// Something that happened to the node, for the host to act on. `P` names a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input<P> {
    /// A gossip message (its bytes, exactly as published). The host answers with exactly
    /// one [`Output::Verdict`], first.
    Gossip {
        /// The channel it came on.
        topic: Topic,
        /// The payload.
        data: Vec<u8>,
    },
    /// A peer's sync request (its bytes). The host answers with exactly one
    /// [`Output::Reply`], first.
    SyncRequest {
        /// The request payload.
        data: Vec<u8>,
    },
    /// A peer of this chain connected.
    PeerUp(P),
    /// A peer disconnected.
    PeerDown(P),
    /// A timer from [`Output::Schedule`] fired.
    Timer(Timer),
    /// The answer to an [`Output::Request`] (`None`: it failed or timed out).
    SyncReply {
        /// The peer that was asked.
        peer: P,
        /// What it was asked.
        request: SyncRequest,
        /// Its answer.
        response: Option<SyncResponse>,
    },
}

/// Something the driver must do for the host, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the driver must carry out every output"]
pub enum Output<P> {
    /// The verdict on the gossip message just handed in (forward, drop, or drop and
    /// penalise the peer that relayed it).
    Verdict(Verdict),
    /// The answer to the sync request just handed in.
    Reply(SyncResponse),
    /// Gossip these bytes on `topic`.
    Publish {
        /// The channel.
        topic: Topic,
        /// The payload.
        data: Vec<u8>,
    },
    /// Disconnect `peer` and refuse it for a while: it sent what no honest node sends.
    Ban {
        /// The peer.
        peer: P,
        /// What it did, for the log.
        reason: String,
    },
    /// Send a sync request to `peer`, and hand its answer back as [`Input::SyncReply`].
    Request {
        /// The peer to ask.
        peer: P,
        /// The request.
        request: SyncRequest,
    },
    /// Hand `timer` back as [`Input::Timer`] after `after_ms` milliseconds.
    Schedule {
        /// The timer.
        timer: Timer,
        /// Delay in milliseconds.
        after_ms: u64,
    },
}

/// The consensus host of one node (see the module documentation).
pub struct Host<P> {
    shared: Arc<Shared>,
    consensus: Consensus,
    log: Box<dyn ConsensusLog>,
    /// This node's validator address (`None` for a full node).
    validator: Option<Address>,
    blocks: BlockHost,
    sync: SyncClient<P>,
    config: HostConfig,
    /// Nonce of the last gossip envelope sent (seeded with the start time, so a restarted
    /// node's envelopes are new to gossipsub's duplicate cache).
    gossip_nonce: u64,
    /// The time of the input being handled.
    now_ms: u64,
    /// The (height, round) the engine was last seen in, and when it entered that height
    /// (for the round and height metrics).
    last_round: (u64, u32),
    height_started_ms: u64,
    /// Outputs of the input being handled.
    out: Vec<Output<P>>,
    /// Nothing this validator signs at this height or below leaves the process (see
    /// [`Host::sign_nothing_through`]); 0 for none.
    silent_through: u64,
    /// Validators' messages of recent heights, to catch equivocation after a decision.
    witness: Witness,
}

impl<P: Clone + Ord + Debug> Host<P> {
    /// A host for the node whose shared state is `shared`. `keypair` is the validator key
    /// (`None` for a full node); `log` is its consensus log. Call [`Host::start`] next.
    pub fn new(
        shared: Arc<Shared>,
        keypair: Option<Keypair>,
        log: Box<dyn ConsensusLog>,
        config: HostConfig,
    ) -> Host<P> {
        let validators = read(&shared.store).validators().clone();
        // A full node runs the engine with a throwaway key: as a non-validator it only
        // observes, and decides when the validators do. The key never signs; a fresh one
        // (rather than a fixed, public one) cannot be named in a genesis.
        let signer = keypair.clone().unwrap_or_else(Keypair::generate);
        let consensus = Consensus::new(config.consensus, validators, signer);
        Host {
            shared,
            consensus,
            log,
            validator: keypair.as_ref().map(Keypair::address),
            blocks: BlockHost::default(),
            sync: SyncClient::default(),
            config,
            gossip_nonce: 0,
            now_ms: 0,
            last_round: (0, 0),
            height_started_ms: 0,
            out: Vec::new(),
            silent_through: 0,
            witness: Witness::default(),
        }
    }

    /// Keeps every message this validator signs at `height` or below inside the process:
    /// neither logged nor sent, and no block built for them. For a validator whose damaged
    /// consensus log was moved aside ([`crate::wal::damaged_height`] of it): its votes of that
    /// height are lost, so any vote it signed there again could contradict one it sent
    /// before. It still follows those heights (their decisions need no vote of its own) and
    /// catches up from its peers.
    pub fn sign_nothing_through(&mut self, height: u64) {
        if height > 0 {
            tracing::warn!(
                height,
                "a damaged consensus log was moved aside: this validator signs nothing at this \
                 height or below"
            );
        }
        self.silent_through = height;
    }

    /// Enters consensus at the height after the stored head, restoring this validator's
    /// own messages from `records` (what its consensus log held at start), and schedules
    /// the periodic timers.
    pub fn start(
        &mut self,
        now_ms: u64,
        records: Vec<ConsensusMessage>,
    ) -> Result<Vec<Output<P>>, NodeError> {
        self.now_ms = now_ms;
        self.gossip_nonce = now_ms;
        let height = read(&self.shared.store).height() + 1;
        // Only this validator's own messages restore its votes; a home whose key changed
        // (or a validator turned full node) must not feed foreign ones to the engine as its
        // own. Others' prevotes in the log are the POL behind a lock (see `log_lock`): they
        // go to the engine as if they had just arrived.
        let mut own = Vec::new();
        let mut others = Vec::new();
        for record in &records {
            if let ConsensusMessage::Proposal(p) = record {
                self.blocks.remember(p.block.clone());
                if Some(p.proposal.proposal.proposer) == self.validator {
                    self.blocks.mark_logged(&p.proposal);
                }
            }
            match record.to_engine() {
                Some(message) if message.height() != height => {}
                Some(message) if Some(message.signer()) == self.validator => own.push(message),
                Some(pov_consensus::Message::Vote(vote)) => others.push(vote),
                _ => {}
            }
        }
        let effects = if own.is_empty() {
            self.consensus.start_height(height)?
        } else {
            tracing::info!(
                height,
                messages = own.len(),
                "restoring this validator's votes from the consensus log"
            );
            self.consensus.restore_height(height, own)?
        };
        for (timer, after_ms) in [
            (Timer::Rebroadcast, REBROADCAST_EVERY_MS),
            (Timer::SyncPoll, SYNC_EVERY_MS),
            (Timer::Regossip, REGOSSIP_EVERY_MS),
        ] {
            self.schedule(timer, after_ms);
        }
        self.carry_out(effects)?;
        for vote in others {
            if self.consensus.validators().contains(&vote.vote.validator) && vote.verify().is_ok() {
                let effects = self.consensus.handle(pov_consensus::Input::Vote(vote));
                self.carry_out(effects)?;
            }
        }
        // A validator that restarted locked on a block someone else built does not have it
        // (only its own proposals' blocks are in its log): fetch it, so that it can
        // re-propose it and commit it.
        let needed: Vec<pov_crypto::Hash> = self
            .consensus
            .locked()
            .into_iter()
            .chain(self.consensus.valid_value())
            .map(|v| v.value)
            .collect();
        for hash in needed {
            self.want_block(hash);
        }
        Ok(std::mem::take(&mut self.out))
    }

    /// Handles one input at time `now_ms`; returns what the driver must do, in order.
    ///
    /// An error is fatal: the consensus log or the store failed, and the node must stop
    /// (continuing could sign twice or serve state that is not on disk).
    pub fn handle(&mut self, now_ms: u64, input: Input<P>) -> Result<Vec<Output<P>>, NodeError> {
        self.now_ms = now_ms;
        self.out.clear();
        match input {
            Input::Gossip {
                topic: Topic::Transactions,
                data,
            } => {
                let verdict = self.on_gossip_tx(&data);
                self.shared.metrics.gossip_tx(match verdict {
                    Verdict::Accept => "accepted",
                    Verdict::Reject => "rejected",
                    Verdict::Ignore => "ignored",
                });
                self.out.push(Output::Verdict(verdict));
            }
            Input::Gossip {
                topic: Topic::Consensus,
                data,
            } => {
                let (verdict, effects) = self.on_gossip_consensus(&data)?;
                // First, before what checking it published (evidence it proved).
                self.out.insert(0, Output::Verdict(verdict));
                self.carry_out(effects)?;
            }
            Input::SyncRequest { data } => {
                let response = {
                    let store = read(&self.shared.store);
                    let proposed = |hash: &pov_crypto::Hash| self.blocks.get(hash).cloned();
                    sync_server::answer(&store, self.shared.genesis_hash, &data, &proposed)
                };
                self.out.push(Output::Reply(response));
            }
            Input::PeerUp(peer) => {
                self.sync.peers.insert(peer.clone());
                let peers = self.sync.peers.len();
                self.shared.peers.store(peers, Ordering::Relaxed);
                tracing::info!(?peer, peers, "peer connected");
                self.regossip();
            }
            Input::PeerDown(peer) => {
                self.sync.peers.remove(&peer);
                let peers = self.sync.peers.len();
                self.shared.peers.store(peers, Ordering::Relaxed);
                tracing::info!(?peer, peers, "peer disconnected");
            }
            Input::Timer(timer) => self.on_timer(timer)?,
            Input::SyncReply {
                peer,
                request,
                response,
            } => match request {
                SyncRequest::Block { hash } => self.on_fetch_reply(peer, hash, response)?,
                _ => self.on_sync_reply(peer, response)?,
            },
        }
        Ok(std::mem::take(&mut self.out))
    }

    /// The engine (for inspection: height, round, lock).
    pub fn consensus(&self) -> &Consensus {
        &self.consensus
    }

    /// The height of the peer this node is syncing from, while it is behind.
    pub fn sync_target(&self) -> Option<u64> {
        self.sync.target
    }

    fn on_timer(&mut self, timer: Timer) -> Result<(), NodeError> {
        match timer {
            Timer::Consensus(timeout) => {
                let effects = self
                    .consensus
                    .handle(pov_consensus::Input::Timeout(timeout));
                self.carry_out(effects)
            }
            Timer::StartHeight(height) => self.enter_height(height),
            Timer::Rebroadcast => {
                self.schedule(Timer::Rebroadcast, REBROADCAST_EVERY_MS);
                let effects = self.consensus.rebroadcast();
                self.regossip_evidence();
                self.carry_out(effects)
            }
            Timer::SyncPoll => {
                self.schedule(Timer::SyncPoll, SYNC_EVERY_MS);
                self.expire_sync_requests();
                self.start_sync();
                self.start_fetch();
                Ok(())
            }
            Timer::Regossip => {
                self.schedule(Timer::Regossip, REGOSSIP_EVERY_MS);
                self.regossip();
                Ok(())
            }
        }
    }

    /// Starts consensus at `height` if the store is at `height - 1` and the engine is behind.
    fn enter_height(&mut self, height: u64) -> Result<(), NodeError> {
        let stored = read(&self.shared.store).height();
        if stored + 1 != height || self.consensus.height() >= height {
            return Ok(());
        }
        self.blocks.keep_from(height);
        self.witness
            .keep_from(height.saturating_sub(evidence::EVIDENCE_REGOSSIP_HEIGHTS));
        let effects = self.consensus.start_height(height)?;
        self.carry_out(effects)
    }

    fn schedule(&mut self, timer: Timer, after_ms: u64) {
        self.out.push(Output::Schedule { timer, after_ms });
    }

    /// Gossips a consensus message in a fresh envelope.
    fn publish_consensus(&mut self, message: ConsensusMessage) {
        // A fresh nonce makes every send a distinct gossip message, so re-broadcasts are not
        // swallowed by gossipsub's duplicate cache; the engine ignores repeated votes.
        self.gossip_nonce += 1;
        let envelope = crate::wire::Envelope {
            message,
            nonce: self.gossip_nonce,
        };
        self.out.push(Output::Publish {
            topic: Topic::Consensus,
            data: envelope.to_bytes(),
        });
    }

    /// Gossips pending transactions again (they may have been missed, or arrived at a
    /// peer after a later nonce of the same sender).
    fn regossip(&mut self) {
        let txs = crate::shared::lock(&self.shared.mempool).reap(gossip::REGOSSIP_MAX);
        for chunk in txs.chunks(crate::wire::MAX_GOSSIP_TXS) {
            self.gossip_nonce += 1;
            let envelope = crate::wire::TxEnvelope {
                txs: chunk.to_vec(),
                nonce: self.gossip_nonce,
            };
            self.out.push(Output::Publish {
                topic: Topic::Transactions,
                data: envelope.to_bytes(),
            });
        }
    }
}
