//! Unit tests of the upon-rules of Algorithm 1, one node fed hand-made messages.

use pov_crypto::{Hash, Keypair};

use super::{check_persist_before_broadcast, keys, set_with_powers, test_config, value};
use crate::{
    Consensus, ConsensusError, Effect, Evidence, Input, Message, NilOrVal, Proposal, RoundValue,
    SignedProposal, SignedVote, Step, Timeout, Validity, Vote, VoteKind,
};

/// One core under test (validator `me` of four equal validators) and the keys of all four.
struct Harness {
    keys: Vec<Keypair>,
    node: Consensus,
    me: usize,
    /// Everything the node was told to persist, in order (its consensus log).
    log: Vec<Message>,
}

impl Harness {
    fn new(n: u32, me: usize) -> Self {
        let keys = keys(n);
        let powers = vec![1; keys.len()];
        let set = set_with_powers(&keys, &powers);
        let node = Consensus::new(test_config(), set, keys[me].clone());
        Self {
            keys,
            node,
            me,
            log: Vec::new(),
        }
    }

    fn check(&mut self, fx: Vec<Effect>) -> Vec<Effect> {
        let own = self.keys[self.me].address();
        check_persist_before_broadcast(&fx, &own, &mut self.log);
        fx
    }

    fn start(&mut self, height: u64) -> Vec<Effect> {
        let fx = self.node.start_height(height).expect("height increases");
        self.check(fx)
    }

    fn input(&mut self, input: Input) -> Vec<Effect> {
        let fx = self.node.handle(input);
        self.check(fx)
    }

    /// A proposal signed by the rightful proposer of `(height, round)`.
    fn proposal(&self, height: u64, round: u32, v: Hash, pol_round: Option<u32>) -> SignedProposal {
        let proposer = self.node.validators().proposer(height, round).address;
        let key = self
            .keys
            .iter()
            .find(|k| k.address() == proposer)
            .expect("proposer is one of the keys");
        Proposal {
            height,
            round,
            value: v,
            pol_round,
            proposer,
        }
        .sign(key)
        .expect("proposer's key")
    }

    fn propose(&mut self, round: u32, v: Hash, pol_round: Option<u32>, valid: bool) -> Vec<Effect> {
        let proposal = self.proposal(self.node.height(), round, v, pol_round);
        self.input(Input::Proposal {
            proposal,
            validity: valid.into(),
        })
    }

    fn vote(&self, who: usize, kind: VoteKind, round: u32, v: Option<Hash>) -> SignedVote {
        self.vote_at(self.node.height(), who, kind, round, v)
    }

    fn vote_at(
        &self,
        height: u64,
        who: usize,
        kind: VoteKind,
        round: u32,
        v: Option<Hash>,
    ) -> SignedVote {
        Vote {
            kind,
            height,
            round,
            value: v.into(),
            validator: self.keys[who].address(),
        }
        .sign(&self.keys[who])
        .expect("own key")
    }

    /// Votes of `kind` for `v` in `round` from each of `who`, delivered one by one.
    fn votes(&mut self, who: &[usize], kind: VoteKind, round: u32, v: Option<Hash>) -> Vec<Effect> {
        let mut all = Vec::new();
        for &w in who {
            let vote = self.vote(w, kind, round, v);
            all.extend(self.input(Input::Vote(vote)));
        }
        all
    }

    fn timeout(&mut self, step: Step) -> Vec<Effect> {
        let timeout = Timeout {
            height: self.node.height(),
            round: self.node.round(),
            step,
        };
        self.input(Input::Timeout(timeout))
    }

    /// Ends the current round through its three timeouts; returns the effects of the last
    /// one (which starts the next round).
    fn next_round_by_timeouts(&mut self) -> Vec<Effect> {
        let round = self.node.round();
        self.timeout(Step::Propose);
        self.timeout(Step::Prevote);
        let fx = self.timeout(Step::Precommit);
        assert_eq!(self.node.round(), round + 1);
        fx
    }
}

