//! The store's behaviour, against both engines: commit, queries, reopen, refusals, repair.

use pov_crypto::Keypair;
use pov_protocol::block::Block;
use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_protocol::test_utils::{build_block, certify, Workload};
use pov_protocol::{Asset, Transaction, TxBody};
use pov_storage::engine::{Engine, SledEngine, SledOptions, Tree, WriteBatch};
use pov_storage::test_utils::commit_next;
use pov_storage::{
    schema, Action, ContributionActivity, HistoryQuery, MemberActivity, OpenOptions, Position,
    ReplayOptions, Store, StoreError,
};

fn grow(store: &mut Store, blocks: u64, txs: usize) {
    let workload = Workload::dev(4);
    for _ in 0..blocks {
        commit_next(store, &workload, txs, &|_| false).expect("commit");
    }
}

fn open(dir: &std::path::Path) -> Store {
    Store::open(dir, Genesis::dev(), &OpenOptions::default()).expect("open")
}

/// Everything a committed chain must answer, for any engine.
fn check_queries(store: &Store) {
    let height = store.height();
    assert!(height > 0);
    let head = store.head().expect("head");
    let stored = store.block(height).expect("read").expect("head block");
    assert_eq!(stored.block.hash(), head.hash);
    assert_eq!(stored.block.header.state_root, head.state_root);
    assert_eq!(store.state().state_root(), head.state_root);
    let by_hash = store
        .block_by_hash(&head.hash)
        .expect("read")
        .expect("by hash");
    assert_eq!(by_hash, stored);

    let range = store.blocks(2..=5, 100).expect("range");
    assert_eq!(
        range
            .iter()
            .map(|b| b.block.header.height)
            .collect::<Vec<_>>(),
        vec![2, 3, 4, 5]
    );
    assert_eq!(store.blocks(1..=height + 10, 3).expect("range").len(), 3);
    assert!(store.block(height + 1).expect("read").is_none());

    // Every transaction is found by hash, with its events.
    let mut events = 0;
    for h in 1..=height {
        let b = store.block(h).expect("read").expect("block");
        for (i, tx) in b.block.txs.iter().enumerate() {
            let info = store.tx(&tx.hash()).expect("read").expect("tx by hash");
            assert_eq!((info.height, info.index as usize), (h, i));
            assert_eq!(&info.tx, tx);
            assert_eq!(info.block_hash, b.block.hash());
            events += info.events.len();
        }
    }
    assert!(events > 0);

    // A member's history ends at its current balances, and lists its transactions.
    let alice = Keypair::dev(0).address();
    let account = store.account(&alice).expect("alice");
    let history = store
        .member_history(account.id, HistoryQuery::oldest(usize::MAX))
        .expect("history");
    let sent = history
        .iter()
        .filter(|e| matches!(e.activity, MemberActivity::Sent { .. }))
        .count();
    assert_eq!(sent as u64, account.member.nonce);
    let last = |asset| {
        history.iter().rev().find_map(|e| match &e.activity {
            MemberActivity::Balance {
                event,
                balance_after,
            } if event.asset == asset => Some(*balance_after),
            _ => None,
        })
    };
    assert_eq!(last(Asset::Reputation), Some(account.member.reputation));
    assert_eq!(last(Asset::Tokens), Some(account.member.tokens));
    assert!(history.windows(2).all(|w| w[0].position < w[1].position));

    // Paging: newest first, then older than the last one seen.
    let newest = store
        .member_history(account.id, HistoryQuery::latest(5))
        .expect("page");
    assert_eq!(newest.len(), 5);
    assert_eq!(newest[0], *history.last().expect("last"));
    let older = store
        .member_history(
            account.id,
            HistoryQuery {
                after: Some(newest[4].position),
                newest_first: true,
                limit: 3,
            },
        )
        .expect("page");
    assert_eq!(older[0], history[history.len() - 6]);
    let forward = store
        .member_history(
            account.id,
            HistoryQuery {
                after: Some(history[1].position),
                newest_first: false,
                limit: 2,
            },
        )
        .expect("page");
    assert_eq!(forward, history[2..4].to_vec());
    // Paging through everything, both ways, in pages that end inside blocks.
    for page in [1, 3, 7] {
        for newest_first in [false, true] {
            let mut all = Vec::new();
            let mut after = None;
            loop {
                let lines = store
                    .member_history(
                        account.id,
                        HistoryQuery {
                            after,
                            newest_first,
                            limit: page,
                        },
                    )
                    .expect("page");
                assert!(lines.len() <= page);
                let Some(last) = lines.last() else { break };
                after = Some(last.position);
                all.extend(lines);
            }
            if newest_first {
                all.reverse();
            }
            assert_eq!(all, history, "page {page}, newest first {newest_first}");
        }
    }

    // A contribution lists its submission and every evaluation, replaced ones included.
    let info = store
        .contribution(0, HistoryQuery::oldest(usize::MAX))
        .expect("read")
        .expect("contribution 0");
    assert!(matches!(
        info.history[0].activity,
        ContributionActivity::Submitted { .. }
    ));
    let evaluations = info.history.len() as u64 - 1;
    assert_eq!(evaluations, info.contribution.evaluation_count);
    assert!(evaluations >= info.contribution.evaluations.len() as u64);
    assert!(store
        .contribution(10_000, HistoryQuery::oldest(1))
        .expect("read")
        .is_none());
}

