//! The simulation proper: an ordered event queue on a virtual clock, the nodes (each a real
//! consensus host over a real store and consensus log that survive its crashes), and the
//! invariants, checked after every step:
//!
//! - **agreement**: no two honest nodes finalize different blocks at a height;
//! - **state**: their state roots agree at every height they were seen at;
//! - **own messages**: an honest node never signs two different messages for one slot,
//!   and never sends an own message it has not persisted in its consensus log;
//! - **liveness** (at the end): every honest node reaches the goal height within the
//!   stated bound after the network healed;
//! - **evidence** (at the end): every equivocation that an honest node received both
//!   messages of is recorded by every honest node, and evidence never names an honest
//!   validator.
//!
//! A violation panics with the seed; the scenario runner turns that into the command that
//! replays the run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use pov_consensus::{Message, SignedVote};
use pov_crypto::{Hash, Keypair};
use pov_node::config::ConsensusTiming;
use pov_node::host::{Host, HostConfig, Input, Output, Timer, EVIDENCE_REGOSSIP_HEIGHTS};
use pov_node::network::{Topic, Verdict};
use pov_node::shared::{lock, read, Shared};
use pov_node::wal::{ConsensusLog, MemoryLog, Wal, WalError};
use pov_node::wire::{ConsensusMessage, Envelope, SyncRequest, SyncResponse, TxEnvelope};
use pov_protocol::genesis::{dev_validator_key, Genesis, GenesisValidator};
use pov_protocol::test_utils::{SplitMix64, Workload};
use pov_storage::engine::{Engine, EngineError, KeyValue, MemoryEngine, Scan, Tree, WriteBatch};
use pov_storage::{OpenOptions, Store};

use super::byzantine::{Byzantine, Faulty};
use super::network::{NetConfig, Network, Partition};

/// What to simulate. Partitions and crashes are drawn from the seed inside the chaos window.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Voting power of each validator (validator i has `dev_validator_key(i)`).
    pub powers: Vec<u64>,
    /// Faulty validators and what they do.
    pub byzantine: Vec<(usize, Byzantine)>,
    /// The network.
    pub net: NetConfig,
    /// Partitions and crashes happen before this time.
    pub chaos_until_ms: u64,
    /// How many partitions (random side, start and length).
    pub partitions: usize,
    /// How many crash-restarts (random node, time and downtime), honest or not.
    pub crashes: usize,
    /// Each node's clock is off by a random amount in `-skew..=skew`...
    pub clock_skew_ms: u64,
    /// ...unless given here, node by node.
    pub clock_offsets_ms: Option<Vec<i64>>,
    /// Every honest node must commit this many heights above the highest height committed
    /// when the network healed...
    pub heights_after_heal: u64,
    /// ...and at least this height...
    pub min_height: u64,
    /// ...within this long after the heal.
    pub liveness_bound_ms: u64,
    /// Transactions are submitted to a random node this often.
    pub tx_every_ms: u64,
    /// The nodes' consensus timing (`config.toml`'s).
    pub timing: ConsensusTiming,
    /// Crashes at chosen moments.
    pub scripted: Vec<Scripted>,
    /// Nodes whose consensus log is the daemon's file log (`Wal`) instead of the in-memory
    /// one, so that a crash can damage it.
    pub file_logs: Vec<usize>,
}

/// What a scripted crash waits for: the node sending its own message of this kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// Its proposal.
    Proposal,
    /// Its precommit for a block (the moment it locks).
    Precommit,
}

/// A crash at a chosen moment: `node` dies right after it sends its `after` message at
/// `height`, and stays down `down_ms`.
#[derive(Clone, Copy, Debug)]
pub struct Scripted {
    pub node: usize,
    pub height: u64,
    pub after: After,
    pub down_ms: u64,
    /// While it is down, a byte of the first record of its (file) consensus log flips. The
    /// crash then happens at `height` or the first later one where the log holds a record
    /// after the damaged one when the node sends its `after` message.
    pub damage_log: bool,
}

impl Scenario {
    /// Four equal validators, everyone honest, the default network with partitions and
    /// crashes for 20 s, production timing.
    pub fn four() -> Scenario {
        Scenario {
            powers: vec![1; 4],
            byzantine: Vec::new(),
            net: NetConfig::default(),
            chaos_until_ms: 20_000,
            partitions: 2,
            crashes: 2,
            clock_skew_ms: 200,
            clock_offsets_ms: None,
            heights_after_heal: 4,
            min_height: 8,
            liveness_bound_ms: 90_000,
            tx_every_ms: 700,
            timing: ConsensusTiming::default(),
            scripted: Vec::new(),
            file_logs: Vec::new(),
        }
    }
}

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Digest of every step of every node with its time: equal digests, equal runs.
    pub trace: Hash,
    /// The height every honest node had to reach.
    pub goal_height: u64,
    /// How long after the heal the last honest node got there.
    pub finished_after_heal_ms: u64,
    /// Highest height committed by an honest node.
    pub highest: u64,
    /// Crashes that happened.
    pub crashes: usize,
    /// Evidence counted by honest nodes.
    pub evidence: usize,
    /// Faulty validators whose equivocation an honest node could prove (it received two
    /// different messages of theirs for one slot); every honest node held evidence of it.
    pub caught: usize,
    /// Faulty validators that signed two different messages for one slot that both reached
    /// honest nodes, but never one node that could compare them (say, one version only
    /// after that node was more than the evidence window past the height): no one can prove
    /// that.
    pub unproven: usize,
}

/// A message's slot: height, round, and kind (0 proposal, 1 prevote, 2 precommit).
type Slot = (u64, u32, u8);

