//! Replays a trace of the model through pov's engine, one engine per correct node, and
//! compares what the engine does with what the model's node did.
//!
//! # How a step is replayed
//!
//! In each state where a node's driver took a step (`valStep` or `valTimeout`), the replay
//! hands the node's engine the same external event: a proposal or vote from another node
//! (signed with that node's key), a timeout of the node's current round, the host's answer
//! to `GetValue`, or the start of a height. What the model's driver does internally (its
//! `PendingDInput` and `StepChangeDInput` steps) has no counterpart: the engine applies every
//! rule that became true within one call, so it is often a few steps ahead of the model.
//!
//! So the engine's observable outputs (votes cast, proposals sent, `GetValue`, timeouts
//! scheduled, decisions) go into a queue, and every output of the model must be found there
//! (a timeout may also be one the engine scheduled before: the model schedules some twice).
//! Whenever the model's node is *quiescent* (its driver has no step change or queued input
//! left for its current round, and it has processed every message it sent itself), the queue
//! must be empty and the engine's state must equal the model's: round, step, lock
//! (`lockedRound`, `lockedValue`), valid value (`validRound`, `validValue`) and decision.
//!
//! # Mapping
//!
//! Node `i` of the model's validator list (in the trace's order) gets `Keypair::dev(i)` and
//! the weight the model gives it. The model's proposer of round `r` is list entry
//! `(r + 1) mod n` at every height; pov's is entry `(height + r) mod n`, so model height `h`
//! is pov height `n * h + 1`. A value `"red"` is the hash of its bytes; `"invalid"` is the
//! model's one invalid value, and the engine is told so through `Input::Proposal::valid`.
//!
//! # Where pov and the model differ
//!
//! Each difference is one of [`Adaptation`] (the replay feeds the engine in a way that
//! keeps both comparable, and counts it) or [`Deviation`] (the trace reached a case where
//! the two may legitimately act differently: from then on a mismatch stops the replay of
//! that node for the rest of its height, with the reason, instead of failing the test). `docs/consensus.md` (section
//! "Model-based tests") gives the reason for each.
//!
//! The engine's own deviations from the paper (see the crate documentation) meet the model
//! as follows. Asynchronous `getValue` with `timeoutPropose`: the model does the same
//! (`GetValueAndScheduleTimeoutOutput`), and it is compared. `valid(v)` from the host: the
//! model's `isValid`, handed over as [`Validity`]. Persisted before sent: the model has no
//! log; the replay checks that every own message the engine broadcasts was persisted
//! before. Several proposals per round: [`Deviation::SeveralProposals`]. Equivocation
//! counted for both values: [`Deviation::Equivocation`]. Next-height buffering: the model
//! keeps such messages too and loads them when it starts the height
//! ([`Adaptation::PreloadedStart`]). Rounds far ahead dropped, re-broadcasts, restarts and
//! observers: outside what the model describes (its rounds stay small; it has no log and
//! no observer).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use pov_consensus::{
    Consensus, ConsensusConfig, Effect, Input as EngineInput, Message, NilOrVal,
    Proposal as EngineProposal, RoundValue, Step as EngineStep, Timeout, Validator, ValidatorSet,
    Validity, Vote as EngineVote, VoteKind,
};
use pov_crypto::{Hash, Keypair};

use crate::model::{
    self, Input, Kind, NodeView, Output, Proposal, Step, TimeoutKind, Trace, Vote, Weights,
};

/// Where the replay feeds the engine differently from the model's literal input, so that
/// both stay comparable. Counted, never an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Adaptation {
    /// The model's node processes its own proposals and votes when they come back from the
    /// network; the engine counts them when it sends them. They are not fed again.
    OwnMessageNotRefed,
    /// A valid proposal for a round above the engine's is held back until the model's
    /// driver looks at it: at its next step change in that round, or when it decides with
    /// it. The model's driver re-checks the proposals it holds only when its step changes
    /// (not when a round skip leaves it in the propose step), and its vote keeper counts
    /// only votes toward the f+1 round skip. pov acts on a proposal it holds as soon as it
    /// enters the round, and counts the proposer toward the f+1 skip, as the paper does.
    FutureProposalHeld,
    /// The model's driver loads the votes it received for a height before starting it and
    /// goes straight to the decision or the highest round they show; pov starts round 0
    /// and then takes the votes one by one (as it does with buffered next-height
    /// messages). What the engine outputs on the way is dropped: the model never started
    /// round 0, and it never fires those timeouts.
    PreloadedStart,
    /// An invalid proposal that is not for the node's current round and step is not fed:
    /// the model's driver forgets it; pov keeps it and prevotes nil on it when it enters
    /// that round, as the paper's L22/L28 do.
    InvalidProposalForgotten,
    /// The model starts `timeoutPropose` when a proposer re-proposes its valid value; pov
    /// does not, because it handles its own proposal at once and is past the propose step.
    NoProposeTimeoutOnReproposal,
    /// The engine scheduled a timeout for a step it had already left in the same call (it
    /// applies L34 and L47 before L36 in one pass): the timeout can never act.
    InertTimeout,
    /// The model's vote keeper reported 2/3+ prevotes of a round while the node was still
    /// in the propose step; the consensus function refused it, and the driver re-checks it
    /// on the step change to prevote only if it holds no proposal for the round. So the
    /// model's node never starts `timeoutPrevote` there, while pov's L34 does once the node
    /// prevotes. That timeout of the engine is set aside (the model never fires it).
    LostPolkaAny,
    /// After deciding, pov waits for the host to start the next height; the model's node
    /// keeps running rounds of the decided height. Those steps are not replayed.
    StepAfterDecision,
}

