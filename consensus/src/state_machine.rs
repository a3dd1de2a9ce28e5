//! The Tendermint state machine of one node (Algorithm 1 of the paper), as events in,
//! effects out. Line numbers in comments (L22, L28, ...) are those of Algorithm 1.

use std::collections::{BTreeMap, BTreeSet};

use pov_crypto::{Address, Hash, Keypair};
use pov_protocol::block::{Certificate, CommitSig};
use pov_protocol::validators::ValidatorSet;

use super::config::ConsensusConfig;
use super::error::ConsensusError;
use super::events::{Effect, Input, Timeout};
use super::evidence::Evidence;
use super::types::{Message, Proposal, SignedProposal, SignedVote, Step, Vote, VoteKind};
use super::value::{NilOrVal, RoundValue, Validity};
use super::votes::{AddVote, HeightVotes, MAX_VERSIONS_PER_SLOT};

/// This node's own votes (by round and kind) and proposals (by round) at one height.
type OwnMessages = (
    BTreeMap<(u32, VoteKind), SignedVote>,
    BTreeMap<u32, SignedProposal>,
);

/// A proposal the core holds, with the host's verdict on its block.
#[derive(Clone, Copy, Debug)]
struct ProposalEntry {
    proposal: SignedProposal,
    validity: Validity,
}

/// "For the first time" flags of Algorithm 1, reset when a round starts.
#[derive(Clone, Copy, Debug, Default)]
struct RoundFlags {
    /// L34 fired: the prevote timeout is scheduled.
    prevote_timeout_scheduled: bool,
    /// L47 fired: the precommit timeout is scheduled.
    precommit_timeout_scheduled: bool,
    /// L36 fired: validValue was updated in this round.
    valid_value_updated: bool,
    /// This node is the proposer and waits for [`Input::ProposeValue`].
    awaiting_value: bool,
}

/// Messages of the next height, kept until the host starts that height.
///
/// Without it, a node that decides a little later than its peers would drop the next
/// height's proposal and first votes and have to wait for them to be sent again.
#[derive(Clone, Debug, Default)]
struct NextHeightBuffer {
    proposals: BTreeMap<(u32, Hash), ProposalEntry>,
    /// Per slot, the different votes of the validator, as many as a tally keeps.
    votes: BTreeMap<(u32, VoteKind, Address), Vec<SignedVote>>,
}

/// One node's Tendermint consensus: a pure, deterministic state machine.
///
/// The host feeds it [`Input`]s (network messages it has signature-checked, timeouts it
/// scheduled, values it built) and carries out the returned [`Effect`]s in order. The core
/// does no I/O, reads no clock and draws no randomness, so a run is a function of its inputs.
///
/// A node whose key is not in the validator set runs the same machine as an observer: it
/// follows and decides heights but never proposes or votes.
#[derive(Clone, Debug)]
pub struct Consensus {
    config: ConsensusConfig,
    validators: ValidatorSet,
    signer: Keypair,
    address: Address,
    /// False until the first `start_height` / `restore_height`.
    started: bool,
    height: u64,
    round: u32,
    step: Step,
    /// The current height is decided; waiting for the host's `start_height`.
    decided: bool,
    /// `(lockedRound, lockedValue)`; `None` is the paper's `-1, nil`.
    locked: Option<RoundValue<Hash>>,
    /// `(validRound, validValue)`; `None` is the paper's `-1, nil`.
    valid_value: Option<RoundValue<Hash>>,
    votes: HeightVotes,
    /// Per round, the proposals of that round's proposer, in arrival order, one per value.
    proposals: BTreeMap<u32, Vec<ProposalEntry>>,
    /// Every vote this node signed at this height: it never signs another for a slot.
    own_votes: BTreeMap<(u32, VoteKind), SignedVote>,
    /// Every proposal this node signed at this height.
    own_proposals: BTreeMap<u32, SignedProposal>,
    flags: RoundFlags,
    /// Slots for which double-sign evidence was already emitted.
    reported: BTreeSet<(Address, u32, VoteKind)>,
    /// Rounds for which double-proposal evidence was already emitted.
    reported_proposals: BTreeSet<u32>,
    next_height: NextHeightBuffer,
}