#[test]
fn in_memory_store_commits_and_answers_queries() {
    let mut store = Store::in_memory(Genesis::dev()).expect("store");
    grow(&mut store, 12, 10);
    assert_eq!(store.height(), 12);
    check_queries(&store);
    let verification = store.verify(ReplayOptions::default()).expect("verify");
    assert!(verification.matches(), "{verification:?}");
}

#[test]
fn sled_store_commits_answers_queries_and_reopens_where_it_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (root, state) = {
        let mut store = open(dir.path());
        assert_eq!(store.height(), 0);
        grow(&mut store, 12, 10);
        check_queries(&store);
        assert!(store.size_on_disk().expect("size") > 0);
        let status = store.status().expect("status");
        assert_eq!(status.engine, "sled 0.34.7");
        assert_eq!(status.head, store.head());
        (store.state_root(), store.state().clone())
    };
    let mut store = open(dir.path());
    assert_eq!(
        store.open_report().rebuilt,
        None,
        "clean reopen must not replay"
    );
    assert_eq!(store.height(), 12);
    assert_eq!(store.state_root(), root);
    assert_eq!(store.state(), &state);
    check_queries(&store);
    grow(&mut store, 3, 10);
    assert_eq!(store.height(), 15);
    let verification = store
        .verify(ReplayOptions {
            verify_signatures: true,
        })
        .expect("verify");
    assert!(verification.matches(), "{verification:?}");
    assert_eq!(verification.replay.height, 15);
}

