//! The parts of Malachite's Quint model of Tendermint (`specs/consensus/quint`) that its
//! traces show: messages, driver inputs, consensus outputs and each node's state, decoded
//! from ITF into plain Rust values.
//!
//! The model's types are in `types.qnt`, `consensus.qnt` and `driver.qnt`; the state
//! variables (`system`, `_hist`, ...) in `statemachineAsync.qnt`. Variable names in a trace
//! may be qualified by the module instance (`line28Test::N4F1::_hist`), so they are matched
//! by their last segment.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::itf::{self, Error};

/// A value: `Nil` or a non-nil value (a string such as "red"; "invalid" is not valid).
pub type MValue = Option<String>;

/// The model's `isValid`: every value but "invalid".
pub fn is_valid(value: &str) -> bool {
    value != "invalid"
}

/// Prevote or precommit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `Prevote`.
    Prevote,
    /// `Precommit`.
    Precommit,
}

/// A vote of the model (`types.qnt`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Vote {
    /// Prevote or precommit.
    pub kind: Kind,
    /// The sender.
    pub src: String,
    /// Height.
    pub height: i64,
    /// Round.
    pub round: i64,
    /// The value voted for.
    pub value: MValue,
}

/// A proposal of the model (`types.qnt`); `valid_round` -1 is "none".
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Proposal {
    /// The proposer.
    pub src: String,
    /// Height.
    pub height: i64,
    /// Round.
    pub round: i64,
    /// The proposed value.
    pub value: String,
    /// The POL round, or -1.
    pub valid_round: i64,
}

/// The three timeouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeoutKind {
    /// `ProposeTimeout`.
    Propose,
    /// `PrevoteTimeout`.
    Prevote,
    /// `PrecommitTimeout`.
    Precommit,
}

/// A step of the model's consensus state (`types.qnt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// The model's `NoStep`: before the first round, and the "no step change" marker of
    /// `pendingStepChange`.
    Unset,
    /// Between rounds.
    Unstarted,
    /// Waiting for the proposal.
    Propose,
    /// Prevoted.
    Prevote,
    /// Precommitted.
    Precommit,
    /// Decided.
    Commit,
}

/// What the driver of one node was handed in a step (`DriverInput` in `driver.qnt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// `NoDInput`: nothing to do.
    Nothing,
    /// A proposal from the node's incoming set.
    Proposal(Proposal),
    /// A vote from the node's incoming set.
    Vote(Vote),
    /// A certificate (a set of votes) from the node's incoming set.
    Certificate(Vec<Vote>),
    /// A timeout fired.
    Timeout(TimeoutKind),
    /// The node starts its height.
    Start,
    /// The driver works on an input it queued itself (the tag of the consensus input).
    Pending(String),
    /// The driver re-checks its rules after its step changed.
    StepChange,
    /// The host's answer to getValue.
    ProposeValue(String),
}

/// What the consensus function returned in a step (`ConsensusOutput` in `consensus.qnt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// `NoConsensusOutput`.
    Nothing,
    /// A proposal to send.
    Proposal(Proposal),
    /// Ask for a value and start the timeout: (height, round, timeout).
    GetValueAndScheduleTimeout(i64, i64, TimeoutKind),
    /// A vote to send.
    Vote(Vote),
    /// Start a timeout in the given round.
    Timeout(i64, TimeoutKind),
    /// Decided: (round, value).
    Decided(i64, String),
    /// Go to a round (handled inside the driver; never leaves it).
    SkipRound(i64),
    /// The input did not apply; the state is unchanged.
    Error(String),
}

/// `_hist`: which node took the step, its input and the output.
#[derive(Clone, Debug)]
pub struct Hist {
    /// The node.
    pub validator: String,
    /// The driver input.
    pub input: Input,
    /// The consensus output.
    pub output: Output,
    /// The JSON it was decoded from (to tell a new step from a repeated variable).
    pub raw: Value,
}

/// A validator set: (address, weight), in the order the trace lists them.
pub type Weights = Vec<(String, i64)>;

/// One node's state (`system[v]`), as far as the replay reads it.
#[derive(Clone, Debug)]
pub struct NodeView {
    /// Height.
    pub height: i64,
    /// Round (-1 before the first).
    pub round: i64,
    /// Step.
    pub step: Step,
    /// `(lockedRound, lockedValue)`, or `None` for -1/nil.
    pub locked: Option<(i64, String)>,
    /// `(validRound, validValue)`, or `None` for -1/nil.
    pub valid: Option<(i64, String)>,
    /// The step the driver still has to react to (`NoStep`: none).
    pub pending_step_change: Step,
    /// (height, round) of each input the driver queued for itself.
    pub pending_inputs: Vec<(i64, i64)>,
    /// Whether the driver started its height.
    pub started: bool,
    /// Votes delivered but not processed, when the trace has them.
    pub incoming_votes: Option<Vec<Vote>>,
    /// Certificates delivered but not processed, when the trace has them.
    pub incoming_certificates: Option<Vec<Vec<Vote>>>,
    /// The validator set (address, weight), when the trace has it.
    pub valset: Option<Weights>,
}