impl Consensus {
    /// A core for `validators`, signing with `signer`. Call [`Consensus::start_height`] (or
    /// [`Consensus::restore_height`] after a restart) before feeding inputs.
    pub fn new(config: ConsensusConfig, validators: ValidatorSet, signer: Keypair) -> Self {
        let address = signer.address();
        Self {
            config,
            validators,
            signer,
            address,
            started: false,
            height: 0,
            round: 0,
            step: Step::Propose,
            decided: false,
            locked: None,
            valid_value: None,
            votes: HeightVotes::default(),
            proposals: BTreeMap::new(),
            own_votes: BTreeMap::new(),
            own_proposals: BTreeMap::new(),
            flags: RoundFlags::default(),
            reported: BTreeSet::new(),
            reported_proposals: BTreeSet::new(),
            next_height: NextHeightBuffer::default(),
        }
    }

    /// Starts deciding `height` at round 0 with no lock (the paper's `upon start`).
    ///
    /// Used for the first height and after each [`Effect::Decide`] (with the decided height
    /// plus one), or to jump ahead after the host synced blocks by other means. Heights
    /// only increase.
    #[must_use = "the host must carry out every effect, in order"]
    pub fn start_height(&mut self, height: u64) -> Result<Vec<Effect>, ConsensusError> {
        self.restore_height(height, Vec::new())
    }

    /// Starts deciding `height` after a restart, from this node's own messages of that
    /// height as read back from its consensus log (everything it was told to persist).
    ///
    /// The node re-uses each persisted vote instead of ever signing a different one for the
    /// same (round, kind), and re-uses a persisted proposal for its round. Its lock is
    /// rebuilt from its highest non-nil precommit (a lock is taken exactly when such a
    /// precommit is signed), which keeps the safety argument intact across restarts; it
    /// resumes at the highest round it had sent anything in.
    #[must_use = "the host must carry out every effect, in order"]
    pub fn restore_height(
        &mut self,
        height: u64,
        persisted: Vec<Message>,
    ) -> Result<Vec<Effect>, ConsensusError> {
        if self.started && height <= self.height {
            return Err(ConsensusError::HeightNotIncreasing {
                current: self.height,
                requested: height,
            });
        }
        let (votes, proposals) = self.check_persisted(height, persisted)?;

        let buffered = if self.started && Some(height) == self.height.checked_add(1) {
            std::mem::take(&mut self.next_height)
        } else {
            NextHeightBuffer::default()
        };
        self.reset_for_height(height);

        let mut fx = Vec::new();
        let mut start_round = 0;
        for signed in votes.into_values() {
            let vote = signed.vote;
            start_round = start_round.max(vote.round);
            self.relock_from_own_precommit(&vote);
            self.own_votes.insert((vote.round, vote.kind), signed);
            if let Some(power) = self.validators.power_of(&self.address) {
                self.votes.add(signed, power);
            }
        }
        for signed in proposals.into_values() {
            start_round = start_round.max(signed.proposal.round);
            self.own_proposals.insert(signed.proposal.round, signed);
            self.store_proposal(signed, Validity::Valid);
        }

        self.start_round(start_round, &mut fx);
        self.process(Some(start_round), &mut fx);
        for entry in buffered.proposals.into_values() {
            self.on_proposal(entry.proposal, entry.validity, &mut fx);
        }
        for vote in buffered.votes.into_values().flatten() {
            self.on_vote(vote, &mut fx);
        }
        Ok(fx)
    }

    /// Handles one input and returns the effects to carry out, in order.
    ///
    /// Inputs that do not apply (an old height, a non-validator's vote, a stale timeout, a
    /// duplicate) change nothing and return no effects.
    #[must_use = "the host must carry out every effect, in order"]
    pub fn handle(&mut self, input: Input) -> Vec<Effect> {
        let mut fx = Vec::new();
        if !self.started {
            return fx;
        }
        match input {
            Input::Proposal { proposal, validity } => self.on_proposal(proposal, validity, &mut fx),
            Input::Vote(vote) => self.on_vote(vote, &mut fx),
            Input::ProposeValue {
                height,
                round,
                value,
            } => self.on_propose_value(height, round, value, &mut fx),
            Input::Timeout(timeout) => self.on_timeout(timeout, &mut fx),
        }
        fx
    }

