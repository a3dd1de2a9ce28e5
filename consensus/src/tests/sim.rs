//! A deterministic discrete-event simulation of a validator network running the core.
//!
//! Virtual clock, one seeded PRNG, an ordered event queue: a run is a function of its
//! scenario and seed. The network loses, delays, reorders and duplicates messages and cuts
//! links (partitions that heal); nodes crash at arbitrary points of their effect lists and
//! restart from their consensus log; one validator may be Byzantine and sign two versions
//! of each of its messages, always sending one to some peers and the other to the rest, and
//! relaying only half of what it receives.
//!
//! Each simulated host does what `docs/consensus.md` asks of the daemon: it persists before
//! sending, floods every new message to its peers (deduplicated by message id), calls
//! `rebroadcast` periodically, and answers a message of an already decided height with the
//! decided blocks from that height on (block sync: the receiver checks each certificate,
//! stores the blocks and jumps its core ahead with `start_height`). It does not verify
//! signatures of incoming
//! messages (nobody in the simulation forges them); decisions and evidence are checked by
//! re-signing with the known dev keys (ed25519 is deterministic), which is exact and much
//! cheaper than verification in a debug build.
//!
//! Safety is checked as events happen (a violation panics with the seed): no two honest
//! nodes decide different values at a height, every decision carries a commit certificate
//! of more than 2/3 of the power for its value, decided values are valid, honest nodes never
//! sign two different messages for one slot and never send a message they have not
//! persisted, and evidence only ever names the Byzantine validator.

use std::collections::{BTreeMap, BTreeSet};

use pov_crypto::{Address, Hash, Keypair, SignatureError};

use super::{keys, set_with_powers, test_config};
use crate::{
    Certificate, CommitSig, Consensus, Effect, Evidence, Input, Message, NilOrVal, SignedProposal,
    SignedVote, Timeout, ValidatorSet, VoteKind,
};
use pov_protocol::test_utils::SplitMix64;

/// What to simulate. Partitions and crashes are drawn from the seed inside the chaos window.
#[derive(Clone, Debug)]
pub(super) struct Scenario {
    /// Voting power of each validator (validator i has dev key i).
    pub(super) powers: Vec<u64>,
    /// The index of the equivocating validator, if any.
    pub(super) byzantine: Option<usize>,
    /// Every honest node must commit this height...
    pub(super) target_height: u64,
    /// ...and this many heights above the highest height committed when the chaos ends.
    pub(super) heights_after_heal: u64,
    /// Partitions and crashes happen before this time; afterwards the network only delays,
    /// reorders and loses `loss_calm_permille` of messages.
    pub(super) chaos_until_ms: u64,
    /// How many partitions (random side, start and length) happen during the chaos.
    pub(super) partitions: usize,
    /// How many honest crash-restarts (random node, time and downtime) happen.
    pub(super) crashes: usize,
    /// Message loss during the chaos, per mille.
    pub(super) loss_chaos_permille: u64,
    /// Message loss afterwards, per mille.
    pub(super) loss_calm_permille: u64,
    /// Smallest one-way delay.
    pub(super) delay_min_ms: u64,
    /// Largest one-way delay (random in between, so messages overtake each other).
    pub(super) delay_max_ms: u64,
    /// The run stops this long after the chaos ends; liveness means finishing earlier.
    pub(super) liveness_bound_ms: u64,
}

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Outcome {
    /// Digest of every effect of every node with its time: equal digests, equal runs.
    pub(super) trace: Hash,
    /// `(time, node, height, round, value)` of every decision, in order.
    pub(super) decisions: Vec<(u64, usize, u64, u32, Hash)>,
    /// Validators named by evidence that honest nodes emitted.
    pub(super) evidence_against: BTreeSet<usize>,
    /// The height every honest node had to commit.
    pub(super) goal_height: u64,
    /// How long after the chaos ended the last honest node committed the goal height, if
    /// all did within the liveness bound.
    pub(super) finished_after_heal_ms: Option<u64>,
    /// Crash-restarts that happened.
    pub(super) crashes: usize,
    /// Highest round any decision took.
    pub(super) max_decision_round: u32,
    /// Each node's state when the run stopped, for failure messages.
    pub(super) final_states: Vec<String>,
}