/// One state of a trace.
#[derive(Clone, Debug)]
pub struct State {
    /// Index in the original trace (`#meta.index`, else the position).
    pub index: usize,
    /// The action the simulator took (`mbt::actionTaken`), for traces made with `--mbt`.
    pub action: Option<String>,
    /// `_hist`.
    pub hist: Hist,
    /// `system`: the nodes present in this state.
    pub nodes: BTreeMap<String, NodeView>,
}

/// A whole trace.
#[derive(Clone, Debug)]
pub struct Trace {
    /// The file it came from.
    pub name: String,
    /// Its states, in order.
    pub states: Vec<State>,
}

fn value_of(v: &Value) -> Result<MValue, Error> {
    match itf::variant(v)? {
        ("Nil", _) => Ok(None),
        ("Val", s) => Ok(Some(itf::string(s)?.to_owned())),
        (tag, _) => Err(format!("unknown Value variant {tag}")),
    }
}

fn kind_of(v: &Value) -> Result<Kind, Error> {
    match itf::variant(v)?.0 {
        "Prevote" => Ok(Kind::Prevote),
        "Precommit" => Ok(Kind::Precommit),
        tag => Err(format!("unknown VoteType {tag}")),
    }
}

fn timeout_of(v: &Value) -> Result<TimeoutKind, Error> {
    match itf::variant(v)?.0 {
        "ProposeTimeout" => Ok(TimeoutKind::Propose),
        "PrevoteTimeout" => Ok(TimeoutKind::Prevote),
        "PrecommitTimeout" => Ok(TimeoutKind::Precommit),
        tag => Err(format!("unknown Timeout {tag}")),
    }
}

fn step_of(v: &Value) -> Result<Step, Error> {
    match itf::variant(v)?.0 {
        "NoStep" => Ok(Step::Unset),
        "UnstartedStep" => Ok(Step::Unstarted),
        "ProposeStep" => Ok(Step::Propose),
        "PrevoteStep" => Ok(Step::Prevote),
        "PrecommitStep" => Ok(Step::Precommit),
        "CommitStep" => Ok(Step::Commit),
        tag => Err(format!("unknown Step {tag}")),
    }
}

/// Decodes a `Vote` record.
pub fn vote_of(v: &Value) -> Result<Vote, Error> {
    Ok(Vote {
        kind: kind_of(itf::field(v, "voteType")?)?,
        src: itf::string(itf::field(v, "srcAddress")?)?.to_owned(),
        height: itf::int(itf::field(v, "height")?)?,
        round: itf::int(itf::field(v, "round")?)?,
        value: value_of(itf::field(v, "valueId")?)?,
    })
}

/// Decodes a `Proposal` record.
pub fn proposal_of(v: &Value) -> Result<Proposal, Error> {
    Ok(Proposal {
        src: itf::string(itf::field(v, "srcAddress")?)?.to_owned(),
        height: itf::int(itf::field(v, "height")?)?,
        round: itf::int(itf::field(v, "round")?)?,
        value: itf::string(itf::field(v, "proposal")?)?.to_owned(),
        valid_round: itf::int(itf::field(v, "validRound")?)?,
    })
}

fn votes_of(v: &Value) -> Result<Vec<Vote>, Error> {
    itf::set(v)?.iter().map(vote_of).collect()
}

fn input_of(v: &Value) -> Result<Input, Error> {
    let (tag, value) = itf::variant(v)?;
    Ok(match tag {
        "NoDInput" => Input::Nothing,
        "ProposalDInput" => Input::Proposal(proposal_of(value)?),
        "VoteDInput" => Input::Vote(vote_of(value)?),
        "CertificateDInput" => Input::Certificate(votes_of(value)?),
        "TimeoutDInput" => Input::Timeout(timeout_of(value)?),
        "StartDInput" => Input::Start,
        "PendingDInput" => Input::Pending(itf::variant(value)?.0.to_owned()),
        "StepChangeDInput" => Input::StepChange,
        "ProposeValueDInput" => Input::ProposeValue(itf::string(value)?.to_owned()),
        _ => return Err(format!("unknown DriverInput {tag}")),
    })
}

fn output_of(v: &Value) -> Result<Output, Error> {
    let (tag, value) = itf::variant(v)?;
    Ok(match tag {
        "NoConsensusOutput" => Output::Nothing,
        "ProposalOutput" => Output::Proposal(proposal_of(value)?),
        "GetValueAndScheduleTimeoutOutput" => {
            let t = itf::tuple_n(value, 3)?;
            Output::GetValueAndScheduleTimeout(
                itf::int(&t[0])?,
                itf::int(&t[1])?,
                timeout_of(&t[2])?,
            )
        }
        "VoteOutput" => Output::Vote(vote_of(value)?),
        "TimeoutOutput" => {
            let t = itf::tuple_n(value, 2)?;
            Output::Timeout(itf::int(&t[0])?, timeout_of(&t[1])?)
        }
        "DecidedOutput" => {
            let t = itf::tuple_n(value, 2)?;
            Output::Decided(itf::int(&t[0])?, itf::string(&t[1])?.to_owned())
        }
        "SkipRoundOutput" => Output::SkipRound(itf::int(value)?),
        "ErrorOutput" => Output::Error(itf::string(value)?.to_owned()),
        _ => return Err(format!("unknown ConsensusOutput {tag}")),
    })
}