/// A case in which pov follows the paper (or a stricter rule) and the model does not, so
/// that the two can act differently. Once a node's trace reaches one, a mismatch stops the
/// replay of that node until its next height (reported with the reason) instead of failing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Deviation {
    /// A certificate: the model applies it as one batch (no f+1 round skip, and it replaces
    /// the round's tally); pov has no certificate message and takes its votes one by one.
    Certificate,
    /// A validator's second, different vote for a slot: pov counts both (as the paper
    /// counts messages), the model only the first.
    Equivocation,
    /// An invalid proposal with a POL round: the model prevotes nil at once even without a
    /// polka for that round; pov (the paper's L28) waits for the polka or the timeout.
    InvalidProposalWithPolRound,
    /// A proposal whose POL round is not below its round: pov drops it (no correct proposer
    /// sends one), the model keeps it for L36 and L49.
    PolRoundNotBelowRound,
    /// Several proposals for one round from a faulty proposer: the model picks any one of
    /// them on a step change, pov the first that arrived.
    SeveralProposals,
    /// The model's vote keeper reported 2/3+ nil prevotes while the node was still in the
    /// propose step: as with [`Adaptation::LostPolkaAny`], the model may never act on them,
    /// while pov's L44 precommits nil once the node prevotes.
    LostPolkaNil,
    /// Votes received before the height started: the model's vote keeper loads them at
    /// once and records the thresholds they reach (a polka, f+1 of a round) without acting
    /// on them, and never reports those thresholds again; pov takes them one by one.
    PreloadedVotes,
    /// A timeout fired at the model's node before it had processed the messages it sent
    /// itself. pov counts its own votes and proposal when it sends them, so it may have
    /// acted on them already (for example decided with its own precommit).
    TimeoutBeforeOwnMessages,
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Totals over every replayed trace.
#[derive(Debug, Default)]
pub struct Summary {
    /// Traces replayed.
    pub traces: usize,
    /// Driver steps replayed (engine fed and outputs matched).
    pub steps: usize,
    /// Quiescent points at which the engine's whole state was compared with the model's.
    pub compared: usize,
    /// How often each adaptation was applied.
    pub adaptations: BTreeMap<Adaptation, usize>,
    /// Nodes whose replay stopped at a mismatch explained by a deviation: (trace, node,
    /// state index, reason).
    pub stopped: Vec<(String, String, usize, String)>,
    /// What the compared steps covered (event name, count), to check that a trace set
    /// exercises locks, POL rounds, round skips, timeouts and decisions.
    pub coverage: BTreeMap<&'static str, usize>,
}

impl Summary {
    fn adapt(&mut self, a: Adaptation) {
        *self.adaptations.entry(a).or_default() += 1;
    }

    fn cover(&mut self, what: &'static str) {
        *self.coverage.entry(what).or_default() += 1;
    }
}

/// An output of a node, as both sides see it (at the node's current height).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Obs {
    GetValue {
        round: i64,
    },
    Proposal {
        round: i64,
        value: String,
        pol_round: i64,
    },
    Vote {
        kind: Kind,
        round: i64,
        value: Option<String>,
    },
    Timeout {
        round: i64,
        step: TimeoutKind,
    },
    Decide {
        round: i64,
        value: String,
    },
}

/// What a node has sent itself and the model has not processed yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Own {
    Proposal(i64),
    Vote(Kind, i64),
}