const REBROADCAST_MS: u64 = 600;
const SYNC_INTERVAL_MS: u64 = 400;
/// Most blocks sent in one block-sync answer.
const SYNC_BATCH: usize = 16;

/// Whether the simulated host finds a block valid. Honest proposers only build valid
/// blocks; the Byzantine one also proposes invalid ones.
fn sim_valid(value: &Hash) -> bool {
    value.0[0] != 0
}

fn valid_value(mut h: Hash) -> Hash {
    h.0[0] |= 1;
    h
}

fn invalid_value(mut h: Hash) -> Hash {
    h.0[0] = 0;
    h
}

fn message_id(m: &Message) -> Hash {
    pov_crypto::hash_parts(&[&m.sign_bytes(), &m.signature().0])
}

/// What travels between simulated hosts.
#[derive(Clone, Debug)]
enum Packet {
    /// A consensus message.
    Consensus(Message),
    /// Decided blocks, for a peer that is behind.
    Blocks(Vec<Block>),
}

#[derive(Clone, Debug)]
enum Event {
    Deliver {
        to: usize,
        from: usize,
        packet: Packet,
    },
    Timer {
        node: usize,
        incarnation: u32,
        timeout: Timeout,
    },
    ValueReady {
        node: usize,
        incarnation: u32,
        height: u64,
        round: u32,
    },
    Rebroadcast {
        node: usize,
        incarnation: u32,
    },
    ArmCrash {
        node: usize,
        down_ms: u64,
    },
    Restart {
        node: usize,
    },
}

#[derive(Clone, Debug)]
struct Partition {
    from_ms: u64,
    until_ms: u64,
    side: Vec<bool>,
}

/// A committed block as the host stores it.
#[derive(Clone, Debug)]
struct Block {
    proposal: SignedProposal,
    certificate: Certificate,
}

struct Node {
    key: Keypair,
    core: Option<Consensus>,
    /// Bumped on every crash, so timers of a previous life are ignored.
    incarnation: u32,
    /// The consensus log: what the core asked to persist, per height. Survives crashes.
    wal: BTreeMap<u64, Vec<Message>>,
    /// Decided blocks. Survive crashes.
    chain: BTreeMap<u64, Block>,
    /// Ids of messages already handled (memory only).
    seen: BTreeSet<Hash>,
    /// Last time a decided height was sent to a peer (memory only).
    sync_sent: BTreeMap<(usize, u64), u64>,
    /// Crash at the next effect list, then stay down this long.
    crash_armed: Option<u64>,
    byzantine: bool,
}

pub(super) struct Sim {
    scenario: Scenario,
    validators: ValidatorSet,
    index_of: BTreeMap<Address, usize>,
    nodes: Vec<Node>,
    rng: SplitMix64,
    now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Event>,
    partitions: Vec<Partition>,
    /// First value decided by an honest node at each height.
    decided: BTreeMap<u64, Hash>,
    /// Every vote value and proposal value honest nodes signed, per slot.
    honest_votes: BTreeMap<(usize, u64, u32, VoteKind), NilOrVal<Hash>>,
    honest_proposals: BTreeMap<(usize, u64, u32), Hash>,
    /// Signatures already checked by re-signing.
    checked_signatures: BTreeSet<Hash>,
    trace: Hash,
    decisions: Vec<(u64, usize, u64, u32, Hash)>,
    evidence_against: BTreeSet<usize>,
    crashes: usize,
    seed: u64,
}

impl Sim {
    pub(super) fn new(scenario: Scenario, seed: u64) -> Self {
        let n = scenario.powers.len();
        let ks = keys(n as u32);
        let validators = set_with_powers(&ks, &scenario.powers);
        let index_of = ks
            .iter()
            .enumerate()
            .map(|(i, k)| (k.address(), i))
            .collect();
        let nodes = ks
            .into_iter()
            .enumerate()
            .map(|(i, key)| Node {
                key,
                core: None,
                incarnation: 0,
                wal: BTreeMap::new(),
                chain: BTreeMap::new(),
                seen: BTreeSet::new(),
                sync_sent: BTreeMap::new(),
                crash_armed: None,
                byzantine: scenario.byzantine == Some(i),
            })
            .collect();
        Self {
            scenario,
            validators,
            index_of,
            nodes,
            rng: SplitMix64::new(seed),
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            partitions: Vec::new(),
            decided: BTreeMap::new(),
            honest_votes: BTreeMap::new(),
            honest_proposals: BTreeMap::new(),
            checked_signatures: BTreeSet::new(),
            trace: Hash::ZERO,
            decisions: Vec::new(),
            evidence_against: BTreeSet::new(),
            crashes: 0,
            seed,
        }
    }

