//! Model-based tests: pov's Tendermint engine against Malachite's Quint model of Tendermint.
//!
//! The traces in `traces/` were generated from the model (`traces/SOURCE.md` gives the
//! repository, commit, spec path, Quint version and command); [`replay`] hands each correct
//! node's inputs to a `Consensus` and checks its votes, proposals, timeouts, lock, valid
//! value and decision against the model's. With `POV_MBT_TRACES=<dir>` the test replays the
//! `*.itf.json` files of that directory instead (`scripts/mbt-traces.sh` makes more).
//! `docs/consensus.md` ("Model-based tests") explains where and why the two differ.

mod itf;
mod model;
mod replay;

use std::path::{Path, PathBuf};

/// What the committed traces must exercise, so that a regenerated set cannot silently
/// lose a path of the algorithm.
const REQUIRED_COVERAGE: &[&str] = &[
    "lock taken",
    "lock changed",
    "valid value updated",
    "proposal with a POL round",
    "prevote for a proposal with a POL round (L28)",
    "prevote nil on a valid proposal, locked on another value (L26/L32)",
    "re-proposal of a valid value",
    "round skip (f+1 of a later round)",
    "invalid proposal",
    "timeout propose fired",
    "timeout prevote fired",
    "timeout precommit fired",
    "prevote nil",
    "precommit nil",
    "decision",
];

fn trace_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read trace directory {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.to_string_lossy().ends_with(".itf.json"))
        .collect();
    files.sort();
    files
}

#[test]
fn engine_follows_the_reference_model() {
    // Test configuration, not consensus state: the clippy rule against reading the
    // environment is for the engine.
    #[allow(clippy::disallowed_methods)]
    let custom = std::env::var_os("POV_MBT_TRACES").map(PathBuf::from);
    let committed = custom.is_none();
    let dir = custom
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mbt/traces"));
    let files = trace_files(&dir);
    assert!(
        !files.is_empty(),
        "no *.itf.json traces in {}",
        dir.display()
    );

    let mut summary = replay::Summary::default();
    let mut failures = Vec::new();
    for file in &files {
        let trace = model::load(file).unwrap_or_else(|e| panic!("{e}"));
        if let Err(e) = replay::replay(&trace, &mut summary) {
            failures.push(e);
        }
    }
    println!(
        "{} traces, {} driver steps replayed, {} states compared",
        summary.traces, summary.steps, summary.compared
    );
    for (what, count) in &summary.coverage {
        println!("  covered {count:>5}: {what}");
    }
    for (adaptation, count) in &summary.adaptations {
        println!("  adapted {count:>5}: {adaptation:?}");
    }
    for (trace, node, index, reason) in &summary.stopped {
        println!("  stopped by a deviation: {trace}: node {node} at state {index}: {reason}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} traces disagree with the model:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
    if committed {
        let missing: Vec<&str> = REQUIRED_COVERAGE
            .iter()
            .copied()
            .filter(|what| !summary.coverage.contains_key(what))
            .collect();
        assert!(
            missing.is_empty(),
            "the committed traces no longer cover: {missing:?}"
        );
    }
}

/// The first committed random trace of the four-validator set without faults.
fn sample_trace() -> (PathBuf, serde_json::Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mbt/traces");
    let path = trace_files(&dir)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("povN4F0-"))
        .expect("a committed povN4F0 trace");
    let text = std::fs::read_to_string(&path).expect("readable trace");
    let json = serde_json::from_str(&text).expect("JSON trace");
    (path, json)
}

/// Replays `json` after `tamper` changed every state it applies to; returns the error.
fn replay_tampered(
    json: &mut serde_json::Value,
    tamper: impl Fn(&mut serde_json::Value) -> bool,
) -> String {
    let states = json["states"].as_array_mut().expect("states");
    let tampered = states.iter_mut().map(tamper).filter(|&t| t).count();
    assert!(tampered > 0, "nothing to tamper with");
    let trace = model::decode("tampered".to_owned(), json).expect("still a trace");
    let mut summary = replay::Summary::default();
    replay::replay(&trace, &mut summary).expect_err("a tampered trace must not replay")
}

/// The name of the state variable ending in `name`.
fn var_name(state: &serde_json::Value, name: &str) -> String {
    let object = state.as_object().expect("a state is a record");
    object
        .keys()
        .find(|k| *k == name || k.ends_with(&format!("::{name}")))
        .cloned()
        .expect("the variable")
}

#[test]
fn replay_notices_a_vote_the_engine_would_not_cast() {
    let (path, mut json) = sample_trace();
    let error = replay_tampered(&mut json, |state| {
        let hist = var_name(state, "_hist");
        let output = &mut state[&hist]["output"];
        if output["tag"] == "VoteOutput" && output["value"]["valueId"]["tag"] == "Val" {
            output["value"]["valueId"]["value"] = "tampered".into();
            return true;
        }
        false
    });
    assert!(
        error.contains("the engine did not"),
        "{}: {error}",
        path.display()
    );
}

#[test]
fn replay_notices_a_lock_the_engine_does_not_hold() {
    let (path, mut json) = sample_trace();
    let error = replay_tampered(&mut json, |state| {
        let system = var_name(state, "system");
        let Some(nodes) = state[&system]["#map"].as_array_mut() else {
            return false;
        };
        let mut tampered = false;
        for node in nodes {
            let cs = &mut node[1]["es"]["cs"];
            if cs["lockedValue"]["tag"] == "Val" {
                cs["lockedValue"]["value"] = "tampered".into();
                tampered = true;
            }
        }
        tampered
    });
    assert!(error.contains("lock"), "{}: {error}", path.display());
}