fn hist_of(v: &Value) -> Result<Hist, Error> {
    Ok(Hist {
        validator: itf::string(itf::field(v, "validator")?)?.to_owned(),
        input: input_of(itf::field(v, "input")?)?,
        output: output_of(itf::field(v, "output")?)?,
        raw: v.clone(),
    })
}

fn round_value(round: &Value, value: &Value) -> Result<Option<(i64, String)>, Error> {
    let round = itf::int(round)?;
    match (round, value_of(value)?) {
        (-1, None) => Ok(None),
        (r, Some(v)) if r >= 0 => Ok(Some((r, v))),
        (r, v) => Err(format!("inconsistent round {r} and value {v:?}")),
    }
}

fn node_of(v: &Value) -> Result<NodeView, Error> {
    let es = itf::field(v, "es")?;
    let cs = itf::field(es, "cs")?;
    let pending_inputs = itf::set(itf::field(es, "pendingInputs")?)?
        .iter()
        .map(|p| {
            let t = itf::tuple_n(p, 3)?;
            Ok((itf::int(&t[1])?, itf::int(&t[2])?))
        })
        .collect::<Result<_, Error>>()?;
    let incoming_certificates = match itf::opt_field(v, "incomingCertificates") {
        Some(c) => Some(
            itf::set(c)?
                .iter()
                .map(votes_of)
                .collect::<Result<_, _>>()?,
        ),
        None => None,
    };
    let valset = match itf::opt_field(es, "valset") {
        Some(m) => Some(
            itf::map(m)?
                .into_iter()
                .map(|(k, w)| Ok((itf::string(k)?.to_owned(), itf::int(w)?)))
                .collect::<Result<_, Error>>()?,
        ),
        None => None,
    };
    Ok(NodeView {
        height: itf::int(itf::field(cs, "height")?)?,
        round: itf::int(itf::field(cs, "round")?)?,
        step: step_of(itf::field(cs, "step")?)?,
        locked: round_value(
            itf::field(cs, "lockedRound")?,
            itf::field(cs, "lockedValue")?,
        )?,
        valid: round_value(itf::field(cs, "validRound")?, itf::field(cs, "validValue")?)?,
        pending_step_change: step_of(itf::field(es, "pendingStepChange")?)?,
        pending_inputs,
        started: itf::boolean(itf::field(es, "started")?)?,
        incoming_votes: match itf::opt_field(v, "incomingVotes") {
            Some(s) => Some(votes_of(s)?),
            None => None,
        },
        incoming_certificates,
        valset,
    })
}

/// The value of the state variable whose name ends in `name`.
fn var<'a>(state: &'a Value, name: &str) -> Option<&'a Value> {
    let suffix = format!("::{name}");
    state
        .as_object()?
        .iter()
        .find_map(|(k, v)| (k == name || k.ends_with(&suffix)).then_some(v))
}

fn state_of(position: usize, v: &Value) -> Result<State, Error> {
    let index = match v.get("#meta").and_then(|m| m.get("index")) {
        Some(i) => usize::try_from(itf::int(i)?).map_err(|_| "negative #meta.index".to_owned())?,
        None => position,
    };
    let hist = hist_of(var(v, "_hist").ok_or("no `_hist` variable")?)?;
    let action = match var(v, "mbt::actionTaken").or_else(|| v.get("mbt::actionTaken")) {
        Some(a) => Some(itf::string(a)?.to_owned()),
        None => None,
    };
    let mut nodes = BTreeMap::new();
    for (name, node) in itf::map(var(v, "system").ok_or("no `system` variable")?)? {
        let name = itf::string(name)?.to_owned();
        let view = node_of(node).map_err(|e| format!("system[{name}]: {e}"))?;
        nodes.insert(name, view);
    }
    Ok(State {
        index,
        action,
        hist,
        nodes,
    })
}

/// Reads and decodes an ITF trace file.
pub fn load(path: &Path) -> Result<Trace, Error> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
    decode(name, &json)
}

/// Decodes an ITF trace; `name` says where it came from in error messages.
pub fn decode(name: String, json: &Value) -> Result<Trace, Error> {
    let states = itf::list(itf::field(json, "states").map_err(|e| format!("{name}: {e}"))?)
        .map_err(|e| format!("{name}: {e}"))?
        .iter()
        .enumerate()
        .map(|(i, s)| state_of(i, s).map_err(|e| format!("{name}: state {i}: {e}")))
        .collect::<Result<_, _>>()?;
    Ok(Trace { name, states })
}