/// The votes this node sent, in order.
fn sent_votes(fx: &[Effect]) -> Vec<Vote> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Broadcast(Message::Vote(v)) => Some(v.vote),
            _ => None,
        })
        .collect()
}

/// The value of the vote of `kind` this node sent, if it sent one (`Some(None)`: nil). The
/// tests write a vote's value as an `Option` (None = nil) to stay short.
fn sent_vote(fx: &[Effect], kind: VoteKind) -> Option<Option<Hash>> {
    sent_votes(fx)
        .into_iter()
        .find(|v| v.kind == kind)
        .map(|v| v.value.value())
}

/// A lock or valid value: `value` seen with a prevote quorum in `round`.
fn at(round: u32, value: Hash) -> Option<RoundValue<Hash>> {
    Some(RoundValue { round, value })
}

fn scheduled(fx: &[Effect]) -> Vec<(Timeout, u64)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::ScheduleTimeout {
                timeout,
                duration_ms,
            } => Some((*timeout, *duration_ms)),
            _ => None,
        })
        .collect()
}

fn decisions(fx: &[Effect]) -> Vec<(u64, u32, Hash)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Decide { certificate, .. } => Some((
                certificate.height,
                certificate.round,
                certificate.block_hash,
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn prevotes_a_valid_proposal_then_locks_on_a_prevote_quorum() {
    let mut h = Harness::new(4, 0);
    let fx = h.start(1);
    // (1 + 0) mod 4 = 1 proposes; this node waits with timeoutPropose.
    assert_eq!(
        scheduled(&fx),
        vec![(
            Timeout {
                height: 1,
                round: 0,
                step: Step::Propose
            },
            300
        )]
    );
    let v = value("v");
    let fx = h.propose(0, v, None, true);
    assert_eq!(sent_vote(&fx, VoteKind::Prevote), Some(Some(v)));
    assert_eq!(h.node.step(), Step::Prevote);
    assert_eq!(h.node.locked(), None);

    // Own prevote plus one more: 2 of 4 is no quorum.
    let fx = h.votes(&[1], VoteKind::Prevote, 0, Some(v));
    assert!(fx.is_empty());
    // The third prevote makes a quorum: L34 schedules timeoutPrevote, L36 locks and precommits.
    let fx = h.votes(&[2], VoteKind::Prevote, 0, Some(v));
    assert_eq!(sent_vote(&fx, VoteKind::Precommit), Some(Some(v)));
    assert!(scheduled(&fx).iter().any(|(t, _)| t.step == Step::Prevote));
    assert_eq!(h.node.locked(), at(0, v));
    assert_eq!(h.node.valid_value(), at(0, v));
    assert_eq!(h.node.step(), Step::Precommit);

    // L49: a precommit quorum with the proposal decides, with the precommits as certificate.
    let fx = h.votes(&[3, 1], VoteKind::Precommit, 0, Some(v));
    assert_eq!(decisions(&fx), vec![(1, 0, v)]);
    assert!(h.node.is_decided());
    let Some(Effect::Decide {
        proposal,
        certificate,
    }) = fx.last()
    else {
        panic!("decision is the last effect: {fx:?}");
    };
    assert_eq!(proposal.proposal.value, v);
    assert_eq!(certificate.verify(h.node.validators(), 1, &v), Ok(()));
    assert_eq!(certificate.signatures.len(), 3);
    // Decided: further messages of this height change nothing.
    assert!(h.votes(&[2], VoteKind::Precommit, 0, Some(v)).is_empty());
}

#[test]
fn a_lock_is_released_only_by_a_proof_of_lock_change_from_its_round_or_later() {
    let mut h = Harness::new(4, 0);
    h.start(1);
    let (v, w) = (value("v"), value("w"));

    // Round 0: no proposal arrives, but 1, 2, 3 prevote w: a POL for w in round 0.
    h.votes(&[1, 2, 3], VoteKind::Prevote, 0, Some(w));
    h.next_round_by_timeouts();

    // Round 1: lock on v.
    h.propose(1, v, None, true);
    h.votes(&[1, 2], VoteKind::Prevote, 1, Some(v));
    assert_eq!(h.node.locked(), at(1, v));
    h.next_round_by_timeouts();

    // Round 2: w with its POL from round 0, older than the lock: refused (L28).
    let fx = h.propose(2, w, Some(0), true);
    assert_eq!(sent_vote(&fx, VoteKind::Prevote), Some(None));
    let fx = h.next_round_by_timeouts();

    // Round 3, proposer (1 + 3) mod 4 = this node: it re-proposes its valid value with its
    // valid round as POL round (persisted first), and prevotes it.
    let proposals: Vec<Proposal> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Broadcast(Message::Proposal(p)) => Some(p.proposal),
            _ => None,
        })
        .collect();
    assert_eq!(proposals.len(), 1);
    assert_eq!(
        (
            proposals[0].value,
            proposals[0].pol_round,
            proposals[0].round
        ),
        (v, Some(1), 3)
    );
    assert_eq!(sent_vote(&fx, VoteKind::Prevote), Some(Some(v)));
    h.next_round_by_timeouts();

    // Round 4: a fresh proposal for w is refused while locked on v (L22).
    let fx = h.propose(4, w, None, true);
    assert_eq!(sent_vote(&fx, VoteKind::Prevote), Some(None));
    h.next_round_by_timeouts();
    assert_eq!(h.node.locked(), at(1, v));

    // Round 5: 1, 2, 3 had prevoted w in round 4 (late news), so a proposal of w with POL
    // round 4 >= the lock's round releases the lock: prevote w.
    h.votes(&[1, 2, 3], VoteKind::Prevote, 4, Some(w));
    let fx = h.propose(5, w, Some(4), true);
    assert_eq!(sent_vote(&fx, VoteKind::Prevote), Some(Some(w)));
    // And a quorum for w in this round moves the lock to w.
    let fx = h.votes(&[1, 2], VoteKind::Prevote, 5, Some(w));
    assert_eq!(sent_vote(&fx, VoteKind::Precommit), Some(Some(w)));
    assert_eq!(h.node.locked(), at(5, w));
}

