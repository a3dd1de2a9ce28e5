//! A genesis as the node and the CLI read it: TOML (`genesis.toml`, `Genesis::from_toml`
//! and the editing tools' `parse_toml`) and JSON (`GET /genesis`). A genesis that validates
//! must build its state and validator set, and survive its own TOML and JSON forms with the
//! same hash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pov_protocol::genesis::Genesis;

/// What a valid genesis must do.
fn valid(g: &Genesis) {
    g.state()
        .expect("a genesis that validates builds its state");
    g.validator_set()
        .expect("a genesis that validates has a validator set");
    let toml = g.to_toml();
    let again = Genesis::from_toml(&toml).expect("a valid genesis's own TOML reads back");
    assert_eq!(&again, g, "TOML round trip changed the genesis");
    assert_eq!(again.hash(), g.hash());
    let json = serde_json::to_string(g).expect("a genesis serializes to JSON");
    let again: Genesis = serde_json::from_str(&json).expect("a genesis's JSON parses");
    assert_eq!(&again, g, "JSON round trip changed the genesis");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(g) = Genesis::from_toml(text) {
        valid(&g);
    }
    if let Ok(g) = Genesis::parse_toml(text) {
        let problems = g.validate();
        let _ = g.hash();
        let _ = g.to_toml();
        if problems.is_empty() {
            valid(&g);
        } else {
            assert!(g.state().is_err(), "an invalid genesis built a state");
        }
    }
    if let Ok(g) = serde_json::from_str::<Genesis>(text) {
        if g.validate().is_empty() {
            valid(&g);
        }
    }
});