#[test]
fn history_records_what_each_transaction_did() {
    let mut store = Store::in_memory(Genesis::dev()).expect("store");
    let genesis = Genesis::dev();
    let key = dev_validator_key(0);
    let alice = Keypair::dev(0);
    let bob = Keypair::dev(1);
    let newcomer = Keypair::dev(7);
    let chain = &genesis.chain_id;
    let genesis_hash = genesis.hash();
    let txs = vec![
        Transaction::sign(
            &alice,
            chain,
            &genesis_hash,
            1,
            TxBody::Contribute {
                kind: "work".into(),
                title: "first".into(),
                uri: "https://example.org/1".into(),
                content_hash: None,
            },
        ),
        Transaction::sign(
            &bob,
            chain,
            &genesis_hash,
            1,
            TxBody::Evaluate {
                contribution: 0,
                value: 4,
            },
        ),
        Transaction::sign(
            &bob,
            chain,
            &genesis_hash,
            2,
            TxBody::Evaluate {
                contribution: 0,
                value: 2,
            },
        ),
        Transaction::sign(
            &alice,
            chain,
            &genesis_hash,
            2,
            TxBody::Admit {
                member: newcomer.address(),
                name: String::new(),
            },
        ),
    ];
    let parent = store.parent();
    let block = build_block(
        store.state(),
        &parent,
        &genesis.validator_set().expect("dev validator set"),
        &key,
        parent.time_ms + 1,
        txs.clone(),
        &|_| false,
    )
    .expect("block");
    store
        .commit(&block, &certify(&block, 0, &[&key]))
        .expect("commit");

    let history = store
        .contribution(0, HistoryQuery::oldest(10))
        .expect("read")
        .expect("contribution");
    let lines: Vec<_> = history.history.iter().map(|e| e.activity.clone()).collect();
    assert_eq!(
        lines,
        vec![
            ContributionActivity::Submitted {
                contributor: 0,
                tx: txs[0].hash()
            },
            ContributionActivity::Evaluated {
                evaluator: 1,
                value: 4,
                tx: txs[1].hash()
            },
            ContributionActivity::Evaluated {
                evaluator: 1,
                value: 2,
                tx: txs[2].hash()
            },
        ]
    );
    // The re-vote replaced the live evaluation; the history keeps both.
    assert_eq!(history.contribution.evaluations.len(), 1);

    let newcomer_id = store.account(&newcomer.address()).expect("admitted").id;
    let joined = store
        .member_history(newcomer_id, HistoryQuery::oldest(10))
        .expect("history");
    assert_eq!(
        joined[0].activity,
        MemberActivity::Joined {
            tx: txs[3].hash(),
            referrer: Some(0)
        }
    );
    assert_eq!(
        joined[0].position,
        Position {
            height: 1,
            tx_index: 3,
            n: 0
        }
    );
    assert!(joined.iter().any(|e| matches!(
        &e.activity,
        MemberActivity::Balance { event, .. } if event.rule == pov_protocol::Rule::Admission
    )));
    let alice_lines = store
        .member_history(0, HistoryQuery::oldest(100))
        .expect("history");
    assert!(alice_lines.iter().any(|e| e.activity
        == MemberActivity::Sent {
            tx: txs[0].hash(),
            action: Action::Contributed { contribution: 0 }
        }));
    // Only the newcomer joined in this block: members of the genesis sending their first
    // transaction here get no joining line.
    for member in [0, 1] {
        let lines = store
            .member_history(member, HistoryQuery::oldest(100))
            .expect("history");
        assert!(
            !lines
                .iter()
                .any(|e| matches!(e.activity, MemberActivity::Joined { .. })),
            "member {member}: {lines:?}"
        );
    }
}

/// Builds the next dev block from `txs` without checking them (for invalid blocks).
/// The state root an empty block on the store's head leads to (the height is in the state).
fn empty_block_root(store: &Store) -> pov_crypto::Hash {
    let mut state = store.state().clone();
    state
        .execute_txs(store.height() + 1, &[], &|_| false)
        .expect("an empty block applies")
        .state_root
}

fn raw_block(store: &Store, txs: Vec<Transaction>, state_root: pov_crypto::Hash) -> Block {
    let genesis = store.genesis();
    let parent = store.parent();
    Block {
        header: pov_protocol::block::BlockHeader {
            chain_id: genesis.chain_id.clone(),
            height: parent.height + 1,
            prev_hash: parent.hash,
            time_ms: parent.time_ms + 1,
            proposer: dev_validator_key(0).address(),
            tx_root: pov_protocol::block::tx_root(&txs),
            state_root,
            validator_set_hash: genesis.validator_set().expect("dev validator set").hash(),
        },
        txs,
    }
}

#[test]
fn invalid_or_uncertified_blocks_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(dir.path());
    grow(&mut store, 2, 5);
    let before = (
        store.head(),
        store.state().clone(),
        store.size_on_disk().expect("size"),
    );
    let chain = store.genesis().chain_id.clone();
    let genesis_hash = store.genesis().hash();
    let key = dev_validator_key(0);

    // A transaction with a wrong nonce: the block is invalid, and the error names it.
    let alice = Keypair::dev(0);
    let bad = Transaction::sign(
        &alice,
        &chain,
        &genesis_hash,
        999,
        TxBody::Evaluate {
            contribution: 0,
            value: 1,
        },
    );
    let block = raw_block(&store, vec![bad.clone()], store.state_root());
    let err = store
        .commit(&block, &certify(&block, 0, &[&key]))
        .expect_err("invalid block");
    match &err {
        StoreError::InvalidBlock { height: 3, error } => {
            assert!(
                error.to_string().contains(&bad.hash().to_string()),
                "{error}"
            )
        }
        other => panic!("unexpected {other}"),
    }

    // A wrong state root.
    let block = raw_block(&store, vec![], pov_crypto::Hash([7; 32]));
    assert!(matches!(
        store.commit(&block, &certify(&block, 0, &[&key])),
        Err(StoreError::InvalidBlock { .. })
    ));

    // A valid block signed by a key that is not a validator.
    let block = raw_block(&store, vec![], empty_block_root(&store));
    let stranger = Keypair::dev(1234);
    assert!(matches!(
        store.commit(&block, &certify(&block, 0, &[&stranger])),
        Err(StoreError::Certificate { height: 3, .. })
    ));

    assert_eq!(store.head(), before.0);
    assert_eq!(store.state(), &before.1);
    drop(store);
    let mut store = open(dir.path());
    assert_eq!(store.head(), before.0);
    assert!(store.block(3).expect("read").is_none());
    // And the store still takes the right block.
    let block = raw_block(&store, vec![], empty_block_root(&store));
    store
        .commit(&block, &certify(&block, 0, &[&key]))
        .expect("valid empty block");
}