    /// [`Effect::Broadcast`]s of every message this node signed at the current height, and
    /// of every quorum of prevotes for a value it holds at this height (each a proof of lock
    /// change someone may need).
    ///
    /// The paper assumes that a message received by a correct node eventually reaches every
    /// correct node; a real network drops messages and partitions heal. The host calls this
    /// periodically (and when a peer connects) so that the part of the assumption liveness
    /// rests on holds again: the others see this node's votes, and when anyone re-proposes a
    /// value locked in an earlier round, everyone can check its POL round, even where the POL
    /// includes votes of a validator that sent different votes to different nodes, or that
    /// is down now, and even when this node itself is not locked on it (a validator that
    /// restarted keeps its lock but not the votes behind it: the simulation found the chain
    /// stalled for good when only an unlocked node still held them).
    #[must_use = "the host must send these messages"]
    pub fn rebroadcast(&self) -> Vec<Effect> {
        let mut messages: Vec<Message> = self
            .own_proposals
            .values()
            .map(|p| Message::Proposal(*p))
            .collect();
        messages.extend(self.own_votes.values().map(|v| Message::Vote(*v)));
        for (_, round_votes) in self.votes.rounds() {
            for value in round_votes.prevotes.quorum_values(&self.validators) {
                for vote in round_votes.prevotes.votes_for(NilOrVal::Val(value)) {
                    if vote.vote.validator != self.address {
                        messages.push(Message::Vote(vote));
                    }
                }
            }
        }
        messages.into_iter().map(Effect::Broadcast).collect()
    }

    /// The height being decided (or just decided, until the next `start_height`).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The current round.
    pub fn round(&self) -> u32 {
        self.round
    }

    /// The current step.
    pub fn step(&self) -> Step {
        self.step
    }

    /// Whether the current height is decided (the core waits for `start_height`).
    pub fn is_decided(&self) -> bool {
        self.decided
    }

    /// `(lockedRound, lockedValue)`, or `None` when not locked.
    pub fn locked(&self) -> Option<RoundValue<Hash>> {
        self.locked
    }

    /// `(validRound, validValue)`, or `None` when there is none.
    pub fn valid_value(&self) -> Option<RoundValue<Hash>> {
        self.valid_value
    }

    /// This node's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The validator set the core runs with.
    pub fn validators(&self) -> &ValidatorSet {
        &self.validators
    }

    /// The vote this node signed for `(round, kind)` at the current height, if any.
    pub fn own_vote(&self, round: u32, kind: VoteKind) -> Option<&SignedVote> {
        self.own_votes.get(&(round, kind))
    }

    /// The prevotes this node holds for `value` in `round` at the current height, its own
    /// included. Once they reach a quorum they are the proof of lock change (POL) behind a
    /// lock or a valid value: the host logs those behind each own precommit for a value, so
    /// that a restarted node can still show why it is locked.
    pub fn prevotes_for(&self, round: u32, value: Hash) -> Vec<SignedVote> {
        self.votes
            .round(round)
            .map(|r| r.prevotes.votes_for(NilOrVal::Val(value)))
            .unwrap_or_default()
    }

    /// The proposal of `value` in `round` at the current height, if this node holds it.
    pub fn held_proposal(&self, round: u32, value: Hash) -> Option<SignedProposal> {
        self.proposal_for(round, value).map(|e| e.proposal)
    }

    // ----- restore ------------------------------------------------------------------

    /// Checks the persisted messages before anything is changed, and dedups them.
    fn check_persisted(
        &self,
        height: u64,
        persisted: Vec<Message>,
    ) -> Result<OwnMessages, ConsensusError> {
        let mut votes: BTreeMap<(u32, VoteKind), SignedVote> = BTreeMap::new();
        let mut proposals: BTreeMap<u32, SignedProposal> = BTreeMap::new();
        for message in persisted {
            if message.signer() != self.address {
                return Err(ConsensusError::ForeignPersistedMessage {
                    signer: message.signer(),
                    own: self.address,
                });
            }
            if message.height() != height {
                return Err(ConsensusError::WrongPersistedHeight {
                    expected: height,
                    found: message.height(),
                });
            }
            // ed25519 signing is deterministic: re-signing is an exact and cheap check that
            // this node made the signature over exactly these bytes.
            if self.signer.sign(&message.sign_bytes()) != message.signature() {
                return Err(ConsensusError::BadPersistedSignature {
                    round: message.round(),
                });
            }
            match message {
                Message::Vote(signed) => {
                    let key = (signed.vote.round, signed.vote.kind);
                    if let Some(existing) = votes.insert(key, signed) {
                        if existing != signed {
                            return Err(ConsensusError::ConflictingPersistedVotes {
                                round: key.0,
                                kind: key.1,
                            });
                        }
                    }
                }
                Message::Proposal(signed) => {
                    let round = signed.proposal.round;
                    if let Some(existing) = proposals.insert(round, signed) {
                        if existing != signed {
                            return Err(ConsensusError::ConflictingPersistedProposals { round });
                        }
                    }
                }
            }
        }
        Ok((votes, proposals))
    }