/// Everything the replay keeps for one correct node.
struct Node {
    name: String,
    engine: Consensus,
    /// The model height the engine is at (`None` before the first start).
    height: Option<i64>,
    /// Engine outputs the model has not shown yet.
    pending: Vec<Obs>,
    /// Every timeout the engine scheduled at this height.
    scheduled: BTreeSet<(i64, TimeoutKind)>,
    own_unprocessed: BTreeSet<Own>,
    /// Valid proposals for rounds above the engine's, in arrival order.
    held: Vec<Proposal>,
    /// The first vote value seen per (sender, kind, round), to spot equivocation.
    seen_votes: BTreeMap<(String, Kind, i64), Option<String>>,
    /// The proposals of others the node was given, per round (to spot several proposals
    /// for one round, and to tell which rule a prevote came from).
    proposed: BTreeMap<i64, Vec<Proposal>>,
    flags: BTreeSet<Deviation>,
    stopped: bool,
    /// The model's node decided the current height (its decision was matched).
    model_decided: bool,
    /// Sign-bytes of every message the engine told the host to persist at this height:
    /// each own message must be persisted before it is broadcast.
    persisted: BTreeSet<Vec<u8>>,
    /// Rounds in which the model lost a polka-any (see [`Adaptation::LostPolkaAny`]).
    lost_polka_any: BTreeSet<i64>,
    /// Lock and valid value at the last comparison (for the coverage count).
    last_locked: Option<(i64, String)>,
    last_valid: Option<(i64, String)>,
}

/// The shared context of one trace's replay.
struct Ctx<'a> {
    trace: &'a Trace,
    n: u64,
    keys: BTreeMap<String, Keypair>,
    values: BTreeMap<Hash, String>,
}

impl Ctx<'_> {
    fn pov_height(&self, h: i64) -> Result<u64, String> {
        u64::try_from(h)
            .ok()
            .and_then(|h| h.checked_mul(self.n)?.checked_add(1))
            .ok_or_else(|| format!("height {h} out of range"))
    }

    fn value(&mut self, v: &str) -> Hash {
        let hash = pov_crypto::hash(v.as_bytes());
        self.values.insert(hash, v.to_owned());
        hash
    }

    fn name_of(&self, hash: &Hash) -> Result<String, String> {
        self.values
            .get(hash)
            .cloned()
            .ok_or_else(|| format!("the engine output a value the trace never named: {hash:?}"))
    }

    fn key(&self, name: &str) -> Result<&Keypair, String> {
        self.keys
            .get(name)
            .ok_or_else(|| format!("`{name}` is not in the model's validator set"))
    }

    fn signed_vote(&mut self, vote: &Vote) -> Result<EngineInput, String> {
        let value = NilOrVal::from(vote.value.as_deref().map(|v| self.value(v)));
        let key = self.key(&vote.src)?;
        let signed = EngineVote {
            kind: match vote.kind {
                Kind::Prevote => VoteKind::Prevote,
                Kind::Precommit => VoteKind::Precommit,
            },
            height: self.pov_height(vote.height)?,
            round: round_u32(vote.round)?,
            value,
            validator: key.address(),
        }
        .sign(key)
        .map_err(|e| e.to_string())?;
        Ok(EngineInput::Vote(signed))
    }

    fn signed_proposal(&mut self, p: &Proposal) -> Result<EngineInput, String> {
        let value = self.value(&p.value);
        let key = self.key(&p.src)?;
        let proposal = EngineProposal {
            height: self.pov_height(p.height)?,
            round: round_u32(p.round)?,
            value,
            pol_round: if p.valid_round < 0 {
                None
            } else {
                Some(round_u32(p.valid_round)?)
            },
            proposer: key.address(),
        }
        .sign(key)
        .map_err(|e| e.to_string())?;
        Ok(EngineInput::Proposal {
            proposal,
            validity: Validity::from(model::is_valid(&p.value)),
        })
    }
}

fn round_u32(r: i64) -> Result<u32, String> {
    u32::try_from(r).map_err(|_| format!("round {r} out of range"))
}

fn model_step(step: EngineStep) -> Step {
    match step {
        EngineStep::Propose => Step::Propose,
        EngineStep::Prevote => Step::Prevote,
        EngineStep::Precommit => Step::Precommit,
    }
}

fn timeout_kind(step: EngineStep) -> TimeoutKind {
    match step {
        EngineStep::Propose => TimeoutKind::Propose,
        EngineStep::Prevote => TimeoutKind::Prevote,
        EngineStep::Precommit => TimeoutKind::Precommit,
    }
}

/// The validator set and correct nodes of a trace, from the first state that has them.
fn validators(trace: &Trace) -> Result<(Weights, Vec<String>), String> {
    let first = trace.states.first().ok_or("the trace has no states")?;
    let correct: Vec<String> = first.nodes.keys().cloned().collect();
    let valset = trace
        .states
        .iter()
        .flat_map(|s| s.nodes.values())
        .find_map(|n| n.valset.clone())
        .ok_or("no node state in the trace names the validator set (`es.valset`)")?;
    Ok((valset, correct))
}

/// Whether state `i` is a step of a node's driver.
fn is_driver_step(trace: &Trace, i: usize) -> bool {
    let state = &trace.states[i];
    let changed = i == 0 || trace.states[i - 1].hist.raw != state.hist.raw;
    match state.action.as_deref() {
        Some("valStep") => true,
        Some("valTimeout") => changed,
        Some(_) => false,
        None => i > 0 && changed,
    }
}

