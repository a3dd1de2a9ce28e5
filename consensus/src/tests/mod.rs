//! Tests of the consensus core: upon-rule unit tests, message and validator-set checks, and
//! a deterministic discrete-event network simulation.

mod fuzz;
mod rules;
mod scenarios;
mod sim;
mod wire;

use pov_crypto::{Hash, Keypair, SignatureError};

use crate::{
    CommitSig, ConsensusConfig, Effect, Message, TimeoutConfig, TimeoutParams, Validator,
    ValidatorSet,
};

/// Dev keys `0..n`.
fn keys(n: u32) -> Vec<Keypair> {
    (0..n).map(Keypair::dev).collect()
}

/// A validator set of `keys` with the given powers (in order).
fn set_with_powers(keys: &[Keypair], powers: &[u64]) -> ValidatorSet {
    ValidatorSet::new(
        keys.iter()
            .zip(powers)
            .map(|(k, &power)| Validator {
                address: k.address(),
                power,
            })
            .collect(),
    )
    .expect("valid test validator set")
}

/// A named test value.
fn value(tag: &str) -> Hash {
    pov_crypto::hash(tag.as_bytes())
}

/// Short timeouts with visible per-round growth.
fn test_config() -> ConsensusConfig {
    ConsensusConfig {
        timeouts: TimeoutConfig {
            propose: TimeoutParams {
                base_ms: 300,
                delta_ms: 100,
            },
            prevote: TimeoutParams {
                base_ms: 150,
                delta_ms: 100,
            },
            precommit: TimeoutParams {
                base_ms: 150,
                delta_ms: 100,
            },
        },
        max_round_lookahead: 1_000,
    }
}

/// Panics unless every own message broadcast in `effects` is persisted earlier in the list
/// or was persisted by an earlier list (`persisted`), which it extends.
fn check_persist_before_broadcast(
    effects: &[Effect],
    own: &pov_crypto::Address,
    persisted: &mut Vec<Message>,
) {
    for effect in effects {
        match effect {
            Effect::PersistVote(v) => persisted.push(Message::Vote(*v)),
            Effect::PersistProposal(p) => persisted.push(Message::Proposal(*p)),
            Effect::Broadcast(m) if m.signer() == *own => {
                assert!(
                    persisted.contains(m),
                    "own message broadcast before it was persisted: {m:?}"
                );
            }
            _ => {}
        }
    }
}

/// A certificate signature check by re-signing with the known dev keys: ed25519 is
/// deterministic, so this is exact, and much cheaper than verification in a debug build.
fn check_by_resigning(
    keys: &[Keypair],
    sig: &CommitSig,
    message: &[u8],
) -> Result<(), SignatureError> {
    let key = keys
        .iter()
        .find(|k| k.address() == sig.validator)
        .ok_or(SignatureError::Invalid(sig.validator))?;
    if key.sign(message) == sig.signature {
        Ok(())
    } else {
        Err(SignatureError::Invalid(sig.validator))
    }
}
