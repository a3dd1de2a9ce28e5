//! Fault tests: four `povd` validators, each in its own network namespace, under a steady
//! load of transfers from four senders, while one fault is injected per test. Each ends with
//! the same checks: every node has the same block at every height, the same state root, and
//! every transaction an API reported final. A node that was killed or wiped must come back
//! and agree; no finalized block may be lost.
//!
//! The tests need root (network namespaces); elsewhere each one prints why it is skipped.
//! Each test has its own lab subnet, so they run concurrently. `docs/reliability.md` records
//! what they measured.

use std::time::{Duration, Instant};

use pov_tests::cluster::{Cluster, Options};
use pov_tests::impair::Impairment;
use pov_tests::load::Load;

const SENDERS: [u32; 4] = [0, 1, 2, 3];

/// A generous bound for anything that should take seconds (the machine may be loaded by
/// other tests running at the same time).
const LIMIT: Duration = Duration::from_secs(90);

fn cluster(validators: usize) -> Option<Cluster> {
    match Cluster::start(&Options::validators(validators)) {
        Ok(cluster) => Some(cluster),
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            None
        }
    }
}

/// The dev validator index proposing round 0 of `height` (round-robin over the genesis order,
/// checked against the chain's recent headers).
fn proposer_of(cluster: &Cluster, height: u64) -> usize {
    use pov_protocol::genesis::dev_validator_key;
    let n = cluster.len() as u64;
    let index = (height % n) as usize;
    // Sanity: the last round-0 block was proposed by the validator the rule names.
    let last = cluster.height(0);
    if let Some(block) = cluster.node(0).get(&format!("/blocks/{last}")) {
        if block["certificate"]["round"].as_u64() == Some(0) {
            let expected = dev_validator_key((last % n) as u32).address().to_string();
            assert_eq!(
                block["header"]["proposer"].as_str(),
                Some(expected.as_str()),
                "proposer rotation is not round-robin over the genesis order"
            );
        }
    }
    index
}

/// Peak resident memory of each running node, in MiB (VmHWM).
fn peak_memory_mib(cluster: &Cluster) -> Vec<u64> {
    cluster
        .running()
        .into_iter()
        .map(|i| {
            let pid = cluster.node(i).child.id();
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("VmHWM:"))
                        .and_then(|l| l.split_whitespace().nth(1))
                        .and_then(|kib| kib.parse::<u64>().ok())
                })
                .map(|kib| kib / 1024)
                .unwrap_or(0)
        })
        .collect()
}

/// Stops the load, runs the end checks and prints one result line for docs/reliability.md.
fn finish(cluster: &Cluster, load: Load, fault: &str, recovery: Duration) {
    let report = load.stop();
    assert!(
        !report.reported_final.is_empty(),
        "no transaction became final during the test\n{}",
        cluster.logs()
    );
    let height = cluster.check_agreement(&report.reported_final, LIMIT);
    eprintln!(
        "RESULT {fault}: agreed on {height} blocks and their state roots; {} of {} \
         transactions final and in every chain; recovery {:.1} s; peak RSS MiB {:?}; \
         total {:.0} s",
        report.reported_final.len(),
        report.signed,
        recovery.as_secs_f64(),
        peak_memory_mib(cluster),
        cluster.elapsed().as_secs_f64()
    );
}

#[test]
fn kill_9_of_a_validator_under_load_and_its_restart() {
    let Some(mut cluster) = cluster(4) else {
        return;
    };
    let all = [0, 1, 2, 3];
    cluster.wait_height(&all, 2, LIMIT);
    let load = Load::start(&cluster.apis(), &SENDERS);
    load.wait_finals(20, LIMIT);
    let before = cluster.height(2);
    cluster.kill(2);
    // The other three hold more than 2/3 of the power and go on.
    cluster.wait_progress(&[0, 1, 3], 5, LIMIT);
    cluster.restart(2);
    let started = Instant::now();
    let target = cluster.max_height();
    cluster.wait_height(&[2], target.max(before), LIMIT);
    let recovery = started.elapsed();
    cluster.wait_progress(&all, 3, LIMIT);
    finish(&cluster, load, "kill -9 of one validator", recovery);
}

