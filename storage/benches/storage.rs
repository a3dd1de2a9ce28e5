//! Block application with storage, and replay speed, on sled.
//!
//! Set-up (timed by hand, printed): a cooperative of 1,000 members (`genesis_with_members`)
//! with 200 contributions submitted in block 1, then 100 blocks of 1,000 evaluation
//! transactions each (100,000 transactions) committed to a sled store in a temporary
//! directory. Evaluations pick a random member, a random contribution among the 200 and a
//! random value 0..5. Transactions are signed, but marked verified (`commit_with(.., |_|
//! true)`): signature checks are the mempool's job (cached by hash, spec section 7) and
//! would otherwise dominate (about 50 µs each); what is measured is execution, the state
//! root, indexing, the sled transaction and the flush.
//!
//! Then, printed: disk use of the store after 100,000 transactions, and the memory of a
//! fresh process that opens it (this bench re-runs itself as that process).
//!
//! Criterion groups:
//! - `replay/from-genesis-100k-tx`: `Store::replay` of the whole chain, throughput in tx/s
//!   (certificates checked, transaction signatures not: see `replay.rs`).
//! - `commit/block-1000-evaluations`: `Store::commit_with` of the next block of 1,000
//!   evaluations, on top of that chain (block building untimed), throughput in tx/s.
//!
//! Run: `cargo bench -p pov-storage --bench storage`.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use pov_protocol::block::Block;
use pov_protocol::genesis::dev_validator_key;
use pov_protocol::test_utils::{build_block, certify, genesis_with_members, Workload};
use pov_protocol::Transaction;
use pov_storage::{OpenOptions, ReplayOptions, Store};

const MEMBERS: u32 = 1_000;
const CONTRIBUTIONS: usize = 200;
const BLOCK_TXS: usize = 1_000;
const CHAIN_BLOCKS: u64 = 100;
const OPEN_VAR: &str = "POV_BENCH_OPEN_DIR";

fn verified(_: &Transaction) -> bool {
    true
}

fn evaluations() -> Workload {
    let mut w = Workload::dev(MEMBERS);
    w.contribute_percent = 0;
    w.recent = CONTRIBUTIONS as u64;
    w
}

/// The next block of `count` transactions from `workload`, built and certified (untimed).
fn next_block(
    store: &Store,
    workload: &Workload,
    count: usize,
) -> (Block, pov_protocol::block::Certificate) {
    let key = dev_validator_key(0);
    let parent = store.parent();
    let txs = workload.next_txs(store.state(), parent.height + 1, count);
    let block = build_block(
        store.state(),
        &parent,
        store.validators(),
        &key,
        parent.time_ms + 1000,
        txs,
        &verified,
    )
    .expect("block");
    let cert = certify(&block, 0, &[&key]);
    (block, cert)
}

/// `VmRSS` and `VmHWM` of this process, in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => dir_size(&e.path()),
                    _ => e.metadata().map_or(0, |m| m.len()),
                })
                .sum()
        })
        .unwrap_or(0)
}

struct Chain {
    _dir: tempfile::TempDir,
    store: Store,
    txs: u64,
}