#[test]
fn an_invalid_proposal_gets_a_nil_prevote_and_is_never_locked_on_or_decided() {
    let mut h = Harness::new(4, 0);
    h.start(1);
    let v = value("bad block");
    let fx = h.propose(0, v, None, false);
    assert_eq!(sent_vote(&fx, VoteKind::Prevote), Some(None));
    // Even if everyone else prevotes and precommits it, this node does not follow.
    let fx = h.votes(&[1, 2, 3], VoteKind::Prevote, 0, Some(v));
    assert_eq!(sent_vote(&fx, VoteKind::Precommit), None);
    assert_eq!(h.node.locked(), None);
    let fx = h.votes(&[1, 2, 3], VoteKind::Precommit, 0, Some(v));
    assert!(decisions(&fx).is_empty());
    assert!(!h.node.is_decided());
}

#[test]
fn timeouts_drive_nil_votes_and_grow_linearly_per_round() {
    let mut h = Harness::new(4, 0);
    let fx = h.start(1);
    let x = value("x");
    let mut propose_durations = vec![scheduled(&fx)[0].1];
    for round in 0..3u32 {
        assert_eq!(h.node.round(), round);
        // timeoutPropose: prevote nil.
        let fx = h.timeout(Step::Propose);
        assert_eq!(sent_votes(&fx).len(), 1);
        assert_eq!(sent_vote(&fx, VoteKind::Prevote), Some(None));
        // A quorum of mixed prevotes (no value has one): L34 schedules timeoutPrevote.
        h.votes(&[1], VoteKind::Prevote, round, Some(x));
        let fx = h.votes(&[2], VoteKind::Prevote, round, None);
        assert_eq!(
            scheduled(&fx),
            vec![(
                Timeout {
                    height: 1,
                    round,
                    step: Step::Prevote
                },
                150 + 100 * u64::from(round)
            )]
        );
        assert_eq!(sent_votes(&fx), vec![], "no precommit before the timeout");
        // timeoutPrevote: precommit nil.
        let fx = h.timeout(Step::Prevote);
        assert_eq!(sent_vote(&fx, VoteKind::Precommit), Some(None));
        // A quorum of mixed precommits: L47 schedules timeoutPrecommit.
        h.votes(&[1], VoteKind::Precommit, round, Some(x));
        let fx = h.votes(&[2], VoteKind::Precommit, round, None);
        assert_eq!(
            scheduled(&fx),
            vec![(
                Timeout {
                    height: 1,
                    round,
                    step: Step::Precommit
                },
                150 + 100 * u64::from(round)
            )]
        );
        // Stale timeouts do nothing.
        assert!(h.timeout(Step::Propose).is_empty());
        // timeoutPrecommit: next round, whose propose timeout is longer.
        let fx = h.timeout(Step::Precommit);
        assert_eq!(h.node.step(), Step::Propose);
        if let Some((t, d)) = scheduled(&fx).first() {
            assert_eq!((t.round, t.step), (round + 1, Step::Propose));
            propose_durations.push(*d);
        }
    }
    // Rounds 1, 2 and 3 have proposers 2, 3 and this node (0): the last asks for a value
    // and also waits with timeoutPropose (deviation from the paper, documented).
    assert_eq!(propose_durations, vec![300, 400, 500, 600]);
    let old = Timeout {
        height: 1,
        round: 1,
        step: Step::Precommit,
    };
    assert!(h.input(Input::Timeout(old)).is_empty());
}

