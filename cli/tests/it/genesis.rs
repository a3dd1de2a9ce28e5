//! Forming a cooperative through the binary: `genesis new`, `add-member`, `add-validator`,
//! `set-param`, `validate` (every problem, each naming its field) and `show`.

use pov_protocol::genesis::Genesis;
use pov_protocol::{Admission, Amount, Revote, RewardRule};

use crate::support::Pov;

fn load(pov: &Pov) -> Genesis {
    let text = std::fs::read_to_string(pov.path("genesis.toml")).expect("genesis.toml");
    Genesis::parse_toml(&text).expect("parses")
}

#[test]
fn a_cooperative_from_nothing_to_a_valid_genesis() {
    let pov = Pov::new();
    let out = pov.run(&[
        "genesis",
        "new",
        "--chain-id",
        "bakery-coop",
        "--genesis-time",
        "2026-03-01T00:00:00Z",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("members: a cooperative needs at least one member"),
        "{err}"
    );
    let g = load(&pov);
    assert_eq!(g.chain_id, "bakery-coop");
    assert_eq!(g.genesis_time_ms, 1_772_323_200_000);
    let work = &g.params.types["work"];
    assert_eq!(work.stake, "0.02".parse::<Amount>().expect("a"));
    assert_eq!(work.distribution, "0.08".parse::<Amount>().expect("a"));
    assert_eq!(work.fee_exponent, "0.5".parse::<Amount>().expect("a"));
    assert_eq!(work.evaluation_set, vec![0, 1, 2, 3, 4, 5]);
    assert!(matches!(work.reward, RewardRule::Median { .. }));
    assert_eq!(g.params.admission, Admission::Invite);
    assert_eq!(g.params.revote, Revote::RejectSame);
    pov.fails(3, &["genesis", "new", "--chain-id", "x"]); // exists, no --force

    // Members from the keystore and by address; a validator.
    pov.ok(&["keys", "new", "ann"]);
    pov.ok(&[
        "genesis",
        "add-member",
        "ann",
        "--reputation",
        "40",
        "--tokens",
        "100",
    ]);
    let ben = pov_crypto::Keypair::generate().address().to_string();
    pov.fails(3, &["genesis", "add-member", &ben, "--reputation", "10"]); // needs --name
    pov.ok(&[
        "genesis",
        "add-member",
        &ben,
        "--name",
        "ben",
        "--reputation",
        "10",
    ]);
    let validator = pov_crypto::Keypair::generate().address().to_string();
    let out = pov.json(&[
        "genesis",
        "add-validator",
        &validator,
        "--power",
        "2",
        "--addr",
        "/ip4/10.0.0.5/tcp/26656",
    ]);
    assert_eq!(out["valid"], true, "{out}");

    // Parameters.
    pov.ok(&["genesis", "set-param", "types.work.stake", "0.03"]);
    pov.ok(&["genesis", "set-param", "revote", "reprocess"]);
    pov.ok(&["genesis", "set-param", "params.admission", "open"]);
    pov.ok(&[
        "genesis",
        "set-param",
        "types.care.evaluation_set",
        "0,1,2,3",
    ]);
    pov.ok(&[
        "genesis",
        "set-param",
        "types.care.reward.median.token_value",
        "0,1,3,6",
    ]);
    let out = pov.json(&[
        "genesis",
        "set-param",
        "types.care.reward.median.reputation_value",
        "0,1,2,3",
    ]);
    assert_eq!(out["valid"], true, "{out}");
    pov.ok(&["genesis", "set-param", "types.vote.reward", "threshold"]);

    let g = load(&pov);
    assert_eq!(g.members.len(), 2);
    assert_eq!(g.members[1].name, "ben");
    assert_eq!(g.validators[0].power, 2);
    assert_eq!(
        g.params.types["work"].stake,
        "0.03".parse::<Amount>().expect("a")
    );
    assert_eq!(g.params.revote, Revote::Reprocess);
    assert_eq!(g.params.admission, Admission::Open);
    assert_eq!(g.params.types["care"].evaluation_set, vec![0, 1, 2, 3]);
    assert_eq!(g.params.types["vote"].evaluation_set, vec![0, 1]);

    let text = pov.ok(&["genesis", "validate"]);
    assert!(
        text.contains("valid genesis for chain \"bakery-coop\", 2 members, 1 validators"),
        "{text}"
    );
    let shown = pov.ok(&["genesis", "show"]);
    assert!(
        shown.starts_with("# genesis hash (chain identity): "),
        "{shown}"
    );
    assert!(
        shown.contains("[params.types.care.reward.median]"),
        "{shown}"
    );
    let json = pov.json(&["genesis", "show"]);
    assert_eq!(json["hash"], g.hash().to_string().as_str());
    assert_eq!(json["genesis"]["chain_id"], "bakery-coop");
}

#[test]
fn edits_that_break_their_field_are_refused_and_nothing_is_written() {
    let pov = Pov::new();
    pov.ok(&["genesis", "new", "--chain-id", "coop"]);
    let before = std::fs::read_to_string(pov.path("genesis.toml")).expect("read");
    let (_, err) = pov.fails(3, &["genesis", "set-param", "types.work.stake", "2"]);
    assert!(
        err.contains("params.types.work.stake: 2 must be between 0 and 1"),
        "{err}"
    );
    let (_, err) = pov.fails(
        3,
        &["genesis", "set-param", "types.work.evaluation_set", "3,1"],
    );
    assert!(err.contains("strictly increasing"), "{err}");
    let (_, err) = pov.fails(3, &["genesis", "set-param", "types.work.colour", "red"]);
    assert!(err.contains("unknown parameter"), "{err}");
    let (_, err) = pov.fails(3, &["genesis", "set-param", "revote", "sometimes"]);
    assert!(err.contains("reject-same or reprocess"), "{err}");
    let (_, err) = pov.fails(
        3,
        &["genesis", "add-member", "not-a-key", "--reputation", "1"],
    );
    assert!(
        err.contains("is neither a key in the keystore") && err.contains("nor an address"),
        "{err}"
    );
    let addr = pov_crypto::Keypair::generate().address().to_string();
    let (_, err) = pov.fails(
        3,
        &[
            "genesis",
            "add-member",
            &addr,
            "--name",
            "x",
            "--reputation",
            "-5",
        ],
    );
    assert!(
        err.contains("members[0].reputation: -5 is negative"),
        "{err}"
    );
    pov.fails(3, &["genesis", "add-validator", &addr, "--power", "0"]);
    let (_, err) = pov.fails(3, &["genesis", "new", "--chain-id", "Bad Id", "--force"]);
    assert!(err.contains("chain_id"), "{err}");
    pov.fails(
        3,
        &[
            "genesis",
            "new",
            "--chain-id",
            "c",
            "--force",
            "--genesis-time",
            "yesterday",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(pov.path("genesis.toml")).expect("read"),
        before
    );

    // Duplicates are refused too.
    pov.ok(&[
        "genesis",
        "add-member",
        &addr,
        "--name",
        "x",
        "--reputation",
        "1",
    ]);
    let (_, err) = pov.fails(
        3,
        &[
            "genesis",
            "add-member",
            &addr,
            "--name",
            "y",
            "--reputation",
            "1",
        ],
    );
    assert!(err.contains("duplicate member"), "{err}");

    // A missing file says how to start one.
    let (_, err) = pov.fails(
        3,
        &[
            "genesis",
            "set-param",
            "revote",
            "reprocess",
            "--genesis",
            "nope.toml",
        ],
    );
    assert!(err.contains("pov genesis new"), "{err}");
}

#[test]
fn validate_lists_every_problem_each_naming_its_field() {
    let pov = Pov::new();
    pov.ok(&["genesis", "new", "--chain-id", "coop"]);
    // Cross-field problems are allowed while editing and reported as what is left to do.
    let out = pov.run(&["genesis", "set-param", "types.work.evaluation_set", "0,1,2"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("params.types.work.reward.median.token_value: has 6 entries"),
        "{err}"
    );

    let (_, err) = pov.fails(3, &["genesis", "validate"]);
    for field in [
        "members: a cooperative needs at least one member",
        "validators: at least one validator is needed",
        "params.types.work.reward.median.token_value",
        "params.types.work.reward.median.reputation_value",
    ] {
        assert!(err.contains(field), "{field} missing from:\n{err}");
    }
    assert!(err.contains("4 problem(s)"), "{err}");

    let (out, _) = pov.fails(3, &["genesis", "validate", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["error"]["code"], "invalid_input");
    let problems = v["error"]["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 4);
    assert_eq!(
        problems[0]["field"],
        "params.types.work.reward.median.token_value"
    );
}