fn build_chain() -> Chain {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut store = Store::open(
        &data,
        genesis_with_members(MEMBERS),
        &OpenOptions::default(),
    )
    .expect("open");
    let mut contributions = Workload::dev(MEMBERS);
    contributions.contribute_percent = 100;
    let (block, cert) = next_block(&store, &contributions, CONTRIBUTIONS);
    store.commit_with(&block, &cert, &verified).expect("commit");

    let workload = evaluations();
    let mut commit_ms = Vec::new();
    let (mut events, mut writes, mut bytes, mut txs) = (0usize, 0usize, 0usize, 0u64);
    let mut phases = [Duration::ZERO; 4];
    let started = Instant::now();
    let blocks: u64 = std::env::var("POV_BENCH_BLOCKS")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(CHAIN_BLOCKS);
    for _ in 0..blocks {
        let (block, cert) = next_block(&store, &workload, BLOCK_TXS);
        assert_eq!(block.txs.len(), BLOCK_TXS);
        let t = Instant::now();
        let receipt = store.commit_with(&block, &cert, &verified).expect("commit");
        commit_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        events += receipt.events;
        writes += receipt.writes;
        bytes += receipt.bytes;
        txs += receipt.txs as u64;
        let t = receipt.timings;
        for (sum, d) in phases
            .iter_mut()
            .zip([t.execute, t.index, t.write, t.flush])
        {
            *sum += d;
        }
    }
    commit_ms.sort_by(f64::total_cmp);
    let mean = commit_ms.iter().sum::<f64>() / commit_ms.len() as f64;
    let n = blocks as usize;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / n as f64;
    println!(
        "set-up: {blocks} blocks of {BLOCK_TXS} evaluations ({txs} tx) built and committed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "set-up: commit per block: mean {mean:.1} ms, median {:.1} ms, p90 {:.1} ms, max {:.1} ms ({:.0} tx/s at the mean)",
        commit_ms[n / 2],
        commit_ms[n * 9 / 10],
        commit_ms[n - 1],
        BLOCK_TXS as f64 / mean * 1000.0
    );
    println!(
        "set-up: commit phases per block: execute {:.1} ms, index {:.1} ms, write {:.1} ms, flush {:.1} ms",
        ms(phases[0]),
        ms(phases[1]),
        ms(phases[2]),
        ms(phases[3])
    );
    println!(
        "set-up: per block on average {} events, {} key-value writes, {:.1} MiB written",
        events / n,
        writes / n,
        bytes as f64 / n as f64 / 1048576.0
    );
    let size = store.size_on_disk().expect("size");
    println!(
        "footprint after {} tx (height {}): sled size_on_disk {:.1} MiB, data directory {:.1} MiB, {:.0} bytes per tx",
        txs + CONTRIBUTIONS as u64,
        store.height(),
        size as f64 / 1048576.0,
        dir_size(&data) as f64 / 1048576.0,
        size as f64 / txs as f64
    );
    let (rss, hwm) = memory();
    println!("footprint: this bench process after building the chain: RSS {rss:.0} MiB, peak {hwm:.0} MiB");

    // A fresh process that only opens the store (what a restarting node pays). The store
    // is closed meanwhile: sled locks its directory.
    drop(store);
    let exe = std::env::current_exe().expect("exe");
    let out = std::process::Command::new(exe)
        .env(OPEN_VAR, &data)
        .output()
        .expect("run the open-only child");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        println!(
            "open-only child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let store = Store::open(
        &data,
        genesis_with_members(MEMBERS),
        &OpenOptions::default(),
    )
    .expect("reopen");

    // One replay with every signature verified, for comparison (not a criterion group: it
    // is slow and its cost is ed25519's, not storage's).
    let report = store
        .replay(ReplayOptions {
            verify_signatures: true,
        })
        .expect("replay");
    println!(
        "replay with signatures verified: {} tx in {:.2} s = {:.0} tx/s",
        report.txs,
        report.elapsed.as_secs_f64(),
        report.tx_per_second()
    );
    Chain {
        _dir: dir,
        store,
        txs: txs + CONTRIBUTIONS as u64,
    }
}

/// The child: open the store, report memory, replay, report memory again.
fn open_only(dir: &Path) {
    let started = Instant::now();
    let store =
        Store::open(dir, genesis_with_members(MEMBERS), &OpenOptions::default()).expect("open");
    let opened = started.elapsed();
    let (rss, hwm) = memory();
    println!(
        "footprint: fresh process after Store::open (height {}): {:.2} s to open, RSS {rss:.0} MiB, peak {hwm:.0} MiB",
        store.height(),
        opened.as_secs_f64()
    );
    let report = store.replay(ReplayOptions::default()).expect("replay");
    let (rss, hwm) = memory();
    println!(
        "footprint: same process after a full replay ({} tx, {:.0} tx/s): RSS {rss:.0} MiB, peak {hwm:.0} MiB",
        report.txs,
        report.tx_per_second()
    );
}

fn benches(c: &mut Criterion) {
    let mut chain = build_chain();

    let mut group = c.benchmark_group("replay");
    group.throughput(Throughput::Elements(chain.txs));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("from-genesis-100k-tx", |b| {
        b.iter(|| {
            chain
                .store
                .replay(ReplayOptions::default())
                .expect("replay")
        })
    });
    group.finish();

    let workload = evaluations();
    let mut group = c.benchmark_group("commit");
    group.throughput(Throughput::Elements(BLOCK_TXS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("block-1000-evaluations", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (block, cert) = next_block(&chain.store, &workload, BLOCK_TXS);
                let start = Instant::now();
                chain
                    .store
                    .commit_with(&block, &cert, &verified)
                    .expect("commit");
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

/// Runs the groups with the command line's criterion options (what `criterion_group!`
/// generates, written out so that it carries a doc comment).
fn storage() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
}

fn main() {
    if let Some(dir) = std::env::var_os(OPEN_VAR) {
        open_only(Path::new(&dir));
        return;
    }
    storage();
    Criterion::default().configure_from_args().final_summary();
}