#[test]
fn messages_from_f_plus_one_power_of_a_higher_round_skip_to_that_round() {
    let mut h = Harness::new(4, 0);
    h.start(1);
    // One validator (1 of 4 power) in round 5: not enough, even with two messages.
    h.votes(&[2], VoteKind::Prevote, 5, None);
    h.votes(&[2], VoteKind::Precommit, 5, None);
    assert_eq!(h.node.round(), 0);
    // A proposal counts as a message of its round too: (1 + 5) mod 4 = 2 is the same
    // validator, still 1 of 4.
    h.propose(5, value("p"), None, true);
    assert_eq!(h.node.round(), 0);
    // A second validator: 2 of 4 > 1/3, skip to round 5 and start it.
    let fx = h.votes(&[3], VoteKind::Prevote, 5, None);
    assert_eq!(h.node.round(), 5);
    // Round 5's proposal was already there, so the node prevotes it at once.
    assert_eq!(sent_vote(&fx, VoteKind::Prevote), Some(Some(value("p"))));
    assert!(scheduled(&fx)
        .iter()
        .any(|(t, d)| { t.round == 5 && t.step == Step::Propose && *d == 300 + 5 * 100 }));
    // Lower rounds never pull the node back.
    h.votes(&[1, 2, 3], VoteKind::Prevote, 2, None);
    assert_eq!(h.node.round(), 5);
}

#[test]
fn duplicate_votes_and_votes_of_non_validators_are_not_counted() {
    let mut h = Harness::new(5, 0);
    // Only the first four keys are validators in this test.
    let set = set_with_powers(&h.keys[..4], &[1, 1, 1, 1]);
    h.node = Consensus::new(test_config(), set, h.keys[0].clone());
    h.start(1);
    let v = value("v");
    h.propose(0, v, None, true);
    // Own prevote, then validator 1 three times and an outsider: still 2 of 4.
    let mut fx = h.votes(&[1, 1, 1], VoteKind::Prevote, 0, Some(v));
    fx.extend(h.votes(&[4], VoteKind::Prevote, 0, Some(v)));
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(h.node.step(), Step::Prevote);
    let fx = h.votes(&[2], VoteKind::Prevote, 0, Some(v));
    assert_eq!(sent_vote(&fx, VoteKind::Precommit), Some(Some(v)));
}

