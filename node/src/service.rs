//! The node's event loop: one task that owns consensus, the consensus log and block
//! production, and turns network messages, timers and sync results into state changes.
//!
//! The path of a transaction: API or gossip -> [`Mempool`] (checked against the pending
//! state) -> gossip to peers -> the proposer's block ([`Service::build_block`]) -> consensus
//! (the pure engine in [`crate::consensus`]) -> `Decide` -> [`Store::commit`] (flushed before
//! anything is reported final) -> mempool re-check -> events to API subscribers.
//!
//! A node that is not a validator runs the same engine as an observer: it never votes, but
//! it sees the votes and decides with everyone else. Block sync runs beside it: a node that
//! is behind (it started late or was down) fetches finalized blocks with their certificates
//! from a peer, and re-enters consensus at the new height.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use pov_crypto::{Address, Hash, Keypair};
use pov_protocol::block::{check_header, tx_root, Block, BlockHeader, Certificate};
use pov_protocol::{Event, Rule, Transaction};
use pov_storage::Store;
use thiserror::Error;
use tokio::sync::{broadcast, mpsc, watch};

use crate::config::NodeConfig;
use crate::consensus::{
    Consensus, ConsensusConfig, ConsensusError, Effect, Input, Message, Timeout, TimeoutConfig,
    TimeoutParams, Validator, ValidatorSet,
};
use crate::mempool::{Admitted, Mempool, MempoolError};
use crate::network::{NetworkEvent, NetworkHandle, PeerId, Topic, Verdict};
use crate::wal::{Wal, WalError};
use crate::wire::{
    certificate_from_engine, ConsensusMessage, Envelope, SyncRequest, SyncResponse, TxEnvelope,
    MAX_SYNC_BATCH, MAX_SYNC_RESPONSE_BYTES,
};

/// How far in the future a proposed block's time may be (spec section 6: 5 s).
const MAX_CLOCK_DRIFT_MS: u64 = 5_000;
/// Most blocks kept per height (proposals of every round, from honest proposers only).
const MAX_BLOCKS_KEPT: usize = 64;
/// How often pending transactions are gossiped again (a peer may have missed them, or
/// received a later nonce first).
const REGOSSIP_EVERY: Duration = Duration::from_secs(15);
/// Most pending transactions gossiped again at once.
const REGOSSIP_MAX: usize = 500;

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
}

/// State shared between the event loop and the API.
#[derive(Debug)]
pub struct Shared {
    /// The chain on disk and the current state.
    pub store: RwLock<Store>,
    /// Pending transactions.
    pub mempool: Mutex<Mempool>,
    /// Final blocks and rewards, for subscribers.
    pub events: broadcast::Sender<NodeEvent>,
    /// Connected peers.
    pub peers: AtomicUsize,
    /// True while catching up by block sync.
    pub syncing: AtomicBool,
    /// This node's validator address, if it is one.
    pub validator: Option<Address>,
    /// The genesis hash (chain identity).
    pub genesis_hash: Hash,
    /// Double-sign evidence seen.
    pub evidence: AtomicUsize,
    /// Set when the node is stopping (or its event loop died): the API refuses writes.
    pub stopping: AtomicBool,
}