#[test]
fn a_database_of_another_genesis_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(open(dir.path()));
    let mut other = Genesis::dev();
    other.chain_id = "another-coop".into();
    let err = Store::open(dir.path(), other, &OpenOptions::default()).expect_err("refused");
    assert!(matches!(err, StoreError::WrongGenesis { .. }), "{err}");
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}

#[test]
fn a_directory_in_use_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = open(dir.path());
    // sled locks its data file (flock), which also refuses a second open in one process.
    let err = Store::open(dir.path(), Genesis::dev(), &OpenOptions::default()).expect_err("locked");
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("another process"), "{err}");
    drop(first);
    drop(open(dir.path()));
}

#[test]
fn a_damaged_state_is_rebuilt_by_replay_and_verify_finds_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = {
        let mut store = open(dir.path());
        grow(&mut store, 8, 10);
        store.state_root()
    };
    // Give alice ten more tokens behind the store's back: valid bytes, wrong state.
    {
        let engine =
            SledEngine::open(&dir.path().join("sled"), &SledOptions::default()).expect("engine");
        let key = schema::state::member(0);
        let bytes = engine.get(Tree::State, &key).expect("get").expect("alice");
        let mut alice: pov_protocol::Member =
            pov_protocol::codec::decode_canonical(&bytes).expect("decode");
        alice.tokens = alice
            .tokens
            .checked_add(pov_protocol::Amount::from_int(10))
            .expect("add");
        let mut batch = WriteBatch::new();
        batch.put(Tree::State, key, pov_protocol::codec::encode(&alice));
        engine.write(&batch).expect("write");
        engine.flush().expect("flush");
    }
    let genesis = Genesis::dev();
    let verification =
        pov_storage::verify_dir(dir.path(), &genesis, ReplayOptions::default()).expect("verify");
    assert!(!verification.matches());
    assert_eq!(verification.replay.state_root, root);
    assert_ne!(verification.stored_state_root, Ok(root));

    let store = open(dir.path());
    let report = store.open_report();
    assert!(
        report.rebuilt.as_deref().unwrap_or("").contains("differs"),
        "{report:?}"
    );
    assert_eq!(report.replay.map(|r| r.state_root), Some(root));
    assert_eq!(store.state().state_root(), root);
    drop(store);
    // Written back: the next open is clean.
    let store = open(dir.path());
    assert_eq!(store.open_report().rebuilt, None);
    assert!(store
        .verify(ReplayOptions::default())
        .expect("verify")
        .matches());
}

/// A state entry that does not even decode is damage like a wrong one: the state is
/// rebuilt by replay (not refused), and written back.
#[test]
fn a_state_entry_that_does_not_decode_is_rebuilt_by_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = {
        let mut store = open(dir.path());
        grow(&mut store, 4, 10);
        store.state_root()
    };
    {
        let engine =
            SledEngine::open(&dir.path().join("sled"), &SledOptions::default()).expect("engine");
        let mut batch = WriteBatch::new();
        batch.put(Tree::State, schema::state::member(0), vec![0xff; 3]);
        engine.write(&batch).expect("write");
        engine.flush().expect("flush");
    }
    let store = open(dir.path());
    let report = store.open_report();
    assert!(
        report
            .rebuilt
            .as_deref()
            .unwrap_or("")
            .contains("cannot be read"),
        "{report:?}"
    );
    assert_eq!(store.state_root(), root);
    drop(store);
    assert_eq!(open(dir.path()).open_report().rebuilt, None);
}

