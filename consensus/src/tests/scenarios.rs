//! Simulation scenarios: many seeds each, plus a determinism check.

// The harness reports how long its seeds took on the wall clock (the simulation itself
// runs on virtual time): the one place in this crate that reads a clock.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::time::Instant;

use super::sim::{Outcome, Scenario, Sim};

/// Four equal validators, one of them Byzantine (f = 1): three partitions and three honest
/// crash-restarts during the first 12 s, 10% loss then, 1% afterwards. Every honest node
/// must commit height 40, and 10 heights above the highest one committed at the heal,
/// within 15 s of virtual time after the heal.
fn four_validators() -> Scenario {
    Scenario {
        powers: vec![1; 4],
        byzantine: Some(3),
        target_height: 40,
        heights_after_heal: 10,
        chaos_until_ms: 12_000,
        partitions: 3,
        crashes: 3,
        loss_chaos_permille: 100,
        loss_calm_permille: 10,
        delay_min_ms: 5,
        delay_max_ms: 80,
        liveness_bound_ms: 15_000,
    }
}

/// Seven equal validators, one Byzantine: four partitions and four honest crash-restarts.
fn seven_validators() -> Scenario {
    Scenario {
        powers: vec![1; 7],
        byzantine: Some(6),
        target_height: 30,
        partitions: 4,
        crashes: 4,
        ..four_validators()
    }
}

/// Unequal powers 4, 3, 3, 2, 1 (total 13): the Byzantine validator holds the most power
/// (4, still less than 1/3), so a quorum needs every honest validator.
fn weighted_validators() -> Scenario {
    Scenario {
        powers: vec![4, 3, 3, 2, 1],
        byzantine: Some(0),
        target_height: 30,
        ..four_validators()
    }
}

/// Runs `seeds` and asserts liveness and evidence for each (safety is asserted inside the
/// simulation as it runs).
fn run_seeds(name: &str, scenario: &Scenario, seeds: std::ops::Range<u64>) -> Vec<Outcome> {
    let started = Instant::now();
    let mut outcomes = Vec::new();
    for seed in seeds {
        let outcome = Sim::new(scenario.clone(), seed).run();
        assert!(
            outcome.finished_after_heal_ms.is_some(),
            "{name} seed {seed}: liveness: not every honest node committed height {} within \
             {} ms after the heal (last decision {:?}); nodes: {:#?}",
            outcome.goal_height,
            scenario.liveness_bound_ms,
            outcome.decisions.last(),
            outcome.final_states,
        );
        if let Some(byzantine) = scenario.byzantine {
            assert!(
                outcome.evidence_against.contains(&byzantine),
                "{name} seed {seed}: the equivocating validator was never caught"
            );
        }
        outcomes.push(outcome);
    }
    let finish: Vec<u64> = outcomes
        .iter()
        .filter_map(|o| o.finished_after_heal_ms)
        .collect();
    let crashes: usize = outcomes.iter().map(|o| o.crashes).sum();
    let max_round = outcomes.iter().map(|o| o.max_decision_round).max();
    eprintln!(
        "{name}: {} seeds in {:?}; goal reached {}..{} ms (virtual) after the heal; \
         {crashes} crash-restarts; highest deciding round {max_round:?}",
        outcomes.len(),
        started.elapsed(),
        finish.iter().min().copied().unwrap_or(0),
        finish.iter().max().copied().unwrap_or(0),
    );
    // The scenarios must actually exercise what they claim to.
    assert!(crashes > 0, "{name}: no crash happened in any seed");
    assert!(
        max_round.is_some_and(|r| r > 0),
        "{name}: every height was decided in round 0; the faults did not bite"
    );
    outcomes
}

#[test]
fn four_validators_stay_safe_and_live_under_faults() {
    run_seeds("4 validators", &four_validators(), 0..20);
}

#[test]
fn seven_validators_stay_safe_and_live_under_faults() {
    run_seeds("7 validators", &seven_validators(), 100..120);
}

#[test]
fn weighted_validators_stay_safe_and_live_under_faults() {
    run_seeds("weighted validators", &weighted_validators(), 200..210);
}

#[test]
fn a_seed_determines_the_whole_run() {
    let scenario = four_validators();
    let a = Sim::new(scenario.clone(), 42).run();
    let b = Sim::new(scenario.clone(), 42).run();
    assert_eq!(a, b);
    let c = Sim::new(scenario, 43).run();
    assert_ne!(
        a.trace, c.trace,
        "a different seed must give a different run"
    );
}