#[test]
fn kill_9_of_the_current_proposer() {
    let Some(mut cluster) = cluster(4) else {
        return;
    };
    let all = [0, 1, 2, 3];
    cluster.wait_height(&all, 3, LIMIT);
    let load = Load::start(&cluster.apis(), &SENDERS);
    load.wait_finals(10, LIMIT);
    // Kill whoever proposes the next height, as soon as it is that height's turn.
    let height = cluster.height(0);
    let victim = proposer_of(&cluster, height + 1);
    cluster.kill(victim);
    let started = Instant::now();
    let others: Vec<usize> = (0..4).filter(|i| *i != victim).collect();
    // The height it should have proposed is decided in a later round by another proposer.
    cluster.wait_height(&others, height + 2, LIMIT);
    let recovery = started.elapsed();
    cluster.restart(victim);
    cluster.wait_progress(&all, 3, LIMIT);
    finish(&cluster, load, "kill -9 of the current proposer", recovery);
}

#[test]
fn one_of_four_partitioned_away_and_healed() {
    let Some(cluster) = cluster(4) else {
        return;
    };
    let all = [0, 1, 2, 3];
    cluster.wait_height(&all, 2, LIMIT);
    let load = Load::start(&cluster.apis(), &SENDERS);
    load.wait_finals(10, LIMIT);
    cluster.lab.partition(&[3], &[0, 1, 2]).expect("partition");
    let cut_at = cluster.height(3);
    // The majority side goes on; the lone node cannot finalize anything alone.
    cluster.wait_progress(&[0, 1, 2], 8, LIMIT);
    assert!(
        cluster.height(3) <= cut_at + 1,
        "a node cut off from 3 of 4 validators finalized blocks alone"
    );
    cluster.lab.heal().expect("heal");
    let started = Instant::now();
    let target = cluster.max_height();
    cluster.wait_height(&[3], target, LIMIT);
    let recovery = started.elapsed();
    cluster.wait_progress(&all, 3, LIMIT);
    finish(
        &cluster,
        load,
        "one of four partitioned and healed",
        recovery,
    );
}

#[test]
fn two_two_partition_halts_without_forking_and_resumes_after_healing() {
    let Some(cluster) = cluster(4) else {
        return;
    };
    let all = [0, 1, 2, 3];
    cluster.wait_height(&all, 2, LIMIT);
    let load = Load::start(&cluster.apis(), &SENDERS);
    load.wait_finals(10, LIMIT);
    cluster.lab.partition(&[0, 1], &[2, 3]).expect("partition");
    // Let a block in flight at the cut finish, then nobody may finalize anything.
    std::thread::sleep(Duration::from_secs(2));
    let frozen: Vec<u64> = all.iter().map(|i| cluster.height(*i)).collect();
    std::thread::sleep(Duration::from_secs(6));
    let after: Vec<u64> = all.iter().map(|i| cluster.height(*i)).collect();
    assert_eq!(
        frozen, after,
        "a side with half of the power finalized blocks during a 2-2 partition"
    );
    cluster.lab.heal().expect("heal");
    let started = Instant::now();
    let top = *after.iter().max().unwrap_or(&0);
    cluster.wait_height(&all, top + 3, LIMIT);
    let recovery = started.elapsed();
    finish(&cluster, load, "2-2 partition and healing", recovery);
}

#[test]
fn all_nodes_restarted_at_once() {
    let Some(mut cluster) = cluster(4) else {
        return;
    };
    let all = [0, 1, 2, 3];
    cluster.wait_height(&all, 2, LIMIT);
    let load = Load::start(&cluster.apis(), &SENDERS);
    load.wait_finals(20, LIMIT);
    let before: Vec<u64> = all.iter().map(|i| cluster.height(*i)).collect();
    for i in all {
        cluster.kill(i);
    }
    for i in all {
        cluster.restart(i);
    }
    let started = Instant::now();
    let top = *before.iter().max().unwrap_or(&0);
    cluster.wait_height(&all, top + 2, LIMIT);
    let recovery = started.elapsed();
    finish(
        &cluster,
        load,
        "all four killed and restarted at once",
        recovery,
    );
}

