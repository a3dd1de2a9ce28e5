//! Events are not stored (format version 5): a block's events are recomputed from the
//! state before it when a transaction or a member's history is read. They must be exactly
//! the events its commit produced (the transactions' and the block start's: settlements of
//! sealed contributions, parameter changes), from the memory of the process that committed
//! it and after a restart (recomputed from checkpoints), and a history record that disagrees
//! with the recomputation is reported, never served.

use std::collections::HashMap;

use pov_crypto::Hash;
use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_protocol::test_utils::{certify, genesis_with_members, Workload};
use pov_protocol::{Amount, Asset, Event, MemberId};
use pov_storage::engine::{Engine, SledEngine, SledOptions, Tree, WriteBatch};
use pov_storage::schema::{self, MemberBlock};
use pov_storage::{HistoryQuery, MemberActivity, OpenOptions, Store};

const MEMBERS: u32 = 12;

/// Checkpoints every 4 blocks or 25 transactions, so that recomputing crosses several.
fn options() -> OpenOptions {
    OpenOptions {
        checkpoint_interval: 4,
        checkpoint_txs: 25,
        ..OpenOptions::default()
    }
}

fn genesis() -> Genesis {
    genesis_with_members(MEMBERS)
}

/// Commits `blocks` blocks of contributions and evaluations as a validator does (execute,
/// then commit the execution) and returns every transaction's events as executed.
fn grow(store: &mut Store, blocks: u64) -> Vec<(Hash, Vec<Event>)> {
    let key = dev_validator_key(0);
    let mut workload = Workload::dev(MEMBERS);
    workload.contribute_percent = 15;
    workload.recent = 3;
    let mut out = Vec::new();
    for _ in 0..blocks {
        let parent = store.parent();
        let txs = workload.next_txs(store.state(), parent.height + 1, 9);
        let (block, executed) = store
            .build_block(txs, key.address(), parent.time_ms + 1000, &|_| false)
            .expect("build");
        for (tx, events) in block.txs.iter().zip(&executed.outcome().events) {
            out.push((tx.hash(), events.clone()));
        }
        let certificate = certify(&block, 0, &[&key]);
        store
            .commit_prepared(&block, &certificate, Some(executed), &|_| false)
            .expect("commit");
    }
    out
}

/// Every transaction's events, and every member's balance lines, as the store reads them
/// now, against the events the commits produced and balances summed from the genesis.
fn check(store: &Store, executed: &[(Hash, Vec<Event>)], order: &[usize]) {
    for &i in order {
        let (hash, events) = &executed[i];
        let info = store.tx(hash).expect("read").expect("final");
        assert_eq!(&info.events, events, "transaction {i}");
    }
    let start = genesis().state().expect("genesis state");
    let mut expected: HashMap<MemberId, Vec<(Event, Amount)>> = HashMap::new();
    let mut balances: HashMap<(MemberId, Asset), Amount> = HashMap::new();
    for event in executed.iter().flat_map(|(_, e)| e) {
        let balance = balances
            .entry((event.member, event.asset))
            .or_insert_with(|| {
                let m = start.member(event.member).expect("genesis member");
                match event.asset {
                    Asset::Reputation => m.reputation,
                    Asset::Tokens => m.tokens,
                }
            });
        *balance = balance.checked_add(event.amount).expect("balance");
        expected
            .entry(event.member)
            .or_default()
            .push((event.clone(), *balance));
    }
    let mut redistributions = 0;
    for member in 0..MEMBERS {
        let lines: Vec<(Event, Amount)> = store
            .member_history(member, HistoryQuery::oldest(usize::MAX))
            .expect("history")
            .into_iter()
            .filter_map(|e| match e.activity {
                MemberActivity::Balance {
                    event,
                    balance_after,
                } => Some((event, balance_after)),
                _ => None,
            })
            .collect();
        redistributions += lines
            .iter()
            .filter(|(e, _)| e.rule == pov_protocol::Rule::Redistribution)
            .count();
        assert_eq!(
            lines,
            expected.remove(&member).unwrap_or_default(),
            "member {member}"
        );
    }
    assert!(redistributions > 20, "the workload redistributes");
}