/// Replays one trace, adding to `summary`. Returns the first unexplained mismatch.
pub fn replay(trace: &Trace, summary: &mut Summary) -> Result<(), String> {
    let (valset, correct) = validators(trace)?;
    let n = u64::try_from(valset.len()).map_err(|_| "empty validator set")?;
    let mut keys = BTreeMap::new();
    let mut set = Vec::new();
    for (i, (name, weight)) in valset.iter().enumerate() {
        let key = Keypair::dev(u32::try_from(i).map_err(|_| "too many validators")?);
        set.push(Validator {
            address: key.address(),
            power: u64::try_from(*weight).map_err(|_| format!("negative weight of {name}"))?,
        });
        keys.insert(name.clone(), key);
    }
    let set = ValidatorSet::new(set).map_err(|e| format!("validator set: {e}"))?;
    let mut ctx = Ctx {
        trace,
        n,
        keys,
        values: BTreeMap::new(),
    };
    let mut nodes = BTreeMap::new();
    for name in &correct {
        let key = ctx.key(name)?.clone();
        nodes.insert(
            name.clone(),
            Node {
                name: name.clone(),
                engine: Consensus::new(ConsensusConfig::default(), set.clone(), key),
                height: None,
                pending: Vec::new(),
                scheduled: BTreeSet::new(),
                own_unprocessed: BTreeSet::new(),
                held: Vec::new(),
                seen_votes: BTreeMap::new(),
                proposed: BTreeMap::new(),
                flags: BTreeSet::new(),
                stopped: false,
                model_decided: false,
                persisted: BTreeSet::new(),
                lost_polka_any: BTreeSet::new(),
                last_locked: None,
                last_valid: None,
            },
        );
    }
    let mut last: BTreeMap<String, NodeView> = BTreeMap::new();
    for i in 0..trace.states.len() {
        let state = &trace.states[i];
        if is_driver_step(trace, i) {
            let v = &state.hist.validator;
            let node = nodes.get_mut(v).ok_or_else(|| {
                format!(
                    "{}: state {}: step of unknown node `{v}`",
                    trace.name, state.index
                )
            })?;
            let post = state.nodes.get(v).ok_or_else(|| {
                format!("{}: state {}: no state of `{v}`", trace.name, state.index)
            })?;
            let pre = last.get(v);
            if node.stopped && pre.is_some_and(|p| !p.started) {
                // A new height starts afresh: the deviation that stopped the node was about
                // the height before.
                node.stopped = false;
                node.pending.clear();
            }
            if !node.stopped {
                let result = step(&mut ctx, node, pre, post, i, summary);
                if let Err(mismatch) = result {
                    let at = format!(
                        "{}: state {}: node {v}: input {:?}, model output {:?}: {mismatch}\n  engine: round {} step {:?} locked {:?} valid {:?} decided {}; model after: {post:?}; engine outputs not matched: {:?}",
                        trace.name,
                        state.index,
                        state.hist.input,
                        state.hist.output,
                        node.engine.round(),
                        node.engine.step(),
                        node.engine.locked(),
                        node.engine.valid_value(),
                        node.engine.is_decided(),
                        node.pending,
                    );
                    if node.flags.is_empty() {
                        return Err(at);
                    }
                    node.stopped = true;
                    let flags: Vec<String> = node.flags.iter().map(ToString::to_string).collect();
                    summary.stopped.push((
                        trace.name.clone(),
                        v.clone(),
                        state.index,
                        format!("after {}: {mismatch}", flags.join(", ")),
                    ));
                }
            }
        }
        for (name, view) in &state.nodes {
            last.insert(name.clone(), view.clone());
        }
    }
    summary.traces += 1;
    Ok(())
}