#[test]
fn a_node_whose_data_was_deleted_resyncs() {
    let Some(mut cluster) = cluster(4) else {
        return;
    };
    let all = [0, 1, 2, 3];
    cluster.wait_height(&all, 2, LIMIT);
    let load = Load::start(&cluster.apis(), &SENDERS);
    load.wait_finals(30, LIMIT);
    cluster.kill(1);
    cluster.wipe_data(1);
    cluster.wait_progress(&[0, 2, 3], 3, LIMIT);
    cluster.restart(1);
    let started = Instant::now();
    let target = cluster.max_height();
    cluster.wait_height(&[1], target, LIMIT);
    let recovery = started.elapsed();
    cluster.wait_progress(&all, 3, LIMIT);
    finish(&cluster, load, "data directory deleted", recovery);
}

#[test]
fn latency_of_300_ms_and_10_percent_loss_on_every_link() {
    let options = Options {
        impairment: Some(Impairment {
            delay: Duration::from_millis(300),
            loss_percent: 10,
            seed: 8,
        }),
        ..Options::validators(4)
    };
    let mut cluster = match Cluster::start(&options) {
        Ok(cluster) => cluster,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let all = [0, 1, 2, 3];
    let slow = Duration::from_secs(180);
    let started = Instant::now();
    cluster.wait_height(&all, 2, slow);
    let first_blocks = started.elapsed();
    let load = Load::start(&cluster.apis(), &SENDERS);
    load.wait_finals(20, slow);
    // A validator killed and restarted over the bad links still catches up.
    cluster.kill(1);
    cluster.wait_progress(&[0, 2, 3], 2, slow);
    cluster.restart(1);
    let target = cluster.max_height();
    cluster.wait_height(&[1], target, slow);
    cluster.wait_progress(&all, 2, slow);
    if let Some(hub) = &cluster.hub {
        let dropped = hub
            .counters
            .dropped
            .load(std::sync::atomic::Ordering::Relaxed);
        let delivered = hub
            .counters
            .delivered
            .load(std::sync::atomic::Ordering::Relaxed);
        eprintln!("hub: {delivered} frames delivered, {dropped} dropped");
        assert!(
            dropped > 0 && delivered > 10 * dropped / 2,
            "impairment not applied"
        );
    }
    finish(
        &cluster,
        load,
        "300 ms one-way delay, 10% loss",
        first_blocks,
    );
}

#[test]
fn clock_skew_of_four_seconds_on_one_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let library = match pov_tests::clock::skew_library(dir.path()) {
        Ok(library) => library,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let skewed = 3;
    let options = Options {
        env: vec![
            (
                skewed,
                "LD_PRELOAD".into(),
                library.to_string_lossy().into_owned(),
            ),
            (skewed, pov_tests::clock::SKEW_VAR.into(), "4000".into()),
        ],
        ..Options::validators(4)
    };
    let cluster = match Cluster::start(&options) {
        Ok(cluster) => cluster,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let all = [0, 1, 2, 3];
    cluster.wait_height(&all, 2, LIMIT);
    let load = Load::start(&cluster.apis(), &SENDERS);
    load.wait_finals(20, LIMIT);
    let top = cluster.wait_progress(&all, 8, LIMIT);
    // The skew took effect: the skewed node's blocks jump ahead of their parents by about
    // the skew, and block times never go backwards.
    let address = pov_protocol::genesis::dev_validator_key(skewed as u32)
        .address()
        .to_string();
    let mut previous = 0u64;
    let mut biggest_jump = 0u64;
    for h in 1..=top {
        let block = cluster.node(0).get(&format!("/blocks/{h}")).expect("block");
        let time = block["header"]["time_ms"].as_u64().expect("time_ms");
        assert!(time >= previous, "block {h} is older than its parent");
        if block["header"]["proposer"].as_str() == Some(address.as_str()) && previous > 0 {
            biggest_jump = biggest_jump.max(time - previous);
        }
        previous = time;
    }
    assert!(
        biggest_jump >= 2_500,
        "the skewed node's blocks are not ahead (largest jump {biggest_jump} ms)"
    );
    finish(
        &cluster,
        load,
        "clock 4 s ahead on one node",
        Duration::ZERO,
    );
}