#[test]
fn recomputed_events_equal_the_ones_the_commit_produced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let executed = {
        let mut store = Store::open(dir.path(), genesis(), &options()).expect("open");
        let executed = grow(&mut store, 14);
        // From this process's memory (and what it recomputes once that is exceeded).
        check(&store, &executed, &(0..executed.len()).collect::<Vec<_>>());
        executed
    };
    // After a restart nothing is in memory: every block is recomputed from a checkpoint,
    // in an order that jumps back and forth across them.
    let n = executed.len();
    let order: Vec<usize> = (0..n).map(|i| (i * 37 + 11) % n).collect();
    let store = Store::open(dir.path(), genesis(), &options()).expect("reopen");
    check(&store, &executed, &order);
    // Newest first, one line a page, across blocks recomputed out of order.
    let all = store
        .member_history(3, HistoryQuery::oldest(usize::MAX))
        .expect("history");
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .member_history(
                3,
                HistoryQuery {
                    after,
                    newest_first: true,
                    limit: 1,
                },
            )
            .expect("page");
        let Some(last) = page.last() else { break };
        after = Some(last.position);
        paged.extend(page);
    }
    paged.reverse();
    assert_eq!(paged, all);
}

#[test]
fn a_history_record_that_disagrees_with_the_blocks_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut store = Store::open(dir.path(), genesis(), &options()).expect("open");
        grow(&mut store, 5);
    }
    // Member 1's record of block 3 claims one balance change more than the block made.
    {
        let engine =
            SledEngine::open(&dir.path().join("sled"), &SledOptions::default()).expect("engine");
        let key = schema::history::member(1, 3);
        let bytes = engine
            .get(Tree::History, &key)
            .expect("get")
            .expect("record");
        let mut record: MemberBlock =
            pov_protocol::codec::decode_canonical(&bytes).expect("decode");
        record.balance_changes += 1;
        let mut batch = WriteBatch::new();
        batch.put(Tree::History, key, pov_protocol::codec::encode(&record));
        engine.write(&batch).expect("write");
        engine.flush().expect("flush");
    }
    let store = Store::open(dir.path(), genesis(), &options()).expect("reopen");
    let err = store
        .member_history(1, HistoryQuery::oldest(usize::MAX))
        .expect_err("the count differs");
    assert!(err.is_corruption(), "{err}");
    assert!(err.to_string().contains("block 3"), "{err}");
    // Other members' history is served.
    store
        .member_history(2, HistoryQuery::oldest(usize::MAX))
        .expect("member 2");
}

#[test]
fn a_block_of_many_evaluations_writes_no_events() {
    // 200 members evaluating: each evaluation changes the reputation of many earlier
    // evaluators. Format version 2 wrote each change twice (transaction record and member
    // history), 1.8 KB per transaction; now the bytes written per transaction stay near the
    // transaction's own size plus its share of the state entries it changed.
    let members = 200;
    let mut store = Store::in_memory(genesis_with_members(members)).expect("store");
    let key = dev_validator_key(0);
    let mut workload = Workload::dev(members);
    workload.contribute_percent = 100;
    pov_storage::test_utils::commit_next(&mut store, &workload, 5, &|_| true).expect("commit");
    workload.contribute_percent = 0;
    workload.recent = 5;
    let (mut txs, mut events, mut bytes) = (0, 0, 0);
    for _ in 0..4 {
        let parent = store.parent();
        let block_txs = workload.next_txs(store.state(), parent.height + 1, 200);
        let (block, executed) = store
            .build_block(block_txs, key.address(), parent.time_ms + 1000, &|_| true)
            .expect("build");
        let certificate = certify(&block, 0, &[&key]);
        let receipt = store
            .commit_prepared(&block, &certificate, Some(executed), &|_| true)
            .expect("commit");
        txs += receipt.txs;
        events += receipt.events;
        bytes += receipt.bytes;
    }
    assert!(events > txs * 10, "{events} events for {txs} transactions");
    let per_tx = bytes / txs;
    assert!(per_tx < 700, "{per_tx} bytes written per transaction");
}

/// A cooperative of six whose `work` type is sealed (commit 2 blocks, reveal 2) and whose
/// `idea` type is open; member 1 holds two thirds of the reputation, so its acceptance
/// alone passes a proposal.
fn sealed_genesis() -> Genesis {
    use pov_protocol::genesis::GenesisMember;
    let mut genesis = Genesis::dev();
    genesis.members = [20, 200, 30, 25, 15, 10]
        .iter()
        .enumerate()
        .map(|(i, r)| GenesisMember {
            public_key: pov_crypto::Keypair::dev(i as u32).address(),
            name: format!("m{i}"),
            reputation: Amount::from_int(*r),
            tokens: Amount::from_int(100),
            provenance: None,
        })
        .collect();
    let open = genesis.params.types["work"].clone();
    genesis.params.types.insert("idea".into(), open);
    if let Some(work) = genesis.params.types.get_mut("work") {
        work.sealed = Some(pov_protocol::Sealed {
            commit_blocks: 2,
            reveal_blocks: 2,
        });
    }
    genesis
}