/// Why the node stopped with an error.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The consensus log failed: continuing could make this validator sign twice.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// The store failed to commit a decided block.
    #[error("storage: {0}")]
    Storage(#[from] pov_storage::StoreError),
    /// The consensus engine refused its input.
    #[error("consensus: {0}")]
    Consensus(#[from] ConsensusError),
    /// The genesis validator set is unusable.
    #[error("validator set: {0}")]
    Validators(String),
}

/// Timers the loop sets itself.
#[derive(Debug, Clone, Copy)]
enum Timer {
    Consensus(Timeout),
    StartHeight(u64),
}

/// The event loop's state.
pub struct Service {
    shared: Arc<Shared>,
    net: NetworkHandle,
    net_rx: mpsc::Receiver<NetworkEvent>,
    consensus: Consensus,
    wal: Wal,
    keypair: Option<Keypair>,
    /// Blocks seen for the current and next height, by hash (proposals carry them).
    blocks: HashMap<Hash, Block>,
    /// Whether each of those blocks is valid, so a re-broadcast proposal is checked once.
    verdicts: HashMap<Hash, bool>,
    /// A decision whose block has not arrived yet (it will come by sync).
    awaiting: Option<(u64, Hash, Certificate)>,
    timer_tx: mpsc::UnboundedSender<Timer>,
    timer_rx: mpsc::UnboundedReceiver<Timer>,
    sync_tx: mpsc::UnboundedSender<SyncOutcome>,
    sync_rx: mpsc::UnboundedReceiver<SyncOutcome>,
    sync_in_flight: bool,
    peers: BTreeSet<PeerId>,
    next_sync_peer: usize,
    config: NodeConfig,
    gossip_nonce: u64,
    progress: Option<indicatif::ProgressBar>,
}

/// What a background sync round brought back.
#[derive(Debug)]
enum SyncOutcome {
    Blocks {
        peer_height: u64,
        blocks: Vec<(Block, Certificate)>,
    },
    Nothing,
}

impl Service {
    /// Builds the loop. `keypair` is the validator key (`None` for a full node); `wal_records`
    /// are the messages the consensus log held at start.
    pub fn new(
        shared: Arc<Shared>,
        net: NetworkHandle,
        net_rx: mpsc::Receiver<NetworkEvent>,
        keypair: Option<Keypair>,
        wal: Wal,
        config: NodeConfig,
    ) -> Result<Service, NodeError> {
        let genesis = read(&shared.store).genesis().clone();
        // The engine's set is the genesis's, in the same (proposer) order.
        let validators = ValidatorSet::new(
            genesis
                .validator_set()
                .validators
                .into_iter()
                .map(|v| Validator {
                    address: v.address,
                    power: v.power,
                })
                .collect(),
        )
        .map_err(|e| NodeError::Validators(e.to_string()))?;
        let t = config.consensus;
        let params = |base_ms| TimeoutParams {
            base_ms,
            delta_ms: t.timeout_delta_ms,
        };
        let consensus_config = ConsensusConfig {
            timeouts: TimeoutConfig {
                propose: params(t.timeout_propose_ms),
                prevote: params(t.timeout_prevote_ms),
                precommit: params(t.timeout_precommit_ms),
            },
            ..ConsensusConfig::default()
        };
        // A full node runs the engine with a throwaway key: as a non-validator it only
        // observes, and decides when the validators do.
        let signer = keypair.clone().unwrap_or_else(Keypair::generate);
        let consensus = Consensus::new(consensus_config, validators, signer);
        let (timer_tx, timer_rx) = mpsc::unbounded_channel();
        let (sync_tx, sync_rx) = mpsc::unbounded_channel();
        Ok(Service {
            shared,
            net,
            net_rx,
            consensus,
            wal,
            keypair,
            blocks: HashMap::new(),
            verdicts: HashMap::new(),
            awaiting: None,
            timer_tx,
            timer_rx,
            sync_tx,
            sync_rx,
            sync_in_flight: false,
            peers: BTreeSet::new(),
            next_sync_peer: 0,
            config,
            gossip_nonce: 0,
            progress: None,
        })
    }

    /// Runs until `shutdown` turns true. Every decided block is on disk before it is
    /// reported, so stopping between events loses nothing final.
    pub async fn run(
        mut self,
        wal_records: Vec<ConsensusMessage>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), NodeError> {
        let height = read(&self.shared.store).height() + 1;
        // Only this validator's own messages restore its votes; a home whose key changed
        // (or a validator turned full node) must not feed foreign ones to the engine.
        let me = self.keypair.as_ref().map(Keypair::address);
        let own: Vec<Message> = wal_records
            .iter()
            .filter_map(|m| self.engine_message(m, height))
            .filter(|m| Some(m.signer()) == me)
            .collect();
        for m in &wal_records {
            if let ConsensusMessage::Proposal(p) = m {
                self.blocks.insert(p.block.hash(), p.block.clone());
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
        self.process(effects).await?;
        let mut rebroadcast = tokio::time::interval(Duration::from_millis(2_000));
        let mut sync_tick = tokio::time::interval(Duration::from_millis(1_000));
        let mut regossip = tokio::time::interval(REGOSSIP_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                Some(event) = self.net_rx.recv() => self.on_network(event).await?,
                Some(timer) = self.timer_rx.recv() => self.on_timer(timer).await?,
                Some(outcome) = self.sync_rx.recv() => self.on_sync(outcome).await?,
                _ = rebroadcast.tick() => {
                    let effects = self.consensus.rebroadcast();
                    self.process(effects).await?;
                }
                _ = sync_tick.tick() => self.start_sync(),
                _ = regossip.tick() => self.regossip().await,
            }
        }
        tracing::info!(
            height = read(&self.shared.store).height(),
            "event loop stopped"
        );
        Ok(())
    }

    /// Turns a logged or received message into the engine's form, if it is for `height`.
    fn engine_message(&self, m: &ConsensusMessage, height: u64) -> Option<Message> {
        match m {
            ConsensusMessage::Vote(v) if v.height == height => Some(Message::Vote(v.to_engine())),
            ConsensusMessage::Proposal(p) if p.height == height => {
                Some(Message::Proposal(p.to_engine()))
            }
            _ => None,
        }
    }

    /// Carries out the engine's effects, in order, including those they cause.
    async fn process(&mut self, effects: Vec<Effect>) -> Result<(), NodeError> {
        let mut queue: std::collections::VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            match effect {
                Effect::PersistVote(v) => {
                    let m = ConsensusMessage::from_engine(&Message::Vote(v), None);
                    if let Some(m) = m {
                        self.wal.append(&m)?;
                    }
                }
                Effect::PersistProposal(p) => {
                    let block = self.blocks.get(&p.proposal.value);
                    if let Some(m) = ConsensusMessage::from_engine(&Message::Proposal(p), block) {
                        self.wal.append(&m)?;
                    }
                }
                Effect::Broadcast(message) => {
                    let block = match &message {
                        Message::Proposal(p) => self.blocks.get(&p.proposal.value),
                        Message::Vote(_) => None,
                    };
                    match ConsensusMessage::from_engine(&message, block) {
                        Some(m) => self.publish(m).await,
                        None => {
                            tracing::warn!("cannot broadcast a proposal whose block is unknown")
                        }
                    }
                }
                Effect::ScheduleTimeout {
                    timeout,
                    duration_ms,
                } => {
                    self.schedule(Timer::Consensus(timeout), duration_ms);
                }
                Effect::GetValue { height, round } => {
                    let block = self.build_block(height);
                    let value = block.hash();
                    tracing::debug!(height, round, txs = block.txs.len(), "proposing a block");
                    self.blocks.insert(value, block);
                    queue.extend(self.consensus.handle(Input::ProposeValue {
                        height,
                        round,
                        value,
                    }));
                }
                Effect::Decide { proposal, commit } => {
                    let certificate = certificate_from_engine(&commit);
                    let hash = proposal.proposal.value;
                    match self.blocks.get(&hash).cloned() {
                        Some(block) => self.commit(&block, &certificate)?,
                        None => {
                            tracing::info!(
                                height = commit.height,
                                "decided a block not received yet; fetching it from peers"
                            );
                            self.awaiting = Some((commit.height, hash, certificate));
                            self.start_sync();
                        }
                    }
                }
                Effect::Evidence(evidence) => {
                    self.shared.evidence.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        ?evidence,
                        "double-signing evidence: a validator signed two different votes"
                    );
                }
            }
        }
        Ok(())
    }

    async fn publish(&mut self, message: ConsensusMessage) {
        // A fresh nonce makes every send a distinct gossip message, so re-broadcasts are not
        // swallowed by gossipsub's duplicate cache; the engine ignores repeated votes.
        self.gossip_nonce += 1;
        let envelope = Envelope {
            message,
            nonce: self.gossip_nonce,
        };
        if let Err(e) = self
            .net
            .publish(Topic::Consensus, envelope.to_bytes())
            .await
        {
            tracing::debug!(error = %e, "consensus gossip not sent");
        }
    }

    fn schedule(&self, timer: Timer, after_ms: u64) {
        let tx = self.timer_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(after_ms)).await;
            let _ = tx.send(timer);
        });
    }

    /// The block this node proposes: pending transactions that still apply, in order.
    fn build_block(&self, height: u64) -> Block {
        let store = read(&self.shared.store);
        let parent = store.parent();
        let mut state = store.state().clone();
        let candidates = lock(&self.shared.mempool).reap(self.config.mempool.max_block_txs);
        let mut txs = Vec::with_capacity(candidates.len());
        for tx in candidates {
            // Admitted transactions were verified; the pending order keeps nonces in sequence.
            if state.apply_verified(&tx).is_ok() {
                txs.push(tx);
            }
        }
        let proposer = self
            .keypair
            .as_ref()
            .map(Keypair::address)
            .unwrap_or_default();
        Block {
            header: BlockHeader {
                chain_id: store.genesis().chain_id.clone(),
                height,
                prev_hash: parent.hash,
                time_ms: now_ms().max(parent.time_ms),
                proposer,
                tx_root: tx_root(&txs),
                state_root: state.state_root(),
                validator_set_hash: store.genesis().validator_set().hash(),
            },
            txs,
        }
    }

    /// Whether a proposed block is valid on top of the current head.
    fn validate_block(&self, block: &Block) -> bool {
        let store = read(&self.shared.store);
        let genesis = store.genesis();
        let parent = store.parent();
        if block.header.time_ms > now_ms() + MAX_CLOCK_DRIFT_MS {
            tracing::warn!(
                height = block.header.height,
                "proposed block is too far in the future"
            );
            return false;
        }
        if let Err(e) = check_header(
            &block.header,
            &block.txs,
            &genesis.chain_id,
            &parent,
            &genesis.validator_set(),
        ) {
            tracing::warn!(error = %e, "invalid proposed block");
            return false;
        }
        let mut state = store.state().clone();
        let pool = lock(&self.shared.mempool);
        match state.execute_txs(&block.txs, &|tx| pool.contains(&tx.hash())) {
            Ok(outcome) if outcome.state_root == block.header.state_root => true,
            Ok(_) => {
                tracing::warn!(
                    height = block.header.height,
                    "proposed block's state root is wrong"
                );
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "proposed block holds an invalid transaction");
                false
            }
        }
    }

    /// Makes a decided block final: on disk and flushed, then the mempool and subscribers.
    fn commit(&mut self, block: &Block, certificate: &Certificate) -> Result<(), NodeError> {
        let receipt = {
            let mut store = write(&self.shared.store);
            if block.header.height != store.height() + 1 {
                // Already on disk (block sync was faster): carry on at the next height.
                let next = store.height() + 1;
                drop(store);
                self.blocks.clear();
                self.verdicts.clear();
                self.awaiting = None;
                self.schedule(
                    Timer::StartHeight(next),
                    self.config.consensus.block_time_ms,
                );
                return Ok(());
            }
            store.commit(block, certificate)?
        };
        self.after_commit(block);
        tracing::info!(
            height = receipt.height,
            hash = %receipt.hash,
            txs = receipt.txs,
            state_root = %receipt.state_root,
            "block final"
        );
        self.wal.clear()?;
        let next = receipt.height + 1;
        // Keep the decided block until the next height starts: the engine re-broadcasts
        // the decided proposal meanwhile, which lagging validators need to decide too.
        self.blocks.retain(|_, b| b.header.height >= receipt.height);
        let kept: std::collections::HashSet<Hash> = self.blocks.keys().copied().collect();
        self.verdicts.retain(|hash, _| kept.contains(hash));
        self.awaiting = None;
        self.schedule(
            Timer::StartHeight(next),
            self.config.consensus.block_time_ms,
        );
        Ok(())
    }

    /// Mempool re-check and subscriber events after a block is on disk.
    fn after_commit(&self, block: &Block) {
        let store = read(&self.shared.store);
        let dropped = lock(&self.shared.mempool).recheck(store.state());
        tracing::debug!(dropped, "mempool re-checked");
        let hashes: Vec<Hash> = block.txs.iter().map(Transaction::hash).collect();
        let _ = self.shared.events.send(NodeEvent::Block {
            height: block.header.height,
            hash: block.hash(),
            txs: hashes.clone(),
        });
        for hash in hashes {
            let Ok(Some(info)) = store.tx(&hash) else {
                continue;
            };
            for event in info.events {
                if event.rule == Rule::ContributorReward
                    || (event.rule == Rule::Referral && event.contribution.is_some())
                {
                    let member = store
                        .state()
                        .member(event.member)
                        .map(|m| m.address)
                        .unwrap_or_default();
                    let _ = self.shared.events.send(NodeEvent::Reward {
                        height: block.header.height,
                        event,
                        member,
                    });
                }
            }
        }
    }

    async fn on_timer(&mut self, timer: Timer) -> Result<(), NodeError> {
        match timer {
            Timer::Consensus(t) => {
                let effects = self.consensus.handle(Input::Timeout(t));
                self.process(effects).await
            }
            Timer::StartHeight(h) => self.enter_height(h).await,
        }
    }

    /// Starts consensus at `h` if the store is at `h - 1` and the engine is behind.
    async fn enter_height(&mut self, h: u64) -> Result<(), NodeError> {
        let stored = read(&self.shared.store).height();
        if stored + 1 != h || self.consensus.height() >= h {
            return Ok(());
        }
        self.blocks.retain(|_, b| b.header.height >= h);
        let kept: std::collections::HashSet<Hash> = self.blocks.keys().copied().collect();
        self.verdicts.retain(|hash, _| kept.contains(hash));
        let effects = self.consensus.start_height(h)?;
        self.process(effects).await
    }

    async fn on_network(&mut self, event: NetworkEvent) -> Result<(), NodeError> {
        match event {
            NetworkEvent::PeerConnected(peer) => {
                self.peers.insert(peer);
                self.shared.peers.store(self.peers.len(), Ordering::Relaxed);
                tracing::info!(%peer, peers = self.peers.len(), "peer connected"
                );
                self.regossip().await;
            }
            NetworkEvent::PeerDisconnected(peer) => {
                self.peers.remove(&peer);
                self.shared.peers.store(self.peers.len(), Ordering::Relaxed);
                tracing::info!(%peer, peers = self.peers.len(), "peer disconnected");
            }
            NetworkEvent::Request { data, reply, .. } => {
                let response = self.answer(&data);
                let _ = reply.send(response.to_bytes());
            }
            NetworkEvent::Gossip {
                topic: Topic::Transactions,
                id,
                source,
                data,
            } => {
                let verdict = self.on_gossip_tx(&data);
                self.net.report(id, source, verdict);
            }
            NetworkEvent::Gossip {
                topic: Topic::Consensus,
                id,
                source,
                data,
            } => {
                let (verdict, effects) = self.on_gossip_consensus(&data);
                self.net.report(id, source, verdict);
                self.process(effects).await?;
            }
        }
        Ok(())
    }

    fn on_gossip_tx(&self, data: &[u8]) -> Verdict {
        let Ok(TxEnvelope { tx, .. }) = TxEnvelope::from_bytes(data) else {
            return Verdict::Reject;
        };
        match lock(&self.shared.mempool).insert(tx) {
            Ok(Admitted::New(_)) => Verdict::Accept,
            Ok(Admitted::Known(_)) => Verdict::Ignore,
            // A bad signature is the sender's fault; anything else (a nonce race, a full
            // pool, a transaction already in a block) is not.
            Err(MempoolError::Rejected(pov_protocol::TxError::Signature(_))) => Verdict::Reject,
            Err(_) => Verdict::Ignore,
        }
    }

    fn on_gossip_consensus(&mut self, data: &[u8]) -> (Verdict, Vec<Effect>) {
        let Ok(envelope) = Envelope::from_bytes(data) else {
            return (Verdict::Reject, Vec::new());
        };
        let height = self.consensus.height();
        match envelope.message {
            ConsensusMessage::Vote(v) => {
                // Only validators' signed votes are worth relaying or remembering.
                if !self.consensus.validators().contains(&v.validator) {
                    return (Verdict::Reject, Vec::new());
                }
                let vote = v.to_engine();
                if vote.verify().is_err() {
                    return (Verdict::Reject, Vec::new());
                }
                if v.height > height.saturating_add(1) {
                    self.start_sync();
                    return (Verdict::Ignore, Vec::new());
                }
                if v.height.saturating_add(1) < height {
                    return (Verdict::Ignore, Vec::new());
                }
                (Verdict::Accept, self.consensus.handle(Input::Vote(vote)))
            }
            ConsensusMessage::Proposal(p) => {
                // The round's proposer, signing its own block, or nothing.
                let expected = self
                    .consensus
                    .validators()
                    .proposer(p.height, p.round)
                    .address;
                let proposal = p.to_engine();
                if expected != p.proposer
                    || p.block.header.proposer != p.proposer
                    || p.block.hash() != p.value
                    || proposal.verify().is_err()
                {
                    return (Verdict::Reject, Vec::new());
                }
                if p.height > height.saturating_add(1) {
                    self.start_sync();
                    return (Verdict::Ignore, Vec::new());
                }
                if p.height < height {
                    return (Verdict::Ignore, Vec::new());
                }
                // A next-height proposal can be checked once this height's block is on
                // disk; the engine buffers it until it enters that height.
                let stored = read(&self.shared.store).height();
                if p.height != stored + 1 {
                    return (Verdict::Ignore, Vec::new());
                }
                let valid = match self.verdicts.get(&p.value) {
                    Some(v) => *v,
                    None => {
                        let v = self.validate_block(&p.block);
                        if self.blocks.len() < MAX_BLOCKS_KEPT {
                            self.verdicts.insert(p.value, v);
                            self.blocks.insert(p.value, p.block.clone());
                        }
                        v
                    }
                };
                if let Some((h, hash, certificate)) = self.awaiting.clone() {
                    if hash == p.value && h == p.height {
                        // The block of a decision we were waiting for.
                        if let Err(e) = self.commit(&p.block, &certificate) {
                            tracing::error!(error = %e, "cannot commit the awaited block");
                        }
                        return (Verdict::Accept, Vec::new());
                    }
                }
                (
                    Verdict::Accept,
                    self.consensus.handle(Input::Proposal { proposal, valid }),
                )
            }
        }
    }

    /// Gossips pending transactions again (they may have been missed, or arrived at a
    /// peer after a later nonce of the same sender).
    async fn regossip(&mut self) {
        let txs = lock(&self.shared.mempool).reap(REGOSSIP_MAX);
        for tx in txs {
            self.gossip_nonce += 1;
            let envelope = TxEnvelope {
                tx,
                nonce: self.gossip_nonce,
            };
            if let Err(e) = self
                .net
                .publish(Topic::Transactions, envelope.to_bytes())
                .await
            {
                tracing::debug!(error = %e, "transaction re-gossip not sent");
            }
        }
    }

    /// Answers a peer's sync request from the store.
    fn answer(&self, data: &[u8]) -> SyncResponse {
        let store = read(&self.shared.store);
        match SyncRequest::from_bytes(data) {
            Ok(SyncRequest::Status) => SyncResponse::Status {
                genesis: self.shared.genesis_hash,
                height: store.height(),
            },
            Ok(SyncRequest::Blocks { from, to }) => {
                let to = to
                    .min(from.saturating_add(MAX_SYNC_BATCH - 1))
                    .min(store.height());
                let mut out = Vec::new();
                let mut bytes = 0usize;
                for h in from.max(1)..=to {
                    match store.block(h) {
                        Ok(Some(b)) => {
                            // Stay well under the network's message cap; always send one.
                            bytes += pov_protocol::codec::encode(&b.block).len();
                            if !out.is_empty() && bytes > MAX_SYNC_RESPONSE_BYTES {
                                break;
                            }
                            out.push((b.block, b.certificate));
                        }
                        _ => break,
                    }
                }
                SyncResponse::Blocks(out)
            }
            Err(e) => SyncResponse::Error(format!("malformed request: {e}")),
        }
    }

    /// Starts a background sync round with the next peer, unless one is running.
    fn start_sync(&mut self) {
        if self.sync_in_flight || self.peers.is_empty() {
            return;
        }
        let peers: Vec<PeerId> = self.peers.iter().copied().collect();
        let peer = peers[self.next_sync_peer % peers.len()];
        self.next_sync_peer += 1;
        let ours = read(&self.shared.store).height();
        let genesis = self.shared.genesis_hash;
        let net = self.net.clone();
        let tx = self.sync_tx.clone();
        self.sync_in_flight = true;
        tokio::spawn(async move {
            let outcome = sync_round(&net, peer, ours, genesis).await;
            let _ = tx.send(outcome);
        });
    }

    async fn on_sync(&mut self, outcome: SyncOutcome) -> Result<(), NodeError> {
        self.sync_in_flight = false;
        let SyncOutcome::Blocks {
            peer_height,
            blocks,
        } = outcome
        else {
            return Ok(());
        };
        let mut applied = 0u64;
        for (block, certificate) in &blocks {
            let result = {
                let mut store = write(&self.shared.store);
                if block.header.height <= store.height() {
                    // A certified block where we already have one: if it differs, two
                    // certificates conflict, which only double signing can produce.
                    let genesis = store.genesis().clone();
                    if let Ok(Some(ours)) = store.block(block.header.height) {
                        if ours.block.hash() != block.hash()
                            && certificate
                                .verify(
                                    &genesis.validator_set(),
                                    block.header.height,
                                    &block.hash(),
                                )
                                .is_ok()
                        {
                            self.shared.evidence.fetch_add(1, Ordering::Relaxed);
                            tracing::error!(
                                height = block.header.height,
                                ours = %ours.block.hash(),
                                theirs = %block.hash(),
                                "conflicting commit certificates at one height: validators double-signed"
                            );
                        }
                    }
                    continue;
                }
                if block.header.height != store.height() + 1 {
                    continue;
                }
                store.commit(block, certificate)
            };
            match result {
                Ok(receipt) => {
                    applied += 1;
                    self.after_commit(block);
                    tracing::debug!(height = receipt.height, "synced block");
                }
                Err(
                    e @ (pov_storage::StoreError::Certificate { .. }
                    | pov_storage::StoreError::InvalidBlock { .. }),
                ) => {
                    tracing::warn!(error = %e, height = block.header.height, "peer sent a block that does not verify; dropping the rest");
                    break;
                }
                // Anything else is this node's own storage failing: stop rather than run on.
                Err(e) => return Err(NodeError::Storage(e)),
            }
        }
        let height = read(&self.shared.store).height();
        let behind = peer_height > height;
        self.shared.syncing.store(behind, Ordering::Relaxed);
        self.show_progress(height, peer_height);
        if applied > 0 {
            tracing::info!(
                height,
                target = peer_height,
                "block sync: caught up to {height} of {peer_height}"
            );
            self.wal.clear()?;
            self.blocks.retain(|_, b| b.header.height > height);
            let kept: std::collections::HashSet<Hash> = self.blocks.keys().copied().collect();
            self.verdicts.retain(|hash, _| kept.contains(hash));
            self.awaiting = None;
        }
        if behind {
            self.start_sync();
        } else if applied > 0 || self.consensus.height() < height {
            // Caught up by sync: join consensus at once. (After a decision of our own, the
            // next height starts after `block_time_ms` instead, by its timer.)
            self.enter_height(height + 1).await?;
        }
        Ok(())
    }

    /// A progress bar on a terminal while far behind; plain logs otherwise.
    fn show_progress(&mut self, height: u64, target: u64) {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return;
        }
        if height >= target {
            if let Some(bar) = self.progress.take() {
                bar.finish_and_clear();
            }
            return;
        }
        let bar = self.progress.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new(target);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "syncing {bar:40} {pos}/{len} blocks ({per_sec}, eta {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        bar.set_length(target);
        bar.set_position(height);
    }
}

