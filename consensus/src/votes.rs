//! Vote bookkeeping for one height: who voted what in each round, and the power behind it.
//!
//! As in the paper, a quorum for a value is counted over the messages for that value: a
//! validator that signed two different votes for one slot (equivocated) counts towards
//! both values, and once towards "any value". Counting only its first vote would let two
//! honest nodes see different quorums forever (one sees a proof of lock change that the other
//! never can), which breaks liveness. To bound memory, at most [`MAX_VERSIONS_PER_SLOT`]
//! different votes are kept per validator and slot; every version beyond the first is
//! reported as double signing.

use std::collections::{BTreeMap, BTreeSet};

use pov_crypto::{Address, Hash};
use pov_protocol::validators::ValidatorSet;

use super::types::{SignedVote, VoteKind};
use super::value::NilOrVal;

/// Most different votes kept per validator for one (height, round, kind): nil plus up to
/// three values. Only an equivocating validator ever has more than one.
pub(crate) const MAX_VERSIONS_PER_SLOT: usize = 4;

/// What adding a vote to a tally did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AddVote {
    /// A new vote was counted.
    Added,
    /// The same vote was already counted; nothing changed.
    Duplicate,
    /// The validator already has a different vote in this slot (`first`, proof of double
    /// signing). `counted` says whether the new one was counted too (there was room).
    Equivocation {
        /// The validator's first vote in the slot.
        first: Box<SignedVote>,
        /// Whether the new vote was counted.
        counted: bool,
    },
}

/// The votes of one kind in one round, with the power behind each value.
#[derive(Clone, Debug, Default)]
pub(crate) struct VoteTally {
    /// Per validator, its different votes in arrival order (almost always exactly one).
    votes: BTreeMap<Address, Vec<SignedVote>>,
    power_by_value: BTreeMap<NilOrVal<Hash>, u64>,
    power: u64,
}

impl VoteTally {
    /// Counts `vote` with `power`, unless the same vote is already counted or the
    /// validator's slot is full.
    pub(crate) fn add(&mut self, vote: SignedVote, power: u64) -> AddVote {
        let versions = self.votes.entry(vote.vote.validator).or_default();
        if versions.iter().any(|v| v.vote == vote.vote) {
            return AddVote::Duplicate;
        }
        let first = versions.first().copied();
        let counted = versions.len() < MAX_VERSIONS_PER_SLOT;
        if counted {
            versions.push(vote);
            // Total power fits in a u64 (checked by `ValidatorSet::new`) and a validator
            // counts at most once per value and once in `power`: no overflow.
            *self.power_by_value.entry(vote.vote.value).or_insert(0) += power;
            if first.is_none() {
                self.power += power;
            }
        }
        match first {
            None => AddVote::Added,
            Some(first) => AddVote::Equivocation {
                first: Box::new(first),
                counted,
            },
        }
    }

    /// Power of the validators that voted at all, each once (the paper's `⟨*, ..., *⟩`).
    pub(crate) fn power(&self) -> u64 {
        self.power
    }

    /// Power of the votes for `value` (or nil).
    pub(crate) fn power_for(&self, value: NilOrVal<Hash>) -> u64 {
        self.power_by_value.get(&value).copied().unwrap_or(0)
    }

    /// The value (or nil) that more than 2/3 of the power voted for, if any.
    ///
    /// Two values can both have a quorum only if more than 1/3 of the power equivocated,
    /// beyond what the protocol tolerates; the lowest one is returned then.
    pub(crate) fn quorum_value(&self, validators: &ValidatorSet) -> Option<NilOrVal<Hash>> {
        self.power_by_value
            .iter()
            .find(|(_, &power)| validators.is_quorum(power))
            .map(|(value, _)| *value)
    }

    /// Every value (not nil) that more than 2/3 of the power voted for: one, unless more
    /// than 1/3 equivocated.
    pub(crate) fn quorum_values(&self, validators: &ValidatorSet) -> Vec<Hash> {
        self.power_by_value
            .iter()
            .filter(|(_, &power)| validators.is_quorum(power))
            .filter_map(|(value, _)| value.value())
            .collect()
    }

    /// The counted votes for `value`, in address order.
    pub(crate) fn votes_for(&self, value: NilOrVal<Hash>) -> Vec<SignedVote> {
        self.votes
            .values()
            .filter_map(|versions| versions.iter().find(|v| v.vote.value == value))
            .copied()
            .collect()
    }
}

/// Everything seen in one round: both tallies, and who sent anything at all.
#[derive(Clone, Debug, Default)]
pub(crate) struct RoundVotes {
    /// The prevotes.
    pub(crate) prevotes: VoteTally,
    /// The precommits.
    pub(crate) precommits: VoteTally,
    participants: BTreeSet<Address>,
    participant_power: u64,
}

impl RoundVotes {
    /// The tally of `kind`.
    pub(crate) fn tally(&self, kind: VoteKind) -> &VoteTally {
        match kind {
            VoteKind::Prevote => &self.prevotes,
            VoteKind::Precommit => &self.precommits,
        }
    }

    fn tally_mut(&mut self, kind: VoteKind) -> &mut VoteTally {
        match kind {
            VoteKind::Prevote => &mut self.prevotes,
            VoteKind::Precommit => &mut self.precommits,
        }
    }

