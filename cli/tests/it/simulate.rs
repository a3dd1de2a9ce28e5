//! `pov simulate` and `pov genesis validate` through the real binary: output, `--check`, exit codes.

use crate::support::pov;

fn vectors(name: &str) -> String {
    format!(
        "{}/../protocol/tests/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn simulate_prints_computed_json_for_every_step() {
    let out = pov()
        .args(["simulate", &vectors("backfeed-2016.json")])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let vectors = json["vectors"].as_array().expect("vectors");
    assert_eq!(vectors.len(), 35);
    let first = &vectors[0]["steps"][0];
    let rep = first["after"][0][0].as_f64().expect("number");
    assert!((rep - 19.778885438199982).abs() < 1e-9, "{rep}");
    assert!(first["max_score_after"].is_array());
}

#[test]
fn check_passes_on_the_shipped_vectors_and_fails_on_a_tampered_file() {
    for name in [
        "backfeed-2016.json",
        "median-examples.json",
        "governance-examples.json",
        "governance-extra.json",
    ] {
        let out = pov()
            .args(["simulate", &vectors(name), "--check"])
            .output()
            .expect("runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name}: {text}");
        assert!(text.contains("ok: every figure within"), "{text}");
    }
    let original = std::fs::read_to_string(vectors("backfeed-2016.json")).expect("read");
    let tampered = original.replacen("19.778885438199982", "19.7790", 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tampered.json");
    std::fs::write(&path, tampered).expect("write");
    let out = pov()
        .arg("simulate")
        .arg(&path)
        .arg("--check")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("MISMATCH"));
}

#[test]
fn bad_input_exits_3_with_the_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.json");
    std::fs::write(&path, "{\"vectors\": [{\"name\": \"v\"}]}").expect("write");
    let out = pov().arg("simulate").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("vector 0 (v)") && err.contains("params"),
        "{err}"
    );

    std::fs::write(&path, "not json").expect("write");
    let out = pov().arg("simulate").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(3));

    let out = pov()
        .args(["simulate", "/nonexistent/file.json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/file.json"));

    let out = pov().args(["simulate"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2), "usage error");
}

#[test]
fn genesis_validate_lists_every_problem() {
    let shown = pov()
        .args(["genesis", "show", "--dev"])
        .output()
        .expect("runs");
    assert!(shown.status.success());
    let text = String::from_utf8_lossy(&shown.stdout).replace("stake = \"0.02\"", "stake = \"2\"");
    let text = text.replace("power = 1", "power = 0");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("genesis.toml");
    std::fs::write(&path, text).expect("write");
    let out = pov()
        .args(["genesis", "validate"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("params.types.work.stake"), "{err}");
    assert!(err.contains("validators[0].power"), "{err}");
}