#[test]
fn double_signing_yields_evidence_once_and_both_votes_count_as_in_the_paper() {
    let mut h = Harness::new(4, 0);
    h.start(1);
    let (v, w, x) = (value("v"), value("w"), value("x"));
    h.propose(0, v, None, true);
    // Validator 1 prevotes w, then v.
    h.votes(&[1], VoteKind::Prevote, 0, Some(w));
    let fx = h.votes(&[1], VoteKind::Prevote, 0, Some(v));
    let first = h.vote(1, VoteKind::Prevote, 0, Some(w));
    let second = h.vote(1, VoteKind::Prevote, 0, Some(v));
    assert_eq!(
        fx,
        vec![Effect::Evidence(Evidence::DoubleSign {
            validator: h.keys[1].address(),
            vote_a: first,
            vote_b: second,
        })]
    );
    if let Some(Effect::Evidence(e)) = fx.first() {
        assert_eq!(e.verify(), Ok(()));
    }
    // A third version of the same slot: no second report.
    assert!(h.votes(&[1], VoteKind::Prevote, 0, Some(x)).is_empty());
    // The paper counts messages per value, so 1's prevote for v counts: with this node and
    // 2 that is a quorum for v. (Counting only 1's first vote would leave this node, and any
    // node that heard w first, unable ever to see the proof of lock change that others see.)
    let fx = h.votes(&[2], VoteKind::Prevote, 0, Some(v));
    assert_eq!(sent_vote(&fx, VoteKind::Precommit), Some(Some(v)));
    assert_eq!(h.node.locked(), at(0, v));
}

#[test]
fn a_second_proposal_for_a_round_yields_evidence_once_and_both_are_kept() {
    let mut h = Harness::new(4, 0);
    h.start(1);
    let (v, w, x) = (value("v"), value("w"), value("x"));
    // Round 0's proposer (1) proposes v, then w.
    let fx = h.propose(0, v, None, true);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Evidence(_))));
    let first = h.proposal(1, 0, v, None);
    let second = h.proposal(1, 0, w, None);
    let fx = h.propose(0, w, None, true);
    let evidence: Vec<&Evidence> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Evidence(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(
        evidence,
        vec![&Evidence::DoubleProposal {
            proposer: h.keys[1].address(),
            proposal_a: first,
            proposal_b: second,
        }]
    );
    assert_eq!(evidence[0].verify(), Ok(()));
    assert_eq!(evidence[0].offender(), h.keys[1].address());
    // A third version, or the same proposal again: no second report.
    assert!(!h
        .propose(0, x, None, true)
        .iter()
        .any(|e| matches!(e, Effect::Evidence(_))));
    assert!(h.propose(0, v, None, true).is_empty());
    // Both versions stay usable: a quorum for w with w's proposal still locks.
    let fx = h.votes(&[1, 2, 3], VoteKind::Prevote, 0, Some(w));
    assert_eq!(sent_vote(&fx, VoteKind::Precommit), Some(Some(w)));
    assert_eq!(h.node.locked(), at(0, w));
}

#[test]
fn a_restarted_proposer_that_cannot_show_its_pol_times_out_instead_of_stalling() {
    // Node 0 locks on v in round 0 (prevotes of 1 and 2), crashes, and restarts: it keeps
    // its lock, not the prevotes behind it.
    let mut h = Harness::new(4, 0);
    h.start(1);
    let v = value("v");
    h.propose(0, v, None, true);
    h.votes(&[1, 2], VoteKind::Prevote, 0, Some(v));
    assert_eq!(h.node.locked(), at(0, v));
    let set = h.node.validators().clone();
    let log = h.log.clone();
    h.node = Consensus::new(test_config(), set, h.keys[0].clone());
    let fx = h.node.restore_height(1, log).expect("own log");
    h.check(fx);
    // Validators 1 and 2 are in round 3, whose proposer is this node: it re-proposes v
    // with POL round 0, which it cannot show, so L28 cannot fire for it.
    h.votes(&[1], VoteKind::Prevote, 3, None);
    let fx = h.votes(&[2], VoteKind::Prevote, 3, None);
    assert_eq!(h.node.round(), 3);
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Broadcast(Message::Proposal(p)) if p.proposal.value == v && p.proposal.pol_round == Some(0)
    )));
    assert_eq!(sent_vote(&fx, VoteKind::Prevote), None);
    // It runs timeoutPropose like everyone else (the paper's proposer has none: without it
    // this node would never prevote in round 3, and with one validator down nobody could
    // reach 2/3 of the prevotes)...
    assert!(scheduled(&fx).iter().any(|(t, _)| *t
        == Timeout {
            height: 1,
            round: 3,
            step: Step::Propose
        }));
    // ...and prevotes nil when it fires.
    let fx = h.timeout(Step::Propose);
    assert_eq!(sent_vote(&fx, VoteKind::Prevote), Some(None));
}