/// What one committed block did, as its execution before the commit reported it.
struct Committed {
    height: u64,
    outcome: pov_protocol::block::BlockOutcome,
    txs: Vec<Hash>,
}

/// Commits a block of these bodies (member, body), all of which must apply, and returns
/// what its execution reported.
fn commit_bodies(store: &mut Store, bodies: Vec<(u32, pov_protocol::TxBody)>) -> Committed {
    use pov_protocol::Transaction;
    let key = dev_validator_key(0);
    let state = store.state();
    let mut nonces: HashMap<u32, u64> = HashMap::new();
    let txs: Vec<Transaction> = bodies
        .into_iter()
        .map(|(member, body)| {
            let nonce = nonces
                .entry(member)
                .or_insert(state.members()[member as usize].nonce);
            *nonce += 1;
            let signer = pov_crypto::Keypair::dev(member);
            Transaction::sign(
                &signer,
                state.chain_id(),
                state.genesis_hash(),
                *nonce,
                body,
            )
        })
        .collect();
    let parent = store.parent();
    let (block, executed) = store
        .build_block(txs.clone(), key.address(), parent.time_ms + 1000, &|_| {
            false
        })
        .expect("build");
    assert_eq!(block.txs, txs, "every transaction applies");
    let committed = Committed {
        height: block.header.height,
        outcome: executed.outcome().clone(),
        txs: txs.iter().map(|t| t.hash()).collect(),
    };
    let certificate = certify(&block, 0, &[&key]);
    store
        .commit_prepared(&block, &certificate, Some(executed), &|_| false)
        .expect("commit");
    committed
}

/// A chain with a parameter change taking effect, a sealed contribution committed to,
/// revealed (one commitment forfeited) and settled at the start of a block that also holds
/// transactions, and an open contribution evaluated around it.
fn sealed_chain(store: &mut Store) -> Vec<Committed> {
    use pov_protocol::sealed::commitment;
    use pov_protocol::{ParamChange, TxBody};
    let chain_id = store.state().chain_id().to_string();
    let salt = |m: u32| pov_crypto::Salt([m as u8 + 1; 32]);
    let value = |m: u32| if m == 4 { 2 } else { 4 };
    let commit = |m: u32| TxBody::Commit {
        contribution: 0,
        commitment: commitment(
            &chain_id,
            0,
            &pov_crypto::Keypair::dev(m).address(),
            value(m),
            &salt(m),
        ),
    };
    let reveal = |m: u32| TxBody::Reveal {
        contribution: 0,
        value: value(m),
        salt: salt(m),
    };
    let contribute = |kind: &str| TxBody::Contribute {
        kind: kind.into(),
        title: format!("a {kind}"),
        uri: "https://example.org/c".into(),
        content_hash: None,
    };
    let evaluate = |contribution, value| TxBody::Evaluate {
        contribution,
        value,
    };
    let proposal = TxBody::ProposeParams {
        title: "dearer ideas".into(),
        uri: "https://example.org/why".into(),
        changes: vec![ParamChange::parse("types.idea.fee", "3").expect("change")],
    };
    let transfer = TxBody::Transfer {
        to: pov_crypto::Keypair::dev(5).address(),
        amount: Amount::from_int(7),
    };
    let blocks: Vec<Vec<(u32, TxBody)>> = vec![
        // 1: the sealed contribution 0, the open 1, the proposal 2.
        vec![
            (0, contribute("work")),
            (5, contribute("idea")),
            (2, proposal),
        ],
        // 2: commits; evaluations of the open one; member 1 passes the proposal.
        vec![
            (1, commit(1)),
            (2, commit(2)),
            (3, commit(3)),
            (0, evaluate(1, 4)),
            (2, evaluate(1, 4)),
            (1, evaluate(2, 1)),
        ],
        // 3 (the change takes effect at its start): the last commitment, more evaluations.
        vec![(4, commit(4)), (3, evaluate(1, 4)), (4, transfer)],
        // 4 and 5: reveals (member 4 never reveals: forfeited).
        vec![(1, reveal(1)), (2, reveal(2)), (1, evaluate(1, 3))],
        vec![(3, reveal(3))],
        // 6: settles at its start; its transactions change the same members' balances.
        vec![
            (0, contribute("idea")),
            (1, evaluate(3, 4)),
            (2, evaluate(3, 4)),
        ],
        vec![(3, evaluate(3, 4)), (4, evaluate(3, 2))],
    ];
    blocks
        .into_iter()
        .map(|bodies| commit_bodies(store, bodies))
        .collect()
}

