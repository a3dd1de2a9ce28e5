//! What this node saw validators sign at recent heights: the first proposal or vote of each
//! slot, kept after the height is decided, so that a conflicting message that arrives late
//! still proves equivocation.
//!
//! The engine compares messages only at the height it is deciding; once a height is decided
//! it drops that height's messages unread. A faulty validator's second version often arrives
//! just then (it was sent to other peers, or into a partition, and relayed or re-sent
//! later): the simulation found runs where no honest node ever held both versions while it
//! was still at that height, so no one recorded the equivocation.

use std::collections::BTreeMap;

use pov_consensus::{Evidence, Message, VoteKind};
use pov_crypto::Address;

/// Most messages kept for one validator at one height (an honest validator signs at most
/// three per round, and heights rarely last more than a few rounds; a faulty one cannot
/// crowd out the others).
pub const WITNESS_PER_SIGNER: usize = 64;
/// Most messages kept in all.
pub const WITNESS_MAX: usize = 16_384;

/// A message's slot: height, signer, round, and kind (0 proposal, 1 prevote, 2 precommit).
type Slot = (u64, Address, u32, u8);

/// What the witness made of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// The first message of its slot this node saw, now kept.
    New,
    /// The first message of its slot, but not kept: its validator (at that height) or the
    /// witness as a whole is at its bound. Not worth relaying either: a faulty validator
    /// could sign endless messages of old rounds for every honest node to pass on.
    Full,
    /// The message this node already holds for its slot, or one with the same content.
    Known,
    /// A different message for a slot this node holds: proof of equivocation.
    Conflict(Box<Evidence>),
}

/// The first message of each slot seen at recent heights (see the module documentation).
#[derive(Debug, Default)]
pub struct Witness {
    first: BTreeMap<Slot, Message>,
}

impl Witness {
    /// Forgets the heights below `height`.
    pub fn keep_from(&mut self, height: u64) {
        self.first = self.first.split_off(&(height, Address::default(), 0, 0));
    }

    /// Compares `message` (signature checked by the caller) with what this node holds for its
    /// slot, and keeps it if it is the first.
    pub fn see(&mut self, message: Message) -> Seen {
        let slot = slot(&message);
        if let Some(first) = self.first.get(&slot) {
            return match conflict(first, &message) {
                Some(evidence) => Seen::Conflict(Box::new(evidence)),
                None => Seen::Known,
            };
        }
        let (height, signer, ..) = slot;
        let of_signer = self
            .first
            .range((height, signer, 0, 0)..=(height, signer, u32::MAX, u8::MAX))
            .count();
        if of_signer >= WITNESS_PER_SIGNER || self.first.len() >= WITNESS_MAX {
            return Seen::Full;
        }
        self.first.insert(slot, message);
        Seen::New
    }
}

fn slot(message: &Message) -> Slot {
    let kind = match message {
        Message::Proposal(_) => 0,
        Message::Vote(v) => match v.vote.kind {
            VoteKind::Prevote => 1,
            VoteKind::Precommit => 2,
        },
    };
    (message.height(), message.signer(), message.round(), kind)
}

/// The evidence that `first` and `later` (one slot) prove, if their contents differ.
fn conflict(first: &Message, later: &Message) -> Option<Evidence> {
    match (first, later) {
        (Message::Vote(a), Message::Vote(b)) if a.vote != b.vote => Some(Evidence::DoubleSign {
            validator: a.vote.validator,
            vote_a: *a,
            vote_b: *b,
        }),
        (Message::Proposal(a), Message::Proposal(b)) if a.proposal != b.proposal => {
            Some(Evidence::DoubleProposal {
                proposer: a.proposal.proposer,
                proposal_a: *a,
                proposal_b: *b,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use pov_consensus::{NilOrVal, Vote};
    use pov_protocol::genesis::dev_validator_key;

    use super::*;

    fn vote(who: u32, height: u64, round: u32, value: NilOrVal<pov_crypto::Hash>) -> Message {
        let key = dev_validator_key(who);
        let signed = Vote {
            kind: VoteKind::Prevote,
            height,
            round,
            value,
            validator: key.address(),
        }
        .sign(&key)
        .expect("own key");
        Message::Vote(signed)
    }

    #[test]
    fn the_first_message_of_a_slot_is_kept_and_a_different_one_is_evidence() {
        let mut witness = Witness::default();
        let a = vote(1, 5, 0, NilOrVal::Nil);
        assert_eq!(witness.see(a), Seen::New);
        assert_eq!(witness.see(a), Seen::Known);
        let b = vote(1, 5, 0, NilOrVal::Val(pov_crypto::hash(b"b")));
        match witness.see(b) {
            Seen::Conflict(evidence) => {
                assert_eq!(evidence.offender(), dev_validator_key(1).address());
                assert_eq!(evidence.verify(), Ok(()));
            }
            other => panic!("not evidence: {other:?}"),
        }
        // Another slot (round, validator) is no conflict.
        assert_eq!(witness.see(vote(1, 5, 1, NilOrVal::Nil)), Seen::New);
        assert_eq!(witness.see(vote(2, 5, 0, NilOrVal::Nil)), Seen::New);
    }

    #[test]
    fn older_heights_are_forgotten() {
        let mut witness = Witness::default();
        witness.see(vote(1, 4, 0, NilOrVal::Nil));
        witness.see(vote(1, 5, 0, NilOrVal::Nil));
        witness.keep_from(5);
        let b = NilOrVal::Val(pov_crypto::hash(b"b"));
        assert_eq!(
            witness.see(vote(1, 4, 0, b)),
            Seen::New,
            "height 4 forgotten"
        );
        assert!(matches!(witness.see(vote(1, 5, 0, b)), Seen::Conflict(_)));
    }

    #[test]
    fn one_validator_cannot_fill_the_witness() {
        let mut witness = Witness::default();
        for round in 0..WITNESS_PER_SIGNER as u32 {
            assert_eq!(witness.see(vote(1, 5, round, NilOrVal::Nil)), Seen::New);
        }
        assert_eq!(witness.see(vote(1, 5, 999, NilOrVal::Nil)), Seen::Full);
        assert_eq!(witness.first.len(), WITNESS_PER_SIGNER);
        // Another validator's messages are still kept and compared.
        witness.see(vote(2, 5, 900, NilOrVal::Nil));
        let b = NilOrVal::Val(pov_crypto::hash(b"b"));
        assert!(matches!(witness.see(vote(2, 5, 900, b)), Seen::Conflict(_)));
    }
}
