//! Arbitrary input sequences (including restarts) against one core: whatever arrives, the
//! node never panics, never signs two different messages for one slot, always persists
//! before sending, keeps its lock equal to its highest non-nil precommit, and only decides
//! with a certificate of more than 2/3 of the power.

use std::collections::BTreeMap;

use pov_crypto::{Hash, Keypair};
use proptest::prelude::*;

use super::{
    check_by_resigning, check_persist_before_broadcast, keys, set_with_powers, test_config, value,
};
use crate::{
    Consensus, Effect, Input, Message, NilOrVal, Proposal, RoundValue, SignedVote, Step, Timeout,
    Vote, VoteKind,
};

#[derive(Clone, Debug)]
enum Action {
    /// A vote from key `who` (4 is not a validator, 0 is this node itself).
    Vote {
        who: usize,
        kind: VoteKind,
        height_offset: u8,
        round: u32,
        value: u8,
    },
    /// A proposal signed by the round's proposer.
    Proposal {
        height_offset: u8,
        round: u32,
        value: u8,
        pol_round: Option<u32>,
        valid: bool,
    },
    Timeout {
        step: Step,
        round: u32,
    },
    ProposeValue {
        round: u32,
        value: u8,
    },
    /// Votes of all other validators (4 of 5 power, a quorum) at the current height.
    Quorum {
        kind: VoteKind,
        round: u32,
        value: u8,
    },
    /// Crash and restore from the log.
    Restart,
}

fn round() -> impl Strategy<Value = u32> {
    prop_oneof![12 => 0u32..3, 1 => Just(u32::MAX), 1 => 3u32..2_000]
}

/// Mostly the current height (offset 1), sometimes the previous or the next one.
fn height_offset() -> impl Strategy<Value = u8> {
    prop_oneof![1 => Just(0u8), 6 => Just(1u8), 1 => Just(2u8)]
}

fn action() -> impl Strategy<Value = Action> {
    let kind = prop_oneof![Just(VoteKind::Prevote), Just(VoteKind::Precommit)].boxed();
    let step = prop_oneof![
        Just(Step::Propose),
        Just(Step::Prevote),
        Just(Step::Precommit)
    ];
    prop_oneof![
        6 => (0usize..5, kind.clone(), height_offset(), round(), 0u8..3).prop_map(
            |(who, kind, height_offset, round, value)| Action::Vote {
                who,
                kind,
                height_offset,
                round,
                value
            }
        ),
        3 => (height_offset(), round(), 1u8..3, proptest::option::of(0u32..3), any::<bool>()).prop_map(
            |(height_offset, round, value, pol_round, valid)| Action::Proposal {
                height_offset,
                round,
                value,
                pol_round,
                valid
            }
        ),
        2 => (step, round()).prop_map(|(step, round)| Action::Timeout { step, round }),
        1 => (round(), 1u8..3).prop_map(|(round, value)| Action::ProposeValue { round, value }),
        3 => (kind.clone(), 0u32..3, 0u8..3).prop_map(|(kind, round, value)| Action::Quorum {
            kind,
            round,
            value
        }),
        1 => Just(Action::Restart),
    ]
}

/// Value 0 is nil; 1..=3 are three blocks.
fn value_of(v: u8) -> NilOrVal<Hash> {
    (v > 0).then(|| value(&format!("block {v}"))).into()
}

struct World {
    keys: Vec<Keypair>,
    node: Consensus,
    /// The consensus log, per height.
    log: BTreeMap<u64, Vec<Message>>,
    own_votes: BTreeMap<(u64, u32, VoteKind), NilOrVal<Hash>>,
    own_proposals: BTreeMap<(u64, u32), Hash>,
    decided: BTreeMap<u64, Hash>,
}

impl World {
    fn new() -> Self {
        let keys = keys(5);
        let set = set_with_powers(&keys[..4], &[1, 2, 1, 1]);
        let mut node = Consensus::new(test_config(), set, keys[0].clone());
        let mut world = Self {
            keys,
            node: node.clone(),
            log: BTreeMap::new(),
            own_votes: BTreeMap::new(),
            own_proposals: BTreeMap::new(),
            decided: BTreeMap::new(),
        };
        let fx = node.start_height(1).expect("first height");
        world.node = node;
        world.observe(fx);
        world
    }