    /// Takes the lock an own precommit from before a restart implies: a lock is taken
    /// exactly when a non-nil precommit is signed, so the highest one is the lock. Having
    /// locked on the value, the node had also seen it valid in that round.
    fn relock_from_own_precommit(&mut self, vote: &Vote) {
        let (VoteKind::Precommit, NilOrVal::Val(value)) = (vote.kind, vote.value) else {
            return;
        };
        let own = RoundValue {
            round: vote.round,
            value,
        };
        if self.locked.is_none_or(|locked| locked.round < vote.round) {
            self.locked = Some(own);
        }
        if self
            .valid_value
            .is_none_or(|valid| valid.round < vote.round)
        {
            self.valid_value = Some(own);
        }
    }

    /// This node already sent a message in `round`, so it had reached that round: never act
    /// in a lower one again (voting in an earlier round after a later one is what a faulty
    /// validator does). The caller runs the rules afterwards.
    fn catch_up_to_own_round(&mut self, round: u32, fx: &mut Vec<Effect>) {
        if round > self.round {
            self.start_round(round, fx);
        }
    }

    fn reset_for_height(&mut self, height: u64) {
        self.started = true;
        self.height = height;
        self.round = 0;
        self.step = Step::Propose;
        self.decided = false;
        self.locked = None;
        self.valid_value = None;
        self.votes = HeightVotes::default();
        self.proposals.clear();
        self.own_votes.clear();
        self.own_proposals.clear();
        self.flags = RoundFlags::default();
        self.reported.clear();
        self.reported_proposals.clear();
        self.next_height = NextHeightBuffer::default();
    }

    // ----- inputs -------------------------------------------------------------------

    fn on_proposal(&mut self, signed: SignedProposal, validity: Validity, fx: &mut Vec<Effect>) {
        let p = signed.proposal;
        if self.validators.proposer(p.height, p.round).address != p.proposer {
            return;
        }
        // A POL round must be an earlier round; a correct proposer never sends anything else.
        if p.pol_round.is_some_and(|vr| vr >= p.round) {
            return;
        }
        if Some(p.height) == self.height.checked_add(1) {
            if p.round <= self.config.max_round_lookahead {
                self.next_height
                    .proposals
                    .entry((p.round, p.value))
                    .or_insert(ProposalEntry {
                        proposal: signed,
                        validity,
                    });
            }
            return;
        }
        if p.height != self.height || self.decided || !self.round_in_reach(p.round) {
            return;
        }
        if p.proposer == self.address && !self.own_proposals.contains_key(&p.round) {
            // Our own proposal from before a restart whose log was lost: adopt it (and log
            // it) so that we never propose something else in that round.
            self.own_proposals.insert(p.round, signed);
            fx.push(Effect::PersistProposal(signed));
            self.catch_up_to_own_round(p.round, fx);
        }
        let conflicting = self
            .proposals
            .get(&p.round)
            .and_then(|entries| entries.iter().find(|e| e.proposal.proposal != p))
            .map(|e| e.proposal);
        if let Some(first) = conflicting {
            if self.reported_proposals.insert(p.round) {
                fx.push(Effect::Evidence(Evidence::DoubleProposal {
                    proposer: p.proposer,
                    proposal_a: first,
                    proposal_b: signed,
                }));
            }
        }
        if self.store_proposal(signed, validity) {
            self.process(Some(p.round), fx);
        }
    }