/// Replays one driver step of `node`: `pre` is its state before, `post` after.
fn step(
    ctx: &mut Ctx<'_>,
    node: &mut Node,
    pre: Option<&NodeView>,
    post: &NodeView,
    i: usize,
    summary: &mut Summary,
) -> Result<(), String> {
    let state = &ctx.trace.states[i];
    let was_started = pre.is_some_and(|p| p.started);
    let mut preloaded = false;
    if !was_started {
        // The driver (re)starts its height in this step (`getNewHeightAction`), after
        // loading the votes it had received for that height.
        start_height(ctx, node, post.height, summary)?;
        if let Some(pre) = pre {
            let mut votes: Vec<Vote> = pre.incoming_votes.clone().unwrap_or_default();
            for cert in pre.incoming_certificates.clone().unwrap_or_default() {
                node.flags.insert(Deviation::Certificate);
                votes.extend(cert);
            }
            let votes: Vec<&Vote> = votes
                .iter()
                .filter(|v| v.height == post.height && v.src != node.name)
                .collect();
            if !votes.is_empty() {
                node.flags.insert(Deviation::PreloadedVotes);
            }
            preloaded = !votes.is_empty() && !matches!(state.hist.input, Input::Start);
            for vote in votes {
                feed_vote(ctx, node, vote, summary)?;
            }
        }
    }
    let height = node.height.ok_or("the node took a step before starting")?;
    if post.height != height {
        return Err(format!(
            "the model's node is at height {} but was started at {height}",
            post.height
        ));
    }
    if node.model_decided {
        summary.adapt(Adaptation::StepAfterDecision);
        return Ok(());
    }
    summary.steps += 1;
    let pre_round = pre.map_or(post.round, |p| p.round);
    match &state.hist.input {
        Input::Nothing | Input::Start | Input::Pending(_) => {}
        Input::StepChange => {
            // The model's driver looks at the proposals it holds for its round.
            release_held(ctx, node, |round| round == pre_round)?;
        }
        Input::Proposal(p) => {
            if p.height != height {
                return Err(format!(
                    "proposal of height {} at height {height}",
                    p.height
                ));
            }
            if p.src == node.name {
                node.own_unprocessed.remove(&Own::Proposal(p.round));
                summary.adapt(Adaptation::OwnMessageNotRefed);
            } else {
                feed_proposal(ctx, node, p, summary)?;
            }
        }
        Input::Vote(vote) => {
            if vote.src == node.name {
                node.own_unprocessed
                    .remove(&Own::Vote(vote.kind, vote.round));
                summary.adapt(Adaptation::OwnMessageNotRefed);
            } else {
                feed_vote(ctx, node, vote, summary)?;
            }
        }
        Input::Certificate(votes) => {
            node.flags.insert(Deviation::Certificate);
            for vote in votes {
                if vote.src != node.name {
                    feed_vote(ctx, node, vote, summary)?;
                }
            }
        }
        Input::Timeout(kind) => {
            let step = match kind {
                TimeoutKind::Propose => EngineStep::Propose,
                TimeoutKind::Prevote => EngineStep::Prevote,
                TimeoutKind::Precommit => EngineStep::Precommit,
            };
            summary.cover(match kind {
                TimeoutKind::Propose => "timeout propose fired",
                TimeoutKind::Prevote => "timeout prevote fired",
                TimeoutKind::Precommit => "timeout precommit fired",
            });
            let input = EngineInput::Timeout(Timeout {
                height: ctx.pov_height(height)?,
                round: round_u32(pre_round)?,
                step,
            });
            feed(ctx, node, input)?;
        }
        Input::ProposeValue(value) => {
            let input = EngineInput::ProposeValue {
                height: ctx.pov_height(height)?,
                round: round_u32(pre_round)?,
                value: ctx.value(value),
            };
            feed(ctx, node, input)?;
        }
    }
    if let Input::Timeout(_) = state.hist.input {
        if !node.own_unprocessed.is_empty() {
            node.flags.insert(Deviation::TimeoutBeforeOwnMessages);
        }
    }
    match_output(
        ctx,
        node,
        &state.hist.output,
        &state.hist.validator,
        summary,
    )?;
    if let Output::Error(reason) = &state.hist.output {
        match reason.as_str() {
            "PolkaAnyCInput when not in PrevoteStep" => {
                node.lost_polka_any.insert(pre_round);
            }
            "PolkaNilCInput when not in PrevoteStep" => {
                node.flags.insert(Deviation::LostPolkaNil);
            }
            _ => {}
        }
    }
    if preloaded {
        // The model jumped (to a decision or a round) without starting round 0; what the
        // engine did on the way there has no counterpart.
        summary.adapt(Adaptation::PreloadedStart);
        node.pending.clear();
    }
    if was_started
        && post.round > pre_round
        && !matches!(state.hist.input, Input::Timeout(TimeoutKind::Precommit))
    {
        summary.cover("round skip (f+1 of a later round)");
    }
    let quiescent = post.step == Step::Commit
        || (post.started
            && post.pending_step_change == Step::Unset
            && !post.pending_inputs.contains(&(post.height, post.round))
            && node.own_unprocessed.is_empty());
    if quiescent {
        compare(node, post, summary)?;
    }
    Ok(())
}

fn start_height(
    ctx: &mut Ctx<'_>,
    node: &mut Node,
    height: i64,
    summary: &mut Summary,
) -> Result<(), String> {
    if node.height.is_some_and(|h| h >= height) {
        return Err(format!("the model restarted height {height}"));
    }
    drop_inert(node, summary);
    if !node.pending.is_empty() {
        return Err(format!(
            "new height {height} while engine outputs were never matched"
        ));
    }
    node.height = Some(height);
    node.model_decided = false;
    node.scheduled.clear();
    node.persisted.clear();
    node.lost_polka_any.clear();
    node.own_unprocessed.clear();
    node.held.clear();
    node.seen_votes.clear();
    node.proposed.clear();
    node.flags.clear();
    let effects = node
        .engine
        .start_height(ctx.pov_height(height)?)
        .map_err(|e| format!("start_height: {e}"))?;
    absorb(ctx, node, effects)
}