    /// Checks the invariants on one effect list and carries it out.
    fn observe(&mut self, fx: Vec<Effect>) {
        let height = self.node.height();
        let me = self.keys[0].address();
        let log = self.log.entry(height).or_default();
        check_persist_before_broadcast(&fx, &me, log);
        let mut next = None;
        for effect in &fx {
            match effect {
                Effect::PersistVote(v) | Effect::Broadcast(Message::Vote(v))
                    if v.vote.validator == me =>
                {
                    let slot = (v.vote.height, v.vote.round, v.vote.kind);
                    let first = *self.own_votes.entry(slot).or_insert(v.vote.value);
                    assert_eq!(first, v.vote.value, "two own votes for {slot:?}");
                }
                Effect::PersistProposal(p) | Effect::Broadcast(Message::Proposal(p))
                    if p.proposal.proposer == me =>
                {
                    let slot = (p.proposal.height, p.proposal.round);
                    let first = *self.own_proposals.entry(slot).or_insert(p.proposal.value);
                    assert_eq!(first, p.proposal.value, "two own proposals for {slot:?}");
                }
                Effect::Decide {
                    proposal,
                    certificate,
                } => {
                    let value = proposal.proposal.value;
                    assert_eq!(proposal.proposal.round, certificate.round);
                    let verdict = certificate.verify_with(
                        self.node.validators(),
                        height,
                        &value,
                        |sig, message| check_by_resigning(&self.keys, sig, message),
                    );
                    assert_eq!(verdict, Ok(()));
                    assert!(self.decided.insert(height, value).is_none());
                    next = Some(height + 1);
                }
                _ => {}
            }
        }
        // The lock is exactly the highest non-nil own precommit of this height.
        let expected = self
            .own_votes
            .iter()
            .filter(|((h, _, kind), value)| {
                *h == self.node.height() && *kind == VoteKind::Precommit && !value.is_nil()
            })
            .filter_map(|((_, round, _), value)| {
                value.value().map(|value| RoundValue {
                    round: *round,
                    value,
                })
            })
            .max_by_key(|locked| locked.round);
        assert_eq!(self.node.locked(), expected);
        // The node never acts in a round below one it already sent a message in.
        let highest_own = self
            .own_votes
            .keys()
            .filter(|(h, _, _)| *h == self.node.height())
            .map(|(_, round, _)| *round)
            .max();
        assert!(highest_own.is_none_or(|r| r <= self.node.round()));
        if let Some(next) = next {
            let fx = self.node.start_height(next).expect("next height");
            self.observe(fx);
        }
    }

    fn signed_vote(
        &self,
        who: usize,
        kind: VoteKind,
        height: u64,
        round: u32,
        v: u8,
    ) -> SignedVote {
        Vote {
            kind,
            height,
            round,
            value: value_of(v),
            validator: self.keys[who].address(),
        }
        .sign(&self.keys[who])
        .expect("own key")
    }

    fn run(&mut self, action: Action) {
        let height = self.node.height();
        let at = |offset: u8| (height + u64::from(offset)).saturating_sub(1);
        let fx = match action {
            Action::Vote {
                who,
                kind,
                height_offset,
                round,
                value,
            } => {
                let vote = self.signed_vote(who, kind, at(height_offset), round, value);
                self.node.handle(Input::Vote(vote))
            }
            Action::Proposal {
                height_offset,
                round,
                value,
                pol_round,
                valid,
            } => {
                let h = at(height_offset);
                let proposer = self.node.validators().proposer(h, round).address;
                let Some(key) = self.keys.iter().find(|k| k.address() == proposer) else {
                    return;
                };
                let proposal = Proposal {
                    height: h,
                    round,
                    value: value_of(value.max(1)).value().unwrap_or(Hash::ZERO),
                    pol_round,
                    proposer,
                }
                .sign(key)
                .expect("proposer key");
                self.node.handle(Input::Proposal {
                    proposal,
                    validity: valid.into(),
                })
            }
            Action::Quorum { kind, round, value } => {
                let mut fx = Vec::new();
                for who in 1..4 {
                    let vote = self.signed_vote(who, kind, height, round, value);
                    fx.extend(self.node.handle(Input::Vote(vote)));
                    if self.node.height() != height || self.node.is_decided() {
                        break;
                    }
                }
                fx
            }
            Action::Timeout { step, round } => self.node.handle(Input::Timeout(Timeout {
                height,
                round,
                step,
            })),
            Action::ProposeValue { round, value } => self.node.handle(Input::ProposeValue {
                height,
                round,
                value: value_of(value).value().unwrap_or(Hash::ZERO),
            }),
            Action::Restart => {
                let persisted = self.log.get(&height).cloned().unwrap_or_default();
                let set = self.node.validators().clone();
                self.node = Consensus::new(test_config(), set, self.keys[0].clone());
                self.node
                    .restore_height(height, persisted)
                    .expect("own log restores")
            }
        };
        self.observe(fx);
    }
}

proptest! {
    // No regression files: the workspace keeps test inputs in code.
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_inputs_never_break_the_nodes_own_safety_rules(
        actions in proptest::collection::vec(action(), 1..100)
    ) {
        let mut world = World::new();
        for action in actions {
            world.run(action);
        }
    }
}