    /// Stores a proposal unless one for the same value and round is held; says if stored.
    fn store_proposal(&mut self, signed: SignedProposal, validity: Validity) -> bool {
        let p = signed.proposal;
        let entries = self.proposals.entry(p.round).or_default();
        if entries.iter().any(|e| e.proposal.proposal.value == p.value) {
            return false;
        }
        entries.push(ProposalEntry {
            proposal: signed,
            validity,
        });
        if let Some(power) = self.validators.power_of(&p.proposer) {
            self.votes
                .round_mut(p.round)
                .note_participant(p.proposer, power);
        }
        true
    }

    fn on_vote(&mut self, signed: SignedVote, fx: &mut Vec<Effect>) {
        let vote = signed.vote;
        let Some(power) = self.validators.power_of(&vote.validator) else {
            return;
        };
        if Some(vote.height) == self.height.checked_add(1) {
            self.buffer_next_height_vote(signed);
            return;
        }
        if vote.height != self.height || self.decided || !self.round_in_reach(vote.round) {
            return;
        }
        let slot = (vote.round, vote.kind);
        if vote.validator == self.address && !self.own_votes.contains_key(&slot) {
            // Our own vote from before a restart whose log was lost: adopt it (and log it)
            // so that we never sign a different one for this slot.
            self.own_votes.insert(slot, signed);
            self.relock_from_own_precommit(&vote);
            fx.push(Effect::PersistVote(signed));
            self.catch_up_to_own_round(vote.round, fx);
        }
        match self.votes.add(signed, power) {
            AddVote::Added => self.process(Some(vote.round), fx),
            AddVote::Duplicate => {}
            AddVote::Equivocation { first, counted } => {
                if self
                    .reported
                    .insert((vote.validator, vote.round, vote.kind))
                {
                    fx.push(Effect::Evidence(Evidence::DoubleSign {
                        validator: vote.validator,
                        vote_a: *first,
                        vote_b: signed,
                    }));
                }
                if counted {
                    self.process(Some(vote.round), fx);
                }
            }
        }
    }

    fn buffer_next_height_vote(&mut self, signed: SignedVote) {
        let vote = signed.vote;
        if vote.round > self.config.max_round_lookahead {
            return;
        }
        let slot = self
            .next_height
            .votes
            .entry((vote.round, vote.kind, vote.validator))
            .or_default();
        if slot.len() < MAX_VERSIONS_PER_SLOT && !slot.iter().any(|v| v.vote == vote) {
            slot.push(signed);
        }
    }

    fn on_propose_value(&mut self, height: u64, round: u32, value: Hash, fx: &mut Vec<Effect>) {
        if height != self.height
            || round != self.round
            || self.decided
            || !self.flags.awaiting_value
            || self.own_proposals.contains_key(&round)
        {
            return;
        }
        self.flags.awaiting_value = false;
        self.propose(value, None, fx);
        self.process(Some(round), fx);
    }

    fn on_timeout(&mut self, timeout: Timeout, fx: &mut Vec<Effect>) {
        if timeout.height != self.height || timeout.round != self.round || self.decided {
            return;
        }
        match timeout.step {
            // OnTimeoutPropose (L57).
            Step::Propose if self.step == Step::Propose => {
                self.cast_vote(VoteKind::Prevote, NilOrVal::Nil, fx);
                self.step = Step::Prevote;
            }
            // OnTimeoutPrevote (L61).
            Step::Prevote if self.step == Step::Prevote => {
                self.cast_vote(VoteKind::Precommit, NilOrVal::Nil, fx);
                self.step = Step::Precommit;
            }
            // OnTimeoutPrecommit (L65).
            Step::Precommit => match self.round.checked_add(1) {
                Some(next) => self.start_round(next, fx),
                None => return,
            },
            _ => return,
        }
        self.process(None, fx);
    }

    // ----- Algorithm 1 ----------------------------------------------------------------

    /// StartRound (L11).
    fn start_round(&mut self, round: u32, fx: &mut Vec<Effect>) {
        self.round = round;
        self.step = Step::Propose;
        self.flags = RoundFlags::default();
        let height = self.height;
        if self.validators.proposer(height, round).address != self.address {
            self.schedule(Step::Propose, fx);
            return;
        }
        if let Some(previous) = self.own_proposals.get(&round) {
            // Proposed in this round before a restart: send the same proposal again.
            fx.push(Effect::Broadcast(Message::Proposal(*previous)));
        } else if let Some(RoundValue { round, value }) = self.valid_value {
            self.propose(value, Some(round), fx);
        } else {
            // Deviation: getValue() is asynchronous (the host builds the block).
            self.flags.awaiting_value = true;
            fx.push(Effect::GetValue { height, round });
        }
        // Deviation: the proposer schedules timeoutPropose too. A host that never answers
        // GetValue must not stall the round, and neither must a re-proposal whose POL this
        // node cannot show itself (after a restart it keeps its lock, not the votes behind
        // it): without the timeout it would never prevote, and with one validator down the
        // others would wait for its prevote forever (found by the simulation).
        self.schedule(Step::Propose, fx);
    }