#[test]
fn verify_option_always_replays() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut store = open(dir.path());
        grow(&mut store, 3, 5);
    }
    let store = Store::open(
        dir.path(),
        Genesis::dev(),
        &OpenOptions {
            verify: true,
            ..OpenOptions::default()
        },
    )
    .expect("open");
    assert!(store.open_report().rebuilt.is_some());
    assert_eq!(store.open_report().replay.map(|r| r.blocks), Some(3));
}

/// An engine whose flushes fail on demand (a disk going bad), over the memory engine.
struct FailingFlush {
    inner: pov_storage::engine::MemoryEngine,
    fail: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Engine for FailingFlush {
    fn name(&self) -> &'static str {
        "failing"
    }
    fn location(&self) -> std::path::PathBuf {
        "<failing>".into()
    }
    fn get(
        &self,
        tree: Tree,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, pov_storage::engine::EngineError> {
        self.inner.get(tree, key)
    }
    fn scan(
        &self,
        scan: pov_storage::engine::Scan<'_>,
    ) -> Result<Vec<pov_storage::engine::KeyValue>, pov_storage::engine::EngineError> {
        self.inner.scan(scan)
    }
    fn write(&self, batch: &WriteBatch) -> Result<(), pov_storage::engine::EngineError> {
        self.inner.write(batch)
    }
    fn flush(&self) -> Result<(), pov_storage::engine::EngineError> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(pov_storage::engine::EngineError {
                kind: pov_storage::engine::EngineErrorKind::Io,
                path: "<failing>".into(),
                message: "flushing".into(),
                source: Some(std::io::Error::other("disk on fire")),
            });
        }
        Ok(())
    }
    fn size_on_disk(&self) -> Result<u64, pov_storage::engine::EngineError> {
        Ok(0)
    }
}

#[test]
fn a_failed_flush_is_not_reported_final_and_stops_further_commits() {
    let fail = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let engine = FailingFlush {
        inner: pov_storage::engine::MemoryEngine::new(),
        fail: fail.clone(),
    };
    let mut store = Store::with_engine(Box::new(engine), Genesis::dev(), &OpenOptions::default())
        .expect("store");
    grow(&mut store, 2, 5);
    fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let workload = Workload::dev(4);
    let err = commit_next(&mut store, &workload, 5, &|_| false).expect_err("flush fails");
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    assert!(err.to_string().contains("flushing"), "{err}");
    // The OS error is the cause, printed once by whoever prints the chain, not repeated in
    // the message.
    assert!(!err.to_string().contains("disk on fire"), "{err}");
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    assert_eq!(cause.as_deref(), Some("disk on fire"));
    assert_eq!(
        store.height(),
        2,
        "a block whose flush failed is not the head"
    );
    fail.store(false, std::sync::atomic::Ordering::SeqCst);
    let err = commit_next(&mut store, &workload, 5, &|_| false).expect_err("poisoned");
    assert!(matches!(err, StoreError::Poisoned(_)), "{err}");
    assert!(
        err.to_string().contains("disk on fire"),
        "says what failed: {err}"
    );
}

/// A block built or checked once (`build_block`, `execute`) and committed with that
/// execution ends exactly where committing it from scratch does, executing nothing more; an
/// execution that no longer fits the head is set aside and the block executed afresh.
#[test]
fn a_prepared_block_commits_without_executing_again() {
    let genesis = Genesis::dev();
    let key = dev_validator_key(0);
    let workload = Workload::dev(4);
    let mut prepared = Store::in_memory(genesis.clone()).expect("store");
    let mut plain = Store::in_memory(genesis).expect("store");
    for height in 1..=4u64 {
        let parent = prepared.parent();
        let txs = workload.next_txs(prepared.state(), height, 20);
        let (block, executed) = prepared
            .build_block(txs, key.address(), parent.time_ms + 1000, &|_| false)
            .expect("build");
        assert_eq!(executed.hash(), block.hash());
        assert_eq!(executed.outcome().state_root, block.header.state_root);
        // What a validator that did not build it does: check it, keep the result.
        let checked = plain.execute(&block, &|_| false).expect("valid");
        assert_eq!(checked.state(), executed.state());
        let certificate = certify(&block, 0, &[&key]);
        // Committing reuses the execution: no transaction is looked at again.
        let looked_at = std::cell::Cell::new(0);
        let receipt = prepared
            .commit_prepared(&block, &certificate, Some(executed), &|_| {
                looked_at.set(looked_at.get() + 1);
                true
            })
            .expect("commit");
        assert_eq!(looked_at.get(), 0);
        plain
            .commit_with(&block, &certificate, &|_| false)
            .expect("commit");
        assert_eq!(receipt.state_root, plain.state_root());
        assert_eq!(prepared.state(), plain.state());
        assert_eq!(prepared.head(), plain.head());
        // The stored history is the same either way.
        let first = block.txs[0].hash();
        assert_eq!(
            prepared.tx(&first).expect("read"),
            plain.tx(&first).expect("read")
        );
    }
    // An execution on an older head is not installed: the block is executed on the current
    // one (and here, no longer building on it, refused).
    let parent = prepared.parent();
    let txs = workload.next_txs(prepared.state(), parent.height + 1, 5);
    let (block, stale) = prepared
        .build_block(txs, key.address(), parent.time_ms + 1000, &|_| false)
        .expect("build");
    let certificate = certify(&block, 0, &[&key]);
    prepared
        .commit_prepared(&block, &certificate, Some(stale.clone()), &|_| false)
        .expect("commit");
    let again = prepared.commit_prepared(&block, &certificate, Some(stale), &|_| false);
    assert!(
        matches!(again, Err(StoreError::InvalidBlock { .. })),
        "{again:?}"
    );
    assert_eq!(prepared.state(), &{
        let mut s = plain.state().clone();
        s.apply_block(&block, &plain.parent(), plain.validators(), &|_| false)
            .expect("apply");
        s
    });
}

