//! Evidence of misbehaviour is kept on disk, once per offence, and listed in height order.

use pov_consensus::{Evidence, NilOrVal, Proposal, SignedVote, Vote, VoteKind};
use pov_crypto::Keypair;
use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_storage::{OpenOptions, Store};

fn vote(key: &Keypair, height: u64, round: u32, tag: Option<&[u8]>) -> SignedVote {
    Vote {
        kind: VoteKind::Precommit,
        height,
        round,
        value: tag.map(pov_crypto::hash).into(),
        validator: key.address(),
    }
    .sign(key)
    .expect("own key")
}

fn double_sign(key: &Keypair, height: u64, round: u32, a: &[u8], b: &[u8]) -> Evidence {
    Evidence::DoubleSign {
        validator: key.address(),
        vote_a: vote(key, height, round, Some(a)),
        vote_b: vote(key, height, round, Some(b)),
    }
}

#[test]
fn evidence_is_kept_once_per_offence_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let key = dev_validator_key(0);
    let late = double_sign(&key, 9, 0, b"a", b"b");
    let early = double_sign(&key, 2, 1, b"a", b"b");
    let proposal = |tag: &[u8]| {
        Proposal {
            height: 2,
            round: 1,
            value: pov_crypto::hash(tag),
            pol_round: None,
            proposer: key.address(),
        }
        .sign(&key)
        .expect("own key")
    };
    let two_proposals = Evidence::DoubleProposal {
        proposer: key.address(),
        proposal_a: proposal(b"x"),
        proposal_b: proposal(b"y"),
    };
    {
        let mut store =
            Store::open(&data, Genesis::dev(), &OpenOptions::default()).expect("store opens");
        assert_eq!(store.evidence_count().expect("count"), 0);
        assert!(store.record_evidence(&late).expect("record"));
        assert!(store.record_evidence(&early).expect("record"));
        assert!(store.record_evidence(&two_proposals).expect("record"));
        // The same offence again, in the other order or with a third version: kept once.
        let Evidence::DoubleSign {
            validator,
            vote_a,
            vote_b,
        } = late.clone()
        else {
            unreachable!("built as a double sign");
        };
        let swapped = Evidence::DoubleSign {
            validator,
            vote_a: vote_b,
            vote_b: vote_a,
        };
        assert!(!store.record_evidence(&swapped).expect("record"));
        let third = double_sign(&key, 9, 0, b"a", b"c");
        assert!(!store.record_evidence(&third).expect("record"));
        assert!(store.has_evidence(&third).expect("lookup"));
        // A nil vote is another value: still the same offence.
        let nil = Evidence::DoubleSign {
            validator: key.address(),
            vote_a: vote(&key, 9, 0, None),
            vote_b: vote(&key, 9, 0, Some(b"a")),
        };
        assert!(
            matches!(nil, Evidence::DoubleSign { ref vote_a, .. } if vote_a.vote.value == NilOrVal::Nil)
        );
        assert!(!store.record_evidence(&nil).expect("record"));
    }
    let store = Store::open(&data, Genesis::dev(), &OpenOptions::default()).expect("reopens");
    let kept = store.evidence(0, 100).expect("list");
    assert_eq!(
        kept.len(),
        3,
        "three offences survive the restart: {kept:?}"
    );
    let heights: Vec<u64> = kept.iter().map(Evidence::height).collect();
    assert_eq!(heights, vec![2, 2, 9], "listed in height order");
    assert!(kept.contains(&early.normalized()));
    assert!(kept.contains(&two_proposals.normalized()));
    assert_eq!(store.evidence(3, 100).expect("list").len(), 1);
    assert_eq!(store.evidence(0, 1).expect("list").len(), 1);
    for evidence in &kept {
        assert_eq!(evidence.verify(), Ok(()));
    }
}
