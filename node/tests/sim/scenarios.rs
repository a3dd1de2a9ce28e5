//! The scenarios CI runs, each over `POV_SIM_RUNS` seeds from `POV_SIM_SEED`.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use super::byzantine::Byzantine;
use super::harness::{Outcome, Scenario, Sim};

/// Seeds per scenario when `POV_SIM_RUNS` is not set: enough to exercise every path in CI,
/// few enough to keep CI short (`docs/consensus.md` says how to run more).
const DEFAULT_RUNS: u64 = 2;

/// `POV_SIM_SEED..POV_SIM_SEED + POV_SIM_RUNS` from the environment (defaults 1 and
/// [`DEFAULT_RUNS`]).
fn seeds() -> std::ops::Range<u64> {
    let read = |name: &str, default: u64| -> u64 {
        match std::env::var(name) {
            Ok(text) => text
                .parse()
                .unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
            Err(_) => default,
        }
    };
    let first = read("POV_SIM_SEED", 1);
    first..first.saturating_add(read("POV_SIM_RUNS", DEFAULT_RUNS))
}

/// Runs `scenario` for every seed; a failing seed prints the command that replays it alone.
fn run(name: &str, scenario: Scenario) -> Vec<Outcome> {
    run_each(name, |_| scenario.clone())
}

/// Runs the scenario `make` gives for each seed.
fn run_each(name: &str, make: impl Fn(u64) -> Scenario) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for seed in seeds() {
        let result = catch_unwind(AssertUnwindSafe(|| Sim::new(make(seed), seed).run()));
        match result {
            Ok(outcome) => outcomes.push(outcome),
            Err(panic) => {
                eprintln!(
                    "\nsimulation {name} failed at seed {seed}; replay it with:\n  \
                     POV_SIM_SEED={seed} POV_SIM_RUNS=1 cargo test -p pov-node --test sim -- \
                     scenarios::{name} --exact\n"
                );
                resume_unwind(panic);
            }
        }
    }
    let slowest = outcomes.iter().map(|o| o.finished_after_heal_ms).max();
    eprintln!(
        "{name}: {} seeds from {}, goal heights {:?}, slowest {:?} ms after the heal, {} crashes",
        outcomes.len(),
        seeds().start,
        outcomes.iter().map(|o| o.goal_height).collect::<Vec<_>>(),
        slowest,
        outcomes.iter().map(|o| o.crashes).sum::<usize>(),
    );
    outcomes
}

/// Four validators, one of them (which one depends on the seed) faulty in the way `kind`
/// says.
fn one_faulty(name: &str, kind: Byzantine) -> Vec<Outcome> {
    run_each(name, |seed| Scenario {
        byzantine: vec![((seed % 4) as usize, kind)],
        ..Scenario::four()
    })
}

#[test]
fn honest_nodes_under_partitions_loss_and_crashes() {
    run(
        "honest_nodes_under_partitions_loss_and_crashes",
        Scenario::four(),
    );
}

#[test]
fn equivocating_votes() {
    one_faulty("equivocating_votes", Byzantine::EquivocatingVotes);
}

#[test]
fn proposals_of_invalid_blocks() {
    one_faulty("proposals_of_invalid_blocks", Byzantine::InvalidBlocks);
}

#[test]
fn block_times_at_the_allowed_skew() {
    one_faulty("block_times_at_the_allowed_skew", Byzantine::TimeAtSkewEdge);
}

#[test]
fn block_times_past_the_allowed_skew() {
    one_faulty("block_times_past_the_allowed_skew", Byzantine::TimePastSkew);
}

#[test]
fn withholding_votes() {
    one_faulty("withholding_votes", Byzantine::WithholdingVotes);
}

#[test]
fn replaying_old_messages() {
    one_faulty("replaying_old_messages", Byzantine::ReplayingOld);
}

#[test]
fn real_messages_in_fresh_envelopes() {
    one_faulty(
        "real_messages_in_fresh_envelopes",
        Byzantine::FreshEnvelopes,
    );
}

#[test]
fn a_proposer_silent_after_proposing() {
    one_faulty(
        "a_proposer_silent_after_proposing",
        Byzantine::SilentAfterProposing,
    );
}

/// Issue 12's stall: a faulty proposer stamps its block at the edge of the allowed clock
/// drift, node 2 (whose clock is a second behind) judges it invalid, nodes 0 and 1 lock on
/// it, and the faulty node never precommits. Only that block can be decided now, and only a
/// re-proposal by another validator (whose header still names the faulty builder) can get
/// it decided: before the fix every node rejected those, and the chain stopped for good.
#[test]
fn a_reproposal_of_a_block_another_validator_built() {
    run(
        "a_reproposal_of_a_block_another_validator_built",
        Scenario {
            byzantine: vec![(3, Byzantine::TimeAtSkewEdge)],
            partitions: 0,
            crashes: 0,
            clock_offsets_ms: Some(vec![50, 80, -1_000, 0]),
            chaos_until_ms: 5_000,
            min_height: 12,
            ..Scenario::four()
        },
    );
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let scenario = Scenario {
        byzantine: vec![(1, Byzantine::EquivocatingVotes)],
        ..Scenario::four()
    };
    let seed = seeds().start;
    let a = Sim::new(scenario.clone(), seed).run();
    let b = Sim::new(scenario.clone(), seed).run();
    assert_eq!(a, b, "seed {seed} gave two different runs");
    let c = Sim::new(scenario, seed + 1).run();
    assert_ne!(
        a.trace,
        c.trace,
        "seeds {seed} and {} gave the same trace",
        seed + 1
    );
}
#[test]
fn two_proposals_for_one_round() {
    one_faulty("two_proposals_for_one_round", Byzantine::DoubleProposal);
}