#[test]
fn rebroadcasts_carry_every_prevote_quorum_held_not_only_the_own_lock() {
    // Node 0 sees a quorum of prevotes for v but judged v's block invalid: it neither
    // locks nor takes v as its valid value, yet others locked on v may need that POL.
    let mut h = Harness::new(4, 0);
    h.start(1);
    let v = value("v");
    h.propose(0, v, None, false);
    h.votes(&[1, 2, 3], VoteKind::Prevote, 0, Some(v));
    assert_eq!(h.node.locked(), None);
    assert_eq!(h.node.valid_value(), None);
    let resent: Vec<SignedVote> = h
        .node
        .rebroadcast()
        .into_iter()
        .filter_map(|e| match e {
            Effect::Broadcast(Message::Vote(sv)) if sv.vote.validator != h.keys[0].address() => {
                Some(sv)
            }
            _ => None,
        })
        .collect();
    let expected: Vec<SignedVote> = [1, 2, 3]
        .iter()
        .map(|&who| h.vote(who, VoteKind::Prevote, 0, Some(v)))
        .collect();
    for vote in &expected {
        assert!(resent.contains(vote), "{vote:?} not re-sent: {resent:?}");
    }
}

#[test]
fn next_height_messages_are_buffered_until_that_height_starts() {
    let mut h = Harness::new(4, 0);
    h.start(1);
    let v = value("v1");
    h.propose(0, v, None, true);
    // Height 2's proposal (proposer (2 + 0) mod 4 = 2) arrives before height 1 is decided.
    let next = h.proposal(2, 0, value("v2"), None);
    assert!(h
        .input(Input::Proposal {
            proposal: next,
            validity: Validity::Valid
        })
        .is_empty());
    h.votes(&[1, 2], VoteKind::Prevote, 0, Some(v));
    let fx = h.votes(&[1, 2], VoteKind::Precommit, 0, Some(v));
    assert_eq!(decisions(&fx), vec![(1, 0, v)]);
    // Heights only go forward.
    assert_eq!(
        h.node.start_height(1),
        Err(ConsensusError::HeightNotIncreasing {
            current: 1,
            requested: 1
        })
    );
    let fx = h.start(2);
    assert_eq!(h.node.height(), 2);
    assert_eq!(sent_vote(&fx, VoteKind::Prevote), Some(Some(value("v2"))));
}

#[test]
fn a_restarted_node_never_signs_a_different_vote_and_keeps_its_lock() {
    let mut h = Harness::new(4, 0);
    h.start(1);
    let (v, w) = (value("v"), value("w"));
    h.propose(0, v, None, true);
    h.votes(&[1, 2], VoteKind::Prevote, 0, Some(v));
    assert_eq!(h.node.locked(), at(0, v));
    let log = h.log.clone();
    assert_eq!(
        log.len(),
        2,
        "prevote and precommit were persisted: {log:?}"
    );

    // Crash and restart from the log.
    let set = h.node.validators().clone();
    h.node = Consensus::new(test_config(), set.clone(), h.keys[0].clone());
    let fx = h.node.restore_height(1, log.clone()).expect("own log");
    let fx = h.check(fx);
    assert_eq!(h.node.locked(), at(0, v));
    assert_eq!((h.node.round(), h.node.step()), (0, Step::Propose));
    assert!(sent_votes(&fx).is_empty());

    // timeoutPropose would make a fresh node prevote nil; this one re-sends its prevote
    // for v and persists nothing new.
    let fx = h.timeout(Step::Propose);
    assert_eq!(sent_votes(&fx).len(), 1);
    assert_eq!(sent_vote(&fx, VoteKind::Prevote), Some(Some(v)));
    assert!(!fx.iter().any(|e| matches!(e, Effect::PersistVote(_))));
    assert_eq!(
        h.node.own_vote(0, VoteKind::Prevote),
        log.iter().find_map(|m| match m {
            Message::Vote(sv) if sv.vote.kind == VoteKind::Prevote => Some(sv),
            _ => None,
        })
    );

    // The restored lock holds in the next round.
    h.next_round_by_timeouts();
    let fx = h.propose(1, w, None, true);
    assert_eq!(sent_vote(&fx, VoteKind::Prevote), Some(None));
}