/// The store's reading of every transaction's events, every block's start, every member's
/// balance lines (positions, events and balances after) and the settlement's line, against
/// what the commits reported and balances summed from the genesis in execution order.
fn check_sealed(store: &Store, chain: &[Committed]) {
    use pov_protocol::BlockEvent;
    use pov_storage::{ContributionActivity, Position, START_LINES};
    for block in chain.iter().rev() {
        for (i, hash) in block.txs.iter().enumerate().rev() {
            let info = store.tx(hash).expect("read").expect("final");
            assert_eq!(
                info.events, block.outcome.events[i],
                "block {} tx {i}",
                block.height
            );
        }
        assert_eq!(
            store.start_events(block.height).expect("start"),
            block.outcome.start,
            "block {}",
            block.height
        );
    }
    let state = sealed_genesis().state().expect("genesis state");
    let mut balances: HashMap<(MemberId, Asset), Amount> = HashMap::new();
    let mut expected: HashMap<MemberId, Vec<(Position, Event, Amount)>> = HashMap::new();
    let mut apply = |position: Position, event: &Event| {
        let balance = balances
            .entry((event.member, event.asset))
            .or_insert_with(|| {
                let m = state.member(event.member).expect("member");
                match event.asset {
                    Asset::Reputation => m.reputation,
                    Asset::Tokens => m.tokens,
                }
            });
        *balance = balance.checked_add(event.amount).expect("balance");
        expected
            .entry(event.member)
            .or_default()
            .push((position, event.clone(), *balance));
    };
    let (mut settled, mut start_changes) = (0, 0);
    for block in chain {
        // The start ran first; its lines are listed after the transactions' (START_LINES).
        let start = block.outcome.start.iter().filter_map(|e| match e {
            BlockEvent::Balance(e) => Some(e),
            _ => None,
        });
        for (j, event) in start.enumerate() {
            let position = Position {
                height: block.height,
                tx_index: START_LINES,
                n: j as u32,
            };
            apply(position, event);
            start_changes += 1;
        }
        for (i, events) in block.outcome.events.iter().enumerate() {
            for (j, event) in events.iter().enumerate() {
                let position = Position {
                    height: block.height,
                    tx_index: i as u32,
                    n: 2 + j as u32,
                };
                apply(position, event);
            }
        }
        settled += block
            .outcome
            .start
            .iter()
            .filter(|e| matches!(e, BlockEvent::Settled(_)))
            .count();
    }
    assert_eq!(settled, 1, "the sealed contribution settled");
    assert!(
        start_changes >= 3,
        "{start_changes} balance changes at settlement"
    );
    assert!(
        chain
            .iter()
            .any(|b| matches!(b.outcome.start.first(), Some(BlockEvent::ParamChange(_)))),
        "the parameter change took effect"
    );
    for member in 0..6 {
        let mut want = expected.remove(&member).unwrap_or_default();
        want.sort_by_key(|(p, _, _)| *p);
        let lines: Vec<(Position, Event, Amount)> = store
            .member_history(member, HistoryQuery::oldest(usize::MAX))
            .expect("history")
            .into_iter()
            .filter_map(|e| match e.activity {
                MemberActivity::Balance {
                    event,
                    balance_after,
                } => Some((e.position, event, balance_after)),
                _ => None,
            })
            .collect();
        assert_eq!(lines, want, "member {member}");
    }
    let history = store
        .contribution(
            0,
            HistoryQuery {
                after: None,
                newest_first: true,
                limit: 1,
            },
        )
        .expect("read")
        .expect("contribution 0")
        .history;
    assert!(
        matches!(
            history.as_slice(),
            [e] if e.position.tx_index == START_LINES
                && e.activity
                    == ContributionActivity::Settled {
                        committed: 4,
                        revealed: 3,
                        forfeited: 1
                    }
        ),
        "{history:?}"
    );
}

#[test]
fn recomputed_events_include_settlements_and_parameter_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = OpenOptions {
        checkpoint_interval: 3,
        checkpoint_txs: 5,
        ..OpenOptions::default()
    };
    let chain = {
        let mut store = Store::open(dir.path(), sealed_genesis(), &options).expect("open");
        let chain = sealed_chain(&mut store);
        check_sealed(&store, &chain);
        chain
    };
    // Nothing in memory after a restart: every block is recomputed from a checkpoint.
    let store = Store::open(dir.path(), sealed_genesis(), &options).expect("reopen");
    check_sealed(&store, &chain);
}
