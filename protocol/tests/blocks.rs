//! Blocks: header checks, atomic execution, state roots and commit certificates.

use pov_crypto::Keypair;
use pov_protocol::block::{
    block_size, check_header, precommit_sign_bytes, tx_root, Block, BlockError, BlockHeader,
    Certificate, CertificateError, CommitSig, MAX_BLOCK_BYTES, MAX_BLOCK_TXS,
};
use pov_protocol::codec;
use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_protocol::{Transaction, TxBody};

fn txs(n: u64) -> Vec<Transaction> {
    (1..=n)
        .map(|nonce| {
            Transaction::sign(
                &Keypair::dev(0),
                "pov-devnet",
                &Genesis::dev().hash(),
                nonce,
                TxBody::Contribute {
                    kind: "work".into(),
                    title: format!("c{nonce}"),
                    uri: "u".into(),
                    content_hash: None,
                },
            )
        })
        .collect()
}

fn block_for(genesis: &Genesis, txs: Vec<Transaction>) -> Block {
    let mut state = genesis.state().expect("state");
    let outcome = state.execute_txs(1, &txs, &|_| false).expect("valid txs");
    let parent = genesis.parent();
    Block {
        header: BlockHeader {
            chain_id: genesis.chain_id.clone(),
            height: 1,
            prev_hash: parent.hash,
            time_ms: parent.time_ms + 1000,
            proposer: dev_validator_key(0).address(),
            tx_root: tx_root(&txs),
            state_root: outcome.state_root,
            validator_set_hash: genesis
                .validator_set()
                .expect("dev genesis has a valid validator set")
                .hash(),
        },
        txs,
    }
}

#[test]
fn a_valid_block_applies_and_reaches_the_header_root() {
    let genesis = Genesis::dev();
    let block = block_for(&genesis, txs(3));
    let mut state = genesis.state().expect("state");
    let outcome = state
        .apply_block(
            &block,
            &genesis.parent(),
            &genesis
                .validator_set()
                .expect("dev genesis has a valid validator set"),
            &|_| false,
        )
        .expect("applies");
    assert_eq!(outcome.events.len(), 3);
    assert_eq!(state.state_root(), block.header.state_root);
    assert_eq!(state.contributions().len(), 3);
}

#[test]
fn a_failing_transaction_leaves_the_state_untouched() {
    let genesis = Genesis::dev();
    let mut list = txs(4);
    list.remove(2); // nonce 4 now follows nonce 2
    let mut state = genesis.state().expect("state");
    let before = state.to_bytes();
    let err = state
        .execute_txs(1, &list, &|_| false)
        .expect_err("nonce gap");
    assert!(
        matches!(err, BlockError::Transaction { index: 2, .. }),
        "{err}"
    );
    assert_eq!(state.to_bytes(), before);
}

#[test]
fn header_problems_are_named() {
    let genesis = Genesis::dev();
    let good = block_for(&genesis, txs(1));
    let set = genesis
        .validator_set()
        .expect("dev genesis has a valid validator set");
    let parent = genesis.parent();
    let check = |b: &Block| {
        let mut state = genesis.state().expect("state");
        let before = state.to_bytes();
        let r = state.apply_block(b, &parent, &set, &|_| false);
        assert_eq!(state.to_bytes(), before);
        r.expect_err("invalid")
    };
    let mut b = good.clone();
    b.header.height = 2;
    assert!(matches!(check(&b), BlockError::Height { .. }));
    let mut b = good.clone();
    b.header.prev_hash = pov_crypto::hash(b"x");
    assert!(matches!(check(&b), BlockError::PrevHash { .. }));
    let mut b = good.clone();
    b.header.time_ms = parent.time_ms - 1;
    assert!(matches!(check(&b), BlockError::Time { .. }));
    let mut b = good.clone();
    b.header.proposer = Keypair::dev(0).address();
    assert!(matches!(check(&b), BlockError::Proposer(_)));
    let mut b = good.clone();
    b.txs.pop();
    assert!(matches!(check(&b), BlockError::TxRoot { .. }));
    let mut b = good.clone();
    b.header.state_root = pov_crypto::hash(b"wrong");
    assert!(matches!(check(&b), BlockError::StateRoot { .. }));
}

#[test]
fn certificates_need_more_than_two_thirds() {
    let mut genesis = Genesis::dev();
    genesis.validators = (0..4)
        .map(|i| pov_protocol::genesis::GenesisValidator {
            public_key: dev_validator_key(i).address(),
            power: 1,
            addr: None,
        })
        .collect();
    let set = genesis
        .validator_set()
        .expect("dev genesis has a valid validator set");
    let hash = pov_crypto::hash(b"block");
    let sign = |i: u32| CommitSig {
        validator: dev_validator_key(i).address(),
        signature: dev_validator_key(i).sign(&precommit_sign_bytes(
            5,
            0,
            &hash,
            &dev_validator_key(i).address(),
        )),
    };
    let cert = |sigs: Vec<CommitSig>| Certificate {
        height: 5,
        round: 0,
        block_hash: hash,
        signatures: sigs,
    };
    assert!(cert(vec![sign(0), sign(1), sign(2)])
        .verify(&set, 5, &hash)
        .is_ok());
    assert!(matches!(
        cert(vec![sign(0), sign(1)]).verify(&set, 5, &hash),
        Err(CertificateError::NoQuorum { got: 2, total: 4 })
    ));
    assert!(matches!(
        cert(vec![sign(0), sign(1), sign(1)]).verify(&set, 5, &hash),
        Err(CertificateError::Duplicate(_))
    ));
    let mut forged = sign(2);
    forged.signature.0[1] ^= 1;
    assert!(matches!(
        cert(vec![sign(0), sign(1), forged]).verify(&set, 5, &hash),
        Err(CertificateError::BadSignature(_))
    ));
    let outsider = CommitSig {
        validator: Keypair::dev(0).address(),
        signature: Keypair::dev(0).sign(&precommit_sign_bytes(
            5,
            0,
            &hash,
            &Keypair::dev(0).address(),
        )),
    };
    assert!(matches!(
        cert(vec![sign(0), sign(1), outsider]).verify(&set, 5, &hash),
        Err(CertificateError::UnknownValidator(_))
    ));
    // A precommit of another round than the certificate's does not count.
    let other_round = CommitSig {
        validator: dev_validator_key(2).address(),
        signature: dev_validator_key(2).sign(&precommit_sign_bytes(
            5,
            1,
            &hash,
            &dev_validator_key(2).address(),
        )),
    };
    assert!(cert(vec![sign(0), sign(1), other_round])
        .verify(&set, 5, &hash)
        .is_err());
    assert!(matches!(
        cert(vec![sign(0), sign(1), sign(2)]).verify(&set, 6, &hash),
        Err(CertificateError::WrongBlock { .. })
    ));
}