#[test]
fn a_restarted_node_that_precommitted_nil_re_sends_nil_and_does_not_lock() {
    let mut h = Harness::new(4, 0);
    h.start(1);
    let v = value("v");
    h.timeout(Step::Propose);
    h.timeout(Step::Prevote);
    let log = h.log.clone();
    assert_eq!(log.len(), 2);
    let set = h.node.validators().clone();
    h.node = Consensus::new(test_config(), set, h.keys[0].clone());
    let fx = h.node.restore_height(1, log).expect("own log");
    h.check(fx);
    // Now the proposal and a prevote quorum for v arrive: L22 and L36 would have this node
    // prevote and precommit v, but it already voted nil in both slots.
    let mut fx = h.propose(0, v, None, true);
    fx.extend(h.votes(&[1, 2, 3], VoteKind::Prevote, 0, Some(v)));
    assert_eq!(
        sent_votes(&fx).iter().map(|v| v.value).collect::<Vec<_>>(),
        vec![NilOrVal::Nil, NilOrVal::Nil]
    );
    assert!(!fx.iter().any(|e| matches!(e, Effect::PersistVote(_))));
    assert_eq!(h.node.locked(), None);
    // It still records v as valid (L36 does so in any step).
    assert_eq!(h.node.valid_value(), at(0, v));
}

#[test]
fn a_node_that_lost_its_log_adopts_its_own_votes_seen_on_the_network() {
    let mut h = Harness::new(4, 0);
    h.start(1);
    let v = value("v");
    // This node's prevote for v from a previous life arrives from a peer.
    let old = h.vote(0, VoteKind::Prevote, 0, Some(v));
    let fx = h.input(Input::Vote(old));
    assert_eq!(fx, vec![Effect::PersistVote(old)], "adopted and logged");
    // timeoutPropose: a fresh node would prevote nil; this one re-sends its old prevote.
    let fx = h.timeout(Step::Propose);
    assert_eq!(sent_votes(&fx), vec![old.vote]);
}

#[test]
fn an_adopted_own_vote_of_a_later_round_moves_the_node_to_that_round() {
    let mut h = Harness::new(4, 0);
    h.start(1);
    let (v, w) = (value("v"), value("w"));
    // This node's precommit for v in round 2, from a previous life, arrives.
    let old = h.vote(0, VoteKind::Precommit, 2, Some(v));
    let fx = h.input(Input::Vote(old));
    assert_eq!(fx.first(), Some(&Effect::PersistVote(old)));
    assert_eq!((h.node.round(), h.node.locked()), (2, at(2, v)));
    // Round 0 is over for it: a round-0 quorum for w changes nothing.
    h.propose(0, w, None, true);
    let fx = h.votes(&[1, 2, 3], VoteKind::Prevote, 0, Some(w));
    assert!(sent_votes(&fx).is_empty(), "{fx:?}");
    assert_eq!(h.node.locked(), at(2, v));
}