    /// Records that `validator` sent some message in this round (for the f+1 round skip).
    pub(crate) fn note_participant(&mut self, validator: Address, power: u64) {
        if self.participants.insert(validator) {
            self.participant_power += power;
        }
    }

    /// Power of the distinct validators that sent any message in this round.
    pub(crate) fn participant_power(&self) -> u64 {
        self.participant_power
    }
}

/// All rounds of the current height.
#[derive(Clone, Debug, Default)]
pub(crate) struct HeightVotes {
    rounds: BTreeMap<u32, RoundVotes>,
}

impl HeightVotes {
    /// Counts a vote in its round and tally, and its sender as a participant of the round.
    pub(crate) fn add(&mut self, vote: SignedVote, power: u64) -> AddVote {
        let round = self.rounds.entry(vote.vote.round).or_default();
        let outcome = round.tally_mut(vote.vote.kind).add(vote, power);
        round.note_participant(vote.vote.validator, power);
        outcome
    }

    /// The round's votes, if anything was seen in it.
    pub(crate) fn round(&self, round: u32) -> Option<&RoundVotes> {
        self.rounds.get(&round)
    }

    /// Every round with votes, in order.
    pub(crate) fn rounds(&self) -> impl Iterator<Item = (&u32, &RoundVotes)> {
        self.rounds.iter()
    }

    /// The round's votes, created empty if needed.
    pub(crate) fn round_mut(&mut self, round: u32) -> &mut RoundVotes {
        self.rounds.entry(round).or_default()
    }

    /// Power of the votes of `kind` for `value` in `round`.
    pub(crate) fn power_for(&self, round: u32, kind: VoteKind, value: NilOrVal<Hash>) -> u64 {
        self.round(round)
            .map_or(0, |r| r.tally(kind).power_for(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Vote;
    use pov_crypto::Keypair;
    use pov_protocol::validators::Validator;

    fn vote(key: &Keypair, kind: VoteKind, round: u32, value: NilOrVal<Hash>) -> SignedVote {
        Vote {
            kind,
            height: 1,
            round,
            value,
            validator: key.address(),
        }
        .sign_unchecked(key)
    }

    #[test]
    fn tallies_count_each_validator_once_and_report_conflicts() {
        let keys: Vec<Keypair> = (0..4).map(Keypair::dev).collect();
        let set = ValidatorSet::new(
            keys.iter()
                .map(|k| Validator {
                    address: k.address(),
                    power: 1,
                })
                .collect(),
        )
        .expect("set");
        let a = NilOrVal::Val(pov_crypto::hash(b"a"));
        let b = NilOrVal::Val(pov_crypto::hash(b"b"));
        let mut votes = HeightVotes::default();
        assert_eq!(
            votes.add(vote(&keys[0], VoteKind::Prevote, 0, a), 1),
            AddVote::Added
        );
        assert_eq!(
            votes.add(vote(&keys[0], VoteKind::Prevote, 0, a), 1),
            AddVote::Duplicate
        );
        let first = vote(&keys[0], VoteKind::Prevote, 0, a);
        assert_eq!(
            votes.add(vote(&keys[0], VoteKind::Prevote, 0, b), 1),
            AddVote::Equivocation {
                first: Box::new(first),
                counted: true
            }
        );
        // A precommit is another slot, not a conflict.
        assert_eq!(
            votes.add(vote(&keys[0], VoteKind::Precommit, 0, b), 1),
            AddVote::Added
        );
        // The equivocator counts for both values, but once for "any value".
        assert_eq!(votes.power_for(0, VoteKind::Prevote, a), 1);
        assert_eq!(votes.power_for(0, VoteKind::Prevote, b), 1);
        let round0 = votes.round(0).expect("round 0");
        assert_eq!(round0.prevotes.power(), 1);
        assert_eq!(round0.participant_power(), 1);
        // Versions beyond the cap are reported but not counted.
        for i in 0..MAX_VERSIONS_PER_SLOT as u8 {
            let extra = NilOrVal::Val(pov_crypto::hash(&[i]));
            let counted = 3 + usize::from(i) <= MAX_VERSIONS_PER_SLOT;
            assert_eq!(
                votes.add(vote(&keys[0], VoteKind::Prevote, 0, extra), 1),
                AddVote::Equivocation {
                    first: Box::new(first),
                    counted
                }
            );
            assert_eq!(
                votes.power_for(0, VoteKind::Prevote, extra),
                u64::from(counted)
            );
        }
        let mut votes = HeightVotes::default();
        votes.add(vote(&keys[0], VoteKind::Prevote, 0, a), 1);
        votes.add(vote(&keys[1], VoteKind::Prevote, 0, a), 1);
        let tally = &votes.round(0).expect("round 0").prevotes;
        assert_eq!(tally.quorum_value(&set), None, "2 of 4 is no quorum");
        votes.add(vote(&keys[2], VoteKind::Prevote, 0, NilOrVal::Nil), 1);
        let tally = &votes.round(0).expect("round 0").prevotes;
        assert_eq!(tally.power(), 3);
        assert_eq!(
            tally.quorum_value(&set),
            None,
            "3 of 4 split 2/1 is no quorum"
        );
        votes.add(vote(&keys[3], VoteKind::Prevote, 0, a), 1);
        let tally = &votes.round(0).expect("round 0").prevotes;
        assert_eq!(tally.quorum_value(&set), Some(a));
        assert_eq!(tally.votes_for(a).len(), 3);
    }
}