fn feed_vote(
    ctx: &mut Ctx<'_>,
    node: &mut Node,
    vote: &Vote,
    summary: &mut Summary,
) -> Result<(), String> {
    let slot = (vote.src.clone(), vote.kind, vote.round);
    match node.seen_votes.get(&slot) {
        Some(first) if *first != vote.value => {
            node.flags.insert(Deviation::Equivocation);
        }
        Some(_) => {}
        None => {
            node.seen_votes.insert(slot, vote.value.clone());
        }
    }
    if vote.value.is_none() {
        summary.cover("nil vote received");
    }
    let input = ctx.signed_vote(vote)?;
    feed(ctx, node, input)
}

fn feed_proposal(
    ctx: &mut Ctx<'_>,
    node: &mut Node,
    p: &Proposal,
    summary: &mut Summary,
) -> Result<(), String> {
    let round = i64::from(node.engine.round());
    if !model::is_valid(&p.value) {
        let current = p.round == round && node.engine.step() == EngineStep::Propose;
        if !current {
            summary.adapt(Adaptation::InvalidProposalForgotten);
            return Ok(());
        }
        if p.valid_round >= 0 {
            node.flags.insert(Deviation::InvalidProposalWithPolRound);
        }
        summary.cover("invalid proposal");
    }
    // The engine gets this proposal, now or (held) later.
    let proposals = node.proposed.entry(p.round).or_default();
    if !proposals.contains(p) {
        proposals.push(p.clone());
    }
    if proposals.iter().any(|q| q.value != p.value) {
        node.flags.insert(Deviation::SeveralProposals);
    }
    if p.valid_round >= p.round {
        node.flags.insert(Deviation::PolRoundNotBelowRound);
    }
    if p.valid_round >= 0 {
        summary.cover("proposal with a POL round");
    }
    if p.round > round {
        summary.adapt(Adaptation::FutureProposalHeld);
        node.held.push(p.clone());
        return Ok(());
    }
    let input = ctx.signed_proposal(p)?;
    feed(ctx, node, input)
}

/// Hands the engine one input and collects its outputs.
fn feed(ctx: &mut Ctx<'_>, node: &mut Node, input: EngineInput) -> Result<(), String> {
    let effects = node.engine.handle(input);
    absorb(ctx, node, effects)
}

/// Hands the engine the held proposals whose round satisfies `due`, in arrival order.
fn release_held(
    ctx: &mut Ctx<'_>,
    node: &mut Node,
    due: impl Fn(i64) -> bool,
) -> Result<(), String> {
    loop {
        let Some(at) = node.held.iter().position(|p| due(p.round)) else {
            return Ok(());
        };
        let p = node.held.remove(at);
        let input = ctx.signed_proposal(&p)?;
        let effects = node.engine.handle(input);
        absorb(ctx, node, effects)?;
    }
}

/// Turns engine effects into observations.
fn absorb(ctx: &mut Ctx<'_>, node: &mut Node, effects: Vec<Effect>) -> Result<(), String> {
    let height = node.height.ok_or("effects before the first height")?;
    let pov_height = ctx.pov_height(height)?;
    let me = node.engine.address();
    for effect in effects {
        if let Effect::Broadcast(message) = &effect {
            if !node.persisted.contains(&message.sign_bytes()) {
                return Err(format!(
                    "the engine broadcast {message:?} before persisting it"
                ));
            }
        }
        let obs = match effect {
            Effect::PersistVote(v) => {
                node.persisted.insert(v.vote.sign_bytes());
                continue;
            }
            Effect::PersistProposal(p) => {
                node.persisted.insert(p.proposal.sign_bytes());
                continue;
            }
            Effect::Evidence(_) => continue,
            Effect::Broadcast(Message::Vote(v)) => {
                let v = v.vote;
                if v.validator != me || v.height != pov_height {
                    return Err(format!(
                        "the engine broadcast a vote not its own or of another height: {v:?}"
                    ));
                }
                Obs::Vote {
                    kind: match v.kind {
                        VoteKind::Prevote => Kind::Prevote,
                        VoteKind::Precommit => Kind::Precommit,
                    },
                    round: i64::from(v.round),
                    value: v.value.value().map(|h| ctx.name_of(&h)).transpose()?,
                }
            }
            Effect::Broadcast(Message::Proposal(p)) => {
                let p = p.proposal;
                if p.proposer != me || p.height != pov_height {
                    return Err(format!(
                        "the engine broadcast a proposal not its own or of another height: {p:?}"
                    ));
                }
                Obs::Proposal {
                    round: i64::from(p.round),
                    value: ctx.name_of(&p.value)?,
                    pol_round: p.pol_round.map_or(-1, i64::from),
                }
            }
            Effect::ScheduleTimeout { timeout, .. } => {
                if timeout.height != pov_height {
                    return Err(format!(
                        "the engine scheduled a timeout of another height: {timeout:?}"
                    ));
                }
                let t = (i64::from(timeout.round), timeout_kind(timeout.step));
                node.scheduled.insert(t);
                Obs::Timeout {
                    round: t.0,
                    step: t.1,
                }
            }
            Effect::GetValue { height: h, round } => {
                if h != pov_height {
                    return Err(format!("the engine asked for a value of height {h}"));
                }
                Obs::GetValue {
                    round: i64::from(round),
                }
            }
            Effect::Decide {
                proposal,
                certificate,
            } => {
                let p = proposal.proposal;
                if p.height != pov_height || certificate.round != p.round {
                    return Err(format!(
                        "inconsistent decision: {proposal:?} / {certificate:?}"
                    ));
                }
                certificate
                    .verify(node.engine.validators(), pov_height, &p.value)
                    .map_err(|e| format!("the engine's commit certificate does not verify: {e}"))?;
                Obs::Decide {
                    round: i64::from(p.round),
                    value: ctx.name_of(&p.value)?,
                }
            }
        };
        node.pending.push(obs);
    }
    Ok(())
}