#[test]
fn restore_rejects_logs_that_are_not_this_nodes_own_for_that_height() {
    let h = Harness::new(4, 0);
    let set = h.node.validators().clone();
    let fresh = || Consensus::new(test_config(), set.clone(), h.keys[0].clone());
    let own = |round, v| Message::Vote(h.vote_at(1, 0, VoteKind::Prevote, round, v));

    let mut conflicting = fresh();
    assert_eq!(
        conflicting.restore_height(1, vec![own(0, None), own(0, Some(value("a")))]),
        Err(ConsensusError::ConflictingPersistedVotes {
            round: 0,
            kind: VoteKind::Prevote
        })
    );
    // The failed restore left the core unstarted.
    let other = h.vote_at(1, 1, VoteKind::Prevote, 0, None);
    assert!(conflicting.handle(Input::Vote(other)).is_empty());

    assert!(matches!(
        fresh().restore_height(1, vec![Message::Vote(other)]),
        Err(ConsensusError::ForeignPersistedMessage { .. })
    ));
    assert_eq!(
        fresh().restore_height(2, vec![own(0, None)]),
        Err(ConsensusError::WrongPersistedHeight {
            expected: 2,
            found: 1
        })
    );
    let mut tampered = h.vote_at(1, 0, VoteKind::Prevote, 3, None);
    tampered.vote.value = NilOrVal::Val(value("a"));
    assert_eq!(
        fresh().restore_height(1, vec![Message::Vote(tampered)]),
        Err(ConsensusError::BadPersistedSignature { round: 3 })
    );
    // Duplicates in the log are fine; the node resumes in its highest round.
    let mut ok = fresh();
    ok.restore_height(1, vec![own(2, None), own(2, None)])
        .expect("duplicates are harmless");
    assert_eq!(ok.round(), 2);
}

#[test]
fn an_observer_decides_without_ever_voting() {
    let ks = keys(5);
    let set = set_with_powers(&ks[..4], &[1, 1, 1, 1]);
    let mut node = Consensus::new(test_config(), set, ks[4].clone());
    let fx = node.start_height(1).expect("start");
    assert!(!fx.iter().any(|e| matches!(e, Effect::GetValue { .. })));
    let v = value("v");
    let proposal = Proposal {
        height: 1,
        round: 0,
        value: v,
        pol_round: None,
        proposer: ks[1].address(),
    }
    .sign(&ks[1])
    .expect("key");
    let mut all = node.handle(Input::Proposal {
        proposal,
        validity: Validity::Valid,
    });
    all.extend(node.handle(Input::Timeout(Timeout {
        height: 1,
        round: 0,
        step: Step::Propose,
    })));
    for k in &ks[..3] {
        let vote = Vote {
            kind: VoteKind::Precommit,
            height: 1,
            round: 0,
            value: NilOrVal::Val(v),
            validator: k.address(),
        }
        .sign(k)
        .expect("key");
        all.extend(node.handle(Input::Vote(vote)));
    }
    assert_eq!(decisions(&all), vec![(1, 0, v)]);
    assert!(!all.iter().any(|e| matches!(
        e,
        Effect::Broadcast(_) | Effect::PersistVote(_) | Effect::PersistProposal(_)
    )));
}

#[test]
fn a_single_validator_decides_every_height_alone() {
    let ks = keys(1);
    let set = set_with_powers(&ks, &[10]);
    let mut node = Consensus::new(test_config(), set.clone(), ks[0].clone());
    let mut log = Vec::new();
    for height in 1..=50u64 {
        let mut fx = node.start_height(height).expect("next height");
        let Some(Effect::GetValue { height: gh, round }) = fx
            .iter()
            .find(|e| matches!(e, Effect::GetValue { .. }))
            .cloned()
        else {
            panic!("the only validator proposes every height: {fx:?}");
        };
        assert_eq!((gh, round), (height, 0));
        let block = value(&format!("block {height}"));
        fx.extend(node.handle(Input::ProposeValue {
            height,
            round: 0,
            value: block,
        }));
        check_persist_before_broadcast(&fx, &ks[0].address(), &mut log);
        // No timeout had to fire: the decision is in the answer's effects.
        let decided: Vec<_> = decisions(&fx);
        assert_eq!(decided, vec![(height, 0, block)]);
        if let Some(Effect::Decide { certificate, .. }) = fx.last() {
            assert_eq!(certificate.signatures.len(), 1);
            if height % 10 == 0 {
                assert_eq!(certificate.verify(&set, height, &block), Ok(()));
            }
        } else {
            panic!("decision is the last effect");
        }
    }
}