/// Every honest node must hold evidence of an equivocation that one of them could prove
/// this long before the end: the two messages meet at a node within a relay or two (5 to
/// 150 ms each), and evidence is gossiped at once and again with every re-broadcast (2 s),
/// so several re-broadcasts cover lost messages.
const EVIDENCE_SPREAD_MS: u64 = 10_000;

/// An engine over a shared in-memory database: the store of a crashed node is dropped, its
/// "disk" is not, and the restarted node opens a new store over it.
struct Disk(Arc<MemoryEngine>);

impl Engine for Disk {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn location(&self) -> PathBuf {
        self.0.location()
    }
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        self.0.get(tree, key)
    }
    fn scan(&self, scan: Scan<'_>) -> Result<Vec<KeyValue>, EngineError> {
        self.0.scan(scan)
    }
    fn write(&self, batch: &WriteBatch) -> Result<(), EngineError> {
        self.0.write(batch)
    }
    fn flush(&self) -> Result<(), EngineError> {
        self.0.flush()
    }
    fn size_on_disk(&self) -> Result<u64, EngineError> {
        self.0.size_on_disk()
    }
}

/// What a node ever wrote to its consensus log (the log itself is cleared once a height is
/// final): ids for the persist-before-send check, votes by height (its own, and the others'
/// behind its locks) for the restart check.
#[derive(Clone, Default)]
struct Recorder {
    ever: Arc<std::sync::Mutex<BTreeSet<Hash>>>,
    votes: Arc<std::sync::Mutex<BTreeMap<u64, Vec<SignedVote>>>>,
}

/// A node's real consensus log, recorded.
struct Recorded {
    inner: Box<dyn ConsensusLog>,
    recorder: Recorder,
}

impl ConsensusLog for Recorded {
    fn append(&mut self, message: &ConsensusMessage) -> Result<(), WalError> {
        self.inner.append(message)?;
        if let Some(engine) = message.to_engine() {
            lock(&self.recorder.ever).insert(message_id(&engine));
            if let Message::Vote(vote) = engine {
                lock(&self.recorder.votes)
                    .entry(vote.vote.height)
                    .or_default()
                    .push(vote);
            }
        }
        Ok(())
    }

    fn clear(&mut self) -> Result<(), WalError> {
        self.inner.clear()
    }
}

/// A running node.
struct Live {
    host: Host<usize>,
    shared: Arc<Shared>,
    /// Gossip message ids seen, with when (gossipsub's duplicate cache).
    seen: BTreeMap<Hash, u64>,
}

/// One simulated node, up or down.
struct Node {
    key: Keypair,
    faulty: Option<Faulty>,
    clock_offset_ms: i64,
    /// The database: survives crashes.
    disk: Arc<MemoryEngine>,
    /// The in-memory consensus log (unless `log_file`): survives crashes.
    memory: MemoryLog,
    /// The file consensus log, for nodes that use one.
    log_file: Option<PathBuf>,
    recorder: Recorder,
    /// A scripted crash due at the end of the current step: downtime, and log damage.
    pending_crash: Option<(u64, bool)>,
    /// Its operator moved its damaged consensus log aside when the network had finalized
    /// this height: what it logged up to there is gone on purpose.
    log_discarded_at: Option<u64>,
    live: Option<Live>,
    /// Bumped on every crash, so timers and replies of a previous life are dropped.
    incarnation: u32,
    /// Set when a crash is due: the node dies in the middle of its next step's outputs,
    /// and stays down this long.
    crash_armed: Option<u64>,
    /// Own messages sent, by slot (height, round, kind 0 = proposal, 1 = prevote,
    /// 2 = precommit): the one message per slot.
    signed: BTreeMap<(u64, u32, u8), Message>,
    /// Highest height checked for agreement.
    checked_height: u64,
}

impl Node {
    fn honest(&self) -> bool {
        self.faulty.is_none()
    }
}

#[derive(Debug)]
enum Event {
    Gossip {
        to: usize,
        from: usize,
        topic: Topic,
        data: Arc<Vec<u8>>,
    },
    Request {
        to: usize,
        from: usize,
        incarnation: u32,
        sent_at: u64,
        request: SyncRequest,
    },
    Reply {
        to: usize,
        from: usize,
        incarnation: u32,
        request: SyncRequest,
        response: Option<SyncResponse>,
    },
    Timer {
        node: usize,
        incarnation: u32,
        timer: Timer,
    },
    Crash {
        node: usize,
        down_ms: u64,
    },
    Restart {
        node: usize,
    },
    /// The operator of a node that refused to start moves its damaged log aside.
    Operator {
        node: usize,
    },
    Link {
        a: usize,
        b: usize,
    },
    Submit,
}

/// A simulation run.
pub struct Sim {
    scenario: Scenario,
    seed: u64,
    genesis: Genesis,
    nodes: Vec<Node>,
    net: Network,
    rng: SplitMix64,
    queue: BTreeMap<(u64, u64), Event>,
    seq: u64,
    now: u64,
    /// The first block hash an honest node finalized at each height.
    decided: BTreeMap<u64, Hash>,
    /// The state root an honest node had at each height.
    roots: BTreeMap<u64, Hash>,
    trace: blake3::Hasher,
    workload: Workload,
    submitted: u64,
    crashes: usize,
    /// The time the last fault ended (partitions healed, crashed nodes back).
    heal_ms: u64,
    /// Scripted crashes that already happened (by index).
    fired: BTreeSet<usize>,
    /// Where file consensus logs live.
    dir: tempfile::TempDir,
    /// Nodes that refused to start on a damaged consensus log, with the height its log was
    /// at.
    refused: BTreeMap<usize, Option<u64>>,
    /// Faulty validators' messages that honest nodes received while they could compare them
    /// with others of their slot (see [`Sim::expose`]): by honest node, its life, signer and
    /// slot, each distinct content (signed bytes) with when it first arrived.
    received: BTreeMap<(usize, u32, usize, Slot), BTreeMap<Hash, u64>>,
    /// Faulty validators' messages that reached any honest node, by signer and slot: their
    /// distinct contents.
    reached: BTreeMap<(usize, Slot), BTreeSet<Hash>>,
}