/// Finds the model's output among the engine's.
fn match_output(
    ctx: &mut Ctx<'_>,
    node: &mut Node,
    output: &Output,
    validator: &str,
    summary: &mut Summary,
) -> Result<(), String> {
    let mut expected = Vec::new();
    match output {
        Output::Nothing | Output::SkipRound(_) | Output::Error(_) => {}
        Output::Vote(v) => {
            if v.src != validator {
                return Err(format!("the model's node sent a vote of {}", v.src));
            }
            node.own_unprocessed.insert(Own::Vote(v.kind, v.round));
            if v.kind == Kind::Prevote {
                cover_prevote_rule(node, v, summary);
            }
            summary.cover(match (v.kind, v.value.is_some()) {
                (Kind::Prevote, true) => "prevote for a value",
                (Kind::Prevote, false) => "prevote nil",
                (Kind::Precommit, true) => "precommit for a value",
                (Kind::Precommit, false) => "precommit nil",
            });
            expected.push(Obs::Vote {
                kind: v.kind,
                round: v.round,
                value: v.value.clone(),
            });
        }
        Output::Proposal(p) => {
            let proposer = ctx.trace_proposer(node, p.round)?;
            if p.src != validator || proposer != p.src {
                return Err(format!(
                    "the model's node {validator} proposed as {} in round {}, whose proposer pov computes as {proposer}",
                    p.src, p.round
                ));
            }
            node.own_unprocessed.insert(Own::Proposal(p.round));
            if p.valid_round >= 0 {
                summary.cover("re-proposal of a valid value");
            }
            expected.push(Obs::Proposal {
                round: p.round,
                value: p.value.clone(),
                pol_round: p.valid_round,
            });
            // The model's node also starts timeoutPropose (`doStep`).
            if node.scheduled.contains(&(p.round, TimeoutKind::Propose)) || p.valid_round < 0 {
                expected.push(Obs::Timeout {
                    round: p.round,
                    step: TimeoutKind::Propose,
                });
            } else {
                summary.adapt(Adaptation::NoProposeTimeoutOnReproposal);
            }
        }
        Output::GetValueAndScheduleTimeout(_, r, t) => {
            expected.push(Obs::GetValue { round: *r });
            expected.push(Obs::Timeout {
                round: *r,
                step: *t,
            });
        }
        Output::Timeout(r, t) => expected.push(Obs::Timeout {
            round: *r,
            step: *t,
        }),
        Output::Decided(r, v) => {
            summary.cover("decision");
            node.model_decided = true;
            let obs = Obs::Decide {
                round: *r,
                value: v.clone(),
            };
            if !node.pending.contains(&obs) {
                // The deciding round's proposal may still be held back.
                let round = *r;
                release_held(ctx, node, |p| p == round)?;
            }
            expected.push(obs);
        }
    }
    for obs in expected {
        if let Some(at) = node.pending.iter().position(|o| *o == obs) {
            node.pending.remove(at);
        } else if let Obs::Timeout { round, step } = obs {
            if !node.scheduled.contains(&(round, step)) {
                return Err(format!("the model scheduled {obs:?}, the engine did not"));
            }
        } else {
            return Err(format!("the model output {obs:?}, the engine did not"));
        }
    }
    Ok(())
}

