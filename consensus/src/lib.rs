//! Tendermint BFT consensus: the pure core that decides one block hash per height.
//!
//! This is Algorithm 1 of Buchman, Kwon and Milosevic, "The latest gossip on BFT
//! consensus" (2018), written as a deterministic state machine: [`Input`]s in, [`Effect`]s
//! out, no I/O, no clock, no randomness. The daemon drives it from its event loop; the tests
//! drive it from a simulated network (`consensus/tests/`).
//!
//! # The protocol, step by step
//!
//! Values are block hashes ([`pov_crypto::Hash`]); the core never sees a block, and asks the
//! host whether a proposed block is valid (the [`Validity`] of [`Input::Proposal`]).
//! Power counts, not heads: a *quorum* is strictly more than 2/3 of the total power
//! (`3 * power > 2 * total`, the paper's 2f+1) and *f+1* is strictly more than 1/3.
//!
//! Each height runs in rounds `0, 1, 2, ...`, each in three steps.
//!
//! 1. **Propose.** The proposer of `(height, round)` is validator number
//!    `(height + round) mod n` of the ordered validator list. If it has a *valid value*
//!    (a value it saw a quorum prevote for, together with its proposal, in round
//!    `validRound`), it proposes that value again with `pol_round = validRound`; otherwise it
//!    asks the host for a new block ([`Effect::GetValue`]) and proposes its hash with no POL
//!    round. Everyone else starts `timeoutPropose`.
//! 2. **Prevote.** On the round's proposal for `v` (L22, no POL round) a validator prevotes
//!    `v` if the block is valid and it is not locked on another value; on a proposal with a
//!    POL round `vr < round` for which it holds a quorum of round-`vr` prevotes for `v` (L28)
//!    it prevotes `v` if the block is valid and its lock is from round `vr` or earlier, or is
//!    on `v`: a *proof of lock change* (POL) is the only way out of a lock. Otherwise, and
//!    when `timeoutPropose` expires, it prevotes nil.
//! 3. **Precommit.** With a quorum of prevotes of any kind it starts `timeoutPrevote` (L34).
//!    With the proposal for `v` and a quorum of prevotes for `v` (L36), a validator still in
//!    the prevote step *locks* on `v` (`lockedValue = v`, `lockedRound = round`) and
//!    precommits `v`; in any later step it only records `v` as its valid value. With a quorum
//!    of nil prevotes (L44), or when `timeoutPrevote` expires, it precommits nil.
//! 4. **Decide or move on.** With a quorum of precommits of any kind it starts
//!    `timeoutPrecommit` (L47); when that expires it starts the next round. With the proposal
//!    for `v` of any round `r` and a quorum of round-`r` precommits for `v` (L49), the value is
//!    decided: [`Effect::Decide`] carries the proposal and those precommits, the *commit
//!    certificate*. The host commits the block and calls [`Consensus::start_height`] for the
//!    next height, which resets locks and valid values.
//! 5. **Catch up.** Messages from f+1 power in a round above the current one (L55) make the
//!    node jump to that round: at least one honest validator is there.
//!
//! Timeouts grow linearly, `base + round * delta` per step ([`TimeoutConfig`]), so once the
//! network is stable some round is long enough for an honest proposer to get its value
//! decided. Safety never depends on timing.
//!
//! # Deviations from the paper, and choices it leaves open
//!
//! - **Asynchronous `getValue`.** The proposer emits [`Effect::GetValue`] and proposes when
//!   the host answers with [`Input::ProposeValue`].
//! - **The proposer runs `timeoutPropose` too** (the paper's has none), whether it asks for
//!   a new value or re-proposes its valid value: a host that never answers costs one round
//!   only, and so does a re-proposal whose POL the proposer cannot show itself (a restarted
//!   validator keeps its lock but not the prevotes behind it), which would otherwise keep it
//!   from ever prevoting in that round.
//! - **`valid(v)` comes from the host**, once per proposal, as its [`Validity`]. The core's
//!   own proposals are valid by definition.
//! - **Own messages are persisted before they are sent.** Every vote or proposal the core
//!   signs is emitted as [`Effect::PersistVote`] / [`Effect::PersistProposal`] before its
//!   [`Effect::Broadcast`]; [`Consensus::restore_height`] takes them back after a restart.
//!   The core never signs a second vote for a (round, kind) it already voted in: it re-sends
//!   the persisted one. The lock, which the paper keeps only in memory, is rebuilt from the
//!   highest non-nil own precommit (a lock is taken exactly when one is signed); losing it
//!   would break safety. `validValue` is set to the lock (losing the rest of it only costs
//!   liveness), and the node resumes in the highest round it had sent anything in. A vote or
//!   proposal signed by this node that arrives from the network and is missing from its log
//!   is adopted as its own for the same reason: it is persisted, an adopted precommit
//!   restores its lock, and the node moves up to the message's round if it was below it
//!   (it must never act in a round below one it already voted in).
//! - **Several proposals per round.** A faulty proposer may send different proposals to
//!   different nodes. The core keeps one per value per round (in arrival order); the first
//!   that fires L22/L28 decides the prevote, and L36/L49 use the proposal for the value that
//!   has the quorum, so an honest node can still decide a value most others saw.
//!   Proposals with a POL round not below their round are dropped (a correct proposer never
//!   sends one). Their number is not capped: the host rate-limits peers.
//! - **Rounds far ahead are dropped.** Messages more than
//!   [`ConsensusConfig::max_round_lookahead`] rounds above the current one are ignored, to
//!   bound the memory a faulty validator can claim.
//! - **The next height is buffered, older and later ones are dropped.** Proposals and votes
//!   of height + 1 are kept (one vote per validator and slot, plus one conflicting vote for
//!   evidence) and replayed when that height starts; anything else not at the current height
//!   is ignored. A node that fell further behind syncs blocks through the host.
//! - **Reliable delivery is the host's job.** The paper assumes that a message received by a
//!   correct process eventually reaches every correct process. The host relays (floods) new
//!   messages and calls [`Consensus::rebroadcast`] periodically, which re-sends this node's
//!   own messages of the height and the prevotes behind its lock and valid value (so that
//!   others can check the POL round when it re-proposes that value). A peer that is behind
//!   is sent decided blocks with their certificates (block sync), after which the host
//!   moves its core on with [`Consensus::start_height`]. The re-broadcast also carries
//!   every quorum of prevotes for a value the node holds at the height, not only the one
//!   behind its own lock: the paper's delivery assumption says that whatever one correct
//!   node received, all eventually receive.
//! - **Equivocation counts as in the paper, and is reported.** Quorums are counted per
//!   value over messages: a validator that signed two different votes for one slot counts
//!   for both values (and once for "any value"). Counting only its first vote would let one
//!   honest node lock through a POL that the others can never see, and the lock would never
//!   be released (the simulation finds such stalls). To bound memory at most
//!   four versions per validator and slot are kept. The second version yields
//!   [`Effect::Evidence`] (once per slot). A second, different proposal of the round's
//!   proposer for a round yields [`Evidence::DoubleProposal`] (once per round).
//! - **Observers.** A node whose key is not in the validator set runs the same machine but
//!   never proposes or votes; it still decides from others' messages.
//! - **The core trusts its inputs' signatures.** The host verifies each message
//!   ([`SignedVote::verify`], [`SignedProposal::verify`]) before handing it over; the core
//!   checks only who the signer is (a validator, the round's proposer).

#![warn(clippy::float_arithmetic)]

mod config;
mod error;
mod events;
mod evidence;
#[cfg(pov_lint_canary)]
mod lint_canary;
mod state_machine;
mod types;
mod value;
mod votes;

#[cfg(test)]
mod tests;

pub use config::{ConsensusConfig, TimeoutConfig, TimeoutParams};
pub use error::{ConsensusError, EvidenceError};
pub use events::{Effect, Input, Timeout};
pub use evidence::{Evidence, Offence};
pub use state_machine::Consensus;
pub use types::{
    Message, Proposal, SignedProposal, SignedVote, Step, Vote, VoteKind, PROPOSAL_DOMAIN,
    PROPOSAL_SIGN_BYTES_LEN, VOTE_DOMAIN, VOTE_SIGN_BYTES_LEN,
};
pub use value::{NilOrVal, RoundValue, Validity};

/// The types this crate shares with the rest of the node, defined once in `pov-protocol`:
/// the validator set (with the one quorum rule) and the commit certificate (with the one
/// certificate check), re-exported so that the engine's API is complete on its own.
pub use pov_protocol::block::{Certificate, CommitSig};
pub use pov_protocol::validators::{Validator, ValidatorSet, ValidatorSetError};