#[test]
fn member_proofs_verify_against_the_state_root() {
    let genesis = Genesis::dev();
    let state = genesis.state().expect("state");
    let root = state.state_root();
    for m in state.members() {
        let proof = state.prove_member(&m.address).expect("member");
        assert!(pov_protocol::merkle::verify(
            &proof,
            pov_protocol::State::member_leaf(m),
            &root
        ));
        let mut richer = m.clone();
        richer.tokens = richer
            .tokens
            .checked_add(pov_protocol::Amount::ONE)
            .expect("add");
        assert!(!pov_protocol::merkle::verify(
            &proof,
            pov_protocol::State::member_leaf(&richer),
            &root
        ));
    }
}

#[test]
fn validator_set_bytes_keep_the_first_release_layout() {
    // Every header commits to the hash of these bytes: a change of layout would make every
    // existing chain's blocks invalid. The layout is a list: its length, then per validator
    // the 32-byte address and the power (varints).
    let genesis = Genesis::dev();
    let set = genesis
        .validator_set()
        .expect("dev genesis has a valid validator set");
    let mut expected = vec![1u8];
    expected.extend_from_slice(dev_validator_key(0).address().as_bytes());
    expected.push(1);
    assert_eq!(pov_protocol::codec::encode(&set), expected);
}

/// A contribution with a URI of `uri_len` bytes, unsigned: size checks come before any
/// signature or rule is looked at.
fn sized_tx(uri_len: usize) -> Transaction {
    Transaction {
        chain_id: "pov-devnet".into(),
        sender: Keypair::dev(0).address(),
        nonce: 1,
        body: TxBody::Contribute {
            kind: "work".into(),
            title: "big".into(),
            uri: "u".repeat(uri_len),
            content_hash: None,
        },
        signature: Default::default(),
    }
}

#[test]
fn block_limits_are_part_of_validity() {
    let genesis = Genesis::dev();
    let set = genesis.validator_set().expect("dev validator set");
    let parent = genesis.parent();
    let empty = block_for(&genesis, Vec::new()).header;
    let check = |txs: &[Transaction]| {
        let mut header = empty.clone();
        header.tx_root = tx_root(txs);
        assert_eq!(
            block_size(&header, txs),
            codec::encode(&Block {
                header: header.clone(),
                txs: txs.to_vec(),
            })
            .len(),
            "block_size counts the canonical bytes"
        );
        check_header(&header, txs, &genesis.chain_id, &parent, &set)
    };

    // The count: checked before anything is encoded.
    let small = txs(1).remove(0);
    let at_count = vec![small.clone(); MAX_BLOCK_TXS];
    check(&at_count).expect("a block of MAX_BLOCK_TXS transactions is valid");
    let over_count = vec![small; MAX_BLOCK_TXS + 1];
    assert_eq!(
        check(&over_count),
        Err(BlockError::TooManyTxs {
            count: MAX_BLOCK_TXS + 1,
            max: MAX_BLOCK_TXS
        })
    );

    // The bytes: fill a block to exactly MAX_BLOCK_BYTES, then one byte more.
    let big = sized_tx(2048);
    let mut list = Vec::new();
    let size_of = |list: &[Transaction]| {
        let mut header = empty.clone();
        header.tx_root = tx_root(list);
        block_size(&header, list)
    };
    while size_of(&list) + 2 * big.to_bytes().len() <= MAX_BLOCK_BYTES {
        list.push(big.clone());
    }
    // One more transaction takes up the rest (URIs of 128 to 16,383 bytes have a length
    // prefix of the same size, so the size grows one byte per URI byte).
    let base = sized_tx(200).to_bytes().len();
    list.push(sized_tx(200));
    let rest = MAX_BLOCK_BYTES - size_of(&list);
    list.pop();
    list.push(sized_tx(200 + rest));
    assert_eq!(
        size_of(&list),
        MAX_BLOCK_BYTES,
        "tail of {base} + {rest} bytes"
    );
    check(&list).expect("a block of exactly MAX_BLOCK_BYTES is valid");
    list.pop();
    list.push(sized_tx(201 + rest));
    assert!(
        matches!(
            check(&list),
            Err(BlockError::TooLarge {
                max: MAX_BLOCK_BYTES,
                ..
            })
        ),
        "one byte over the limit"
    );
}