/// Where the nodes' clocks start: ten seconds after the dev genesis.
fn epoch(genesis: &Genesis) -> u64 {
    genesis.genesis_time_ms + 10_000
}

impl Sim {
    /// A run of `scenario` fixed by `seed`.
    pub fn new(scenario: Scenario, seed: u64) -> Sim {
        let mut rng = SplitMix64::new(seed ^ 0x5eed_0fc0_ffee);
        let n = scenario.powers.len();
        let mut genesis = Genesis::dev();
        genesis.validators = scenario
            .powers
            .iter()
            .enumerate()
            .map(|(i, &power)| GenesisValidator {
                public_key: dev_validator_key(i as u32).address(),
                power,
                addr: None,
            })
            .collect();
        let nodes = (0..n)
            .map(|i| {
                let key = dev_validator_key(i as u32);
                let faulty = scenario
                    .byzantine
                    .iter()
                    .find(|(b, _)| *b == i)
                    .map(|(_, kind)| Faulty::new(*kind, key.clone()));
                let skew = scenario.clock_skew_ms;
                let drawn = rng.between(0, 2 * skew) as i64 - skew as i64;
                let clock_offset_ms = match &scenario.clock_offsets_ms {
                    Some(offsets) => offsets[i],
                    None => drawn,
                };
                Node {
                    key,
                    faulty,
                    clock_offset_ms,
                    disk: Arc::new(MemoryEngine::new()),
                    memory: MemoryLog::new(),
                    log_file: None,
                    recorder: Recorder::default(),
                    pending_crash: None,
                    log_discarded_at: None,
                    live: None,
                    incarnation: 0,
                    crash_armed: None,
                    signed: BTreeMap::new(),
                    checked_height: 0,
                }
            })
            .collect();
        // Partitions: a random non-trivial side, inside the chaos window.
        let mut partitions = Vec::new();
        for _ in 0..scenario.partitions {
            let from_ms = rng.between(1_000, scenario.chaos_until_ms.saturating_sub(2_000));
            let until_ms = rng
                .between(from_ms + 1_000, from_ms + 8_000)
                .min(scenario.chaos_until_ms);
            let mut side: Vec<bool> = (0..n).map(|_| rng.chance(500)).collect();
            if side.iter().all(|s| *s) || side.iter().all(|s| !*s) {
                side[rng.below(n as u64) as usize] ^= true;
            }
            partitions.push(Partition {
                from_ms,
                until_ms,
                side,
            });
        }
        let net = Network {
            config: scenario.net.clone(),
            partitions,
            chaos_until_ms: scenario.chaos_until_ms,
            rng: SplitMix64::new(rng.next_u64()),
        };
        let mut sim = Sim {
            scenario,
            seed,
            genesis,
            nodes,
            net,
            rng,
            queue: BTreeMap::new(),
            seq: 0,
            now: 0,
            decided: BTreeMap::new(),
            roots: BTreeMap::new(),
            trace: blake3::Hasher::new(),
            workload: Workload::dev(4),
            submitted: 0,
            crashes: 0,
            heal_ms: 0,
            fired: BTreeSet::new(),
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary directory: {e}")),
            refused: BTreeMap::new(),
            received: BTreeMap::new(),
            reached: BTreeMap::new(),
        };
        for &i in &sim.scenario.file_logs.clone() {
            sim.nodes[i].log_file = Some(sim.dir.path().join(format!("node{i}.wal")));
        }
        sim.heal_ms = sim.scenario.chaos_until_ms;
        let partitions = sim.net.partitions.clone();
        for p in &partitions {
            for a in 0..n {
                for b in a + 1..n {
                    if p.side[a] != p.side[b] {
                        sim.schedule(p.from_ms, Event::Link { a, b });
                        sim.schedule(p.until_ms, Event::Link { a, b });
                    }
                }
            }
        }
        for _ in 0..sim.scenario.crashes {
            let at = sim
                .rng
                .between(1_000, sim.scenario.chaos_until_ms.saturating_sub(3_000));
            let node = sim.rng.below(n as u64) as usize;
            let down_ms = sim.rng.between(500, 6_000);
            sim.heal_ms = sim.heal_ms.max(at + down_ms + 1_000);
            sim.schedule(at, Event::Crash { node, down_ms });
        }
        sim.schedule(sim.scenario.tx_every_ms, Event::Submit);
        sim
    }