    fn propose(&mut self, value: Hash, pol_round: Option<u32>, fx: &mut Vec<Effect>) {
        let signed = Proposal {
            height: self.height,
            round: self.round,
            value,
            pol_round,
            proposer: self.address,
        }
        .sign_unchecked(&self.signer);
        self.own_proposals.insert(self.round, signed);
        fx.push(Effect::PersistProposal(signed));
        fx.push(Effect::Broadcast(Message::Proposal(signed)));
        self.store_proposal(signed, Validity::Valid);
    }

    /// Signs (or re-uses) this node's vote for the current round and sends it. Returns the
    /// value actually voted for, which differs from `value` only if a vote for this slot
    /// was signed before a restart; `None` for an observer, which does not vote.
    fn cast_vote(
        &mut self,
        kind: VoteKind,
        value: NilOrVal<Hash>,
        fx: &mut Vec<Effect>,
    ) -> Option<NilOrVal<Hash>> {
        let power = self.validators.power_of(&self.address)?;
        let slot = (self.round, kind);
        let signed = match self.own_votes.get(&slot) {
            Some(previous) => *previous,
            None => {
                let signed = Vote {
                    kind,
                    height: self.height,
                    round: self.round,
                    value,
                    validator: self.address,
                }
                .sign_unchecked(&self.signer);
                self.own_votes.insert(slot, signed);
                fx.push(Effect::PersistVote(signed));
                signed
            }
        };
        fx.push(Effect::Broadcast(Message::Vote(signed)));
        self.votes.add(signed, power);
        Some(signed.vote.value)
    }

    fn schedule(&self, step: Step, fx: &mut Vec<Effect>) {
        fx.push(Effect::ScheduleTimeout {
            timeout: Timeout {
                height: self.height,
                round: self.round,
                step,
            },
            duration_ms: self.config.timeouts.duration_ms(step, self.round),
        });
    }

    /// Applies upon-rules until none fires. `touched` is the round of the message that
    /// just arrived, if any: the only round besides the current one whose rules can have
    /// become true.
    fn process(&mut self, touched: Option<u32>, fx: &mut Vec<Effect>) {
        loop {
            if self.decided {
                return;
            }
            // L49: decide, in any round.
            if touched.is_some_and(|r| self.try_decide(r, fx)) || self.try_decide(self.round, fx) {
                return;
            }
            // L55: f+1 of a higher round -> skip to it.
            if let Some(r) = touched {
                let power = self.votes.round(r).map_or(0, |rv| rv.participant_power());
                if r > self.round && self.validators.exceeds_one_third(power) {
                    self.start_round(r, fx);
                    continue;
                }
            }
            if !self.current_round_rules(fx) {
                return;
            }
        }
    }

    /// L49: a proposal for v in round r and 2/3+ precommits for v in r, v valid.
    fn try_decide(&mut self, round: u32, fx: &mut Vec<Effect>) -> bool {
        let Some(round_votes) = self.votes.round(round) else {
            return false;
        };
        let Some(NilOrVal::Val(value)) = round_votes.precommits.quorum_value(&self.validators)
        else {
            return false;
        };
        let Some(entry) = self.proposal_for(round, value) else {
            return false;
        };
        if !entry.validity.is_valid() {
            return false;
        }
        let certificate = Certificate {
            height: self.height,
            round,
            block_hash: value,
            signatures: round_votes
                .precommits
                .votes_for(NilOrVal::Val(value))
                .into_iter()
                .map(|signed| CommitSig {
                    validator: signed.vote.validator,
                    signature: signed.signature,
                })
                .collect(),
        };
        fx.push(Effect::Decide {
            proposal: entry.proposal,
            certificate,
        });
        self.decided = true;
        true
    }