/// Counts which of the paper's prevote rules a prevote of the model came from, when the
/// proposals the node holds tell: L28 (a proposal with a POL round, prevoted, possibly
/// releasing a lock on another value), or L26/L32 (a valid proposal prevoted nil because the
/// node is locked on another value). The lock is the model's, as last compared.
fn cover_prevote_rule(node: &Node, v: &Vote, summary: &mut Summary) {
    let held = node.proposed.get(&v.round).map_or(&[][..], Vec::as_slice);
    match &v.value {
        Some(value) => {
            if held.iter().any(|p| p.value == *value && p.valid_round >= 0) {
                summary.cover("prevote for a proposal with a POL round (L28)");
                if node.last_locked.as_ref().is_some_and(|(_, l)| l != value) {
                    summary.cover("prevote on a POL while locked on another value (L29 unlock)");
                }
            }
        }
        None => {
            let locked = node.engine.locked();
            let valid_elsewhere = held.iter().any(|p| {
                model::is_valid(&p.value)
                    && locked.is_some_and(|l| l.value != pov_crypto::hash(p.value.as_bytes()))
            });
            if valid_elsewhere {
                summary.cover("prevote nil on a valid proposal, locked on another value (L26/L32)");
            }
        }
    }
}

impl Ctx<'_> {
    /// The model's proposer of `round` as pov computes it (the check that the mapping of
    /// heights and validator order is right).
    fn trace_proposer(&self, node: &Node, round: i64) -> Result<String, String> {
        let height = node.height.ok_or("no height")?;
        let address = node
            .engine
            .validators()
            .proposer(self.pov_height(height)?, round_u32(round)?)
            .address;
        self.keys
            .iter()
            .find(|(_, k)| k.address() == address)
            .map(|(name, _)| name.clone())
            .ok_or_else(|| "proposer not in the key map".to_owned())
    }
}

/// Removes timeouts the engine can no longer act on.
fn drop_inert(node: &mut Node, summary: &mut Summary) {
    let round = i64::from(node.engine.round());
    let step = model_step(node.engine.step());
    let decided = node.engine.is_decided();
    let lost = node.lost_polka_any.clone();
    node.pending.retain(|o| {
        if let Obs::Timeout {
            round: r,
            step: TimeoutKind::Prevote,
        } = o
        {
            if lost.contains(r) {
                summary.adapt(Adaptation::LostPolkaAny);
                return false;
            }
        }
        let inert = match o {
            Obs::Timeout { round: r, step: t } => {
                decided
                    || *r < round
                    || (*r == round
                        && match t {
                            TimeoutKind::Propose => step > Step::Propose,
                            TimeoutKind::Prevote => step > Step::Prevote,
                            TimeoutKind::Precommit => false,
                        })
            }
            _ => false,
        };
        if inert {
            summary.adapt(Adaptation::InertTimeout);
        }
        !inert
    });
}

/// At a quiescent point of the model's node: nothing of the engine's is left unmatched and
/// the states are equal.
fn compare(node: &mut Node, post: &NodeView, summary: &mut Summary) -> Result<(), String> {
    drop_inert(node, summary);
    if !node.pending.is_empty() {
        return Err(format!(
            "the engine output {:?}, the model did not",
            node.pending
        ));
    }
    let decided = post.step == Step::Commit;
    if node.engine.is_decided() != decided {
        return Err(format!(
            "engine decided: {}, model decided: {decided}",
            node.engine.is_decided()
        ));
    }
    let pair = |rv: Option<RoundValue<Hash>>| rv.map(|rv| (i64::from(rv.round), rv.value));
    let locked = pair(node.engine.locked());
    let valid = pair(node.engine.valid_value());
    let hashed = |x: &Option<(i64, String)>| {
        x.as_ref()
            .map(|(r, v)| (*r, pov_crypto::hash(v.as_bytes())))
    };
    if locked != hashed(&post.locked) {
        return Err(format!(
            "engine lock {locked:?}, model lock {:?}",
            post.locked
        ));
    }
    if valid != hashed(&post.valid) {
        return Err(format!(
            "engine valid value {valid:?}, model valid value {:?}",
            post.valid
        ));
    }
    // Round -1: the model's node loaded a decision before starting any round (see
    // `Adaptation::PreloadedStart`); pov is in round 0 then.
    if !decided && post.round >= 0 {
        if i64::from(node.engine.round()) != post.round {
            return Err(format!(
                "engine round {}, model round {}",
                node.engine.round(),
                post.round
            ));
        }
        if model_step(node.engine.step()) != post.step {
            return Err(format!(
                "engine step {:?}, model step {:?}",
                node.engine.step(),
                post.step
            ));
        }
    }
    summary.compared += 1;
    if post.locked.is_some() && node.last_locked != post.locked {
        summary.cover(if node.last_locked.is_some() {
            "lock changed"
        } else {
            "lock taken"
        });
    }
    if post.valid.is_some() && node.last_valid != post.valid {
        summary.cover("valid value updated");
    }
    node.last_locked.clone_from(&post.locked);
    node.last_valid.clone_from(&post.valid);
    Ok(())
}