    fn honest(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&i| !self.nodes[i].byzantine)
    }

    fn schedule(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    /// Runs the scenario to the target height or the deadline.
    pub(super) fn run(mut self) -> Outcome {
        self.plan_chaos();
        for i in 0..self.nodes.len() {
            let mut core = Consensus::new(
                test_config(),
                self.validators.clone(),
                self.nodes[i].key.clone(),
            );
            let fx = core.start_height(1).expect("first height");
            self.nodes[i].core = Some(core);
            self.apply(i, fx);
            let first = self.rng.below(REBROADCAST_MS);
            self.schedule(
                first,
                Event::Rebroadcast {
                    node: i,
                    incarnation: 0,
                },
            );
        }
        let heal = self.scenario.chaos_until_ms;
        let deadline = heal + self.scenario.liveness_bound_ms;
        let mut goal = None;
        let mut finished_after_heal_ms = None;
        while let Some(((at, _), event)) = self.queue.pop_first() {
            if at > deadline {
                break;
            }
            if at >= heal && goal.is_none() {
                let highest = self.honest().filter_map(|i| self.highest(i)).max();
                let after_heal = highest.unwrap_or(0) + self.scenario.heights_after_heal;
                goal = Some(after_heal.max(self.scenario.target_height));
            }
            self.now = at;
            self.dispatch(event);
            if let Some(goal) = goal {
                if self.honest().all(|i| self.highest(i) >= Some(goal)) {
                    finished_after_heal_ms = Some(self.now - heal);
                    break;
                }
            }
        }
        let max_decision_round = self.decisions.iter().map(|d| d.3).max().unwrap_or(0);
        let final_states = self
            .nodes
            .iter()
            .map(|n| match &n.core {
                Some(c) => format!(
                    "h={} r={} {:?} decided={} locked={:?} chain={}",
                    c.height(),
                    c.round(),
                    c.step(),
                    c.is_decided(),
                    c.locked().map(|l| l.round),
                    n.chain.len()
                ),
                None => "down".to_string(),
            })
            .collect();
        Outcome {
            goal_height: goal.unwrap_or(0),
            finished_after_heal_ms,
            final_states,
            trace: self.trace,
            decisions: self.decisions,
            evidence_against: self.evidence_against,
            crashes: self.crashes,
            max_decision_round,
        }
    }

    /// The highest height node `i` has committed.
    fn highest(&self, i: usize) -> Option<u64> {
        self.nodes[i].chain.last_key_value().map(|(h, _)| *h)
    }

    fn plan_chaos(&mut self) {
        let n = self.nodes.len();
        let chaos = self.scenario.chaos_until_ms;
        for _ in 0..self.scenario.partitions {
            let from_ms = self.rng.below(chaos.saturating_sub(1_000).max(1));
            let until_ms = (from_ms + self.rng.between(500, 4_000)).min(chaos);
            let mut side: Vec<bool> = (0..n).map(|_| self.rng.chance(500)).collect();
            if side.iter().all(|&s| s) || side.iter().all(|&s| !s) {
                side[0] = !side[0];
            }
            self.partitions.push(Partition {
                from_ms,
                until_ms,
                side,
            });
        }
        let honest: Vec<usize> = self.honest().collect();
        for _ in 0..self.scenario.crashes {
            let node = honest[self.rng.below(honest.len() as u64) as usize];
            // Armed crashes happen within one rebroadcast period; restarts well before the
            // chaos ends.
            let at = self.rng.below(chaos.saturating_sub(4_000).max(1));
            let down_ms = self.rng.between(200, 2_500);
            self.schedule(at, Event::ArmCrash { node, down_ms });
        }
    }

    fn cut(&self, a: usize, b: usize) -> bool {
        self.partitions
            .iter()
            .any(|p| p.from_ms <= self.now && self.now < p.until_ms && p.side[a] != p.side[b])
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::Deliver { to, from, packet } => {
                if self.cut(from, to) {
                    return;
                }
                match packet {
                    Packet::Consensus(message) => self.deliver(to, from, message),
                    Packet::Blocks(blocks) => self.receive_blocks(to, blocks),
                }
            }
            Event::Timer {
                node,
                incarnation,
                timeout,
            } => {
                if let Some(core) = self.live_core(node, incarnation) {
                    let fx = core.handle(Input::Timeout(timeout));
                    self.apply(node, fx);
                }
            }
            Event::ValueReady {
                node,
                incarnation,
                height,
                round,
            } => {
                let value = valid_value(pov_crypto::hash_parts(&[
                    b"sim-block",
                    &(node as u64).to_be_bytes(),
                    &height.to_be_bytes(),
                    &round.to_be_bytes(),
                ]));
                if let Some(core) = self.live_core(node, incarnation) {
                    let fx = core.handle(Input::ProposeValue {
                        height,
                        round,
                        value,
                    });
                    self.apply(node, fx);
                }
            }
            Event::Rebroadcast { node, incarnation } => {
                if let Some(core) = self.live_core(node, incarnation) {
                    let fx = core.rebroadcast();
                    self.apply(node, fx);
                    // A crash during `apply` starts a new chain of rebroadcasts at restart.
                    if self.nodes[node].incarnation == incarnation {
                        self.schedule(
                            self.now + REBROADCAST_MS,
                            Event::Rebroadcast { node, incarnation },
                        );
                    }
                }
            }
            Event::ArmCrash { node, down_ms } => {
                if self.nodes[node].core.is_some() {
                    self.nodes[node].crash_armed = Some(down_ms);
                }
            }
            Event::Restart { node } => self.restart(node),
        }
    }

    fn live_core(&mut self, node: usize, incarnation: u32) -> Option<&mut Consensus> {
        let n = &mut self.nodes[node];
        if n.incarnation == incarnation {
            n.core.as_mut()
        } else {
            None
        }
    }

    fn send(&mut self, from: usize, to: usize, message: Message) {
        self.send_packet(from, to, Packet::Consensus(message));
    }

    fn send_packet(&mut self, from: usize, to: usize, packet: Packet) {
        let loss = if self.now < self.scenario.chaos_until_ms {
            self.scenario.loss_chaos_permille
        } else {
            self.scenario.loss_calm_permille
        };
        if self.rng.chance(loss) {
            return;
        }
        let copies = if self.rng.chance(10) { 2 } else { 1 };
        for _ in 0..copies {
            let delay = self
                .rng
                .between(self.scenario.delay_min_ms, self.scenario.delay_max_ms);
            let packet = packet.clone();
            self.schedule(self.now + delay, Event::Deliver { to, from, packet });
        }
    }

    fn deliver(&mut self, to: usize, from: usize, message: Message) {
        let Some(core) = self.nodes[to].core.as_ref() else {
            return;
        };
        // A message of a decided height means the sender is behind, even if this node saw
        // the message before (it is then the sender's rebroadcast).
        if message.height() < core.height() {
            self.send_decided_height(to, from, message.height());
            return;
        }
        if !self.nodes[to].seen.insert(message_id(&message)) {
            return;
        }
        // Flood: relay every new message of the current or next height. The Byzantine node
        // relays only some.
        for peer in 0..self.nodes.len() {
            if peer != to && peer != from && (!self.nodes[to].byzantine || self.rng.chance(500)) {
                self.send(to, peer, message);
            }
        }
        let input = match message {
            Message::Proposal(proposal) => Input::Proposal {
                proposal,
                validity: sim_valid(&proposal.proposal.value).into(),
            },
            Message::Vote(vote) => Input::Vote(vote),
        };
        if let Some(core) = self.nodes[to].core.as_mut() {
            let fx = core.handle(input);
            self.apply(to, fx);
        }
    }

    /// A peer sent something of a height this node has decided: send it the decided blocks
    /// from that height on (rate-limited).
    fn send_decided_height(&mut self, node: usize, peer: usize, height: u64) {
        let last = self.nodes[node].sync_sent.get(&(peer, height)).copied();
        if last.is_some_and(|t| self.now < t + SYNC_INTERVAL_MS) {
            return;
        }
        let blocks: Vec<Block> = self.nodes[node]
            .chain
            .range(height..)
            .take(SYNC_BATCH)
            .map(|(_, b)| b.clone())
            .collect();
        if blocks.is_empty() {
            return;
        }
        self.nodes[node].sync_sent.insert((peer, height), self.now);
        self.send_packet(node, peer, Packet::Blocks(blocks));
    }

    /// Block sync: store the blocks that extend the chain (each with a checked
    /// certificate) and move the core past them.
    fn receive_blocks(&mut self, i: usize, blocks: Vec<Block>) {
        if self.nodes[i].core.is_none() {
            return;
        }
        let mut added = false;
        for block in blocks {
            let height = block.certificate.height;
            let next = self.nodes[i]
                .chain
                .last_key_value()
                .map_or(1, |(h, _)| h + 1);
            if height != next {
                continue;
            }
            self.check_block(i, &block.proposal, &block.certificate);
            let value = block.certificate.block_hash;
            let round = block.certificate.round;
            self.nodes[i].chain.insert(height, block);
            self.decisions.push((self.now, i, height, round, value));
            self.record_line(&format!("{i} synced height {height} = {value}"));
            added = true;
        }
        let Some((&last, _)) = self.nodes[i].chain.last_key_value() else {
            return;
        };
        if !added {
            return;
        }
        if let Some(core) = self.nodes[i].core.as_mut() {
            if core.height() <= last {
                let fx = core.start_height(last + 1).expect("heights only increase");
                self.apply(i, fx);
            }
        }
    }

    /// Carries out a node's effects in order, like the daemon would, and then whatever
    /// follows from them (starting the next height after a decision).
    fn apply(&mut self, i: usize, effects: Vec<Effect>) {
        let crash_at = self.nodes[i]
            .crash_armed
            .map(|_| self.rng.below(effects.len() as u64 + 1) as usize);
        let mut next_height = None;
        for (k, effect) in effects.iter().enumerate() {
            if crash_at == Some(k) {
                self.crash(i);
                return;
            }
            self.record(i, effect);
            match effect {
                Effect::PersistVote(v) => self.persist(i, Message::Vote(*v)),
                Effect::PersistProposal(p) => self.persist(i, Message::Proposal(*p)),
                Effect::Broadcast(m) => self.broadcast(i, *m),
                Effect::ScheduleTimeout {
                    timeout,
                    duration_ms,
                } => {
                    let incarnation = self.nodes[i].incarnation;
                    self.schedule(
                        self.now + duration_ms,
                        Event::Timer {
                            node: i,
                            incarnation,
                            timeout: *timeout,
                        },
                    );
                }
                Effect::GetValue { height, round } => {
                    let incarnation = self.nodes[i].incarnation;
                    let at = self.now + self.rng.below(30);
                    self.schedule(
                        at,
                        Event::ValueReady {
                            node: i,
                            incarnation,
                            height: *height,
                            round: *round,
                        },
                    );
                }
                Effect::Decide {
                    proposal,
                    certificate,
                } => {
                    self.on_decide(i, *proposal, certificate.clone());
                    next_height = Some(certificate.height + 1);
                }
                Effect::Evidence(evidence) => self.on_evidence(i, evidence),
            }
        }
        if crash_at == Some(effects.len()) {
            self.crash(i);
            return;
        }
        if let Some(height) = next_height {
            if let Some(core) = self.nodes[i].core.as_mut() {
                let fx = core.start_height(height).expect("next height");
                self.apply(i, fx);
            }
        }
    }

    fn record(&mut self, i: usize, effect: &Effect) {
        let line = format!("{} {i} {effect:?}", self.now);
        self.trace = pov_crypto::hash_parts(&[self.trace.as_bytes(), line.as_bytes()]);
    }

    fn persist(&mut self, i: usize, message: Message) {
        self.nodes[i]
            .wal
            .entry(message.height())
            .or_default()
            .push(message);
    }

    fn broadcast(&mut self, i: usize, message: Message) {
        let own = message.signer() == self.nodes[i].key.address();
        self.nodes[i].seen.insert(message_id(&message));
        if own && !self.nodes[i].byzantine {
            self.check_honest_message(i, &message);
        }
        let peers: Vec<usize> = (0..self.nodes.len()).filter(|&p| p != i).collect();
        if own && self.nodes[i].byzantine {
            let twin = self.twin(i, &message);
            self.nodes[i].seen.insert(message_id(&twin));
            // Each peer always gets the same version of a given message, also when it is
            // rebroadcast: only relays by others can show a peer the other version.
            for peer in peers {
                let pick = pov_crypto::hash_parts(&[&message.sign_bytes(), &[peer as u8]]);
                let m = if pick.0[0].is_multiple_of(2) {
                    twin
                } else {
                    message
                };
                self.send(i, peer, m);
            }
        } else {
            for peer in peers {
                self.send(i, peer, message);
            }
        }
    }

    /// An honest node's own message: persisted before sending, and never a second version.
    fn check_honest_message(&mut self, i: usize, message: &Message) {
        let seed = self.seed;
        let logged = self.nodes[i]
            .wal
            .get(&message.height())
            .is_some_and(|log| log.contains(message));
        assert!(
            logged,
            "seed {seed}: node {i} sent a message it had not persisted: {message:?}"
        );
        match message {
            Message::Vote(v) => {
                let slot = (i, v.vote.height, v.vote.round, v.vote.kind);
                let first = *self.honest_votes.entry(slot).or_insert(v.vote.value);
                assert_eq!(
                    first, v.vote.value,
                    "seed {seed}: honest node {i} signed two votes for {slot:?}"
                );
            }
            Message::Proposal(p) => {
                let slot = (i, p.proposal.height, p.proposal.round);
                let first = *self
                    .honest_proposals
                    .entry(slot)
                    .or_insert(p.proposal.value);
                assert_eq!(
                    first, p.proposal.value,
                    "seed {seed}: honest node {i} signed two proposals for {slot:?}"
                );
            }
        }
    }

    /// The Byzantine validator's second version of one of its messages (always the same
    /// second version for a given message, so there are exactly two per slot).
    fn twin(&self, i: usize, message: &Message) -> Message {
        let key = &self.nodes[i].key;
        let h = pov_crypto::hash_parts(&[b"twin", &message.sign_bytes()]);
        match message {
            Message::Vote(v) => {
                let mut vote = v.vote;
                vote.value = match vote.value {
                    NilOrVal::Val(_) if h.0[1].is_multiple_of(2) => NilOrVal::Nil,
                    _ => NilOrVal::Val(valid_value(h)),
                };
                Message::Vote(vote.sign(key).expect("own key"))
            }
            Message::Proposal(p) => {
                let mut proposal = p.proposal;
                proposal.value = if h.0[1].is_multiple_of(2) {
                    invalid_value(h)
                } else {
                    valid_value(h)
                };
                proposal.pol_round = None;
                Message::Proposal(proposal.sign(key).expect("own key"))
            }
        }
    }

    /// Like [`Sim::check_signature`], for a certificate's signature over `message`.
    fn check_commit_signature(
        &mut self,
        sig: &CommitSig,
        message: &[u8],
    ) -> Result<(), SignatureError> {
        let id = pov_crypto::hash_parts(&[message, &sig.signature.0]);
        if self.checked_signatures.contains(&id) {
            return Ok(());
        }
        let index = self
            .index_of
            .get(&sig.validator)
            .ok_or(SignatureError::Invalid(sig.validator))?;
        if self.nodes[*index].key.sign(message) == sig.signature {
            self.checked_signatures.insert(id);
            Ok(())
        } else {
            Err(SignatureError::Invalid(sig.validator))
        }
    }

    /// Exact signature check by re-signing with the signer's dev key (cached).
    fn check_signature(&mut self, vote: &SignedVote) -> Result<(), SignatureError> {
        let id = message_id(&Message::Vote(*vote));
        if self.checked_signatures.contains(&id) {
            return Ok(());
        }
        let index = self
            .index_of
            .get(&vote.vote.validator)
            .ok_or(SignatureError::Invalid(vote.vote.validator))?;
        if self.nodes[*index].key.sign(&vote.vote.sign_bytes()) == vote.signature {
            self.checked_signatures.insert(id);
            Ok(())
        } else {
            Err(SignatureError::Invalid(vote.vote.validator))
        }
    }

    fn on_decide(&mut self, i: usize, proposal: SignedProposal, certificate: Certificate) {
        let seed = self.seed;
        let (height, value, round) = (
            certificate.height,
            certificate.block_hash,
            certificate.round,
        );
        self.check_block(i, &proposal, &certificate);
        let previous = self.nodes[i].chain.insert(
            height,
            Block {
                proposal,
                certificate,
            },
        );
        assert!(
            previous.is_none(),
            "seed {seed}: node {i} decided height {height} twice"
        );
        self.decisions.push((self.now, i, height, round, value));
    }

    /// A block some node committed (by deciding it or by block sync): its certificate,
    /// proposal and value are sound, and no honest node committed another at its height.
    fn check_block(&mut self, i: usize, proposal: &SignedProposal, certificate: &Certificate) {
        let seed = self.seed;
        let (height, value) = (certificate.height, certificate.block_hash);
        let validators = self.validators.clone();
        let verdict = certificate.verify_with(&validators, height, &value, |sig, message| {
            self.check_commit_signature(sig, message)
        });
        assert_eq!(
            verdict,
            Ok(()),
            "seed {seed}: node {i} decided height {height} without a valid certificate"
        );
        assert_eq!(
            (
                proposal.proposal.height,
                proposal.proposal.round,
                proposal.proposal.value
            ),
            (height, certificate.round, value),
            "seed {seed}: decision's proposal does not match its certificate"
        );
        assert!(
            sim_valid(&value),
            "seed {seed}: node {i} decided an invalid value at height {height}"
        );
        if !self.nodes[i].byzantine {
            let first = *self.decided.entry(height).or_insert(value);
            assert_eq!(
                first, value,
                "seed {seed}: SAFETY VIOLATION: honest nodes committed different values at height {height}"
            );
        }
    }

    fn on_evidence(&mut self, i: usize, evidence: &Evidence) {
        if self.nodes[i].byzantine {
            return;
        }
        let seed = self.seed;
        let verdict = evidence.verify_with(|v| self.check_signature(v));
        assert_eq!(
            verdict,
            Ok(()),
            "seed {seed}: node {i} emitted bad evidence"
        );
        let culprit = self.index_of[&evidence.offender()];
        assert!(
            self.nodes[culprit].byzantine,
            "seed {seed}: evidence against honest validator {culprit}: {evidence:?}"
        );
        self.evidence_against.insert(culprit);
    }

    fn crash(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let down_ms = node.crash_armed.take().unwrap_or(0);
        node.core = None;
        node.incarnation += 1;
        node.seen.clear();
        node.sync_sent.clear();
        self.crashes += 1;
        self.record_line(&format!("crash {i}"));
        self.schedule(self.now + down_ms, Event::Restart { node: i });
    }

    fn restart(&mut self, i: usize) {
        let height = self.nodes[i]
            .chain
            .last_key_value()
            .map_or(1, |(h, _)| h + 1);
        let log = self.nodes[i].wal.get(&height).cloned().unwrap_or_default();
        let mut core = Consensus::new(
            test_config(),
            self.validators.clone(),
            self.nodes[i].key.clone(),
        );
        let fx = core.restore_height(height, log).expect("own log restores");
        self.nodes[i].core = Some(core);
        self.record_line(&format!("restart {i} at height {height}"));
        self.apply(i, fx);
        let incarnation = self.nodes[i].incarnation;
        self.schedule(
            self.now + REBROADCAST_MS,
            Event::Rebroadcast {
                node: i,
                incarnation,
            },
        );
    }

    fn record_line(&mut self, line: &str) {
        let line = format!("{} {line}", self.now);
        self.trace = pov_crypto::hash_parts(&[self.trace.as_bytes(), line.as_bytes()]);
    }
}