/// An execution of another block on the same head (a proposal that lost the round) is set
/// aside: the block committed is the certified one, executed afresh.
#[test]
fn an_execution_of_another_block_is_not_installed() {
    let key = dev_validator_key(0);
    let workload = Workload::dev(4);
    let mut store = Store::in_memory(Genesis::dev()).expect("store");
    let mut plain = Store::in_memory(Genesis::dev()).expect("store");
    let parent = store.parent();
    let txs = workload.next_txs(store.state(), 1, 10);
    let time = parent.time_ms + 1000;
    let (lost, lost_execution) = store
        .build_block(txs.clone(), key.address(), time, &|_| false)
        .expect("build");
    let (chosen, _) = store
        .build_block(txs[..3].to_vec(), key.address(), time, &|_| false)
        .expect("build");
    assert_ne!(lost.header.state_root, chosen.header.state_root);
    let certificate = certify(&chosen, 0, &[&key]);
    let receipt = store
        .commit_prepared(&chosen, &certificate, Some(lost_execution), &|_| false)
        .expect("commit");
    plain.commit(&chosen, &certificate).expect("commit");
    assert_eq!(receipt.state_root, chosen.header.state_root);
    assert_eq!(store.state(), plain.state());
    assert_eq!(store.head(), plain.head());
}

