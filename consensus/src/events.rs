//! What goes into the core ([`Input`]) and what comes out ([`Effect`]).

use pov_crypto::Hash;
use pov_protocol::block::Certificate;

use super::evidence::Evidence;
use super::types::{Message, SignedProposal, SignedVote, Step};
use super::value::Validity;

/// A timeout the core asked for; the host hands it back as [`Input::Timeout`] when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timeout {
    /// Height the timeout was scheduled at.
    pub height: u64,
    /// Round the timeout was scheduled in.
    pub round: u32,
    /// Which of the three timeouts it is.
    pub step: Step,
}

/// An event from the host. Messages must already be signature-checked by the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A proposal from the network (signature verified), with the host's verdict on the
    /// block it names: the paper's `valid(v)` (the block is well formed and applies to the
    /// parent state).
    Proposal {
        /// The signed proposal.
        proposal: SignedProposal,
        /// Whether the host found the proposed block valid.
        validity: Validity,
    },
    /// A prevote or precommit from the network (signature verified).
    Vote(SignedVote),
    /// The host's answer to [`Effect::GetValue`]: the hash of a block it built. The core
    /// treats it as valid.
    ProposeValue {
        /// The height of the request.
        height: u64,
        /// The round of the request.
        round: u32,
        /// The block hash to propose.
        value: Hash,
    },
    /// A timeout from [`Effect::ScheduleTimeout`] has fired.
    Timeout(Timeout),
}

/// An action the host must carry out, in the order given.
///
/// Dropping one is a bug (a vote not persisted, a timeout never scheduled, a decision not
/// committed), hence `must_use`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "the host must carry out every effect, in order"]
pub enum Effect {
    /// Write this node's own vote to the consensus log and flush it. Always comes before
    /// the [`Effect::Broadcast`] of that vote: the host must finish it before sending, so
    /// that a restart can never make the node sign a different vote for the same slot.
    PersistVote(SignedVote),
    /// Write this node's own proposal to the consensus log and flush it, before sending it
    /// (the same reason: a restarted proposer re-sends its proposal, never a different one).
    PersistProposal(SignedProposal),
    /// Send the message to all peers (for a proposal, together with the block it names).
    Broadcast(Message),
    /// Call back with [`Input::Timeout`] after `duration_ms` of local time. Timeouts are
    /// never cancelled; the core ignores the ones that no longer apply.
    ScheduleTimeout {
        /// What to hand back.
        timeout: Timeout,
        /// How long to wait, in milliseconds.
        duration_ms: u64,
    },
    /// This node proposes in `(height, round)`: build a block and answer with
    /// [`Input::ProposeValue`].
    GetValue {
        /// The height to build for.
        height: u64,
        /// The round to build for.
        round: u32,
    },
    /// The value is decided at `certificate.height`. The host commits the block with this
    /// certificate and then calls [`crate::Consensus::start_height`] for the next height;
    /// until then the core only buffers messages of the next height.
    Decide {
        /// The decided round's proposal (names the proposer and the block hash).
        proposal: SignedProposal,
        /// More than 2/3 of the power's precommits for the value, in the form storage
        /// checks and keeps (one signature per validator, in address order).
        certificate: Certificate,
    },
    /// Proof of misbehaviour seen by the core, for the host to store and gossip.
    Evidence(Evidence),
}