    fn proposal_for(&self, round: u32, value: Hash) -> Option<ProposalEntry> {
        self.proposals
            .get(&round)?
            .iter()
            .find(|e| e.proposal.proposal.value == value)
            .copied()
    }

    /// The rules about the current round (L22, L28, L34, L36, L44, L47). Returns whether
    /// one fired.
    fn current_round_rules(&mut self, fx: &mut Vec<Effect>) -> bool {
        let round = self.round;
        if self.step == Step::Propose {
            if let Some(value) = self.prevote_on_proposal() {
                self.cast_vote(VoteKind::Prevote, value, fx);
                self.step = Step::Prevote;
                return true;
            }
        }
        let Some(round_votes) = self.votes.round(round) else {
            return false;
        };
        let prevote_power = round_votes.prevotes.power();
        let prevote_quorum = round_votes.prevotes.quorum_value(&self.validators);
        let precommit_power = round_votes.precommits.power();

        // L34: 2/3+ prevotes of any kind, for the first time.
        if self.step == Step::Prevote
            && !self.flags.prevote_timeout_scheduled
            && self.validators.is_quorum(prevote_power)
        {
            self.flags.prevote_timeout_scheduled = true;
            self.schedule(Step::Prevote, fx);
            return true;
        }
        // L36: the proposal for v and 2/3+ prevotes for v, v valid, for the first time.
        if self.step >= Step::Prevote && !self.flags.valid_value_updated {
            if let Some(NilOrVal::Val(value)) = prevote_quorum {
                if self
                    .proposal_for(round, value)
                    .is_some_and(|e| e.validity.is_valid())
                {
                    self.flags.valid_value_updated = true;
                    let seen = RoundValue { round, value };
                    if self.step == Step::Prevote {
                        let voted = self.cast_vote(VoteKind::Precommit, NilOrVal::Val(value), fx);
                        // Lock on what was actually signed: after a restart that may be the
                        // nil precommit signed before, and then there is nothing to lock on.
                        if voted.is_none_or(|v| v == NilOrVal::Val(value)) {
                            self.locked = Some(seen);
                        }
                        self.step = Step::Precommit;
                    }
                    self.valid_value = Some(seen);
                    return true;
                }
            }
        }
        // L44: 2/3+ prevotes for nil.
        if self.step == Step::Prevote && prevote_quorum == Some(NilOrVal::Nil) {
            self.cast_vote(VoteKind::Precommit, NilOrVal::Nil, fx);
            self.step = Step::Precommit;
            return true;
        }
        // L47: 2/3+ precommits of any kind, for the first time.
        if !self.flags.precommit_timeout_scheduled && self.validators.is_quorum(precommit_power) {
            self.flags.precommit_timeout_scheduled = true;
            self.schedule(Step::Precommit, fx);
            return true;
        }
        false
    }

    /// L22 and L28: if a proposal of the current round lets this node prevote, the value
    /// to prevote (or nil). Proposals are tried in arrival order.
    fn prevote_on_proposal(&self) -> Option<NilOrVal<Hash>> {
        let entries = self.proposals.get(&self.round)?;
        for entry in entries {
            let p = entry.proposal.proposal;
            let v = p.value;
            match p.pol_round {
                // L22.
                None => {
                    let free = self.locked.is_none_or(|locked| locked.value == v);
                    return Some(prevote_for(entry.validity.is_valid() && free, v));
                }
                // L28: needs 2/3+ prevotes for v in round vr < current round.
                Some(vr) => {
                    let pol = self
                        .votes
                        .power_for(vr, VoteKind::Prevote, NilOrVal::Val(v));
                    if vr < self.round && self.validators.is_quorum(pol) {
                        let free = self
                            .locked
                            .is_none_or(|locked| locked.round <= vr || locked.value == v);
                        return Some(prevote_for(entry.validity.is_valid() && free, v));
                    }
                }
            }
        }
        None
    }

    /// Whether a message of `round` is close enough to the current round to be kept.
    fn round_in_reach(&self, round: u32) -> bool {
        round <= self.round.saturating_add(self.config.max_round_lookahead)
    }
}

/// The prevote of L22/L28: for `value` if the guard holds, nil otherwise.
fn prevote_for(guard: bool, value: Hash) -> NilOrVal<Hash> {
    if guard {
        NilOrVal::Val(value)
    } else {
        NilOrVal::Nil
    }
}