/// What a block's start did (a parameter change taking effect, spec section 11) is stored
/// with the block and read back; a block whose start did nothing has no such record. A
/// proposal and a contribution in one block each get their own contribution history.
#[test]
fn a_parameter_change_taking_effect_is_stored_with_its_block() {
    use pov_protocol::genesis::GenesisMember;
    use pov_protocol::{Amount, BlockEvent, ParamChange};
    let keys: Vec<Keypair> = (0..3).map(Keypair::dev).collect();
    let mut genesis = Genesis::dev();
    // Member 1 holds 60% of all reputation: its acceptance alone passes a proposal.
    genesis.members = keys
        .iter()
        .zip([10, 60, 30])
        .enumerate()
        .map(|(i, (k, r))| GenesisMember {
            public_key: k.address(),
            name: format!("m{i}"),
            reputation: Amount::from_int(r),
            tokens: Amount::from_int(100),
            provenance: None,
        })
        .collect();
    let validator = dev_validator_key(0);
    let mut store = Store::in_memory(genesis).expect("store");
    // Commits a block of these transactions (one per member at most), all applied.
    let commit = |store: &mut Store, bodies: Vec<(usize, TxBody)>| {
        let state = store.state();
        let txs: Vec<Transaction> = bodies
            .into_iter()
            .map(|(member, body)| {
                let nonce = state.members()[member].nonce + 1;
                Transaction::sign(
                    &keys[member],
                    state.chain_id(),
                    state.genesis_hash(),
                    nonce,
                    body,
                )
            })
            .collect();
        let parent = store.parent();
        let (block, executed) = store
            .build_block(
                txs.clone(),
                validator.address(),
                parent.time_ms + 1000,
                &|_| false,
            )
            .expect("build");
        assert_eq!(block.txs, txs, "every transaction applies");
        let certificate = certify(&block, 0, &[&validator]);
        store
            .commit_prepared(&block, &certificate, Some(executed), &|_| false)
            .expect("commit");
        txs
    };
    let fee = ParamChange::parse("types.work.fee", "3").expect("change");
    let proposal = TxBody::ProposeParams {
        title: "dearer work".into(),
        uri: "https://example.org/why".into(),
        changes: vec![fee.clone()],
    };
    let work = TxBody::Contribute {
        kind: "work".into(),
        title: "work".into(),
        uri: "https://example.org/w".into(),
        content_hash: None,
    };
    let first = commit(&mut store, vec![(0, proposal), (2, work)]);
    for (id, member, tx) in [(0, 0, &first[0]), (1, 2, &first[1])] {
        let history = store
            .contribution(id, HistoryQuery::oldest(10))
            .expect("read")
            .expect("contribution");
        let lines: Vec<_> = history.history.iter().map(|e| e.activity.clone()).collect();
        assert_eq!(
            lines,
            vec![ContributionActivity::Submitted {
                contributor: member,
                tx: tx.hash()
            }],
            "contribution {id}"
        );
    }
    let accept = TxBody::Evaluate {
        contribution: 0,
        value: 1,
    };
    commit(&mut store, vec![(1, accept)]);
    // Passed in block 2, in effect from the start of block 3.
    commit(&mut store, vec![]);
    let start = store.start_events(3).expect("read");
    assert!(
        matches!(start.as_slice(), [BlockEvent::ParamChange(p)]
            if p.proposal == 0 && p.change.path == fee.path),
        "{start:?}"
    );
    let block = store.block(3).expect("read").expect("block 3");
    assert_eq!(block.start, start);
    assert_eq!(
        store.state().params().types["work"].fee,
        Amount::from_int(3)
    );
    for height in [1, 2] {
        assert_eq!(store.start_events(height).expect("read"), vec![]);
    }
}

/// Transactions from alice (unsigned: the builder is told they were verified), nonces from 1.
fn from_alice(bodies: impl Iterator<Item = TxBody>) -> Vec<Transaction> {
    bodies
        .enumerate()
        .map(|(i, body)| Transaction {
            chain_id: "pov-devnet".into(),
            sender: Keypair::dev(0).address(),
            nonce: i as u64 + 1,
            body,
            signature: Default::default(),
        })
        .collect()
}

#[test]
fn a_proposer_builds_blocks_within_the_protocols_limits() {
    use pov_protocol::block::{check_header, MAX_BLOCK_BYTES, MAX_BLOCK_TXS};
    let mut genesis = Genesis::dev();
    genesis.members[0].tokens = pov_protocol::Amount::from_int(1_000_000);
    let store = Store::in_memory(genesis).expect("store");
    let valid = |block: &Block| {
        check_header(
            &block.header,
            &block.txs,
            "pov-devnet",
            &store.parent(),
            store.validators(),
        )
    };
    let proposer = dev_validator_key(0).address();

    // More candidates than a block may hold: the first MAX_BLOCK_TXS go in.
    let transfers = from_alice((0..=MAX_BLOCK_TXS).map(|_| TxBody::Transfer {
        to: Keypair::dev(1).address(),
        amount: pov_protocol::Amount::from_int(1),
    }));
    let (block, _) = store
        .build_block(transfers, proposer, 0, &|_| true)
        .expect("built");
    assert_eq!(block.txs.len(), MAX_BLOCK_TXS);
    valid(&block).expect("within the limits");

    // Large contributions: the block stops before MAX_BLOCK_BYTES.
    let big = from_alice((0..2_000).map(|i| TxBody::Contribute {
        kind: "work".into(),
        title: format!("large {i}"),
        uri: format!("https://example.org/{}", "x".repeat(2_000)),
        content_hash: None,
    }));
    let (block, _) = store
        .build_block(big, proposer, 0, &|_| true)
        .expect("built");
    assert!(block.txs.len() < 2_000, "{} transactions", block.txs.len());
    assert!(pov_protocol::codec::encode(&block).len() <= MAX_BLOCK_BYTES);
    valid(&block).expect("within the limits");
}
