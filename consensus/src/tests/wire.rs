//! Sign-bytes, signatures, validator-set arithmetic, certificates and evidence.

use pov_crypto::{Address, Hash};

use super::{keys, set_with_powers, value, Validator, ValidatorSet};
use crate::{
    Certificate, CommitSig, ConsensusError, Evidence, EvidenceError, NilOrVal, Proposal,
    SignedVote, ValidatorSetError, Vote, VoteKind, PROPOSAL_DOMAIN, PROPOSAL_SIGN_BYTES_LEN,
    VOTE_DOMAIN, VOTE_SIGN_BYTES_LEN,
};
use pov_protocol::block::CertificateError;

fn vote(kind: VoteKind, height: u64, round: u32, value: Option<Hash>, who: Address) -> Vote {
    Vote {
        kind,
        height,
        round,
        value: value.into(),
        validator: who,
    }
}

#[test]
fn vote_sign_bytes_have_the_documented_layout() {
    let k = &keys(1)[0];
    let v = vote(
        VoteKind::Precommit,
        0x0102_0304_0506_0708,
        0x0a0b_0c0d,
        Some(value("x")),
        k.address(),
    );
    let bytes = v.sign_bytes();
    assert_eq!(bytes.len(), VOTE_SIGN_BYTES_LEN);
    assert_eq!(&bytes[..11], VOTE_DOMAIN);
    assert_eq!(bytes[11], 2, "precommit tag");
    assert_eq!(
        &bytes[12..20],
        &[1, 2, 3, 4, 5, 6, 7, 8],
        "height, big-endian"
    );
    assert_eq!(
        &bytes[20..24],
        &[0x0a, 0x0b, 0x0c, 0x0d],
        "round, big-endian"
    );
    assert_eq!(bytes[24], 1, "value present");
    assert_eq!(&bytes[25..57], value("x").as_bytes());
    assert_eq!(&bytes[57..], k.address().as_bytes());

    // Every field changes the bytes; nil differs from a zero hash.
    let prevote = Vote {
        kind: VoteKind::Prevote,
        ..v
    };
    let nil = Vote {
        value: NilOrVal::Nil,
        ..v
    };
    let zero = Vote {
        value: NilOrVal::Val(Hash::ZERO),
        ..v
    };
    let all = [
        v.sign_bytes(),
        prevote.sign_bytes(),
        nil.sign_bytes(),
        zero.sign_bytes(),
        Vote { height: 1, ..v }.sign_bytes(),
        Vote { round: 1, ..v }.sign_bytes(),
    ];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn proposal_sign_bytes_have_the_documented_layout() {
    let k = &keys(1)[0];
    let p = Proposal {
        height: 5,
        round: 3,
        value: value("b"),
        pol_round: Some(2),
        proposer: k.address(),
    };
    let bytes = p.sign_bytes();
    assert_eq!(bytes.len(), PROPOSAL_SIGN_BYTES_LEN);
    assert_eq!(&bytes[..15], PROPOSAL_DOMAIN);
    assert_eq!(&bytes[15..23], &5u64.to_be_bytes());
    assert_eq!(&bytes[23..27], &3u32.to_be_bytes());
    assert_eq!(&bytes[27..59], value("b").as_bytes());
    assert_eq!(bytes[59], 1);
    assert_eq!(&bytes[60..64], &2u32.to_be_bytes());
    let no_pol = Proposal {
        pol_round: None,
        ..p
    };
    let pol_zero = Proposal {
        pol_round: Some(0),
        ..p
    };
    assert_ne!(no_pol.sign_bytes(), pol_zero.sign_bytes());
    // A vote can never be read as a proposal: the domains differ.
    assert!(!VOTE_DOMAIN.starts_with(PROPOSAL_DOMAIN) && !PROPOSAL_DOMAIN.starts_with(VOTE_DOMAIN));
}

#[test]
fn signing_checks_the_key_and_verification_checks_every_field() {
    let ks = keys(2);
    let v = vote(VoteKind::Prevote, 1, 0, Some(value("a")), ks[0].address());
    assert_eq!(
        v.sign(&ks[1]),
        Err(ConsensusError::WrongSigner {
            expected: ks[0].address(),
            key: ks[1].address()
        })
    );
    let signed = v.sign(&ks[0]).expect("own key");
    assert!(signed.verify().is_ok());
    let mut forged = signed;
    forged.vote.value = NilOrVal::Nil;
    assert!(forged.verify().is_err());
    let mut moved = signed;
    moved.vote.round = 1;
    assert!(moved.verify().is_err());

    let p = Proposal {
        height: 1,
        round: 0,
        value: value("a"),
        pol_round: None,
        proposer: ks[1].address(),
    };
    assert!(p.sign(&ks[0]).is_err());
    let sp = p.sign(&ks[1]).expect("own key");
    assert!(sp.verify().is_ok());
    let mut forged = sp;
    forged.proposal.pol_round = Some(0);
    assert!(forged.verify().is_err());
}

#[test]
fn validator_set_rejects_bad_lists_and_rotates_proposers() {
    let ks = keys(3);
    let a = ks[0].address();
    assert_eq!(ValidatorSet::new(vec![]), Err(ValidatorSetError::Empty));
    let v = |address, power| Validator { address, power };
    assert_eq!(
        ValidatorSet::new(vec![v(a, 1), v(a, 2)]),
        Err(ValidatorSetError::Duplicate(a))
    );
    assert_eq!(
        ValidatorSet::new(vec![v(a, 0)]),
        Err(ValidatorSetError::ZeroPower(a))
    );
    assert_eq!(
        ValidatorSet::new(vec![v(a, u64::MAX), v(ks[1].address(), 1)]),
        Err(ValidatorSetError::PowerOverflow)
    );

    let set = set_with_powers(&ks, &[1, 1, 1]);
    for height in 0..7u64 {
        for round in 0..7u32 {
            let expected = ((height + u64::from(round)) % 3) as usize;
            assert_eq!(set.proposer(height, round).address, ks[expected].address());
        }
    }
    // No overflow at the extremes.
    let _ = set.proposer(u64::MAX, u32::MAX);
    assert_eq!(set.power_of(&keys(4)[3].address()), None);
}

#[test]
fn quorum_is_strictly_more_than_two_thirds_of_power() {
    let ks = keys(3);
    let set = set_with_powers(&ks, &[5, 3, 2]); // total 10
    assert!(set.is_quorum(7)); // 21 > 20
    assert!(!set.is_quorum(6)); // 18 <= 20
    assert!(set.exceeds_one_third(4)); // 12 > 10
    assert!(!set.exceeds_one_third(3)); // 9 <= 10

    let set = set_with_powers(&ks, &[1, 1, 1]); // total 3: quorum is all three
    assert!(set.is_quorum(3) && !set.is_quorum(2));
    assert!(set.exceeds_one_third(2) && !set.exceeds_one_third(1));

    // Huge powers do not overflow the arithmetic.
    let big = set_with_powers(&ks[..2], &[u64::MAX / 2, u64::MAX / 2]);
    assert!(big.is_quorum(u64::MAX - 1));
    assert!(!big.is_quorum(u64::MAX / 2));
}

fn precommit(k: &pov_crypto::Keypair, round: u32, v: Option<Hash>) -> SignedVote {
    vote(VoteKind::Precommit, 9, round, v, k.address())
        .sign(k)
        .expect("own key")
}

#[test]
fn engine_precommits_make_certificates_that_the_one_certificate_check_accepts() {
    // The engine signs votes; storage and sync check certificates built from them with
    // `Certificate::verify`. Only precommits for exactly the certified height, round and
    // block carry over.
    let ks = keys(5);
    let set = set_with_powers(&ks[..4], &[1, 1, 1, 1]);
    let v = value("block");
    let cert = |precommits: &[SignedVote]| Certificate {
        height: 9,
        round: 2,
        block_hash: v,
        signatures: precommits
            .iter()
            .map(|p| CommitSig {
                validator: p.vote.validator,
                signature: p.signature,
            })
            .collect(),
    };
    let good: Vec<SignedVote> = ks[..3].iter().map(|k| precommit(k, 2, Some(v))).collect();
    assert_eq!(cert(&good).verify(&set, 9, &v), Ok(()));
    assert_eq!(
        cert(&good[..2]).verify(&set, 9, &v),
        Err(CertificateError::NoQuorum { got: 2, total: 4 })
    );
    let mut outsider = good.clone();
    outsider.push(precommit(&ks[4], 2, Some(v)));
    assert_eq!(
        cert(&outsider).verify(&set, 9, &v),
        Err(CertificateError::UnknownValidator(ks[4].address()))
    );
    let mut wrong_round = good.clone();
    wrong_round[1] = precommit(&ks[1], 1, Some(v));
    assert_eq!(
        cert(&wrong_round).verify(&set, 9, &v),
        Err(CertificateError::BadSignature(ks[1].address()))
    );
    let mut nil = good.clone();
    nil[2] = precommit(&ks[2], 2, None);
    assert_eq!(
        cert(&nil).verify(&set, 9, &v),
        Err(CertificateError::BadSignature(ks[2].address()))
    );
    let mut prevote = good;
    prevote[0] = vote(VoteKind::Prevote, 9, 2, Some(v), ks[0].address())
        .sign(&ks[0])
        .expect("own key");
    assert_eq!(
        cert(&prevote).verify(&set, 9, &v),
        Err(CertificateError::BadSignature(ks[0].address()))
    );
}

#[test]
fn double_sign_evidence_must_be_two_different_votes_for_one_slot() {
    let ks = keys(2);
    let a = precommit(&ks[0], 0, Some(value("a")));
    let b = precommit(&ks[0], 0, None);
    let ev = |vote_a, vote_b| Evidence::DoubleSign {
        validator: ks[0].address(),
        vote_a,
        vote_b,
    };
    assert_eq!(ev(a, b).verify(), Ok(()));
    assert_eq!(ev(a, a).verify(), Err(EvidenceError::NotConflicting));
    assert_eq!(
        ev(a, precommit(&ks[0], 1, None)).verify(),
        Err(EvidenceError::NotConflicting)
    );
    assert_eq!(
        ev(a, precommit(&ks[1], 0, None)).verify(),
        Err(EvidenceError::NotConflicting)
    );
    let mut forged = b;
    forged.signature = a.signature;
    assert!(matches!(
        ev(a, forged).verify(),
        Err(EvidenceError::BadSignature(_))
    ));
}

#[test]
fn double_proposal_evidence_must_be_two_different_proposals_for_one_round() {
    let ks = keys(2);
    let proposal = |k: &pov_crypto::Keypair, round: u32, v: Hash, pol_round| {
        Proposal {
            height: 3,
            round,
            value: v,
            pol_round,
            proposer: k.address(),
        }
        .sign(k)
        .expect("own key")
    };
    let a = proposal(&ks[0], 1, value("a"), None);
    let b = proposal(&ks[0], 1, value("b"), None);
    let ev = |proposal_a, proposal_b| Evidence::DoubleProposal {
        proposer: ks[0].address(),
        proposal_a,
        proposal_b,
    };
    assert_eq!(ev(a, b).verify(), Ok(()));
    // The same value with another POL round is a different proposal too.
    assert_eq!(
        ev(a, proposal(&ks[0], 1, value("a"), Some(0))).verify(),
        Ok(())
    );
    assert_eq!(ev(a, a).verify(), Err(EvidenceError::NotConflicting));
    assert_eq!(
        ev(a, proposal(&ks[0], 2, value("b"), None)).verify(),
        Err(EvidenceError::NotConflicting)
    );
    assert_eq!(
        ev(a, proposal(&ks[1], 1, value("b"), None)).verify(),
        Err(EvidenceError::NotConflicting)
    );
    let mut forged = b;
    forged.signature = a.signature;
    assert!(matches!(
        ev(a, forged).verify(),
        Err(EvidenceError::BadSignature(_))
    ));
    // Two nodes that saw the proposals in opposite orders hold the same normalized evidence.
    assert_eq!(ev(a, b).normalized(), ev(b, a).normalized());
    assert_eq!(ev(a, b).height(), 3);
    assert_eq!(ev(a, b).round(), 1);
}