    /// Runs until every honest node reached the goal height, or the liveness bound passed
    /// (which fails the run).
    pub fn run(mut self) -> Outcome {
        for i in 0..self.nodes.len() {
            let started = self.start(i);
            assert!(started, "seed {}: node {i} does not start", self.seed);
        }
        let n = self.nodes.len();
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    self.step(a, Input::PeerUp(b));
                }
            }
        }
        let mut goal = None;
        while let Some(((at, _), event)) = self.queue.pop_first() {
            if at > self.heal_ms + self.scenario.liveness_bound_ms {
                break;
            }
            self.now = at;
            if goal.is_none() && self.now >= self.heal_ms {
                let highest = self.highest_honest();
                goal = Some(
                    (highest + self.scenario.heights_after_heal).max(self.scenario.min_height),
                );
            }
            self.dispatch(event);
            if let Some(goal) = goal {
                if self.honest().all(|i| self.height(i) >= goal) {
                    return self.outcome(goal);
                }
            }
        }
        let goal = goal.unwrap_or(self.scenario.min_height);
        let heights: Vec<String> = (0..n)
            .map(|i| {
                let node = &self.nodes[i];
                match &node.live {
                    Some(live) => format!(
                        "node {i}{}: height {} (engine at {} round {} {:?}, locked {:?})",
                        if node.honest() { "" } else { " (faulty)" },
                        self.height(i),
                        live.host.consensus().height(),
                        live.host.consensus().round(),
                        live.host.consensus().step(),
                        live.host.consensus().locked().map(|l| l.round),
                    ),
                    None => format!("node {i}: down"),
                }
            })
            .collect();
        panic!(
            "seed {}: LIVENESS: not every honest node reached height {goal} within {} ms after \
             the network healed at {} ms:\n  {}",
            self.seed,
            self.scenario.liveness_bound_ms,
            self.heal_ms,
            heights.join("\n  ")
        );
    }

    fn outcome(&mut self, goal: u64) -> Outcome {
        let finished = self.now.saturating_sub(self.heal_ms);
        let mut evidence = 0;
        let seed = self.seed;
        for s in self.scenario.scripted.iter().filter(|s| s.damage_log) {
            assert!(
                self.nodes[s.node].log_discarded_at.is_some(),
                "seed {seed}: node {}'s consensus log was never damaged, or the node never \
                 refused it: the run did not test what it is for",
                s.node
            );
        }
        let faulty: BTreeSet<pov_crypto::Address> = self
            .nodes
            .iter()
            .filter(|n| !n.honest())
            .map(|n| n.key.address())
            .collect();
        // Evidence needs both messages in one place: an equivocation is provable when one
        // honest node received two different messages for one slot while it could compare
        // them. Each such one must be on record at every honest node.
        let settled = self.now.saturating_sub(EVIDENCE_SPREAD_MS);
        let mut must_catch: BTreeMap<usize, (Slot, usize, u64)> = BTreeMap::new();
        for ((node, _, signer, slot), versions) in &self.received {
            let mut times: Vec<u64> = versions.values().copied().collect();
            times.sort_unstable();
            if let Some(&both) = times.get(1) {
                if both <= settled {
                    must_catch.entry(*signer).or_insert((*slot, *node, both));
                }
            }
        }
        let equivocated: BTreeSet<usize> = self
            .reached
            .iter()
            .filter(|(_, versions)| versions.len() > 1)
            .map(|((signer, _), _)| *signer)
            .collect();
        let provable: BTreeSet<usize> = self
            .received
            .iter()
            .filter(|(_, versions)| versions.len() > 1)
            .map(|((_, _, signer, _), _)| *signer)
            .collect();
        let unproven = equivocated.difference(&provable).count();
        for i in self.honest().collect::<Vec<_>>() {
            let Some(live) = &self.nodes[i].live else {
                continue;
            };
            let held = read(&live.shared.store)
                .evidence(0, usize::MAX)
                .unwrap_or_else(|e| panic!("seed {seed}: node {i}: evidence unreadable: {e}"));
            for proof in &held {
                assert!(
                    faulty.contains(&proof.offender()),
                    "seed {seed}: EVIDENCE against an honest validator at node {i}: {proof:?}"
                );
                assert_eq!(
                    proof.verify(),
                    Ok(()),
                    "seed {seed}: node {i} kept bad evidence"
                );
            }
            for (culprit, (slot, witness, at)) in &must_catch {
                let address = self.nodes[*culprit].key.address();
                assert!(
                    held.iter().any(|p| p.offender() == address),
                    "seed {seed}: EVIDENCE: validator {culprit} signed two different messages \
                     for {slot:?} (height, round, kind), honest node {witness} had both at {at} \
                     ms, but honest node {i} holds no evidence of it at {} ms",
                    self.now
                );
            }
            evidence += held.len();
        }
        Outcome {
            trace: Hash(*self.trace.finalize().as_bytes()),
            goal_height: goal,
            finished_after_heal_ms: finished,
            highest: self.highest_honest(),
            crashes: self.crashes,
            evidence,
            caught: must_catch.len(),
            unproven,
        }
    }

    fn honest(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|i| self.nodes[*i].honest())
    }

    /// The stored height of node `i` (what it has finalized), if it is up.
    fn height(&self, i: usize) -> u64 {
        match &self.nodes[i].live {
            Some(live) => read(&live.shared.store).height(),
            None => self.nodes[i].checked_height,
        }
    }

    fn highest_honest(&self) -> u64 {
        self.honest().map(|i| self.height(i)).max().unwrap_or(0)
    }

    fn schedule(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    /// Node `i`'s clock.
    fn clock(&self, i: usize) -> u64 {
        (epoch(&self.genesis) + self.now).saturating_add_signed(self.nodes[i].clock_offset_ms)
    }

    /// Starts (or restarts) node `i` from its disk and consensus log; false if it refused
    /// to start (a damaged consensus log, which a scenario may expect).
    fn start(&mut self, i: usize) -> bool {
        let seed = self.seed;
        let node = &mut self.nodes[i];
        let (inner, records): (Box<dyn ConsensusLog>, Vec<ConsensusMessage>) = match &node.log_file
        {
            None => (Box::new(node.memory.clone()), node.memory.records()),
            Some(path) => match Wal::open(path) {
                Ok((wal, records)) => (Box::new(wal), records),
                Err(error) => {
                    let damaged = self
                        .scenario
                        .scripted
                        .iter()
                        .any(|s| s.node == i && s.damage_log);
                    assert!(damaged, "seed {seed}: node {i} refused to start: {error}");
                    let text = error.to_string();
                    for needed in ["damaged", "sign twice", "aside"] {
                        assert!(
                            text.contains(needed),
                            "seed {seed}: the refusal does not say {needed:?}: {text}"
                        );
                    }
                    let height = match error {
                        WalError::Corrupt { height, .. } => height,
                        WalError::Io { .. } => None,
                    };
                    self.record(i, "refused", &[]);
                    self.refused.insert(i, height);
                    self.schedule(self.now + 2_000, Event::Operator { node: i });
                    return false;
                }
            },
        };
        let store = Store::with_engine(
            Box::new(Disk(node.disk.clone())),
            self.genesis.clone(),
            &OpenOptions::default(),
        )
        .unwrap_or_else(|e| panic!("seed {seed}: node {i}: store does not open: {e}"));
        node.checked_height = node.checked_height.max(store.height());
        let height = store.height() + 1;
        let shared = Arc::new(
            Shared::new(store, 10_000, Some(node.key.address()))
                .unwrap_or_else(|e| panic!("seed {seed}: node {i}: {e}")),
        );
        let config = HostConfig::from_node_config(&pov_node::config::NodeConfig {
            consensus: self.scenario.timing,
            ..Default::default()
        });
        let log = Recorded {
            inner,
            recorder: node.recorder.clone(),
        };
        let mut host = Host::new(
            shared.clone(),
            Some(node.key.clone()),
            Box::new(log),
            config,
        );
        if let Some(path) = &node.log_file {
            let aside = pov_node::wal::aside_path(path);
            let silent = pov_node::wal::damaged_height(&aside)
                .unwrap_or_else(|e| panic!("seed {seed}: node {i}: {e}"));
            host.sign_nothing_through(silent.unwrap_or(0));
        }
        let recorder = node.recorder.clone();
        let now = self.clock(i);
        let outputs = host
            .start(now, records)
            .unwrap_or_else(|e| panic!("seed {seed}: node {i} does not start: {e}"));
        // Everything it logged at this height is back: it can never sign a different vote.
        // (Unless its operator discarded a damaged log: then only the double-signing check
        // guards it.)
        let discarded = self.nodes[i].log_discarded_at.is_some_and(|h| h >= height);
        let me = self.nodes[i].key.address();
        let logged: Vec<SignedVote> = match discarded {
            true => Vec::new(),
            false => lock(&recorder.votes)
                .get(&height)
                .into_iter()
                .flatten()
                .filter(|v| v.vote.validator == me)
                .copied()
                .collect(),
        };
        for vote in logged {
            let restored = host.consensus().own_vote(vote.vote.round, vote.vote.kind);
            assert_eq!(
                restored,
                Some(&vote),
                "seed {seed}: RESTART: node {i} restarted at height {height} without its own \
                 {:?} of round {} that it had logged (its consensus log lost it)",
                vote.vote.kind,
                vote.vote.round
            );
        }
        self.nodes[i].live = Some(Live {
            host,
            shared,
            seen: BTreeMap::new(),
        });
        self.record(i, "start", &[]);
        self.carry_out(i, outputs, None);
        true
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::Gossip {
                to,
                from,
                topic,
                data,
            } => self.deliver(to, from, topic, &data),
            Event::Request {
                to,
                from,
                incarnation,
                sent_at,
                request,
            } => {
                let timeout_at = sent_at + self.net.config.request_timeout_ms;
                if self.nodes[to].live.is_none() || !self.net.linked(to, from, self.now) {
                    self.schedule(
                        timeout_at,
                        Event::Reply {
                            to: from,
                            from: to,
                            incarnation,
                            request,
                            response: None,
                        },
                    );
                    return;
                }
                let outputs = self.step(
                    to,
                    Input::SyncRequest {
                        data: request.to_bytes(),
                    },
                );
                let response = outputs.iter().find_map(|o| match o {
                    Output::Reply(r) => Some(r.clone()),
                    _ => None,
                });
                let back = self.net.deliveries(to, from, self.now);
                let (at, response) = match back.first() {
                    Some(&at) if at < timeout_at => (at, response),
                    _ => (timeout_at, None),
                };
                self.schedule(
                    at,
                    Event::Reply {
                        to: from,
                        from: to,
                        incarnation,
                        request,
                        response,
                    },
                );
                self.carry_out(to, outputs, None);
            }
            Event::Reply {
                to,
                from,
                incarnation,
                request,
                response,
            } => {
                if self.nodes[to].incarnation == incarnation && self.nodes[to].live.is_some() {
                    let outputs = self.step(
                        to,
                        Input::SyncReply {
                            peer: from,
                            request,
                            response,
                        },
                    );
                    self.carry_out(to, outputs, None);
                }
            }
            Event::Timer {
                node,
                incarnation,
                timer,
            } => {
                if self.nodes[node].incarnation == incarnation && self.nodes[node].live.is_some() {
                    let outputs = self.step(node, Input::Timer(timer));
                    self.carry_out(node, outputs, None);
                }
            }
            Event::Crash { node, down_ms } => {
                if self.nodes[node].live.is_some() {
                    self.nodes[node].crash_armed = Some(down_ms);
                }
            }
            Event::Operator { node } => {
                // What the refusal says: move the damaged log aside, under the name it gives,
                // and start again (at once: the restarted node must sign nothing at that
                // height or below, and the double-signing check would catch it if it did).
                let height = self.refused.remove(&node).flatten().unwrap_or(u64::MAX);
                if let Some(path) = &self.nodes[node].log_file {
                    std::fs::rename(path, pov_node::wal::aside_path(path)).unwrap_or_else(|e| {
                        panic!("seed {}: moving the log aside: {e}", self.seed)
                    });
                }
                self.nodes[node].log_discarded_at = Some(height);
                self.schedule(self.now, Event::Restart { node });
            }
            Event::Restart { node } => {
                if !self.start(node) {
                    return;
                }
                if self.nodes[node].honest() {
                    self.heal_ms = self.heal_ms.max(self.now);
                }
                for peer in 0..self.nodes.len() {
                    if peer != node
                        && self.nodes[peer].live.is_some()
                        && self.net.linked(node, peer, self.now)
                    {
                        let outputs = self.step(node, Input::PeerUp(peer));
                        self.carry_out(node, outputs, None);
                        let outputs = self.step(peer, Input::PeerUp(node));
                        self.carry_out(peer, outputs, None);
                    }
                }
            }
            Event::Link { a, b } => {
                let up = self.net.linked(a, b, self.now);
                for (x, y) in [(a, b), (b, a)] {
                    if self.nodes[x].live.is_some() && self.nodes[y].live.is_some() {
                        let input = if up {
                            Input::PeerUp(y)
                        } else {
                            Input::PeerDown(y)
                        };
                        let outputs = self.step(x, input);
                        self.carry_out(x, outputs, None);
                    }
                }
            }
            Event::Submit => {
                self.submit();
                let next = self.now + self.scenario.tx_every_ms;
                self.schedule(next, Event::Submit);
            }
        }
    }

    /// A few valid transactions to a random live node, as its API would take them.
    fn submit(&mut self) {
        let live: Vec<usize> = (0..self.nodes.len())
            .filter(|i| self.nodes[*i].live.is_some())
            .collect();
        if live.is_empty() {
            return;
        }
        let i = live[self.rng.below(live.len() as u64) as usize];
        let count = self.rng.between(1, 3) as usize;
        self.submitted += 1;
        let Some(node) = self.nodes[i].live.as_ref() else {
            return;
        };
        let txs = {
            let pool = lock(&node.shared.mempool);
            self.workload
                .next_txs(pool.pending_state(), self.submitted, count)
        };
        let mut published = Vec::new();
        for tx in txs {
            let envelope = TxEnvelope {
                txs: vec![tx.clone()],
                nonce: self.submitted,
            };
            if lock(&node.shared.mempool).insert(tx).is_ok() {
                published.push(envelope.to_bytes());
            }
        }
        for data in published {
            self.gossip(i, None, Topic::Transactions, data);
        }
    }

    /// Delivers a gossip message to `to`, relayed by `from`.
    fn deliver(&mut self, to: usize, from: usize, topic: Topic, data: &[u8]) {
        let window = self.net.config.seen_window_ms;
        let now = self.now;
        if !self.net.linked(from, to, now) {
            return;
        }
        let id = Hash(*blake3::hash(data).as_bytes());
        let Some(live) = self.nodes[to].live.as_mut() else {
            return;
        };
        if live.seen.get(&id).is_some_and(|at| at + window > now) {
            return;
        }
        live.seen.insert(id, now);
        if live.seen.len() > 50_000 {
            live.seen.retain(|_, at| *at + window > now);
        }
        if topic == Topic::Consensus {
            match self.nodes[to].faulty.as_mut() {
                Some(faulty) => faulty.observe(data),
                None => self.expose(to, data),
            }
        }
        let outputs = self.step(
            to,
            Input::Gossip {
                topic,
                data: data.to_vec(),
            },
        );
        let verdict = outputs.iter().find_map(|o| match o {
            Output::Verdict(v) => Some(*v),
            _ => None,
        });
        if verdict == Some(Verdict::Accept) {
            self.relay(to, from, topic, data);
        }
        self.carry_out(to, outputs, None);
    }

    /// Notes what honest node `to` is about to receive of a faulty validator's messages:
    /// whether it reached an honest node at all, and whether this node can compare it with
    /// others of its slot. It can while the message's height is at most one above its
    /// engine's (a later one is dropped, and the node syncs) and at most
    /// [`EVIDENCE_REGOSSIP_HEIGHTS`] below it (older ones are dropped unread), and within
    /// one life of the node (what it saw is kept in memory).
    fn expose(&mut self, to: usize, data: &[u8]) {
        let Some(message) = Envelope::from_bytes(data)
            .ok()
            .and_then(|e| e.message.to_engine())
        else {
            return;
        };
        let Some(signer) = self
            .nodes
            .iter()
            .position(|n| !n.honest() && n.key.address() == message.signer())
        else {
            return;
        };
        let slot = slot_of(&message);
        let content = pov_crypto::hash(&message.sign_bytes());
        self.reached
            .entry((signer, slot))
            .or_default()
            .insert(content);
        let Some(live) = self.nodes[to].live.as_ref() else {
            return;
        };
        let height = live.host.consensus().height();
        let h = message.height();
        if h <= height.saturating_add(1) && h.saturating_add(EVIDENCE_REGOSSIP_HEIGHTS) >= height {
            let life = self.nodes[to].incarnation;
            self.received
                .entry((to, life, signer, slot))
                .or_default()
                .entry(content)
                .or_insert(self.now);
        }
    }

    /// Node `i` forwards a message it accepted to its other peers.
    fn relay(&mut self, i: usize, from: usize, topic: Topic, data: &[u8]) {
        let data = Arc::new(data.to_vec());
        for peer in 0..self.nodes.len() {
            if peer == i || peer == from {
                continue;
            }
            for at in self.net.deliveries(i, peer, self.now) {
                self.schedule(
                    at,
                    Event::Gossip {
                        to: peer,
                        from: i,
                        topic,
                        data: data.clone(),
                    },
                );
            }
        }
    }

    /// Node `i` publishes `data`: to every peer, or to one half of them.
    fn gossip(
        &mut self,
        i: usize,
        half: Option<super::byzantine::Half>,
        topic: Topic,
        data: Vec<u8>,
    ) {
        let id = Hash(*blake3::hash(&data).as_bytes());
        let now = self.now;
        if let Some(live) = self.nodes[i].live.as_mut() {
            live.seen.insert(id, now);
        }
        let data = Arc::new(data);
        for peer in 0..self.nodes.len() {
            if peer == i || half.is_some_and(|h| !h.contains(peer)) {
                continue;
            }
            for at in self.net.deliveries(i, peer, now) {
                self.schedule(
                    at,
                    Event::Gossip {
                        to: peer,
                        from: i,
                        topic,
                        data: data.clone(),
                    },
                );
            }
        }
    }

    /// Hands node `i` one input and checks the invariants on what it did.
    fn step(&mut self, i: usize, input: Input<usize>) -> Vec<Output<usize>> {
        let now = self.clock(i);
        let seed = self.seed;
        // What the hosts log (`POV_SIM_LOG`) says which node and when (virtual ms).
        let _span = tracing::info_span!("node", id = i, t = self.now).entered();
        let Some(live) = self.nodes[i].live.as_mut() else {
            return Vec::new();
        };
        let outputs = live
            .host
            .handle(now, input)
            .unwrap_or_else(|e| panic!("seed {seed}: node {i} stopped with an error: {e}"));
        self.record(i, "step", &outputs);
        self.check_chain(i);
        outputs
    }

    /// Carries out node `i`'s outputs (verdicts and replies were used by the caller). A
    /// node whose crash is due dies part way through them.
    fn carry_out(&mut self, i: usize, mut outputs: Vec<Output<usize>>, _: Option<()>) {
        let crash = match self.nodes[i].crash_armed {
            Some(down_ms) if !outputs.is_empty() => {
                let keep = self.rng.below(outputs.len() as u64 + 1) as usize;
                outputs.truncate(keep);
                Some(down_ms)
            }
            _ => None,
        };
        for output in outputs {
            if self.nodes[i].live.is_none() {
                break;
            }
            match output {
                Output::Verdict(_) | Output::Reply(_) | Output::Ban { .. } => {}
                Output::Publish { topic, data } => self.publish(i, topic, data),
                Output::Request { peer, request } => {
                    let incarnation = self.nodes[i].incarnation;
                    let sent_at = self.now;
                    match self.net.deliveries(i, peer, self.now).first() {
                        Some(&at) => self.schedule(
                            at,
                            Event::Request {
                                to: peer,
                                from: i,
                                incarnation,
                                sent_at,
                                request,
                            },
                        ),
                        None => {
                            let at = sent_at + self.net.config.request_timeout_ms;
                            self.schedule(
                                at,
                                Event::Reply {
                                    to: i,
                                    from: peer,
                                    incarnation,
                                    request,
                                    response: None,
                                },
                            );
                        }
                    }
                }
                Output::Schedule { timer, after_ms } => {
                    let incarnation = self.nodes[i].incarnation;
                    self.schedule(
                        self.now + after_ms,
                        Event::Timer {
                            node: i,
                            incarnation,
                            timer,
                        },
                    );
                }
            }
        }
        if let Some(down_ms) = crash {
            self.crash(i, down_ms);
        } else if let Some((down_ms, damage)) = self.nodes[i].pending_crash.take() {
            if self.nodes[i].live.is_some() {
                self.crash(i, down_ms);
                if damage {
                    self.damage_log(i);
                }
            }
        }
    }

    /// How many records node `i`'s file consensus log holds (by their length prefixes:
    /// record layout is length (4, little-endian) and checksum (32), then the payload).
    fn file_log_records(&self, i: usize) -> usize {
        let Some(bytes) = self.nodes[i]
            .log_file
            .as_ref()
            .and_then(|path| std::fs::read(path).ok())
        else {
            return 0;
        };
        let (mut at, mut count) = (0usize, 0);
        while let Some(len) = bytes.get(at..at + 4) {
            let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
            at += 36 + len;
            if at > bytes.len() {
                break;
            }
            count += 1;
        }
        count
    }

    /// Flips a byte in the first record of node `i`'s file consensus log.
    fn damage_log(&mut self, i: usize) {
        let seed = self.seed;
        let Some(path) = &self.nodes[i].log_file else {
            panic!("seed {seed}: node {i} has no file log to damage");
        };
        let mut bytes =
            std::fs::read(path).unwrap_or_else(|e| panic!("seed {seed}: reading the log: {e}"));
        // Record layout: length (4) and checksum (32), then the payload.
        assert!(
            bytes.len() > 40,
            "seed {seed}: node {i}'s log is too short to damage"
        );
        bytes[38] ^= 0x40;
        std::fs::write(path, bytes).unwrap_or_else(|e| panic!("seed {seed}: writing the log: {e}"));
        self.record(i, "damage", &[]);
    }

    fn crash(&mut self, i: usize, down_ms: u64) {
        let node = &mut self.nodes[i];
        node.crash_armed = None;
        if let Some(live) = node.live.take() {
            node.checked_height = read(&live.shared.store).height();
        }
        node.incarnation += 1;
        self.crashes += 1;
        self.record(i, "crash", &[]);
        for peer in 0..self.nodes.len() {
            if peer != i && self.nodes[peer].live.is_some() {
                let outputs = self.step(peer, Input::PeerDown(i));
                self.carry_out(peer, outputs, None);
            }
        }
        self.schedule(self.now + down_ms, Event::Restart { node: i });
    }

    /// Node `i` publishes: checks an honest node's own messages, lets a faulty node
    /// rewrite what it sends, and gossips.
    fn publish(&mut self, i: usize, topic: Topic, data: Vec<u8>) {
        if topic == Topic::Consensus && self.nodes[i].honest() {
            self.check_own(i, &data);
        }
        if topic == Topic::Consensus {
            self.trigger_scripted(i, &data);
        }
        let now = self.clock(i);
        let sends = match self.nodes[i].faulty.as_mut() {
            Some(faulty) => faulty.rewrite(topic, data, now, &mut self.rng),
            None => vec![(None, data)],
        };
        for (half, data) in sends {
            self.gossip(i, half, topic, data);
        }
    }

    /// Arms a scripted crash when node `i` sends the message it waits for.
    fn trigger_scripted(&mut self, i: usize, data: &[u8]) {
        let Some(message) = Envelope::from_bytes(data)
            .ok()
            .and_then(|e| e.message.to_engine())
        else {
            return;
        };
        if message.signer() != self.nodes[i].key.address() {
            return;
        }
        let kind = match message {
            Message::Proposal(_) => After::Proposal,
            Message::Vote(v)
                if v.vote.kind == pov_consensus::VoteKind::Precommit && !v.vote.value.is_nil() =>
            {
                After::Precommit
            }
            Message::Vote(_) => return,
        };
        // A crash that damages the log needs a record after the damaged one (a damaged last
        // record is a torn write, which is cut): when the node's own precommit decided the
        // height, its log was cleared in the same step, so the damage waits for a later
        // height.
        let records = self.file_log_records(i);
        let due = self.scenario.scripted.iter().enumerate().find(|(k, s)| {
            s.node == i
                && s.after == kind
                && !self.fired.contains(k)
                && match s.damage_log {
                    false => s.height == message.height(),
                    true => s.height <= message.height() && records >= 2,
                }
        });
        if let Some((k, scripted)) = due {
            self.nodes[i].pending_crash = Some((scripted.down_ms, scripted.damage_log));
            self.fired.insert(k);
        }
    }

    /// An honest node's own consensus message: persisted before it is sent, and the only
    /// one it ever signed for its slot.
    fn check_own(&mut self, i: usize, data: &[u8]) {
        let seed = self.seed;
        let Ok(envelope) = Envelope::from_bytes(data) else {
            panic!("seed {seed}: node {i} published a malformed envelope");
        };
        let Some(message) = envelope.message.to_engine() else {
            return;
        };
        let node = &mut self.nodes[i];
        if message.signer() != node.key.address() {
            return;
        }
        let id = message_id(&message);
        assert!(
            lock(&node.recorder.ever).contains(&id),
            "seed {seed}: node {i} sent an own message it had not persisted: {message:?}"
        );
        let slot = slot_of(&message);
        let first = *node.signed.entry(slot).or_insert(message);
        assert_eq!(
            first, message,
            "seed {seed}: DOUBLE SIGNING: honest node {i} signed two messages for {slot:?}"
        );
    }

    /// Agreement and state roots, after node `i`'s step.
    fn check_chain(&mut self, i: usize) {
        if !self.nodes[i].honest() {
            return;
        }
        let seed = self.seed;
        let Some(live) = self.nodes[i].live.as_ref() else {
            return;
        };
        let store = read(&live.shared.store);
        let height = store.height();
        let from = self.nodes[i].checked_height + 1;
        for h in from..=height {
            let hash = match store.block(h) {
                Ok(Some(b)) => b.block.hash(),
                other => panic!("seed {seed}: node {i} lost its block {h}: {other:?}"),
            };
            let first = *self.decided.entry(h).or_insert(hash);
            assert_eq!(
                first, hash,
                "seed {seed}: SAFETY: honest nodes finalized different blocks at height {h}"
            );
        }
        if height >= from {
            let root = store.state_root();
            let first = *self.roots.entry(height).or_insert(root);
            assert_eq!(
                first, root,
                "seed {seed}: STATE: honest nodes have different state roots at height {height}"
            );
        }
        drop(store);
        self.nodes[i].checked_height = self.nodes[i].checked_height.max(height);
    }

    /// Adds a step to the trace digest.
    fn record(&mut self, i: usize, what: &str, outputs: &[Output<usize>]) {
        self.trace.update(&self.now.to_le_bytes());
        self.trace.update(&(i as u64).to_le_bytes());
        self.trace.update(what.as_bytes());
        for output in outputs {
            match output {
                Output::Publish { data, .. } => {
                    self.trace.update(data);
                }
                other => {
                    self.trace.update(format!("{other:?}").as_bytes());
                }
            }
        }
    }
}

/// The slot a message is for.
fn slot_of(message: &Message) -> Slot {
    match message {
        Message::Proposal(p) => (p.proposal.height, p.proposal.round, 0),
        Message::Vote(v) => (
            v.vote.height,
            v.vote.round,
            match v.vote.kind {
                pov_consensus::VoteKind::Prevote => 1,
                pov_consensus::VoteKind::Precommit => 2,
            },
        ),
    }
}

/// A message's identity: its signed bytes and signature.
fn message_id(message: &Message) -> Hash {
    pov_crypto::hash_parts(&[&message.sign_bytes(), &message.signature().0])
}
