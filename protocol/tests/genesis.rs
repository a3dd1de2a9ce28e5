//! Genesis TOML: the dev genesis, round trips, and every validation error naming its field.

use pov_protocol::genesis::{Genesis, GenesisError};

fn problems(text: &str) -> Vec<String> {
    match Genesis::from_toml(text) {
        Err(GenesisError::Invalid(ps)) => ps.iter().map(|p| p.to_string()).collect(),
        Err(GenesisError::Parse(m)) => vec![format!("PARSE {m}")],
        Ok(_) => vec![],
    }
}

fn dev_toml() -> String {
    Genesis::dev().to_toml()
}

#[test]
fn dev_genesis_is_valid_and_round_trips_through_toml() {
    let genesis = Genesis::dev();
    assert!(genesis.validate().is_empty(), "{:?}", genesis.validate());
    let text = genesis.to_toml();
    let back = Genesis::from_toml(&text).expect("parses");
    assert_eq!(back, genesis);
    assert_eq!(back.hash(), genesis.hash());
    assert!(
        text.contains("genesis_time = 2026-01-01T00:00:00Z"),
        "{text}"
    );
}

#[test]
fn formatting_does_not_change_the_identity() {
    let text = dev_toml();
    let reformatted = format!("# a comment\n\n{}", text.replace(" = ", "   =   "));
    assert_eq!(
        Genesis::from_toml(&reformatted).expect("parses").hash(),
        Genesis::dev().hash()
    );
}

#[test]
fn structural_errors_name_the_key() {
    let text = dev_toml().replace("chain_id = ", "chain_idd = ");
    let p = problems(&text);
    assert!(
        p[0].starts_with("PARSE") && p[0].contains("chain_idd"),
        "{p:?}"
    );
    let text = dev_toml().replacen("stake = \"0.02\"", "stake = 0.02", 1);
    let p = problems(&text);
    assert!(
        p[0].contains("floating-point") && p[0].contains("stake"),
        "{p:?}"
    );
    let text = dev_toml().replacen("stake = \"0.02\"", "stake = \"abc\"", 1);
    let p = problems(&text);
    assert!(p[0].contains("not a decimal number"), "{p:?}");
}

#[test]
fn every_semantic_problem_is_reported_at_once() {
    let mut g = Genesis::dev();
    g.members[1].public_key = g.members[0].public_key;
    g.members[2].reputation = "-5".parse().expect("amount");
    g.validators.clear();
    if let Some(t) = g.params.types.get_mut("work") {
        t.evaluation_set = vec![0, 2, 1, 3, 4, 5];
        if let pov_protocol::RewardRule::Median { token_value, .. } = &mut t.reward {
            token_value[3] = pov_protocol::Amount::ZERO;
        }
    }
    let found: Vec<String> = g.validate().iter().map(|p| p.to_string()).collect();
    let has = |needle: &str| found.iter().any(|p| p.contains(needle));
    assert!(has("members[1].public_key: duplicate member"), "{found:?}");
    assert!(has("members[2].reputation: -5 is negative"), "{found:?}");
    assert!(has("validators: at least one validator"), "{found:?}");
    assert!(
        has("params.types.work.evaluation_set: must be strictly increasing"),
        "{found:?}"
    );
    assert!(
        has("params.types.work.reward.median.token_value: must be non-decreasing"),
        "{found:?}"
    );
    assert_eq!(found.len(), 5, "{found:?}");
    // The TOML path reports the same list.
    assert!(
        matches!(Genesis::from_toml(&g.to_toml()), Err(GenesisError::Invalid(ps)) if ps.len() == 5)
    );
}

#[test]
fn malformed_keys_and_empty_sets_are_rejected() {
    let text = dev_toml().replacen(&Genesis::dev().members[0].public_key.to_string(), "zz", 1);
    let p = problems(&text);
    assert!(p[0].contains("invalid address"), "{p:?}");
    let mut g = Genesis::dev();
    g.members.clear();
    g.chain_id = "Bad Chain".into();
    let found: Vec<String> = g.validate().iter().map(|p| p.to_string()).collect();
    assert!(found.iter().any(|p| p.starts_with("members:")), "{found:?}");
    assert!(
        found.iter().any(|p| p.starts_with("chain_id:")),
        "{found:?}"
    );
}

/// Found by the `genesis` fuzz target's round-trip check (`fuzz/`): a genesis time later than
/// any a genesis file can hold passed validation, and `to_toml` then wrote an empty file.
#[test]
fn a_genesis_time_no_genesis_file_can_hold_is_invalid() {
    // 9999-12-31T23:59:59.999Z, the last time a TOML datetime can write.
    let last = 253_402_300_799_999u64;
    let mut genesis = Genesis::dev();
    genesis.genesis_time_ms = last;
    assert!(genesis.validate().is_empty(), "{:?}", genesis.validate());
    let text = genesis.to_toml();
    assert!(
        text.contains("genesis_time = 9999-12-31T23:59:59.999Z"),
        "{text}"
    );
    assert_eq!(Genesis::from_toml(&text).expect("reads back"), genesis);
    for ms in [last + 1, u64::MAX] {
        genesis.genesis_time_ms = ms;
        let problems = genesis.validate();
        assert!(
            problems.iter().any(
                |p| p.field == "genesis_time" && p.message.contains("9999-12-31T23:59:59.999Z")
            ),
            "{ms}: {problems:?}"
        );
    }
}
