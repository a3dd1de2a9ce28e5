//! Runs every shipped conformance vector (the 2016 reference's and the median-rule ones)
//! through the state machine and requires the reference's figures within 1e-9.

use pov_protocol::conformance::{compare, simulate};
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("vector file is shipped");
    serde_json::from_str(&text).expect("vector file is JSON")
}

fn check(name: &str, expected_vectors: usize) {
    let expected = load(name);
    let count = expected["vectors"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(count, expected_vectors, "{name} vector count");
    let computed = simulate(&expected).expect("vectors run");
    let cmp = compare(&expected, &computed);
    assert!(cmp.numbers > 1000, "compared only {} numbers", cmp.numbers);
    assert!(
        cmp.passes(TOLERANCE),
        "{name}: max relative error {:e} at {}; rejections differ at {:?}; shape {:?}",
        cmp.max_relative_error,
        cmp.worst,
        cmp.rejection_mismatches,
        cmp.shape_mismatches
    );
}

#[test]
fn backfeed_2016_reference_vectors_match() {
    check("backfeed-2016.json", 35);
}

#[test]
fn median_rule_vectors_match() {
    check("median-examples.json", 8);
}

#[test]
fn expected_values_in_the_input_are_ignored() {
    let mut expected = load("backfeed-2016.json");
    let truth = simulate(&expected).expect("runs");
    // Poison every expected figure: the output must not change.
    for v in expected["vectors"].as_array_mut().expect("vectors") {
        for s in v["steps"].as_array_mut().expect("steps") {
            s["after"] = Value::from(-1);
            s["max_score_after"] = Value::from(-1);
        }
    }
    assert_eq!(simulate(&expected).expect("runs"), truth);
}

#[test]
fn a_single_vector_object_is_accepted() {
    let file = load("median-examples.json");
    let one = file["vectors"][2].clone();
    let computed = simulate(&one).expect("runs");
    assert!(compare(&one, &computed).passes(TOLERANCE));
    assert!(computed.get("steps").is_some());
}

#[test]
fn a_perturbed_figure_is_caught() {
    let expected = load("backfeed-2016.json");
    let mut computed = simulate(&expected).expect("runs");
    computed["vectors"][0]["steps"][2]["after"][0][0] = Value::from(20.5745);
    let cmp = compare(&expected, &computed);
    assert!(!cmp.passes(TOLERANCE));
    assert!(cmp.worst.contains("steps[2].after[0][0]"), "{}", cmp.worst);
}

#[test]
fn malformed_vectors_say_where() {
    let bad: Value = serde_json::json!({"vectors": [{"name": "x", "params": {"stake": 0.02}}]});
    let e = simulate(&bad).expect_err("missing fields");
    assert!(e.to_string().contains("vector 0 (x)"), "{e}");
    let bad: Value = serde_json::json!({
        "pov_params": {"evaluation_set": [0, 1], "stake": "0.02", "distribution": "0.08",
            "fee_exponent": "0.5", "reward": {"rule": "median", "token_value": {"0": 0, "1": 5},
            "reputation_value": {"0": 0, "1": 1}}},
        "contributors": [0],
        "initial_state_after_contribution_fees": [{"reputation": 10, "tokens": 1}],
        "steps": [{"evaluator": 3, "contribution": 0, "value": 1}]
    });
    let e = simulate(&bad).expect_err("unknown evaluator");
    assert!(e.to_string().contains("steps[0].evaluator"), "{e}");
}