/// One sync round: ask `peer` its height, and fetch the next batch of blocks if it is ahead.
async fn sync_round(net: &NetworkHandle, peer: PeerId, ours: u64, genesis: Hash) -> SyncOutcome {
    let status = match net.request(peer, SyncRequest::Status.to_bytes()).await {
        Ok(bytes) => SyncResponse::from_bytes(&bytes),
        Err(e) => {
            tracing::debug!(%peer, error = %e, "status request failed");
            return SyncOutcome::Nothing;
        }
    };
    let peer_height = match status {
        Ok(SyncResponse::Status { genesis: g, height }) if g == genesis => height,
        _ => return SyncOutcome::Nothing,
    };
    if peer_height <= ours {
        return SyncOutcome::Blocks {
            peer_height,
            blocks: Vec::new(),
        };
    }
    let request = SyncRequest::Blocks {
        from: ours + 1,
        to: peer_height.min(ours + MAX_SYNC_BATCH),
    };
    match net
        .request(peer, request.to_bytes())
        .await
        .map(|b| SyncResponse::from_bytes(&b))
    {
        Ok(Ok(SyncResponse::Blocks(blocks))) => SyncOutcome::Blocks {
            peer_height,
            blocks,
        },
        _ => SyncOutcome::Nothing,
    }
}

/// Milliseconds since the Unix epoch (block times only; never consensus state).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Read access to the store; a poisoned lock (a panicked writer) is still readable.
pub fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

/// Write access to the store.
pub fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

/// The mempool lock.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
